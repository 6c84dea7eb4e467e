"""The progress engine on hand-worked examples: which entries count, pace, forecast, health, closing.

March 2026: Monday 2nd to Friday 27th is four working weeks (20 working days). Unless a test says
otherwise, "today" is Friday 13th: 10 working days elapsed, 10 left.
"""

import datetime
from decimal import Decimal

import pytest
from django.core.management import ManagementUtility, call_command
from django.db import DatabaseError
from django.utils import timezone

from goals import services
from goals.models import Goal, GoalRevision, Health, Kpi, MicroGoal
from teams import services as team_services
from tests.factories import (
    GoalFactory,
    KpiFactory,
    MembershipFactory,
    MicroGoalFactory,
    ProgressEntryFactory,
    TeamFactory,
    UserFactory,
    allow_legacy_overlapping_rep_memberships,
)

pytestmark = pytest.mark.django_db

D = Decimal
TODAY = datetime.date(2026, 3, 13)


def march(day):
    return datetime.date(2026, 3, day)


def log(user, kpi, day, value, **fields):
    return ProgressEntryFactory(user=user, kpi=kpi, date=march(day), value=D(value), **fields)


def recompute(*objs, today=TODAY):
    services.progress_recompute(today=today)
    for obj in objs:
        obj.refresh_from_db()
    return objs[0] if len(objs) == 1 else objs


# --- which entries count -------------------------------------------------------------------------------


def test_individual_goal_sums_the_owners_entries_in_the_window(rep_a, deals):
    goal = GoalFactory(owner_user=rep_a, kpi=deals)
    log(rep_a, deals, 3, 4)
    log(rep_a, deals, 10, 6)
    log(UserFactory(), deals, 10, 50)  # someone else's
    log(rep_a, KpiFactory(), 10, 50)  # another KPI
    assert recompute(goal).current_value == D(10)


def test_goal_that_started_in_the_past_counts_entries_from_its_start_only(rep_a, deals):
    goal = GoalFactory(owner_user=rep_a, kpi=deals, start_date=march(9))
    log(rep_a, deals, 6, 100)  # before the start
    log(rep_a, deals, 9, 3)
    log(rep_a, deals, 13, 4)  # today counts
    assert recompute(goal).current_value == D(7)
    log(rep_a, deals, 16, 100)  # logged by a rep whose local date is already ahead of the organisation's
    assert recompute(goal).current_value == D(107)  # counts at once: which clock recomputes doesn't matter
    assert recompute(goal, today=march(31)).current_value == D(107)
    log(rep_a, deals, 28, 5)  # after the due date (27 March): never counts
    assert recompute(goal, today=march(31)).current_value == D(107)


def test_entries_after_the_due_date_do_not_count(rep_a, deals):
    goal = GoalFactory(owner_user=rep_a, kpi=deals, due_date=march(10))
    log(rep_a, deals, 10, 2)
    log(rep_a, deals, 11, 100)
    assert recompute(goal).current_value == D(2)


def test_voided_entries_do_not_count(rep_a, deals):
    goal = GoalFactory(owner_user=rep_a, kpi=deals)
    log(rep_a, deals, 3, 5)
    log(rep_a, deals, 4, 100, voided_at=timezone.now(), voided_by=rep_a, void_reason="Typo")
    assert recompute(goal).current_value == D(5)


def test_team_goal_counts_reps_of_the_team_and_its_sub_teams(team_a, rep_a, manager_a, deals):
    sub_rep = MembershipFactory(team=TeamFactory(parent=team_a)).user
    goal = GoalFactory(owner_team=team_a, kpi=deals)
    log(rep_a, deals, 3, 4)
    log(sub_rep, deals, 4, 5)
    log(manager_a, deals, 5, 100)  # a manager's own entries are not the team's
    log(UserFactory(), deals, 5, 100)  # not a member
    assert recompute(goal).current_value == D(9)


def test_half_time_rep_counts_in_full_for_the_team(team_a, rep_a, deals):
    half = MembershipFactory(team=team_a, capacity=D("0.5")).user
    goal = GoalFactory(owner_team=team_a, kpi=deals)
    log(rep_a, deals, 3, 10)
    log(half, deals, 3, 10)
    assert recompute(goal).current_value == D(20)


