"""Webhook deliveries on their own queue ("webhooks"), so a slow receiver never delays recomputes or emails."""

import logging
import random

from celery import shared_task
from django.conf import settings
from django.db import transaction

from goals.services.enqueue import BROKER_ERRORS
from webhooks import services

logger = logging.getLogger(__name__)
QUEUE = "webhooks"  # routed there by settings.CELERY_TASK_ROUTES
RETRY_BASE_SECONDS = 10
RETRY_CAP_SECONDS = 1800  # well under the broker's visibility timeout (3600 s)


def retry_countdown(retries: int) -> int:
    """10 s, 20 s, 40 s … capped at 30 minutes, plus up to 25% jitter."""
    return int(min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2**retries * random.uniform(1.0, 1.25)))


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=settings.WEBHOOK_MAX_ATTEMPTS - 1)
def deliver_webhook(self, delivery_id: int) -> str:
    outcome = services.webhook_delivery_attempt(
        delivery_id=delivery_id, final_attempt=self.request.retries >= self.max_retries
    )
    if outcome == services.Outcome.RETRY:
        raise self.retry(countdown=retry_countdown(self.request.retries))
    return outcome


def enqueue_deliveries(delivery_ids: list[int]) -> None:
    """After commit; a broker that is down is logged (the admin page can re-send), never a failed request."""

    def send():
        for delivery_id in delivery_ids:
            try:
                deliver_webhook.delay(delivery_id)
            except BROKER_ERRORS:
                logger.warning("Could not enqueue webhook delivery %s; re-send it from the admin.", delivery_id)

    transaction.on_commit(send)
