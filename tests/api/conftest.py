"""API fixtures: a client per persona (session or token), and a small world with one of everything per team."""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from rest_framework.test import APIClient

from api.services import api_token_create
from feedback.models import ActionItem, AdjustmentRequest, CheckIn, Feedback
from feedback.selectors import week_start_of
from teams.models import Membership
from tests.api.rewards_world import rewards_world
from tests.factories import (
    GoalFactory,
    KpiFactory,
    MicroGoalFactory,
    NotificationFactory,
    ProgressEntryFactory,
    UserFactory,
)

ROLES = ["anonymous", "rep_a", "rep_b", "manager_a", "manager_b", "admin"]


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def client_for(personas):
    """client_for("manager_a") → an APIClient authenticated with that persona's personal token."""

    def make(role: str) -> APIClient:
        client = APIClient()
        if role != "anonymous":
            _, token = api_token_create(user=getattr(personas, role), name=f"{role} tests")
            client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return client

    return make


@pytest.fixture
def world(personas):
    """Per team: a team goal, a personal goal of the rep with a micro goal, two entries, a notification each, the
    rep's membership; and a newcomer who is in no team yet (whom a manager may add)."""
    kpi = KpiFactory(name="Deals won")
    today = datetime.date.today()
    start, due = today - datetime.timedelta(days=10), today + datetime.timedelta(days=40)
    made = {}
    for side in ("a", "b"):
        team, rep, manager = (
            getattr(personas, f"{n}_{side}") if n != "team" else getattr(personas, f"team_{side}")
            for n in ("team", "rep", "manager")
        )
        team_goal = GoalFactory(kpi=kpi, owner_team=team, start_date=start, due_date=due, created_by=manager)
        rep_goal = GoalFactory(
            kpi=kpi, owner_user=rep, start_date=start, due_date=due, created_by=manager, target_value=Decimal("50")
        )
        micro = MicroGoalFactory(goal=rep_goal, assignee=rep, start_date=start, due_date=due)
        entries = [ProgressEntryFactory(user=rep, kpi=kpi, date=today - datetime.timedelta(days=d)) for d in (1, 2)]
        notification = NotificationFactory(user=rep)
        made[side] = SimpleNamespace(
            team=team,
            rep=rep,
            manager=manager,
            team_goal=team_goal,
            rep_goal=rep_goal,
            micro=micro,
            entry=entries[0],
            notification=notification,
            membership=Membership.objects.get(user=rep, team=team),
        )
        made[side].__dict__.update(_feedback_objects(made[side], today))
    newcomer = UserFactory(username="nora_newcomer")
    rewards = rewards_world(admin=personas.admin, a=made["a"], b=made["b"])
    return SimpleNamespace(
        kpi=kpi, today=today, a=made["a"], b=made["b"], newcomer=newcomer, rewards=rewards, **vars(personas)
    )


def _feedback_objects(side, today) -> dict:
    """The team's feedback rows, as plain rows (no notifications): last week's check-in on the rep's goal, the
    manager's coaching note to the rep, a support step the rep owns and the rep's pending adjustment request."""
    goal = side.rep_goal
    return {
        "checkin": CheckIn.objects.create(
            goal=goal, rep=side.rep, week_start=week_start_of(today) - datetime.timedelta(days=7), confidence=6
        ),
        "feedback": Feedback.objects.create(author=side.manager, recipient=side.rep, body="Good calls this week."),
        "action_item": ActionItem.objects.create(
            goal=goal, title="Shadow two demos", owner=side.rep, due_date=today, created_by=side.manager
        ),
        "adjustment": AdjustmentRequest.objects.create(
            goal=goal,
            requested_by=side.rep,
            proposed_target=goal.target_value + 10,
            current_target=goal.target_value,
            current_due_date=goal.due_date,
            reason="A large deal slipped to next quarter.",
        ),
    }
