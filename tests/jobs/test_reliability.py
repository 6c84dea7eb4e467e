"""The jobs keep their promises when things go wrong: run twice or concurrently they deliver once; a
broker outage never fails or slows a user's request; a rolled-back transaction enqueues nothing; every
rep is reminded at their own local hour; no countdown outlives the broker's visibility timeout."""

import ast
import datetime
import json
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import pytest
import redis
import time_machine
from celery.app.task import Task
from django.conf import settings
from django.core import mail
from django.db import transaction

from config.celery import app
from config.schedule import DEFAULT_SCHEDULE
from goals import services, tasks
from goals.models import Goal, GoalRevision, Health
from goals.services import reminders
from notifications import tasks as notification_tasks
from notifications.models import Notification
from teams.models import Holiday
from tests.concurrency import run_in_threads
from tests.factories import make_entry, make_goal, make_kpi, make_manager, make_micro_goal, make_rep
from webhooks import tasks as webhook_tasks

ROOT = Path(__file__).resolve().parents[2]
UTC = datetime.UTC
MONDAY = datetime.date(2026, 11, 23)
# Monday 16:00 UTC: 16:00 for a UTC rep, 08:00 for a manager in Los Angeles.
MONDAY_1600_UTC = datetime.datetime(2026, 11, 23, 16, 0, tzinfo=UTC)


# --- each reminder task, twice and concurrently: one notification and one email ----------------------------


@pytest.fixture
def everyone_due(team_a):
    """At MONDAY_1600_UTC: a rep due a check-in, a goal 3 days from its deadline and off track (owner and
    manager), and a manager due the weekly digest."""
    rep = make_rep(team_a, username="due_rep")
    make_micro_goal(assignee=rep, start=MONDAY, due=MONDAY + datetime.timedelta(days=4))
    manager = make_manager(team_a, username="due_manager", timezone="America/Los_Angeles")
    goal = make_goal(owner_user=rep, due_date=MONDAY + datetime.timedelta(days=3), health=Health.OFF_TRACK)
    return SimpleNamespace(rep=rep, manager=manager, goal=goal)


REMINDER_TASKS = [
    # (task, what it delivers at MONDAY_1600_UTC to the `everyone_due` people)
    pytest.param(tasks.send_checkin_reminders, [("due_rep", "checkin_reminder")], id="checkin"),
    pytest.param(
        tasks.send_deadline_reminders,
        [("due_manager", "goal_off_track"), ("due_rep", "deadline_reminder")],
        id="deadline",
    ),
    pytest.param(tasks.send_manager_digest, [("due_manager", "manager_digest")], id="digest"),
]


def delivered():
    return sorted(Notification.objects.values_list("user__username", "kind"))


@pytest.mark.django_db
@pytest.mark.parametrize(("task", "expected"), REMINDER_TASKS)
def test_each_reminder_task_run_twice_delivers_one_notification_and_one_email(
    task, expected, everyone_due, eager_celery, django_capture_on_commit_callbacks
):
    with time_machine.travel(MONDAY_1600_UTC, tick=False):
        for _ in range(2):
            with django_capture_on_commit_callbacks(execute=True):
                task.apply().get()
    assert delivered() == expected
    assert len(mail.outbox) == len(expected)
    assert Notification.objects.filter(email_status="sent").count() == len(expected)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("task", "expected"), REMINDER_TASKS)
