"""The daily rollup of the ledger (ProgressDay): kept in step with every entry write, read by the engine.

One row per (user, KPI, date): the sum and count of that day's non-voided entries, and the day's latest
entry (latest created_at, then id — the engine's "last" tie-break) with its ordering key. Portable SQL:
PostgreSQL and SQLite both have INSERT … ON CONFLICT DO UPDATE.

Concurrency (PostgreSQL, READ COMMITTED):
- A new entry adds itself with ONE upsert whose update is a delta computed from the row as it is when
  the upsert runs (it waits for a concurrent writer's row lock, then adds to the committed total), so
  no concurrent writer's update is lost.
- An edit or a void can remove the day's latest entry, which a delta cannot undo. It recomputes its
  day rows from their entries *under the row lock*: one upsert takes (or creates) the row's lock, and
  the recompute is a second statement, so its snapshot already sees every writer that held the lock
  before; writers still waiting add their delta after it. Several days are locked in date order, so
  two edits cannot deadlock.
SQLite serialises writers (transaction_mode=IMMEDIATE), so the same statements are trivially safe there.

`rollups_verify(repair=…)` compares every row with the entries (`manage.py rollups_verify`, and the
periodic recompute_all checks it too). `progress_days` is the read helper for anything that wants daily
sums (history charts, run-rates): it never touches the entries.
"""

import datetime
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import QuerySet

from goals.models import ProgressDay, ProgressEntry

logger = logging.getLogger(__name__)

# Writes by one upsert; the conflict target is the unique (kpi, user, date) constraint.
_ADD_SQL = """
INSERT INTO {day} AS d (user_id, kpi_id, date, total, entry_count, last_value, last_created_at, last_entry_id)
VALUES (%s, %s, %s, %s, 1, %s, %s, %s)
ON CONFLICT (kpi_id, user_id, date) DO UPDATE SET
    total = d.total + excluded.total,
    entry_count = d.entry_count + 1,
    last_value = CASE WHEN {newer} THEN excluded.last_value ELSE d.last_value END,
    last_created_at = CASE WHEN {newer} THEN excluded.last_created_at ELSE d.last_created_at END,
    last_entry_id = CASE WHEN {newer} THEN excluded.last_entry_id ELSE d.last_entry_id END
"""
# The new entry is the day's latest unless a later one (by created_at, then id) is already there. Both
# sides of a SET read the row as it was before the update, on PostgreSQL and SQLite alike.
_NEWER = (
    "(d.last_entry_id IS NULL OR excluded.last_created_at > d.last_created_at"
    " OR (excluded.last_created_at = d.last_created_at AND excluded.last_entry_id > d.last_entry_id))"
)
# Creates the row or takes its lock, changing nothing.
_LOCK_SQL = """
INSERT INTO {day} AS d (user_id, kpi_id, date, total, entry_count)
VALUES (%s, %s, %s, 0, 0)
ON CONFLICT (kpi_id, user_id, date) DO UPDATE SET entry_count = d.entry_count
"""
_DAY_ENTRIES = "FROM {entry} e WHERE e.user_id = %s AND e.kpi_id = %s AND e.date = %s AND e.voided_at IS NULL"
_LATEST = _DAY_ENTRIES + " ORDER BY e.created_at DESC, e.id DESC LIMIT 1"
# Constants only (the values are parameters).
_REFRESH_SQL = f"""
UPDATE {{day}} SET
    total = COALESCE((SELECT SUM(e.value) {_DAY_ENTRIES}), 0),
    entry_count = (SELECT COUNT(*) {_DAY_ENTRIES}),
    last_value = (SELECT e.value {_LATEST}),
    last_created_at = (SELECT e.created_at {_LATEST}),
    last_entry_id = (SELECT e.id {_LATEST})
WHERE user_id = %s AND kpi_id = %s AND date = %s
"""  # noqa: S608
# Every (user, KPI, date) of the entries with its sum, count and latest entry: the rebuild and the check.
EXPECTED_SQL = """
SELECT user_id, kpi_id, date, SUM(value) AS total, COUNT(*) AS entry_count,
       MAX(CASE WHEN recency = 1 THEN value END) AS last_value,
       MAX(CASE WHEN recency = 1 THEN created_at END) AS last_created_at,
       MAX(CASE WHEN recency = 1 THEN id END) AS last_entry_id
FROM (
    SELECT user_id, kpi_id, date, value, created_at, id,
           ROW_NUMBER() OVER (PARTITION BY user_id, kpi_id, date ORDER BY created_at DESC, id DESC) AS recency
    FROM {entry} WHERE voided_at IS NULL
) ranked
GROUP BY user_id, kpi_id, date
"""
# Rows that differ, both ways round. SQLite sums its numeric columns as floats: totals within half the
# storage quantum are equal (PostgreSQL's exact numerics never differ by less than 0.0001).
_MISMATCH_SQL = """
WITH expected AS ({expected}),
actual AS (SELECT * FROM {day} WHERE entry_count > 0)
SELECT x.user_id, x.kpi_id, x.date FROM expected x
LEFT JOIN actual a ON a.user_id = x.user_id AND a.kpi_id = x.kpi_id AND a.date = x.date
WHERE a.user_id IS NULL OR a.entry_count <> x.entry_count OR ABS(a.total - x.total) > 0.00005
   OR a.last_entry_id <> x.last_entry_id OR a.last_value <> x.last_value
UNION
SELECT a.user_id, a.kpi_id, a.date FROM actual a
LEFT JOIN expected x ON a.user_id = x.user_id AND a.kpi_id = x.kpi_id AND a.date = x.date
WHERE x.user_id IS NULL
UNION
SELECT user_id, kpi_id, date FROM {day}
WHERE entry_count = 0 AND (total <> 0 OR last_entry_id IS NOT NULL)
"""


