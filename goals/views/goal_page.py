"""The goal page, shared by everyone who may see a goal, and the manager's actions on it: edit, re-plan, cancel.

Seeing: `goal_get_for_user` (404 alike for missing and not-yours). Acting: `goal_manageable_by` (403 for someone
who may see the goal but not change it, e.g. a rep of the owner team). The services check it again.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from goals import breakdown, charts, pace, services
from goals.figures import figures_for
from goals.forms import GoalEditForm, ReasonForm
from goals.models import Goal, GoalRevision, MicroGoal
from goals.selectors import (
    goal_get_for_user,
    goal_get_managed_by,
    goal_manageable_by,
    micro_goal_list_for_goal,
    revision_list_for_goal,
)
from goals.services.goals import LIVE
from goals.templatetags.pacer import kpi_value
from goals.views.manager import verdict_display
from teams.calendar import org_today
from teams.web import add_service_errors

FIELD_LABELS = {
    "target_value": "Target",
    "baseline_value": "Baseline",
    "start_date": "Start",
    "due_date": "Due",
    "owner": "Owner",
    "status": "Status",
    "future_total": "Still to plan",
    "future_micro_goals": "Micro goals ahead",
    "replanned_from": "Re-planned from",
    "cancelled_outside_window": "Cancelled, outside the goal's window",
    "cancelled_no_share": "Cancelled, nothing left for the rep",
}
# A re-plan's facts that are not an "old → new" pair: shown as one sentence each.
SENTENCES = {
    "replanned_from": "The periods from {value} on were re-planned",
    "cancelled_outside_window": "{value} micro goal{s} cancelled: outside the goal's window (kept as history)",
    "cancelled_no_share": "{value} micro goal{s} cancelled: nothing left for the rep (kept as history)",
}


@dataclass
class Change:
    label: str
    old: str
    new: str
    sentence: str = ""  # set: shown instead of "label: old → new"


@dataclass
class PeriodSummary:
    start: datetime.date
    end: datetime.date
    target: Decimal
    current: Decimal
    count: int
    is_current: bool
    outside: bool = False  # not inside the goal's window (its dates moved since the plan was made)


def _verdict(goal: Goal):
    return verdict_display(
        verdict=goal.achievability,
        required=goal.required_daily_rate,
        historical=goal.historical_daily_rate,
        kpi=goal.kpi,
    )


def _micro_goal_views(goal: Goal, today) -> tuple[list[PeriodSummary], list[MicroGoal], list[MicroGoal]]:
    """The plan by period, the micro goals of the current period (else the next one), and all of them. One query.
    A closed goal's plan has no "current" period: it shows every micro goal it had, with its status."""
    micro_goals = list(micro_goal_list_for_goal(goal=goal))
    periods: dict[tuple, PeriodSummary] = {}
    for micro in micro_goals:
        key = (micro.start_date, micro.due_date)
        summary = periods.get(key)
        if summary is None:
            summary = periods[key] = PeriodSummary(
                micro.start_date, micro.due_date, Decimal(0), Decimal(0), 0, micro.start_date <= today <= micro.due_date
            )
            summary.outside = not breakdown.Period(micro.start_date, micro.due_date).inside(
                goal.start_date, goal.due_date
            )
        summary.target += micro.target_value
        summary.current += micro.current_value
        summary.count += 1
        micro.attainment = pace.attainment_percent(
            current=micro.current_value, baseline=Decimal(0), target=micro.target_value
        )  # the table shows attainment only; a micro goal's full figures are on Today
    ordered = sorted(periods.values(), key=lambda p: p.start)
    if goal.status not in LIVE:
        for summary in ordered:
            summary.is_current = False
        return ordered, [], micro_goals
    focus = next((p for p in ordered if p.is_current), None) or next((p for p in ordered if p.start > today), None)
    focus_rows = [m for m in micro_goals if focus and (m.start_date, m.due_date) == (focus.start, focus.end)]
    return ordered, focus_rows, micro_goals


