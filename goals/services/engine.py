"""The engine: derives every goal's and micro goal's figures from the ledger's daily rollup.

`progress_recompute` rebuilds the derived fields of goals and micro goals (current, expected, forecast,
health, computed_at) from the entries alone, so running it twice, for some goals or for all, in batches
of any size, always gives the same values. What counts is summed in sums.py; the forecast's history (the
prior rate and the daily spread) in history.py; the arithmetic itself in goals/pace.py.

Decisions (the arithmetic itself lives in goals/pace.py, with the pace, forecast and health rules):

- Which entries count for a goal: non-voided entries on the goal's KPI dated inside
  [start_date, due_date], logged by the owner user, or — for a team goal — by anyone who
  was a *rep* of the owner team or one of its sub-teams on the entry's date (a rep who moved teams
  counts for the team they were in that day; managers' own entries do not count for their team).
  Capacity does not scale a rep's contribution: a half-time rep's deal is a whole deal (capacity only
  weighs how a team target is split into micro goals).
- Micro goals: the same with owner = assignee, the micro goal's KPI and window, and a baseline of 0.
- current value, "sum" KPI: the sum of the counted entries. The baseline is where pace starts (normally
  0) and is not added: entries are absolute amounts.
- current value, "last" KPI: the value of the latest counted entry (latest date, then latest
  created_at); for a team, the sum over its reps of each rep's latest value; the baseline while
  nothing has been logged yet.
- Pace, forecast and health use the owner team's working calendar; for an individual goal or a micro
  goal, the calendar of the owner's current rep team, or Monday–Friday without holidays when they
  have none. "today" defaults to the organisation's local date (settings.TIME_ZONE) and only moves the
  pace: which entries count never depends on it. (progress_record already refuses dates after the
  rep's own local today, so a rep in Tokyo whose Tuesday starts while the organisation is still on
  Monday sees their entry count at once, whichever clock runs the recompute.)
- Only active goals and micro goals are recomputed: a closed goal keeps the numbers it closed with.
"""

import datetime
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from goals import pace
from goals.models import VALUE, Goal, GoalRevision, Health, Kpi, MicroGoal
from teams.calendar import WorkingCalendar

from .history import _History, _history_rates, history_periods, team_days_read
from .run import DEFAULT_CALENDAR, Run
from .sums import _aggregate, _Target

# Goals per aggregate query. 1,000 rows of 7 parameters stay far below SQLite's 250,000-variable limit
# and PostgreSQL's comfort zone, and a whole batch is written back by one UPDATE.
BATCH_SIZE = 1000


class Recomputed(NamedTuple):
    goals: int
    micro_goals: int


