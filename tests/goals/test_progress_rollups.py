"""The daily rollup (ProgressDay) the engine reads: kept in step with every record, edit and void, in the
same transaction, without losing a concurrent update; verifiable and repairable against the entries."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from goals import services
from goals.models import ProgressDay, ProgressEntry
from goals.services import rollups
from tests.concurrency import run_in_threads
from tests.factories import GoalFactory, KpiFactory

pytestmark = pytest.mark.django_db

D = Decimal
DAY = datetime.date(2026, 3, 10)


@pytest.fixture
def deals():
    return KpiFactory(name="Deals", decimal_places=2)


def record(user, kpi, value, day=DAY):
    return services.progress_record(user=user, kpi=kpi, date=day, value=value, created_by=user)


def row(user, kpi, day=DAY):
    return (
        ProgressDay.objects.filter(user=user, kpi=kpi, date=day)
        .values_list("total", "entry_count", "last_value", "last_entry_id")
        .first()
    )


def test_recording_adds_to_the_day_and_the_latest_entry_is_the_days_last(rep_a, deals):
    first = record(rep_a, deals, "10.50")
    second = record(rep_a, deals, "4")
    assert row(rep_a, deals) == (D("14.5"), 2, D(4), second.id)
    record(rep_a, deals, "1", day=DAY - datetime.timedelta(days=1))  # another day, another row
    assert row(rep_a, deals) == (D("14.5"), 2, D(4), second.id)
    assert first.id < second.id


def test_voiding_the_days_latest_entry_makes_the_one_before_it_the_last(rep_a, deals):
    first = record(rep_a, deals, "10")
    second = record(rep_a, deals, "4")
    services.progress_void(entry=second, reason="Typo", voided_by=rep_a)
    assert row(rep_a, deals) == (D(10), 1, D(10), first.id)
    services.progress_void(entry=first, reason="Typo", voided_by=rep_a)
    assert row(rep_a, deals) == (D(0), 0, None, None)  # an empty day counts for nothing


def test_editing_an_entry_moves_it_between_days_and_keeps_both_days_right(rep_a, deals):
    first = record(rep_a, deals, "10")
    second = record(rep_a, deals, "4")
    earlier = DAY - datetime.timedelta(days=2)
    services.progress_update(entry=second, value="6", note="", date=earlier, updated_by=rep_a)
    assert row(rep_a, deals) == (D(10), 1, D(10), first.id)
    assert row(rep_a, deals, earlier) == (D(6), 1, D(6), second.id)
    services.progress_update(entry=first, value="12", note="", updated_by=rep_a)  # the last entry's new value
    assert row(rep_a, deals) == (D(12), 1, D(12), first.id)
    assert services.rollups_verify() == []


def test_a_rolled_back_entry_leaves_no_rollup(rep_a, deals):
    with transaction.atomic():
        record(rep_a, deals, "10")
        transaction.set_rollback(True)
    assert not ProgressDay.objects.exists()


def test_verify_finds_every_kind_of_drift_and_repair_fixes_it(rep_a, rep_b, deals):
    kept, changed = record(rep_a, deals, "10"), record(rep_b, deals, "3")
    record(rep_a, deals, "2", day=DAY - datetime.timedelta(days=1))
    ProgressEntry.objects.filter(id=changed.id).update(value=D(30))  # a raw write behind the services' back
    ProgressDay.objects.filter(user=rep_a, date=DAY - datetime.timedelta(days=1)).delete()  # a lost row
    ProgressDay.objects.create(user=rep_b, kpi=deals, date=DAY - datetime.timedelta(days=5), total=1, entry_count=1)
    bad = services.rollups_verify()
    assert [(k.user_id, k.date) for k in bad] == [
        (rep_a.id, DAY - datetime.timedelta(days=1)),
        (rep_b.id, DAY - datetime.timedelta(days=5)),
        (rep_b.id, DAY),
    ]
    assert len(services.rollups_verify(repair=True)) == 3
    assert services.rollups_verify() == []
    assert row(rep_b, deals) == (D(30), 1, D(30), changed.id) and row(rep_a, deals)[1] == 1 and kept.pk


def test_the_engine_reads_the_rollup_and_repair_brings_the_figures_back(rep_a, deals):
    goal = GoalFactory(owner_user=rep_a, kpi=deals)
    entry = record(rep_a, deals, "10")
    ProgressEntry.objects.filter(id=entry.id).update(value=D(25))  # behind the services' back
    services.progress_recompute()
    goal.refresh_from_db()
    assert goal.current_value == D(10)  # the rollup is what the engine reads...
    call_command("rollups_verify", "--repair")  # ...so the repair recomputes the goals too
    goal.refresh_from_db()
    assert goal.current_value == D(25)


def test_rollups_verify_command_exits_1_and_lists_the_rows_without_repair(rep_a, deals, capsys):
    entry = record(rep_a, deals, "10")
    ProgressEntry.objects.filter(id=entry.id).update(value=D(11))
    with pytest.raises(CommandError, match=r"1 progress rollup rows disagree .* --repair"):
        call_command("rollups_verify")
    assert f"user {rep_a.id}, KPI {deals.id}, 2026-03-10" in capsys.readouterr().out
    call_command("rollups_verify", "--repair")
    call_command("rollups_verify")
    assert "Every progress rollup agrees" in capsys.readouterr().out


def test_the_migration_sql_builds_every_row_from_the_entries(rep_a, rep_b, deals):
    for user, value, day in ((rep_a, "1", DAY), (rep_a, "2", DAY), (rep_b, "5", DAY - datetime.timedelta(days=3))):
        record(user, deals, value, day=day)
    services.progress_void(entry=record(rep_a, deals, "7"), reason="x", voided_by=rep_a)
    expected = set(ProgressDay.objects.filter(entry_count__gt=0).values_list("user", "date", "total", "last_value"))
    ProgressDay.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(rollups.rollups_rebuild_sql())
    assert set(ProgressDay.objects.values_list("user", "date", "total", "last_value")) == expected
    assert services.rollups_verify() == []


def test_bulk_added_entries_join_the_rollup_like_single_ones(rep_a, deals):
    record(rep_a, deals, "1")
    bulk = ProgressEntry.objects.bulk_create(
        ProgressEntry(user=rep_a, kpi=deals, date=DAY - datetime.timedelta(days=d % 3), value=D(d), created_by=rep_a)
        for d in range(10)
    )
    rollups.rollups_add_entries([e.id for e in bulk])
    assert services.rollups_verify() == []
    assert row(rep_a, deals)[:2] == (D(1 + 0 + 3 + 6 + 9), 5)


def test_progress_days_gives_daily_sums_without_empty_days(rep_a, rep_b, deals):
    record(rep_a, deals, "2")
    record(rep_a, deals, "3")
    services.progress_void(entry=record(rep_b, deals, "9"), reason="x", voided_by=rep_b)
    days = services.progress_days(kpi_id=deals.id, user_ids=[rep_a.id, rep_b.id], start=DAY, end=DAY)
    assert [(d.user_id, d.date, d.total, d.entry_count) for d in days] == [(rep_a.id, DAY, D(5), 2)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_records_and_voids_on_one_day_lose_no_update(rep_a, deals):
    """12 writers at once on the same (user, KPI, date): 8 record, 4 void the day's latest entries."""
    victims = [record(rep_a, deals, "100") for _ in range(4)]
    barrier = threading.Barrier(12)
    jobs = iter([("record", None)] * 8 + [("void", v) for v in victims])
    lock = threading.Lock()

    def write():
        with lock:
            kind, victim = next(jobs)
        barrier.wait()
        if kind == "record":
            return record(rep_a, deals, "1.25").id
        return services.progress_void(entry=victim, reason="race", voided_by=rep_a).id

    results, errors = run_in_threads(write, 12)
    assert errors == [] and len(results) == 12, "\n\n".join(str(e) for e in errors)
    assert row(rep_a, deals)[:2] == (D(10), 8)  # 8 × 1.25, the four voided hundreds gone
    assert services.rollups_verify() == []


