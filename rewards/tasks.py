"""Celery tasks of the rewards app. Thin: they call services, which are idempotent (unique awards, conditional
flags), so a task that runs twice or concurrently grants once.

Granting after each recompute needs no task here: goals/tasks.py calls rewards.services.awards_grant through
settings.PACER_AFTER_RECOMPUTE, in the recompute's own task, right after the figures are committed.
"""

from celery import shared_task

from rewards import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def grant_all_awards() -> dict:
    """Periodic safety net (config/schedule.py): every active or recently closed goal, every rep's streaks."""
    return services.awards_grant()._asdict()
