"""Fixtures of the feedback tests: rep_a's goal broken into weekly micro goals, on a frozen Wednesday."""

import datetime
from decimal import Decimal

import pytest
import time_machine

from goals import services as goal_services
from tests.factories import KpiFactory, ProgressEntryFactory

WEDNESDAY = datetime.datetime(2026, 3, 11, 10, 0, tzinfo=datetime.UTC)  # week Mon 9 – Sun 15 March 2026


@pytest.fixture
def wednesday():
    with time_machine.travel(WEDNESDAY, tick=False):
        yield datetime.date(2026, 3, 11)


@pytest.fixture
def deals(db):
    return KpiFactory(name="Deals won")


@pytest.fixture
def rep_goal(personas, deals, wednesday):
    """rep_a: 100 deals from Mon 2 to Fri 27 March, split into four weekly micro goals of 25 (set on 2 March),
    and 25 deals logged in the first week."""
    goal = goal_services.goal_create(
        title="March deals",
        kpi=deals,
        target_value=Decimal(100),
        owner_user=personas.rep_a,
        created_by=personas.manager_a,
        start_date=datetime.date(2026, 3, 2),
        due_date=datetime.date(2026, 3, 27),
    )
    goal_services.micro_goals_generate(
        goal=goal, cadence="weekly", created_by=personas.manager_a, today=datetime.date(2026, 3, 2)
    )
    # Exactly on plan in the first week (25 of the 25 planned), so every re-plan keeps the micro goals adding up.
    for day in range(2, 7):
        ProgressEntryFactory(user=personas.rep_a, kpi=deals, date=datetime.date(2026, 3, day), value=Decimal(5))
    goal_services.progress_recompute(goal_ids=[goal.id], micro_goal_ids=None)
    goal.refresh_from_db()
    return goal


@pytest.fixture
def team_goal(personas, deals, wednesday):
    """Team A's goal, set by an admin (manager_a manages the team)."""
    return goal_services.goal_create(
        title="Team A deals",
        kpi=deals,
        target_value=Decimal(400),
        owner_team=personas.team_a,
        created_by=personas.admin,
        start_date=datetime.date(2026, 3, 2),
        due_date=datetime.date(2026, 3, 27),
    )


@pytest.fixture
def rep_b_goal(personas, deals, wednesday):
    return goal_services.goal_create(
        title="Team B deals of Rita",
        kpi=deals,
        target_value=Decimal(50),
        owner_user=personas.rep_b,
        created_by=personas.manager_b,
        start_date=datetime.date(2026, 3, 2),
        due_date=datetime.date(2026, 3, 27),
    )