def test_rep_who_moved_teams_counts_for_the_team_of_the_entry_date(team_a, team_b, deals):
    org = TeamFactory()
    for team in (team_a, team_b):
        team.parent = org
        team.save()
    mover = UserFactory()
    left_a = MembershipFactory(user=mover, team=team_a, active_from=march(1))
    team_services.member_remove(removed_by=UserFactory(is_staff=True), membership=left_a, active_to=march(10))
    MembershipFactory(user=mover, team=team_b, active_from=march(11))
    goal_a = GoalFactory(owner_team=team_a, kpi=deals)
    goal_b = GoalFactory(owner_team=team_b, kpi=deals)
    goal_org = GoalFactory(owner_team=org, kpi=deals)
    goal_own = GoalFactory(owner_user=mover, kpi=deals)
    log(mover, deals, 9, 5)
    log(mover, deals, 12, 7)
    recompute(goal_a, goal_b, goal_org, goal_own)
    assert [g.current_value for g in (goal_a, goal_b, goal_org, goal_own)] == [D(5), D(7), D(12), D(12)]


def test_overlapping_rep_memberships_in_one_tree_count_an_entry_once(team_a, deals):
    sub = TeamFactory(parent=team_a)
    rep = UserFactory()
    allow_legacy_overlapping_rep_memberships()  # the services refuse overlaps now; older data may hold them
    MembershipFactory(user=rep, team=team_a, active_from=march(1), active_to=march(20))
    MembershipFactory(user=rep, team=sub, active_from=march(5))
    goal, sub_goal = GoalFactory(owner_team=team_a, kpi=deals), GoalFactory(owner_team=sub, kpi=deals)
    log(rep, deals, 3, 1)  # a rep of team A only
    log(rep, deals, 10, 10)  # a rep of both, and both are in team A's tree
    recompute(goal, sub_goal)
    assert (goal.current_value, sub_goal.current_value) == (D(11), D(10))


def test_micro_goal_counts_the_assignees_entries_in_its_own_window_and_kpi(rep_a, deals):
    calls = KpiFactory(name="Calls")
    micro = MicroGoalFactory(assignee=rep_a, kpi=calls, start_date=march(9), due_date=march(13), target_value=D(50))
    log(rep_a, calls, 6, 100)  # before its window
    log(rep_a, calls, 9, 20)
    log(rep_a, calls, 12, 15)
    log(rep_a, deals, 12, 100)  # the parent goal's KPI, not the micro goal's
    micro = recompute(micro)
    # 5 working days, all elapsed: expected = the target; 35 of 50 is 70 %. Only today is left, still open:
    # run rate 35 / 4 completed days = 8.75, prior 100 / 20 days before the window = 5, z = 4 / (4 + 5):
    # rate 6.67, so today is forecast to bring 6.67 → 41.67 → 42, short of 90 % of 50.
    assert (micro.current_value, micro.expected_value, micro.forecast_value) == (D(35), D(50), D(42))
    assert micro.health == Health.OFF_TRACK


def test_zero_values_are_entries_too(rep_a, deals):
    level = KpiFactory(name="Open pipeline", aggregation=Kpi.Aggregation.LAST)
    flow = GoalFactory(owner_user=rep_a, kpi=deals)
    stock = GoalFactory(owner_user=rep_a, kpi=level, baseline_value=D(5), target_value=D(50))
    log(rep_a, deals, 3, 0)
    log(rep_a, level, 3, 10)
    log(rep_a, level, 4, 0)  # the pipeline emptied: the latest value is 0, not "nothing"
    recompute(flow, stock)
    assert (flow.current_value, stock.current_value) == (D(0), D(0))


# --- "last" aggregation ------------------------------------------------------------------------------------


@pytest.fixture
def win_rate():
    return KpiFactory(name="Win rate", aggregation=Kpi.Aggregation.LAST, decimal_places=1)


def test_last_takes_the_latest_entry_and_the_latest_logged_on_a_tie(rep_a, win_rate):
    goal = GoalFactory(owner_user=rep_a, kpi=win_rate, baseline_value=D(20), target_value=D(40))
    log(rep_a, win_rate, 3, "25.0")
    log(rep_a, win_rate, 10, "31.5")
    log(rep_a, win_rate, 10, "30.0")  # same day, logged later: the correction wins
    log(rep_a, win_rate, 4, "99.0")  # an older date logged later does not
    assert recompute(goal).current_value == D("30.0")


