"""Celery tasks of the goals app. Thin: each calls a service; the services decide.

Every task is idempotent (a recompute rebuilds the same numbers from the entries), so acks_late with
reject_on_worker_lost is safe: a task lost with its worker simply runs again.
"""

import logging

from celery import shared_task
from django.utils import timezone

from goals import services
from goals.models import Goal, MicroGoal
from notifications.fanout import fan_out, fanned_out_now
from teams.hooks import hooks_run

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def recompute_goals(goal_ids, micro_goal_ids=()) -> dict:
    """Recompute the goals and micro goals a changed entry touches (enqueued by the progress services)."""
    result = services.progress_recompute(goal_ids=goal_ids, micro_goal_ids=micro_goal_ids)._asdict()
    after_recompute(goal_ids=goal_ids, micro_goal_ids=micro_goal_ids)  # AFTER-RECOMPUTE HOOK: keep after the recompute
    return result


def after_recompute(*, goal_ids, micro_goal_ids=()) -> None:
    """Hand freshly recomputed (or just closed) goals to the apps above goals: each dotted path in
    settings.PACER_AFTER_RECOMPUTE (e.g. rewards.services.awards_grant) is called with goal_ids= and
    micro_goal_ids=, after the recompute committed. goals never imports those apps; they register here.
    One failing hook is logged and does not keep the others (webhooks, rewards) from running."""
    hooks_run("PACER_AFTER_RECOMPUTE", goal_ids=list(goal_ids), micro_goal_ids=list(micro_goal_ids))


@shared_task(acks_late=True, reject_on_worker_lost=True)
def recompute_stale() -> dict:
    """The coalesced recompute: every goal and micro goal marked stale by entry changes, single-flight
    (a second task while one runs returns at once; the running one picks up what was marked meanwhile)."""
    return services.progress_recompute_stale(on_recomputed=after_recompute)._asdict()  # AFTER-RECOMPUTE HOOK


@shared_task(acks_late=True, reject_on_worker_lost=True)
def recompute_all() -> dict:
    """Periodic safety net: check the daily rollups against the entries (repairing and logging any
    difference), then recompute every active goal and micro goal (repairs any lost enqueue). Its hooks see
    every active goal: health also moves with time alone (pace), which only this run notices."""
    repaired = services.rollups_verify(repair=True)
    result = services.progress_recompute()._asdict()
    services.progress_recompute_stale()  # clears the stale marks a lost task left (recomputing them again)
    after_recompute(
        goal_ids=Goal.objects.filter(status=Goal.Status.ACTIVE).values_list("id", flat=True),
        micro_goal_ids=MicroGoal.objects.filter(status=MicroGoal.Status.ACTIVE).values_list("id", flat=True),
    )
    return {**result, "rollups_repaired": len(repaired)}


# --- daily closing, reminders and the weekly digest (scheduled by config/schedule.py) -------------------
# Idempotent like the rest: closing is a conditional update of rows still active; every reminder has a
# deterministic key and notify() delivers one (user, key) once, so a rerun or a concurrent run is a no-op.


@shared_task(acks_late=True, reject_on_worker_lost=True)
def close_due_goals() -> int:
    """Daily at 00:30 in the organisation's timezone: close the goals due before its local today."""
    closed = services.goals_close_due(today=services.org_today())
    after_recompute(goal_ids=closed)  # AFTER-RECOMPUTE HOOK: rewards grant on the closing figures
    return len(closed)


# The reminder jobs fan out (notifications.fanout): the periodic task finds the ids due and enqueues chunk
# tasks; each chunk re-checks its ids at the periodic run's `now` and delivers them in bulk.


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_deadline_reminders() -> int:
    """Hourly: goals due in N days and not achieved, to their owners (off-track ones to managers too).
    Returns the number of chunks enqueued."""
    now = timezone.now()
    return fan_out(send_deadline_reminder_chunk, ids=services.deadline_reminders_due_ids(now=now), now=now)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_deadline_reminder_chunk(*, ids: list[int], now: str) -> int:
    return services.deadline_reminders_send(now=fanned_out_now(now), goal_ids=ids)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_checkin_reminders() -> int:
    """Every 15 minutes: reps past their local reminder hour on a working day, with no entry today.
    Returns the number of chunks enqueued."""
    now = timezone.now()
    return fan_out(send_checkin_reminder_chunk, ids=services.checkin_reminders_due_ids(now=now), now=now)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_checkin_reminder_chunk(*, ids: list[int], now: str) -> int:
    return services.checkin_reminders_send(now=fanned_out_now(now), user_ids=ids)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_manager_digest() -> int:
    """Hourly: the weekly digest to each manager whose local time is Monday 08:00 (or later that Monday).
    Returns the number of chunks enqueued."""
    now = timezone.now()
    return fan_out(send_manager_digest_chunk, ids=services.manager_digests_due_ids(now=now), now=now)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_manager_digest_chunk(*, ids: list[int], now: str) -> int:
    return services.manager_digests_send(now=fanned_out_now(now), user_ids=ids)
