"""Micro goals from a hard goal: generate (and preview), the per-rep cap, and re-plan."""

import datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from goals import services
from goals.models import GoalRevision, MicroGoal
from teams import services as team_services
from teams.models import Membership
from tests.factories import KpiFactory, MembershipFactory, MicroGoalFactory, ProgressEntryFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("monday_2_march")]

D = datetime.date
TODAY = D(2026, 3, 2)  # a Monday


@pytest.fixture
def ava(team_a):
    return MembershipFactory(team=team_a, user=UserFactory(username="ava", first_name="Ava", last_name="Adams")).user


@pytest.fixture
def ben(team_a):
    user = UserFactory(username="ben", first_name="Ben", last_name="Brooks")
    return MembershipFactory(team=team_a, user=user, capacity=Decimal("0.50")).user


def _goal(manager, *, kpi, target=100, due=None, **owner):
    return services.goal_create(
        title="March deals", kpi=kpi, target_value=Decimal(target), start_date=TODAY, due_date=due or D(2026, 3, 15),
        created_by=manager, today=TODAY, **owner,
    )  # fmt: skip


def _plan(goal):
    return [
        (m.assignee.username, m.start_date, m.due_date, m.target_value, m.status)
        for m in goal.micro_goals.order_by("start_date", "assignee__username", "id")
    ]


def test_team_breakdown_weighs_capacity_and_skips_the_holiday(manager_a, team_a, ava, ben, deals):
    team_services.holiday_add(team=team_a, date=D(2026, 3, 9))  # week 2 has 4 working days
    goal = _goal(manager_a, kpi=deals, owner_team=team_a)
    rows = services.micro_goals_generate(goal=goal, cadence="weekly", created_by=manager_a, today=TODAY)
    # Weights 5, 2.5, 4, 2 of 13.5: 37.04, 18.52, 29.63, 14.81 → 37, 18, 30, 15 (largest remainders round up).
    assert _plan(goal) == [
        ("ava", D(2026, 3, 2), D(2026, 3, 8), 37, "active"),
        ("ben", D(2026, 3, 2), D(2026, 3, 8), 18, "active"),
        ("ava", D(2026, 3, 9), D(2026, 3, 15), 30, "active"),
        ("ben", D(2026, 3, 9), D(2026, 3, 15), 15, "active"),
    ]
    assert [(r.working_days, r.capacity, r.weight) for r in rows] == [
        (5, Decimal("1.00"), Decimal("5.00")),
        (5, Decimal("0.50"), Decimal("2.50")),
        (4, Decimal("1.00"), Decimal("4.00")),
        (4, Decimal("0.50"), Decimal("2.00")),
    ]
    assert all(m.kpi == deals for m in goal.micro_goals.all())
    assert [r.micro_goal.pk for r in rows] == list(
        goal.micro_goals.order_by("start_date", "assignee__username").values_list("pk", flat=True)
    )


def test_breakdown_of_a_revenue_goal_adds_up_to_the_cent(manager_a, team_a, ava, ben):
    revenue = KpiFactory(name="Revenue", unit="currency", decimal_places=2)
    goal = _goal(manager_a, kpi=revenue, owner_team=team_a, target=Decimal("1000.00"), due=D(2026, 3, 27))
    services.micro_goals_generate(goal=goal, cadence="daily", created_by=manager_a, today=TODAY)
    targets = list(goal.micro_goals.values_list("target_value", flat=True))
    assert len(targets) == 40  # 20 working days × 2 reps; weekends get nothing
    assert sum(targets) == Decimal("1000.00")
    assert {t % Decimal("0.01") for t in targets} == {0}


