"""Benchmark: 2,000 entries recorded concurrently (threads) with a real Celery worker running: seconds
from the last write until every goal's figures are right (target ≤ 5 s).

"Right": nothing is left stale and every active goal's and micro goal's stored figures equal what the
engine computes from the ledger at that moment (checked once the stale set is empty; the clock stops
when it emptied). The writes ask for the coalesced recompute, so the worker runs about one pass per
few hundred entries, however many reps log at once.

    .venv/bin/python bench/burst.py --entries 1000000 --reps-per-team 40
"""

import argparse
import random
import threading
import time
import uuid

from common import forget_recompute_requests, report, require_bench_database, verdict
from django.db import connection
from django.utils import timezone
from synth import build
from workers import celery_worker

from goals import services
from goals.models import Goal, Kpi, MicroGoal, StaleTarget
from goals.services.engine import FIGURE_FIELDS
from teams.models import User


def wrong_figures() -> int:
    """How many active goals and micro goals do not show what the engine computes now."""
    stored = {}
    for model in (Goal, MicroGoal):
        for row in model.objects.filter(status=model.Status.ACTIVE).values_list("id", *FIGURE_FIELDS):
            stored[model, row[0]] = tuple(row[1:])
    goal_ids = [i for m, i in stored if m is Goal]
    micro_ids = [i for m, i in stored if m is MicroGoal]
    preview = services.progress_preview(goal_ids=goal_ids, micro_goal_ids=micro_ids)
    return sum(1 for key, figures in preview.items() if stored[key] != figures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps-per-team", type=int, default=10)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--burst", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()
    require_bench_database()
    dataset = build(reps_per_team=args.reps_per_team, entries=args.entries)
    forget_recompute_requests()
    services.progress_recompute()  # everything right before the burst
    reps = list(User.objects.filter(username__startswith="bench-rep-").order_by("id"))
    kpis = [Kpi.objects.get(name="Bench revenue"), Kpi.objects.get(name="Bench win rate")]
    today = timezone.localdate()
    rng = random.Random(15)
    jobs = [(rng.choice(reps), rng.choice(kpis)) for _ in range(args.burst)]
    lock, last_write = threading.Lock(), [0.0]

    def writer(mine):
        for rep, kpi in mine:
            services.progress_record(
                user=rep, kpi=kpi, date=today, value="12.5", external_id=str(uuid.uuid4()), created_by=rep
            )
            with lock:
                last_write[0] = time.monotonic()
        connection.close()

    with celery_worker(connection.settings_dict["NAME"], queues="recompute"):
        threads = [threading.Thread(target=writer, args=(jobs[i :: args.threads],)) for i in range(args.threads)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        writes_s = last_write[0] - started
        while StaleTarget.objects.exists():
            time.sleep(0.05)
        fresh_after = time.monotonic() - last_write[0]
        wrong = wrong_figures()
    rows = [
        ("dataset", f"{dataset['entries']:,} entries, {dataset['goals']:,} goals, {dataset['micro_goals']:,} micro goals"),
        (f"{args.burst:,} entries from {args.threads} threads", f"{writes_s:.1f} s ({args.burst / writes_s:,.0f} entries/s)"),
        ("last write → every goal right", f"{fresh_after:.2f} s"),
        ("goals not right after that", wrong),
    ]  # fmt: skip
    report(
        "burst",
        rows,
        verdicts=[
            verdict("seconds from the last write until every goal is right", fresh_after, at_most=5, unit=" s"),
            verdict("goals left wrong", wrong, at_most=0),
        ],
        extra={"dataset": dataset, "writes_seconds": writes_s, "fresh_after_seconds": fresh_after},
    )


if __name__ == "__main__":
    main()
