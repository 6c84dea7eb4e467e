"""Hard goals: achievability, create, update (with revisions), activate and cancel.

Rules kept here (docs/architecture.md gives the map; the rules are decided here):
- Exactly one owner (a user or a team). Only an admin or a manager of the owner (the team, or a team the owner
  user belongs to) may set or change a goal; reps never do (`goals.selectors.goal_manageable_by` decides).
- A goal may start in the past (a quarter's goal set mid-quarter) but not be due before today.
- target ≠ baseline; a higher-is-better KPI needs target > baseline; a lower-is-better KPI reporting its latest
  value needs target < baseline. A *summed* KPI counts from 0 at the goal's start (the progress engine adds up
  the entries of the window and does not add the baseline), so its baseline must be 0 and the target is the
  whole amount to produce (for a lower-is-better summed KPI, e.g. discount given, a budget for the window).
- Values have at most the KPI's decimal places; only active KPIs take new goals.
- Every change of target, baseline, dates or owner writes a GoalRevision(kind=edited) with
  {"field": [old, new]} as strings; once a goal is active such a change needs a reason.
- Closed (achieved/missed) and cancelled goals are history: they cannot be edited.
"""

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from goals import pace
from goals.models import Goal, GoalRevision, Kpi, MicroGoal
from goals.numbers import decimal_argument, exact_sum, too_many_decimals
from goals.selectors import entry_list_for_owner, goal_manageable_by, owner_calendar
from teams.audit import audit_record
from teams.models import AuditEvent, Team, User
from teams.validators import validate_pacer_date

from .enqueue import enqueue_recompute

RATE_QUANTUM = Decimal("0.0001")  # the stored rates have four decimals, like every value
ACHIEVABLE_MAX_RATIO = Decimal("1.0")  # required ≤ 1.0 × historical
STRETCH_MAX_RATIO = Decimal("1.5")  # required ≤ 1.5 × historical
TRACKED = ("target_value", "baseline_value", "start_date", "due_date", "owner")
EDITABLE = {*TRACKED, "owner_user", "owner_team", "title", "description", "parent", "rationale"}
LIVE = (Goal.Status.DRAFT, Goal.Status.ACTIVE)


# --- Achievability ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Achievability:
    """The verdict on a target and the numbers behind it, as shown to the manager.

    `required_daily_rate`: (target − baseline) per working day left in the window.
    `historical_daily_rate`: the owner's own recent rate per working day on the KPI (None without history);
    for a KPI that reports its latest value, the change of that value per working day.
    """

    verdict: str
    required_daily_rate: Decimal
    historical_daily_rate: Decimal | None
    working_days: int
    history_working_days: int


