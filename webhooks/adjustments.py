"""The "adjustment.decided" event: an adjustment request approved or rejected, announced to its subscribers.

feedback sits below this app and never imports it: a decision calls settings.PACER_AFTER_ADJUSTMENT_DECIDED
(`adjustment_decided_emit`, with the request id) inside its transaction, so the delivery commits with the decision.
"""

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from feedback.models import AdjustmentRequest
from goals.templatetags.pacer import kpi_value
from webhooks.models import Event, WebhookDelivery
from webhooks.services import _goal_data, _subscribers, webhook_emit

DECIDED = (AdjustmentRequest.Status.APPROVED, AdjustmentRequest.Status.REJECTED)


def _person(user) -> dict | None:
    return None if user is None else {"id": user.id, "username": user.username, "name": str(user)}


def adjustment_data(request: AdjustmentRequest) -> dict:
    """The request as decided, beside the goal as it is now (after an approval: its new target and due date)."""
    return {
        "request": {
            "id": request.id,
            "status": request.status,
            "reason": request.reason,
            "response": request.response,
            "previous_target": str(request.current_target),
            "proposed_target": None if request.proposed_target is None else str(request.proposed_target),
            "previous_due_date": request.current_due_date.isoformat(),
            "proposed_due_date": request.proposed_due_date.isoformat() if request.proposed_due_date else None,
            "requested_by": _person(request.requested_by),
            "decided_by": _person(request.decided_by),
            "decided_at": request.decided_at.isoformat() if request.decided_at else None,
            "revision": request.revision_id,
            "url": settings.SITE_URL + reverse("feedback:request_detail", args=[request.id]),
        },
        "goal": _goal_data(request.goal),
    }


def adjustment_text(request: AdjustmentRequest) -> str:
    """One line for a team channel: "Ava's “Q4 revenue” target was raised to 120,000 (approved by Max)"."""
    goal, kpi = request.goal, request.goal.kpi
    whose = f"{goal.owner}'s “{goal.title}”"
    if request.status == AdjustmentRequest.Status.REJECTED:
        return f"{request.decided_by} declined the adjustment {request.requested_by} asked for on {whose}."
    changes = []
    if request.proposed_target is not None:
        verb = "raised" if request.proposed_target > request.current_target else "lowered"
        changes.append(f"target was {verb} to {kpi_value(request.proposed_target, kpi)}")
    if request.proposed_due_date is not None:
        changes.append(f"due date was moved to {request.proposed_due_date:%d %b %Y}")
    return f"{whose} {' and its '.join(changes)} (approved by {request.decided_by})."


def adjustment_decided_emit(*, request_id: int) -> list[WebhookDelivery]:
    """Emit "adjustment.decided" for a decided request, once per decision (the decision is final; called inside its
    transaction). Queries: 1 without subscribers."""
    if not _subscribers(Event.ADJUSTMENT_DECIDED):
        return []
    request = (
        AdjustmentRequest.objects.select_related(
            "goal", "goal__kpi", "goal__owner_user", "goal__owner_team", "requested_by", "decided_by"
        )
        .filter(id=request_id, status__in=DECIDED)
        .first()
    )
    if request is None:
        return []
    with transaction.atomic():
        return webhook_emit(
            event=Event.ADJUSTMENT_DECIDED, data=adjustment_data(request), text=f":memo: {adjustment_text(request)}"
        )
