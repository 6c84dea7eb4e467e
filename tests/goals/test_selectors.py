"""Who sees which goals, micro goals and entries; who manages which goals; each at a constant query count."""

import pytest
from django.http import Http404

from goals import selectors
from goals.models import Goal
from tests.factories import (
    GoalFactory,
    KpiFactory,
    MembershipFactory,
    MicroGoalFactory,
    ProgressEntryFactory,
    TeamFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def goals(personas):
    p = personas
    return {
        "team_a": GoalFactory(owner_team=p.team_a, title="Team A revenue"),
        "rep_a": GoalFactory(owner_user=p.rep_a, title="Ray's deals"),
        "team_b": GoalFactory(owner_team=p.team_b, title="Team B revenue"),
        "rep_b": GoalFactory(owner_user=p.rep_b, title="Rita's deals"),
    }


def _titles(queryset):
    return sorted(queryset.values_list("title", flat=True))


def test_rep_sees_own_goals_and_own_team_goals_only(personas, goals):
    assert _titles(selectors.goal_list_for_user(user=personas.rep_a)) == ["Ray's deals", "Team A revenue"]


def test_rep_does_not_see_a_teammates_personal_goal(personas, goals):
    teammate = MembershipFactory(team=personas.team_a).user
    GoalFactory(owner_user=teammate, title="Teammate's goal")
    assert "Teammate's goal" not in _titles(selectors.goal_list_for_user(user=personas.rep_a))


def test_rep_cannot_see_other_team_goal(personas, goals):
    for goal_id in (goals["team_b"].id, goals["rep_b"].id, 999_999):
        with pytest.raises(Http404):
            selectors.goal_get_for_user(user=personas.rep_a, id=goal_id)


def test_manager_cannot_see_other_team_goal(personas, goals):
    for goal_id in (goals["team_b"].id, goals["rep_b"].id):
        with pytest.raises(Http404):
            selectors.goal_get_for_user(user=personas.manager_a, id=goal_id)


def test_manager_sees_own_teams_sub_teams_and_their_members_goals(personas, goals):
    sub = TeamFactory(parent=personas.team_a, name="Team A North")
    sub_rep = MembershipFactory(team=sub).user
    GoalFactory(owner_team=sub, title="North revenue")
    GoalFactory(owner_user=sub_rep, title="North rep's deals")
    assert _titles(selectors.goal_list_for_user(user=personas.manager_a)) == [
        "North rep's deals",
        "North revenue",
        "Ray's deals",
        "Team A revenue",
    ]
    assert selectors.goal_get_for_user(user=personas.manager_a, id=goals["rep_a"].id) == goals["rep_a"]


def test_admin_sees_all_goals(personas, goals):
    assert selectors.goal_list_for_user(user=personas.admin).count() == Goal.objects.count() == 4


def test_goal_manageable_by(personas, goals):
    p = personas
    assert selectors.goal_manageable_by(user=p.manager_a, goal=goals["team_a"])
    assert selectors.goal_manageable_by(user=p.manager_a, goal=goals["rep_a"])
    assert not selectors.goal_manageable_by(user=p.manager_a, goal=goals["team_b"])
    assert not selectors.goal_manageable_by(user=p.manager_a, goal=goals["rep_b"])
    assert not selectors.goal_manageable_by(user=p.rep_a, goal=goals["rep_a"])
    assert not selectors.goal_manageable_by(user=p.manager_a, goal=GoalFactory(owner_user=p.manager_a))
    assert all(selectors.goal_manageable_by(user=p.admin, goal=goal) for goal in goals.values())


def test_rep_sees_only_own_micro_goals_and_manager_those_of_the_team(personas, goals):
    p = personas
    mine = MicroGoalFactory(goal=goals["team_a"], assignee=p.rep_a)
    MicroGoalFactory(goal=goals["team_b"], assignee=p.rep_b)
    assert list(selectors.micro_goal_list_for_user(user=p.rep_a)) == [mine]
    assert list(selectors.micro_goal_list_for_user(user=p.manager_a)) == [mine]
    assert selectors.micro_goal_list_for_user(user=p.admin).count() == 2


def test_entries_of_other_teams_are_404(personas):
    p = personas
    own = ProgressEntryFactory(user=p.rep_a)
    other = ProgressEntryFactory(user=p.rep_b)
    assert list(selectors.entry_list_for_user(user=p.rep_a)) == [own]
    assert selectors.entry_get_for_user(user=p.manager_a, id=own.id) == own
    for user in (p.rep_a, p.manager_a):
        for entry_id in (other.id, 999_999):
            with pytest.raises(Http404):
                selectors.entry_get_for_user(user=user, id=entry_id)
    assert selectors.entry_get_for_user(user=p.admin, id=other.id) == other


def test_kpi_list_hides_retired_kpis_unless_asked(db):
    KpiFactory(name="Calls")
    KpiFactory(name="Faxes", is_active=False)
    assert [k.name for k in selectors.kpi_list()] == ["Calls"]
    assert [k.name for k in selectors.kpi_list(active_only=False)] == ["Calls", "Faxes"]


@pytest.mark.parametrize("extra", [0, 20])
def test_goal_list_query_count_is_constant(personas, goals, django_assert_num_queries, extra):
    for _ in range(extra):
        GoalFactory(owner_team=personas.team_a)
        GoalFactory(owner_user=personas.rep_a)
    # Manager and rep: team tree + own manager memberships (managed_team_ids), then the list (joins included).
    for user in (personas.manager_a, personas.rep_a):
        with django_assert_num_queries(3):
            [(g.kpi.name, g.owner) for g in selectors.goal_list_for_user(user=user)]
    # Admin: the list only.
    with django_assert_num_queries(1):
        [(g.kpi.name, g.owner) for g in selectors.goal_list_for_user(user=personas.admin)]


@pytest.mark.parametrize("extra", [0, 20])
def test_micro_goal_and_entry_lists_query_count_is_constant(personas, goals, django_assert_num_queries, extra):
    for _ in range(extra):
        MicroGoalFactory(goal=goals["team_a"], assignee=personas.rep_a)
        ProgressEntryFactory(user=personas.rep_a)
    # user_ids_visible_to (managed: memberships + team tree; their members), then the list with its joins.
    with django_assert_num_queries(4):
        [
            (m.goal.title, m.kpi.name, m.assignee.username)
            for m in selectors.micro_goal_list_for_user(user=personas.manager_a)
        ]
    with django_assert_num_queries(4):
        [
            (e.user.username, e.kpi.name, e.created_by.username)
            for e in selectors.entry_list_for_user(user=personas.manager_a)
        ]
