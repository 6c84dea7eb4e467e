"""The one way to write the audit trail. Called inside the service that makes the change, so the event
commits (or rolls back) with it."""

from typing import Any

from .models import AuditEvent, User


def audit_record(
    *,
    kind: str,
    actor: User | None,
    summary: str,
    subject_user: User | None = None,
    data: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        kind=kind, actor=actor, subject_user=subject_user, summary=summary[:300], data=data or {}, ip=ip
    )