def _timeline(goal: Goal) -> list[GoalRevision]:
    """Revisions newest first, each with readable changes. Queries: 1, plus at most 2 to name changed owners."""
    revisions, names = revision_list_for_goal(goal=goal)
    for revision in revisions:
        revision.readable = []
        for name, pair in revision.changes.items():
            if not (isinstance(pair, list | tuple) and len(pair) == 2):
                continue
            change = Change(
                FIELD_LABELS.get(name, name.replace("_", " ").capitalize()),
                *(_show(name, v, goal, names) for v in pair),
            )
            if name in SENTENCES:
                change.sentence = SENTENCES[name].format(value=change.new, s="" if change.new == "1" else "s")
            revision.readable.append(change)
    return revisions


def _closing(goal: Goal, revisions: list[GoalRevision]) -> GoalRevision | None:
    """A closed goal's closing revision (cancelled, or closed at its deadline), from the loaded timeline."""
    if goal.status in LIVE:
        return None
    kinds = (GoalRevision.Kind.CANCELLED, GoalRevision.Kind.CLOSED)
    return next((r for r in revisions if r.kind in kinds), None)


def _show(name: str, value, goal: Goal, names: dict) -> str:
    if value in ("", None):
        return "—"
    if name in ("target_value", "baseline_value", "future_total"):
        return kpi_value(value, goal.kpi)
    if name.endswith("_date") or name == "replanned_from":
        try:
            day = datetime.date.fromisoformat(value)
            return f"{day.day} {day:%b %Y}"
        except ValueError:
            return str(value)
    if name == "owner":
        return names.get(value, value)
    if name == "status":
        return dict(Goal.Status.choices).get(value, value)
    return str(value)


def render_goal_page(request, goal: Goal, *, replan_form=None, cancel_form=None, replan_preview=None, status=200):
    today = org_today()
    calendar = charts.goal_calendar(goal, today=today)
    burnup = charts.goal_burnup(goal, today=today, calendar=calendar)
    periods, focus_rows, micro_goals = _micro_goal_views(goal, today)
    can_manage = goal.status in LIVE and goal_manageable_by(user=request.user, goal=goal)
    revisions = _timeline(goal)
    context = {
        "goal": goal,
        "today": today,
        "figures": figures_for(goal, calendar=calendar, today=today),
        "verdict": _verdict(goal),
        "burnup": burnup,
        "chart_data": burnup.chart_data() if burnup.days else None,
        "periods": periods,
        "focus_rows": focus_rows,
        "micro_goals": micro_goals,
        "revisions": revisions,
        "closed": goal.status not in LIVE,  # the template hides every forward-looking figure of a closed goal
        "closing": _closing(goal, revisions),
        "can_manage": can_manage,
        "replan_form": replan_form or ReasonForm(required=False, prefix="replan"),
        "replan_preview": replan_preview,
        "plan_out_of_date": (services.micro_goals_out_of_date(goal=goal, as_of=today) if can_manage and periods else 0),
        "plan_check": (
            services.plan_check(goal=goal, micro_goals=micro_goals, revisions=revisions)
            if can_manage and periods
            else None
        ),
        "cancel_form": cancel_form or ReasonForm(prefix="cancel"),
        # h7: new entries wait for the coalesced background recompute (one query)
        "updating": goal.id in services.stale_target_ids(goal_ids=[goal.id])[0],
    }
    return render(request, "goals/goal_detail.html", context, status=status)


@login_required
def goal_detail(request, goal_id):
    """Queries: constant whatever the number of reps, micro goals and entries (see test_goal_page)."""
    return render_goal_page(request, goal_get_for_user(user=request.user, id=goal_id))


