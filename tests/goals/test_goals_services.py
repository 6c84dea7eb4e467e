"""Hard goals: achievability, create, update with revisions, activate, cancel."""

import datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from goals import services
from goals.models import Goal, GoalRevision, Kpi, MicroGoal
from teams.calendar import WorkingCalendar
from tests.factories import GoalFactory, KpiFactory, MembershipFactory, ProgressEntryFactory, TeamFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("monday_2_march")]

D = datetime.date
TODAY = D(2026, 3, 2)  # a Monday
DUE = D(2026, 3, 27)  # Friday four weeks later: 20 working days from TODAY


def _history(user, kpi, per_day, days=60):
    """`per_day` on each of the `days` working days before TODAY (the achievability window)."""
    calendar, day = WorkingCalendar(), TODAY
    for _ in range(days):
        day = calendar.add_working_days(day, -1)
        ProgressEntryFactory(user=user, kpi=kpi, date=day, value=Decimal(per_day))


def _create(**overrides):
    fields = {
        "title": "Close 20 deals in March",
        "kpi": overrides.pop("kpi", None),
        "target_value": Decimal(20),
        "start_date": TODAY,
        "due_date": DUE,
        "today": TODAY,
    }
    return services.goal_create(**(fields | overrides))


# --- Achievability ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "verdict"),
    [("20", "achievable"), ("30", "stretch"), ("31", "unrealistic")],
)
def test_achievability_compares_required_rate_with_own_history(rep_a, deals, target, verdict):
    _history(rep_a, deals, per_day=1)  # 60 deals over 60 working days: 1 a day
    result = services.achievability_assess(
        owner_user=rep_a, kpi=deals, target=Decimal(target), baseline=Decimal(0), start=TODAY, due=DUE, today=TODAY
    )
    assert result.verdict == verdict
    assert result.working_days == 20
    assert result.required_daily_rate == Decimal(target) / 20
    assert result.historical_daily_rate == Decimal(1)
    assert result.history_working_days == 60


def test_achievability_without_history_says_so(rep_a, deals):
    result = services.achievability_assess(
        owner_user=rep_a, kpi=deals, target=Decimal(5), baseline=Decimal(0), start=TODAY, due=DUE, today=TODAY
    )
    assert (result.verdict, result.historical_daily_rate) == ("no_history", None)


def test_achievability_ignores_voided_and_old_entries_and_other_kpis(rep_a, deals):
    ProgressEntryFactory(user=rep_a, kpi=deals, date=D(2025, 1, 6), value=1000)  # long before the window
    ProgressEntryFactory(user=rep_a, kpi=KpiFactory(name="Calls"), date=D(2026, 2, 27), value=1000)
    ProgressEntryFactory(
        user=rep_a,
        kpi=deals,
        date=D(2026, 2, 27),
        value=1000,
        voided_at=datetime.datetime.now(datetime.UTC),
        void_reason="typo",
    )
    result = services.achievability_assess(
        owner_user=rep_a, kpi=deals, target=Decimal(5), baseline=Decimal(0), start=TODAY, due=DUE, today=TODAY
    )
    assert result.verdict == "no_history"


def test_achievability_counts_from_today_for_a_goal_that_started_in_the_past(rep_a, deals):
    _history(rep_a, deals, per_day=1)
    result = services.achievability_assess(
        owner_user=rep_a, kpi=deals, target=Decimal(10), baseline=Decimal(0), start=D(2026, 2, 2), due=D(2026, 3, 13),
        today=TODAY,
    )  # fmt: skip
    assert (result.working_days, result.required_daily_rate, result.verdict) == (10, Decimal(1), "achievable")


