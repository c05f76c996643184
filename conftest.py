"""Project-wide pytest setup: markers that need real services.

`postgres`: row locks and concurrency; `browser`: Debian's chromium through
Playwright; `redis`: a reachable Redis. Each skips with a reason where its
service is missing, except under RONGTONG_STRICT=1 (CI), where it fails."""

import os
import shutil
import socket
from urllib.parse import urlparse

import pytest

STRICT = os.environ.get("RONGTONG_STRICT") == "1"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


def _redis_reachable() -> bool:
    parsed = urlparse(REDIS_URL)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), 1):
            return True
    except OSError:
        return False


def _missing(reason: str) -> None:
    if STRICT:
        pytest.fail(f"RONGTONG_STRICT: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _service_markers(request):
    if request.node.get_closest_marker("postgres"):
        from django.db import connection

        if connection.vendor != "postgresql":
            _missing("needs PostgreSQL (row locks/concurrency); running on "
                     f"{connection.vendor}")
    if request.node.get_closest_marker("browser") and not os.path.exists(CHROMIUM):
        _missing(f"needs Debian's chromium at {CHROMIUM}")
    if request.node.get_closest_marker("redis") and not _redis_reachable():
        _missing(f"needs Redis at {REDIS_URL}")


@pytest.fixture
def redis_url() -> str:
    return REDIS_URL


@pytest.fixture
def browser_page():
    """A Playwright page in headless Debian chromium, Chinese locale."""
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs a loop
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"],
        )
        context = browser.new_context(locale="zh-CN")
        page = context.new_page()
        try:
            yield page
        finally:
            context.close()
            browser.close()