def test_preview_returns_the_plan_and_writes_nothing(
    manager_a, team_a, ava, ben, deals, django_capture_on_commit_callbacks
):
    goal = _goal(manager_a, kpi=deals, owner_team=team_a)
    with django_capture_on_commit_callbacks() as callbacks:
        rows = services.micro_goals_generate(
            goal=goal, cadence="weekly", preview=True, created_by=manager_a, today=TODAY
        )
    assert sum(r.target for r in rows) == 100 and len(rows) == 4
    assert all(r.micro_goal is None for r in rows)
    assert not MicroGoal.objects.exists() and not callbacks


def test_personal_goal_goes_to_its_owner_at_their_capacity(manager_a, ben, deals):
    goal = _goal(manager_a, kpi=deals, owner_user=ben, target=9)
    rows = services.micro_goals_generate(goal=goal, cadence="weekly", created_by=manager_a, today=TODAY)
    assert [(r.assignee, r.capacity, r.target) for r in rows] == [(ben, Decimal("0.50"), 5), (ben, Decimal("0.50"), 4)]


def test_personal_goal_cannot_be_assigned_to_someone_else(manager_a, ava, ben, deals):
    goal = _goal(manager_a, kpi=deals, owner_user=ben)
    with pytest.raises(ValidationError, match="go to its owner"):
        services.micro_goals_generate(goal=goal, cadence="weekly", assignees=[ava], created_by=manager_a, today=TODAY)


def test_assignees_must_be_current_reps_of_the_team(manager_a, team_a, ava, rep_b, deals):
    goal = _goal(manager_a, kpi=deals, owner_team=team_a)
    with pytest.raises(ValidationError, match="Not a current rep of Team A"):
        services.micro_goals_generate(goal=goal, cadence="weekly", assignees=[ava, rep_b], created_by=manager_a)
    rows = services.micro_goals_generate(goal=goal, cadence="weekly", assignees=[ava], created_by=manager_a)
    assert {r.assignee for r in rows} == {ava}


def test_a_draft_can_be_previewed_but_its_micro_goals_wait_for_activation(manager_a, team_a, ava, deals):
    draft = _goal(manager_a, kpi=deals, owner_team=team_a, status="draft")
    assert services.micro_goals_generate(goal=draft, cadence="weekly", preview=True, created_by=manager_a)
    with pytest.raises(ValidationError, match="activate it"):
        services.micro_goals_generate(goal=draft, cadence="weekly", created_by=manager_a)
    assert not MicroGoal.objects.exists()


def test_an_empty_choice_of_assignees_is_refused(manager_a, team_a, ava, deals):
    goal = _goal(manager_a, kpi=deals, owner_team=team_a)
    with pytest.raises(ValidationError, match="at least one rep"):
        services.micro_goals_generate(goal=goal, cadence="weekly", assignees=[], created_by=manager_a)


def test_cap_refusal_names_the_rep_and_writes_nothing(settings, manager_a, team_a, ava, ben, deals):
    settings.PACER = {**settings.PACER, "MAX_ACTIVE_MICRO_GOALS_PER_REP": 2}
    for _ in range(2):  # Ava already has two micro goals running in week 2
        MicroGoalFactory(assignee=ava, start_date=D(2026, 3, 9), due_date=D(2026, 3, 13))
    goal = _goal(manager_a, kpi=deals, owner_team=team_a)
    before = MicroGoal.objects.count()
    for preview in (True, False):
        with pytest.raises(ValidationError) as error:
            services.micro_goals_generate(goal=goal, cadence="weekly", preview=preview, created_by=manager_a)
        assert (
            "Ava Adams would have 3 active micro goals at once (on 09 Mar 2026); the limit is 2 — leave Ava Adams "
            "out of this breakdown" in error.value.messages[0]
        )
    assert MicroGoal.objects.count() == before


