"""Leaderboards: each rep ranked by attainment of their own targets, ties broken deterministically, privacy,
"most improved", and one query per board whatever the team size.

The period is the week of Monday 9 March 2026; the previous week starts Monday 2 March.
"""

import datetime
from decimal import Decimal

import pytest

from goals.models import MicroGoal
from rewards import selectors, services
from rewards.models import Award
from teams.models import Membership
from tests.factories import GoalFactory, MembershipFactory, TeamFactory, UserFactory

from .conftest import D, make_tier, march

pytestmark = pytest.mark.django_db

WEEK = (march(9), march(15))


def micro(user, kpi, target, current, start=WEEK[0], goal=None, expected=None):
    """A micro goal with its derived figures; `expected` (the pace) defaults to the target: a finished week."""
    goal = goal or GoalFactory(kpi=kpi, owner_user=user)
    return MicroGoal.objects.create(goal=goal, assignee=user, kpi=kpi, target_value=D(target), current_value=D(current),
                                    expected_value=D(target if expected is None else expected), start_date=start,
                                    due_date=start + datetime.timedelta(days=4))  # fmt: skip


def board(team, viewer, kpi, **kw):
    return selectors.leaderboard_for_team(team=team, start=WEEK[0], end=WEEK[1], viewer=viewer, kpi=kpi, **kw)


@pytest.fixture
def reps(team_a, rep_a, deals):
    """rep_a 8/10 (80 %), a half-time rep 5/5 (100 %), Cleo 8/10 (80 %, a tie with rep_a), a sub-team rep 3/10, and
    Ned with no target this week."""
    part_time = MembershipFactory(team=team_a, capacity=Decimal("0.5"), user=UserFactory(first_name="Pat")).user
    cleo = MembershipFactory(team=team_a, user=UserFactory(first_name="Cleo")).user
    sub_team = TeamFactory(name="Team A juniors", parent=team_a)
    junior = MembershipFactory(team=sub_team, user=UserFactory(first_name="June")).user
    ned = MembershipFactory(team=team_a, user=UserFactory(first_name="Ned")).user
    micro(rep_a, deals, 10, 8)
    micro(part_time, deals, 5, 5)
    micro(cleo, deals, 10, 8)
    micro(junior, deals, 10, 3)
    micro(rep_a, deals, 10, 4, start=march(2))  # last week: 40 %
    micro(part_time, deals, 5, 5, start=march(2))  # last week: 100 %
    micro(junior, deals, 10, 1, start=march(2))  # last week: 10 %
    return {"part_time": part_time, "cleo": cleo, "junior": junior, "ned": ned}


def test_reps_are_ranked_by_attainment_of_their_own_target_so_a_part_timer_competes_fairly(
    team_a, rep_a, manager_a, deals, reps
):
    rows = board(team_a, manager_a, deals).rows
    assert [(r.user, r.rank, r.attainment) for r in rows] == [
        (reps["part_time"], 1, D(100)),
        (rep_a, 2, D(80)),
        (reps["cleo"], 2, D(80)),  # a tie on attainment and points shares the rank; the earlier member is first
        (reps["junior"], 4, D(30)),  # sub-teams are on their parent's board
        (reps["ned"], None, None),  # no target this week: listed after the ranked reps
    ]


def test_ties_are_broken_by_points_earned_in_the_period(team_a, rep_a, manager_a, admin_user, deals, reps):
    tier = make_tier(admin_user, "Bonus points", D(50), reward_kind="points", points=30)
    Award.objects.create(user=reps["cleo"], tier=tier, goal=GoalFactory(owner_user=reps["cleo"]), points=30,
                         granted_at=datetime.datetime(2026, 3, 10, 12, tzinfo=datetime.UTC))  # fmt: skip
    Award.objects.create(user=rep_a, tier=tier, goal=GoalFactory(owner_user=rep_a), points=500,
                         granted_at=datetime.datetime(2026, 2, 10, 12, tzinfo=datetime.UTC))  # another period: not counted  # fmt: skip
    rows = board(team_a, manager_a, deals).rows
    assert [(r.user, r.rank, r.points) for r in rows[1:3]] == [(reps["cleo"], 2, 30), (rep_a, 3, 0)]


def test_a_rep_who_hides_their_name_is_a_teammate_to_peers_but_named_to_managers(team_a, rep_a, manager_a, deals, reps):
    services.reward_preference_set(user=reps["part_time"], hide_name_from_peers=True)
    assert [r.name for r in board(team_a, rep_a, deals).rows][:2] == ["a teammate", "You"]
    assert board(team_a, manager_a, deals).rows[0].name == f"{reps['part_time']} (hidden from peers)"
    assert board(team_a, reps["part_time"], deals).rows[0].name == "You"