def achievability_assess(
    *,
    owner_user: User | None = None,
    owner_team: Team | None = None,
    kpi: Kpi,
    target: Decimal,
    baseline: Decimal,
    start: datetime.date,
    due: datetime.date,
    today: datetime.date | None = None,
    current: Decimal | None = None,
) -> Achievability:
    """Compare the daily rate a target needs with the owner's own rate over the recent past.

    Needed: what is left — from `current` (an existing goal's value now: the progress already made counts), else
    from the baseline (a goal not yet tracked) — over the working days left, today included (pace.remaining and
    pace.working_days_left: the goal page's "still needed per working day" is the same figure, rounded up).

    Working days are counted on the owner's calendar (a team's own; a user's current rep team; else Mon–Fri).
    History: the owner's non-voided entries on the KPI over the last PACER["ACHIEVABILITY_HISTORY_WORKING_DAYS"]
    working days before today (a team: all its reps, sub-teams included).

    Verdict, with pressure = what is needed / what has been done:
    - higher-is-better summed KPI: required rate / historical rate;
    - lower-is-better summed KPI (the target is a budget): historical rate / allowed (required) rate, i.e. how
      much the owner must slow down to stay within it;
    - latest-value KPI: required change per day / historical change per day, both in the better direction.
    pressure ≤ 1.0 achievable, ≤ 1.5 stretch, above unrealistic; no entries in the history window: no_history.
    Queries: constant (calendar 2–3, reps 1, entries 1–2).
    """
    _require_one_owner(owner_user, owner_team)
    today = today or timezone.localdate()
    calendar = owner_calendar(owner_user=owner_user, owner_team=owner_team)
    entries = entry_list_for_owner(owner_user=owner_user, owner_team=owner_team)
    working_days = pace.working_days_left(calendar, start=start, due=due, today=today)
    required = Decimal(target) - Decimal(baseline if current is None else current)
    required = required / max(working_days, 1)

    history_days = settings.PACER["ACHIEVABILITY_HISTORY_WORKING_DAYS"]
    history_start = calendar.add_working_days(today, -history_days)
    history = entries.filter(kpi=kpi, voided_at__isnull=True, date__gte=history_start, date__lt=today)
    if kpi.aggregation == Kpi.Aggregation.SUM:
        totals = history.aggregate(total=Sum("value"), n=Count("id"))
        total = exact_sum(totals["total"] or Decimal(0), kpi.quantum)
        historical = total / history_days if totals["n"] else None
    else:
        ordered = history.order_by("date", "id").values_list("value", flat=True)
        first, last = ordered.first(), ordered.last()
        historical = (last - first) / history_days if first is not None else None

    if historical is None:
        verdict = Goal.Achievability.NO_HISTORY
    elif kpi.aggregation == Kpi.Aggregation.SUM and not kpi.higher_is_better:
        verdict = _verdict(needed=historical, done=required)
    else:
        sign = 1 if kpi.higher_is_better else -1
        verdict = _verdict(needed=sign * required, done=sign * historical)
    return Achievability(
        verdict=verdict,
        required_daily_rate=required.quantize(RATE_QUANTUM, ROUND_HALF_UP),
        historical_daily_rate=None if historical is None else historical.quantize(RATE_QUANTUM, ROUND_HALF_UP),
        working_days=working_days,
        history_working_days=history_days,
    )


def _verdict(*, needed: Decimal, done: Decimal) -> str:
    if needed <= 0:  # nothing more than standing still is asked
        return Goal.Achievability.ACHIEVABLE
    if done <= 0:
        return Goal.Achievability.UNREALISTIC
    pressure = needed / done
    if pressure <= ACHIEVABLE_MAX_RATIO:
        return Goal.Achievability.ACHIEVABLE
    if pressure <= STRETCH_MAX_RATIO:
        return Goal.Achievability.STRETCH
    return Goal.Achievability.UNREALISTIC


# --- Create, update, activate, cancel ---------------------------------------------------------------------------


@transaction.atomic
def goal_create(
    *,
    title: str,
    description: str = "",
    kpi: Kpi,
    target_value,
    baseline_value=Decimal(0),
    start_date: datetime.date,
    due_date: datetime.date,
    owner_user: User | None = None,
    owner_team: Team | None = None,
    parent: Goal | None = None,
    rationale: str = "",
    status: str = Goal.Status.ACTIVE,
    created_by: User,
    today: datetime.date | None = None,
) -> Goal:
    """Set a hard goal, with its achievability verdict, and record it in the goal's history."""
    today = today or timezone.localdate()
    _require_one_owner(owner_user, owner_team)
    goal = Goal(
        title=(title or "").strip(),
        description=description,
        kpi=kpi,
        target_value=decimal_argument(target_value, "target_value"),
        baseline_value=decimal_argument(baseline_value, "baseline_value"),
        start_date=start_date,
        due_date=due_date,
        owner_user=owner_user,
        owner_team=owner_team,
        parent=parent,
        rationale=rationale,
        status=status,
        created_by=created_by,
    )
    _require_manager(created_by, goal)
    errors = {}
    if status not in LIVE:
        errors["status"] = "A new goal is either a draft or active; it is closed or cancelled later."
    errors |= goal_value_errors(goal, today=today, due_changed=True)
    if parent is not None:
        errors |= _parent_errors(goal, parent)
    if errors:
        raise ValidationError(errors)
    _assess_into(goal, today=today)
    goal.full_clean()
    goal.save()
    goal_revision_record(
        goal=goal,
        kind=GoalRevision.Kind.CREATED,
        changed_by=created_by,
        reason=rationale,
        changes={field: ["", value] for field, value in _tracked_values(goal).items()},
    )
    enqueue_recompute(goal_ids=[goal.id])
    return goal


