from django.db import models

from core.models import AuditEvent


def audit_record(*, actor=None, actor_label: str = "", action: str,
                 target: models.Model, reason: str = "", data: dict | None = None) -> AuditEvent:
    """Write one audit row. Call it inside the service's transaction."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        actor=user,
        actor_label=actor_label or (user.get_username() if user else ""),
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        reason=reason,
        data=data or {},
    )
