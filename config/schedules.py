"""Every periodic schedule, in one place (crontab fields, Asia/Shanghai).

These seed django-celery-beat once; afterwards ops edit them in the admin
(定时任务), and a deploy does not overwrite their changes."""

SCHEDULES: dict[str, dict[str, str]] = {
    "job_runs_prune": {"minute": "30", "hour": "3"},
}
