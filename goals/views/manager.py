"""Manager pages: the team dashboard, setting a target (SMART form, live achievability, breakdown preview) and
bulk targets. Managers and admins only: anyone who manages no team gets a 403.

Everything a manager can pick (teams, reps, owners, parent goals) is limited to what they manage, server-side;
a forged id is a form error and nothing is saved. Services decide every rule; these views translate.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from goals import charts, pace, selectors, services
from goals.forms import ACHIEVABILITY_FIELDS, CADENCE_CHOICES, BulkTargetsForm, DashboardFilterForm, GoalCreateForm
from goals.models import Goal, Kpi
from goals.templatetags.pacer import kpi_value
from teams.calendar import WorkingCalendar, org_today
from teams.models import Membership
from teams.selectors import (
    calendars_for_reps,
    team_get_managed_by,
    team_ids_with_descendants,
    team_members,
    teams_managed_by,
)
from teams.web import add_service_errors, manager_required

NO_BREAKDOWN = "none"
SERVICE_FIELDS = {"owner_user": "owner", "owner_team": "owner", "assignees": "owner"}


# --- Achievability as shown to the manager (also on the goal page) ---------------------------------------------

VERDICTS = {
    Goal.Achievability.ACHIEVABLE: ("text-bg-success", "The owner's own recent pace already covers it."),
    Goal.Achievability.STRETCH: ("text-bg-warning", "It needs up to 1.5 × the owner's recent pace: a stretch."),
    Goal.Achievability.UNREALISTIC: ("text-bg-danger", "It needs more than 1.5 × the owner's recent pace."),
    Goal.Achievability.NO_HISTORY: ("text-bg-secondary", "Nothing logged on this KPI recently to compare with."),
}


@dataclass(frozen=True)
class Verdict:
    label: str
    css: str
    note: str
    required: str  # still needed per working day, formatted by the one rule (rounded up to the KPI's step)
    historical: str | None
    working_days: int | None = None
    history_days: int | None = None
    problem: bool = False  # the form's figures would be refused: `note` says why, there are no rates


def format_rate(value, kpi) -> str:
    """A past daily rate (the owner's recent pace) with the KPI's unit and at least two decimals ("2.35 per day"
    must not read as "2"). What is still *needed* per day follows pace.needed_per_day instead."""
    if value is None:
        return "—"
    return kpi_value(
        value, Kpi(unit=kpi.unit, currency_code=kpi.currency_code, decimal_places=max(2, kpi.decimal_places))
    )


def verdict_display(*, verdict, required, historical, kpi, working_days=None, history_days=None) -> Verdict | None:
    if not verdict:
        return None
    css, note = VERDICTS[verdict]
    return Verdict(
        label=Goal.Achievability(verdict).label,
        css=css,
        note=note,
        required=kpi_value(pace.needed_per_day(required, kpi.quantum), kpi),
        historical=None if historical is None else format_rate(historical, kpi),
        working_days=working_days,
        history_days=history_days,
    )


# --- Team dashboard (its reads: goals.selectors.dashboard_*) ---------------------------------------------------


def period_bounds(period: str, today: datetime.date, start=None, end=None) -> tuple[datetime.date, datetime.date]:
    if period == "custom" and start and end:
        return start, end
    if period == "quarter":
        first_month = 3 * ((today.month - 1) // 3) + 1
        first = today.replace(month=first_month, day=1)
    else:
        first = today.replace(day=1)
    next_first = (first + datetime.timedelta(days=32 * (3 if period == "quarter" else 1))).replace(day=1)
    return first, next_first - datetime.timedelta(days=1)


REP_SEARCH_MAX = 100  # longer than any name: a longer ?q= is cut, never an error
TABLE_FILTERS = ("team", "period", "start", "end", "goal")  # what the rep table's search and order keep


@manager_required
def dashboard(request):
    """The manager's home page. Queries: constant in the number of reps (see test_manager_pages).

    The rep table is paged (selectors.DASHBOARD_PAGE_SIZE a page, `?page=`, in the `?sort=` order, narrowed
    by `?q=`); its summary counts every rep. The table's own links (pages, sort, search) ask htmx for the
    table alone (`#reps`), which skips the team goals and the chart."""
    today = timezone.localdate()
    teams = teams_managed_by(user=request.user, team_ids=request.managed_team_ids)
    form = DashboardFilterForm(request.GET or None, teams=teams)
    team, period, start, end = None, "month", None, None
    if form.is_bound and form.is_valid():
        team, period = form.cleaned_data["team"], form.cleaned_data["period"]
        start, end = form.cleaned_data.get("start"), form.cleaned_data.get("end")
    start, end = period_bounds(period, today, start, end)
    team_ids = team_ids_with_descendants([team.id]) if team else request.managed_team_ids

    reps = selectors.dashboard_reps(
        team_ids=team_ids,
        start=start,
        end=end,
        today=today,
        sort=request.GET.get("sort", ""),
        search=request.GET.get("q", "").strip()[:REP_SEARCH_MAX],
        page=request.GET.get("page"),
    )
    context = {
        "form": form,
        "team": team,
        "period_start": start,
        "period_end": end,
        "reps": reps,
        "rows": reps.page.object_list,
        "sorts": selectors.DASHBOARD_SORTS,
        "table_query": _without(request.GET, "page"),  # the filters, sort and search the page links keep
        "table_filters": [(k, v) for k in TABLE_FILTERS for v in request.GET.getlist(k)],  # kept by a search
        "today": today,
        "needs_attention": reps.needs_attention,
    }
    # A fragment for htmx's own swaps; a history restore (back to a pushed ?page=) wants the whole page.
    fragment = request.htmx and not request.htmx.history_restore_request
    if fragment and request.htmx.target == "reps":
        return render(request, "goals/dashboard.html#reps", context)
    team_goals = selectors.dashboard_team_goals(team_ids=team_ids, start=start, end=end)
    chart_goal = _chosen(team_goals, request.GET.get("goal"))
    # The chart is drawn on the organisation's date, as the engine's figures and the goal page are.
    burnup = charts.goal_burnup(chart_goal, today=org_today()) if chart_goal else None
    context |= {
        "team_goals": team_goals,
        "chart_goal": chart_goal,
        "burnup": burnup,
        "chart_data": burnup.chart_data() if burnup else None,
        "filter_query": _without(request.GET, "goal"),
    }
    template = "goals/dashboard.html#results" if fragment else "goals/dashboard.html"
    return render(request, template, context)


def _without(query, name) -> str:
    query = query.copy()
    query.pop(name, None)
    return query.urlencode()


def _chosen(goals: list[Goal], goal_id) -> Goal | None:
    """The goal picked for the chart (only among the listed ones), else the first active one, else the first."""
    by_id = {str(g.id): g for g in goals}
    if goal_id in by_id:
        return by_id[goal_id]
    return next((g for g in goals if g.status == Goal.Status.ACTIVE), goals[0] if goals else None)


# --- Plans that know the team changed (a fragment the team page loads) -----------------------------------------


@login_required
@require_GET
def team_plans_affected(request, team_id):
    """HTMX fragment for the team page: the live breakdowns of the team (its goals and its reps') whose micro goals
    ahead a plan made today would set differently, each linked to its goal page to re-plan. Empty when none.
    Managers of the team only (404 / 403 as the team page). Queries: a few per live breakdown."""
    team = team_get_managed_by(user=request.user, id=team_id)
    today = timezone.localdate()
    affected = []
    for goal in selectors.goal_list_with_plans_ahead(team=team, today=today):
        changed = services.micro_goals_out_of_date(goal=goal, as_of=today)
        if changed:
            affected.append((goal, changed))
    return render(request, "goals/dashboard.html#plans_affected", {"affected": affected, "team": team})


# --- Set a target -----------------------------------------------------------------------------------------------


@dataclass
class PlanPeriod:
    start: datetime.date
    end: datetime.date
    working_days: int
    holidays: list[datetime.date]
    total: Decimal = Decimal(0)


@dataclass
class PlanRep:
    user: object
    capacity: Decimal
    cells: dict = field(default_factory=dict)  # {(start, end): PlanRow}
    total: Decimal = Decimal(0)


@dataclass
class PlanTable:
    """The preview as a matrix: reps down, periods across, totals on both sides."""

    kpi: object
    periods: list[PlanPeriod]
    reps: list[PlanRep]
    total: Decimal
    already_achieved: Decimal | None  # taken off because the goal started before the first planned period; None: a
    # plan as it stands (its rows need not add up to what is left: the rep may be ahead of or behind it)

    def rep_cells(self):
        for rep in self.reps:
            yield rep, [(p, rep.cells.get((p.start, p.end))) for p in self.periods]


def plan_table(goal: Goal, rows, *, calendars_by_user: dict, planned: bool = True) -> PlanTable:
    """`planned`: the rows are a breakdown just made (a preview, a re-plan): they add up exactly to the target less
    the baseline less what was achieved before them. Otherwise they are the plan as it stands, which says nothing
    of what was achieved."""
    periods: dict[tuple, PlanPeriod] = {}
    reps: dict[int, PlanRep] = {}
    for row in rows:
        key = (row.start, row.end)
        if key not in periods:
            calendar = calendars_by_user.get(row.assignee.pk, WorkingCalendar())
            holidays = sorted(
                h for h in calendar.holidays if row.start <= h <= row.end and h.isoweekday() in calendar.weekdays
            )
            periods[key] = PlanPeriod(row.start, row.end, row.working_days, holidays)
        rep = reps.setdefault(row.assignee.pk, PlanRep(row.assignee, row.capacity))
        rep.cells[key] = row
        rep.total += row.target
        periods[key].total += row.target
    total = sum((p.total for p in periods.values()), Decimal(0))
    return PlanTable(
        kpi=goal.kpi,
        periods=sorted(periods.values(), key=lambda p: p.start),
        reps=sorted(reps.values(), key=lambda r: str(r.user).casefold()),
        total=total,
        already_achieved=goal.target_value - goal.baseline_value - total if planned else None,
    )


def _goal_kwargs(form) -> dict:
    return {k: v for k, v in form.service_kwargs().items() if k != "cadence"}


def _preview(form, user, cadence) -> tuple[Goal, PlanTable | None]:
    """Run goal_create and the breakdown preview inside a transaction that is rolled back: the same rules and
    messages as the real thing, and nothing written. Raises the services' ValidationError."""
    with transaction.atomic():
        goal = services.goal_create(**_goal_kwargs(form), created_by=user)
        rows = []
        if cadence != NO_BREAKDOWN:
            rows = services.micro_goals_generate(goal=goal, cadence=cadence, preview=True, created_by=user)
        calendars = calendars_for_reps(user_ids={row.assignee.pk for row in rows})
        transaction.set_rollback(True)
    return goal, (plan_table(goal, rows, calendars_by_user=calendars) if rows else None)


def _add_errors(form, error):
    if isinstance(error, PermissionDenied):
        form.add_error("owner", str(error) or "You do not manage this owner.")
    else:
        add_service_errors(form, error, rename=SERVICE_FIELDS)


def _create_form(request, data=None):
    return GoalCreateForm(
        data,
        user=request.user,
        team_ids=request.managed_team_ids,
        achievability_url=reverse("goal_achievability"),
    )


@manager_required
def goal_create(request):
    """Step 1: the SMART form. Step 2 (POST step=preview): the breakdown preview with a cadence picker.
    POST step=confirm: the goal and its micro goals are saved together (one transaction: all or nothing)."""
    step = request.POST.get("step", "edit") if request.method == "POST" else "edit"
    form = _create_form(request, request.POST if request.method == "POST" else None)
    context = {"form": form, "step": "edit", "cadence_choices": CADENCE_CHOICES}
    if request.method == "POST" and form.is_valid() and step in ("preview", "confirm"):
        cadence = _cadence(request)
        try:
            if step == "confirm":
                goal, count = _save(form, request.user, cadence)
            else:
                goal, table = _preview(form, request.user, cadence)
        except (ValidationError, PermissionDenied) as error:
            _add_errors(form, error)
        else:
            if step == "confirm":
                messages.success(
                    request,
                    f"Goal “{goal.title}” set"
                    + (f" with {count} micro goal{'s' if count != 1 else ''}." if count else "."),
                )
                return redirect("goal_detail", goal.id)
            context.update(step="preview", goal=goal, table=table, cadence=cadence)
    if form.is_bound:
        context["assessment"] = _assess(form)
    return render(request, "goals/goal_form.html", context)


def _cadence(request) -> str:
    cadence = request.POST.get("cadence")
    return cadence if cadence in dict(CADENCE_CHOICES) else "weekly"


def _save(form, user, cadence) -> tuple[Goal, int]:
    """The goal and its micro goals, saved; returns the goal and how many micro goals it got."""
    with transaction.atomic():  # goal_create and micro_goals_generate are one unit: a refused plan saves nothing
        goal = services.goal_create(**_goal_kwargs(form), created_by=user)
        rows = []
        if cadence != NO_BREAKDOWN:
            rows = services.micro_goals_generate(goal=goal, cadence=cadence, created_by=user)
    # The page the manager lands on shows fresh figures (the background recompute follows anyway).
    services.progress_recompute(goal_ids=[goal.id], micro_goal_ids=[row.micro_goal.id for row in rows])
    return goal, len(rows)


def _assess(form):
    """The achievability verdict for what the form holds so far, or None while a needed field is missing."""
    data = form.cleaned_data if hasattr(form, "cleaned_data") else {}
    if any(data.get(name) is None for name in ACHIEVABILITY_FIELDS) or data["due_date"] < data["start_date"]:
        return None
    owner_user, owner_team = data["owner"]
    typed = Goal(kpi=data["kpi"], target_value=data["target_value"], baseline_value=data["baseline_value"],
                 start_date=data["start_date"], due_date=data["due_date"])  # fmt: skip
    problems = services.goal_value_errors(typed, today=timezone.localdate(), due_changed=True)
    if problems:  # saving would refuse it: say why, never call it achievable
        return Verdict(label="Not valid yet", css="text-bg-secondary", note=" ".join(problems.values()),
                       required="—", historical=None, problem=True)  # fmt: skip
    result = services.achievability_assess(
        owner_user=owner_user,
        owner_team=owner_team,
        kpi=data["kpi"],
        target=data["target_value"],
        baseline=data["baseline_value"],
        start=data["start_date"],
        due=data["due_date"],
    )
    return verdict_display(
        verdict=result.verdict,
        required=result.required_daily_rate,
        historical=result.historical_daily_rate,
        kpi=data["kpi"],
        working_days=result.working_days,
        history_days=result.history_working_days,
    )


@manager_required
@require_POST
def goal_achievability(request):
    """HTMX fragment: the verdict and both daily rates for the form as typed so far. Queries: constant."""
    form = _create_form(request, request.POST)
    form.is_valid()
    assessment = _assess(form)
    return render(
        request,
        "goals/goal_form.html#achievability",
        {"assessment": assessment, "kpi": form.cleaned_data.get("kpi"), "form": form},
    )


@manager_required
@require_POST
def goal_create_preview(request):
    """HTMX fragment: the breakdown table for another cadence (the form's values come along hidden)."""
    form = _create_form(request, request.POST)
    cadence = _cadence(request)
    context = {"form": form, "cadence": cadence, "table": None, "step": "preview"}
    if form.is_valid():
        try:
            context["goal"], context["table"] = _preview(form, request.user, cadence)
        except (ValidationError, PermissionDenied) as error:
            _add_errors(form, error)
    return render(request, "goals/goal_form.html#breakdown", context)


# --- Bulk targets -----------------------------------------------------------------------------------------------


class _Rollback(Exception):
    pass


@manager_required
def goal_bulk(request):
    """One KPI and window for every rep of a team, each rep with their own target; saved in ONE transaction."""
    teams = teams_managed_by(user=request.user, team_ids=request.managed_team_ids)
    source = request.POST if request.method == "POST" else request.GET
    team_id = source.get("team", "")
    team = next((t for t in teams if str(t.id) == team_id), None)
    reps = list(team_members(team=team, role=Membership.Role.REP)) if team else []
    if request.method == "POST":
        form = BulkTargetsForm(request.POST, teams=teams, reps=reps)
    else:
        initial = {k: v for k, v in request.GET.items() if k in ("team", "kpi", "title", "start_date", "due_date")}
        form = BulkTargetsForm(initial=initial, teams=teams, reps=reps)
    form.fields["team"].widget.attrs.update(
        {
            "hx-get": reverse("goal_bulk"),
            "hx-trigger": "change",
            "hx-target": "#bulk-rows",
            "hx-sync": "this:queue last",
        }
    )
    if request.htmx and request.method == "GET":
        return render(request, "goals/bulk_targets.html#rows", {"form": form, "team": team})
    if request.method == "POST" and form.is_valid():
        created = _bulk_save(form, request.user)
        if created:
            services.progress_recompute(goal_ids=[goal.id for goal in created], micro_goal_ids=[])
            messages.success(request, f"{len(created)} goals set for {form.cleaned_data['team']}.")
            return redirect(f"{reverse('dashboard')}?team={form.cleaned_data['team'].id}")
    return render(request, "goals/bulk_targets.html", {"form": form, "team": team})


def _bulk_save(form, user) -> list[Goal]:
    """Every row's goal, or none: the first error does not stop the others being checked (all row errors show),
    and any error rolls the whole batch back."""
    data, created = form.cleaned_data, []
    common = ("kpi", "start_date", "due_date", "title", "rationale")
    try:
        with transaction.atomic():
            for membership, bound in form.rows():
                target = data.get(bound.name)
                if target is None:
                    continue
                try:
                    with transaction.atomic():
                        created.append(
                            services.goal_create(
                                title=data["title"],
                                kpi=data["kpi"],
                                target_value=target,
                                baseline_value=Decimal(0),
                                start_date=data["start_date"],
                                due_date=data["due_date"],
                                owner_user=membership.user,
                                rationale=data["rationale"],
                                created_by=user,
                            )
                        )
                except PermissionDenied as error:
                    form.add_error(bound.name, str(error))
                except ValidationError as error:
                    for name, messages_ in _error_dict(error).items():
                        target_field = name if name in common else bound.name
                        for message in messages_:
                            if message not in form.errors.get(target_field, []):
                                form.add_error(target_field, message)
            if form.errors:
                raise _Rollback
    except _Rollback:
        return []
    return created


def _error_dict(error: ValidationError) -> dict:
    return error.message_dict if hasattr(error, "error_dict") else {"target_value": error.messages}
