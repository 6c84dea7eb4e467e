"""The "adjustment.decided" event: written with the decision (settings.PACER_AFTER_ADJUSTMENT_DECIDED), sent signed,
with the request and the goal as they are after it, and a one-line Slack message; never for a withdrawal."""

import json
from decimal import Decimal

import pytest
from django.db import transaction

from feedback import services as feedback_services
from webhooks import signing
from webhooks.adjustments import adjustment_decided_emit
from webhooks.admin import EndpointForm
from webhooks.models import Event, WebhookDelivery

from .test_webhooks import Receiver, _endpoint

pytestmark = pytest.mark.django_db


def test_an_approval_over_the_api_is_delivered_signed_with_a_slack_line(
    world, client_for, eager_celery, django_capture_on_commit_callbacks
):
    request = world.a.adjustment
    with Receiver() as receiver:
        _, secret = _endpoint(world.admin, receiver.url, events=[Event.ADJUSTMENT_DECIDED])
        _endpoint(world.admin, receiver.url, events=[Event.ADJUSTMENT_DECIDED], payload_format="slack")
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for("manager_a").post(
                f"/api/v1/adjustment-requests/{request.id}/approve/", {"response": "Fair."}, format="json"
            )
        assert response.status_code == 200
    by_format = {("text" in json.loads(raw)): (headers, raw) for headers, raw in receiver.requests}
    assert len(receiver.requests) == 2
    headers, raw = by_format[False]
    assert signing.verify(secret=secret, header=headers["Pacer-Signature"], body=raw)
    assert headers["Pacer-Event"] == "adjustment.decided"
    payload = json.loads(raw)
    data = payload["data"]
    assert payload["event"] == "adjustment.decided"
    assert data["request"]["id"] == request.id and data["request"]["status"] == "approved"
    assert data["request"]["decided_by"]["username"] == world.manager_a.username
    assert Decimal(data["request"]["previous_target"]) == request.current_target
    assert data["goal"]["id"] == request.goal_id and Decimal(data["goal"]["target_value"]) == request.proposed_target
    assert data["request"]["url"].endswith(f"/feedback/requests/{request.id}/")
    text = json.loads(by_format[True][1])["text"]
    goal = request.goal
    assert text == f":memo: {world.rep_a}'s “{goal.title}” target was raised to 60 (approved by {world.manager_a})."
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}


def test_a_rejection_is_announced_and_a_withdrawal_is_not(world, django_capture_on_commit_callbacks):
    _endpoint(world.admin, "http://127.0.0.1:9/unused", events=[Event.ADJUSTMENT_DECIDED], payload_format="slack")
    with django_capture_on_commit_callbacks(execute=True):
        feedback_services.adjustment_request_reject(
            request=world.a.adjustment, decided_by=world.admin, response="Not this quarter."
        )
        feedback_services.adjustment_request_withdraw(request=world.b.adjustment, withdrawn_by=world.rep_b)
    (delivery,) = WebhookDelivery.objects.all()
    assert delivery.payload["text"] == (
        f":memo: {world.admin} declined the adjustment {world.rep_a} asked for on "
        f"{world.rep_a}'s “{world.a.rep_goal.title}”."
    )


def test_the_announcement_commits_with_the_decision_or_not_at_all(world):
    _endpoint(world.admin, "http://127.0.0.1:9/unused", events=[Event.ADJUSTMENT_DECIDED])
    with pytest.raises(RuntimeError), transaction.atomic():
        feedback_services.adjustment_request_approve(request=world.a.adjustment, decided_by=world.manager_a)
        assert WebhookDelivery.objects.get().event == "adjustment.decided"  # written inside the decision
        raise RuntimeError("the decision's transaction fails later")
    assert not WebhookDelivery.objects.exists()
    world.a.adjustment.refresh_from_db()
    assert world.a.adjustment.status == "pending"


def test_a_pending_request_is_never_announced_and_without_subscribers_it_costs_one_query(
    world, django_assert_num_queries
):
    with django_assert_num_queries(1):
        assert adjustment_decided_emit(request_id=world.a.adjustment.id) == []
    _endpoint(world.admin, "http://127.0.0.1:9/unused", events=[Event.ADJUSTMENT_DECIDED])
    assert adjustment_decided_emit(request_id=world.a.adjustment.id) == []  # still pending


def test_admins_can_subscribe_an_endpoint_to_the_event():
    assert ("adjustment.decided", "Adjustment request decided") in EndpointForm().fields["events"].choices


def failing_hook(*, request_id):
    WebhookDelivery.objects.all().delete()  # a write the savepoint must undo
    raise RuntimeError("webhooks are down")


def test_a_failing_announcement_is_logged_and_never_undoes_the_decision(world, settings, caplog):
    settings.PACER_AFTER_ADJUSTMENT_DECIDED = [f"{__name__}.failing_hook"]
    feedback_services.adjustment_request_reject(request=world.a.adjustment, decided_by=world.admin, response="No.")
    assert "PACER_AFTER_ADJUSTMENT_DECIDED hook" in caplog.text and "webhooks are down" in caplog.text
    world.a.adjustment.refresh_from_db()
    assert world.a.adjustment.status == "rejected"
