"""Test profile: PostgreSQL when DATABASE_URL is set or a server answers on
127.0.0.1:5432, else SQLite (PostgreSQL-only tests then skip with a reason)."""

import os

from .base import *  # noqa: F403
from .base import database_config

LOCAL_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/rongtong"


def _local_postgres_reachable() -> bool:
    try:
        import psycopg

        with psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=2"
        ):
            return True
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return False


if os.environ.get("DATABASE_URL"):
    pass  # base already used it
elif _local_postgres_reachable():
    DATABASES = {"default": database_config(LOCAL_POSTGRES_URL)}
else:
    DATABASES = {"default": database_config("sqlite://:memory:")}
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Jobs run in-process in tests unless a test starts a real worker itself.
CELERY_TASK_ALWAYS_EAGER = True
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LANGUAGE_CODE = "zh-hans"

# No connection pool in tests: the live-server and concurrency tests' threads
# would keep pooled sessions open on the test database and block its teardown.
# (The pool is exercised by the benchmarks under gunicorn.)
DATABASES["default"].get("OPTIONS", {}).pop("pool", None)

# The demo seed at test size (the full 3,000 orders are for `make run`).
SEED_DEMO_ORDERS = 300
