"""Signals other apps may listen to without feedback importing them (webhooks sits above feedback in the layers).

`adjustment_decided`: sent once an approval or a rejection has been committed (never for a rolled-back one, nor
for a withdrawal, which nobody decides), with `request_id`. Receivers read what they need by that id.
"""

import logging

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

adjustment_decided = Signal()


def adjustment_decided_send_on_commit(*, request_id: int) -> None:
    """Send `adjustment_decided` after the caller's transaction commits. A failing receiver is logged and never
    undoes the decision or stops the other receivers."""

    def send():
        for receiver, result in adjustment_decided.send_robust(sender="feedback", request_id=request_id):
            if isinstance(result, Exception):
                logger.error(
                    "adjustment_decided receiver %r failed for request %s", receiver, request_id, exc_info=result
                )

    transaction.on_commit(send)
