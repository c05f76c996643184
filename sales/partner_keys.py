"""Partner API keys: created once, shown once, stored as a SHA-256 hash."""

import hashlib
import hmac
import secrets

from django.db import transaction
from django.utils import timezone

from core.audit import audit_record
from sales.models import Channel, PartnerApiKey


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def partner_key_create(*, channel: Channel, name: str = "",
                       actor=None) -> tuple[PartnerApiKey, str]:
    """Returns the key row and the plain key (the only time it exists)."""
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    plain = f"rt_{prefix}_{secret}"
    key = PartnerApiKey.objects.create(channel=channel, prefix=prefix, hashed_key=_hash(plain),
                                       name=name)
    audit_record(actor=actor, actor_label="create_partner_key", action="partner_key.create",
                 target=key, data={"channel": channel.code})
    return key, plain


@transaction.atomic
def partner_key_revoke(*, key: PartnerApiKey, actor=None) -> PartnerApiKey:
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
    audit_record(actor=actor, actor_label="partner_key_revoke", action="partner_key.revoke",
                 target=key)
    return key


def partner_key_verify(plain: str) -> PartnerApiKey | None:
    """The active key for `plain`, or None (constant-time comparison)."""
    parts = plain.split("_", 2)
    if len(parts) != 3 or parts[0] != "rt":
        return None
    key = (PartnerApiKey.objects.select_related("channel")
           .filter(prefix=parts[1], revoked_at__isnull=True, channel__is_active=True).first())
    if key is None or not hmac.compare_digest(key.hashed_key, _hash(plain)):
        return None
    return key