def test_each_reminder_task_run_twice_concurrently_delivers_one_notification_and_one_email(
    task, expected, everyone_due, eager_celery
):
    # Both runs choose their recipients before either delivers: each waits for the other at its first
    # notifications_deliver() (the public delivery boundary), so they race on every notification.
    both_chose = threading.Barrier(2, timeout=20)
    first_call = threading.local()
    real_deliver = reminders.notifications_deliver

    def deliver_after_both_chose(**kwargs):
        if not getattr(first_call, "done", False):
            first_call.done = True
            both_chose.wait()
        return real_deliver(**kwargs)

    with (
        time_machine.travel(MONDAY_1600_UTC, tick=False),
        mock.patch.object(reminders, "notifications_deliver", deliver_after_both_chose),
    ):
        _, errors = run_in_threads(task.apply)  # eager_propagates: a failure raises (no .get() in threads)
    assert errors == []
    assert delivered() == expected
    assert len(mail.outbox) == len(expected)
    assert Notification.objects.filter(email_status="sent").count() == len(expected)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_close_due_goals_run_twice_concurrently_closes_each_goal_once(rep_a):
    kpi = make_kpi()
    make_entry(user=rep_a, kpi=kpi, date=datetime.date(2026, 11, 10), value=100)
    achieved = make_goal(
        owner_user=rep_a, kpi=kpi, start_date=datetime.date(2026, 11, 1), due_date=datetime.date(2026, 11, 20)
    )
    missed = make_goal(owner_user=rep_a, start_date=datetime.date(2026, 11, 1), due_date=datetime.date(2026, 11, 20))
    open_goal = make_goal(owner_user=rep_a, start_date=datetime.date(2026, 11, 1), due_date=datetime.date(2026, 11, 21))
    with time_machine.travel(datetime.datetime(2026, 11, 21, 0, 30, tzinfo=UTC), tick=False):
        _, errors = run_in_threads(tasks.close_due_goals.apply)
        assert errors == []
        tasks.close_due_goals.apply().get()
    statuses = dict(Goal.objects.values_list("id", "status"))
    assert statuses == {achieved.id: "achieved", missed.id: "missed", open_goal.id: "active"}
    assert GoalRevision.objects.filter(kind=GoalRevision.Kind.CLOSED).count() == 2


@pytest.mark.django_db
def test_close_due_goals_uses_the_organisations_local_date(rep_a, settings):
    settings.TIME_ZONE = "Pacific/Auckland"  # 00:30 on Saturday there is still Friday 11:30 UTC
    friday = make_goal(owner_user=rep_a, start_date=datetime.date(2026, 11, 1), due_date=datetime.date(2026, 11, 20))
    saturday = make_goal(owner_user=rep_a, start_date=datetime.date(2026, 11, 1), due_date=datetime.date(2026, 11, 21))
    with time_machine.travel(datetime.datetime(2026, 11, 20, 11, 30, tzinfo=UTC), tick=False):
        tasks.close_due_goals.apply().get()
    assert Goal.objects.get(id=friday.id).status == "missed"
    assert Goal.objects.get(id=saturday.id).status == "active"


# --- broker down --------------------------------------------------------------------------------------------


def _reset_connections():
    """Make the app connect anew with its current broker settings (as after a fork)."""
    app._pool = None  # kombu keeps the old pool (per URL) for when the URL is restored
    app.amqp._producer_pool = None


@pytest.fixture
def broker_down():
    """The app's broker is a closed port; everything else (timeouts, retry policy) as configured."""
    # Publishing connects to broker_write_url (it falls back to CELERY_BROKER_URL when unset).
    saved = app.conf.broker_write_url
    app.conf.broker_write_url = "redis://127.0.0.1:1/0"
    _reset_connections()
    try:
        assert app.connection_for_write().port == 1
        yield
    finally:
        app.conf.broker_write_url = saved
        _reset_connections()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_broker_down_progress_is_saved_within_2s_and_recompute_all_repairs_the_goal(rep_a, broker_down, caplog):
    kpi = make_kpi()
    goal = make_goal(
        owner_user=rep_a, kpi=kpi, start_date=datetime.date(2000, 1, 1), due_date=datetime.date(2099, 1, 1)
    )
    caplog.set_level(logging.WARNING, logger="goals.services.enqueue")

    started = time.monotonic()
    entry = services.progress_record(user=rep_a, kpi=kpi, date=rep_a.local_today(), value=7, created_by=rep_a)
    elapsed = time.monotonic() - started

    assert elapsed < 2, (
        f"recording progress took {elapsed:.1f}s with the broker down; kombu sleeps "
        "CELERY_BROKER_TRANSPORT_OPTIONS['interval_start'] (2 s by default) before retrying a connection"
    )
    assert entry.pk is not None and entry.value == 7  # committed: the enqueue ran after commit
    assert [r.levelname for r in caplog.records if r.name == "goals.services.enqueue"] == ["WARNING"]
    goal.refresh_from_db()
    assert goal.current_value == 0 and goal.computed_at is None  # the recompute was never queued

    tasks.recompute_all()  # the periodic safety net, called directly while the broker is still down
    goal.refresh_from_db()
    assert goal.current_value == 7 and goal.computed_at is not None