def test_a_bulk_import_keeps_the_rollup_and_marks_its_goals_stale(rep_a, manager_a, team_a, deals):
    """progress_import (h8's bulk insert) adds its entries to their days in the same transaction, and marks
    what they touch stale for the coalesced recompute, like progress_record."""
    own = GoalFactory(owner_user=rep_a, kpi=deals, start_date=DAY - datetime.timedelta(days=5), due_date=DAY)
    team = GoalFactory(owner_team=team_a, kpi=deals, start_date=DAY - datetime.timedelta(days=5), due_date=DAY)
    record(rep_a, deals, 5)
    services.progress_recompute_stale()
    rows = [
        services.ImportRow(line=n, user=rep_a.username, kpi=deals.name, date=DAY, value=v, external_id=f"crm-{n}")
        for n, v in enumerate(["1.50", "2", "3"], start=1)
    ]
    assert services.progress_import(rows=rows, imported_by=manager_a).created == 3
    assert services.rollups_verify() == []
    day = ProgressDay.objects.get(user=rep_a, kpi=deals, date=DAY)
    assert (day.total, day.entry_count) == (D("11.50"), 4)
    assert services.stale_target_ids(goal_ids=[own.id, team.id]) == ({own.id, team.id}, set())
    services.progress_recompute_stale()
    own.refresh_from_db()
    team.refresh_from_db()
    assert own.current_value == team.current_value == D("11.50")
    assert services.stale_target_ids(goal_ids=[own.id, team.id]) == (set(), set())
