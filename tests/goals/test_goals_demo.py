"""The demo goals: believable, varied, consistent with the rules, and idempotent."""

import datetime
from collections import Counter

import pytest
from django.core.management import call_command

from goals.models import Goal, GoalRevision, Kpi, MicroGoal, ProgressEntry
from rewards.demo import sprint_goals

pytestmark = pytest.mark.django_db


def _snapshot():
    return (
        sorted(Kpi.objects.values_list("name", "unit", "decimal_places", "aggregation")),
        sorted(Goal.objects.values_list("title", "kpi__name", "target_value", "owner_user__username", "owner_team__slug",
                                        "status", "achievability", "current_value", "health")),
        sorted(MicroGoal.objects.values_list("goal__title", "assignee__username", "start_date", "target_value", "status",
                                             "current_value")),
        sorted(ProgressEntry.objects.values_list("external_id", "value")),
        GoalRevision.objects.count(),
    )  # fmt: skip


def test_seed_demo_creates_varied_goals_with_history_and_a_second_run_changes_nothing(time_machine):
    time_machine.move_to(datetime.datetime(2026, 5, 13, 12, tzinfo=datetime.UTC), tick=False)  # mid Q2
    call_command("seed_demo")
    first = _snapshot()
    quarter = Goal.objects.exclude(id__in=sprint_goals())  # the rewards demo's sprints (last month) aside

    assert set(Kpi.objects.values_list("name", flat=True)) == {"Revenue", "Deals won", "Demos booked", "Calls"}
    assert quarter.filter(owner_team__isnull=False).count() == 4
    assert quarter.filter(owner_user__isnull=False).count() == 24 * 2
    assert set(quarter.values_list("start_date", "due_date")) == {
        (datetime.date(2026, 4, 1), datetime.date(2026, 6, 30))
    }
    # Varied performers and verdicts.
    assert len(Counter(quarter.values_list("achievability", flat=True))) >= 2
    healths = Counter(quarter.values_list("health", flat=True))
    assert healths["off_track"] + healths["at_risk"] > 0 and healths["on_track"] + healths["achieved"] > 0
    # Every goal is broken down weekly, the micro targets adding up exactly to the goal's target. (A goal the demo
    # re-planned after an approved adjustment adds up to what was achieved before the re-plan plus what is planned
    # from then on: tests/feedback/test_demo.py checks that one.)
    planned = Counter()
    for goal_id, target in MicroGoal.objects.values_list("goal_id", "target_value"):  # summed exactly, in Decimal
        planned[goal_id] += target
    replanned = set(GoalRevision.objects.filter(kind=GoalRevision.Kind.REPLANNED).values_list("goal_id", flat=True))
    assert len(replanned) <= 1
    assert {k: v for k, v in planned.items() if k not in replanned} == {
        goal.id: goal.target_value - goal.baseline_value for goal in quarter.exclude(id__in=replanned)
    }
    # Weeks already over are closed; the rest are active.
    assert set(MicroGoal.objects.filter(due_date__lt=datetime.date(2026, 5, 13)).values_list("status", flat=True)) <= {
        "achieved",
        "missed",
    }
    assert ProgressEntry.objects.filter(date__lt=datetime.date(2026, 4, 1)).values("user").distinct().count() == 24

    call_command("seed_demo")
    assert _snapshot() == first
