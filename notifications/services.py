"""Every write in notifications. `notify` is the only way anything reaches a user.

Email life cycle (Notification.email_status): "" (in-app only) | deferred (quiet hours) → pending
(queued) → sent | failed; skipped when the user has no address.
"""

import datetime
import enum
import functools
import logging
import smtplib
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import select_template
from django.urls import reverse
from django.utils import timezone

from teams.models import User

from .models import Notification
from .selectors import (
    in_quiet_hours,
    notification_channel,
    notification_get_for_user,
    notification_keys_delivered,
)

logger = logging.getLogger(__name__)

Kind, Channel, EmailStatus = Notification.Kind, Notification.Channel, Notification.EmailStatus

# A pending email this old that was never attempted lost its queue message (broker down): queue it again.
STALE_PENDING_AFTER = datetime.timedelta(minutes=10)


class EmailOutcome(enum.StrEnum):
    SENT = "sent"
    SKIPPED = "skipped"
    FAILED = "failed"
    RETRY = "retry"
    NOOP = "noop"


@transaction.atomic
def notify(
    *, user, kind: str, key: str, title: str, body: str, url: str = "", email: bool = True
) -> Notification | None:
    """Record an in-app notification for `user` once per `key` and email it after commit, per the
    user's preferences. Returns the (new or existing) row, or None when the user turned `kind` off.
    `email=False` keeps a low-priority item in the app only (a digest job may bundle it into one email)."""
    channel = notification_channel(user=user, kind=kind)
    if channel == Channel.OFF:
        return None
    if not email:
        channel = Channel.IN_APP
    existing = Notification.objects.filter(user=user, key=key).first()
    if existing is not None:
        return existing

    status = _initial_email_status(user=user, channel=channel, now=timezone.now())
    notification = Notification(user=user, kind=kind, key=key, title=title, body=body, url=url, email_status=status)
    # (user, key) uniqueness is left to the database: a check here could race with a concurrent notify.
    notification.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():  # savepoint: losing the race must not break the caller's transaction
            notification.save(force_insert=True)
    except IntegrityError:
        return Notification.objects.get(user=user, key=key)
    if status == EmailStatus.PENDING:
        transaction.on_commit(functools.partial(_enqueue_email, notification.id))
    return notification


def _initial_email_status(*, user, channel: str, now: datetime.datetime) -> str:
    if channel == Channel.IN_APP:
        return EmailStatus.NONE
    if not user.email:
        return EmailStatus.SKIPPED
    if in_quiet_hours(user=user, at=now):
        # No long ETA: it would outlive the broker's visibility timeout. send_deferred_emails releases it.
        return EmailStatus.DEFERRED
    return EmailStatus.PENDING


@dataclass(frozen=True)
class Message:
    """One notify() call's arguments, for notifications_deliver."""

    user: User
    kind: str
    key: str
    title: str
    body: str
    url: str = ""
    email: bool = True


@transaction.atomic
def notifications_deliver(*, messages: Iterable[Message]) -> int:
    """notify() for many users at once (the reminder jobs' chunks): the same preferences, quiet hours and
    once-per-(user, key), in one transaction and a constant number of queries (keys already delivered, the
    insert per 500 rows, the ids of the new rows); the new rows' emails are queued after commit, a batch
    task per EMAIL_BATCH. Returns how many notifications were created."""
    now = timezone.now()
    rows: dict[tuple[int, str], Notification] = {}
    for m in messages:
        channel = notification_channel(user=m.user, kind=m.kind)
        if channel == Channel.OFF or (m.user.id, m.key) in rows:
            continue
        if not m.email:
            channel = Channel.IN_APP
        status = _initial_email_status(user=m.user, channel=channel, now=now)
        notification = Notification(
            user=m.user, kind=m.kind, key=m.key, title=m.title, body=m.body, url=m.url, email_status=status
        )
        notification.created_at = now
        # Field checks (lengths, choices, the site-path url) without the user's existence check: a query per row.
        notification.clean_fields(exclude=["user"])
        rows[(m.user.id, m.key)] = notification
    delivered = notification_keys_delivered(pairs=rows)
    new = {pair: n for pair, n in rows.items() if pair not in delivered}
    if not new:
        return 0
    # ignore_conflicts: a concurrent run may insert the same keys between the check and here; its rows stand.
    Notification.objects.bulk_create(new.values(), batch_size=500, ignore_conflicts=True)
    # bulk_create with ignore_conflicts returns no ids: read back the rows this call inserted, told apart from
    # a concurrent run's by their creation instant (the same `now` for all of them, to the microsecond).
    created = [
        (notification_id, status)
        for notification_id, user_id, key, status in Notification.objects.filter(
            user_id__in={user_id for user_id, _ in new}, key__in={key for _, key in new}, created_at=now
        ).values_list("id", "user_id", "key", "email_status")
        if (user_id, key) in new
    ]
    pending = sorted(notification_id for notification_id, status in created if status == EmailStatus.PENDING)
    if pending:
        transaction.on_commit(functools.partial(_enqueue_email_batches, pending))
    return len(created)


