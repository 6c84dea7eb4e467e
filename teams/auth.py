"""Logins: the login page (attempts taken one at a time), the client's address, and the audit trail of logins,
failed logins and lockouts.

Signals are the one exception to "nothing hidden in signals" here: Django's login view and django-axes report
logins only through user_logged_in / user_login_failed / user_locked_out; no Pacer service runs on a login, so
there is no service to write the event from. The handlers only record; they decide nothing.
"""

import hashlib
from functools import wraps

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db import connection, transaction
from django.dispatch import receiver
from django.shortcuts import render

from .audit import audit_record
from .models import AuditEvent, User


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or with PROXY_COUNT proxies in front, the address the outermost one
    saw (the entry that many places from the right of X-Forwarded-For; anything further left a client can
    forge)."""
    if settings.PROXY_COUNT:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if len(hops) >= settings.PROXY_COUNT:
            return hops[-settings.PROXY_COUNT]
    return request.META.get("REMOTE_ADDR") or None


def _ip(request) -> str | None:
    return getattr(request, "axes_ip_address", None) or (client_ip(request) if request is not None else None)


@receiver(user_logged_in, dispatch_uid="pacer_audit_login")
def audit_login(sender, request, user, **kwargs):
    audit_record(kind=AuditEvent.Kind.LOGIN, actor=user, subject_user=user, summary=f"{user} logged in",
                 ip=_ip(request))  # fmt: skip


@receiver(user_login_failed, dispatch_uid="pacer_audit_login_failed")
def audit_login_failed(sender, credentials, request=None, **kwargs):
    # Django has already replaced the password in `credentials` with stars; only the username is kept.
    username = str(credentials.get("username", ""))[:150]
    account = User.objects.filter(username=username).first() if username else None
    # axes refused the attempt before any password was checked: the account or address was already locked.
    refused = getattr(request, "axes_locked_out", False) and getattr(request, "axes_failures_since_start", 0) is None
    reason = "refused while locked out" if refused else "wrong username or password"
    if account is not None and not account.is_active:
        reason = "account deactivated"
    audit_record(
        kind=AuditEvent.Kind.LOGIN_FAILED,
        actor=None,
        subject_user=account,
        summary=f"Failed login as “{username}”: {reason}",
        data={"username": username, "reason": reason},
        ip=_ip(request),
    )


@receiver(user_locked_out, dispatch_uid="pacer_audit_lockout")
def audit_lockout(sender, request, username, ip_address, **kwargs):
    if getattr(request, "axes_failures_since_start", None) is None:
        return  # a retry during the lockout (recorded as a failed login), not a new lockout
    username = str(username or "")[:150]
    audit_record(
        kind=AuditEvent.Kind.LOCKOUT,
        actor=None,
        subject_user=User.objects.filter(username=username).first() if username else None,
        summary=f"Locked out after {request.axes_failures_since_start} failed logins as “{username}” from {ip_address}",
        data={"username": username, "failures": request.axes_failures_since_start},
        ip=ip_address,
    )


def lockout_response(request, original_response=None, credentials=None):
    """The page a locked-out login gets (django-axes calls it): why, for how long, and what to do."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    context = {
        "username": str(username)[:150],
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "cooloff_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60) if settings.AXES_COOLOFF_TIME else 0,
    }
    return render(request, "registration/locked_out.html", context, status=429)


def _lock_key(label: str) -> int:
    """A signed 64-bit advisory-lock key for a label (blake2b: stable across processes, unlike hash())."""
    return int.from_bytes(hashlib.blake2b(label.encode(), digest_size=8).digest(), "big", signed=True)


def attempts_one_at_a_time(view):
    """Wrap a login view so that attempts for one account or from one address are taken one at a time.

    django-axes checks the lock before the password and counts the failure after it: without this, a burst of
    parallel guesses would all pass the check before any was counted (30 guesses instead of 5). Each POST holds
    PostgreSQL advisory locks on its username and address for its transaction, so the next attempt sees the
    count of the one before. On SQLite the transaction itself serialises writers (IMMEDIATE mode).
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method != "POST":
            return view(request, *args, **kwargs)
        with transaction.atomic():
            if connection.vendor == "postgresql":
                username = str(request.POST.get(settings.AXES_USERNAME_FORM_FIELD, ""))[:150]
                keys = sorted({_lock_key(f"login-user:{username}"), _lock_key(f"login-ip:{client_ip(request)}")})
                with connection.cursor() as cursor:
                    for key in keys:  # always in the same order: two attempts never wait on each other in a cycle
                        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
            return view(request, *args, **kwargs)

    return wrapper
