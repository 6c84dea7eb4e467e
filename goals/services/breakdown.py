"""Micro goals: break a hard goal down (with a preview) and re-plan it. The arithmetic lives in goals/breakdown.py.

Decisions (see also the docstrings below):
- What is split: for a goal on a summed KPI, micro targets add up EXACTLY to target − baseline (the amount to
  produce inside the window; for a lower-is-better summed KPI that is a budget, and each micro target is that
  period's share of it). A goal on a latest-value KPI (a rate, a level) cannot be split into per-period amounts:
  it is broken down on a leading indicator instead.
- Leading indicators: pass `kpi=<a summed KPI>` and `leading_target=<its total over the planned periods>`; the
  split is then of that total. A goal may carry one breakdown on its own KPI and one per leading indicator.
- Who: a team goal goes to every current rep of the team and its sub-teams (or the `assignees` chosen among
  them), each with their membership capacity and their own team's calendar; a personal goal goes to its owner
  (their rep capacity, or 1). Weight = capacity × working days of the period. Slots whose share rounds to
  nothing get no micro goal.
- Past periods: generation starts at the period containing `today`; what the owner already achieved before it
  is taken off the total (a goal set mid-quarter plans only what is still to be done).
- Re-plan keeps every micro goal of the periods that ended before the period containing `as_of`, and spreads
  what is still missing — (target − baseline) − what was achieved before that period — over the current and
  future periods with fresh weights. Micro goals of those periods are updated in place (same ids, so links and
  awards stay valid); the ones that get nothing are cancelled (kept as history); missing ones are created.
  So achieved-before + the new micro targets = target − baseline exactly, and when the owner was exactly on
  plan, the micro targets of all periods still add up to it exactly. Assignees stay those of the existing
  plan (a rep who left the team gets nothing further).
- Status: micro goals are given out for active goals; a draft can be previewed. Re-plan needs an active goal.
- Overload: no rep may have more than PACER["MAX_ACTIVE_MICRO_GOALS_PER_REP"] active micro goals whose windows
  overlap on any one day; generation (and its preview) refuses with a message naming the rep.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from goals import breakdown
from goals.models import Goal, GoalRevision, Kpi, MicroGoal
from goals.numbers import decimal_argument, exact_sum, too_many_decimals
from goals.selectors import entry_list_for_owner, goal_manageable_by
from teams.calendar import WorkingCalendar
from teams.models import Membership, User
from teams.selectors import calendars_for_teams, rep_membership, team_members

from .engine import progress_recompute
from .enqueue import enqueue_recompute
from .goals import goal_revision_record

ONE_DAY = datetime.timedelta(days=1)
PLANNABLE = (Goal.Status.DRAFT, Goal.Status.ACTIVE)


@dataclass
class PlanRow:
    """One micro goal of a plan: shown by the preview, created (or kept up to date) otherwise."""

    assignee: User
    kpi: Kpi
    start: datetime.date
    end: datetime.date
    working_days: int
    capacity: Decimal
    weight: Decimal
    target: Decimal
    micro_goal: MicroGoal | None = None
    previous: Decimal | None = None  # re-plan: the target this rep and period had before (None: a new micro goal)
    replaces: list[MicroGoal] = field(default_factory=list)  # re-plan: the rep's removed micro goals it overlaps


OUTSIDE_WINDOW = "outside the new window"
NO_SHARE = "nothing left for this rep"


@dataclass
class RemovedMicroGoal:
    """A micro goal a re-plan cancels (kept as history): why, and its target until then."""

    micro_goal: MicroGoal
    why: str  # OUTSIDE_WINDOW | NO_SHARE


class Replan(list[PlanRow]):
    """What `goal_replan` returns: the rows of the current and future periods (a list, as before), and what else
    the re-plan does: the micro goals it cancels, the periods it starts from and the totals before and after."""

    def __init__(self, rows, *, removed, cutoff, total_before, total_after, count_before):
        super().__init__(rows)
        self.removed: list[RemovedMicroGoal] = removed
        self.cutoff: datetime.date = cutoff
        self.total_before: Decimal = total_before  # the micro goals from `cutoff` on, before the re-plan
        self.total_after: Decimal = total_after
        self.count_before: int = count_before

    @property
    def outside_window(self) -> list[RemovedMicroGoal]:
        return [r for r in self.removed if r.why == OUTSIDE_WINDOW]


@transaction.atomic
def micro_goals_generate(
    *,
    goal: Goal,
    cadence: str,
    assignees: list[User] | None = None,
    kpi: Kpi | None = None,
    leading_target=None,
    preview: bool = False,
    created_by: User,
    today: datetime.date | None = None,
) -> list[PlanRow]:
    """Break the goal into micro goals per assignee and period; with preview=True nothing is written.

    Refused when the goal already has micro goals on that KPI (re-plan them instead), when nobody has a working
    day in the window, or when a rep would go over the cap on concurrently active micro goals.
    """
    today = today or timezone.localdate()
    goal = (
        Goal.objects.select_for_update(of=("self",)).select_related("kpi", "owner_team", "owner_user").get(pk=goal.pk)
    )
    _require_plannable(created_by, goal, preview=preview)
    if cadence not in breakdown.CADENCES:
        raise ValidationError({"cadence": f"Choose a cadence: {', '.join(breakdown.CADENCES)}."})
    micro_kpi, total = _what_to_split(goal, kpi, leading_target)
    if goal.micro_goals.filter(kpi=micro_kpi).exclude(status=MicroGoal.Status.CANCELLED).exists():
        raise ValidationError(f"This goal already has micro goals on {micro_kpi}; use re-plan to change them.")

    ahead = [p for p in breakdown.periods(goal.start_date, goal.due_date, cadence) if p.end >= today]
    _check_period_count(ahead, cadence)
    if not ahead:
        raise ValidationError(f"The goal ended on {goal.due_date:%d %b %Y}; there is nothing left to plan.")
    if micro_kpi == goal.kpi and ahead[0].start > goal.start_date:
        achieved = _achieved(goal, until=ahead[0].start - ONE_DAY)
        total -= achieved
        if total <= 0:
            raise ValidationError(
                f"{goal.owner} already reached the target ({achieved} before {ahead[0].start:%d %b %Y}); "
                "there is nothing left to plan."
            )

    people = _assignees(goal, chosen=assignees)
    rows = _plan(micro_kpi, total, ahead, people)
    _check_cap(rows)
    if preview:
        return rows
    micro_goals = []
    for row in rows:
        micro = MicroGoal(
            goal=goal,
            assignee=row.assignee,
            kpi=micro_kpi,
            target_value=row.target,
            start_date=row.start,
            due_date=row.end,
        )
        # The foreign keys were just loaded and the two check constraints hold by construction (periods never end
        # before they start; allocate() hands out positive targets only): skip the per-row queries they cost.
        micro.full_clean(exclude=["goal", "assignee", "kpi"], validate_constraints=False)
        micro_goals.append(micro)
        row.micro_goal = micro
    MicroGoal.objects.bulk_create(micro_goals)
    enqueue_recompute(goal_ids=[goal.id], micro_goal_ids=[m.id for m in micro_goals])
    return rows


@transaction.atomic
def goal_replan(
    *,
    goal: Goal,
    as_of: datetime.date | None = None,
    replanned_by: User,
    reason: str = "",
    preview: bool = False,
) -> Replan:
    """Spread what is still missing of the target over the current and future periods (see the module notes).

    Re-plans the micro goals on the goal's own KPI; leading-indicator micro goals are left as they are.
    Returns the rows of the current and future periods, each with `previous` (the target the micro goal of that
    rep and period had, None for a new one) and `replaces` (that rep's removed micro goals it overlaps), and with
    `removed`: every micro goal from the cutoff on that gets nothing (cancelled, kept as history), each saying why
    (outside the goal's window after a date change, or nothing left for that rep), and the totals before and
    after. With `preview`, the same rules and messages and nothing written.
    """
    as_of = as_of or timezone.localdate()
    goal = (
        Goal.objects.select_for_update(of=("self",)).select_related("kpi", "owner_team", "owner_user").get(pk=goal.pk)
    )
    _require_plannable(replanned_by, goal)
    existing = list(
        goal.micro_goals.filter(kpi=goal.kpi).exclude(status=MicroGoal.Status.CANCELLED).select_related("assignee")
    )
    if not existing:
        raise ValidationError(f"This goal has no micro goals on {goal.kpi} yet; generate them first.")
    if as_of > goal.due_date:
        raise ValidationError(f"The goal ended on {goal.due_date:%d %b %Y}; there is nothing left to re-plan.")
    cadence = breakdown.infer_cadence([breakdown.Period(m.start_date, m.due_date) for m in existing])
    window = breakdown.periods(goal.start_date, goal.due_date, cadence)
    ahead = [p for p in window if p.end >= max(as_of, goal.start_date)]
    _check_period_count(ahead, cadence)
    cutoff = ahead[0].start
    replaced = [m for m in existing if m.due_date >= cutoff]

    total = goal.target_value - goal.baseline_value
    achieved = _achieved(goal, until=cutoff - ONE_DAY) if cutoff > goal.start_date else Decimal(0)
    missing = total - achieved
    if missing <= 0:
        raise ValidationError(
            f"{goal.owner} already reached the target ({achieved} of {total} before {cutoff:%d %b %Y}); "
            "there is nothing left to re-plan."
        )
    by_id = {}
    for micro in existing:
        by_id.setdefault(micro.assignee_id, micro.assignee)
    people = _assignees(goal, chosen=list(by_id.values()), keep_leavers=True)
    rows = _plan(goal.kpi, missing, ahead, people)

    old_total = sum((m.target_value for m in replaced), Decimal(0))
    current = {(m.assignee_id, m.start_date, m.due_date): m for m in replaced}
    to_update, to_create = [], []
    for row in rows:
        micro = current.pop((row.assignee.id, row.start, row.end), None)
        if micro is None:
            micro = MicroGoal(goal=goal, assignee=row.assignee, kpi=goal.kpi, start_date=row.start, due_date=row.end)
            to_create.append(micro)
        else:
            to_update.append(micro)
        row.previous = None if micro.pk is None else micro.target_value
        micro.target_value, micro.status = row.target, MicroGoal.Status.ACTIVE
        micro.full_clean(exclude=["goal", "assignee", "kpi"], validate_constraints=False)  # as in generate
        row.micro_goal = micro
    removed = []
    for micro in sorted(current.values(), key=lambda m: (m.start_date, m.assignee_id)):  # kept as history
        outside = not breakdown.Period(micro.start_date, micro.due_date).inside(goal.start_date, goal.due_date)
        removed.append(RemovedMicroGoal(micro, OUTSIDE_WINDOW if outside else NO_SHARE))
        for row in rows:
            if row.assignee.id == micro.assignee_id and row.start <= micro.due_date and micro.start_date <= row.end:
                row.replaces.append(micro)
        micro.status = MicroGoal.Status.CANCELLED
        to_update.append(micro)
    result = Replan(
        rows, removed=removed, cutoff=cutoff, total_before=old_total, total_after=missing, count_before=len(replaced)
    )
    if preview:
        return result
    MicroGoal.objects.bulk_update(to_update, ["target_value", "status"])
    MicroGoal.objects.bulk_create(to_create)

    changes = {
        "future_total": [_fmt(old_total, goal.kpi), _fmt(missing, goal.kpi)],
        "future_micro_goals": [str(len(replaced)), str(len(rows))],
        "replanned_from": ["", cutoff.isoformat()],
    }
    if result.outside_window:
        changes["cancelled_outside_window"] = ["", str(len(result.outside_window))]
    if len(removed) > len(result.outside_window):
        changes["cancelled_no_share"] = ["", str(len(removed) - len(result.outside_window))]
    goal_revision_record(
        goal=goal, kind=GoalRevision.Kind.REPLANNED, changed_by=replanned_by, reason=reason.strip(), changes=changes
    )
    progress_recompute(goal_ids=[goal.id], micro_goal_ids=[row.micro_goal.id for row in rows])
    return result


def micro_goals_out_of_date(*, goal: Goal, as_of: datetime.date) -> int:
    """How many micro goals of the periods ahead (starting after `as_of`) a plan made today would set differently:
    the same total over the same periods, split by today's reps, capacities and working days. Non-zero when the
    team changed inside a live breakdown (a holiday added, a capacity changed, a rep joined or left); progress
    does not count (that is what a re-plan also catches up). Read-only. Queries: constant (5–7)."""
    ahead = list(
        goal.micro_goals.filter(kpi_id=goal.kpi_id, status=MicroGoal.Status.ACTIVE, start_date__gt=as_of)
        .order_by("start_date")
        .values_list("assignee_id", "start_date", "due_date", "target_value")
    )
    if not ahead:
        return 0
    planned = {(user_id, start, end): target for user_id, start, end, target in ahead}
    period_list = sorted({breakdown.Period(start, end) for _, start, end in planned}, key=lambda p: p.start)
    try:
        rows = _plan(goal.kpi, sum(planned.values(), Decimal(0)), period_list, _assignees(goal, chosen=None))
    except ValidationError:  # nobody left to plan for: every micro goal ahead would change
        return len(planned)
    fresh = {(row.assignee.pk, row.start, row.end): row.target for row in rows if row.target}
    return sum(1 for key in planned.keys() | fresh.keys() if planned.get(key) != fresh.get(key))


@dataclass(frozen=True)
class OutsidePeriod:
    """Micro goals of one period that lie outside their goal's window: how many, and their targets' sum."""

    start: datetime.date
    end: datetime.date
    count: int
    target: Decimal


@dataclass(frozen=True)
class PlanCheck:
    """Why a live plan no longer fits its goal, beyond the team changes `micro_goals_out_of_date` counts.

    `changed`: "target" and/or "dates" when an edit or an approved adjustment changed them after the plan was last
    made (its newest micro goal, or its last re-plan). `outside`: the active micro goals on the goal's KPI that no
    longer lie inside the goal's window, by period (a re-plan cancels them, kept as history)."""

    changed: tuple[str, ...] = ()
    outside: tuple[OutsidePeriod, ...] = ()

    @property
    def stale(self) -> bool:
        return bool(self.changed or self.outside)

    @property
    def outside_count(self) -> int:
        return sum(p.count for p in self.outside)


TARGET_FIELDS, DATE_FIELDS = {"target_value", "baseline_value"}, {"start_date", "due_date"}


def plan_check(*, goal: Goal, micro_goals: list[MicroGoal], revisions: list[GoalRevision]) -> PlanCheck:
    """The plan's fit to the goal, from the goal's micro goals and revisions the caller already loaded (the goal
    page: micro_goal_list_for_goal, revision_list_for_goal). Pure: no query."""
    own = [m for m in micro_goals if m.kpi_id == goal.kpi_id and m.status == MicroGoal.Status.ACTIVE]
    if not own:
        return PlanCheck()
    made = max(m.created_at for m in own)
    made = max([made] + [r.changed_at for r in revisions if r.kind == GoalRevision.Kind.REPLANNED])
    changed = set()
    for revision in revisions:
        if revision.kind in (GoalRevision.Kind.EDITED, GoalRevision.Kind.ADJUSTED) and revision.changed_at > made:
            fields = set(revision.changes)
            changed |= {"target"} if fields & TARGET_FIELDS else set()
            changed |= {"dates"} if fields & DATE_FIELDS else set()
    outside: dict[tuple, list[MicroGoal]] = {}
    for micro in own:
        if not breakdown.Period(micro.start_date, micro.due_date).inside(goal.start_date, goal.due_date):
            outside.setdefault((micro.start_date, micro.due_date), []).append(micro)
    return PlanCheck(
        changed=tuple(sorted(changed, reverse=True)),  # "target" before "dates"
        outside=tuple(
            OutsidePeriod(start, end, len(ms), sum((m.target_value for m in ms), Decimal(0)))
            for (start, end), ms in sorted(outside.items())
        ),
    )


# --- Helpers ----------------------------------------------------------------------------------------------------


def _require_plannable(user: User, goal: Goal, *, preview: bool = False) -> None:
    """A manager of the goal; an active goal (a draft may be previewed, its micro goals given out once active)."""
    if not goal_manageable_by(user=user, goal=goal):
        raise PermissionDenied(f"Only an admin or a manager of {goal.owner} can plan micro goals for this goal.")
    if goal.status == Goal.Status.DRAFT and not preview:
        raise ValidationError("This goal is still a draft: activate it before giving out its micro goals.")
    if goal.status not in PLANNABLE:
        raise ValidationError(
            f"This goal is {goal.get_status_display().lower()}; only draft and active goals can be planned."
        )


def _what_to_split(goal: Goal, kpi: Kpi | None, leading_target) -> tuple[Kpi, Decimal]:
    """The micro goals' KPI and the total to split across them."""
    if kpi is None or kpi.pk == goal.kpi_id:
        if leading_target is not None:
            raise ValidationError({"leading_target": "A leading target is only for a KPI other than the goal's."})
        if goal.kpi.aggregation != Kpi.Aggregation.SUM:
            raise ValidationError(
                {
                    "kpi": f"{goal.kpi} reports its latest value, so it cannot be split into per-period amounts; "
                    "break the goal down on a leading indicator (a summed KPI such as demos booked) with a total."
                }
            )
        total = goal.target_value - goal.baseline_value
        if total <= 0:
            raise ValidationError("Micro goals split the amount to add (target − baseline), which must be positive.")
        return goal.kpi, total
    errors = {}
    if not kpi.is_active:
        errors["kpi"] = f"The KPI “{kpi}” is retired; choose an active KPI."
    elif kpi.aggregation != Kpi.Aggregation.SUM:
        errors["kpi"] = f"{kpi} reports its latest value; a leading indicator must be a summed KPI."
    if leading_target is None:
        errors["leading_target"] = f"Give the total of {kpi} to aim for over the planned periods."
    else:
        leading_target = decimal_argument(leading_target, "leading_target")
        if leading_target <= 0:
            errors["leading_target"] = f"The total of {kpi} must be positive."
        elif leading_target % kpi.quantum:
            errors["leading_target"] = too_many_decimals(kpi, leading_target)
    if errors:
        raise ValidationError(errors)
    return kpi, leading_target


def _assignees(goal: Goal, *, chosen: list[User] | None, keep_leavers: bool = False) -> list[breakdown.Assignee]:
    """Assignees with capacity and calendar. Queries: constant (memberships 1–2, calendars 2–3)."""
    if goal.owner_user_id is not None:
        if chosen and any(user.pk != goal.owner_user_id for user in chosen):
            raise ValidationError({"assignees": f"A personal goal's micro goals go to its owner, {goal.owner_user}."})
        membership = rep_membership(user=goal.owner_user)
        if membership is None:
            return [breakdown.Assignee(goal.owner_user, Decimal(1), WorkingCalendar())]
        calendar = calendars_for_teams(team_ids=[membership.team_id])[membership.team_id]
        return [breakdown.Assignee(goal.owner_user, membership.capacity, calendar)]

    reps = {m.user_id: m for m in team_members(team=goal.owner_team, role=Membership.Role.REP)}
    if chosen is None:
        chosen = [m.user for m in reps.values()]
    elif not chosen:
        raise ValidationError({"assignees": "Choose at least one rep to give micro goals to."})
    else:
        strangers = [str(user) for user in chosen if user.pk not in reps]
        if strangers and not keep_leavers:
            raise ValidationError(
                {"assignees": f"Not a current rep of {goal.owner_team} or its sub-teams: {', '.join(strangers)}."}
            )
    if not chosen:
        raise ValidationError(f"{goal.owner_team} has no current reps to assign micro goals to; add reps first.")
    calendars = calendars_for_teams(team_ids={m.team_id for m in reps.values()})
    people = []
    for user in chosen:
        membership = reps.get(user.pk)
        if membership is None:  # left the team since the plan was made: nothing more for them
            people.append(breakdown.Assignee(user, Decimal(0), WorkingCalendar()))
        else:
            people.append(breakdown.Assignee(user, membership.capacity, calendars[membership.team_id]))
    return people


def _plan(kpi, total, period_list, people) -> list[PlanRow]:
    slot_list = breakdown.slots(period_list, people)
    if not any(slot.weight for slot in slot_list):
        raise ValidationError(
            f"Nobody to assign has a working day between {period_list[0].start:%d %b %Y} and "
            f"{period_list[-1].end:%d %b %Y}; check the team calendar or the assignees."
        )
    return [
        PlanRow(
            assignee=a.slot.key,
            kpi=kpi,
            start=a.slot.period.start,
            end=a.slot.period.end,
            working_days=a.slot.working_days,
            capacity=a.slot.capacity,
            weight=a.slot.weight,
            target=a.target,
        )
        for a in breakdown.allocate(total, slot_list, kpi.quantum)
    ]


def _achieved(goal: Goal, *, until: datetime.date) -> Decimal:
    """What counted for the goal from its start to `until`, by the engine's rule (at most two queries)."""
    entries = entry_list_for_owner(owner_user=goal.owner_user, owner_team=goal.owner_team).filter(
        kpi=goal.kpi, voided_at__isnull=True, date__gte=goal.start_date, date__lte=until
    )
    return exact_sum(entries.aggregate(total=Sum("value"))["total"] or Decimal(0), goal.kpi.quantum)


def _check_period_count(period_list: list[breakdown.Period], cadence: str) -> None:
    """A breakdown has at most PACER["MAX_BREAKDOWN_PERIODS"] periods: beyond that nobody reads the plan, and
    its rows grow with reps × periods."""
    most = settings.PACER["MAX_BREAKDOWN_PERIODS"]
    if len(period_list) > most:
        raise ValidationError(
            {
                "cadence": f"A {cadence} breakdown of this window makes {len(period_list)} periods; at most {most} "
                "are planned at once: choose a longer cadence or a shorter goal."
            }
        )


def _check_cap(rows: list[PlanRow]) -> None:
    """Refuse a plan that would give a rep more overlapping active micro goals than the setting allows."""
    cap = settings.PACER["MAX_ACTIVE_MICRO_GOALS_PER_REP"]
    if not rows:
        return
    intervals: dict[int, list[tuple[datetime.date, datetime.date]]] = {}
    names = {}
    for row in rows:
        intervals.setdefault(row.assignee.pk, []).append((row.start, row.end))
        names[row.assignee.pk] = row.assignee
    new = {pk: list(spans) for pk, spans in intervals.items()}
    existing = MicroGoal.objects.filter(
        assignee_id__in=list(intervals),
        status=MicroGoal.Status.ACTIVE,
        start_date__lte=max(row.end for row in rows),
        due_date__gte=min(row.start for row in rows),
    ).values_list("assignee_id", "start_date", "due_date")
    for assignee_id, start, due in existing:
        intervals[assignee_id].append((start, due))
    for pk, spans in intervals.items():
        # The most overlapping windows on one day is reached on some window's first day inside a new window.
        days = {s for s, _ in spans if any(ns <= s <= ne for ns, ne in new[pk])} | {ns for ns, _ in new[pk]}
        for day in sorted(days):
            at_once = sum(1 for s, e in spans if s <= day <= e)
            if at_once > cap:
                # Leaving someone out only helps when the breakdown has others to share the target.
                fix = f"leave {names[pk]} out of this breakdown, or plan it" if len(intervals) > 1 else "plan it"
                raise ValidationError(
                    f"{names[pk]} would have {at_once} active micro goals at once (on {day:%d %b %Y}); the limit "
                    f"is {cap} — {fix} after some of their micro goals end."
                )


def _fmt(value: Decimal, kpi: Kpi) -> str:
    return str(value.quantize(kpi.quantum))
