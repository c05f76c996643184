"""Every periodic schedule, in one place (crontab fields, Asia/Shanghai).

These seed django-celery-beat once; afterwards ops edit them in the admin
(定时任务), and a deploy does not overwrite their changes."""

SCHEDULES: dict[str, dict[str, str]] = {
    "job_runs_prune": {"minute": "30", "hour": "3"},
    "order_review_deadline": {"minute": "*/5"},
    "webhooks_deliver_due": {"minute": "*"},
    "idempotency_keys_prune": {"minute": "15", "hour": "4"},
    "inventory_alerts": {"minute": "*/15"},
    "channel_stock_sync": {"minute": "*/2"},
    "stock_policies_recompute": {"minute": "45", "hour": "2", "day_of_week": "1"},
    "dispatch": {"minute": "*/10", "hour": "7-21"},
    "stalled_shipments": {"minute": "20"},
    "fleet_alerts": {"minute": "5", "hour": "6"},
}
