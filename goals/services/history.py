"""The forecast's history: each target's prior daily rate and the spread of its daily totals (goals/pace.py,
"forecast"), read from the daily rollup for a whole batch of targets at once.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import connection

from goals import pace
from goals.models import Kpi
from teams.calendar import WorkingCalendar
from teams.models import Membership

from .run import Run, TeamDays
from .sums import Period, Stats, _scoped, _sum, _Target, _team_stints


@dataclass(frozen=True)
class _History:
    prior_rate: Decimal | None  # the owner's daily rate before the window (or their team's per capacity); None: unknown
    daily_sd: Decimal  # spread of the owner's daily totals over the history period and the window so far
    logged_today: Decimal = Decimal(0)  # what counted entries dated today add up to


# The daily totals of each scope row's team on its KPI over [start_date, end_date]: the counted days of the daily
# rollup (ProgressDay, the engine's rule, as in _AGGREGATE_SQL) summed per day over the team's reps, each rep
# counted for the team on the days they were its rep (_team_stints, shared with _AGGREGATE_SQL), once a day however
# their stints overlap. A team's daily totals do not depend on the span asked for (clipping the stints to a span
# only drops days outside it), so a run reads each (KPI, team) once, over every span its batches need (run.py).
_TEAM_DAYS_SQL = """
WITH RECURSIVE
scope (row_no, kpi_id, team_id, start_date, end_date) AS (
    VALUES {scope}
),
/*team_stints*/counted AS (
    SELECT r.row_no, e.date AS day, e.total AS amount
    FROM covered r JOIN {day} e ON e.kpi_id = r.kpi_id AND e.user_id = r.user_id
    WHERE e.entry_count > 0 AND e.date >= r.from_date AND e.date <= r.to_date
      AND (r.covered_to IS NULL OR e.date > r.covered_to)
)
SELECT row_no, day, SUM(amount) FROM counted GROUP BY row_no, day
""".replace("/*team_stints*/", _team_stints(""))


def history_periods(targets: list[_Target], calendars: list[WorkingCalendar], *, today: datetime.date) -> list[Period]:
    """The days each target's forecast history reads: the FORECAST_HISTORY_WORKING_DAYS working days before its
    window, then the window through today (for the spread)."""
    history_days = settings.PACER["FORECAST_HISTORY_WORKING_DAYS"]
    periods = []
    for t, calendar in zip(targets, calendars, strict=True):
        first = calendar.add_working_days(t.start, -history_days)
        periods.append(Period(first, t.start - datetime.timedelta(days=1), max(first, min(today, t.due)), today))
    return periods


def team_days_read(targets: list[_Target], periods: list[Period], *, run: Run) -> None:
    """Read into the run the teams' daily totals this batch needs that it has not read yet: a team flow goal's own
    (its history, and its window's sums: sums.py), and a person's rep team's behind their fallback prior."""
    rep_team = run.rep_teams({t.user_id for t in targets if t.team_id is None and t.user_id})
    spans = []
    for t, period in zip(targets, periods, strict=True):
        if t.kpi.aggregation == Kpi.Aggregation.LAST:
            continue  # a level needs neither a prior nor a spread, and sums its reps' latest values (sums.py)
        if t.team_id:
            spans.append((t.kpi.id, t.team_id, period.first, max(period.last, t.due)))
        elif t.user_id in rep_team:
            spans.append((t.kpi.id, rep_team[t.user_id][0], period.first, period.before))
    _team_days_read(spans, run=run)


def _history_rates(
    targets: list[_Target],
    calendars: list[WorkingCalendar],
    periods: list[Period],
    own: dict[int, Stats],
    *,
    run: Run,
) -> list[_History]:
    """Each target's prior daily rate and daily spread (goals/pace.py, "forecast"). A person's own history comes
    with their window's sums (`own`, sums.py: one pass over their rollup); the teams' daily totals (team_days_read),
    the rep teams and their capacities are read once per run (run.py), by the first batch that needs them.

    The prior is the owner's sum over the history period ÷ its working days when they logged anything then; else,
    for a person, their rep team's sum ÷ the team's rep capacity × their capacity; else None (the engine then uses
    the plan's rate). The spread is over the history period and the window through today. "last" KPIs need
    neither (a level forecasts itself).
    """
    today = run.today
    rep_team = run.rep_teams({t.user_id for t in targets if t.team_id is None and t.user_id})
    capacity = run.team_capacity({rep_team[t.user_id][0] for t in targets if t.user_id in rep_team})

    result = []
    for row_no, (t, period) in enumerate(zip(targets, periods, strict=True)):
        calendar = calendars[row_no]
        days_before, days_all = calendar.count(period.first, period.before), calendar.count(period.first, period.last)
        if t.kpi.aggregation == Kpi.Aggregation.LAST:
            result.append(_History(None, pace.daily_sd(total=Decimal(0), squares=Decimal(0), days=days_all)))
            continue
        if t.team_id:  # the days of the window not yet come (before > last) hold nothing yet
            team = run.team_days[t.kpi.id, t.team_id]
            stats = team.stats(period.first, min(period.before, period.last), period.last, today=today)
        else:
            stats = own.get(row_no, _NOTHING)
        before_sum, active_days, total, squares, logged_today = stats
        prior: Decimal | None = None
        if active_days and days_before:
            prior = before_sum / days_before
        elif t.user_id in rep_team and not t.team_id and days_before:
            team_id, own_capacity = rep_team[t.user_id]
            team_sum = run.team_days[t.kpi.id, team_id].sum(period.first, period.before)
            if team_sum is not None and capacity[team_id]:
                prior = team_sum / days_before / capacity[team_id] * own_capacity
        sd = pace.daily_sd(total=total, squares=squares, days=days_all)
        result.append(_History(prior, sd, logged_today if t.start <= today <= t.due else Decimal(0)))
    return result


_NOTHING = (Decimal(0), 0, Decimal(0), Decimal(0), Decimal(0))


def _team_days_read(spans, *, run: Run) -> None:
    """Make run.team_days cover every (KPI, team, first, last) asked for: ONE query for the teams whose days the run
    has not read yet over the span asked for (or over a wider one than it read: the union of both)."""
    union: dict[tuple[int, int], list[datetime.date]] = {}
    for kpi_id, team_id, first, last in spans:
        span = union.setdefault((kpi_id, team_id), [first, last])
        span[0], span[1] = min(span[0], first), max(span[1], last)
    wanted = {}
    for key, (first, last) in union.items():
        known = run.team_days.get(key)
        if known is None or not known.covers(first, last):
            # Read on to the end of time: no day after today holds entries yet, so that costs nothing, and a later
            # batch's period then needs a read only when it starts before what the run has read.
            wanted[key] = (min(first, known.first) if known else first, datetime.date.max)
    if not wanted:
        return
    keys = list(wanted)
    scope = [(i, kpi_id, team_id, *wanted[kpi_id, team_id]) for i, (kpi_id, team_id) in enumerate(keys)]
    # The planner expects a handful of rows: it would sort the ~370 k rollup rows of a batch's team goals (on disk,
    # ~60% of the query) to group them per day, where hashing the few thousand (team, day) groups needs no sort.
    sql, params = _scoped(
        _TEAM_DAYS_SQL, scope, row="(%s, %s, CAST(%s AS BIGINT), %s, %s)", planner="SET LOCAL enable_sort = off; "
    )
    totals: dict[int, dict[datetime.date, Decimal]] = {i: {} for i in range(len(keys))}
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, Membership.Role.REP.value])
        for row_no, day, amount in cursor.fetchall():
            totals[row_no][_date(day)] = _sum(amount)
    for i, key in enumerate(keys):
        run.team_days[key] = TeamDays.of(*wanted[key], totals[i])


def _date(value) -> datetime.date:
    """A date column as a date (SQLite's driver returns the text of a grouped date)."""
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value)