def test_achievability_of_a_lower_is_better_budget_is_mirrored(rep_a):
    discount = KpiFactory(name="Discount days", direction=Kpi.Direction.LOWER)
    _history(rep_a, discount, per_day=1)  # uses 1 a day
    verdicts = [
        services.achievability_assess(
            owner_user=rep_a,
            kpi=discount,
            target=Decimal(budget),
            baseline=Decimal(0),
            start=TODAY,
            due=DUE,
            today=TODAY,
        ).verdict
        for budget in (40, 15, 10)  # allows 2, 0.75 and 0.5 a day
    ]
    assert verdicts == ["achievable", "stretch", "unrealistic"]


def test_achievability_of_a_team_counts_its_reps_in_sub_teams_but_not_managers(team_a, manager_a, rep_a, deals):
    sub = TeamFactory(parent=team_a)
    sub_rep = MembershipFactory(team=sub).user
    _history(rep_a, deals, per_day=1)
    _history(sub_rep, deals, per_day=1)
    _history(manager_a, deals, per_day=5)  # a manager's own entries do not count for the team
    result = services.achievability_assess(
        owner_team=team_a, kpi=deals, target=Decimal(40), baseline=Decimal(0), start=TODAY, due=DUE, today=TODAY
    )
    assert (result.historical_daily_rate, result.required_daily_rate, result.verdict) == (2, 2, "achievable")


def test_achievability_costs_a_constant_number_of_queries(team_a, rep_a, deals, django_assert_num_queries):
    for _ in range(5):
        _history(MembershipFactory(team=team_a).user, deals, per_day=1, days=20)
    # Team: team tree with weekdays + holidays for the calendar, team tree for the reps, one aggregate.
    with django_assert_num_queries(4):
        services.achievability_assess(
            owner_team=team_a, kpi=deals, target=Decimal(40), baseline=Decimal(0), start=TODAY, due=DUE, today=TODAY
        )
    # User: rep membership, then calendar (team tree with weekdays, holidays), one aggregate.
    with django_assert_num_queries(4):
        services.achievability_assess(
            owner_user=rep_a, kpi=deals, target=Decimal(40), baseline=Decimal(0), start=TODAY, due=DUE, today=TODAY
        )


# --- goal_create ------------------------------------------------------------------------------------------------


def test_manager_creates_rep_goal_with_verdict_rates_and_a_created_revision(manager_a, rep_a, deals):
    _history(rep_a, deals, per_day=1)
    goal = _create(kpi=deals, owner_user=rep_a, created_by=manager_a, target_value=Decimal(25))
    assert goal.status == "active"
    assert (goal.achievability, goal.required_daily_rate, goal.historical_daily_rate) == ("stretch", Decimal("1.25"), 1)
    revision = goal.revisions.get()
    assert revision.kind == GoalRevision.Kind.CREATED and revision.changed_by == manager_a
    assert revision.changes["target_value"] == ["", "25"]
    assert revision.changes["owner"] == ["", f"user:{rep_a.id}"]


def test_goal_create_enqueues_a_recompute_of_the_new_goal_after_commit(
    manager_a, team_a, deals, django_capture_on_commit_callbacks
):
    with mock.patch("goals.tasks.recompute_goals.delay") as delay, django_capture_on_commit_callbacks(execute=True):
        goal = _create(kpi=deals, owner_team=team_a, created_by=manager_a)
    delay.assert_called_once_with([goal.id], [])


def test_goal_may_start_in_the_past(manager_a, rep_a, deals):
    goal = _create(kpi=deals, owner_user=rep_a, created_by=manager_a, start_date=D(2026, 1, 1))
    assert goal.start_date == D(2026, 1, 1)


