import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from teams import services
from teams.models import Holiday, Membership, Team
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def an_admin():
    return UserFactory(is_staff=True)


def test_team_create_builds_hierarchy_with_slug_from_name():
    org = services.team_create(name="Acme Sales")
    team = services.team_create(name="London Sales", parent=org)
    assert (org.slug, team.slug, team.parent) == ("acme-sales", "london-sales", org)


def test_team_create_rejects_duplicate_slug_and_stores_nothing():
    services.team_create(name="London")
    with pytest.raises(ValidationError, match="already exists"):
        services.team_create(name="London")
    assert Team.objects.count() == 1


def test_team_create_rejects_bad_weekdays_with_a_message():
    with pytest.raises(ValidationError, match="Monday"):
        services.team_create(name="Odd", working_weekdays="1289")


def test_team_update_refuses_a_cycle():
    org = services.team_create(name="Org")
    team = services.team_create(name="Team", parent=org)
    with pytest.raises(ValidationError, match="under itself"):
        services.team_update(team=org, name="Org", parent=team, working_weekdays="12345")


def test_holiday_add_refuses_duplicate_date(team_a):
    services.holiday_add(team=team_a, date=datetime.date(2026, 12, 25), name="Christmas")
    with pytest.raises(ValidationError, match="already a holiday"):
        services.holiday_add(team=team_a, date=datetime.date(2026, 12, 25))
    assert Holiday.objects.count() == 1


def test_holiday_add_refuses_a_date_a_team_above_already_has(team_a):
    org = TeamFactory(name="Acme")
    Team.objects.filter(id=team_a.id).update(parent=org)
    services.holiday_add(team=org, date=datetime.date(2026, 12, 25), name="Christmas")
    with pytest.raises(ValidationError, match="Acme has it, and a team's holidays apply"):
        services.holiday_add(team=team_a, date=datetime.date(2026, 12, 25), name="Christmas again")
    assert Holiday.objects.count() == 1
    services.holiday_add(team=team_a, date=datetime.date(2026, 12, 28), name="Team day")  # its own date: fine


def test_member_add_and_remove_keeps_history(team_a):
    user = UserFactory()
    membership = services.member_add(added_by=an_admin(), user=user, team=team_a, capacity=Decimal("0.5"),
                                     active_from=datetime.date(2026, 1, 1))  # fmt: skip
    services.member_remove(removed_by=an_admin(), membership=membership, active_to=datetime.date(2026, 6, 30))
    membership.refresh_from_db()
    assert membership.active_to == datetime.date(2026, 6, 30)
    assert Membership.objects.filter(user=user).count() == 1


def test_user_is_rep_of_at_most_one_team(rep_a, team_b):
    with pytest.raises(ValidationError, match="already a rep of Team A"):
        services.member_add(added_by=an_admin(), user=rep_a, team=team_b)
    assert not Membership.objects.filter(user=rep_a, team=team_b).exists()


def test_rep_can_move_team_after_leaving(rep_a, team_a, team_b):
    services.member_remove(removed_by=an_admin(), membership=Membership.objects.get(user=rep_a, team=team_a),
                           active_to=datetime.date(2026, 3, 31))  # fmt: skip
    moved = services.member_add(added_by=an_admin(), user=rep_a, team=team_b, active_from=datetime.date(2026, 4, 1))
    assert moved.team == team_b


def test_manager_may_also_be_a_member_elsewhere(manager_a, team_b):
    services.member_add(added_by=an_admin(), user=manager_a, team=team_b, role=Membership.Role.MANAGER)
    assert Membership.objects.filter(user=manager_a).count() == 2


@pytest.mark.parametrize("capacity", [Decimal("0"), Decimal("1.01"), Decimal("-0.5")])
def test_member_add_rejects_capacity_outside_0_to_1(team_a, capacity):
    with pytest.raises(ValidationError, match="capacity"):
        services.member_add(added_by=an_admin(), user=UserFactory(), team=team_a, capacity=capacity)
    assert Membership.objects.count() == 0


def test_member_remove_twice_is_refused(rep_a, team_a):
    membership = Membership.objects.get(user=rep_a)
    services.member_remove(removed_by=an_admin(), membership=membership)
    with pytest.raises(ValidationError, match="already left"):
        services.member_remove(removed_by=an_admin(), membership=membership)


def test_member_remove_before_start_is_refused(rep_a):
    membership = Membership.objects.get(user=rep_a)
    with pytest.raises(ValidationError, match="before the membership started"):
        services.member_remove(removed_by=an_admin(), membership=membership, active_to=datetime.date(2019, 1, 1))


def test_user_timezone_must_be_iana():
    user = UserFactory.build(timezone="Mars/Olympus")
    with pytest.raises(ValidationError, match="IANA"):
        user.full_clean()
