"""The rewards part of the API tests' world: tiers and awards of rep A (a pending bonus, a flagged badge) and one of
rep B, so every award endpoint has an object to act on and a foreign one to miss."""

from decimal import Decimal
from types import SimpleNamespace

from django.utils import timezone

from rewards import services
from rewards.models import Award, RewardTier


def rewards_world(*, admin, a, b) -> SimpleNamespace:
    badge = services.tier_create(created_by=admin, name="Commit", threshold_percent=Decimal(80))
    bonus = services.tier_create(
        created_by=admin,
        name="Stretch",
        threshold_percent=Decimal(120),
        reward_kind=RewardTier.RewardKind.BONUS,
        amount=Decimal(500),
        needs_approval=True,
    )
    spare = services.tier_create(created_by=admin, name="Streak 5", applies_to="streak", streak_days=5)

    def award(side, tier, **fields):
        return Award.objects.create(user=side.rep, tier=tier, goal=side.rep_goal, attainment=Decimal(125),
                                    threshold=tier.threshold_percent, **fields)  # fmt: skip

    pending = award(a, bonus, amount=Decimal(500), currency="USD", status=Award.Status.PENDING)
    flagged = award(a, badge, status=Award.Status.FLAGGED, status_before_flag=Award.Status.GRANTED,
                    flagged_at=timezone.now(), flag_attainment=Decimal(70))  # fmt: skip
    foreign = award(b, badge)
    return SimpleNamespace(badge=badge, bonus=bonus, spare=spare, pending=pending, flagged=flagged, foreign=foreign)
