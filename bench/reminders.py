"""Benchmark: check-in reminders for 10,000 reps through a real Celery worker ÷ the same number of no-op
tasks through the same worker, in the same run (target ≤ 3×).

10,000 reps (50 teams of 200) each with an active micro goal today, past their reminder hour, most with
nothing logged today. The reminder run is the periodic task (`send_checkin_reminders`): it finds who is due
(ids only) and fans them out to chunk tasks of 250 reps (notifications.fanout); each chunk re-checks its reps,
records their notifications in bulk and queues their emails in batches of 100 (the dummy email backend: the
work, not an SMTP server); the clock stops when every due rep's notification is emailed.
The baseline: 10,000 tasks that only count themselves (bench/tasks.py), from enqueue to the last one run.

    .venv/bin/python bench/reminders.py
"""

import argparse
import time

import redis
from common import ensure_database, forget_recompute_requests, report, require_bench_database, use_database, verdict
from django.conf import settings
from django.db import connection
from django.utils import timezone
from synth import build
from workers import celery_worker

from bench.tasks import COUNTER, noop
from goals import tasks
from goals.selectors import checkin_due_memberships
from notifications.models import Notification
from teams.models import User

QUEUES = "celery,recompute,notifications,webhooks"


def wait_until(predicate, *, timeout: float, what: str) -> float:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)
    return time.monotonic()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=10_000)
    args = parser.parse_args()
    require_bench_database()
    database = str(connection.settings_dict["NAME"])[: -len("bench")] + "reminders_bench"
    ensure_database(database)
    with use_database(database):
        build(reps_per_team=args.reps // 50, entries=args.reps, big_team=0)
        User.objects.filter(username__startswith="bench-rep-").update(reminder_hour=0)
        Notification.objects.all().delete()
        forget_recompute_requests()
        due = len({m.user_id for m, _ in checkin_due_memberships(now=timezone.now())})
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
        client.delete(COUNTER)
        connection.close()
        with celery_worker(database, queues=QUEUES):
            started = time.monotonic()
            for _ in range(args.reps):
                noop.delay()
            done = wait_until(lambda: int(client.get(COUNTER) or 0) >= args.reps, timeout=600, what="the no-ops")
            noop_s = done - started
            started = time.monotonic()
            tasks.send_checkin_reminders.delay()
            reminders = Notification.objects.filter(key__startswith="checkin:")
            seen = []

            def all_emailed() -> bool:
                """Every reminder the run created is emailed, and the run has stopped creating them."""
                total = reminders.count()
                seen.append(total)
                settled = len(seen) > 10 and seen[-10] == total  # unchanged for half a second
                return total > 0 and settled and not reminders.exclude(email_status="sent").exists()

            reminders_s = wait_until(all_emailed, timeout=900, what="the reminders") - started - 0.5
        reminded = Notification.objects.filter(key__startswith="checkin:").count()
    ratio = reminders_s / noop_s
    rows = [
        ("reps", f"{args.reps:,}, of whom {due:,} due a reminder (the rest logged today)"),
        (f"{args.reps:,} no-op tasks", f"{noop_s:.1f} s"),
        (f"check-in reminders ({reminded:,} notifications, each emailed)", f"{reminders_s:.1f} s"),
        ("reminders / no-ops", f"{ratio:.2f}x"),
    ]
    report(
        "reminders",
        rows,
        verdicts=[verdict("check-in reminders ÷ as many no-op tasks", ratio, at_most=3, unit="x")],
        extra={"due": due, "noop_seconds": noop_s, "reminders_seconds": reminders_s},
    )


if __name__ == "__main__":
    main()
