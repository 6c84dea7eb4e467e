"""Email delivery. Thin: the services decide; these only translate to Celery (retries, schedule)."""

import random

from celery import shared_task

from . import services

MAX_EMAIL_RETRIES = 6
RETRY_BASE_SECONDS = 30
# Well under the Redis visibility timeout (3600 s): a longer countdown would be redelivered early.
RETRY_CAP_SECONDS = 600


def email_retry_countdown(retries: int) -> int:
    """Exponential backoff (30 s, 60 s, 120 s …) capped at 10 minutes, plus up to 25% jitter so the
    emails of one outage do not all hit the mail server again in the same second."""
    base = RETRY_BASE_SECONDS * 2**retries
    return int(min(RETRY_CAP_SECONDS, base * random.uniform(1.0, 1.25)))


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=MAX_EMAIL_RETRIES)
def send_notification_email(self, notification_id: int) -> str:
    outcome = services.notification_email_send(
        notification_id=notification_id, final_attempt=self.request.retries >= self.max_retries
    )
    if outcome == services.EmailOutcome.RETRY:
        raise self.retry(countdown=email_retry_countdown(self.request.retries))
    return outcome


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_notification_emails(notification_ids: list[int]) -> int:
    """A batch of emails (a reminder chunk's) over one mail connection. An email that meets a transient error
    continues as its own send_notification_email with the usual backoff; what the time budget left unsent goes
    to a new batch. Each send is at most once (the row lock), so a redelivered batch sends nothing twice."""
    retry, rest = services.notification_emails_send(notification_ids=notification_ids)
    for notification_id in retry:
        send_notification_email.apply_async((notification_id,), countdown=email_retry_countdown(0))
    if rest:
        send_notification_emails.delay(rest)
    return len(notification_ids) - len(retry) - len(rest)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_deferred_emails() -> int:
    """Every 5 minutes (beat): emails whose quiet hours ended, and emails whose enqueue was lost."""
    return services.notification_emails_release()