# --- a rolled-back transaction enqueues nothing ------------------------------------------------------------


class Rollback(Exception):
    pass


def _record_then_maybe_roll_back(rep, kpi, *, roll_back):
    try:
        with transaction.atomic():
            services.progress_record(user=rep, kpi=kpi, date=rep.local_today(), value=3, created_by=rep)
            with time_machine.travel(datetime.datetime.combine(MONDAY, datetime.time(16), tzinfo=UTC), tick=False):
                reminders.deadline_reminders_send()  # its delivery queues the emails on commit
            if roll_back:
                raise Rollback
    except Rollback:
        pass


@pytest.fixture
def enqueue_scenario(rep_a):
    kpi = make_kpi()
    make_goal(owner_user=rep_a, kpi=kpi, start_date=datetime.date(2000, 1, 1), due_date=datetime.date(2099, 1, 1))
    make_goal(owner_user=rep_a, due_date=MONDAY + datetime.timedelta(days=1))
    return SimpleNamespace(rep=rep_a, kpi=kpi)


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_enqueues_nothing(enqueue_scenario):
    with mock.patch.object(Task, "apply_async", autospec=True) as publish:
        _record_then_maybe_roll_back(enqueue_scenario.rep, enqueue_scenario.kpi, roll_back=True)
        assert publish.call_count == 0
        assert not Notification.objects.exists()
        # The same work committed publishes both: the recompute and the email.
        _record_then_maybe_roll_back(enqueue_scenario.rep, enqueue_scenario.kpi, roll_back=False)
    assert sorted(c.args[0].name for c in publish.call_args_list) == [
        "goals.tasks.recompute_stale",
        "notifications.tasks.send_notification_emails",
    ]


@pytest.fixture
def redis_queue():
    """Every queue on the test broker, as (queue, task) pairs, emptied before and after."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    queues = settings.PACER_CELERY_QUEUES
    client.delete(*queues)
    yield lambda: [(q, json.loads(m)["headers"]["task"]) for q in queues for m in client.lrange(q, 0, -1)]
    client.delete(*queues)


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_puts_nothing_on_the_redis_queue(enqueue_scenario, redis_queue):
    _record_then_maybe_roll_back(enqueue_scenario.rep, enqueue_scenario.kpi, roll_back=True)
    assert redis_queue() == []
    _record_then_maybe_roll_back(enqueue_scenario.rep, enqueue_scenario.kpi, roll_back=False)
    # Each on its own queue: a slow SMTP server never delays the figures.
    assert sorted(redis_queue()) == [
        ("notifications", "notifications.tasks.send_notification_emails"),
        ("recompute", "goals.tasks.recompute_stale"),
    ]


# --- timezones: each rep at their own 16:00 -----------------------------------------------------------------


@pytest.fixture
def two_timezones(team_a, team_b, eager_celery):
    """The job's fan-out chunks run in-process (eager_celery), as a worker would run them."""
    tokyo = make_rep(team_a, username="tokyo_rep", timezone="Asia/Tokyo")  # UTC+9
    los_angeles = make_rep(team_b, username="la_rep", timezone="America/Los_Angeles")  # UTC-8 in November
    for rep in (tokyo, los_angeles):
        make_micro_goal(assignee=rep, start=datetime.date(2026, 11, 1), due=datetime.date(2026, 11, 30))
    return SimpleNamespace(tokyo=tokyo, la=los_angeles, tokyo_team=team_a, la_team=team_b)


