"""The default beat schedule: installed by `setup_schedule` and the data migration, idempotently, never
overwriting what an admin changed."""

import datetime
import importlib
import io
import zoneinfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask, PeriodicTasks
from django_celery_beat.schedulers import DatabaseScheduler

from config.celery import app
from config.schedule import DEFAULT_SCHEDULE, install_default_schedule

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("goals.migrations.0002_default_schedule")


@pytest.fixture(autouse=True)
def empty_schedule():
    """Start from no periodic tasks (the migration already installed them in the test database)."""
    PeriodicTask.objects.all().delete()
    IntervalSchedule.objects.all().delete()
    CrontabSchedule.objects.all().delete()


def snapshot():
    return (
        sorted(
            PeriodicTask.objects.values_list("name", "task", "interval_id", "crontab_id", "enabled", "expire_seconds")
        ),
        sorted(IntervalSchedule.objects.values_list("id", "every", "period")),
        sorted((c.id, str(c)) for c in CrontabSchedule.objects.all()),
    )


def setup_schedule():
    out = io.StringIO()
    call_command("setup_schedule", stdout=out)
    return out.getvalue()


def test_setup_schedule_installs_every_default_task(settings):
    output = setup_schedule()
    tasks = {t.task: t for t in PeriodicTask.objects.select_related("interval", "crontab")}
    assert set(tasks) == {
        "goals.tasks.recompute_all",
        "notifications.tasks.send_deferred_emails",
        "goals.tasks.close_due_goals",
        "goals.tasks.send_deadline_reminders",
        "goals.tasks.send_checkin_reminders",
        "goals.tasks.send_manager_digest",
        "feedback.tasks.send_weekly_checkin_reminders",
        "feedback.tasks.send_feedback_digests",
        "rewards.tasks.grant_all_awards",  # issue 12: the rewards safety net
    }
    assert all(t.enabled for t in tasks.values())

    def interval(name):
        return (tasks[name].interval.every, tasks[name].interval.period)

    def cron(name):
        c = tasks[name].crontab
        return (c.minute, c.hour, c.day_of_week, c.day_of_month, c.month_of_year, str(c.timezone))

    assert interval("goals.tasks.recompute_all") == (15, "minutes")
    assert interval("notifications.tasks.send_deferred_emails") == (5, "minutes")
    tz = settings.TIME_ZONE
    assert cron("goals.tasks.close_due_goals") == ("30", "0", "*", "*", "*", tz)
    assert cron("goals.tasks.send_deadline_reminders") == ("5", "*", "*", "*", "*", tz)
    assert cron("goals.tasks.send_checkin_reminders") == ("*/15", "*", "*", "*", "*", tz)
    assert cron("goals.tasks.send_manager_digest") == ("0", "*", "*", "*", "*", tz)
    assert cron("feedback.tasks.send_weekly_checkin_reminders") == ("5", "*", "*", "*", "*", tz)
    assert cron("feedback.tasks.send_feedback_digests") == ("0", "*", "*", "*", "*", tz)
    assert output.count("installed") == len(DEFAULT_SCHEDULE) + 1  # one line each and the total
    assert f"{len(DEFAULT_SCHEDULE)} installed, 0 already present." in output


def test_setup_schedule_twice_leaves_the_same_rows():
    setup_schedule()
    first = snapshot()
    output = setup_schedule()
    assert snapshot() == first
    assert f"0 installed, {len(DEFAULT_SCHEDULE)} already present." in output


def test_setup_schedule_keeps_an_admins_changes():
    setup_schedule()
    recompute = PeriodicTask.objects.get(task="goals.tasks.recompute_all")
    recompute.interval = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.HOURS)
    recompute.save()
    digest = PeriodicTask.objects.get(task="goals.tasks.send_manager_digest")
    digest.enabled = False
    digest.save()
    close = PeriodicTask.objects.get(task="goals.tasks.close_due_goals")
    close.crontab = CrontabSchedule.objects.create(minute="0", hour="2", timezone="Europe/Paris")
    close.save()
    changed = snapshot()

    setup_schedule()
    install_default_schedule()
    assert snapshot() == changed
    assert PeriodicTask.objects.get(task="goals.tasks.recompute_all").interval.every == 1
    assert PeriodicTask.objects.get(task="goals.tasks.send_manager_digest").enabled is False
    assert str(PeriodicTask.objects.get(task="goals.tasks.close_due_goals").crontab.timezone) == "Europe/Paris"


def test_a_renamed_default_is_not_installed_a_second_time():
    setup_schedule()
    PeriodicTask.objects.filter(task="goals.tasks.recompute_all").update(name="Recompute (nightly ops)")
    setup_schedule()
    assert PeriodicTask.objects.filter(task="goals.tasks.recompute_all").count() == 1


def test_a_deleted_default_comes_back_so_admins_disable_rather_than_delete():
    setup_schedule()
    PeriodicTask.objects.filter(task="goals.tasks.send_deadline_reminders").delete()
    results = install_default_schedule()
    assert [name for name, created, _ in results if created] == ["Send deadline reminders"]
    assert PeriodicTask.objects.count() == len(DEFAULT_SCHEDULE)


def test_installing_reuses_existing_schedules():
    IntervalSchedule.objects.create(every=15, period=IntervalSchedule.MINUTES)
    IntervalSchedule.objects.create(every=15, period=IntervalSchedule.MINUTES)  # an admin's duplicate
    setup_schedule()
    assert IntervalSchedule.objects.count() == 3  # the two 15-minute rows and a 5-minute one
    assert CrontabSchedule.objects.count() == 4


def test_installing_tells_beat_to_reload():
    before = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": before})
    setup_schedule()
    assert PeriodicTasks.last_change() > before
    PeriodicTasks.objects.filter(ident=1).update(last_update=before)
    setup_schedule()  # nothing new: no reload needed
    assert PeriodicTasks.last_change() == before


def test_the_data_migration_installs_the_defaults_with_historical_models():
    executor = MigrationExecutor(connection)
    historical = executor.loader.project_state(("goals", "0002_default_schedule")).apps
    MIGRATION.install(historical, schema_editor=None)
    assert PeriodicTask.objects.count() == len(DEFAULT_SCHEDULE)
    first = snapshot()
    MIGRATION.install(historical, schema_editor=None)
    assert snapshot() == first
    assert PeriodicTasks.last_change() is not None


def test_the_data_migration_runs_after_django_celery_beats_latest_migration():
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    [beat_leaf] = loader.graph.leaf_nodes("django_celery_beat")
    assert beat_leaf in MIGRATION.Migration.dependencies
    assert ("goals", "0001_initial") in MIGRATION.Migration.dependencies


def test_every_scheduled_task_is_a_registered_celery_task():
    app.loader.import_default_modules()
    missing = [entry["task"] for entry in DEFAULT_SCHEDULE if entry["task"] not in app.tasks]
    assert missing == []


def test_beats_database_scheduler_loads_the_installed_schedule(settings):
    setup_schedule()
    # The scheduler only loads crontabs whose hour is near now: look at 00:10, before "Close due goals".
    midnight = datetime.datetime(2026, 11, 20, 0, 10, tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))
    with time_machine.travel(midnight, tick=False):
        entries = DatabaseScheduler(app=app, lazy=True).all_as_schedule()
    assert {entries[name].task for name in entries} >= {entry["task"] for entry in DEFAULT_SCHEDULE}
    checkin = entries["Send check-in reminders"].schedule
    assert checkin.minute == {0, 15, 30, 45}