@transaction.atomic
def goal_update(
    *,
    goal: Goal,
    changed_by: User,
    reason: str = "",
    today: datetime.date | None = None,
    revision_kind: str = GoalRevision.Kind.EDITED,
    **changes,
) -> Goal:
    """Change a goal's wording, numbers, dates, owner or alignment.

    `changes` may hold title, description, target_value, baseline_value, start_date, due_date, parent,
    rationale and the owner (`owner=<User|Team>`, or `owner_user=` / `owner_team=`). A change of target,
    baseline, dates or owner writes a GoalRevision(kind=edited), needs a reason once the goal is active and
    re-assesses achievability. Micro goals are left as they are: call `goal_replan` to spread the new target.
    `revision_kind` names the revision (e.g. "adjusted" when an app above applies an approved request).
    """
    today = today or timezone.localdate()
    unknown = set(changes) - EDITABLE
    if unknown & {"kpi", "status"}:
        raise ValidationError(
            "A goal's KPI and status cannot be edited: cancel it and set a new goal, or use activate/cancel."
        )
    if unknown:
        raise TypeError(f"goal_update() cannot change {', '.join(sorted(unknown))}.")
    goal = Goal.objects.select_for_update(of=("self",)).select_related("kpi").get(pk=goal.pk)
    _require_manager(changed_by, goal)
    _require_editable(goal)

    before = _tracked_values(goal)
    owner = changes.pop("owner", None)
    if owner is not None:
        changes["owner_user"], changes["owner_team"] = (owner, None) if isinstance(owner, User) else (None, owner)
    elif "owner_user" in changes or "owner_team" in changes:
        changes.setdefault("owner_team" if changes.get("owner_user") else "owner_user", None)
    for field in ("target_value", "baseline_value"):
        if field in changes:
            changes[field] = decimal_argument(changes[field], field)
    if "title" in changes:
        changes["title"] = (changes["title"] or "").strip()
    for field, value in changes.items():
        setattr(goal, field, value)
    _require_one_owner(goal.owner_user, goal.owner_team)

    after = _tracked_values(goal)
    diff = {field: [before[field], after[field]] for field in TRACKED if before[field] != after[field]}
    if "owner" in diff:
        _require_manager(changed_by, goal)  # they must manage the new owner as well
    errors = goal_value_errors(goal, today=today, due_changed="due_date" in diff)
    if "parent" in changes and goal.parent is not None:
        errors |= _parent_errors(goal, goal.parent)
    if diff and goal.status == Goal.Status.ACTIVE and not reason.strip():
        names = [field.replace("_value", "").replace("_", " ") for field in diff]
        changed = " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
        errors["reason"] = (
            f"Say why the {changed} {'changes' if len(names) == 1 else 'change'}: the reason is kept in the goal's history."
        )
    if errors:
        raise ValidationError(errors)
    if diff:
        _assess_into(goal, today=today, window_moved="start_date" in diff)
    goal.full_clean()
    goal.save()
    if diff:
        goal_revision_record(goal=goal, kind=revision_kind, changed_by=changed_by, reason=reason.strip(), changes=diff)
        enqueue_recompute(goal_ids=[goal.id])
    return goal


@transaction.atomic
def goal_activate(*, goal: Goal, activated_by: User, today: datetime.date | None = None) -> Goal:
    """Turn a draft into an active goal (achievability is assessed again, as of today)."""
    today = today or timezone.localdate()
    goal = Goal.objects.select_for_update(of=("self",)).select_related("kpi").get(pk=goal.pk)
    _require_manager(activated_by, goal)
    if goal.status != Goal.Status.DRAFT:
        raise ValidationError(f"Only a draft can be activated; this goal is {goal.get_status_display().lower()}.")
    if goal.due_date < today:
        raise ValidationError({"due_date": f"The due date {goal.due_date:%d %b %Y} has passed; move it first."})
    goal.status = Goal.Status.ACTIVE
    _assess_into(goal, today=today)
    goal.full_clean()
    goal.save()
    goal_revision_record(
        goal=goal, kind=GoalRevision.Kind.EDITED, changed_by=activated_by, changes={"status": ["draft", "active"]}
    )
    enqueue_recompute(goal_ids=[goal.id])
    return goal