def _tables() -> dict[str, str]:
    quote = connection.ops.quote_name
    return {"day": quote(ProgressDay._meta.db_table), "entry": quote(ProgressEntry._meta.db_table)}


def rollup_entry_added(entry: ProgressEntry) -> None:
    """Add a newly saved, non-voided entry to its day (one upsert). Call inside the entry's transaction."""
    ops = connection.ops
    sql = _ADD_SQL.format(day=_tables()["day"], newer=_NEWER)
    params = [
        entry.user_id,
        entry.kpi_id,
        ops.adapt_datefield_value(entry.date),
        ops.adapt_decimalfield_value(entry.value, 22, 4),
        ops.adapt_decimalfield_value(entry.value, 18, 4),
        ops.adapt_datetimefield_value(entry.created_at),
        entry.pk,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def rollup_days_refresh(*, user_id: int, kpi_id: int, dates: Iterable[datetime.date]) -> None:
    """Recompute these days of one user and KPI from their entries, under each row's lock (2 queries a day).

    For edits and voids, whose change a delta cannot express (the day's latest entry may be the one that
    went away). Call inside the entry's transaction, after the entry was saved.
    """
    tables, ops = _tables(), connection.ops
    with connection.cursor() as cursor:
        for day in sorted(set(dates)):  # a fixed lock order: two edits of the same days cannot deadlock
            key = [user_id, kpi_id, ops.adapt_datefield_value(day)]
            cursor.execute(_LOCK_SQL.format(**tables), key)
            cursor.execute(_REFRESH_SQL.format(**tables), key * 6)


@dataclass(frozen=True)
class DayKey:
    user_id: int
    kpi_id: int
    date: datetime.date


def rollups_verify(*, repair: bool = False) -> list[DayKey]:
    """Every (user, KPI, date) whose rollup row disagrees with the entries (missing, extra or different).

    With repair=True each of them is recomputed from its entries (under its row lock) in one transaction.
    Read-only otherwise. One query to check, two per repaired day.
    """
    tables = _tables()
    sql = _MISMATCH_SQL.format(expected=EXPECTED_SQL.format(**tables), **tables)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        rows = cursor.fetchall()

    def as_date(value):  # SQLite hands dates back as text
        return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value))

    bad = sorted({DayKey(user_id, kpi_id, as_date(day)) for user_id, kpi_id, day in rows}, key=_day_order)
    if repair and bad:
        with transaction.atomic():
            for key in bad:
                rollup_days_refresh(user_id=key.user_id, kpi_id=key.kpi_id, dates=[key.date])
        logger.warning("Repaired %d progress rollup rows that disagreed with the entries.", len(bad))
    return bad


