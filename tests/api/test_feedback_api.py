"""The feedback resources over HTTP: the services' rules with the API's status codes (what the permission matrix
does not show: bodies, history kept, 409 for a decided request, references to invisible objects, filters)."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from feedback.models import ActionItem, AdjustmentRequest, CheckIn, Feedback
from goals.models import Goal, GoalRevision
from tests.concurrency import run_in_threads

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_for(client_for):
    """One token client per role for the whole test (the shared fixture makes a new token each call)."""
    made: dict = {}

    def get(role):
        if role not in made:
            made[role] = client_for(role)
        return made[role]

    return get


def _errors(response) -> dict:
    return {e["attr"]: e["detail"] for e in response.json()["errors"]}


def test_a_second_check_in_that_week_replaces_the_first_and_keeps_it(world, client_for):
    rep = client_for("rep_a")
    body = {"goal": world.a.rep_goal.id, "confidence": 7, "blockers": "Pricing"}
    first = rep.post("/api/v1/checkins/", body, format="json")
    assert first.status_code == 201 and first.json()["history"] == []
    again = rep.post("/api/v1/checkins/", {**body, "confidence": 4}, format="json")
    assert again.status_code == 200
    data = again.json()
    assert data["id"] == first.json()["id"] and data["confidence"] == 4
    assert [h["confidence"] for h in data["history"]] == [7]
    assert Decimal(data["snapshot"]["target"]) == world.a.rep_goal.target_value
    assert CheckIn.objects.filter(goal=world.a.rep_goal).count() == 2  # last week's (the world's) and this one


def test_check_in_input_is_checked_before_the_service(world, client_for):
    rep = client_for("rep_a")
    response = rep.post("/api/v1/checkins/", {"goal": world.a.rep_goal.id, "confidence": 11}, format="json")
    assert response.status_code == 400 and "confidence" in _errors(response)
    response = rep.post(
        "/api/v1/checkins/", {"goal": world.a.rep_goal.id, "confidence": 5, "rep": world.b.rep.id}, format="json"
    )
    assert response.status_code == 400 and "rep" in _errors(response)["non_field_errors"]


def test_check_ins_filter_by_goal_rep_and_week(world, client_for):
    manager = client_for("manager_a")
    week = world.a.checkin.week_start
    assert [c["id"] for c in manager.get(f"/api/v1/checkins/?user={world.a.rep.id}").json()["results"]] == [
        world.a.checkin.id
    ]
    after = week + datetime.timedelta(days=7)
    assert manager.get(f"/api/v1/checkins/?week_from={after}").json()["count"] == 0
    assert manager.get(f"/api/v1/checkins/?week_from={week}&week_to={week}").json()["count"] == 1
    assert manager.get(f"/api/v1/checkins/?goal={world.b.rep_goal.id}").json()["count"] == 0  # never foreign rows


def test_the_check_in_thread(world, client_for):
    path = f"/api/v1/checkins/{world.a.checkin.id}/replies/"
    assert client_for("manager_a").post(path, {"body": "What blocks you?"}, format="json").status_code == 201
    assert client_for("rep_a").post(path, {"body": "Pricing."}, format="json").status_code == 201
    thread = client_for("rep_a").get(path).json()
    assert [(r["author"]["id"], r["body"]) for r in thread] == [
        (world.a.manager.id, "What blocks you?"),
        (world.a.rep.id, "Pricing."),
    ]


def test_feedback_goes_only_to_those_the_author_may_give_it_to(world, client_for):
    manager = client_for("manager_a")
    given = manager.post(
        "/api/v1/feedback/",
        {"recipient": world.a.rep.id, "kind": "coaching", "body": "Ask for the budget earlier."},
        format="json",
    )
    assert given.status_code == 201
    assert given.json()["visibility"] == "private" and given.json()["author"]["id"] == world.a.manager.id
    foreign = manager.post(
        "/api/v1/feedback/", {"recipient": world.b.rep.id, "kind": "praise", "body": "Hi"}, format="json"
    )
    assert foreign.status_code == 400 and "recipient" in _errors(foreign)  # as for any invisible reference
    peer_coaching = client_for("rep_a").post(
        "/api/v1/feedback/", {"recipient": world.a.manager.id, "kind": "concern", "body": "Too many meetings."}
    )
    assert peer_coaching.status_code == 201  # any kind to one's own manager
    on_feed = manager.post(
        "/api/v1/feedback/",
        {"recipient": world.a.rep.id, "kind": "concern", "body": "Late again.", "visibility": "team"},
        format="json",
    )
    assert on_feed.status_code == 400 and "visibility" in _errors(on_feed)  # the service's rule, on its field


def test_feedback_is_edited_by_its_author_within_the_window_and_never_deleted(world, client_for):
    path = f"/api/v1/feedback/{world.a.feedback.id}/"
    manager = client_for("manager_a")
    edited = manager.patch(path, {"body": "Great calls this week!"}, format="json")
    assert edited.status_code == 200
    assert [h["body"] for h in edited.json()["history"]] == ["Good calls this week."]
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=16)):
        late = manager.patch(path, {"body": "Changed my mind."}, format="json")
    assert late.status_code == 400 and "15 minutes" in late.json()["errors"][0]["detail"]
    assert manager.delete(path).status_code == 405
    assert Feedback.objects.get(id=world.a.feedback.id).body == "Great calls this week!"


def test_support_steps_are_created_for_a_colleague_and_ticked_off_once(world, client_for):
    manager = client_for("manager_a")
    created = manager.post(
        "/api/v1/action-items/",
        {"goal": world.a.rep_goal.id, "title": "Shadow Ben", "owner": world.a.rep.id, "due_date": str(world.today)},
        format="json",
    )
    assert created.status_code == 201 and created.json()["owner"]["id"] == world.a.rep.id
    foreign_owner = manager.post(
        "/api/v1/action-items/",
        {"goal": world.a.rep_goal.id, "title": "x", "owner": world.b.rep.id, "due_date": str(world.today)},
        format="json",
    )
    assert foreign_owner.status_code == 400 and "owner" in _errors(foreign_owner)
    path = f"/api/v1/action-items/{created.json()['id']}/complete/"
    assert client_for("rep_a").post(path).json()["done_by"] == world.a.rep.id
    done_at = ActionItem.objects.get(id=created.json()["id"]).done_at
    again = client_for("manager_a").post(path)  # already done: a conflict with its state, said so, nothing changed
    assert again.status_code == 409, again.content
    assert again.json()["errors"] == [
        {
            "code": "conflict",
            "detail": f"This action item is already completed (done on {timezone.localtime(done_at):%d %b %Y}).",
            "attr": None,
        }
    ]
    item = ActionItem.objects.get(id=created.json()["id"])
    assert (item.done_at, item.done_by) == (done_at, world.a.rep)
    assert client_for("rep_b").post(path).status_code == 404  # another team's: unknown, not a conflict
    assert manager.get("/api/v1/action-items/?done=true").json()["count"] == 1
    assert manager.get("/api/v1/action-items/?done=false").json()["count"] == 1  # the world's


def test_the_schema_documents_the_409_of_ticking_off_an_action_item(client):
    schema = client.get("/api/schema/?format=json").json()
    responses = schema["paths"]["/api/v1/action-items/{id}/complete/"]["post"]["responses"]
    assert set(responses) >= {"200", "400", "403", "404", "409"}
    assert responses["409"]["description"] == "The action item is already completed."
    conflict = responses["409"]["content"]["application/json"]["schema"]["$ref"]
    assert (
        conflict
        == schema["paths"]["/api/v1/adjustment-requests/{id}/approve/"]["post"]["responses"]["409"]["content"][
            "application/json"
        ]["schema"]["$ref"]
    )  # the same body as the adjustment requests' 409


def test_an_approval_changes_the_goal_and_a_second_decision_is_a_409(world, client_for):
    request = world.a.adjustment
    manager = client_for("manager_a")
    preview = manager.get(f"/api/v1/adjustment-requests/{request.id}/preview/")
    assert preview.status_code == 200
    assert Decimal(preview.json()["after"]["target"]) == request.proposed_target
    assert Decimal(preview.json()["before"]["target"]) == request.current_target
    assert Goal.objects.get(id=request.goal_id).target_value == request.current_target  # the preview wrote nothing
    approved = manager.post(f"/api/v1/adjustment-requests/{request.id}/approve/", {"response": "Fair."}, format="json")
    assert approved.status_code == 200
    data = approved.json()
    assert (data["status"], data["decided_by"]["id"], data["response"]) == ("approved", world.a.manager.id, "Fair.")
    assert Goal.objects.get(id=request.goal_id).target_value == request.proposed_target
    assert GoalRevision.objects.get(id=data["revision"]).kind == "adjusted"
    for action, body in (("approve", {}), ("reject", {"response": "No."}), ("withdraw", None)):
        client = client_for("rep_a" if action == "withdraw" else "admin")
        again = client.post(f"/api/v1/adjustment-requests/{request.id}/{action}/", body, format="json")
        assert again.status_code == 409, action
        assert "already approved" in again.json()["errors"][0]["detail"]
    assert manager.get(f"/api/v1/adjustment-requests/{request.id}/preview/").status_code == 409


def test_a_rejection_needs_a_response_and_a_second_pending_request_is_a_409(world, client_for):
    request = world.a.adjustment
    manager = client_for("manager_a")
    silent = manager.post(f"/api/v1/adjustment-requests/{request.id}/reject/", {}, format="json")
    assert silent.status_code == 400 and "response" in _errors(silent)
    body = {"goal": request.goal_id, "proposed_due_date": str(request.current_due_date + datetime.timedelta(7))}
    second = client_for("rep_a").post("/api/v1/adjustment-requests/", {**body, "reason": "Holidays."}, format="json")
    assert second.status_code == 409
    assert AdjustmentRequest.objects.filter(goal_id=request.goal_id).count() == 1
    bad = client_for("rep_a").post(
        "/api/v1/adjustment-requests/", {**body, "reason": "x", "status": "approved"}, format="json"
    )
    assert bad.status_code == 400  # a read-only field is refused, never applied
    rejected = manager.post(f"/api/v1/adjustment-requests/{request.id}/reject/", {"response": "Not now."})
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert manager.get("/api/v1/adjustment-requests/?status=pending").json()["count"] == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_approvals_decide_once_and_the_other_is_a_409(world, client_for, eager_celery):
    request = world.a.adjustment
    clients = [client_for("manager_a"), client_for("admin")]
    path = f"/api/v1/adjustment-requests/{request.id}/approve/"
    results, errors = run_in_threads(lambda: clients.pop().post(path, {}, format="json").status_code)
    assert errors == [] and sorted(results) == [200, 409]
    assert GoalRevision.objects.filter(goal_id=request.goal_id, kind="adjusted").count() == 1
    assert Goal.objects.get(id=request.goal_id).target_value == request.proposed_target
