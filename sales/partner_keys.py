"""Partner API keys: created once, shown once, stored as a SHA-256 hash."""

import hashlib
import hmac
import secrets
from functools import cache

from django.db import transaction
from django.utils import timezone

from core import sql
from core.audit import audit_record
from inventory.models import Location
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


KEY_FIELDS = ("id", "channel", "prefix", "hashed_key", "name", "created_at", "revoked_at")


@cache
def _verify_sql() -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    channel_fields = tuple(f.name for f in Channel._meta.concrete_fields)
    location_fields = tuple(f.name for f in Location._meta.concrete_fields)
    m2m = Channel._meta.get_field("locations")
    through = sql.quoted(m2m.remote_field.through._meta.db_table)
    q = sql.quoted
    text = (
        f"SELECT {sql.column_list(PartnerApiKey, KEY_FIELDS, 'k')}, "
        f"{sql.column_list(Channel, channel_fields, 'c')}, "
        f"{sql.column_list(Location, location_fields, 'l')} "
        f"FROM {sql.table(PartnerApiKey)} k "
        f"JOIN {sql.table(Channel)} c ON c.{q('id')} = k.{q('channel_id')} "
        f"LEFT JOIN {through} cl ON cl.{q(m2m.m2m_column_name())} = c.{q('id')} "
        f"LEFT JOIN {sql.table(Location)} l ON l.{q('id')} = cl.{q(m2m.m2m_reverse_name())} "
        f"AND l.{q('is_active')} "
        f"WHERE k.{q('prefix')} = %s AND k.{q('revoked_at')} IS NULL AND c.{q('is_active')} "
        f"ORDER BY l.{q('code')}")
    return text, channel_fields, location_fields


def partner_key_verify(plain: str) -> PartnerApiKey | None:
    """The active key for `plain`, or None (constant-time comparison).

    One statement (it runs on every partner request) that also reads the
    channel and its active serving locations, which order intake needs
    (`channel.active_locations`, read by `selectors.channel_locations`)."""
    parts = plain.split("_", 2)
    if len(parts) != 3 or parts[0] != "rt":
        return None
    text, channel_fields, location_fields = _verify_sql()
    with sql.cursor() as cursor:
        cursor.execute(text, [parts[1]])
        rows = cursor.fetchall()
    if not rows:
        return None
    key = sql.load(PartnerApiKey, KEY_FIELDS, rows[:1])[0]
    if not hmac.compare_digest(key.hashed_key, _hash(plain)):
        return None
    key.channel = sql.load(Channel, channel_fields, rows[:1], offset=len(KEY_FIELDS))[0]
    offset = len(KEY_FIELDS) + len(channel_fields)
    key.channel.active_locations = sql.load(
        Location, location_fields, [row for row in rows if row[offset] is not None], offset)
    return key