def _day_order(key: DayKey):
    return (key.kpi_id, key.user_id, key.date)


# Bulk loads: the same delta as _ADD_SQL, for many new entries at once (grouped per day first). The WHERE
# is required: without it SQLite cannot tell an upsert's ON CONFLICT from a join's ON.
_ADD_MANY_SQL = """
INSERT INTO {day} AS d (user_id, kpi_id, date, total, entry_count, last_value, last_created_at, last_entry_id)
SELECT user_id, kpi_id, date, total, entry_count, last_value, last_created_at, last_entry_id FROM (
    SELECT user_id, kpi_id, date, SUM(value) OVER w AS total, COUNT(*) OVER w AS entry_count,
           value AS last_value, created_at AS last_created_at, id AS last_entry_id,
           ROW_NUMBER() OVER (PARTITION BY user_id, kpi_id, date ORDER BY created_at DESC, id DESC) AS recency
    FROM {entry} WHERE voided_at IS NULL AND id IN ({ids})
    WINDOW w AS (PARTITION BY user_id, kpi_id, date)
) latest WHERE recency = 1
ON CONFLICT (kpi_id, user_id, date) DO UPDATE SET
    total = d.total + excluded.total,
    entry_count = d.entry_count + excluded.entry_count,
    last_value = CASE WHEN {newer} THEN excluded.last_value ELSE d.last_value END,
    last_created_at = CASE WHEN {newer} THEN excluded.last_created_at ELSE d.last_created_at END,
    last_entry_id = CASE WHEN {newer} THEN excluded.last_entry_id ELSE d.last_entry_id END
"""
_IDS_PER_STATEMENT = 900  # far below SQLite's variable limit


def rollups_add_entries(entry_ids: Iterable[int]) -> None:
    """Add entries that were just created in bulk (bulk_create, imports, demo data, test set-up) to their
    days: set-based, the same concurrency-safe delta as one entry's. PostgreSQL: ONE statement however
    many entries (their ids as one array parameter); SQLite: one per 900 entries (its variable limit).
    Each entry must be added exactly once (voided ones are skipped: they never count)."""
    ids = sorted(set(entry_ids))
    if not ids:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            sql = _ADD_MANY_SQL.format(ids="SELECT unnest(%s::bigint[])", newer=_NEWER, **_tables())
            cursor.execute(sql, [ids])
            return
        for first in range(0, len(ids), _IDS_PER_STATEMENT):
            chunk = ids[first : first + _IDS_PER_STATEMENT]
            sql = _ADD_MANY_SQL.format(ids=", ".join(["%s"] * len(chunk)), newer=_NEWER, **_tables())
            cursor.execute(sql, chunk)


def rollups_rebuild_sql() -> str:
    """The INSERT that builds every rollup row from the entries (the data migration; an empty table)."""
    tables = _tables()
    columns = "user_id, kpi_id, date, total, entry_count, last_value, last_created_at, last_entry_id"
    return f"INSERT INTO {tables['day']} ({columns}) {EXPECTED_SQL.format(**tables)}"


def progress_days(
    *, kpi_id: int, user_ids: Iterable[int], start: datetime.date, end: datetime.date
) -> QuerySet[ProgressDay]:
    """Daily sums of these users on one KPI, start..end inclusive, days with counted entries only.

    Each row: user_id, date, total (the day's sum), entry_count, last_value (the day's latest entry).
    Served by the (kpi, user, date) unique index; never reads the entries.
    """
    return ProgressDay.objects.filter(
        kpi_id=kpi_id, user_id__in=list(user_ids), date__gte=start, date__lte=end, entry_count__gt=0
    ).order_by("user_id", "date")