def test_last_for_a_team_sums_each_reps_latest_value(team_a, rep_a, win_rate):
    other = MembershipFactory(team=team_a).user
    goal = GoalFactory(owner_team=team_a, kpi=win_rate, baseline_value=D(0), target_value=D(100))
    log(rep_a, win_rate, 3, 10)
    log(rep_a, win_rate, 5, 12)
    log(other, win_rate, 4, 7)
    assert recompute(goal).current_value == D(19)


def test_last_without_entries_stands_at_the_baseline(rep_a, win_rate):
    goal = GoalFactory(owner_user=rep_a, kpi=win_rate, baseline_value=D(20), target_value=D(40))
    goal = recompute(goal)
    # A level's run rate 0 / 10 days, the plan's 20 / 20 = 1 a day, z = 10 / 15: 1/3 a day × 10 left → 23.3.
    assert (goal.current_value, goal.expected_value, goal.forecast_value) == (D(20), D(30), D("23.3"))


def test_lower_is_better_last_kpi(rep_a):
    days_to_close = KpiFactory(name="Days to close", aggregation=Kpi.Aggregation.LAST, direction=Kpi.Direction.LOWER)
    goal = GoalFactory(owner_user=rep_a, kpi=days_to_close, baseline_value=D(30), target_value=D(20))
    log(rep_a, days_to_close, 3, 28)
    log(rep_a, days_to_close, 10, 24)
    log(rep_a, days_to_close, 11, 35, voided_at=timezone.now(), voided_by=rep_a, void_reason="Wrong deal")
    goal = recompute(goal)
    # Halfway through the window 25 is expected; 24 is ahead of it. The level moved −6 over 10 days, the plan
    # −0.5 a day; z = 10 / 15 → −0.567 a day × 10 left → 18.3 → 18: the forecast reaches 20, on track.
    assert (goal.current_value, goal.expected_value, goal.forecast_value) == (D(24), D(25), D(18))
    assert goal.health == Health.ON_TRACK
    log(rep_a, days_to_close, 12, 19)
    assert recompute(goal).health == Health.ACHIEVED


# --- pace, forecast, health ----------------------------------------------------------------------------------


def test_team_pace_uses_the_team_calendar_with_holidays_and_weekends(team_a, rep_a, deals):
    team_services.holiday_add(team=team_a, date=march(6))
    goal = GoalFactory(owner_team=team_a, kpi=deals, target_value=D(190))
    log(rep_a, deals, 3, 40)
    log(rep_a, deals, 10, 25)
    # Saturday 14th: 9 of 19 working days elapsed → 190 × 9 / 19 = 90 expected.
    # Run rate: 65 over those 9 days = 7.22; no history, so the prior is the plan's 190 / 19 = 10; z = 9 / 14:
    # 8.21 a day × 10 days left → 65 + 82.1 = 147.1 → 147.
    goal = recompute(goal, today=march(14))
    assert (goal.current_value, goal.expected_value, goal.forecast_value) == (D(65), D(90), D(147))
    assert goal.health == Health.OFF_TRACK  # 147 < 90 % of 190


def test_individual_goal_uses_the_calendar_of_the_owners_team(team_a, rep_a, deals):
    team_services.holiday_add(team=team_a, date=march(6))
    mine = GoalFactory(owner_user=rep_a, kpi=deals, target_value=D(190))
    loner = GoalFactory(owner_user=UserFactory(), kpi=deals, target_value=D(200))  # no team: Monday–Friday
    recompute(mine, loner, today=march(11))
    assert (mine.expected_value, loner.expected_value) == (D(70), D(80))  # 190 × 7/19, 200 × 8/20


def test_forecast_uses_the_last_ten_working_days_only(rep_a, deals):
    goal = GoalFactory(owner_user=rep_a, kpi=deals, target_value=D(100))
    log(rep_a, deals, 2, 40)  # early burst, outside the last 10 working days on the 18th
    log(rep_a, deals, 5, 10)  # Thursday 5th is the first of them
    log(rep_a, deals, 18, 20)
    goal = recompute(goal, today=march(18))
    # The last 10 working days are 5th–18th; today (18th) is open, so its 20 counts in the value but not in the
    # run rate: 10 over 9 completed days = 1.11. Prior: the plan's 5 a day. z = 12 / 17 → 2.25 a day × 7 days
    # left = 15.8; today already brought more than the rate → 70 + 15.8 = 85.8 → 86, short of 90: off track.
    assert (goal.current_value, goal.expected_value, goal.forecast_value) == (D(70), D(65), D(86))
    assert goal.health == Health.OFF_TRACK