@transaction.atomic
def goal_cancel(*, goal: Goal, cancelled_by: User, reason: str) -> Goal:
    """Cancel a draft or active goal and its active micro goals (marked `cancelled_with_goal`, so the goal's page
    still shows the plan it had). Kept as history, with the reason."""
    goal = Goal.objects.select_for_update(of=("self",)).get(pk=goal.pk)
    _require_manager(cancelled_by, goal)
    _require_editable(goal)
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why the goal is cancelled: the reason is kept in its history."})
    old_status = goal.status
    goal.status = Goal.Status.CANCELLED
    goal.closed_at = timezone.now()
    goal.full_clean()
    goal.save()
    goal.micro_goals.filter(status=MicroGoal.Status.ACTIVE).update(
        status=MicroGoal.Status.CANCELLED, cancelled_with_goal=True
    )
    goal_revision_record(
        goal=goal,
        kind=GoalRevision.Kind.CANCELLED,
        changed_by=cancelled_by,
        reason=reason.strip(),
        changes={"status": [old_status, Goal.Status.CANCELLED]},
    )
    return goal


# --- Shared checks ----------------------------------------------------------------------------------------------


def goal_revision_record(*, goal: Goal, kind: str, changed_by: User, reason: str = "", changes: dict) -> GoalRevision:
    """The goal's timeline entry and the audit event for one change, written inside the caller's transaction
    (every service that changes a goal calls this, so the two can never disagree)."""
    revision = GoalRevision.objects.create(goal=goal, kind=kind, changed_by=changed_by, reason=reason, changes=changes)
    changed = "; ".join(f"{field} {old or '—'} → {new}" for field, (old, new) in changes.items())
    audit_record(
        kind=AuditEvent.Kind.GOAL_REVISION,
        actor=changed_by,
        subject_user=goal.owner_user,
        summary=f"{GoalRevision.Kind(kind).label}: goal “{goal.title}” ({goal.owner}): {changed}",
        data={"goal_id": goal.pk, "revision_id": revision.pk, "kind": kind, "changes": changes, "reason": reason},
    )
    return revision


def _require_one_owner(owner_user, owner_team) -> None:
    if (owner_user is None) == (owner_team is None):
        raise ValidationError({"owner_user": "Choose exactly one owner for the goal: a person or a team."})


def _require_manager(user: User, goal: Goal) -> None:
    if not goal_manageable_by(user=user, goal=goal):
        raise PermissionDenied(
            f"Only an admin or a manager of {goal.owner} can set or change goals for {goal.owner}; "
            "reps can ask their manager for an adjustment."
        )


def _require_editable(goal: Goal) -> None:
    if goal.status == Goal.Status.CANCELLED:
        raise ValidationError("This goal is cancelled and kept as history; set a new goal instead.")
    if goal.status not in LIVE:
        raise ValidationError(
            f"This goal is closed ({goal.get_status_display().lower()}) and kept as history; set a new goal instead."
        )


