#!/usr/bin/env bash
# `make run`: migrate, demo data, admin login, then serve on 127.0.0.1:8000.
# With REDIS_URL set, a Celery worker and beat run beside the server.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-config.settings.dev}

$PY manage.py migrate --noinput
$PY manage.py seed_demo
$PY manage.py ensure_admin

pids=()
cleanup() { for pid in "${pids[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

if [ -n "${REDIS_URL:-}" ]; then
  .venv/bin/celery -A config worker --loglevel=INFO --concurrency=2 &
  pids+=($!)
  .venv/bin/celery -A config beat --loglevel=INFO &
  pids+=($!)
  echo "Celery worker and beat started against $REDIS_URL"
else
  echo "No REDIS_URL: jobs run in-process (eager)."
fi
echo "Serving http://127.0.0.1:8000/admin/  (stop with Ctrl-C)"
$PY manage.py runserver 127.0.0.1:8000 --noreload