def progress_recompute(
    *,
    goal_ids: Iterable[int] | None = None,
    micro_goal_ids: Iterable[int] | None = None,
    today: datetime.date | None = None,
    batch_size: int | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> Recomputed:
    """Recompute current, expected, forecast, health and computed_at from the entries.

    With neither goal_ids nor micro_goal_ids: every active goal and micro goal. With either: exactly
    those ids (the other one None means none); ids that are not active are skipped. `on_batch(n)` is
    called after each batch of n (for progress bars). Returns how many of each were recomputed.

    Set-based: per batch of `batch_size` goals (module BATCH_SIZE by default) a fixed number of
    queries, however many entries there are: lock the batch's rows, read the owners' rep teams and
    their calendars, ONE aggregate query for every goal of the batch, ONE UPDATE writing them all.
    Each batch is its own transaction, so a full run never holds every goal's row lock at once; the
    row lock makes a concurrent recompute of the same goals wait and then read the newer entries,
    so a slower, older run can never overwrite a newer result.
    """
    today = today or timezone.localdate()
    batch_size = batch_size or BATCH_SIZE
    if goal_ids is None and micro_goal_ids is None:
        goal_ids = Goal.objects.filter(status=Goal.Status.ACTIVE).values_list("id", flat=True)
        micro_goal_ids = MicroGoal.objects.filter(status=MicroGoal.Status.ACTIVE).values_list("id", flat=True)
    now = timezone.now()
    run = Run(today)  # what every batch shares (run.py)
    done = {}
    for model, ids in ((Goal, goal_ids), (MicroGoal, micro_goal_ids)):
        ids = sorted(set(ids or ()))
        done[model] = 0
        for first in range(0, len(ids), batch_size):
            batch = ids[first : first + batch_size]
            with transaction.atomic():
                done[model] += _recompute_batch(model, batch, run=run, now=now)
            if on_batch:
                on_batch(len(batch))
    return Recomputed(goals=done[Goal], micro_goals=done[MicroGoal])


def _recompute_batch(model, ids: list[int], *, run: Run, now: datetime.datetime) -> int:
    rows = _figures(_targets(model, ids, lock=True), run=run)
    if rows:
        _write(model, rows, now=now)
    return len(rows)


def _figures(targets: list[_Target], *, run: Run) -> list[tuple]:
    """(id, current, expected, forecast, forecast_low, forecast_high, chance, health) of each target: the
    calendars, the sums over the rollups (one query for the persons' targets, one for the teams') and the
    forecast history (the teams' daily totals, read once per run)."""
    if not targets:
        return []
    run_rate_days = settings.PACER["RUN_RATE_WORKING_DAYS"]
    today = run.today
    calendars = _calendars(targets, run=run)
    windows = [
        pace.window(calendar, start=t.start, due=t.due, today=today, run_rate_days=run_rate_days)
        for t, calendar in zip(targets, calendars, strict=True)
    ]
    periods = history_periods(targets, calendars, today=today)
    team_days_read(targets, periods, run=run)
    sums, own_history = _aggregate(targets, windows, periods, run=run)
    history = _history_rates(targets, calendars, periods, own_history, run=run)
    return [
        (t.id, *_progress(t, w, sums.get(row_no), history[row_no]))
        for row_no, (t, w) in enumerate(zip(targets, windows, strict=True))
    ]


def progress_preview(
    *, goal_ids: Iterable[int] = (), micro_goal_ids: Iterable[int] = (), today: datetime.date | None = None
) -> dict[tuple[type, int], tuple]:
    """What a recompute would give these active goals and micro goals now, without writing or locking.

    {(Goal or MicroGoal, id): (current, expected, forecast, forecast_low, forecast_high, chance, health)}. For a response that must show a
    rep's own figures at once while the coalesced recompute (which writes them) is on its way: the same
    engine, rules and rollups, but no goal row lock, so a request never waits on a running recompute.
    A fixed number of queries per kind: the targets, their calendars and one aggregate.
    """
    run = Run(today or timezone.localdate())
    preview: dict[tuple[type, int], tuple] = {}
    for model, ids in ((Goal, goal_ids), (MicroGoal, micro_goal_ids)):
        ids = sorted(set(ids))
        if ids:
            for target_id, *figures in _figures(_targets(model, ids, lock=False), run=run):
                preview[model, target_id] = tuple(figures)
    return preview


_TARGET_FIELDS = {
    Goal: ("id", "owner_user_id", "owner_team_id", "start_date", "due_date", "baseline_value", "target_value"),
    MicroGoal: ("id", "assignee_id", None, "start_date", "due_date", None, "target_value"),
}
_KPI_FIELDS = [f.attname for f in Kpi._meta.concrete_fields]


def _targets(model, ids: list[int], *, lock: bool) -> list[_Target]:
    """The active ones of these ids, in id order, with their KPI (one query; rows, not model instances:
    a full recompute reads 10,000s of them). With lock, their rows stay locked until the batch commits."""
    rows = model.objects.filter(id__in=ids, status=model.Status.ACTIVE).order_by("id")
    if lock:  # in id order, so two runs over overlapping batches cannot deadlock
        rows = rows.select_for_update(of=("self",))
    own = [name for name in _TARGET_FIELDS[model] if name]
    kpis: dict[int, Kpi] = {}
    targets = []
    for values in rows.values_list(*own, *(f"kpi__{name}" for name in _KPI_FIELDS)):
        fields = dict(zip(own, values[: len(own)], strict=True))
        kpi_values = values[len(own) :]
        kpi = kpis.get(kpi_values[0]) or kpis.setdefault(kpi_values[0], Kpi.from_db(None, _KPI_FIELDS, kpi_values))
        user_field, team_field, _, _, baseline_field = _TARGET_FIELDS[model][1:6]
        targets.append(
            _Target(
                fields["id"],
                kpi,
                fields[user_field],
                fields[team_field] if team_field else None,
                fields["start_date"],
                fields["due_date"],
                fields[baseline_field] if baseline_field else Decimal(0),
                fields["target_value"],
            )
        )
    return targets


def _calendars(targets: list[_Target], *, run: Run) -> list[WorkingCalendar]:
    """Each target's working calendar: its owner team's, else its owner's current rep team's (run.py: read once
    per run, by the first batch that needs them)."""
    rep_team = run.rep_teams({t.user_id for t in targets if t.team_id is None and t.user_id})
    team_ids = [t.team_id or (rep_team[t.user_id][0] if t.user_id in rep_team else None) for t in targets]
    calendars = run.calendars({t for t in team_ids if t})
    return [calendars[team_id] if team_id else DEFAULT_CALENDAR for team_id in team_ids]


def _progress(target: _Target, w: pace.Window, sums, history: "_History") -> tuple:
    """(current, expected, forecast, forecast_low, forecast_high, chance, health) of one target."""
    kpi, quantum = target.kpi, target.kpi.quantum
    # Nothing counted yet: a flow stands at 0, a level at its baseline.
    total, latest, recent = sums or (Decimal(0), target.baseline, Decimal(0))
    is_level = kpi.aggregation == Kpi.Aggregation.LAST
    current = latest if is_level else total
    expected = pace.expected_value(
        baseline=target.baseline, target=target.target, elapsed=w.elapsed, total=w.total, quantum=quantum
    )
    plan_rate = (target.target - target.baseline) / w.total if w.total else Decimal(0)
    today_open = w.completed < w.elapsed  # today is a working day of the window, still being logged
    if is_level:  # how far the level moved from the baseline per elapsed working day; the plan as prior
        own_rate, prior, seen = (current - target.baseline) / max(1, w.elapsed), plan_rate, w.elapsed
    else:
        own_rate = pace.run_rate(
            recent_total=recent, logged_today=history.logged_today, recent_days=w.recent_days, today_open=today_open
        )
        prior = history.prior_rate if history.prior_rate is not None else plan_rate
        seen = w.completed
    rate = pace.blended_rate(
        run_rate=own_rate,
        elapsed=seen,
        prior_rate=prior,
        credibility_days=settings.PACER["FORECAST_CREDIBILITY_WORKING_DAYS"],
        is_level=is_level,
    )
    forecast = pace.forecast_value(
        current=current,
        rate=rate,
        left=w.left,
        quantum=quantum,
        today_open=today_open and not is_level,
        logged_today=history.logged_today,
    )
    sigma = pace.forecast_spread(sd=history.daily_sd, left=w.left, is_level=is_level)
    low, high = pace.forecast_range(forecast=forecast, current=current, sigma=sigma, is_level=is_level, quantum=quantum)
    chance = pace.chance_percent(
        forecast=forecast, target=target.target, sigma=sigma, higher_is_better=kpi.higher_is_better
    )
    health = pace.health(
        current=current,
        forecast=forecast,
        baseline=target.baseline,
        target=target.target,
        higher_is_better=kpi.higher_is_better,
        at_risk_ratio=Decimal(str(settings.PACER["HEALTH_AT_RISK_FORECAST_RATIO"])),
    )
    if health == Health.ACHIEVED:
        chance = 100
    return current, expected, forecast, low, high, chance, health


# The stored figures the engine writes, in the order _figures (and progress_preview) gives them: the admin shows
# them read-only, the burst bench compares them.
FIGURE_FIELDS = (
    "current_value",
    "expected_value",
    "forecast_value",
    "forecast_low",
    "forecast_high",
    "chance_pct",
    "health",
)
_UPDATE_SQL = (  # the names are the constant above, never input
    "UPDATE {table} SET "  # noqa: S608
    + ", ".join(f"{name} = v.column{n}" for n, name in enumerate(FIGURE_FIELDS, start=2))
    + ", computed_at = %s FROM (VALUES {rows}) AS v WHERE {table}.id = v.column1"
)


def _write(model, rows: list[tuple], *, now: datetime.datetime) -> None:
    """Write a whole batch with ONE statement (bulk_update would split it into many on SQLite)."""
    ops, params = connection.ops, [connection.ops.adapt_datetimefield_value(now)]
    for goal_id, current, expected, forecast, low, high, chance, health in rows:
        values = (current, expected, forecast, low, high)
        params += [goal_id, *(ops.adapt_decimalfield_value(x, **VALUE) for x in values), chance, health]
    # Casts: PostgreSQL types a VALUES column from its first row, and SQLite needs none.
    row = "(%s, %s, %s, %s, %s, %s, CAST(%s AS INTEGER), %s)"
    sql = _UPDATE_SQL.format(table=ops.quote_name(model._meta.db_table), rows=", ".join([row] * len(rows)))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# --- closing ---------------------------------------------------------------------------------------------


@transaction.atomic
def goals_close_due(*, today: datetime.date) -> list[int]:
    """Close every active goal and micro goal whose due date is before `today`: achieved when a fresh
    recompute finds the target reached, missed otherwise. Goals get closed_at and a `closed` revision.

    Safe to run twice or concurrently: the due rows are locked (a concurrent run skips them), and the
    status change is conditional on the row still being active, so nothing is closed twice. Returns the
    ids of the goals this run closed.
    """
    due = Goal.objects.select_for_update(skip_locked=True).filter(status=Goal.Status.ACTIVE, due_date__lt=today)
    due_micro = MicroGoal.objects.select_for_update(skip_locked=True).filter(
        status=MicroGoal.Status.ACTIVE, due_date__lt=today
    )
    goal_ids = list(due.order_by("id").values_list("id", flat=True))
    micro_goal_ids = list(due_micro.order_by("id").values_list("id", flat=True))
    progress_recompute(goal_ids=goal_ids, micro_goal_ids=micro_goal_ids, today=today)
    now = timezone.now()
    _close(Goal.objects.filter(id__in=goal_ids, status=Goal.Status.ACTIVE), Goal.Status, closed_at=now)
    _close(MicroGoal.objects.filter(id__in=micro_goal_ids, status=MicroGoal.Status.ACTIVE), MicroGoal.Status)
    closed = list(Goal.objects.filter(id__in=goal_ids, closed_at=now).order_by("id"))
    GoalRevision.objects.bulk_create(
        GoalRevision(
            goal=goal,
            kind=GoalRevision.Kind.CLOSED,
            reason=f"Due date {goal.due_date:%d %b %Y} passed at {goal.current_value} of {goal.target_value}.",
            changes={"status": [Goal.Status.ACTIVE.value, goal.status]},
        )
        for goal in closed
    )
    return [goal.id for goal in closed]


def _close(active, status, **fields) -> None:
    """Achieved or missed, from the health just recomputed. `active` only matches rows still active, so
    the second update skips what the first closed and a repeated run closes nothing."""
    active.filter(health=Health.ACHIEVED).update(status=status.ACHIEVED, **fields)
    active.update(status=status.MISSED, **fields)
