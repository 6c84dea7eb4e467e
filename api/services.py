"""Writes of the api app: personal API tokens and Idempotency-Key records."""

import datetime
import hashlib
import json
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from api.errors import Conflict
from api.models import ApiToken, IdempotencyKey, PendingImport
from api.selectors import api_token_get_for_user
from teams.models import User

MAX_TOKEN_DAYS = 366


@transaction.atomic
def api_token_create(*, user: User, name: str, expires_in_days: int | None = None) -> tuple[ApiToken, str]:
    """A new personal token for `user`: returns the stored row (a hash) and the token itself, to show ONCE."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Name the token after what will use it (for example “HubSpot sync”)."})
    if len(name) > 80:  # ApiToken.name's max_length
        raise ValidationError({"name": "Keep the name under 80 characters."})
    if ApiToken.objects.filter(user=user, name__iexact=name).exists():
        raise ValidationError({"name": f"You already have a token named “{name}”; choose another name."})
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_TOKEN_DAYS:
        raise ValidationError({"expires_in_days": f"Choose between 1 and {MAX_TOKEN_DAYS} days, or no expiry."})
    expiry = None if expires_in_days is None else datetime.timedelta(days=expires_in_days)
    return ApiToken.objects.create(user=user, expiry=expiry, name=name)


@transaction.atomic
def api_token_revoke(*, user: User, token_key: str) -> None:
    """Revoke one of the user's own tokens (another user's key is a 404 alike)."""
    api_token_get_for_user(user=user, token_key=token_key).delete()


def request_hash(*, method: str, path: str, body) -> str:
    canonical = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@transaction.atomic
def idempotent_call(
    *, user: User, key: str, fingerprint: str, perform: Callable[[], tuple[int, str]]
) -> tuple[int, str, bool]:
    """Run `perform` (returning a status and the rendered body) once per (user, key); return (status, body,
    replayed). Repeats get the first response byte for byte.

    The key row is inserted first: a concurrent request with the same key waits on the unique index until this
    transaction ends, then replays what it stored. If `perform` raises, nothing is kept (the client may retry).
    The same key with another request (method, path or body) raises Conflict (409).
    """
    key = key.strip()
    if not key or len(key) > 200:  # IdempotencyKey.key's max_length
        raise ValidationError({"idempotency_key": "The Idempotency-Key header must be 1 to 200 characters."})
    record_id = _key_claim(user=user, key=key, fingerprint=fingerprint)
    if record_id is None:
        earlier = IdempotencyKey.objects.get(user=user, key=key)
        if earlier.request_hash != fingerprint:
            raise Conflict(
                f"The Idempotency-Key “{key}” was already used on {earlier.created_at:%d %b %Y %H:%M} UTC for a "
                "different request; send a new key for a new request."
            )
        return earlier.status_code, earlier.response_body, True
    status, body = perform()
    _key_answer(record_id=record_id, status=status, body=body)
    return status, body, False


_CLAIM_SQL = """
INSERT INTO {table} (user_id, key, request_hash, status_code, response_body, created_at)
VALUES (%s, %s, %s, 0, '', %s)
ON CONFLICT (user_id, key) DO NOTHING
RETURNING id
"""


def _key_claim(*, user: User, key: str, fingerprint: str) -> int | None:
    """Insert the key's row: its id, or None when (user, key) is already stored. ONE statement, no savepoint:
    ON CONFLICT DO NOTHING waits for a concurrent request holding the same key exactly as the unique index makes
    a plain INSERT wait, then does nothing if that request committed (PostgreSQL and SQLite alike)."""
    table = connection.ops.quote_name(IdempotencyKey._meta.db_table)
    created_at = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL.format(table=table), [user.pk, key, fingerprint, created_at])
        row = cursor.fetchone()
    return row[0] if row else None


_ANSWER_SQL = "UPDATE {table} SET status_code = %s, response_body = %s WHERE id = %s"


def _key_answer(*, record_id: int, status: int, body: str) -> None:
    """Store the response on the claimed row: the UPDATE the ORM's `filter(pk=…).update(…)` sends, as plain SQL
    (the ORM built it anew on every API write)."""
    table = connection.ops.quote_name(IdempotencyKey._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(_ANSWER_SQL.format(table=table), [status, body, record_id])


@transaction.atomic
def idempotency_keys_purge(*, older_than: datetime.timedelta = datetime.timedelta(days=7)) -> int:
    """Forget keys older than a week (a CRM retries within minutes or hours, not weeks)."""
    return IdempotencyKey.objects.filter(created_at__lt=timezone.now() - older_than).delete()[0]


@transaction.atomic
def api_tokens_expired_purge() -> int:
    """Delete expired personal tokens (authentication refuses them anyway; this keeps the table to live ones)."""
    return ApiToken.objects.filter(expiry__lt=timezone.now()).delete()[0]


@transaction.atomic
def pending_imports_purge(*, older_than: datetime.timedelta = datetime.timedelta(days=1)) -> int:
    """Forget uploaded CSV files whose import was never confirmed."""
    return PendingImport.objects.filter(created_at__lt=timezone.now() - older_than).delete()[0]


@transaction.atomic
def pending_import_create(*, user: User, filename: str, content: str) -> PendingImport:
    """Keep a validated upload until its owner confirms the import (or the daily purge forgets it)."""
    return PendingImport.objects.create(user=user, filename=filename[:200], content=content)


@transaction.atomic
def pending_import_discard(*, pending: PendingImport) -> None:
    PendingImport.objects.filter(pk=pending.pk).delete()
