"""An id the user may not see is a 400 on its field, "does not exist" alike for a missing object and another team's,
through ONE field class (api.base.VisiblePrimaryKeyRelatedField) in the goals, feedback and rewards resources; each
resource's wording is kept."""

from types import SimpleNamespace

import pytest
from rest_framework import serializers

from api.base import VisiblePrimaryKeyRelatedField
from goals.models import Goal

pytestmark = pytest.mark.django_db

MISSING = 10**6


def _errors(response):
    assert response.status_code == 400, response.content
    return {error["attr"]: error["detail"] for error in response.json()["errors"]}


def test_the_field_offers_only_what_visible_gives_the_requesting_user(world):
    mine = VisiblePrimaryKeyRelatedField.of(lambda user: Goal.objects.filter(owner_user=user))

    class Pick(serializers.Serializer):
        goal = mine()
        optional = VisiblePrimaryKeyRelatedField(
            visible=lambda user: Goal.objects.filter(owner_user=user), required=False, allow_null=True
        )

    def pick(user, **data):
        serializer = Pick(data=data, context={"request": SimpleNamespace(user=user)})
        return serializer.validated_data if serializer.is_valid() else serializer.errors

    own, foreign = world.a.rep_goal, world.b.rep_goal
    assert pick(world.rep_a, goal=own.id, optional=None) == {"goal": own, "optional": None}
    assert pick(world.rep_a, goal=foreign.id, optional=foreign.id) == {
        "goal": [f'Invalid pk "{foreign.id}" - object does not exist.'],
        "optional": [f'Invalid pk "{foreign.id}" - object does not exist.'],
    }
    assert pick(world.rep_a, goal=MISSING) == {"goal": [f'Invalid pk "{MISSING}" - object does not exist.']}
    assert pick(world.rep_b, goal=foreign.id) == {"goal": foreign}  # the choices follow the request's user
    with pytest.raises(TypeError, match="needs visible="):
        VisiblePrimaryKeyRelatedField(required=False)


def test_feedback_refuses_another_teams_goal_check_in_and_person_as_unknown(world, client_for):
    manager = client_for("manager_a")
    body = {"goal": world.a.rep_goal.id, "title": "Shadow Ben", "due_date": str(world.today)}
    for field, foreign in [("goal", world.b.rep_goal.id), ("owner", world.b.rep.id), ("checkin", world.b.checkin.id)]:
        for value in (foreign, MISSING):  # another team's and a missing one: the same answer
            errors = _errors(manager.post("/api/v1/action-items/", {**body, field: value}, format="json"))
            assert errors == {field: f'Invalid pk "{value}" - object does not exist.'}
    errors = _errors(
        manager.post("/api/v1/feedback/", {"recipient": world.b.rep.id, "kind": "praise", "body": "Hi"}, format="json")
    )
    assert errors["recipient"] == f'Invalid pk "{world.b.rep.id}" - object does not exist.'


def test_the_leaderboard_refuses_a_team_or_goal_it_may_not_show_with_its_own_words(world, client_for):
    manager = client_for("manager_a")

    def errors(**params):
        return _errors(manager.get("/api/v1/leaderboards/", params))

    unknown_team = "No board of this team for you (unknown team)."
    assert errors(team=world.team_b.id) == {"team": unknown_team}
    assert errors(team=MISSING) == {"team": unknown_team}
    assert errors(goal=world.b.team_goal.id) == {"goal": "Unknown team goal."}  # another team's
    assert errors(goal=world.a.rep_goal.id) == {"goal": "Unknown team goal."}  # visible, but not a team's
    assert errors(goal=MISSING) == {"goal": "Unknown team goal."}
    assert errors(team="abc") == {"team": "A valid integer is required."}
    assert errors(goal="0") == {"goal": "Ensure this value is greater than or equal to 1."}
    assert errors(kpi=MISSING) == {"kpi": "Unknown or archived KPI."}
    board = manager.get("/api/v1/leaderboards/", {"team": str(world.team_a.id), "goal": world.a.team_goal.id})
    assert board.status_code == 200 and board.json()["team"]["id"] == world.team_a.id
