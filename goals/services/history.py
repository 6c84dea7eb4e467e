"""The forecast's history: each target's prior daily rate and the spread of its daily totals (goals/pace.py,
"forecast"), read from the daily rollup for a whole batch of targets at once.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import connection

from goals import pace
from goals.models import Kpi, ProgressDay
from teams.calendar import WorkingCalendar
from teams.models import Membership, Team

from .run import Run, TeamDays
from .sums import _sum, _Target, _team_stints


@dataclass(frozen=True)
class _History:
    prior_rate: Decimal | None  # the owner's daily rate before the window (or their team's per capacity); None: unknown
    daily_sd: Decimal  # spread of the owner's daily totals over the history period and the window so far
    logged_today: Decimal = Decimal(0)  # what counted entries dated today add up to


# Per scope row: the counted days of the daily rollup (ProgressDay, the engine's rule, as in _AGGREGATE_SQL) over
# [start_date, end_date]; then the sum before `split` (the window's start), the number of such days, and the sum and
# sum of squares of every day's total, and today's. A person's days are their rollup rows as they are (one row per
# day); a team's are summed per day over its reps (`team_days`), each rep counted for the team on the days they
# were its rep (_team_stints, shared with _AGGREGATE_SQL), once a day however their stints overlap.
_TEAM_DAYS_CTE = """
WITH RECURSIVE
scope (row_no, kpi_id, user_id, team_id, start_date, end_date, split, today) AS (
    VALUES {scope}
),
/*team_stints*/team_days AS (
    SELECT r.row_no, e.date AS day, SUM(e.total) AS amount
    FROM covered r JOIN {day} e ON e.kpi_id = r.kpi_id AND e.user_id = r.user_id
    WHERE e.entry_count > 0 AND e.date >= r.from_date AND e.date <= r.to_date
      AND (r.covered_to IS NULL OR e.date > r.covered_to)
    GROUP BY r.row_no, e.date
)""".replace("/*team_stints*/", _team_stints("s.split, s.today"))
_STATS = """
SELECT {row_no},
       SUM(CASE WHEN {day} < s.split THEN {amount} ELSE 0 END),
       SUM(CASE WHEN {day} < s.split THEN 1 ELSE 0 END),
       SUM({amount}),
       SUM({amount} * {amount}),
       SUM(CASE WHEN {day} = s.today THEN {amount} ELSE 0 END)
"""
_PERSONS_SQL = (
    _STATS.format(row_no="s.row_no", day="e.date", amount="e.total")
    + """FROM scope s JOIN {day} e ON e.kpi_id = s.kpi_id AND e.user_id = s.user_id