def test_health_at_risk_when_behind_pace_but_the_forecast_nearly_makes_it(rep_a, deals, settings):
    settings.PACER = {**settings.PACER, "RUN_RATE_WORKING_DAYS": 5}
    goal = GoalFactory(owner_user=rep_a, kpi=deals, target_value=D(100))
    log(rep_a, deals, 3, 10)
    log(rep_a, deals, 10, 24)
    goal = recompute(goal)
    # Run rate over the last 5 working days, today (open) aside: 24 / 4 = 6; prior the plan's 5; z = 9 / 14 →
    # 5.64 a day: 34 + 56.4 (10 days left) + 5.64 (the rest of today) = 96.1 → 96: short of 100, ≥ 90: at risk.
    assert (goal.expected_value, goal.forecast_value, goal.health) == (D(50), D(96), Health.AT_RISK)


def test_a_goal_is_on_track_on_its_first_morning_before_anything_is_logged(rep_a, deals):
    goal = GoalFactory(owner_user=rep_a, kpi=deals, target_value=D(100), start_date=TODAY)
    goal = recompute(goal)
    assert (goal.current_value, goal.health) == (D(0), Health.ON_TRACK)


def test_a_rep_who_logged_nothing_yesterday_is_behind_today(rep_a, deals):
    goal = GoalFactory(owner_user=rep_a, kpi=deals, target_value=D(100), start_date=march(12))
    goal = recompute(goal)
    assert goal.health == Health.OFF_TRACK


def test_over_achievement_keeps_counting(rep_a, deals):
    goal = GoalFactory(owner_user=rep_a, kpi=deals, target_value=D(100))
    log(rep_a, deals, 3, 90)
    log(rep_a, deals, 12, 60)
    goal = recompute(goal)
    assert (goal.current_value, goal.health) == (D(150), Health.ACHIEVED)


def test_goal_not_started_yet_is_on_track_at_its_baseline(rep_a, deals):
    goal = GoalFactory(owner_user=rep_a, kpi=deals, start_date=march(16))
    goal = recompute(goal)
    # Nothing elapsed: the forecast is the plan itself, the target.
    assert (goal.current_value, goal.expected_value, goal.health) == (0, 0, Health.ON_TRACK)
    assert goal.forecast_value == goal.target_value


def test_recompute_sets_computed_at_and_skips_closed_and_draft_goals(rep_a, deals):
    active = GoalFactory(owner_user=rep_a, kpi=deals)
    draft = GoalFactory(owner_user=rep_a, kpi=deals, status=Goal.Status.DRAFT)
    log(rep_a, deals, 3, 5)
    result = services.progress_recompute(today=TODAY)
    active.refresh_from_db()
    draft.refresh_from_db()
    assert result == (1, 0)
    assert active.computed_at is not None and active.current_value == 5
    assert draft.computed_at is None and draft.current_value == 0


def test_recompute_is_idempotent_and_incremental_equals_full(team_a, rep_a, deals):
    goals = [GoalFactory(owner_user=rep_a, kpi=deals), GoalFactory(owner_team=team_a, kpi=deals)]
    micro = MicroGoalFactory(assignee=rep_a, goal=goals[0])
    log(rep_a, deals, 3, 5)
    log(rep_a, deals, 12, 8)

    def snapshot():
        rows = [*Goal.objects.order_by("id"), *MicroGoal.objects.order_by("id")]
        return [(r.current_value, r.expected_value, r.forecast_value, r.health) for r in rows]

    services.progress_recompute(goal_ids=[g.id for g in goals], micro_goal_ids=[micro.id], today=TODAY)
    incremental = snapshot()
    services.progress_recompute(today=TODAY)
    assert snapshot() == incremental
    services.progress_recompute(today=TODAY, batch_size=1)
    assert snapshot() == incremental


def test_recompute_of_some_goals_leaves_the_others_alone(rep_a, deals):
    one, other = GoalFactory(owner_user=rep_a, kpi=deals), GoalFactory(owner_user=rep_a, kpi=deals)
    log(rep_a, deals, 3, 5)
    assert services.progress_recompute(goal_ids=[one.id], today=TODAY) == (1, 0)
    one.refresh_from_db()
    other.refresh_from_db()
    assert (one.current_value, other.current_value, other.computed_at) == (5, 0, None)


