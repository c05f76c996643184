"""Idempotent POSTs (SPEC §9): the same key and body replay the stored reply,
another body answers 422, a twin still running answers 409.

The key row is inserted in the same transaction as the order. A concurrent
twin's INSERT therefore waits on the unique index until the first request
commits, then replays its reply; if it waits longer than
IDEMPOTENCY_WAIT_SECONDS it answers 409."""

import hashlib
import json
from collections.abc import Callable

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.http import HttpResponse
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from core import sql
from core.errors import DomainError
from sales.enums import OrderErrorCode
from sales.models import Channel, IdempotencyKey


def request_fingerprint(data) -> str:
    # ensure_ascii: a lone surrogate in an ignored member must hash, not crash.
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                           default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _in_progress() -> DomainError:
    return DomainError("a request with this Idempotency-Key is still being processed",
                       code=OrderErrorCode.REQUEST_IN_PROGRESS, status_code=409)


def _reply(body: str, status: int) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="application/json")


def _replay(existing: IdempotencyKey, fingerprint: str) -> HttpResponse:
    if existing.request_hash != fingerprint:
        raise DomainError("this Idempotency-Key was used with a different body",
                          code=OrderErrorCode.IDEMPOTENCY_KEY_REUSED, status_code=422,
                          fields={"Idempotency-Key": ["already used with another body"]})
    return _reply(existing.response_body, existing.response_status)


def _claim(*, channel: Channel, key: str, fingerprint: str) -> bool:
    """INSERT the key row unless it exists (one statement). A concurrent
    twin's uncommitted row makes this wait until the twin ends."""
    table = IdempotencyKey._meta.db_table
    with sql.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (channel_id, key, request_hash, response_status, "  # noqa: S608
            "response_body, created_at) VALUES (%s, %s, %s, 0, '', %s) "
            "ON CONFLICT (channel_id, key) DO NOTHING RETURNING id",
            [channel.pk, key, fingerprint, timezone.now()])
        return cursor.fetchone() is not None


def _store(*, channel: Channel, key: str, status: int, body: str) -> None:
    table = IdempotencyKey._meta.db_table
    sql.write(f"UPDATE {table} SET response_status = %s, response_body = %s "  # noqa: S608
              "WHERE channel_id = %s AND key = %s", [status, body, channel.pk, key],
              touches=[(table, channel.pk, key)])


def idempotent(*, channel: Channel, key: str, data, handler: Callable[[], tuple[dict, int]]
               ) -> HttpResponse:
    fingerprint = request_fingerprint(data)
    wait_ms = int(settings.IDEMPOTENCY_WAIT_SECONDS * 1000)
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql" and wait_ms != settings.DB_LOCK_TIMEOUT_MS:
                with connection.cursor() as cursor:
                    cursor.execute(f"SET LOCAL lock_timeout = {wait_ms}")
            if _claim(channel=channel, key=key, fingerprint=fingerprint):
                # The handler's closing writes and the stored reply go to
                # PostgreSQL as one statement.
                with sql.write_batch():
                    data, status = handler()
                    body = JSONRenderer().render(data).decode()
                    _store(channel=channel, key=key, status=status, body=body)
                return _reply(body, status)
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == "55P03":  # lock_not_available
            raise _in_progress() from exc
        raise
    # The key exists (a twin committed first, or an earlier request): replay.
    existing = IdempotencyKey.objects.filter(channel=channel, key=key).first()
    if existing is None:  # the twin rolled back; the client may simply retry
        raise _in_progress()
    return _replay(existing, fingerprint)
