"""Benchmark: the cost of one progress_record (queries and time) at 10 k entries and at the large scale,
in the same run (target: flat, large ÷ 10 k ≤ 1.2× in time, the same queries).

Each call records one entry for a different rep of the synthetic organisation (today, the web source),
commits, and asks for the coalesced recompute (one Redis publish at most: no worker runs here, so the
request stays pending and the rest only find it queued). Nothing else is waited for.

    .venv/bin/python bench/write_path.py --entries 1000000 --reps-per-team 40
"""

import argparse
import time
import uuid

from common import (
    ensure_database,
    forget_recompute_requests,
    median,
    percentile,
    report,
    require_bench_database,
    small_database_name,
    use_database,
    verdict,
)
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from synth import build

from goals import services
from goals.models import Goal, Kpi, MicroGoal, RecomputeFlight, StaleTarget
from teams.models import User


def record_calls(calls: int, offset: int) -> tuple[list[float], list[int]]:
    forget_recompute_requests()
    reps = list(User.objects.filter(username__startswith="bench-rep-").order_by("id")[offset : offset + calls])
    kpi = Kpi.objects.get(name="Bench revenue")
    today = timezone.localdate()
    times, queries = [], []
    for rep in reps:
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            services.progress_record(
                user=rep, kpi=kpi, date=today, value="125.50", external_id=str(uuid.uuid4()), created_by=rep
            )
            times.append(time.perf_counter() - started)
        queries.append(len(captured))
    forget_recompute_requests()
    return times, queries


UPDATED_TABLES = (Goal, MicroGoal, StaleTarget, RecomputeFlight)


def vacuum(models) -> None:
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def summary(times: list[float], queries: list[int]) -> dict:
    return {"p50": median(times), "p99": percentile(times, 99), "queries": max(queries), "min_queries": min(queries)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps-per-team", type=int, default=10)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    require_bench_database()
    large = build(reps_per_team=args.reps_per_team, entries=args.entries)
    ensure_database(small_database_name())
    with use_database(small_database_name()):
        small_set = build(reps_per_team=args.reps_per_team, entries=10_000)
    # Both scales in the same state: the large database has just been through the other benches' updates (every
    # full recompute rewrites 11,000 goal rows), which the small one has not, and autovacuum may not have caught up:
    # the stale marks' INSERT … SELECT scans the goal tables, so their dead rows alone made it ~1.3× slower.
    for database in (connection.settings_dict["NAME"], small_database_name()):
        with use_database(database):
            vacuum(UPDATED_TABLES)
    # Alternating rounds, so a busy moment of a shared machine weighs on both scales alike.
    rounds, measured = 4, {"small": ([], []), "large": ([], [])}
    for n in range(rounds + 1):
        for scale in ("large", "small"):
            database = small_database_name() if scale == "small" else connection.settings_dict["NAME"]
            with use_database(database):
                times, queries = record_calls(args.calls // rounds, offset=n * args.calls // rounds)
            if n:  # round 0 warms up connections and caches
                measured[scale][0].extend(times)
                measured[scale][1].extend(queries)
    big, small = summary(*measured["large"]), summary(*measured["small"])
    ratio = big["p50"] / small["p50"]
    rows = [
        ("calls per scale", args.calls),
        (f"10 k entries ({small_set['entries']:,})", f"p50 {small['p50'] * 1000:.1f} ms, p99 {small['p99'] * 1000:.1f} ms, "
                                                     f"{small['min_queries']}–{small['queries']} queries"),
        (f"large ({large['entries']:,} entries)", f"p50 {big['p50'] * 1000:.1f} ms, p99 {big['p99'] * 1000:.1f} ms, "
                                                  f"{big['min_queries']}–{big['queries']} queries"),
        ("large / 10 k (p50)", f"{ratio:.2f}x"),
    ]  # fmt: skip
    report(
        "write_path",
        rows,
        verdicts=[
            verdict("progress_record p50, large ÷ 10 k", ratio, at_most=1.2, unit="x"),
            verdict("queries, large − 10 k", big["queries"] - small["queries"], at_most=0),
        ],
        extra={"small": small, "large": big, "entries": {"small": small_set["entries"], "large": large["entries"]}},
    )


if __name__ == "__main__":
    main()