def test_sqlite_and_postgres_agree_on_exact_decimal_sums(rep_a):
    revenue = KpiFactory(name="Revenue", decimal_places=2)
    goal = GoalFactory(owner_user=rep_a, kpi=revenue, target_value=D("1000000.00"))
    for _ in range(10):
        log(rep_a, revenue, 3, "0.10")
    log(rep_a, revenue, 4, "123456789.99")
    assert recompute(goal).current_value == D("123456790.99")


# --- query counts -------------------------------------------------------------------------------------------


def _goals_and_micro_goals(n, team, kpi):
    """n goals (half individual, half for the team) and n micro goals, with a few entries each."""
    reps = [MembershipFactory(team=team).user for _ in range(3)]
    goals = Goal.objects.bulk_create(
        Goal(
            title=f"G{i}",
            kpi=kpi,
            target_value=D(100),
            start_date=march(2),
            due_date=march(27),
            created_by=reps[0],
            **({"owner_user": reps[i % 3]} if i % 2 else {"owner_team": team}),
        )
        for i in range(n)
    )
    MicroGoal.objects.bulk_create(
        MicroGoal(goal=g, assignee=reps[i % 3], kpi=kpi, target_value=D(5), start_date=march(2), due_date=march(6))
        for i, g in enumerate(goals)
    )
    for day in (2, 3, 4):
        for rep in reps:
            log(rep, kpi, day, 2)


@pytest.mark.parametrize("n", [10, 1000])
def test_recompute_runs_the_same_queries_for_10_and_1000_goals(n, team_a, deals, django_assert_num_queries):
    _goals_and_micro_goals(n, team_a, deals)
    # Expected (1,000 goals fit one batch):
    #   2  ids of the active goals, ids of the active micro goals
    #   the first batch (the goals, half of them the team's), 11: SAVEPOINT, SELECT … FOR UPDATE the batch with its
    #     KPIs, the owners' current rep teams with capacity, the team tree with working weekdays and the holidays
    #     (calendars_for_teams), the teams' daily totals (the team goals' sums and history, the persons' fallback
    #     priors), the ONE aggregate of the personal goals (their window and forecast history in one pass), the
    #     team tree and the teams' rep capacities, the ONE UPDATE, RELEASE SAVEPOINT
    #   a further batch of only personal targets (the micro goals), 5: what the run already read is shared
    #     (goals/services/run.py): SAVEPOINT, SELECT … FOR UPDATE, the aggregate, the UPDATE, RELEASE SAVEPOINT
    with django_assert_num_queries(2 + 11 + 5):
        result = services.progress_recompute(today=TODAY)
    assert result == (n, n)
    assert set(Goal.objects.values_list("current_value", flat=True)) == {D(6), D(18)}  # a rep's, the team's


def test_each_extra_batch_costs_the_same_fixed_queries(team_a, deals, django_assert_num_queries):
    _goals_and_micro_goals(30, team_a, deals)
    # batches of 10, 3 of goals and 3 of micro goals: the first reads what the run shares, every other costs 5
    with django_assert_num_queries(2 + 11 + 5 * 5):
        assert services.progress_recompute(today=TODAY, batch_size=10) == (30, 30)


# --- closing due goals --------------------------------------------------------------------------------------


def test_close_due_marks_achieved_and_missed_with_a_revision(rep_a, deals):
    made_it = GoalFactory(owner_user=rep_a, kpi=deals, target_value=D(10), due_date=march(12))
    missed = GoalFactory(owner_user=rep_a, kpi=GoalFactory().kpi, target_value=D(10), due_date=march(12))
    running = GoalFactory(owner_user=rep_a, kpi=deals, due_date=march(13))  # due today: not yet
    micro = MicroGoalFactory(assignee=rep_a, goal=made_it, target_value=D(5), start_date=march(9), due_date=march(12))
    log(rep_a, deals, 10, 12)
    closed = services.goals_close_due(today=TODAY)
    for obj in (made_it, missed, running, micro):
        obj.refresh_from_db()
    assert closed == [made_it.id, missed.id]
    assert (made_it.status, missed.status, running.status) == ("achieved", "missed", "active")
    assert micro.status == MicroGoal.Status.ACHIEVED
    assert made_it.closed_at is not None and running.closed_at is None
    assert made_it.current_value == D(12)
    revision = GoalRevision.objects.get(goal=made_it)
    assert (revision.kind, revision.changes) == (GoalRevision.Kind.CLOSED, {"status": ["active", "achieved"]})


