"""What counts for a goal, summed from the daily rollup (ProgressDay), a fixed number of queries per batch of targets
(_aggregate: one for the personal targets, one for the team "last" goals; team flow goals from the run's team
daily totals).

The rules are the engine's (goals/services/engine.py): which reps count for a team on which day (their rep
memberships in the team's tree, clipped to the window, each day once), voids excluded, "last" KPIs by the
latest day's latest entry. `_team_stints` is shared with the forecast's history (history.py).
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from django.db import connection

from goals import pace
from goals.models import Kpi, ProgressDay
from goals.numbers import exact_sum
from teams.models import Membership, Team

from .run import Run


@dataclass(frozen=True)
class _Target:
    """A goal or a micro goal, reduced to what the engine needs."""

    id: int
    kpi: Kpi
    user_id: int | None
    team_id: int | None
    start: datetime.date
    due: datetime.date
    baseline: Decimal
    target: Decimal


class Period(NamedTuple):
    """The days a target's forecast history reads (history.py)."""

    first: datetime.date  # the history period's first day
    before: datetime.date  # the day before the window: the history period's last
    last: datetime.date  # the spread's last day: today, or the due date once passed
    today: datetime.date


def _team_stints(carry: str) -> str:
    """The CTEs `tree`, `stints` and `covered` that both engine queries use, so "which rep counts for a team goal on
    which day" is written once: every team below the scope row's team, each rep membership there clipped to the
    row's [start_date, end_date], and `covered_to`, the last day an earlier stint of the same person already
    covers. `carry` names the scope columns the query needs further on (e.g. "s.split, s.today")."""
    return """tree (row_no, team_id) AS (
    SELECT row_no, team_id FROM scope WHERE team_id IS NOT NULL
    UNION ALL
    SELECT tree.row_no, child.id FROM {team} child JOIN tree ON child.parent_id = tree.team_id
),
stints AS (
    SELECT s.row_no, s.kpi_id, m.user_id, /*carry*/, m.id AS membership_id,
           CASE WHEN m.active_from > s.start_date THEN m.active_from ELSE s.start_date END AS from_date,
           CASE WHEN m.active_to IS NULL OR m.active_to > s.end_date THEN s.end_date ELSE m.active_to END AS to_date
    FROM scope s JOIN tree ON tree.row_no = s.row_no JOIN {membership} m ON m.team_id = tree.team_id
    WHERE m.role = %s AND m.active_from <= s.end_date AND (m.active_to IS NULL OR m.active_to >= s.start_date)
),
covered AS (
    SELECT stints.*,
           MAX(to_date) OVER (
               PARTITION BY row_no, user_id ORDER BY from_date, membership_id
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
           ) AS covered_to
    FROM stints
),
""".replace(", /*carry*/", f", {carry}" if carry else "")


# One row per team target of the batch (the team goals on a "last" KPI: _aggregate): (row_no, sum, sum of each
# rep's latest value, recent sum).
# Reads the daily rollup (ProgressDay: one row per user, KPI and day with the day's sum and latest entry,
# goals/services/rollups.py), never the entries themselves: a day's rows count or not as a whole, since
# the rules only ever depend on an entry's date. For "last", the latest day's last_value is the latest entry.
# Portable SQL (SQLite >= 3.33 and PostgreSQL). The team tree is walked by a recursive CTE; a team goal
# becomes its "stints": each rep membership in its tree, clipped to the goal's window, so every entry is
# fetched through its own index (kpi, user, date) — never "every entry of the KPI, per team goal" — and
# counts for the team the rep was in on the entry's date. Should one person's rep memberships in one
# tree overlap (a backdated membership), an entry counts only in the first stint covering its date:
# `covered_to` is the last day the earlier stints already cover (the later stint starts the day after).
# Spans that several targets share — the same rep's stint in a team goal, its region's and the org's — are "pieces", each read from the rollup ONCE per batch and summed
# back into every target that has it. For "last" KPIs a piece's latest value is its last day's (one
# index lookup); each owner's latest over their spans is ranked, for "last" targets only.
_AGGREGATE_SQL = """
WITH RECURSIVE
scope (row_no, kpi_id, team_id, start_date, end_date, recent_from, is_level) AS (
    VALUES {scope}
),
/*team_stints*/spans AS (
    SELECT row_no, kpi_id, user_id, recent_from, is_level, to_date,
           CASE WHEN covered_to IS NULL OR covered_to < from_date THEN from_date ELSE {day_after_covered} END
               AS from_date
    FROM covered
),
pieces AS (
    SELECT DISTINCT kpi_id, user_id, from_date, to_date, recent_from FROM spans
),
piece_days AS (
    SELECT p.kpi_id, p.user_id, p.from_date, p.to_date, p.recent_from, e.date AS day, e.total AS amount
    FROM pieces p JOIN {day} e ON e.kpi_id = p.kpi_id AND e.user_id = p.user_id
    WHERE e.entry_count > 0 AND e.date >= p.from_date AND e.date <= p.to_date
),
piece_totals AS (
    SELECT kpi_id, user_id, from_date, to_date, recent_from, MAX(day) AS last_day,
           SUM(amount) AS total, SUM(CASE WHEN day >= recent_from THEN amount ELSE 0 END) AS recent
    FROM piece_days
    GROUP BY kpi_id, user_id, from_date, to_date, recent_from
),
span_totals AS (
    SELECT s.row_no, s.user_id, s.is_level, t.total, t.recent, t.last_day, d.last_value
    FROM spans s
    JOIN piece_totals t ON t.kpi_id = s.kpi_id AND t.user_id = s.user_id AND t.from_date = s.from_date
                        AND t.to_date = s.to_date AND t.recent_from = s.recent_from
    LEFT JOIN {day} d ON s.is_level = 1 AND d.kpi_id = t.kpi_id AND d.user_id = t.user_id AND d.date = t.last_day
),
ranked AS (
    SELECT span_totals.*, ROW_NUMBER() OVER (PARTITION BY row_no, user_id ORDER BY last_day DESC) AS recency
    FROM span_totals
)
SELECT row_no, SUM(total), SUM(CASE WHEN is_level = 1 AND recency = 1 THEN last_value END), SUM(recent)
FROM ranked
GROUP BY row_no
""".replace("/*team_stints*/", _team_stints("s.recent_from, s.is_level"))


