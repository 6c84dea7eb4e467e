"""The bulk write of `progress_import`: on PostgreSQL one COPY into the ledger and one set-based rollup upsert; on
SQLite bulk_create. Both must leave the same ledger and the same daily rollup (ProgressDay), all or nothing."""

import datetime
import importlib
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection

from goals import services
from goals.models import ProgressDay, ProgressEntry
from tests.factories import KpiFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
# The module (goals.services.progress_import is also the name of the function the package exports).
importer = importlib.import_module("goals.services.progress_import")

DAY = datetime.date(2026, 3, 10)
# Text COPY must escape: a tab, a newline, a carriage return, a backslash, and a literal "\N" (not NULL).
AWKWARD = ["tab\there", "two\nlines", "cr\rlf", "back\\slash", "\\N", "quote \" and 'apostrophe'", "ünïcødé"]


def _rows(reps, kpi, prefix: str, count: int) -> list[services.ImportRow]:
    """Several entries per (rep, day), notes that COPY must escape, every third row without an external id."""
    return [
        services.ImportRow(
            line=n + 2,
            user=reps[n % len(reps)].username,
            kpi=kpi.name,
            date=(DAY - datetime.timedelta(days=n % 4)).isoformat(),
            value=f"{(n * 37) % 500}.{n % 100:02d}",
            note=AWKWARD[n % len(AWKWARD)] if n % 2 else "",
            external_id="" if n % 3 == 0 else f"{prefix}{n}\t\\",
        )
        for n in range(count)
    ]


def _ledger(kpi, prefix: str) -> list[tuple]:
    entries = ProgressEntry.objects.filter(kpi=kpi).order_by("id")
    return [
        (e.user_id, e.date, e.value, e.note, e.source, (e.external_id or "").removeprefix(prefix), e.created_by_id)
        for e in entries
    ]


def _rollup(kpi) -> list[tuple]:
    """Each day's row, its latest entry named by its place in the KPI's ledger (ids differ between the KPIs)."""
    place = {
        entry_id: n
        for n, entry_id in enumerate(ProgressEntry.objects.filter(kpi=kpi).order_by("id").values_list("id", flat=True))
    }
    return [
        (d.user_id, d.date, d.total, d.entry_count, d.last_value, place[d.last_entry_id])
        for d in ProgressDay.objects.filter(kpi=kpi).order_by("user_id", "date")
    ]


@pytest.fixture
def reps(team_a):
    return [MembershipFactory(user=UserFactory(username=f"bulk_rep_{n}"), team=team_a).user for n in range(5)]


@pytest.mark.postgres
def test_copy_gives_the_same_ledger_and_rollup_as_the_portable_path(reps, manager_a, monkeypatch):
    copied, portable = KpiFactory(name="Copied", decimal_places=2), KpiFactory(name="Portable", decimal_places=2)
    for kpi in (copied, portable):  # days that already have entries: the upsert's update side, "last" kept right
        for rep in reps[:3]:
            services.progress_record(user=rep, kpi=kpi, date=DAY, value=Decimal("7.25"), created_by=rep)
    assert services.progress_import(rows=_rows(reps, copied, "c:", 600), imported_by=manager_a).created == 600
    with monkeypatch.context() as patched:  # the same rows through bulk_create and the per-900 rollup
        patched.setattr(connection, "vendor", "sqlite")
        assert services.progress_import(rows=_rows(reps, portable, "p:", 600), imported_by=manager_a).created == 600
    assert _ledger(copied, "c:") == _ledger(portable, "p:")
    assert len(_ledger(copied, "c:")) == 603
    assert _rollup(copied) == _rollup(portable)
    assert services.rollups_verify() == []
    # Read back through the ORM, the escaped text is exactly what was given.
    assert set(ProgressEntry.objects.filter(kpi=copied).values_list("note", flat=True)) == {"", *AWKWARD}
    assert ProgressEntry.objects.filter(kpi=copied, external_id="c:1\t\\").exists()
    assert ProgressEntry.objects.filter(kpi=copied, source="import", external_id__isnull=True).count() == 200


@pytest.mark.postgres
def test_a_big_import_leaves_rollups_verify_with_nothing_to_report(reps, manager_a):
    kpi = KpiFactory(name="Calls", decimal_places=0)
    rows = [
        services.ImportRow(
            line=n + 2,
            user=reps[n % 5].username,
            kpi="Calls",
            date=DAY - datetime.timedelta(days=n % 61),  # 61 and 5 are coprime: every (rep, day)
            value=str(n % 9),
            external_id=f"big:{n}",
        )
        for n in range(20_000)
    ]
    assert services.progress_import(rows=rows, imported_by=manager_a).created == 20_000
    out = io.StringIO()
    call_command("rollups_verify", stdout=out)  # exits non-zero (CommandError) on any difference
    assert "Every progress rollup agrees with the entries." in out.getvalue()
    assert ProgressDay.objects.filter(kpi=kpi).count() == 5 * 61
    # Re-running the same file creates nothing (idempotent on external_id) and changes no rollup.
    before = _rollup(kpi)
    result = services.progress_import(rows=rows, imported_by=manager_a)
    assert (result.created, result.unchanged) == (0, 20_000)
    assert _rollup(kpi) == before