def goal_value_errors(goal: Goal, *, today: datetime.date, due_changed: bool) -> dict[str, str]:
    """Every rule on the numbers and dates of a goal, as {field: message} (also of an unsaved one: the live
    achievability check refuses what saving would refuse)."""
    kpi, target, baseline = goal.kpi, goal.target_value, goal.baseline_value
    errors = window_errors(goal.start_date, goal.due_date)
    if not kpi.is_active:
        errors["kpi"] = f"The KPI “{kpi}” is retired; choose an active KPI."
    if "start_date" in errors or "due_date" in errors:
        pass  # out of range: the order of the dates is the next thing to fix
    elif goal.start_date > goal.due_date:
        errors["due_date"] = (
            f"The due date ({goal.due_date:%d %b %Y}) is before the start date ({goal.start_date:%d %b %Y}); "
            "move one of them."
        )
    elif due_changed and goal.due_date < today:
        errors["due_date"] = f"The due date {goal.due_date:%d %b %Y} has already passed; choose today or later."
    for field, value in (("target_value", target), ("baseline_value", baseline)):
        if value % kpi.quantum:
            errors[field] = too_many_decimals(kpi, value)
    if kpi.aggregation == Kpi.Aggregation.SUM and baseline != 0 and "baseline_value" not in errors:
        errors["baseline_value"] = (
            f"{kpi} adds up what is logged from the goal's start, so its baseline is 0; "
            "put the whole amount to reach in the target."
        )
    if "target_value" not in errors:
        if target == baseline:
            errors["target_value"] = "The target equals the baseline, so there is nothing to achieve; change it."
        elif kpi.higher_is_better and target < baseline:
            errors["target_value"] = f"Higher is better for {kpi}: set a target above the baseline ({baseline})."
        elif not kpi.higher_is_better and kpi.aggregation == Kpi.Aggregation.LAST and target > baseline:
            errors["target_value"] = f"Lower is better for {kpi}: set a target below the baseline ({baseline})."
    return errors


def window_errors(start: datetime.date, due: datetime.date) -> dict[str, str]:
    """A goal window's bounds, as {field: message}: both dates in the stored range (teams.validators) and at
    most PACER["MAX_GOAL_DAYS"] days long, so no page or breakdown works through decades of days. The
    forms call it too, so a preview or an achievability check refuses what saving would refuse."""
    errors = {}
    for field, day in (("start_date", start), ("due_date", due)):
        try:
            validate_pacer_date(day)
        except ValidationError as error:
            errors[field] = error.messages[0]
    longest = settings.PACER["MAX_GOAL_DAYS"]
    if not errors and (due - start).days + 1 > longest:
        errors["due_date"] = (
            f"The window from {start:%d %b %Y} to {due:%d %b %Y} is {(due - start).days + 1:,} days long; a goal "
            f"spans at most {longest:,} days (about {longest / 365.25:.0f} years): split it into shorter goals."
        )
    return errors


def _parent_errors(goal: Goal, parent: Goal) -> dict[str, str]:
    if parent.status == Goal.Status.CANCELLED:
        return {"parent": f"“{parent}” is cancelled; align the goal with a live goal instead."}
    node, seen = parent, set()
    while node is not None and node.pk not in seen:  # a few levels at most: org → region → team → rep
        if goal.pk and node.pk == goal.pk:
            return {"parent": "A goal cannot be aligned under itself or one of its own sub-goals."}
        seen.add(node.pk)
        node = node.parent
    return {}


def _assess_into(goal: Goal, *, today: datetime.date, window_moved: bool = False) -> None:
    """Assess the goal as it now stands: from its current value once the engine has computed it over this same
    window (a moved start changes which entries count: then from the baseline, as for a new goal)."""
    tracked = goal.pk is not None and goal.computed_at is not None and not window_moved
    result = achievability_assess(
        owner_user=goal.owner_user,
        owner_team=goal.owner_team,
        kpi=goal.kpi,
        target=goal.target_value,
        baseline=goal.baseline_value,
        start=goal.start_date,
        due=goal.due_date,
        today=today,
        current=goal.current_value if tracked else None,
    )
    goal.achievability = result.verdict
    goal.required_daily_rate = result.required_daily_rate
    goal.historical_daily_rate = result.historical_daily_rate


def _tracked_values(goal: Goal) -> dict[str, str]:
    """The revisioned fields as strings: decimals at the KPI's places, dates ISO, owner "user:<id>"/"team:<id>"."""
    quantum = goal.kpi.quantum

    def number(value: Decimal) -> str:
        return str(value.quantize(quantum) if not value % quantum else value)

    return {
        "target_value": number(goal.target_value),
        "baseline_value": number(goal.baseline_value),
        "start_date": goal.start_date.isoformat(),
        "due_date": goal.due_date.isoformat(),
        "owner": f"user:{goal.owner_user_id}" if goal.owner_user_id else f"team:{goal.owner_team_id}",
    }
