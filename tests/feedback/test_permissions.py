"""The permission matrix of every feedback action, as one table: who gets what status for each URL.

Seeing follows the goal (someone who may not see rep_a's goal gets a 404 for everything on it, alike for missing and
not-yours); acting is a 403 for someone who may see it but not do it. Each cell runs on fresh data."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from feedback import services
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

ACTORS = ["rep_a", "teammate", "manager_a", "rep_b", "manager_b", "admin"]

#                                     rep_a  mate  mgr_a  rep_b  mgr_b  admin
MATRIX = {
    "see the goal timeline":          (200,  404,  200,   404,   404,   200),
    "open the check-in form":         (200,  404,  403,   404,   404,   403),
    "submit a check-in":              (302,  404,  403,   404,   404,   403),
    "see a check-in":                 (200,  404,  200,   404,   404,   200),
    "reply on a check-in":            (302,  404,  302,   404,   404,   302),
    "open the request form":          (200,  404,  403,   404,   404,   403),
    "request an adjustment":          (200,  404,  403,   404,   404,   403),  # rep_a: form error, one pending
    "see a request":                  (200,  404,  200,   404,   404,   200),
    "approve a request":              (403,  404,  302,   404,   404,   302),
    "reject a request":               (403,  404,  302,   404,   404,   302),
    "withdraw a request":             (302,  404,  403,   404,   404,   403),
    "approve own team-goal request":  (403,  403,  403,   404,   404,   302),  # asked by mgr_a
    "add a support step":             (200,  404,  200,   404,   404,   200),
    "tick off a support step":        (302,  404,  302,   404,   404,   302),
    "edit feedback (author: mgr_a)":  (403,  404,  200,   404,   404,   403),
    "open rep_a's 1:1 agenda":        (403,  403,  200,   403,   404,   200),
}  # fmt: skip


@pytest.fixture
def world(personas, rep_goal, team_goal):
    teammate = MembershipFactory(user=UserFactory(username="tess_teammate"), team=personas.team_a).user
    checkin = services.checkin_submit(goal=rep_goal, rep=personas.rep_a, confidence=6)
    request = services.adjustment_request_create(
        goal=rep_goal, requested_by=personas.rep_a, proposed_target=Decimal(80), reason="Slipped"
    )
    own = services.adjustment_request_create(
        goal=team_goal, requested_by=personas.manager_a, proposed_target=Decimal(350), reason="Hiring freeze"
    )
    item = services.action_item_create(
        goal=rep_goal, title="Demo drill", owner=personas.rep_a, due_date=datetime.date(2026, 3, 20),
        created_by=personas.manager_a,
    )  # fmt: skip
    feedback = services.feedback_give(
        author=personas.manager_a, recipient=personas.rep_a, kind="coaching", body="Ask for the close"
    )
    actors = {name: getattr(personas, name, None) for name in ACTORS}
    actors["teammate"] = teammate
    return actors, {
        "see the goal timeline": ("get", reverse("feedback:goal_timeline", args=[rep_goal.id]), {}),
        "open the check-in form": ("get", reverse("feedback:checkin", args=[rep_goal.id]), {}),
        "submit a check-in": ("post", reverse("feedback:checkin", args=[rep_goal.id]), {"confidence": "5"}),
        "see a check-in": ("get", reverse("feedback:checkin_detail", args=[checkin.id]), {}),
        "reply on a check-in": ("post", reverse("feedback:checkin_detail", args=[checkin.id]), {"body": "Hi"}),
        "open the request form": ("get", reverse("feedback:request_create", args=[rep_goal.id]), {}),
        "request an adjustment": (
            "post",
            reverse("feedback:request_create", args=[rep_goal.id]),
            {"proposed_due_date": "2026-04-03", "reason": "Holidays"},
        ),
        "see a request": ("get", reverse("feedback:request_detail", args=[request.id]), {}),
        "approve a request": ("post", reverse("feedback:request_decide", args=[request.id, "approve"]), {}),
        "reject a request": (
            "post",
            reverse("feedback:request_decide", args=[request.id, "reject"]),
            {"response": "Not now"},
        ),
        "withdraw a request": ("post", reverse("feedback:request_decide", args=[request.id, "withdraw"]), {}),
        "approve own team-goal request": ("post", reverse("feedback:request_decide", args=[own.id, "approve"]), {}),
        "add a support step": ("get", reverse("feedback:action_item_create", args=[rep_goal.id]), {}),
        "tick off a support step": ("post", reverse("feedback:action_item_done", args=[item.id]), {}),
        "edit feedback (author: mgr_a)": ("get", reverse("feedback:edit", args=[feedback.id]), {}),
        "open rep_a's 1:1 agenda": ("get", reverse("feedback:agenda", args=[personas.rep_a.id]), {}),
    }


def test_the_matrix_covers_every_feedback_url():
    from feedback.urls import urlpatterns

    # Pages without an object (lists, forms to give feedback) are covered by test_pages; every URL on an object is
    # in the matrix.
    on_objects = {p.name for p in urlpatterns if p.pattern.converters}
    covered = {
        "goal_timeline", "checkin", "checkin_detail", "request_create", "request_detail", "request_decide",
        "action_item_create", "action_item_done", "edit", "agenda", "goal_checkin_button",
    }  # fmt: skip
    assert on_objects == covered


@pytest.mark.parametrize("action", list(MATRIX))
@pytest.mark.parametrize("actor", ACTORS)
def test_permission_matrix(client, world, action, actor):
    actors, actions = world
    method, url, data = actions[action]
    client.force_login(actors[actor])
    response = getattr(client, method)(url, data)
    assert response.status_code == MATRIX[action][ACTORS.index(actor)], (action, actor)


@pytest.mark.parametrize(("actor", "status"), [("rep_a", 200), ("teammate", 404), ("manager_a", 200), ("rep_b", 404)])
def test_the_check_in_button_fragment_follows_the_goal(client, personas, rep_goal, actor, status):
    teammate = MembershipFactory(user=UserFactory(username="tess_teammate"), team=personas.team_a).user
    user = teammate if actor == "teammate" else getattr(personas, actor)
    client.force_login(user)
    response = client.get(reverse("feedback:goal_checkin_button", args=[rep_goal.id]))
    assert response.status_code == status
    if status == 200:
        assert ("Check in" in response.content.decode()) == (actor == "rep_a")