def test_an_external_id_stored_meanwhile_rolls_the_whole_import_back(reps, manager_a, monkeypatch):
    """The check missed a stored id (a concurrent import committed it after the check read): the insert's unique
    constraint refuses the batch, and nothing of it, ledger or rollup, is kept."""
    kpi = KpiFactory(name="Deals", decimal_places=2)
    rows = _rows(reps, kpi, "race:", 30)
    services.progress_import(rows=rows[5:6], imported_by=manager_a)
    monkeypatch.setattr(importer, "_stored_external_ids", lambda ids, source: {})
    with pytest.raises(ValidationError, match="Another import with some of the same external ids finished first"):
        services.progress_import(rows=rows, imported_by=manager_a)
    assert ProgressEntry.objects.filter(kpi=kpi).count() == 1
    assert list(ProgressDay.objects.filter(kpi=kpi).values_list("entry_count", flat=True)) == [1]
    assert services.rollups_verify() == []


def test_a_date_before_the_earliest_kept_is_refused_by_line(reps, manager_a):
    kpi = KpiFactory(name="Deals", decimal_places=2)
    rows = [
        services.ImportRow(line=2, user=reps[0].username, kpi=kpi.name, date="2026-03-01", value="1"),
        services.ImportRow(line=3, user=reps[0].username, kpi=kpi.name, date="1899-12-31", value="1"),
    ]
    with pytest.raises(services.ImportRejected) as rejected:
        services.progress_import(rows=rows, imported_by=manager_a)
    assert [(e.line, e.field) for e in rejected.value.errors] == [(3, "date")]
    assert "earliest date Pacer keeps" in rejected.value.errors[0].message
    assert not ProgressEntry.objects.filter(kpi=kpi).exists()


def test_plain_and_unusual_numbers_follow_the_same_rules(reps, manager_a):
    kpi = KpiFactory(name="Deals", decimal_places=2)
    good = ["12", "12.5", ".5", "0012.50", " 3.10 "]
    bad = ["12.345", "-1", "1e3x", "١٢", "NaN", ""]
    rows = [
        services.ImportRow(line=n, user=reps[0].username, kpi=kpi.name, date=DAY, value=v)
        for n, v in enumerate(good + bad, start=2)
    ]
    with pytest.raises(services.ImportRejected) as rejected:
        services.progress_import(rows=rows, imported_by=manager_a)
    assert sorted({e.line for e in rejected.value.errors}) == list(range(2 + len(good), 2 + len(good) + len(bad)))
    result = services.progress_import(rows=rows[: len(good)], imported_by=manager_a)
    assert result.created == len(good)
    assert sorted(ProgressEntry.objects.filter(kpi=kpi).values_list("value", flat=True)) == [
        Decimal("0.50"),
        Decimal("3.10"),
        Decimal("12.00"),
        Decimal("12.50"),
        Decimal("12.50"),
    ]


@pytest.mark.postgres
def test_ids_with_another_writers_ids_in_between_still_match_the_rows(reps, manager_a):
    """The ids come back as a run's two ends or, when other writers took ids in between, as one array: simulated
    with a sequence that steps by 3. Each row gets its own id, in the rows' order, and the rollups agree."""
    kpi = KpiFactory(name="Gaps", decimal_places=2)
    rows = _rows(reps, kpi, "g:", 50)
    sequence = "pg_get_serial_sequence(%s, 'id')"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sequence}", [ProgressEntry._meta.db_table])
        (name,) = cursor.fetchone()
        cursor.execute(f"ALTER SEQUENCE {name} INCREMENT BY 3")
        try:
            result = services.progress_import(rows=rows, imported_by=manager_a)
        finally:
            cursor.execute(f"ALTER SEQUENCE {name} INCREMENT BY 1")
    ids = result.entry_ids
    assert len(set(ids)) == 50 and ids == sorted(ids) and ids[1] - ids[0] == 3
    stored = dict(ProgressEntry.objects.filter(kpi=kpi).values_list("id", "external_id"))
    assert [stored[i] or "" for i in ids] == [r.external_id for r in rows]
    assert services.rollups_verify() == []
    # Without gaps: a run, the ids consecutive.
    more = services.progress_import(rows=_rows(reps, kpi, "h:", 20), imported_by=manager_a).entry_ids
    assert more == list(range(more[0], more[0] + 20))
