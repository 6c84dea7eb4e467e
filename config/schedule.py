"""The default beat schedule, as data, and the idempotent function that installs it.

The schedule lives in django-celery-beat's DatabaseScheduler so admins change it in the Django admin
(Periodic tasks). `install_default_schedule()` only *adds* what is missing: a periodic task that already
exists — found by name, or by task path if an admin renamed it — is left exactly as the admin set it
(schedule, enabled flag, arguments). To switch a default off, disable it; a deleted default is installed
again by the next `manage.py setup_schedule` / `make run`.

Called by `manage.py setup_schedule` and by the data migrations goals/0002_default_schedule and
rewards/0002_grant_schedule (with the
migration's historical models, hence the `apps` argument).
"""

from django.conf import settings
from django.utils import timezone

# Interval tasks expire after one interval: if workers were down, the backlog of a job that runs again
# soon anyway is dropped rather than run N times. Crontab tasks expire before their next run.
# No entry may carry a countdown/ETA (options) longer than the Redis visibility timeout (tests pin it).
DEFAULT_SCHEDULE = [
    {
        "name": "Recompute all goals",
        "task": "goals.tasks.recompute_all",
        "interval": {"every": 15, "period": "minutes"},
        "expire_seconds": 15 * 60,
        "description": "Safety net: recompute progress, pace and forecast of every goal and micro goal.",
    },
    {
        "name": "Send deferred emails",
        "task": "notifications.tasks.send_deferred_emails",
        "interval": {"every": 5, "period": "minutes"},
        "expire_seconds": 5 * 60,
        "description": "Emails whose quiet hours ended, and emails whose enqueue was lost.",
    },
    {
        "name": "Close due goals",
        "task": "goals.tasks.close_due_goals",
        "crontab": {"minute": "30", "hour": "0"},  # 00:30 in the organisation's timezone
        "expire_seconds": 23 * 3600,
        "description": "Mark goals past their due date achieved or missed (daily, after midnight).",
    },
    {
        "name": "Send deadline reminders",
        "task": "goals.tasks.send_deadline_reminders",
        "crontab": {"minute": "5", "hour": "*"},
        "expire_seconds": 3600,
        "description": "Goals due in N days (settings PACER DEADLINE_REMINDER_DAYS) and not achieved.",
    },
    {
        "name": "Send check-in reminders",
        "task": "goals.tasks.send_checkin_reminders",
        "crontab": {"minute": "*/15", "hour": "*"},  # on the quarter hour, so a 16:00 reminder goes at 16:00
        "expire_seconds": 15 * 60,
        "description": "Reps past their local reminder hour on a working day, with a micro goal and no entry today.",
    },
    {
        "name": "Send manager digest",
        "task": "goals.tasks.send_manager_digest",
        "crontab": {"minute": "0", "hour": "*"},  # hourly: each manager's digest goes at Monday 08:00 local
        "expire_seconds": 3600,
        "description": "Weekly digest to each manager on Monday at 08:00 in their own timezone.",
    },
    {
        "name": "Send weekly check-in reminders",
        "task": "feedback.tasks.send_weekly_checkin_reminders",
        "crontab": {"minute": "5", "hour": "*"},  # hourly: Thursday from each rep's local reminder hour
        "expire_seconds": 3600,
        "description": "Reps with an active goal not checked in this ISO week (Thursday, their reminder hour).",
    },
    {
        "name": "Send feedback digests",
        "task": "feedback.tasks.send_feedback_digests",
        "crontab": {"minute": "0", "hour": "*"},  # hourly: Friday from 15:00 in each manager's timezone
        "expire_seconds": 3600,
        "description": "One email per manager with the week's unread requests and replies (instead of one each).",
    },
    {
        "name": "Grant rewards",
        "task": "rewards.tasks.grant_all_awards",
        "interval": {"every": 15, "period": "minutes"},  # like the recompute it follows
        "expire_seconds": 15 * 60,
        "description": "Safety net: grant and flag reward tiers for every active or recently closed goal and streak.",
    },
]


def _describe(entry) -> str:
    if "interval" in entry:
        return f"every {entry['interval']['every']} {entry['interval']['period']}"
    cron = {"minute": "*", "hour": "*", **entry["crontab"]}
    return f"cron {cron['minute']} {cron['hour']} * * * ({settings.TIME_ZONE})"


def install_default_schedule(apps=None) -> list[tuple[str, bool, str]]:
    """Create the default periodic tasks that do not exist yet; never touch an existing one.

    `apps` is a migration's app registry (historical models); None means the real models. Returns
    (name, created, schedule description) for every default. Safe to run any number of times.
    """
    if apps is None:
        from django.apps import apps
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")

    results, changed = [], False
    for entry in DEFAULT_SCHEDULE:
        if PeriodicTask.objects.filter(name=entry["name"]).exists() or (
            PeriodicTask.objects.filter(task=entry["task"]).exists()
        ):
            results.append((entry["name"], False, _describe(entry)))
            continue
        schedule = {}
        if "interval" in entry:
            # filter().first(): an admin may have made a duplicate interval row; any of them will do.
            interval = IntervalSchedule.objects.filter(**entry["interval"]).order_by("id").first()
            schedule["interval"] = interval or IntervalSchedule.objects.create(**entry["interval"])
        else:
            fields = {
                "minute": "*",
                "hour": "*",
                "day_of_week": "*",
                "day_of_month": "*",
                "month_of_year": "*",
                **entry["crontab"],
                "timezone": settings.TIME_ZONE,
            }
            crontab = CrontabSchedule.objects.filter(**fields).order_by("id").first()
            schedule["crontab"] = crontab or CrontabSchedule.objects.create(**fields)
        _task, created = PeriodicTask.objects.get_or_create(
            name=entry["name"],
            defaults={
                "task": entry["task"],
                "expire_seconds": entry.get("expire_seconds"),
                "description": entry.get("description", ""),
                "enabled": True,
                **schedule,
            },
        )
        changed |= created
        results.append((entry["name"], created, _describe(entry)))
    if changed:
        # Beat reloads its schedule when this timestamp moves. PeriodicTask.save() bumps it, but a
        # migration's historical models have no custom save(), so bump it here for both.
        PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})
    return results
