"""Rewards fixtures: the Commit / Target / Stretch tiers, a deals KPI, and helpers to log and recompute."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from goals import services as goal_services
from goals.services import rollups
from rewards import services
from rewards.models import RewardTier
from tests.factories import KpiFactory, ProgressEntryFactory

D = Decimal
TODAY = datetime.date(2026, 3, 13)  # a Friday; goals run Monday 2 to Friday 27 March 2026


def march(day):
    return datetime.date(2026, 3, day)


@pytest.fixture
def deals(db):
    return KpiFactory(name="Deals won")


def make_tier(admin, name, threshold=None, **fields):
    return services.tier_create(created_by=admin, name=name, threshold_percent=threshold, **fields)


@pytest.fixture
def tiers(admin_user):
    """Commit 80 (badge), Target 100 (points), Stretch 120 (a bonus that needs approval), on hard goals."""
    return {
        "commit": make_tier(admin_user, "Commit", D(80)),
        "target": make_tier(admin_user, "Target", D(100), reward_kind=RewardTier.RewardKind.POINTS, points=50),
        "stretch": make_tier(
            admin_user, "Stretch", D(120), reward_kind=RewardTier.RewardKind.BONUS, amount=D(500), needs_approval=True
        ),
    }


def log(user, kpi, day, value, **fields):
    return ProgressEntryFactory(user=user, kpi=kpi, date=day if isinstance(day, datetime.date) else march(day),
                                value=D(value), **fields)  # fmt: skip


def recompute_and_grant(*goals, micro_goals=(), today=TODAY):
    """What the recompute task does: recompute, then the after-recompute hook (awards_grant)."""
    goal_ids, micro_ids = [g.id for g in goals], [m.id for m in micro_goals]
    goal_services.progress_recompute(goal_ids=goal_ids, micro_goal_ids=micro_ids, today=today)
    return services.awards_grant(goal_ids=goal_ids, micro_goal_ids=micro_ids)


def void(entry):
    entry.voided_at, entry.void_reason = timezone.now(), "typo"
    entry.save()
    # A raw ledger write: bring the daily rollup the engine reads in step, as progress_void does.
    rollups.rollup_days_refresh(user_id=entry.user_id, kpi_id=entry.kpi_id, dates=[entry.date])
