import datetime

import pytest
from django.http import Http404

from teams import selectors, services
from teams.calendar import WorkingCalendar
from teams.models import Membership
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_manager_manages_team_and_sub_teams(manager_a, team_a):
    sub = TeamFactory(parent=team_a)
    subsub = TeamFactory(parent=sub)
    assert selectors.managed_team_ids(user=manager_a) == {team_a.id, sub.id, subsub.id}


def test_rep_manages_nothing(rep_a):
    assert selectors.managed_team_ids(user=rep_a) == set()


def test_admin_manages_every_team(personas):
    assert selectors.managed_team_ids(user=personas.admin) == {personas.team_a.id, personas.team_b.id}


def test_manager_cannot_get_other_team(personas):
    with pytest.raises(Http404):
        selectors.team_get_for_user(user=personas.manager_a, id=personas.team_b.id)


def test_missing_and_forbidden_team_are_both_404(personas):
    for team_id in (personas.team_b.id, 999_999):
        with pytest.raises(Http404):
            selectors.team_get_for_user(user=personas.rep_a, id=team_id)


def test_rep_sees_own_team(personas):
    assert list(selectors.team_list_for_user(user=personas.rep_a)) == [personas.team_a]


def test_team_members_include_sub_teams_and_skip_former_members(team_a, rep_a):
    sub = TeamFactory(parent=team_a)
    sub_rep = MembershipFactory(team=sub).user
    gone = MembershipFactory(team=team_a)
    services.member_remove(removed_by=UserFactory(is_staff=True), membership=gone, active_to=datetime.date(2021, 1, 1))
    users = {m.user for m in selectors.team_members(team=team_a, role=Membership.Role.REP)}
    assert users == {rep_a, sub_rep}


def test_role_in_team(personas):
    sub = TeamFactory(parent=personas.team_a)
    assert selectors.role_in_team(user=personas.manager_a, team=sub) == "manager"
    assert selectors.role_in_team(user=personas.rep_a, team=personas.team_a) == "rep"
    assert selectors.role_in_team(user=personas.rep_a, team=personas.team_b) is None
    assert selectors.role_in_team(user=personas.admin, team=personas.team_b) == "admin"


def test_user_ids_visible_to_manager_are_own_team_only(personas):
    visible = selectors.user_ids_visible_to(user=personas.manager_a)
    assert visible == {personas.manager_a.id, personas.rep_a.id}


def test_calendar_inherits_holidays_from_parent_teams(team_a):
    org = TeamFactory()
    team_a.parent = org
    team_a.save()
    services.holiday_add(team=org, date=datetime.date(2026, 12, 25))
    services.holiday_add(team=team_a, date=datetime.date(2026, 12, 24))
    calendar = selectors.calendar_for_team(team=team_a)
    assert calendar.holidays == {datetime.date(2026, 12, 24), datetime.date(2026, 12, 25)}


def test_calendars_for_many_teams_cost_constant_queries(django_assert_num_queries):
    teams = [TeamFactory() for _ in range(20)]
    # The team tree with each team's weekdays, then the holidays of the teams and the teams above them.
    with django_assert_num_queries(2):
        calendars = selectors.calendars_for_teams(team_ids=[t.id for t in teams])
    assert len(calendars) == 20


def test_working_calendar_counts_weekdays_minus_holidays():
    cal = WorkingCalendar.from_team("12345", {datetime.date(2026, 12, 25)})
    # Mon 21 Dec … Sun 3 Jan 2027: 10 weekdays minus Christmas (a Friday).
    assert cal.count(datetime.date(2026, 12, 21), datetime.date(2027, 1, 3)) == 9
    assert cal.count(datetime.date(2026, 12, 21), datetime.date(2026, 12, 20)) == 0
    assert cal.count(datetime.date(2026, 12, 21), datetime.date(2027, 1, 3)) == len(
        cal.working_dates(datetime.date(2026, 12, 21), datetime.date(2027, 1, 3))
    )
    assert cal.add_working_days(datetime.date(2026, 12, 28), -1) == datetime.date(2026, 12, 24)