@login_required
def goal_edit(request, goal_id):
    goal = goal_get_managed_by(user=request.user, id=goal_id)
    if goal.status not in LIVE:
        messages.error(request, f"This goal is {goal.get_status_display().lower()} and kept as history.")
        return redirect("goal_detail", goal.id)
    form = GoalEditForm(request.POST or None, user=request.user, goal=goal)
    if request.method == "POST" and form.is_valid():
        changes = form.service_kwargs()
        before = (goal.target_value, goal.baseline_value), (goal.start_date, goal.due_date)
        try:
            goal = services.goal_update(
                goal=goal, changed_by=request.user, reason=form.cleaned_data["reason"], **changes
            )
        except ValidationError as error:
            goal.refresh_from_db()
            add_service_errors(form, error, rename={"owner_user": "owner", "owner_team": "owner"})
        except PermissionDenied as error:
            form.add_error("owner", str(error))
        else:
            services.progress_recompute(goal_ids=[goal.id], micro_goal_ids=[])  # fresh figures on the goal page
            messages.success(request, f"Goal “{goal.title}” saved.")
            after = (goal.target_value, goal.baseline_value), (goal.start_date, goal.due_date)
            moved = [what for what, old, new in zip(("target", "dates"), before, after, strict=True) if old != new]
            if moved:
                _say_plan_out_of_date(request, goal, moved)
            return redirect("goal_detail", goal.id)
    return render(request, "goals/goal_edit.html", {"goal": goal, "form": form})


def _say_plan_out_of_date(request, goal: Goal, moved: list[str]) -> None:
    """After an edit of the target or the dates: say what changed and which micro goals now lie outside the goal's
    window, when the goal has a live plan on its KPI. One query."""
    active = list(goal.micro_goals.filter(kpi_id=goal.kpi_id, status=MicroGoal.Status.ACTIVE))
    if not active:
        return
    check = services.plan_check(goal=goal, micro_goals=active, revisions=[])
    words = " and the ".join(moved)
    text = f"The {words} changed, so the micro goals no longer match the goal."
    if check.outside:
        spans = ", ".join(f"{_span(p.start, p.end)}" for p in check.outside)
        text += (
            f" {check.outside_count} micro goal{'' if check.outside_count == 1 else 's'} now lie outside its window "
            f"({spans}): a re-plan cancels them (kept as history)."
        )
    messages.info(request, text + " Re-plan to spread the target over the periods ahead.")


def _span(start: datetime.date, end: datetime.date) -> str:
    return f"{start.day} {start:%b}" + ("" if end == start else f" – {end.day} {end:%b}")


@login_required
@require_POST
def goal_replan(request, goal_id):
    """Re-plan in two steps: first the preview (what each rep's micro goals become, nothing written), then, with
    step=confirm, the re-plan itself."""
    goal = goal_get_managed_by(user=request.user, id=goal_id)
    form = ReasonForm(request.POST, required=False, prefix="replan")
    confirm = request.POST.get("step") == "confirm"
    if form.is_valid():
        try:
            rows = services.goal_replan(
                goal=goal,
                as_of=timezone.localdate(),
                replanned_by=request.user,
                reason=form.cleaned_data["reason"],
                preview=not confirm,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if confirm:
                cancelled = f"; {len(rows.removed)} cancelled (kept as history)" if rows.removed else ""
                messages.success(
                    request, f"Re-planned: {len(rows)} micro goals from now on share what is left{cancelled}."
                )
                return redirect("goal_detail", goal.id)
            return render_goal_page(request, goal, replan_form=form, replan_preview=rows)
    return render_goal_page(request, goal, replan_form=form)


@login_required
@require_POST
def goal_cancel(request, goal_id):
    goal = goal_get_managed_by(user=request.user, id=goal_id)
    form = ReasonForm(request.POST, prefix="cancel")
    if form.is_valid():
        try:
            services.goal_cancel(goal=goal, cancelled_by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Goal “{goal.title}” cancelled. It stays in the history.")
            return redirect("goal_detail", goal.id)
    return render_goal_page(request, goal, cancel_form=form)