# A person's targets (individual goals, micro goals): ONE pass over each owner's daily rollup from the forecast
# history's first day to the due date gives both the window's sums (total, the latest day's value, the recent sum)
# and the history's (history.py: before the window, the days with any then, the sum and sum of squares through
# `last_date`, today's). No tree, no pieces: a query of its own, because the planner cannot see inside the VALUES
# list that the team parts would be empty and would plan nested loops over them.
_PERSONS_SQL = """
WITH
scope (row_no, kpi_id, user_id, first_date, start_date, end_date, recent_from, last_date, today, is_level) AS (
    VALUES {scope}
),
totals AS (
    SELECT s.row_no, s.kpi_id, s.user_id, s.is_level,
           MAX(CASE WHEN e.date >= s.start_date THEN e.date END) AS last_day,
           SUM(CASE WHEN e.date >= s.start_date THEN e.total ELSE 0 END) AS total,
           SUM(CASE WHEN e.date >= s.start_date AND e.date >= s.recent_from THEN e.total ELSE 0 END) AS recent,
           SUM(CASE WHEN e.date < s.start_date AND e.date <= s.last_date THEN e.total ELSE 0 END) AS before,
           SUM(CASE WHEN e.date < s.start_date AND e.date <= s.last_date THEN 1 ELSE 0 END) AS days_before,
           SUM(CASE WHEN e.date <= s.last_date THEN e.total ELSE 0 END) AS history_total,
           SUM(CASE WHEN e.date <= s.last_date THEN e.total * e.total ELSE 0 END) AS squares,
           SUM(CASE WHEN e.date = s.today AND e.date <= s.last_date THEN e.total ELSE 0 END) AS todays
    FROM scope s JOIN {day} e ON e.kpi_id = s.kpi_id AND e.user_id = s.user_id
    WHERE e.entry_count > 0 AND e.date >= s.first_date AND e.date <= s.end_date
    GROUP BY s.row_no, s.kpi_id, s.user_id, s.is_level
)
SELECT t.row_no, t.last_day, t.total, d.last_value, t.recent,
       t.before, t.days_before, t.history_total, t.squares, t.todays
FROM totals t
LEFT JOIN {day} d ON t.is_level = 1 AND d.kpi_id = t.kpi_id AND d.user_id = t.user_id AND d.date = t.last_day
"""

Sums = tuple[Decimal, Decimal | None, Decimal]  # (sum, sum of latest per owner or None, recent sum)
Stats = tuple[Decimal, int, Decimal, Decimal, Decimal]  # a history's: see history.py