def test_admin_may_create_a_goal_for_any_team(admin_user, team_b, deals):
    assert _create(kpi=deals, owner_team=team_b, created_by=admin_user).owner == team_b


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"start_date": D(2026, 3, 28)}, "due_date", "before the start date"),
        ({"start_date": D(2026, 2, 1), "due_date": D(2026, 2, 27)}, "due_date", "already passed"),
        ({"target_value": Decimal(0)}, "target_value", "equals the baseline"),
        ({"target_value": Decimal("20.5")}, "target_value", "takes whole numbers only"),
        ({"target_value": Decimal(-5)}, "target_value", "above the baseline"),
        ({"baseline_value": Decimal(3)}, "baseline_value", "baseline is 0"),
        ({"status": "achieved"}, "status", "draft or active"),
        ({"target_value": "lots"}, "target_value", "not a number"),
        ({"title": "  "}, "title", "blank"),
    ],
)
def test_goal_create_rejects_each_rule_with_a_message_and_writes_nothing(
    manager_a, rep_a, deals, overrides, field, message
):
    with pytest.raises(ValidationError) as error:
        _create(kpi=deals, owner_user=rep_a, created_by=manager_a, **overrides)
    assert field in error.value.message_dict
    assert message in " ".join(error.value.message_dict[field])
    assert not Goal.objects.exists() and not GoalRevision.objects.exists()


def test_goal_create_rejects_a_retired_kpi(manager_a, rep_a):
    retired = KpiFactory(name="Faxes sent", is_active=False)
    with pytest.raises(ValidationError, match="retired"):
        _create(kpi=retired, owner_user=rep_a, created_by=manager_a)
    assert not Goal.objects.exists()


def test_goal_create_on_a_lower_is_better_level_needs_a_target_below_the_baseline(manager_a, rep_a):
    days_to_close = KpiFactory(name="Days to close", aggregation="last", direction="lower")
    with pytest.raises(ValidationError, match="below the baseline"):
        _create(kpi=days_to_close, owner_user=rep_a, created_by=manager_a, baseline_value=30, target_value=35)
    goal = _create(kpi=days_to_close, owner_user=rep_a, created_by=manager_a, baseline_value=30, target_value=20)
    assert goal.achievability == "no_history"


@pytest.mark.parametrize("owners", [{}, {"both": True}])
def test_goal_create_needs_exactly_one_owner(manager_a, rep_a, team_a, deals, owners):
    kwargs = {"owner_user": rep_a, "owner_team": team_a} if owners else {}
    with pytest.raises(ValidationError, match="exactly one owner"):
        _create(kpi=deals, created_by=manager_a, **kwargs)
    assert not Goal.objects.exists()


def test_rep_cannot_create_goals_even_for_themself(rep_a, deals):
    with pytest.raises(PermissionDenied, match="manager"):
        _create(kpi=deals, owner_user=rep_a, created_by=rep_a)
    assert not Goal.objects.exists()


def test_manager_cannot_create_goals_for_another_team_or_its_reps(manager_a, team_b, rep_b, deals):
    for owner in ({"owner_team": team_b}, {"owner_user": rep_b}):
        with pytest.raises(PermissionDenied):
            _create(kpi=deals, created_by=manager_a, **owner)
    assert not Goal.objects.exists()


def test_goal_create_refuses_a_cancelled_parent(manager_a, team_a, rep_a, deals):
    parent = GoalFactory(owner_team=team_a, kpi=deals, status="cancelled")
    with pytest.raises(ValidationError, match="cancelled"):
        _create(kpi=deals, owner_user=rep_a, created_by=manager_a, parent=parent)


# --- goal_update ------------------------------------------------------------------------------------------------


@pytest.fixture
def goal(manager_a, rep_a, deals):
    return _create(kpi=deals, owner_user=rep_a, created_by=manager_a)


def test_goal_update_without_reason_on_an_active_goal_is_refused(goal, manager_a):
    with pytest.raises(ValidationError) as error:
        services.goal_update(goal=goal, changed_by=manager_a, target_value=Decimal(30))
    assert "Say why the target changes" in error.value.message_dict["reason"][0]
    goal.refresh_from_db()
    assert goal.target_value == 20 and goal.revisions.count() == 1