def _run_checkins_every_15_minutes(start, end):
    """What beat does: send_checkin_reminders on every quarter hour from start to end (UTC)."""
    sent = []
    moment = start
    while moment <= end:
        with time_machine.travel(moment, tick=False):
            before = set(Notification.objects.values_list("key", flat=True))
            tasks.send_checkin_reminders.apply().get()
            new = set(Notification.objects.values_list("user__username", "key", "created_at"))
            sent += sorted((u, k, c) for u, k, c in new if k not in before)
        moment += datetime.timedelta(minutes=15)
    return sent


def _local(rep, when):
    return when.astimezone(rep.zone)


@pytest.mark.django_db
def test_reps_in_tokyo_and_los_angeles_are_reminded_at_their_own_1600_once_on_working_days(two_timezones):
    # A whole week, Monday 00:00 in Tokyo to Sunday 22:45 in Los Angeles (Monday 15:45 in Tokyo), every
    # quarter hour.
    start = datetime.datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
    end = datetime.datetime(2026, 11, 30, 6, 45, tzinfo=UTC)
    sent = _run_checkins_every_15_minutes(start, end)
    by_rep = {"tokyo_rep": [], "la_rep": []}
    for username, key, created_at in sent:
        rep = two_timezones.tokyo if username == "tokyo_rep" else two_timezones.la
        local = _local(rep, created_at)
        assert (local.hour, local.minute) == (16, 0), f"{username} reminded at {local}"
        assert key == f"checkin:{rep.id}:{local.date().isoformat()}"
        by_rep[username].append(local.date())
    week = [datetime.date(2026, 11, 23) + datetime.timedelta(days=d) for d in range(5)]  # Mon–Fri
    assert by_rep == {"tokyo_rep": week, "la_rep": week}  # once a day, never on the weekend


@pytest.mark.django_db
def test_no_reminder_on_a_holiday_or_after_logging_in_either_timezone(two_timezones):
    tuesday, wednesday = datetime.date(2026, 11, 24), datetime.date(2026, 11, 25)
    Holiday.objects.create(team=two_timezones.tokyo_team, date=tuesday, name="Labour Thanksgiving (observed)")
    Holiday.objects.create(team=two_timezones.la_team, date=wednesday, name="Day before Thanksgiving")
    make_entry(user=two_timezones.tokyo, date=wednesday)  # logged Wednesday morning, Tokyo time
    make_entry(user=two_timezones.la, date=tuesday)
    start = datetime.datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Tuesday 00:00 in Tokyo, Monday 07:00 in LA
    end = datetime.datetime(2026, 11, 26, 8, 0, tzinfo=UTC)  # Thursday 17:00 in Tokyo, Thursday 00:00 in LA
    sent = _run_checkins_every_15_minutes(start, end)
    # Tuesday and Wednesday: a holiday or already logged, in each one's own timezone. The days around
    # them show the job was running: Los Angeles' Monday and Tokyo's Thursday.
    assert sorted((u, k.rsplit(":", 1)[1]) for u, k, _ in sent) == [
        ("la_rep", "2026-11-23"),
        ("tokyo_rep", "2026-11-26"),
    ]


@pytest.mark.django_db
def test_tokyo_rep_is_reminded_while_it_is_still_the_day_before_in_utc(two_timezones):
    # Monday 16:00 in Tokyo is Monday 07:00 UTC; in Los Angeles it is still Sunday 23:00.
    with time_machine.travel(datetime.datetime(2026, 11, 23, 7, 0, tzinfo=UTC), tick=False):
        tasks.send_checkin_reminders.apply().get()
    assert list(Notification.objects.values_list("user__username", "key")) == [
        ("tokyo_rep", f"checkin:{two_timezones.tokyo.id}:2026-11-23")
    ]