WHERE e.entry_count > 0 AND e.date >= s.start_date AND e.date <= s.end_date
GROUP BY s.row_no"""
)
# A batch of persons only (micro goals, individual goals): no tree, the planner sees a plain join.
_HISTORY_PERSONS_SQL = (
    "WITH scope (row_no, kpi_id, user_id, team_id, start_date, end_date, split, today) AS (VALUES {scope})\n"
    + _PERSONS_SQL
)
_HISTORY_SQL = (
    _TEAM_DAYS_CTE
    + _STATS.format(row_no="d.row_no", day="d.day", amount="d.amount")
    + "FROM team_days d JOIN scope s ON s.row_no = d.row_no GROUP BY d.row_no\nUNION ALL"
    + _PERSONS_SQL
)
# The teams' daily totals behind the persons' fallback priors, each (KPI, team) over a span of days.
_TEAM_DAYS_SQL = _TEAM_DAYS_CTE + "\nSELECT row_no, day, amount FROM team_days"

_SCOPE_ROW = "(%s, %s, CAST(%s AS BIGINT), CAST(%s AS BIGINT), %s, %s, %s, %s)"


def _history_rates(targets: list[_Target], calendars: list[WorkingCalendar], *, run: Run) -> list[_History]:
    """Each target's prior daily rate and daily spread (goals/pace.py, "forecast"), for the whole batch with ONE
    aggregate query, plus, for the personal owners' fallback priors, their rep teams, those teams' capacities and
    daily totals: each read once per run (run.py), by the first batch that needs it.

    History period: the FORECAST_HISTORY_WORKING_DAYS working days before the window's start. The prior is the
    owner's sum over it ÷ its working days when they logged anything then; else, for a person, their rep team's
    sum ÷ the team's rep capacity × their capacity; else None (the engine then uses the plan's rate). The spread
    is over the history period and the window through today. "last" KPIs need neither (a level forecasts itself).
    """
    today = run.today
    history_days = settings.PACER["FORECAST_HISTORY_WORKING_DAYS"]
    rep_team = run.rep_teams({t.user_id for t in targets if t.team_id is None and t.user_id})
    rows, periods = [], []
    team_period: dict[int, tuple[int, int, datetime.date, datetime.date]] = {}  # row -> (KPI, team, first, last)
    for row_no, (t, calendar) in enumerate(zip(targets, calendars, strict=True)):
        first = calendar.add_working_days(t.start, -history_days)
        before = t.start - datetime.timedelta(days=1)
        last = max(first, min(today, t.due))
        periods.append((calendar.count(first, before), calendar.count(first, last)))
        if t.kpi.aggregation == Kpi.Aggregation.LAST:
            continue  # a level needs neither a prior nor a spread
        rows.append((row_no, t.kpi.id, t.user_id, t.team_id, first, last, t.start, today))
        if t.team_id is None and t.user_id in rep_team:
            team_period[row_no] = (t.kpi.id, rep_team[t.user_id][0], first, before)
    stats = _stats(rows)
    _team_days_read(team_period.values(), run=run)
    capacity = run.team_capacity({team_id for _, team_id, _, _ in team_period.values()})

    result = []
    for row_no, (t, (days_before, days_all)) in enumerate(zip(targets, periods, strict=True)):
        before_sum, active_days, total, squares, logged_today = stats.get(row_no, _NOTHING)
        prior: Decimal | None = None
        if active_days and days_before:
            prior = before_sum / days_before
        elif row_no in team_period and days_before:
            kpi_id, team_id, first, last = team_period[row_no]
            own_capacity = rep_team[t.user_id or 0][1]  # a team period is only ever a person's
            team_sum = run.team_days[kpi_id, team_id].sum(first, last)
            if team_sum is not None and capacity[team_id]:
                prior = team_sum / days_before / capacity[team_id] * own_capacity
        sd = pace.daily_sd(total=total, squares=squares, days=days_all)
        result.append(_History(prior, sd, logged_today if t.start <= today <= t.due else Decimal(0)))
    return result


_NOTHING = (Decimal(0), 0, Decimal(0), Decimal(0), Decimal(0))


def _stats(rows: list[tuple]) -> dict[int, tuple[Decimal, Decimal | int, Decimal, Decimal, Decimal]]:
    """{row: (sum before the split, days with any before it, sum, sum of squares, today's)} of each scope row."""
    if not rows:
        return {}
    teams = any(team_id for _, _, _, team_id, *_ in rows)
    sql, params = _with_scope(_HISTORY_SQL if teams else _HISTORY_PERSONS_SQL, rows)
    with connection.cursor() as cursor:
        cursor.execute(sql, params + ([Membership.Role.REP.value] if teams else []))
        return {
            row[0]: (_sum(row[1]), int(row[2] or 0), _sum(row[3]), _sum(row[4]), _sum(row[5]))
            for row in cursor.fetchall()
        }


def _team_days_read(periods, *, run: Run) -> None:
    """Make run.team_days cover every (KPI, team, first, last) asked for: ONE query for the teams whose days the run
    has not read yet over the span asked for (or over a wider one than it read: the union of both)."""
    spans: dict[tuple[int, int], list[datetime.date]] = {}
    for kpi_id, team_id, first, last in periods:
        span = spans.setdefault((kpi_id, team_id), [first, last])
        span[0], span[1] = min(span[0], first), max(span[1], last)
    wanted = {}
    for key, (first, last) in spans.items():
        known = run.team_days.get(key)
        if known is None or not known.covers(first, last):
            wanted[key] = (min(first, known.first), max(last, known.last)) if known else (first, last)
    if not wanted:
        return
    keys = list(wanted)
    rows = [
        (i, kpi_id, None, team_id, *wanted[kpi_id, team_id], None, None) for i, (kpi_id, team_id) in enumerate(keys)
    ]
    sql, params = _with_scope(_TEAM_DAYS_SQL, rows)
    totals: dict[int, dict[datetime.date, Decimal]] = {i: {} for i in range(len(keys))}
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, Membership.Role.REP.value])
        for row_no, day, amount in cursor.fetchall():
            totals[row_no][_date(day)] = _sum(amount)
    for i, key in enumerate(keys):
        run.team_days[key] = TeamDays.of(*wanted[key], totals[i])


def _with_scope(sql: str, rows: list[tuple]) -> tuple[str, list]:
    ops = connection.ops
    params = [
        x
        for row_no, kpi_id, user_id, team_id, *dates in rows
        for x in (row_no, kpi_id, user_id, team_id, *(ops.adapt_datefield_value(d) for d in dates))
    ]
    sql = sql.format(
        scope=", ".join([_SCOPE_ROW] * len(rows)),
        team=ops.quote_name(Team._meta.db_table),
        day=ops.quote_name(ProgressDay._meta.db_table),
        membership=ops.quote_name(Membership._meta.db_table),
    )
    if connection.vendor == "postgresql":
        sql = "SET LOCAL jit = off; " + sql  # as _aggregate's: the VALUES list makes the planner JIT-compile
    return sql, params


def _date(value) -> datetime.date:
    """A date column as a date (SQLite's driver returns the text of a computed or grouped date)."""
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value)
