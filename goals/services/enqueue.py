"""How a service asks for a background recompute: the one place the services reach the tasks.

The rule for the services ↔ tasks circle: tasks import services (a task is a thin wrapper around one);
services never import tasks at module level. They call `enqueue_recompute`, which imports the task
lazily, inside the after-commit callback.
"""

import logging
from collections.abc import Iterable

from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)

# What a publish raises when the broker is down or unreachable.
BROKER_ERRORS = (OperationalError, ConnectionError, OSError, TimeoutError)


def enqueue_recompute(*, goal_ids: Iterable[int] = (), micro_goal_ids: Iterable[int] = ()) -> None:
    """After the current transaction commits, recompute these goals in the background.

    Nothing is sent when the transaction rolls back, or when there is nothing to recompute. A broker
    that is down never fails the caller's request: the failure is logged and the periodic
    recompute_all repairs the numbers later.
    """
    goal_ids, micro_goal_ids = sorted(set(goal_ids)), sorted(set(micro_goal_ids))
    if not goal_ids and not micro_goal_ids:
        return

    def send():
        from goals.tasks import recompute_goals  # tasks import services, so import it when called

        try:
            recompute_goals.delay(goal_ids, micro_goal_ids)
        except BROKER_ERRORS:
            logger.warning(
                "Could not enqueue the recompute of goals %s and micro goals %s; the periodic recompute will catch up.",
                goal_ids,
                micro_goal_ids,
                exc_info=True,
            )

    transaction.on_commit(send)


def request_stale_recompute() -> None:
    """After a writer's commit: queue ONE coalesced recompute unless one is already queued.

    A broker that is down never fails the caller's request: the failure is logged, the request is
    withdrawn so the next writer tries again, and the periodic recompute_all repairs the figures later.
    """
    from goals.tasks import recompute_stale  # tasks import services, so import it when called

    from .recompute_queue import recompute_flight_cancel_request, recompute_flight_request

    if not recompute_flight_request():
        return
    try:
        recompute_stale.delay()
    except BROKER_ERRORS:
        recompute_flight_cancel_request()
        logger.warning(
            "Could not enqueue the coalesced recompute; the periodic recompute will catch up.", exc_info=True
        )
