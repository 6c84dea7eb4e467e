"""The ledger: progress_record / progress_update / progress_void refuse what is wrong, with a message,
and write nothing when they refuse."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from goals import services
from goals.models import Kpi, ProgressEntry
from tests.concurrency import run_in_threads
from tests.factories import GoalFactory, KpiFactory, ProgressEntryFactory, UserFactory

pytestmark = pytest.mark.django_db

D = Decimal
YESTERDAY = timezone.localdate() - datetime.timedelta(days=1)


@pytest.fixture
def revenue():
    return KpiFactory(name="Revenue", unit=Kpi.Unit.CURRENCY, currency_code="EUR", decimal_places=2)


def record(user, kpi, value="10", **kwargs):
    kwargs = {"date": YESTERDAY, "created_by": user, **kwargs}
    return services.progress_record(user=user, kpi=kpi, value=value, **kwargs)


# --- what is accepted ---------------------------------------------------------------------------------------


def test_rep_records_own_progress(rep_a, revenue):
    entry = record(rep_a, revenue, D("1250.50"), note="  Acme renewal ")
    entry.refresh_from_db()
    assert (entry.user, entry.created_by, entry.value, entry.note) == (rep_a, rep_a, D("1250.50"), "Acme renewal")
    assert (entry.source, entry.external_id, entry.voided_at) == ("web", None, None)


def test_value_may_be_an_int_or_a_numeric_string_and_zero(rep_a, revenue):
    assert record(rep_a, revenue, 3).value == D(3)
    assert record(rep_a, revenue, "12.5").value == D("12.50")
    assert record(rep_a, revenue, "0").value == D(0)
    assert record(rep_a, revenue, D("7.50")).value == D("7.5")  # trailing zeros are not extra decimals


def test_any_past_date_is_valid(rep_a, revenue):
    assert record(rep_a, revenue, date=datetime.date(2019, 1, 31)).date == datetime.date(2019, 1, 31)


def test_today_is_the_reps_local_today(revenue):
    # In UTC+14 it is already tomorrow (UTC) for most of the UTC day.
    kiribati = UserFactory(timezone="Pacific/Kiritimati")
    local_today = kiribati.local_today()
    assert record(kiribati, revenue, date=local_today).date == local_today


def test_manager_records_for_a_rep_of_their_team(manager_a, rep_a, revenue):
    entry = record(rep_a, revenue, created_by=manager_a)
    assert (entry.user, entry.created_by) == (rep_a, manager_a)


def test_admin_records_for_anyone(admin_user, rep_b, revenue):
    assert record(rep_b, revenue, created_by=admin_user).user == rep_b


# --- what is refused, and nothing is written ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (1.5, "not a float"),
        ("twelve", "is not a number"),
        (D("NaN"), "finite number"),
        ("Infinity", "finite number"),
        (D("-5"), "cannot be negative: to correct a mistake, edit or void"),
        (D("10.005"), "Revenue takes at most 2 decimals"),
        (D("1e14"), "must be below"),
        (True, "not a float"),
    ],
)
def test_bad_values_are_refused_with_a_message(rep_a, revenue, value, message):
    with pytest.raises(ValidationError, match=message):
        record(rep_a, revenue, value)
    assert not ProgressEntry.objects.exists()


def test_whole_number_kpi_refuses_decimals(rep_a):
    calls = KpiFactory(name="Calls")
    with pytest.raises(ValidationError, match="Calls takes whole numbers only"):
        record(rep_a, calls, "2.5")


def test_date_after_the_reps_local_today_is_refused(rep_a, revenue):
    tomorrow = rep_a.local_today() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError, match=r"is in the future for .* today or any earlier date"):
        record(rep_a, revenue, date=tomorrow)
    assert not ProgressEntry.objects.exists()


def test_a_datetime_is_not_a_date(rep_a, revenue):
    with pytest.raises(ValidationError, match="calendar date"):
        record(rep_a, revenue, date=timezone.now())


def test_archived_kpi_takes_no_progress(rep_a, revenue):
    revenue.is_active = False
    revenue.save()
    with pytest.raises(ValidationError, match="archived"):
        record(rep_a, revenue)
    assert not ProgressEntry.objects.exists()


def test_rep_cannot_record_for_another_rep(rep_a, rep_b, revenue):
    with pytest.raises(PermissionDenied, match="yourself or for members of the teams you manage"):
        record(rep_b, revenue, created_by=rep_a)
    assert not ProgressEntry.objects.exists()


def test_manager_cannot_record_for_another_teams_rep(manager_a, rep_b, revenue):
    with pytest.raises(PermissionDenied):
        record(rep_b, revenue, created_by=manager_a)


def test_note_too_long_is_refused(rep_a, revenue):
    with pytest.raises(ValidationError, match="at most 500 characters"):
        record(rep_a, revenue, note="x" * 501)
    assert not ProgressEntry.objects.exists()


def test_unknown_source_is_refused(rep_a, revenue):
    with pytest.raises(ValidationError, match="not a valid choice"):
        record(rep_a, revenue, source="fax")


# --- dedupe by (source, external_id) -----------------------------------------------------------------------


def test_same_external_id_counts_once(rep_a, revenue):
    first = record(rep_a, revenue, "100", source="api", external_id="deal-42")
    again = record(rep_a, revenue, "999", source="api", external_id="deal-42")
    assert again.pk == first.pk and again.value == D(100)  # the first entry, unchanged
    assert ProgressEntry.objects.count() == 1


def test_external_ids_are_unique_per_source_only(rep_a, revenue):
    record(rep_a, revenue, source="api", external_id="42")
    record(rep_a, revenue, source="import", external_id="42")
    assert ProgressEntry.objects.count() == 2


def test_external_id_of_another_persons_entry_is_refused(rep_a, manager_a, revenue):
    record(manager_a, revenue, source="api", external_id="deal-7")
    with pytest.raises(ValidationError, match="already used for another person's or another KPI's entry"):
        record(rep_a, revenue, source="api", external_id="deal-7")


def test_a_duplicate_that_wins_the_race_is_returned_not_raised(rep_a, revenue, monkeypatch):
    """Another request's entry with the same id was not committed yet when we looked, so our look-up
    missed it; by our INSERT it was there: the unique constraint refuses ours and we return theirs."""
    rival = ProgressEntryFactory(user=rep_a, kpi=revenue, date=YESTERDAY, source="api", external_id="deal-9")
    first = QuerySet.first
    looks = []

    def first_look_misses(self):
        looks.append(self)
        return None if len(looks) == 1 else first(self)

    monkeypatch.setattr(QuerySet, "first", first_look_misses)
    entry = record(rep_a, revenue, "5", source="api", external_id="deal-9")
    assert len(looks) == 2  # the look-up that missed, and the re-read after the IntegrityError
    assert entry.pk == rival.pk and ProgressEntry.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_count_once_on_postgres(rep_a, revenue):
    barrier = threading.Barrier(4)

    def send():
        barrier.wait()
        return record(rep_a, revenue, "5", source="api", external_id="deal-race").pk

    results, errors = run_in_threads(send, 4)
    assert errors == []
    assert len(set(results)) == 1 and ProgressEntry.objects.count() == 1


# --- update and void ------------------------------------------------------------------------------------------


def test_update_corrects_value_note_and_date(rep_a, revenue):
    entry = record(rep_a, revenue, "10")
    earlier = YESTERDAY - datetime.timedelta(days=3)
    services.progress_update(entry=entry, value="12.25", note="fixed", date=earlier, updated_by=rep_a)
    entry.refresh_from_db()
    assert (entry.value, entry.note, entry.date) == (D("12.25"), "fixed", earlier)


def test_update_applies_the_same_rules(rep_a, revenue):
    entry = record(rep_a, revenue, "10")
    with pytest.raises(ValidationError, match="at most 2 decimals"):
        services.progress_update(entry=entry, value="1.001", note="", updated_by=rep_a)
    with pytest.raises(ValidationError, match="in the future"):
        services.progress_update(
            entry=entry, value="1", note="", date=rep_a.local_today() + datetime.timedelta(days=1), updated_by=rep_a
        )
    entry.refresh_from_db()
    assert entry.value == D(10)


def test_update_by_someone_else_is_refused(rep_a, rep_b, revenue):
    entry = record(rep_a, revenue)
    with pytest.raises(PermissionDenied):
        services.progress_update(entry=entry, value="1", note="", updated_by=rep_b)


def test_voided_entry_cannot_be_edited(rep_a, revenue):
    entry = record(rep_a, revenue)
    services.progress_void(entry=entry, reason="Duplicate", voided_by=rep_a)
    with pytest.raises(ValidationError, match=r"voided .* cannot be edited; log a new entry"):
        services.progress_update(entry=entry, value="1", note="", updated_by=rep_a)


def test_void_keeps_the_entry_with_who_when_and_why(manager_a, rep_a, revenue):
    entry = record(rep_a, revenue)
    services.progress_void(entry=entry, reason="  Deal fell through ", voided_by=manager_a)
    entry.refresh_from_db()
    assert (entry.voided_by, entry.void_reason, entry.is_voided) == (manager_a, "Deal fell through", True)
    assert ProgressEntry.objects.count() == 1


def test_void_needs_a_reason(rep_a, revenue):
    entry = record(rep_a, revenue)
    with pytest.raises(ValidationError, match="Say why"):
        services.progress_void(entry=entry, reason="   ", voided_by=rep_a)
    entry.refresh_from_db()
    assert not entry.is_voided


def test_voiding_twice_is_refused(rep_a, revenue):
    entry = record(rep_a, revenue)
    services.progress_void(entry=entry, reason="Duplicate", voided_by=rep_a)
    with pytest.raises(ValidationError, match="already voided"):
        services.progress_void(entry=entry, reason="Again", voided_by=rep_a)
    entry.refresh_from_db()
    assert entry.void_reason == "Duplicate"


def test_rep_cannot_void_another_reps_entry(rep_a, rep_b, revenue):
    entry = record(rep_a, revenue)
    with pytest.raises(PermissionDenied):
        services.progress_void(entry=entry, reason="Mine now", voided_by=rep_b)


# --- query counts ----------------------------------------------------------------------------------------------


def test_record_runs_a_fixed_small_number_of_queries(rep_a, revenue, django_assert_num_queries):
    # SAVEPOINT, INSERT, the day's rollup upsert, then ONE statement that finds the touched goals and micro
    # goals (rep teams on the date, the teams above, the teams' current reps, whose forecasts may lean on the
    # team's rate) and inserts their stale marks; RELEASE SAVEPOINT. (No goal touched: nothing marked stale, no
    # recompute asked for.)
    with django_assert_num_queries(5):
        record(rep_a, revenue)


@pytest.mark.parametrize("goals", [1, 100])
def test_record_touching_goals_adds_one_stale_insert_however_many(
    rep_a, team_a, revenue, goals, django_assert_num_queries, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr("goals.tasks.recompute_stale.delay", lambda: None)
    window = {"start_date": YESTERDAY - datetime.timedelta(days=7), "due_date": YESTERDAY}
    GoalFactory.create_batch(goals, owner_team=team_a, kpi=revenue, **window)
    # As above (the same statement inserts the stale marks); after commit, ONE conditional update that asks for
    # the coalesced recompute (a recompute task is sent only if none is queued). No goal row is locked or read.
    with django_assert_num_queries(5 + 1), django_capture_on_commit_callbacks(execute=True):
        record(rep_a, revenue)


def test_record_with_an_external_id_adds_the_dedupe_check(rep_a, revenue, django_assert_num_queries):
    # As above, plus: SELECT the (source, external_id) entry, and a SAVEPOINT / RELEASE around the INSERT.
    with django_assert_num_queries(8):
        record(rep_a, revenue, source="api", external_id="crm-1")
    # A repeat: SAVEPOINT, SELECT the existing entry, RELEASE. Nothing else.
    with django_assert_num_queries(3):
        record(rep_a, revenue, source="api", external_id="crm-1")


def test_manager_recording_for_a_rep_adds_the_permission_check(manager_a, rep_a, revenue, django_assert_num_queries):
    # As for the rep, plus who the manager may act for: teams managed, team tree, their members.
    with django_assert_num_queries(8):
        record(rep_a, revenue, created_by=manager_a)