def test_cap_refusal_on_a_one_rep_goal_does_not_suggest_leaving_the_rep_out(settings, manager_a, ava, deals):
    settings.PACER = {**settings.PACER, "MAX_ACTIVE_MICRO_GOALS_PER_REP": 2}
    for _ in range(2):
        MicroGoalFactory(assignee=ava, start_date=D(2026, 3, 9), due_date=D(2026, 3, 13))
    goal = _goal(manager_a, kpi=deals, owner_user=ava)
    with pytest.raises(ValidationError) as error:
        services.micro_goals_generate(goal=goal, cadence="weekly", preview=True, created_by=manager_a)
    message = error.value.messages[0]
    assert "the limit is 2 — plan it after some of their micro goals end" in message and "leave" not in message


def test_cap_counts_only_active_micro_goals_whose_windows_overlap(settings, manager_a, team_a, ava, deals):
    settings.PACER = {**settings.PACER, "MAX_ACTIVE_MICRO_GOALS_PER_REP": 1}
    MicroGoalFactory(assignee=ava, start_date=D(2026, 2, 23), due_date=D(2026, 3, 1))  # ended before
    MicroGoalFactory(assignee=ava, start_date=TODAY, due_date=D(2026, 3, 8), status="achieved")
    MicroGoalFactory(assignee=ava, start_date=TODAY, due_date=D(2026, 3, 8), status="cancelled")
    goal = _goal(manager_a, kpi=deals, owner_team=team_a)
    assert len(services.micro_goals_generate(goal=goal, cadence="weekly", created_by=manager_a)) == 2


def test_generating_twice_is_refused_in_favour_of_replan(manager_a, team_a, ava, deals):
    goal = _goal(manager_a, kpi=deals, owner_team=team_a)
    services.micro_goals_generate(goal=goal, cadence="weekly", created_by=manager_a)
    with pytest.raises(ValidationError, match="use re-plan"):
        services.micro_goals_generate(goal=goal, cadence="daily", created_by=manager_a)


def test_unknown_cadence_is_refused(manager_a, team_a, ava, deals):
    goal = _goal(manager_a, kpi=deals, owner_team=team_a)
    with pytest.raises(ValidationError, match="daily, weekly, biweekly"):
        services.micro_goals_generate(goal=goal, cadence="monthly", created_by=manager_a)


def test_rep_cannot_break_down_a_goal(manager_a, team_a, ava, deals):
    goal = _goal(manager_a, kpi=deals, owner_team=team_a)
    with pytest.raises(PermissionDenied):
        services.micro_goals_generate(goal=goal, cadence="weekly", created_by=ava)


def test_latest_value_goal_is_broken_down_on_a_leading_indicator(manager_a, team_a, ava, ben):
    win_rate = KpiFactory(name="Win rate", unit="percent", aggregation="last", decimal_places=1)
    demos = KpiFactory(name="Demos booked")
    goal = services.goal_create(
        title="Win more", kpi=win_rate, baseline_value=Decimal("20.0"), target_value=Decimal("25.0"),
        start_date=TODAY, due_date=D(2026, 3, 15), owner_team=team_a, created_by=manager_a, today=TODAY,
    )  # fmt: skip
    with pytest.raises(ValidationError, match="leading indicator"):
        services.micro_goals_generate(goal=goal, cadence="weekly", created_by=manager_a)
    with pytest.raises(ValidationError, match="Give the total of Demos booked"):
        services.micro_goals_generate(goal=goal, cadence="weekly", kpi=demos, created_by=manager_a)
    rows = services.micro_goals_generate(
        goal=goal, cadence="weekly", kpi=demos, leading_target=30, created_by=manager_a
    )
    assert sum(r.target for r in rows) == 30
    assert set(goal.micro_goals.values_list("kpi__name", flat=True)) == {"Demos booked"}