# Emails per batch task: one mail-server connection for all of them, and (at a few seconds per email on a slow
# server) well inside the task time limit; EMAIL_BATCH_BUDGET_SECONDS hands what is left to a new batch anyway.
EMAIL_BATCH = 100
EMAIL_BATCH_BUDGET_SECONDS = 120


def _enqueue_email_batches(notification_ids: list[int]) -> None:
    from .tasks import send_notification_emails

    for start in range(0, len(notification_ids), EMAIL_BATCH):
        batch = notification_ids[start : start + EMAIL_BATCH]
        try:
            send_notification_emails.delay(batch)
        except Exception:
            logger.warning(
                "Could not queue the emails of %d notifications; send_deferred_emails will retry.",
                len(batch),
                exc_info=True,
            )


def _enqueue_email(notification_id: int) -> None:
    # Not Task.delay_on_commit: a broker error raised from an on_commit callback would reach the caller
    # after its data was committed. Here it is logged and the row stays pending for send_deferred_emails.
    from .tasks import send_notification_email

    try:
        send_notification_email.delay(notification_id)
    except Exception:
        logger.warning(
            "Could not queue the email of notification %s; send_deferred_emails will retry.",
            notification_id,
            exc_info=True,
        )


@transaction.atomic
def notification_emails_release(*, now: datetime.datetime | None = None) -> int:
    """Queue the emails that may go now: deferred ones whose user's quiet hours are over, and pending ones
    never attempted for STALE_PENDING_AFTER (their queue message was lost). Returns how many were queued."""
    now = now or timezone.now()
    waiting = (
        Notification.objects.filter(
            Q(email_status=EmailStatus.DEFERRED)
            | Q(email_status=EmailStatus.PENDING, email_attempts=0, created_at__lt=now - STALE_PENDING_AFTER)
        )
        .select_related("user")
        .order_by("id")
    )
    # Quiet hours depend on each user's timezone, so they are checked here rather than in SQL.
    due = [n for n in waiting.iterator(chunk_size=1000) if not in_quiet_hours(user=n.user, at=now)]
    deferred_ids = [n.id for n in due if n.email_status == EmailStatus.DEFERRED]
    Notification.objects.filter(id__in=deferred_ids, email_status=EmailStatus.DEFERRED).update(
        email_status=EmailStatus.PENDING
    )
    for notification in due:
        transaction.on_commit(functools.partial(_enqueue_email, notification.id))
    return len(due)


@transaction.atomic
def notification_emails_requeue(*, notification_ids) -> int:
    """Queue again the unsent emails among `notification_ids` (an admin's repair after a long outage)."""
    waiting = Notification.objects.filter(id__in=notification_ids, emailed_at__isnull=True).exclude(
        email_status__in=[EmailStatus.NONE, EmailStatus.SENT]
    )
    ids = list(waiting.values_list("id", flat=True))
    Notification.objects.filter(id__in=ids).update(email_status=EmailStatus.PENDING, email_error="")
    for notification_id in ids:
        transaction.on_commit(functools.partial(_enqueue_email, notification_id))
    return len(ids)


def _is_transient(exc: Exception) -> bool:
    """Worth retrying: the server or network may be fine in a minute. Refusals and bad credentials are not."""
    # Order matters: every SMTPException is an OSError, and SMTPConnectError is an SMTPResponseException.
    if isinstance(exc, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError):
        return True
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPException):  # SMTPRecipientsRefused, SMTPNotSupportedError, …
        return False
    return isinstance(exc, ConnectionError | TimeoutError | OSError)


def _email_message(notification: Notification, connection=None) -> EmailMultiAlternatives:
    site = settings.SITE_URL.rstrip("/")
    context = {
        "notification": notification,
        "user": notification.user,
        "link": site + (notification.url or reverse("notification_list")),
        "settings_link": site + reverse("notification_settings"),
        "site_url": site,
    }

    def render(part):
        return select_template([f"emails/{notification.kind}_{part}", f"emails/default_{part}"]).render(context)

    message = EmailMultiAlternatives(
        subject=" ".join(render("subject.txt").split()),  # a header: one line
        body=render("body.txt"),
        to=[notification.user.email],
        connection=connection,
    )
    message.attach_alternative(render("body.html"), "text/html")
    return message


