"""Demo rewards: the tiers (Commit 80 / Target 100 / Stretch 120 on hard goals, Stretch a bonus a manager approves;
a 5-day streak badge; points for a finished micro goal), last month's calls sprint for two of manager1's reps (one
bonus waiting for manager1's approval, one approved and ready to pay), then one grant run over everything: the
micro goals already finished earn points, every rep's streak earns its badge. Called by `manage.py seed_demo`
after goals.demo.seed_goals.

Idempotent: tiers are found by name, sprint goals by owner, KPI and dates; granting is exactly-once anyway.
"""

import datetime
from decimal import ROUND_FLOOR, Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from goals.models import Goal, Kpi, ProgressEntry
from goals.services import goal_create, goals_close_due
from rewards import services
from rewards.models import Award, RewardTier
from teams.models import User

Kind, AppliesTo = RewardTier.RewardKind, RewardTier.AppliesTo
TIERS = [
    {"name": "Commit", "threshold_percent": Decimal(80), "description": "80 % of a hard goal's target."},
    {"name": "Target", "threshold_percent": Decimal(100), "reward_kind": Kind.POINTS, "points": 100,
     "description": "A hard goal's target reached."},
    {"name": "Stretch", "threshold_percent": Decimal(120), "reward_kind": Kind.BONUS, "amount": Decimal(500),
     "needs_approval": True, "description": "120 % of target: a bonus, approved by the rep's manager."},
    {"name": "5-day streak", "applies_to": AppliesTo.STREAK, "streak_days": 5,
     "description": "Progress logged 5 working days in a row."},
    {"name": "Micro goal done", "applies_to": AppliesTo.MICRO_GOAL, "threshold_percent": Decimal(100),
     "reward_kind": Kind.POINTS, "points": 10, "description": "A micro goal's target reached."},
]  # fmt: skip
# The sprint is set so the rep's real calls of last month come to about 125 % of it.
SPRINT_STRETCH = Decimal("1.25")
SPRINT_RATIONALE = "A one-month push before the quarter's last stretch."


def sprint_goals():
    """The goals this module adds to the goals demo (its tests of the quarter's goals leave them out)."""
    return Goal.objects.filter(rationale=SPRINT_RATIONALE, owner_user__isnull=False)


def seed_rewards(*, org, progress=lambda it, **kw: it) -> None:
    admin = User.objects.get(username="admin")
    with transaction.atomic():
        for spec in TIERS:
            if not RewardTier.objects.filter(name__iexact=spec["name"]).exists():
                services.tier_create(created_by=admin, **spec)
        manager = org.managers[0]
        sprints = [_sprint(rep, manager) for rep in org.reps[:2]]
    goals_close_due(today=timezone.localdate())  # the sprints ended last month: recomputed and closed
    services.awards_grant()
    # The second rep's bonus was approved already: the admin's payouts page has something to export.
    second = sprints[1]
    if second is not None:
        for award in Award.objects.filter(goal=second, status=Award.Status.PENDING):
            services.award_approve(award=award, decided_by=manager, reason="Great month: well earned.")


def _sprint(rep, manager) -> Goal | None:
    """Last month's calls sprint for the rep, closed, with a target the rep beat by about 25 %."""
    calls = Kpi.objects.get(name="Calls")  # no quarterly goal of the goals demo is on calls
    first_of_this_month = timezone.localdate().replace(day=1)
    due = first_of_this_month - datetime.timedelta(days=1)
    start = due.replace(day=1)
    existing = Goal.objects.filter(owner_user=rep, kpi=calls, start_date=start, due_date=due).first()
    if existing is not None:
        return existing
    won = ProgressEntry.objects.filter(
        user=rep, kpi=calls, voided_at__isnull=True, date__gte=start, date__lte=due
    ).aggregate(total=Sum("value"))["total"]
    if not won or won < 2:
        return None
    target = max(Decimal(1), (won / SPRINT_STRETCH).quantize(Decimal(1), rounding=ROUND_FLOOR))
    return goal_create(
        title=f"{start:%B} calls sprint — {rep.get_full_name()}",
        description=f"Make {target} calls in {start:%B %Y}.",
        kpi=calls,
        target_value=target,
        start_date=start,
        due_date=due,
        owner_user=rep,
        created_by=manager,
        rationale=SPRINT_RATIONALE,
        today=start,
    )