def test_goal_set_mid_window_plans_only_what_is_left(manager_a, ava, deals, time_machine):
    goal = services.goal_create(
        title="Q1 deals", kpi=deals, target_value=Decimal(100), start_date=D(2026, 2, 2), due_date=D(2026, 3, 27),
        owner_user=ava, created_by=manager_a, today=TODAY,
    )  # fmt: skip
    ProgressEntryFactory(user=ava, kpi=deals, date=D(2026, 2, 10), value=25)
    ProgressEntryFactory(user=ava, kpi=deals, date=D(2026, 3, 2), value=3)  # in the current week: counts there
    rows = services.micro_goals_generate(goal=goal, cadence="weekly", created_by=manager_a, today=D(2026, 3, 4))
    assert [(r.start, r.target) for r in rows] == [
        (D(2026, 3, 2), 19),
        (D(2026, 3, 9), 19),
        (D(2026, 3, 16), 19),
        (D(2026, 3, 23), 18),
    ]  # 75 left after the 25 logged before this week


def test_what_is_left_in_cents_still_splits_exactly(manager_a, ava):
    revenue = KpiFactory(name="Revenue", unit="currency", decimal_places=2)
    goal = services.goal_create(
        title="Q1 revenue", kpi=revenue, target_value=Decimal("1000000.00"), start_date=D(2026, 2, 2),
        due_date=D(2026, 3, 27), owner_user=ava, created_by=manager_a, today=TODAY,
    )  # fmt: skip
    for value in ("0.10", "0.20", "123456.78", "0.01"):  # SQLite sums these as floats: 123457.09000000001
        ProgressEntryFactory(user=ava, kpi=revenue, date=D(2026, 2, 10), value=Decimal(value))
    rows = services.micro_goals_generate(goal=goal, cadence="weekly", created_by=manager_a, today=D(2026, 3, 4))
    assert sum(r.target for r in rows) == Decimal("876542.91")


def test_generate_enqueues_a_recompute_of_the_new_micro_goals(
    manager_a, team_a, ava, deals, django_capture_on_commit_callbacks
):
    goal = _goal(manager_a, kpi=deals, owner_team=team_a)
    with mock.patch("goals.tasks.recompute_goals.delay") as delay, django_capture_on_commit_callbacks(execute=True):
        rows = services.micro_goals_generate(goal=goal, cadence="weekly", created_by=manager_a)
    delay.assert_called_once_with([goal.id], sorted(r.micro_goal.id for r in rows))


@pytest.mark.parametrize("reps", [1, 4])
def test_generate_costs_a_constant_number_of_queries(manager_a, team_a, deals, django_assert_num_queries, reps):
    for n in range(reps):
        MembershipFactory(team=team_a, user=UserFactory(username=f"rep{n}"))
    goal = _goal(manager_a, kpi=deals, owner_team=team_a, target=1000, due=D(2026, 5, 31))
    # savepoint; lock the goal; manager check (team tree, memberships); "already planned?"; reps (team tree,
    # memberships); calendars (team tree with weekdays, holidays); the cap's overlapping micro goals; ONE insert
    # (SQLite takes up to 62 rows per INSERT: 4 × 13 weeks fit); release.
    with django_assert_num_queries(12):
        rows = services.micro_goals_generate(goal=goal, cadence="weekly", created_by=manager_a)
    assert len(rows) == reps * 13


# --- Re-plan ----------------------------------------------------------------------------------------------------


@pytest.fixture
def planned(manager_a, team_a, ava, ben, deals):
    """A four-week team goal of 120 deals broken down weekly: Ava 16 and Ben 8… per week (weights 5 and 2.5)."""
    goal = _goal(manager_a, kpi=deals, owner_team=team_a, target=120, due=D(2026, 3, 29))
    services.micro_goals_generate(goal=goal, cadence="weekly", created_by=manager_a, today=TODAY)
    return goal


def _log_plan(goal, until):
    """Each assignee logs exactly their micro target for every week ending before `until`."""
    for micro in goal.micro_goals.filter(due_date__lt=until):
        ProgressEntryFactory(user=micro.assignee, kpi=goal.kpi, date=micro.start_date, value=micro.target_value)


