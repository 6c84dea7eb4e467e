"""The reminders bench's baseline: a task that does nothing but count itself (one Redis INCR)."""

import redis
from celery import shared_task
from django.conf import settings

COUNTER = "pacer:bench:noop"


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def noop() -> None:
    redis.Redis.from_url(settings.CELERY_BROKER_URL).incr(COUNTER)
