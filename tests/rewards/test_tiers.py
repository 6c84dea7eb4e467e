"""Tier rules in the services: only admins, each mistake with a message, the database as the last word on names."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from rewards import services
from rewards.models import RewardTier

from .conftest import D, make_tier

pytestmark = pytest.mark.django_db


def test_only_admins_configure_tiers(manager_a, rep_a, admin_user):
    for user in (manager_a, rep_a):
        with pytest.raises(PermissionDenied):
            make_tier(user, "Target", D(100))
    tier = make_tier(admin_user, "Target", D(100))
    with pytest.raises(PermissionDenied):
        services.tier_deactivate(tier=tier, deactivated_by=manager_a)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"applies_to": "streak", "streak_days": 1}, "streak_days", "at least 2 consecutive working days"),
        ({"threshold_percent": D(0)}, "threshold_percent", "must be a positive percentage"),
        ({"threshold_percent": D(5000)}, "threshold_percent", "at or below 1,000 %"),
        ({"threshold_percent": D(100), "reward_kind": "bonus"}, "amount", "A bonus needs a positive amount"),
        ({"threshold_percent": D(100), "name": "  "}, "name", "Give the tier a name"),
    ],
)
def test_bad_tiers_are_refused_with_what_to_fix(admin_user, fields, field, message):
    with pytest.raises(ValidationError) as error:
        services.tier_create(created_by=admin_user, **{"name": "Tier", **fields})
    assert message in " ".join(error.value.message_dict[field])
    assert not RewardTier.objects.exists()


def test_only_a_bonus_needs_approval_and_streaks_are_personal(admin_user):
    badge = make_tier(admin_user, "Badge", D(100), needs_approval=True)
    streak = make_tier(admin_user, "Streak", applies_to="streak", streak_days=5, owner_kind="team")
    assert badge.needs_approval is False
    assert (streak.owner_kind, streak.threshold_percent) == ("personal", None)


def test_the_database_refuses_a_second_name_differing_only_in_case(admin_user):
    make_tier(admin_user, "Commit", D(80))
    twin = RewardTier(name="COMMIT", threshold_percent=D(90))
    with pytest.raises(ValidationError, match="already exists"):
        services._save_tier(twin)  # as if the name check had raced with another admin's save