def test_most_improved_ranks_against_the_reps_own_previous_period(team_a, manager_a, rep_a, deals, reps):
    rows = selectors.most_improved_for_team(team=team_a, start=WEEK[0], end=WEEK[1], viewer=manager_a, kpi=deals).rows
    assert [(r.user, r.rank, r.improvement) for r in rows] == [
        (rep_a, 1, D(40)),  # 40 % → 80 %
        (reps["junior"], 2, D(20)),  # 10 % → 30 %
        (reps["part_time"], 3, D(0)),  # steady at 100 %
    ]  # Cleo and Ned had no target last week: not on this board


def test_most_improved_judges_a_running_period_on_its_pace(team_a, manager_a, rep_a, deals):
    micro(rep_a, deals, 10, 8, start=march(2))  # last week: 80 %
    micro(rep_a, deals, 10, 4, expected=5)  # this week so far: 4 where the pace expects 5, 80 % on pace
    row = selectors.most_improved_for_team(team=team_a, start=WEEK[0], end=WEEK[1], viewer=manager_a, kpi=deals).rows[0]
    assert (row.attainment, row.on_pace, row.previous_on_pace, row.improvement) == (D(40), D(80), D(80), D(0))


def test_a_personal_goal_inside_the_period_without_micro_goals_counts_and_cancelled_ones_do_not(
    team_a, rep_a, manager_a, deals
):
    GoalFactory(owner_user=rep_a, kpi=deals, start_date=march(9), due_date=march(13), target_value=D(4),
                current_value=D(3))  # fmt: skip
    GoalFactory(owner_user=rep_a, kpi=deals, start_date=march(9), due_date=march(13), target_value=D(100),
                status="cancelled")  # fmt: skip
    GoalFactory(owner_user=rep_a, kpi=deals, start_date=march(1), due_date=march(31), target_value=D(100))  # longer
    row = board(team_a, manager_a, deals).rows[0]
    assert (row.target, row.current, row.attainment) == (D(4), D(3), D(75))


def test_periods_and_the_previous_period():
    assert selectors.period_bounds("week", march(11)) == (march(9), march(15))
    assert selectors.period_bounds("month", march(11)) == (march(1), march(31))
    assert selectors.period_bounds("quarter", datetime.date(2026, 11, 5)) == (
        datetime.date(2026, 10, 1),
        datetime.date(2026, 12, 31),
    )
    assert selectors.previous_period(march(1), march(31)) == (datetime.date(2026, 2, 1), datetime.date(2026, 2, 28))
    assert selectors.previous_period(datetime.date(2026, 1, 1), march(31)) == (
        datetime.date(2025, 10, 1),
        datetime.date(2025, 12, 31),
    )
    assert selectors.previous_period(march(9), march(15)) == (march(2), march(8))


@pytest.mark.parametrize("size", [5, 200])
def test_a_board_is_one_query_whatever_the_team_size(django_assert_num_queries, team_a, manager_a, deals, size):
    goal = GoalFactory(owner_team=team_a, kpi=deals)
    users = UserFactory.create_batch(size)
    Membership.objects.bulk_create(Membership(user=u, team=team_a, active_from=march(1)) for u in users)
    MicroGoal.objects.bulk_create(
        MicroGoal(goal=goal, assignee=u, kpi=deals, target_value=D(10), current_value=D(n % 11), start_date=march(9),
                  due_date=march(13)) for n, u in enumerate(users)
    )  # fmt: skip
    services.reward_preference_set(user=users[0], hide_name_from_peers=True)
    for function in (selectors.leaderboard_for_team, selectors.most_improved_for_team):
        # 1 for the board; 2 to know whether the viewer manages the team (its names are shown).
        with django_assert_num_queries(3):
            result = function(
                team=team_a, start=WEEK[0], end=WEEK[1], viewer=manager_a, kpi=deals, team_ids={team_a.id}
            )
            assert len(result.rows) == (size if function is selectors.leaderboard_for_team else 0)


def test_a_micro_goal_straddling_the_period_counts(team_a, rep_a, manager_a, deals):
    micro(rep_a, deals, 10, 6, start=march(6))  # Friday 6 to Tuesday 10: overlaps the week of the 9th
    assert board(team_a, manager_a, deals).rows[0].attainment == D(60)


def test_the_board_of_a_team_goals_window_ranks_on_its_kpi_and_dates(client, team_a, rep_a, manager_a, deals):
    goal = GoalFactory(owner_team=team_a, kpi=deals, start_date=datetime.date.today(), due_date=datetime.date.today())
    micro(rep_a, deals, 4, 3, start=datetime.date.today(), goal=goal)
    client.force_login(rep_a)
    page = client.get("/rewards/leaderboard/", {"team": team_a.id, "period": f"goal-{goal.id}", "kpi": deals.id})
    html = page.content.decode()
    assert f"Goal: {goal.title}" in html and "75 %" in html


def test_the_board_page_keeps_the_defaults_for_what_the_query_leaves_out(client, team_a, rep_a, deals):
    micro(rep_a, deals, 4, 1, start=datetime.date.today())
    client.force_login(rep_a)
    html = client.get("/rewards/leaderboard/", {"period": "week"}).content.decode()
    assert "This field is required" not in html and "Team A · Deals won" in html
    assert '<option value="week" selected>' in html