def test_replan_on_plan_keeps_past_periods_and_still_sums_to_the_target(planned, manager_a, time_machine):
    time_machine.move_to(datetime.datetime(2026, 3, 18, 9, tzinfo=datetime.UTC), tick=False)
    before = _plan(planned)
    ids_before = list(planned.micro_goals.order_by("start_date", "assignee__username").values_list("id", flat=True))
    _log_plan(planned, until=D(2026, 3, 16))
    services.goal_replan(goal=planned, as_of=D(2026, 3, 18), replanned_by=manager_a, reason="Mid-month check")
    after = _plan(planned)
    assert after[:4] == before[:4]  # weeks 1 and 2 untouched
    assert sum(row[3] for row in after if row[4] != "cancelled") == 120
    ids_after = list(planned.micro_goals.order_by("start_date", "assignee__username").values_list("id", flat=True))
    assert ids_after == ids_before  # the current and future micro goals were updated in place


def test_replan_behind_plan_spreads_what_is_missing_over_the_periods_ahead(
    planned, manager_a, ava, deals, time_machine
):
    time_machine.move_to(datetime.datetime(2026, 3, 18, 9, tzinfo=datetime.UTC), tick=False)
    ProgressEntryFactory(user=ava, kpi=deals, date=D(2026, 3, 4), value=30)  # 30 done in weeks 1–2 instead of 60
    ProgressEntryFactory(user=ava, kpi=deals, date=D(2026, 3, 16), value=2)  # this week: counts for this week
    rows = services.goal_replan(goal=planned, as_of=D(2026, 3, 18), replanned_by=manager_a, reason="Behind")
    assert [(r.assignee.username, r.start, r.target) for r in rows] == [
        ("ava", D(2026, 3, 16), 30),
        ("ben", D(2026, 3, 16), 15),
        ("ava", D(2026, 3, 23), 30),
        ("ben", D(2026, 3, 23), 15),
    ]  # 90 missing, weights 5 : 2.5 each week
    revision = planned.revisions.get(kind=GoalRevision.Kind.REPLANNED)
    assert revision.reason == "Behind" and revision.changed_by == manager_a
    assert revision.changes["future_total"] == ["60", "90"]
    assert revision.changes["replanned_from"][1] == "2026-03-16"
    # The new micro goals' progress is computed at once: Ava's 2 of this week count for her current micro goal.
    current = planned.micro_goals.get(assignee=ava, start_date=D(2026, 3, 16))
    assert current.computed_at is not None and current.current_value == 2


def test_replan_after_a_target_change_uses_the_new_target(planned, manager_a, time_machine):
    time_machine.move_to(datetime.datetime(2026, 3, 18, 9, tzinfo=datetime.UTC), tick=False)
    _log_plan(planned, until=D(2026, 3, 16))
    services.goal_update(goal=planned, changed_by=manager_a, reason="New account", target_value=Decimal(150))
    services.goal_replan(goal=planned, as_of=D(2026, 3, 18), replanned_by=manager_a)
    assert sum(m.target_value for m in planned.micro_goals.exclude(status="cancelled")) == 150


def test_replan_cancels_the_future_micro_goals_of_a_rep_who_left(planned, manager_a, ben, time_machine):
    time_machine.move_to(datetime.datetime(2026, 3, 18, 9, tzinfo=datetime.UTC), tick=False)
    team_services.member_remove(
        removed_by=UserFactory(is_staff=True), membership=Membership.objects.get(user=ben), active_to=D(2026, 3, 17)
    )
    result = services.goal_replan(goal=planned, as_of=D(2026, 3, 18), replanned_by=manager_a)
    ahead = planned.micro_goals.filter(start_date__gte=D(2026, 3, 16))
    assert set(ahead.filter(assignee=ben).values_list("status", flat=True)) == {"cancelled"}
    assert sum(ahead.exclude(status="cancelled").values_list("target_value", flat=True)) == 120
    # The result says so: Ben's two micro goals ahead are removed, each with why; inside the window, no "outside".
    assert [(r.micro_goal.assignee, r.micro_goal.start_date, r.why) for r in result.removed] == [
        (ben, D(2026, 3, 16), "nothing left for this rep"),
        (ben, D(2026, 3, 23), "nothing left for this rep"),
    ]
    assert result.outside_window == [] and result.total_after == 120
    revision = planned.revisions.get(kind=GoalRevision.Kind.REPLANNED)
    assert revision.changes["cancelled_no_share"] == ["", "2"] and "cancelled_outside_window" not in revision.changes


