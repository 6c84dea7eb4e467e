"""Every list endpoint costs the same number of queries for a team of 5 reps and one of 200 (pinned), as manager A.
Each pin lists what it pays for; token authentication is 2 of them (the token, and its owner's other tokens
knox checks for expiry)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from feedback.models import ActionItem, AdjustmentRequest, CheckIn, CheckInReply, Feedback
from feedback.selectors import week_start_of
from tests.factories import (
    GoalFactory,
    MembershipFactory,
    MicroGoalFactory,
    NotificationFactory,
    ProgressEntryFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PINS = {
    # path: queries (token authentication is 2 of them: the token, and its owner's other tokens for expiry)
    "/api/v1/me/": 3,  # auth, current memberships
    "/api/v1/teams/": 7,  # auth, managed teams (direct, tree), own memberships, count, page
    "/api/v1/teams/{team}/members/": 8,  # auth, team scope (managed: 2, team), team tree, members
    "/api/v1/kpis/": 4,  # auth, count, page
    "/api/v1/goals/": 9,  # auth, managed teams (2), count, page, calendars (rep teams, team tree, holidays)
    "/api/v1/micro-goals/": 7,  # auth, visible users (managed 2, members), count, page
    "/api/v1/progress-entries/": 6,  # auth, visible users (3), page (a cursor: no count)
    "/api/v1/notifications/": 4,  # auth, count, page
    "/api/v1/goals/export/": 9,  # auth, managed teams (2), a chunk, its calendars (3), the end-of-chunks read
    "/api/v1/progress-entries/export/": 6,  # auth, visible users (3), the streamed rows
    # feedback
    "/api/v1/checkins/": 6,  # auth, managed teams (tree, memberships), count, page
    "/api/v1/checkins/{checkin}/replies/": 6,  # auth, managed teams (2), the check-in, its replies
    "/api/v1/feedback/": 6,  # auth, managed teams (2), count, page
    "/api/v1/action-items/": 6,  # auth, managed teams (2), count, page
    "/api/v1/adjustment-requests/": 6,  # auth, managed teams (2), count, page
    # end feedback
}


def _add_reps(team, kpi, manager, count, today):
    start, due = today - datetime.timedelta(days=10), today + datetime.timedelta(days=30)
    for _ in range(count):
        rep = MembershipFactory(user=UserFactory(), team=team).user
        goal = GoalFactory(kpi=kpi, owner_user=rep, start_date=start, due_date=due, created_by=manager)
        MicroGoalFactory(goal=goal, assignee=rep)
        ProgressEntryFactory(user=rep, kpi=kpi, date=today)
        NotificationFactory(user=manager)
        _add_feedback(rep, goal, manager, today)


def _add_feedback(rep, goal, manager, today):
    """A rep's feedback rows: a check-in with a reply, feedback both ways, a support step, a decided request."""
    checkin = CheckIn.objects.create(goal=goal, rep=rep, week_start=week_start_of(today), confidence=5)
    CheckInReply.objects.create(checkin=checkin, author=manager, body="Noted.")
    Feedback.objects.create(author=manager, recipient=rep, body="Keep going.", visibility="managers")
    Feedback.objects.create(author=rep, recipient=manager, kind="praise", body="Thanks!", visibility="team")
    ActionItem.objects.create(goal=goal, title="Call back", owner=rep, due_date=today, created_by=manager)
    AdjustmentRequest.objects.create(
        goal=goal, requested_by=rep, proposed_target=goal.target_value + 1, current_target=goal.target_value,
        current_due_date=goal.due_date, reason="Slipped.", status="rejected", decided_by=manager, decided_at=timezone.now(),
    )  # fmt: skip


def _count(client, path) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200, path
    return len(queries)


def test_list_endpoints_cost_the_same_for_5_and_200_reps(world, client_for):
    client = client_for("manager_a")
    client.get("/api/v1/me/")  # the token's first use records "last used" (a write at most once a minute)
    paths = [p.format(team=world.team_a.id, checkin=world.a.checkin.id) for p in PINS]
    _add_reps(world.team_a, world.kpi, world.manager_a, 4, world.today)
    small = {p: _count(client, p) for p in paths}
    _add_reps(world.team_a, world.kpi, world.manager_a, 195, world.today)
    large = {p: _count(client, p) for p in paths}
    assert large == small
    assert large == dict(zip(paths, PINS.values(), strict=True))
