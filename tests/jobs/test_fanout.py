"""The reminder jobs' fan-out: the periodic task hands the due ids to chunk tasks; every chunk boundary, rerun
and duplicate chunk still delivers one notification and one email per rep, and a chunk's queries are constant."""

import datetime

import pytest
import time_machine
from django.core import mail

from goals import tasks
from goals.services import reminders
from notifications import fanout
from notifications.fanout import chunked
from notifications.models import Notification
from tests.factories import TeamFactory, make_entry, make_micro_goal, make_rep

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]

FRIDAY = datetime.date(2026, 11, 20)
FRIDAY_1600 = datetime.datetime(2026, 11, 20, 16, tzinfo=datetime.UTC)


def _due_reps(n, *, team=None):
    team = team or TeamFactory()
    reps = [make_rep(team) for _ in range(n)]
    for rep in reps:
        make_micro_goal(assignee=rep, start=FRIDAY, due=FRIDAY)
    return reps


def _delivered():
    return sorted(Notification.objects.values_list("user_id", "key"))


@pytest.mark.parametrize(
    ("count", "sizes"),
    [(0, []), (1, [1]), (250, [250]), (251, [250, 1]), (500, [250, 250]), (501, [250, 250, 1])],
)
def test_chunks_hold_at_most_FAN_OUT_CHUNK_ids(count, sizes):
    assert [len(c) for c in chunked(range(count))] == sizes


def test_chunks_are_the_distinct_ids_sorted_so_a_rerun_makes_the_same_chunks():
    assert chunked([5, 3, 5, 1, 4, 2], size=2) == [[1, 2], [3, 4], [5]]


def test_the_run_reaches_every_rep_across_chunk_boundaries_once(monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(fanout, "FAN_OUT_CHUNK", 2)
    reps = _due_reps(5)
    with time_machine.travel(FRIDAY_1600, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert tasks.send_checkin_reminders.apply().get() == 3  # chunks of 2, 2 and 1
    assert _delivered() == sorted((r.id, f"checkin:{r.id}:{FRIDAY}") for r in reps)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(r.email for r in reps)


def test_a_rerun_finds_nobody_left_and_sends_nothing_twice(monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(fanout, "FAN_OUT_CHUNK", 2)
    _due_reps(3)
    with time_machine.travel(FRIDAY_1600, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            tasks.send_checkin_reminders.apply().get()
        with django_capture_on_commit_callbacks(execute=True):
            assert tasks.send_checkin_reminders.apply().get() == 0
    assert Notification.objects.count() == 3 and len(mail.outbox) == 3


def test_a_duplicate_or_late_chunk_sends_nothing_twice(django_capture_on_commit_callbacks):
    reps = _due_reps(3)
    ids = [r.id for r in reps]
    chunk = {"ids": ids, "now": FRIDAY_1600.isoformat()}
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.send_checkin_reminder_chunk.apply(kwargs=chunk).get() == 3
    # Redelivered an hour later: the run's own instant travels with it, so the keys are the same.
    an_hour_later = FRIDAY_1600 + datetime.timedelta(hours=1)
    with time_machine.travel(an_hour_later, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert tasks.send_checkin_reminder_chunk.apply(kwargs=chunk).get() == 0
    assert Notification.objects.count() == 3 and len(mail.outbox) == 3


def test_a_chunk_rechecks_its_reps_and_skips_one_who_logged_meanwhile(django_capture_on_commit_callbacks):
    logged, waiting = _due_reps(2)
    make_entry(user=logged, date=FRIDAY)
    chunk = {"ids": [logged.id, waiting.id], "now": FRIDAY_1600.isoformat()}
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.send_checkin_reminder_chunk.apply(kwargs=chunk).get() == 1
    assert _delivered() == [(waiting.id, f"checkin:{waiting.id}:{FRIDAY}")]


@pytest.mark.parametrize("n", [5, 250])
def test_a_chunk_costs_the_same_queries_for_5_or_250_reps(n, django_assert_num_queries, notification_inserts):
    ids = [r.id for r in _due_reps(n)]
    # Choosing: timezones, the chunk's due reps, the calendars (team tree with weekdays, holidays), the keys
    # delivered. Delivering: the keys again, one INSERT (on PostgreSQL; SQLite's parameter limit splits it), the
    # new ids (in a savepoint here: 2 more).
    with time_machine.travel(FRIDAY_1600, tick=False), django_assert_num_queries(9 + notification_inserts(n)):
        assert reminders.checkin_reminders_send(now=FRIDAY_1600, user_ids=ids) == n