def test_replan_after_the_due_date_moved_earlier_cancels_and_reports_what_lies_outside_the_window(
    planned, manager_a, ava, ben, time_machine
):
    time_machine.move_to(datetime.datetime(2026, 3, 18, 9, tzinfo=datetime.UTC), tick=False)
    _log_plan(planned, until=D(2026, 3, 16))
    services.goal_update(goal=planned, changed_by=manager_a, reason="Early close", due_date=D(2026, 3, 24))
    before = planned.micro_goals.filter(start_date__gte=D(2026, 3, 16)).order_by("start_date", "assignee_id")
    total_before = sum(m.target_value for m in before)
    preview = services.goal_replan(goal=planned, as_of=D(2026, 3, 18), replanned_by=manager_a, preview=True)
    assert {(r.micro_goal.assignee, r.micro_goal.due_date, r.why) for r in preview.removed} == {
        (ava, D(2026, 3, 29), "outside the new window"),
        (ben, D(2026, 3, 29), "outside the new window"),
    }
    assert preview.cutoff == D(2026, 3, 16) and preview.total_before == total_before and preview.count_before == 4
    new = [r for r in preview if r.start == D(2026, 3, 23)]
    assert [(r.end, r.previous, [m.due_date for m in r.replaces]) for r in new] == [
        (D(2026, 3, 24), None, [D(2026, 3, 29)]),
        (D(2026, 3, 24), None, [D(2026, 3, 29)]),
    ]
    assert not planned.revisions.filter(kind=GoalRevision.Kind.REPLANNED).exists()  # a preview writes nothing
    result = services.goal_replan(goal=planned, as_of=D(2026, 3, 18), replanned_by=manager_a)
    assert sum(r.target for r in result) == result.total_after
    assert set(planned.micro_goals.filter(due_date=D(2026, 3, 29)).values_list("status", flat=True)) == {"cancelled"}
    revision = planned.revisions.get(kind=GoalRevision.Kind.REPLANNED)
    assert revision.changes["cancelled_outside_window"] == ["", "2"]
    check = services.plan_check(goal=planned, micro_goals=list(planned.micro_goals.all()), revisions=[])
    assert check.outside == () and not check.stale  # the cancelled ones no longer count


def test_replan_refuses_without_micro_goals_after_the_window_or_when_reached(manager_a, team_a, ava, deals):
    goal = _goal(manager_a, kpi=deals, owner_team=team_a, target=10)
    with pytest.raises(ValidationError, match="generate them first"):
        services.goal_replan(goal=goal, as_of=TODAY, replanned_by=manager_a)
    services.micro_goals_generate(goal=goal, cadence="weekly", created_by=manager_a)
    with pytest.raises(ValidationError, match="nothing left to re-plan"):
        services.goal_replan(goal=goal, as_of=D(2026, 3, 16), replanned_by=manager_a)
    ProgressEntryFactory(user=ava, kpi=deals, date=TODAY, value=10)
    with pytest.raises(ValidationError, match="already reached"):
        services.goal_replan(goal=goal, as_of=D(2026, 3, 10), replanned_by=manager_a)


def test_rep_cannot_replan(planned, ava):
    with pytest.raises(PermissionDenied):
        services.goal_replan(goal=planned, as_of=D(2026, 3, 18), replanned_by=ava)
