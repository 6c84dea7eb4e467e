"""Housekeeping of the api app (daily, config/schedule.py)."""

from celery import shared_task

from api import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def purge_exchange_records() -> int:
    """Forget Idempotency-Keys older than a week, CSV uploads never confirmed within a day and expired API tokens."""
    return services.idempotency_keys_purge() + services.pending_imports_purge() + services.api_tokens_expired_purge()
