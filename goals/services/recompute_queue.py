"""Coalesced recompute: entries mark the goals they touch stale; one recompute at a time catches up.

- Writers (progress_record / _update / _void) call `targets_mark_stale` inside their transaction: an
  INSERT into StaleTarget, never an UPDATE of a goal row, so a rep's request never waits for another
  rep's or for a running recompute. After commit they ask for a pass (`recompute_requested`), which
  queues the `recompute_stale` task only when none is queued yet (the flight's `pending_since`).
- `progress_recompute_stale` is single-flight across any number of workers: it takes the lease on the
  one RecomputeFlight row with a conditional UPDATE (PostgreSQL and SQLite alike; a crashed worker's
  lease expires), reads every stale row, recomputes their distinct goals with the set-based engine in
  batches, deletes exactly the rows it read, and loops until nothing is stale. A burst of N entries
  therefore costs about one pass. A task that finds the lease taken returns at once: the holder checks
  for new stale rows after releasing it, so nothing marked in between is left behind.
- The periodic recompute_all recomputes everything anyway (repairs a lost task or a broker outage).

Correctness never depends on the flight: two passes at once (an expired lease) only do work twice,
because each recompute batch locks its goal rows and reads the entries committed before it.
"""

import datetime
import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from goals.models import RecomputeFlight, StaleTarget

from .engine import Recomputed, progress_recompute
from .enqueue import request_stale_recompute

logger = logging.getLogger(__name__)

# Stale rows read per round of a pass (each round recomputes their distinct goals in engine batches).
STALE_ROWS_PER_ROUND = 50_000
_DELETE_CHUNK = 900  # ids per DELETE … IN (…): far below SQLite's variable limit


def targets_mark_stale(*, goal_ids: Iterable[int], micro_goal_ids: Iterable[int]) -> None:
    """Mark goals and micro goals stale in the caller's transaction (one INSERT) and, after it commits,
    ask for a coalesced recompute. Nothing is marked or asked for when there is nothing to mark."""
    now = timezone.now()
    rows = [StaleTarget(kind=StaleTarget.Kind.GOAL, target_id=i, marked_at=now) for i in set(goal_ids)]
    rows += [StaleTarget(kind=StaleTarget.Kind.MICRO_GOAL, target_id=i, marked_at=now) for i in set(micro_goal_ids)]
    if not rows:
        return
    StaleTarget.objects.bulk_create(rows)
    transaction.on_commit(request_stale_recompute)


def stale_target_ids(*, goal_ids: Iterable[int] = (), micro_goal_ids: Iterable[int] = ()) -> tuple[set, set]:
    """Which of these goals and micro goals wait for the recompute (ONE query): (goal ids, micro goal ids)."""
    goal_ids, micro_goal_ids = set(goal_ids), set(micro_goal_ids)
    if not goal_ids and not micro_goal_ids:
        return set(), set()
    rows = (
        StaleTarget.objects.filter(
            Q(kind=StaleTarget.Kind.GOAL, target_id__in=goal_ids)
            | Q(kind=StaleTarget.Kind.MICRO_GOAL, target_id__in=micro_goal_ids)
        )
        .values_list("kind", "target_id")
        .distinct()
    )
    stale: dict[str, set] = {StaleTarget.Kind.GOAL: set(), StaleTarget.Kind.MICRO_GOAL: set()}
    for kind, target_id in rows:
        stale[kind].add(target_id)
    return stale[StaleTarget.Kind.GOAL], stale[StaleTarget.Kind.MICRO_GOAL]


def recompute_flight_request() -> bool:
    """Note that a pass is wanted. True when the caller should queue the task: no task is queued yet, or
    the one queued is older than the lease (lost with a purged queue or a dead broker)."""
    now = timezone.now()
    # Every writer runs this after its commit: plain SQL, as the ORM's Q trees and compiler cost more CPU than the
    # statements (docs/benchmarks.md, "HTTP"). The same two statements as .filter().update() and .exists().
    ops, table = connection.ops, connection.ops.quote_name(RecomputeFlight._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET pending_since = %s WHERE id = 1 AND (pending_since IS NULL OR pending_since < %s)",  # noqa: S608 (our table)
            [ops.adapt_datetimefield_value(now), ops.adapt_datetimefield_value(now - _lease())],
        )
        if cursor.rowcount:
            return True
        cursor.execute(f"SELECT 1 FROM {table} WHERE id = 1")  # noqa: S608 (our table)
        if cursor.fetchone() is not None:
            return False
    RecomputeFlight.objects.get_or_create(id=1, defaults={"pending_since": now})  # e.g. after a flush
    return True


def recompute_flight_cancel_request() -> None:
    """The queued task could not be sent: let the next writer try again."""
    RecomputeFlight.objects.filter(id=1).update(pending_since=None)


def progress_recompute_stale(
    *, today: datetime.date | None = None, batch_size: int | None = None, on_recomputed: Callable | None = None
):
    """Recompute every stale goal and micro goal, single-flight (see the module docstring).

    `on_recomputed(goal_ids=, micro_goal_ids=)` is called after each round's batches committed.
    Returns what this call recomputed, a Recomputed (0, 0 when another worker holds the flight).
    """
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    # From here on, a writer queues a new task: this one may already have read the stale rows.
    RecomputeFlight.objects.filter(id=1).update(pending_since=None)
    goals = micro_goals = 0
    while _flight_acquire(holder):
        try:
            while rows := list(
                StaleTarget.objects.order_by("id").values_list("id", "kind", "target_id")[:STALE_ROWS_PER_ROUND]
            ):
                goal_ids = {t for _, kind, t in rows if kind == StaleTarget.Kind.GOAL}
                micro_goal_ids = {t for _, kind, t in rows if kind == StaleTarget.Kind.MICRO_GOAL}
                done = progress_recompute(
                    goal_ids=goal_ids,
                    micro_goal_ids=micro_goal_ids,
                    today=today,
                    batch_size=batch_size,
                    on_batch=lambda _n: _flight_renew(holder),  # after every batch
                )
                goals, micro_goals = goals + done.goals, micro_goals + done.micro_goals
                if on_recomputed:  # e.g. rewards granted on the fresh figures (goals.tasks.after_recompute)
                    on_recomputed(goal_ids=sorted(goal_ids), micro_goal_ids=sorted(micro_goal_ids))
                ids = [row[0] for row in rows]
                for first in range(0, len(ids), _DELETE_CHUNK):
                    StaleTarget.objects.filter(id__in=ids[first : first + _DELETE_CHUNK]).delete()
        finally:
            RecomputeFlight.objects.filter(id=1, holder=holder).update(lease_until=None, holder="")
        # Marked while the lease was ours and after our last read: a task that ran meanwhile found the
        # lease taken and returned, so it is ours to do.
        if not StaleTarget.objects.exists():
            break
    return Recomputed(goals=goals, micro_goals=micro_goals)


def _lease() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.PACER["RECOMPUTE_LEASE_SECONDS"])


def _flight_renew(holder: str) -> None:
    """Extend the lease a pass holds (a lost lease only means another pass may start: still correct)."""
    _flight_acquire(holder)


def _flight_acquire(holder: str) -> bool:
    """Take or renew the lease: free, expired, or already ours. One conditional UPDATE (two on a fresh
    database, whose flight row is created here)."""
    now = timezone.now()
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now) | Q(holder=holder)
    if RecomputeFlight.objects.filter(free, id=1).update(lease_until=now + _lease(), holder=holder):
        return True
    _, created = RecomputeFlight.objects.get_or_create(id=1, defaults={"lease_until": now + _lease(), "holder": holder})
    return created
