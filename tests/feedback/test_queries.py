"""Pinned query counts: the goal timeline and the 1:1 agenda cost the same for 5 items as for 200."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from feedback.models import ActionItem, AdjustmentRequest, CheckIn, CheckInReply, Feedback
from goals.models import GoalRevision
from tests.factories import GoalFactory

pytestmark = pytest.mark.django_db

# Timeline fragment: session + user (2), goal scope (2: managed teams) and the goal (1), the goal page's revisions
# with who made them (2), requests (1), check-ins with reply counts (1), feedback scope (2) + feedback (1), the
# confidence trend (1), may the viewer plan support (3: goal_manageable_by).
TIMELINE_QUERIES = 16
# Agenda: session + user (2), manager check (2), the rep (4: visible users), manages_user (3), goals (1),
# check-ins (1), requests (1), action items (1), feedback scope (2) + feedback (1), nav (4: roles, unread count).
AGENDA_QUERIES = 22


def _history(goal, rep, manager, n):
    base = datetime.datetime(2026, 1, 1, 9, tzinfo=datetime.UTC)
    GoalRevision.objects.bulk_create(
        GoalRevision(goal=goal, kind="edited", changed_by=manager, reason=f"r{i}", changes={"target_value": ["1", "2"]})
        for i in range(n)
    )
    AdjustmentRequest.objects.bulk_create(
        AdjustmentRequest(
            goal=goal,
            requested_by=rep,
            proposed_target=Decimal(90),
            current_target=goal.target_value,
            current_due_date=goal.due_date,
            reason=f"q{i}",
            status="rejected",
            decided_by=manager,
            decided_at=base,
            response="no",
        )
        for i in range(n)
    )
    checkins = CheckIn.objects.bulk_create(
        CheckIn(
            goal=goal,
            rep=rep,
            week_start=datetime.date(2022, 1, 3) + datetime.timedelta(weeks=i),
            confidence=i % 11,
            snapshot={"attainment": "50.0"},
        )
        for i in range(n)
    )
    CheckInReply.objects.bulk_create(CheckInReply(checkin=c, author=manager, body="ok") for c in checkins)
    Feedback.objects.bulk_create(
        Feedback(author=manager, recipient=rep, goal=goal, kind="coaching", body=f"f{i}") for i in range(n)
    )
    ActionItem.objects.bulk_create(
        ActionItem(goal=goal, title=f"a{i}", owner=rep, due_date=datetime.date(2026, 3, 1), created_by=manager)
        for i in range(n)
    )


@pytest.mark.parametrize("n", [5, 200])
def test_goal_timeline_queries_do_not_grow_with_its_history(
    client, personas, rep_goal, n, django_assert_max_num_queries
):
    _history(rep_goal, personas.rep_a, personas.manager_a, n)
    client.force_login(personas.manager_a)
    with django_assert_max_num_queries(TIMELINE_QUERIES):
        response = client.get(reverse("feedback:goal_timeline", args=[rep_goal.id]))
    assert response.status_code == 200
    assert response.content.decode().count('class="border-start') >= 4 * n


@pytest.mark.parametrize("n", [5, 200])
def test_one_on_one_agenda_queries_do_not_grow_with_goals_checkins_and_items(
    client, personas, deals, wednesday, n, django_assert_max_num_queries
):
    for i in range(n):
        goal = GoalFactory(
            title=f"G{i}",
            kpi=deals,
            owner_user=personas.rep_a,
            created_by=personas.manager_a,
            health="at_risk",
            start_date=datetime.date(2026, 3, 2),
            due_date=datetime.date(2026, 3, 27),
        )
        CheckIn.objects.bulk_create(
            CheckIn(
                goal=goal,
                rep=personas.rep_a,
                week_start=datetime.date(2026, 3, 2) + datetime.timedelta(weeks=w),
                confidence=8 - 4 * w,
                snapshot={"attainment": "10"},
            )
            for w in range(2)
        )
        ActionItem.objects.create(
            goal=goal,
            title=f"a{i}",
            owner=personas.rep_a,
            due_date=datetime.date(2026, 3, 1),
            created_by=personas.manager_a,
        )
        Feedback.objects.create(author=personas.manager_a, recipient=personas.rep_a, goal=goal, body=f"f{i}")
    client.force_login(personas.manager_a)
    with django_assert_max_num_queries(AGENDA_QUERIES):
        response = client.get(reverse("feedback:agenda", args=[personas.rep_a.id]))
    assert response.status_code == 200
    assert response.content.decode().count("confidence falling") == n


def _count_queries(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def _many(personas, deals, n, start):
    """n goals of rep_a, each with a pending request, a check-in, an action item, praise and coaching."""
    from feedback.models import CheckIn

    for i in range(start, start + n):
        goal = GoalFactory(title=f"G{i}", kpi=deals, owner_user=personas.rep_a, created_by=personas.manager_a,
                           start_date=datetime.date(2026, 3, 2), due_date=datetime.date(2026, 3, 27))  # fmt: skip
        AdjustmentRequest.objects.create(goal=goal, requested_by=personas.rep_a, proposed_target=Decimal(90),
                                         current_target=goal.target_value, current_due_date=goal.due_date, reason="r")  # fmt: skip
        CheckIn.objects.create(goal=goal, rep=personas.rep_a, week_start=datetime.date(2026, 3, 9), confidence=5)
        ActionItem.objects.create(goal=goal, title=f"a{i}", owner=personas.rep_a, due_date=datetime.date(2026, 3, 20),
                                  created_by=personas.manager_a)  # fmt: skip
        Feedback.objects.create(author=personas.manager_a, recipient=personas.rep_a, goal=goal, body=f"c{i}")
        Feedback.objects.create(author=personas.rep_b, recipient=personas.rep_a, kind="praise", visibility="team",
                                body=f"p{i}")  # fmt: skip


@pytest.mark.parametrize(
    ("who", "url_name"),
    [
        ("manager_a", "feedback:requests"),
        ("manager_a", "feedback:checkins"),
        ("manager_a", "feedback:action_items"),
        ("manager_a", "feedback:given"),
        ("rep_a", "feedback:received"),
        ("rep_a", "feedback:kudos"),
        ("rep_a", "feedback:checkins"),
        ("rep_a", "feedback:requests"),
        ("manager_a", "feedback:agenda_list"),
    ],
)
def test_list_pages_cost_the_same_for_5_items_as_for_200(client, personas, deals, wednesday, who, url_name):
    client.force_login(getattr(personas, who))
    url = reverse(url_name)
    _many(personas, deals, 5, 0)
    few = _count_queries(client, url)
    _many(personas, deals, 195, 5)
    assert _count_queries(client, url) == few