# --- no countdown or ETA outlives the Redis visibility timeout ---------------------------------------------


def _redis_visibility_timeout() -> int:
    """The visibility timeout the production settings give a Redis broker (whatever this run uses)."""
    if settings.CELERY_BROKER_URL.startswith("redis://"):
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    else:
        code = (
            "import json, django; django.setup(); from django.conf import settings; "
            "print(json.dumps(settings.CELERY_BROKER_TRANSPORT_OPTIONS))"
        )
        result = subprocess.run(
            [sys.executable, "-c", code],
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "tests.settings",
                "CELERY_BROKER_URL": "redis://127.0.0.1:6379/7",
            },
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        options = json.loads(result.stdout.strip().splitlines()[-1])
    return int(options["visibility_timeout"])


def _delay_keywords_in_project():
    """Every `countdown=` / `eta=` keyword and every `.retry(...)` call in the project's own code."""
    found = []
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if parts[0] in {".venv", "tests", "bench", "node_modules", "staticfiles"} or "migrations" in parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Call):
                for keyword in node.keywords:
                    if keyword.arg in {"countdown", "eta", "default_retry_delay", "retry_backoff_max"}:
                        found.append((str(path.relative_to(ROOT)), keyword.arg, ast.unparse(keyword.value)))
    return found


# Non-literal delays, each bounded by a check in the test below.
CHECKED_DELAYS = {
    ("notifications/tasks.py", "countdown", "email_retry_countdown(self.request.retries)"),
    ("notifications/tasks.py", "countdown", "email_retry_countdown(0)"),
    ("webhooks/tasks.py", "countdown", "retry_countdown(self.request.retries)"),
}


def test_no_countdown_or_eta_outlives_the_redis_visibility_timeout():
    visibility_timeout = _redis_visibility_timeout()
    assert visibility_timeout >= 3600

    # 1. Every literal countdown/ETA in the code; anything computed must be listed and bounded below.
    for where, keyword, value in _delay_keywords_in_project():
        try:
            seconds = ast.literal_eval(value)
        except ValueError:
            assert (where, keyword, value) in CHECKED_DELAYS, (
                f"{where}: {keyword}={value} is computed; bound it by the visibility timeout and list it here"
            )
        else:
            assert seconds <= visibility_timeout, f"{where}: {keyword}={value}"

    # 2. The email retries: the largest backoff, with the most jitter, stays under it.
    with mock.patch("random.uniform", lambda low, high: high):
        delays = [notification_tasks.email_retry_countdown(n) for n in range(notification_tasks.MAX_EMAIL_RETRIES + 1)]
    assert max(delays) <= visibility_timeout
    with mock.patch("random.uniform", lambda low, high: high):
        webhook_delays = [
            webhook_tasks.retry_countdown(n) for n in range(webhook_tasks.deliver_webhook.max_retries + 1)
        ]
    assert max(webhook_delays) <= visibility_timeout

    # 3. Every registered task's own retry settings.
    app.loader.import_default_modules()
    for name, task in app.tasks.items():
        if name.startswith("celery."):
            continue
        assert (task.default_retry_delay or 0) <= visibility_timeout, name
        if getattr(task, "retry_backoff", False):
            assert (task.retry_backoff_max or 0) <= visibility_timeout, name

    # 4. The schedule publishes without countdown or ETA, and no entry outlives a run of itself by more.
    for entry in DEFAULT_SCHEDULE:
        options = entry.get("options", {})
        assert options.get("countdown", 0) <= visibility_timeout and "eta" not in options, entry["name"]
        assert entry.get("expire_seconds", 0) <= 24 * 3600, entry["name"]