def notification_email_send(*, notification_id: int, final_attempt: bool = False, connection=None) -> EmailOutcome:
    """Send one notification's email at most once and record the outcome.

    The row stays locked (select_for_update) for the whole send, so two workers handed the same id
    (a redelivery, a repair) cannot both send it: the second waits, then sees it sent.
    Returns RETRY for a transient error unless this is the final attempt (then it is recorded as failed).
    `connection`: a mail backend connection to reuse (notification_emails_send's batch).
    """
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(id=notification_id)
            .first()
        )
        if notification is None or notification.emailed_at or notification.email_status != EmailStatus.PENDING:
            return EmailOutcome.NOOP
        notification.email_attempts += 1
        if not notification.user.email:  # removed since notify
            notification.email_status, outcome = EmailStatus.SKIPPED, EmailOutcome.SKIPPED
        else:
            try:
                _email_message(notification, connection).send()
            except Exception as exc:
                notification.email_error = f"{type(exc).__name__}: {exc}"[:2000]
                if _is_transient(exc) and not final_attempt:
                    outcome = EmailOutcome.RETRY
                    logger.info("Email of notification %s will be retried: %s", notification_id, exc)
                else:
                    notification.email_status, outcome = EmailStatus.FAILED, EmailOutcome.FAILED
                    logger.warning("Email of notification %s failed for good", notification_id, exc_info=True)
            else:
                notification.emailed_at = timezone.now()
                notification.email_status, notification.email_error = EmailStatus.SENT, ""
                outcome = EmailOutcome.SENT
        notification.save(update_fields=["email_status", "email_error", "email_attempts", "emailed_at"])
    return outcome


def notification_emails_send(
    *, notification_ids: list[int], budget_seconds: float = EMAIL_BATCH_BUDGET_SECONDS
) -> tuple[list[int], list[int]]:
    """Send a batch of notifications' emails over one mail connection, each exactly as notification_email_send
    (locked, at most once). Stops starting new sends after `budget_seconds`. Returns (ids to retry one by one
    after a transient error, ids not attempted for lack of time): the task queues both again."""
    started = time.monotonic()
    retry: list[int] = []
    connection = get_connection()
    try:
        connection.open()  # one SMTP session for the batch; if it fails, each send opens its own and records why
    except Exception:
        logger.info("Could not open a mail connection for a batch of %d emails", len(notification_ids), exc_info=True)
    try:
        for done, notification_id in enumerate(notification_ids):
            if time.monotonic() - started > budget_seconds:
                return retry, list(notification_ids[done:])
            if notification_email_send(notification_id=notification_id, connection=connection) == EmailOutcome.RETRY:
                retry.append(notification_id)
                _close_quietly(connection)  # the session may be broken: the next send opens a fresh one
    finally:
        _close_quietly(connection)
    return retry, []


def _close_quietly(connection) -> None:
    try:
        connection.close()
    except Exception:  # a QUIT refused by a failing server: the emails' outcomes are already recorded
        logger.info("Closing the mail connection failed", exc_info=True)


@transaction.atomic
def notification_mark_read(*, user, notification_id: int) -> Notification:
    notification = notification_get_for_user(user=user, id=notification_id)
    if notification.read_at is None:
        now = timezone.now()
        # Conditional: of two concurrent clicks, the first read time stands.
        Notification.objects.filter(id=notification.id, read_at__isnull=True).update(read_at=now)
        notification.read_at = now
    return notification


@transaction.atomic
def notifications_mark_all_read(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())


@transaction.atomic
def notification_prefs_update(
    *,
    user,
    prefs: dict[str, str],
    quiet_hours_start: datetime.time | None,
    quiet_hours_end: datetime.time | None,
    reminder_hour: int,
    timezone: str,
):
    """Save a user's delivery preferences. `prefs` maps kinds to channels and is merged into the stored ones.
    Raises ValidationError keyed by field name; on error nothing changes, not even the `user` object."""
    errors: dict[str, list[str]] = {}
    for kind, channel in prefs.items():
        if kind not in Kind.values:
            errors.setdefault("notification_prefs", []).append(
                f"“{kind}” is not a notification kind; the kinds are {', '.join(Kind.values)}."
            )
        elif channel not in Channel.values:
            errors.setdefault("notification_prefs", []).append(
                f"“{channel}” is not a way to receive {Kind(kind).label.lower()}; choose in_app, email or off."
            )
    if (quiet_hours_start is None) != (quiet_hours_end is None):
        missing = "quiet_hours_start" if quiet_hours_start is None else "quiet_hours_end"
        errors[missing] = ["Set both the start and the end of quiet hours, or leave both empty."]
    elif quiet_hours_start is not None and quiet_hours_start == quiet_hours_end:
        errors["quiet_hours_end"] = ["Quiet hours must end at a different time than they start."]

    values = {
        "timezone": timezone,
        "reminder_hour": reminder_hour,
        "quiet_hours_start": quiet_hours_start,
        "quiet_hours_end": quiet_hours_end,
        "notification_prefs": {**(user.notification_prefs or {}), **prefs},
    }
    # Field by field, as full_clean would, but before touching `user`, so a refusal leaves it as it was.
    for name, value in values.items():
        try:
            values[name] = user._meta.get_field(name).clean(value, user)
        except ValidationError as exc:
            errors.setdefault(name, []).extend(exc.messages)
    if errors:
        raise ValidationError(errors)
    for name, value in values.items():
        setattr(user, name, value)
    user.save(update_fields=list(values))
    return user
