"""A real Celery worker on the Redis broker runs the jobs end to end; the outcome is read from the database."""

import datetime
import threading
import time

import pytest
from celery import signals
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.core import mail

from config.celery import app
from config.schedule import DEFAULT_SCHEDULE
from goals import services, tasks
from goals.models import Goal, MicroGoal
from notifications import fanout
from notifications.models import Notification
from tests.factories import make_goal, make_kpi, make_micro_goal, make_rep

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def wait_for(predicate, *, timeout=20, what="the worker"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def worker():
    """An in-process worker (solo pool, its own thread) consuming every queue, like the Procfile's worker."""
    assert not app.conf.task_always_eager
    app.control.purge()  # nothing left over from an earlier run
    queues = settings.PACER_CELERY_QUEUES
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30, queues=queues) as running:
        yield running
    app.control.purge()


@pytest.fixture
def finished_tasks():
    """Names and states of the tasks the worker finishes, as it finishes them."""
    finished, lock = [], threading.Lock()

    def record(sender=None, state=None, **kwargs):
        with lock:
            finished.append((sender.name, state))

    signals.task_postrun.connect(record, weak=False)
    yield finished
    signals.task_postrun.disconnect(record)


def test_a_real_worker_recomputes_the_goals_an_entry_touches_after_it_commits(rep_a, worker):
    kpi = make_kpi()
    goal = make_goal(
        owner_user=rep_a, kpi=kpi, start_date=datetime.date(2000, 1, 1), due_date=datetime.date(2099, 1, 1)
    )
    today = rep_a.local_today()
    micro = make_micro_goal(assignee=rep_a, goal=goal, start=today, due=today)

    services.progress_record(user=rep_a, kpi=kpi, date=today, value=5, created_by=rep_a)

    wait_for(lambda: Goal.objects.get(id=goal.id).current_value == 5, what="the goal's recompute")
    wait_for(lambda: MicroGoal.objects.get(id=micro.id).current_value == 5, what="the micro goal's recompute")
    assert Goal.objects.get(id=goal.id).computed_at is not None


def test_a_real_worker_sends_a_checkin_reminder_and_its_email(rep_a, team_a, worker):
    team_a.working_weekdays = "1234567"  # whatever day the test runs on
    team_a.save()
    rep_a.reminder_hour = 0  # whatever the time of day
    rep_a.save()
    today = rep_a.local_today()
    make_micro_goal(assignee=rep_a, start=today - datetime.timedelta(days=1), due=today + datetime.timedelta(days=1))

    tasks.send_checkin_reminders.delay()

    wait_for(lambda: Notification.objects.filter(user=rep_a).exists(), what="the check-in reminder")
    wait_for(lambda: Notification.objects.get(user=rep_a).email_status == "sent", what="the reminder's email")
    notification = Notification.objects.get(user=rep_a)
    # The reminder's local date is the rep's today, unless midnight passed while the test ran.
    assert notification.key in {f"checkin:{rep_a.id}:{day}" for day in (today, rep_a.local_today())}
    assert [m.to for m in mail.outbox] == [[rep_a.email]]


def test_a_real_worker_fans_the_checkin_run_out_in_chunks_and_emails_each_reminder_once(
    team_a, worker, finished_tasks, monkeypatch
):
    monkeypatch.setattr(fanout, "FAN_OUT_CHUNK", 3)  # the in-process worker reads the same module
    team_a.working_weekdays = "1234567"  # whatever day the test runs on
    team_a.save()
    reps = [make_rep(team_a, reminder_hour=0) for _ in range(7)]
    for rep in reps:
        today = rep.local_today()
        make_micro_goal(assignee=rep, start=today - datetime.timedelta(days=1), due=today + datetime.timedelta(days=1))

    tasks.send_checkin_reminders.delay()

    sent = Notification.objects.filter(email_status="sent")
    wait_for(lambda: sent.count() == 7, what="the seven reminders' emails")
    wait_for(
        lambda: [n for n, _ in finished_tasks].count("goals.tasks.send_checkin_reminder_chunk") == 3,
        what="the three chunks (3 + 3 + 1 reps)",
    )
    assert sorted(sent.values_list("user_id", "email_attempts")) == sorted((r.id, 1) for r in reps)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(r.email for r in reps)


def test_every_scheduled_task_runs_on_a_real_worker(personas, worker, finished_tasks):
    for entry in DEFAULT_SCHEDULE:
        app.send_task(entry["task"])
    names = {entry["task"] for entry in DEFAULT_SCHEDULE}
    wait_for(lambda: {name for name, _ in finished_tasks} >= names, what="every scheduled task")
    assert sorted(state for name, state in finished_tasks if name in names) == ["SUCCESS"] * len(names)


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("goals.tasks.recompute_stale", "recompute"),
        ("goals.tasks.recompute_goals", "recompute"),
        ("goals.tasks.recompute_all", "recompute"),
        ("goals.tasks.close_due_goals", "recompute"),
        ("goals.tasks.send_checkin_reminders", "notifications"),
        ("goals.tasks.send_checkin_reminder_chunk", "notifications"),
        ("notifications.tasks.send_notification_email", "notifications"),
        ("notifications.tasks.send_notification_emails", "notifications"),
        ("webhooks.tasks.deliver_webhook", "webhooks"),
    ],
)
def test_each_kind_of_task_has_its_own_queue(task, queue):
    assert app.amqp.router.route({}, task)["queue"].name == queue
    assert queue in settings.PACER_CELERY_QUEUES  # and the Procfile's worker listens on it


def test_a_burst_of_entries_is_recomputed_by_a_real_worker_with_nothing_left_stale(rep_a, team_a, worker):
    from goals.models import StaleTarget

    kpi = make_kpi()
    window = {"start_date": datetime.date(2000, 1, 1), "due_date": datetime.date(2099, 1, 1)}
    own = make_goal(owner_user=rep_a, kpi=kpi, **window)
    team = make_goal(owner_team=team_a, kpi=kpi, **window)
    for _ in range(20):
        services.progress_record(user=rep_a, kpi=kpi, date=rep_a.local_today(), value=1, created_by=rep_a)
    wait_for(
        lambda: (
            [Goal.objects.get(id=g.id).current_value for g in (own, team)] == [20, 20]
            and not StaleTarget.objects.exists()
        ),
        what="the coalesced recompute",
    )