def test_goal_update_revision_records_old_and_new_values(goal, manager_a):
    services.goal_update(
        goal=goal, changed_by=manager_a, reason="Big account moved to March", target_value=Decimal(30),
        due_date=D(2026, 3, 31), title="Close 30 deals",
    )  # fmt: skip
    goal.refresh_from_db()
    assert (goal.title, goal.target_value, goal.due_date) == ("Close 30 deals", 30, D(2026, 3, 31))
    revision = goal.revisions.filter(kind=GoalRevision.Kind.EDITED).get()
    assert revision.reason == "Big account moved to March" and revision.changed_by == manager_a
    assert revision.changes == {"target_value": ["20", "30"], "due_date": ["2026-03-27", "2026-03-31"]}


def test_goal_update_of_wording_needs_no_reason_and_writes_no_revision(goal, manager_a):
    services.goal_update(goal=goal, changed_by=manager_a, description="Focus on renewals")
    assert goal.revisions.count() == 1


def test_goal_update_reassesses_achievability(goal, manager_a, rep_a, deals):
    _history(rep_a, deals, per_day=1)
    services.goal_update(goal=goal, changed_by=manager_a, reason="stretch", target_value=Decimal(29))
    goal.refresh_from_db()
    assert goal.achievability == "stretch"


def test_achievability_of_a_goal_being_changed_counts_the_progress_already_made(goal, manager_a, rep_a, deals):
    """Lowering a target the rep has mostly reached must not read "unrealistic": what is needed is what is LEFT
    over the days left — the goal page's "still needed per working day", before its rounding up."""
    _history(rep_a, deals, per_day=Decimal("0.25"))  # a slow rep: 15 deals over the last 60 working days
    Goal.objects.filter(id=goal.id).update(
        current_value=14, computed_at=datetime.datetime(2026, 3, 2, tzinfo=datetime.UTC)
    )
    goal.refresh_from_db()
    services.goal_update(goal=goal, changed_by=manager_a, reason="fair", target_value=Decimal(18), today=TODAY)
    goal.refresh_from_db()
    # (18 − 14) ÷ 20 working days = 0.2 a day against 0.25: achievable. From the baseline it would be 18 ÷ 20 = 0.9,
    # 3.6× the pace: "unrealistic".
    assert (goal.required_daily_rate, goal.achievability) == (Decimal("0.2"), "achievable")


def test_achievability_of_a_goal_whose_start_moved_counts_from_the_baseline(goal, manager_a, rep_a, deals):
    """A moved start changes which entries count: the stored current value is of the old window, so it is not used."""
    _history(rep_a, deals, per_day=1)
    Goal.objects.filter(id=goal.id).update(
        current_value=19, computed_at=datetime.datetime(2026, 3, 2, tzinfo=datetime.UTC)
    )
    goal.refresh_from_db()
    services.goal_update(goal=goal, changed_by=manager_a, reason="later", start_date=D(2026, 3, 9), today=TODAY)
    goal.refresh_from_db()
    assert goal.required_daily_rate == Decimal("1.3333")  # 20 ÷ the 15 working days from 9 March, not (20 − 19) ÷ 15


def test_draft_goal_can_change_without_a_reason_and_then_be_activated(manager_a, rep_a, deals):
    draft = _create(kpi=deals, owner_user=rep_a, created_by=manager_a, status="draft")
    services.goal_update(goal=draft, changed_by=manager_a, target_value=Decimal(22))
    services.goal_activate(goal=draft, activated_by=manager_a, today=TODAY)
    draft.refresh_from_db()
    assert (draft.status, draft.target_value) == ("active", 22)
    assert [r.kind for r in draft.revisions.order_by("id")] == ["created", "edited", "edited"]


def test_goal_update_moving_the_owner_needs_a_manager_of_the_new_owner(goal, manager_a, admin_user, team_b):
    with pytest.raises(PermissionDenied):
        services.goal_update(goal=goal, changed_by=manager_a, reason="reorg", owner=team_b)
    services.goal_update(goal=goal, changed_by=admin_user, reason="reorg", owner=team_b)
    goal.refresh_from_db()
    assert (goal.owner_user, goal.owner_team) == (None, team_b)
    assert goal.revisions.filter(kind="edited").get().changes["owner"][1] == f"team:{team_b.id}"