def _aggregate(
    targets: list[_Target], windows: list[pace.Window], periods: list[Period], *, run: Run
) -> tuple[dict[int, Sums], dict[int, Stats]]:
    """({row_no: the window's sums} for the targets with counted days in their window, {row_no: the forecast
    history's sums} for the personal targets with counted days in their history or window).

    A team flow goal's sums are its team's daily totals over the window, which the run has read for its history
    (history.team_days_read); ONE query for the batch's team "last" goals (_AGGREGATE_SQL: each rep's latest
    value) and ONE for its personal targets (_PERSONS_SQL).
    """
    sums: dict[int, Sums] = {}
    levels = []
    for row_no, (t, w) in enumerate(zip(targets, windows, strict=True)):
        if t.team_id and _is_level(t):
            levels.append(row_no)
        elif t.team_id:
            days = run.team_days[t.kpi.id, t.team_id]
            total = days.sum(t.start, t.due)
            if total is not None:
                sums[row_no] = (total, None, days.sum(max(t.start, w.recent_from), t.due) or Decimal(0))
    if levels:
        sums.update(_team_sums(targets, windows, levels))
    persons = [row_no for row_no, t in enumerate(targets) if not t.team_id]
    own: dict[int, Stats] = {}
    if persons:
        rows = []
        for row_no in persons:
            t, w, p = targets[row_no], windows[row_no], periods[row_no]
            rows.append(
                (row_no, t.kpi.id, t.user_id, p.first, t.start, t.due, w.recent_from, p.last, p.today, _is_level(t))
            )
        # Each person reads a few dozen of their own days: an index lookup each (~60 ms for 1,000 micro goals at 1 M
        # entries) beats hashing the whole rollup (~90 ms), and more so as the rollup grows.
        planner = "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; "
        sql, params = _scoped(_PERSONS_SQL, rows, row="(" + ", ".join(["%s"] * 10) + ")", planner=planner)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for row_no, last_day, total, latest, recent, *history in cursor.fetchall():
                if last_day is not None:  # counted days in the window, not only before it
                    sums[row_no] = (_sum(total), exact_sum(latest), _sum(recent))
                before, days, history_total, squares, todays = history
                own[row_no] = (_sum(before), int(days or 0), _sum(history_total), _sum(squares), _sum(todays))
    return sums, own


def _is_level(target: _Target) -> int:
    return int(target.kpi.aggregation == Kpi.Aggregation.LAST)


def _team_sums(targets: list[_Target], windows: list[pace.Window], rows: list[int]) -> dict[int, Sums]:
    """{row_no: the window's sums} of these team targets with counted days: ONE query (_AGGREGATE_SQL)."""
    scope = []
    for row_no in rows:
        t, w = targets[row_no], windows[row_no]
        scope.append((row_no, t.kpi.id, t.team_id, t.start, t.due, w.recent_from, _is_level(t)))
    # A batch of one team goal has its row count underestimated, and the spans joined back to their pieces by
    # nested loops (quadratic: ~1 s for an org-wide goal): hash joins are right at every size.
    sql, params = _scoped(
        _AGGREGATE_SQL,
        scope,
        row="(%s, %s, CAST(%s AS BIGINT), %s, %s, %s, %s)",
        planner="SET LOCAL enable_nestloop = off; ",
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, Membership.Role.REP.value])
        # total and recent are never NULL (a row only for a target with counted days); the latest is, for a flow
        return {row[0]: (_sum(row[1]), exact_sum(row[2]), _sum(row[3])) for row in cursor.fetchall()}


def _scoped(sql: str, rows: list[tuple], *, row: str, planner: str = "") -> tuple[str, list]:
    """`sql` with its VALUES list of scope rows (each as `row`: ids, dates and flags) and their parameters, and the
    tables named. On PostgreSQL, `SET LOCAL jit = off` and `planner` come first, in the same statement (so the query
    count is the same on every database): the planner cannot see inside the VALUES list, overestimates its rows by
    orders of magnitude and would JIT-compile (~200 ms per batch for a query that runs in ~50 ms). The casts in
    `row` are for PostgreSQL, which types a VALUES column from its first row (and the tree's team column bigint)."""
    ops = connection.ops
    params = [x if x is None or isinstance(x, int) else ops.adapt_datefield_value(x) for r in rows for x in r]
    sql = sql.format(
        scope=", ".join([row] * len(rows)),
        day=ops.quote_name(ProgressDay._meta.db_table),
        team=ops.quote_name(Team._meta.db_table),
        membership=ops.quote_name(Membership._meta.db_table),
        day_after_covered="covered_to + 1" if connection.vendor == "postgresql" else "date(covered_to, '+1 day')",
    )
    if connection.vendor == "postgresql":
        sql = f"SET LOCAL jit = off; {planner}" + sql
    return sql, params


def _sum(number) -> Decimal:
    return exact_sum(number) or Decimal(0)