def test_close_due_twice_changes_nothing_the_second_time(rep_a, deals):
    goal = GoalFactory(owner_user=rep_a, kpi=deals, due_date=march(12))
    assert services.goals_close_due(today=TODAY) == [goal.id]
    goal.refresh_from_db()
    closed_at = goal.closed_at
    assert services.goals_close_due(today=TODAY) == []
    goal.refresh_from_db()
    assert (goal.status, goal.closed_at, GoalRevision.objects.count()) == ("missed", closed_at, 1)


def test_closed_goal_keeps_its_numbers_when_an_entry_changes_later(rep_a, deals):
    goal = GoalFactory(owner_user=rep_a, kpi=deals, due_date=march(12))
    log(rep_a, deals, 10, 3)
    services.goals_close_due(today=TODAY)
    log(rep_a, deals, 11, 50)
    assert recompute(goal).current_value == D(3)


# --- the management command -------------------------------------------------------------------------------


def test_recompute_progress_command_recomputes_everything_and_prints_counts(rep_a, deals, capsys):
    goal = GoalFactory(owner_user=rep_a, kpi=deals)
    MicroGoalFactory(goal=goal, assignee=rep_a)
    log(rep_a, deals, 3, 5)
    call_command("recompute_progress")
    goal.refresh_from_db()
    assert goal.computed_at is not None
    assert "1 goals and 1 micro goals" in capsys.readouterr().out


def test_recompute_progress_command_fails_with_a_message_and_exit_status_1(monkeypatch, capsys):
    def broken(**kwargs):
        raise DatabaseError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "progress_recompute", broken)
    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["manage.py", "recompute_progress"]).execute()
    assert exited.value.code == 1
    assert "Recompute failed: server closed the connection" in capsys.readouterr().err


def _forecasts_together_equal_alone(goals) -> list[tuple]:
    """(forecast, health) of each goal from one full recompute, asserted equal to recomputing each goal alone."""

    def figures():
        return [Goal.objects.values_list("forecast_value", "health").get(id=g.id) for g in goals]

    services.progress_recompute(today=TODAY)
    together = figures()
    for goal in goals:
        services.progress_recompute(goal_ids=[goal.id], micro_goal_ids=[], today=TODAY)
    assert figures() == together
    return together


def test_reps_sharing_their_teams_history_get_the_figures_each_would_get_alone(team_a, team_b, deals):
    # Reps with no history of their own forecast from their team's rate per capacity. That team history is read
    # once per team and window for the whole batch; each rep must still get their own team's and capacity's.
    new_a = MembershipFactory(team=team_a).user
    new_a_half = MembershipFactory(team=team_a, capacity=D("0.5")).user
    new_b = MembershipFactory(team=team_b).user
    for team, value in ((team_a, 40), (team_b, 90)):
        veteran = MembershipFactory(team=team).user
        ProgressEntryFactory(user=veteran, kpi=deals, date=datetime.date(2026, 2, 16), value=D(value))
    goals = [GoalFactory(owner_user=user, kpi=deals) for user in (new_a, new_a_half, new_b)]

    together = _forecasts_together_equal_alone(goals)
    assert len({forecast for forecast, _ in together}) == 3  # team A at full and half capacity, team B


def test_reps_of_one_team_with_different_windows_each_get_their_own_periods_team_history(team_a, deals):
    # A team's history is read once per batch over the union of its reps' history periods; each period must still
    # sum only its own days: 40 on 4 Feb is before the 3 March window's history only (2–27 Feb), 90 on 4 March in
    # the 9 March window's only (9 Feb–6 Mar) — and inside the first window, so never in the first one's prior.
    early, late = MembershipFactory(team=team_a).user, MembershipFactory(team=team_a).user
    veteran = MembershipFactory(team=team_a).user
    for date, value in ((datetime.date(2026, 2, 4), D(40)), (datetime.date(2026, 3, 4), D(90))):
        ProgressEntryFactory(user=veteran, kpi=deals, date=date, value=value)
    goals = [
        GoalFactory(owner_user=early, kpi=deals, start_date=march(2), due_date=march(27)),
        GoalFactory(owner_user=late, kpi=deals, start_date=march(9), due_date=datetime.date(2026, 4, 3)),
    ]

    together = _forecasts_together_equal_alone(goals)
    # Alone, each reads only its own period: 40 ÷ 20 days ÷ 3 reps and 90 ÷ 20 ÷ 3 give different forecasts.
    assert together[0][0] != together[1][0]
