"""Celery tasks of the feedback app. Thin and idempotent: every notification has a deterministic key (a (user, key)
is delivered once), so a rerun, a concurrent run or a redelivery sends nothing twice. The weekly jobs fan out
(notifications.fanout): the periodic task finds the ids due, chunk tasks deliver them in bulk."""

from celery import shared_task
from django.utils import timezone

from feedback import services
from notifications.fanout import fan_out, fanned_out_now


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_weekly_checkin_reminders() -> int:
    """Hourly: on Thursday from each rep's reminder hour, reps with an active goal not checked in this week.
    Returns the number of chunks enqueued."""
    now = timezone.now()
    return fan_out(send_weekly_checkin_reminder_chunk, ids=services.checkin_weekly_reminders_due_ids(now=now), now=now)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_weekly_checkin_reminder_chunk(*, ids: list[int], now: str) -> int:
    return services.checkin_weekly_reminders_send(now=fanned_out_now(now), user_ids=ids)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_feedback_digests() -> int:
    """Hourly: on Friday from 15:00 local, each manager's one email of the week's unread coaching items.
    Returns the number of chunks enqueued."""
    now = timezone.now()
    return fan_out(send_feedback_digest_chunk, ids=services.feedback_digests_due_ids(now=now), now=now)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_feedback_digest_chunk(*, ids: list[int], now: str) -> int:
    return services.feedback_digests_send(now=fanned_out_now(now), user_ids=ids)