def test_goal_update_refuses_closed_and_cancelled_goals(goal, manager_a):
    Goal.objects.filter(pk=goal.pk).update(status="achieved")
    with pytest.raises(ValidationError, match="closed"):
        services.goal_update(goal=goal, changed_by=manager_a, reason="x", target_value=Decimal(30))
    Goal.objects.filter(pk=goal.pk).update(status="cancelled")
    with pytest.raises(ValidationError, match="cancelled"):
        services.goal_update(goal=goal, changed_by=manager_a, title="x")


def test_rep_cannot_update_own_goal(goal, rep_a):
    with pytest.raises(PermissionDenied):
        services.goal_update(goal=goal, changed_by=rep_a, reason="I want less", target_value=Decimal(5))


def test_goal_update_refuses_the_kpi_and_a_parent_cycle(goal, manager_a, team_a, deals):
    with pytest.raises(ValidationError, match="KPI"):
        services.goal_update(goal=goal, changed_by=manager_a, kpi=KpiFactory(name="Calls"))
    child = GoalFactory(owner_team=team_a, kpi=deals, parent=goal)
    with pytest.raises(ValidationError, match="under itself"):
        services.goal_update(goal=goal, changed_by=manager_a, parent=child)


# --- goal_cancel ------------------------------------------------------------------------------------------------


def test_goal_cancel_needs_a_reason(goal, manager_a):
    with pytest.raises(ValidationError, match="Say why"):
        services.goal_cancel(goal=goal, cancelled_by=manager_a, reason=" ")
    goal.refresh_from_db()
    assert goal.status == "active"


def test_goal_cancel_cancels_its_active_micro_goals_and_keeps_history(goal, manager_a, rep_a):
    active = MicroGoal.objects.create(
        goal=goal, assignee=rep_a, kpi=goal.kpi, target_value=5, start_date=TODAY, due_date=D(2026, 3, 8)
    )
    done = MicroGoal.objects.create(
        goal=goal, assignee=rep_a, kpi=goal.kpi, target_value=5, start_date=TODAY, due_date=TODAY, status="achieved"
    )
    services.goal_cancel(goal=goal, cancelled_by=manager_a, reason="Territory reassigned")
    goal.refresh_from_db()
    active.refresh_from_db()
    done.refresh_from_db()
    assert (goal.status, active.status, done.status) == ("cancelled", "cancelled", "achieved")
    assert goal.closed_at is not None
    revision = goal.revisions.get(kind="cancelled")
    assert (revision.reason, revision.changes) == ("Territory reassigned", {"status": ["active", "cancelled"]})
    with pytest.raises(ValidationError, match="cancelled"):
        services.goal_cancel(goal=goal, cancelled_by=manager_a, reason="again")


def test_goal_create_rejects_float_values(manager_a, rep_a, deals):
    with pytest.raises(TypeError, match="float"):
        _create(kpi=deals, owner_user=rep_a, created_by=manager_a, target_value=20.0)


def test_manager_cannot_set_own_personal_goal(manager_a, deals):
    with pytest.raises(PermissionDenied):
        _create(kpi=deals, owner_user=manager_a, created_by=manager_a)


@pytest.mark.parametrize("code", ["DOL", "dollars", "", "US"])
def test_kpi_create_refuses_a_currency_code_outside_iso_4217(code):
    with pytest.raises(ValidationError) as error:
        services.kpi_create(name="Revenue", unit=Kpi.Unit.CURRENCY, decimal_places=2, currency_code=code)
    assert "ISO 4217" in str(error.value.message_dict["currency_code"])
    assert not Kpi.objects.filter(name="Revenue").exists()


def test_kpi_create_takes_an_iso_4217_code_in_any_case():
    assert services.kpi_create(name="Revenue", unit=Kpi.Unit.CURRENCY, currency_code="jpy").currency_code == "JPY"
