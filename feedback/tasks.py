"""Celery tasks of the feedback app. Thin and idempotent: every notification has a deterministic key (notify()
delivers a (user, key) once), so a rerun, a concurrent run or a redelivery sends nothing twice."""

from celery import shared_task

from feedback import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_weekly_checkin_reminders() -> int:
    """Hourly: on Thursday from each rep's reminder hour, reps with an active goal not checked in this week."""
    return services.checkin_weekly_reminders_send()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_feedback_digests() -> int:
    """Hourly: on Friday from 15:00 local, each manager's one email of the week's unread coaching items."""
    return services.feedback_digests_send()
