"""The project skeleton through its public doors: settings profiles, health,
schema, admin in both languages, department permissions, jobs, login
protection, and a real Celery worker."""

import os
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from core.models import JobRun

ROOT = Path(__file__).resolve().parent.parent
PROD_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": "x" * 20 + "production-secret-for-the-deploy-check-0123456789",
    "ALLOWED_HOSTS": "rongtong.example.com",
    "PATH": os.environ.get("PATH", ""),
}


def manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def last_line(result: subprocess.CompletedProcess) -> list[str]:
    """The shell's own output line (Django 5.2 prints its auto-imports first)."""
    return result.stdout.strip().splitlines()[-1].split()


def department_user(code: str, username: str | None = None) -> User:
    user = User.objects.create_user(username or f"u_{code}", password="pw-12345678",
                                    is_staff=True)
    user.groups.add(Group.objects.get(name=code))
    return user


# --- settings profiles ----------------------------------------------------------

def test_production_profile_passes_deploy_check():
    result = manage("check", "--deploy", "--fail-level", "DEBUG", env=PROD_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_profile_refuses_to_start_without_secret_key():
    env = {**PROD_ENV, "SECRET_KEY": ""}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_dev_profile_defaults_to_sqlite_and_eager_jobs():
    env = {"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "config.settings.dev"}
    code = ("from django.conf import settings as s; "
            "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, s.DEBUG, "
            "s.LANGUAGE_CODE, s.TIME_ZONE)")
    result = manage("shell", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    assert last_line(result) == ["django.db.backends.sqlite3", "True", "True", "zh-hans",
                                     "Asia/Shanghai"]


def test_database_url_selects_postgresql_with_pool():
    env = {"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "config.settings.dev",
           "DATABASE_URL": "postgres://u:p@db.example:5432/rongtong",
           "REDIS_URL": "redis://cache.example:6379/0"}
    code = ("from django.conf import settings as s; d=s.DATABASES['default']; "
            "print(d['ENGINE'], d['HOST'], bool(d['OPTIONS']['pool']), "
            "s.CELERY_TASK_ALWAYS_EAGER, s.CELERY_BROKER_URL)")
    result = manage("shell", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    assert last_line(result) == ["django.db.backends.postgresql", "db.example", "True",
                                     "False", "redis://cache.example:6379/0"]


# --- health ---------------------------------------------------------------------

@pytest.mark.django_db
def test_healthz_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is True


@pytest.mark.django_db
@pytest.mark.redis
def test_healthz_checks_a_real_broker(client, redis_url):
    with override_settings(REDIS_URL=redis_url, CELERY_BROKER_URL=redis_url):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"]["broker"] == {"ok": True, "mode": "broker"}


@pytest.mark.django_db
def test_healthz_down_when_broker_unreachable(client):
    unreachable = "redis://127.0.0.1:1/0"
    with override_settings(REDIS_URL=unreachable, CELERY_BROKER_URL=unreachable):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


# --- API schema -------------------------------------------------------------------

@pytest.mark.django_db
def test_openapi_schema_generates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(target), "--validate", "--fail-on-warn")
    assert "openapi: 3" in target.read_text()


@pytest.mark.django_db
def test_api_docs_served_offline(client):
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "drf_spectacular_sidecar" in html  # assets from our own static files, not a CDN
    assert "cdn.jsdelivr" not in html


# --- admin in both languages ----------------------------------------------------

@pytest.mark.django_db
def test_admin_home_in_chinese_by_default(client):
    client.force_login(User.objects.create_superuser("boss", "b@example.com", "pw-12345678"))
    html = client.get("/admin/").content.decode()
    assert '<html lang="zh-hans"' in html
    assert "部门看板" in html
    assert "财务部" in html


@pytest.mark.django_db
def test_admin_home_in_english_when_chosen(client):
    client.force_login(User.objects.create_superuser("boss", "b@example.com", "pw-12345678"))
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/admin/"})
    assert response.status_code == 302
    html = client.get("/admin/").content.decode()
    assert '<html lang="en"' in html
    assert "Department dashboards" in html
    assert "部门看板" not in html


# --- departments ------------------------------------------------------------------

@pytest.mark.django_db
def test_department_groups_exist():
    names = set(Group.objects.values_list("name", flat=True))
    assert {"marketing", "ecommerce", "store_sales", "delivery", "customer_service",
            "tech_support", "finance", "management", "supervision"} <= names


@pytest.mark.django_db
def test_delivery_user_cannot_open_finance_pages(client):
    client.force_login(department_user("delivery"))
    assert client.get(reverse("department-dashboard", args=["finance"])).status_code == 403
    assert client.get(reverse("department-dashboard", args=["delivery"])).status_code == 200
    # Nor the technical-support screens (job runs).
    assert client.get("/admin/core/jobrun/").status_code == 403


@pytest.mark.django_db
def test_finance_user_opens_finance_and_management_opens_all(client):
    client.force_login(department_user("finance"))
    assert client.get(reverse("department-dashboard", args=["finance"])).status_code == 200
    client.force_login(department_user("management"))
    for code in ("finance", "delivery", "marketing"):
        assert client.get(reverse("department-dashboard", args=[code])).status_code == 200


@pytest.mark.django_db
def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("department-dashboard", args=["finance"]))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_tech_support_sees_job_runs(client):
    client.force_login(department_user("tech_support"))
    assert client.get("/admin/core/jobrun/").status_code == 200
    assert client.get("/admin/django_celery_beat/periodictask/").status_code == 200


# --- brute-force protection -----------------------------------------------------

@pytest.mark.django_db
def test_login_locks_after_repeated_failures(client):
    User.objects.create_superuser("boss", "b@example.com", "right-password-1")
    for _ in range(5):
        client.post("/admin/login/", {"username": "boss", "password": "wrong"})
    response = client.post("/admin/login/?next=/admin/",
                           {"username": "boss", "password": "right-password-1"})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_login_works_with_right_password(client):
    User.objects.create_superuser("boss", "b@example.com", "right-password-1")
    response = client.post("/admin/login/?next=/admin/",
                           {"username": "boss", "password": "right-password-1"})
    assert response.status_code == 302
    assert client.session["_auth_user_id"]


# --- jobs -------------------------------------------------------------------------

@pytest.mark.django_db
def test_run_job_list_names_every_job():
    out = StringIO()
    call_command("run_job", "--list", stdout=out)
    assert "job_runs_prune" in out.getvalue()


@pytest.mark.django_db
def test_run_job_runs_now_and_records_the_run():
    out = StringIO()
    call_command("run_job", "job_runs_prune", stdout=out)
    run = JobRun.objects.get(name="job_runs_prune")
    assert run.status == JobRun.Status.SUCCEEDED
    assert run.trigger == JobRun.Trigger.MANUAL
    assert run.finished_at is not None
    assert run.counts == {"deleted": 0}
    assert "job_runs_prune" in out.getvalue()


@pytest.mark.django_db
def test_run_job_unknown_name_is_a_clear_error():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no_such_job"):
        call_command("run_job", "no_such_job")
    assert not JobRun.objects.exists()


@pytest.mark.django_db
def test_schedules_are_in_beat_after_migrate():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(name="job_runs_prune")
    assert task.task == "jobs.job_runs_prune"
    assert task.crontab.hour == "3"


@pytest.mark.django_db
def test_seed_demo_is_idempotent():
    call_command("seed_demo", stdout=StringIO())
    users = User.objects.count()
    call_command("seed_demo", stdout=StringIO())
    assert User.objects.count() == users
    assert User.objects.get(username="demo_finance").groups.filter(name="finance").exists()


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_real_celery_worker_runs_a_scheduled_job(redis_url):
    """Beat's message, a real Redis broker and a real worker process."""
    from django.db import connection

    from config.celery import app

    db = connection.settings_dict
    env = {**os.environ,
           "DJANGO_SETTINGS_MODULE": "config.settings.dev",
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
           "REDIS_URL": redis_url, "DEBUG": "0"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
         "--concurrency=1", "--loglevel=WARNING", "-Q", "rongtong-test"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        with app.connection_for_write(redis_url) as conn:
            app.send_task("jobs.job_runs_prune", queue="rongtong-test", connection=conn)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if JobRun.objects.filter(name="job_runs_prune",
                                     status=JobRun.Status.SUCCEEDED).exists():
                break
            time.sleep(0.5)
        run = JobRun.objects.get(name="job_runs_prune")
        assert run.trigger == JobRun.Trigger.SCHEDULE
        assert run.status == JobRun.Status.SUCCEEDED
    finally:
        worker.terminate()
        worker.wait(timeout=30)


# --- a real browser -----------------------------------------------------------

@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_browser_login_shows_chinese_admin_home(live_server, browser_page):
    User.objects.create_superuser("boss", "b@example.com", "right-password-1")
    page = browser_page
    page.goto(f"{live_server.url}/admin/")
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", "right-password-1")
    page.click("button[type=submit]")
    page.wait_for_selector("#department-dashboards")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert "部门看板" in page.inner_text("#department-dashboards")
    assert "财务部" in page.inner_text("#department-dashboards")
