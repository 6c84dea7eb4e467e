"""The demo's coaching data: what `make run` shows, consistent with the rules, and a second run adds nothing."""

import datetime
from collections import Counter
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Sum

from feedback.models import ActionItem, AdjustmentRequest, CheckIn, Feedback
from goals.models import GoalRevision, MicroGoal, ProgressEntry
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def _counts():
    return (
        CheckIn.objects.count(),
        Feedback.objects.count(),
        ActionItem.objects.count(),
        sorted(AdjustmentRequest.objects.values_list("status", flat=True)),
    )


def test_demo_has_trends_feedback_kudos_action_items_and_requests_in_every_state(time_machine):
    time_machine.move_to(datetime.datetime(2026, 5, 13, 12, tzinfo=datetime.UTC), tick=False)  # a Wednesday, mid Q2
    call_command("seed_demo")
    first = _counts()

    # Several weeks of check-ins per goal, one trend falling to an alert for the manager.
    weeks = Counter(CheckIn.objects.values_list("goal_id", flat=True))
    assert len(weeks) == 12 and min(weeks.values()) >= 5
    assert Notification.objects.filter(key__startswith="checkin-alert:").count() == 4
    assert Feedback.objects.filter(kind="praise", visibility="team").count() >= 8
    assert Feedback.objects.filter(kind="coaching").exists()
    assert ActionItem.objects.filter(done_at__isnull=True, due_date__lt=datetime.date(2026, 5, 13)).count() == 4
    assert first[3] == ["approved", "pending", "rejected"]

    # The approved request changed the goal through goal_update and re-planned it: what was achieved before the
    # re-plan plus the micro goals from then on add up to the new target exactly.
    approved = AdjustmentRequest.objects.get(status="approved")
    goal = approved.goal
    assert approved.revision.kind == GoalRevision.Kind.ADJUSTED and goal.target_value == approved.proposed_target
    cutoff = datetime.date(2026, 5, 11)  # the Monday of the week re-planned
    achieved = ProgressEntry.objects.filter(
        user=goal.owner_user, kpi=goal.kpi, date__gte=goal.start_date, date__lt=cutoff, voided_at__isnull=True
    ).aggregate(total=Sum("value"))["total"]
    ahead = goal.micro_goals.filter(status=MicroGoal.Status.ACTIVE, start_date__gte=cutoff)
    assert Decimal(str(achieved)) + sum(m.target_value for m in ahead) == goal.target_value

    call_command("seed_demo")
    assert _counts() == first
