"""Benchmark: a full progress_recompute against the hand-written single join over the *entries*, on the
same rows, in the same run (target: full recompute ≤ 0.5× the join).

The join computes every goal's and micro goal's sum straight from progress entries (the team tree by a
recursive CTE, each rep membership clipped to the goal's window) — what the engine would cost if it read
the ledger in one pass. The engine reads the daily rollup instead and does strictly more (pace, "last"
KPIs, run-rate, forecast, health, the write-back). Also shown: a plain COUNT/SUM scan of the entries, one
org-wide team goal, and the coalesced recompute of every goal marked stale.

    make bench                                  # every bench
    .venv/bin/python bench/recompute.py --entries 1000000 --reps-per-team 40
"""

import argparse

from common import report, require_bench_database, timed, verdict
from django.db import connection
from django.test.utils import CaptureQueriesContext
from synth import build

from goals import services
from goals.models import Goal, MicroGoal, StaleTarget

# The query the issue measured: every goal's and micro goal's sum from the entries, one statement.
SINGLE_JOIN_SQL = """
WITH RECURSIVE tree (root, team_id) AS (
    SELECT id, id FROM teams_team
    UNION ALL
    SELECT tree.root, t.id FROM teams_team t JOIN tree ON t.parent_id = tree.team_id
),
owners AS (
    SELECT 'goal' AS kind, g.id, g.kpi_id, m.user_id,
           GREATEST(g.start_date, m.active_from) AS from_date,
           LEAST(g.due_date, COALESCE(m.active_to, g.due_date)) AS to_date
    FROM goals_goal g JOIN tree ON tree.root = g.owner_team_id
    JOIN teams_membership m ON m.team_id = tree.team_id AND m.role = 'rep'
    WHERE g.status = 'active'
    UNION ALL
    SELECT 'goal', g.id, g.kpi_id, g.owner_user_id, g.start_date, g.due_date
    FROM goals_goal g WHERE g.owner_user_id IS NOT NULL AND g.status = 'active'
    UNION ALL
    SELECT 'micro', mg.id, mg.kpi_id, mg.assignee_id, mg.start_date, mg.due_date
    FROM goals_microgoal mg WHERE mg.status = 'active'
)
SELECT o.kind, o.id, SUM(e.value)
FROM owners o JOIN goals_progressentry e
  ON e.kpi_id = o.kpi_id AND e.user_id = o.user_id AND e.date BETWEEN o.from_date AND o.to_date
WHERE e.voided_at IS NULL
GROUP BY o.kind, o.id
"""


def single_join():
    with connection.cursor() as cursor:
        cursor.execute(SINGLE_JOIN_SQL)
        return len(cursor.fetchall())


def scan():
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*), SUM(value) FROM goals_progressentry WHERE voided_at IS NULL")
        return cursor.fetchone()


def mark_everything_stale():
    goal_ids = list(Goal.objects.filter(status=Goal.Status.ACTIVE).values_list("id", flat=True))
    micro_ids = list(MicroGoal.objects.filter(status=MicroGoal.Status.ACTIVE).values_list("id", flat=True))
    services.recompute_queue.targets_mark_stale(goal_ids=goal_ids, micro_goal_ids=micro_ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps-per-team", type=int, default=10)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    require_bench_database()
    dataset = build(reps_per_team=args.reps_per_team, entries=args.entries, rebuild=args.rebuild)

    scan_s, _, _ = timed(scan, args.runs + 2)
    join_s, join_runs, join_rows = timed(single_join, args.runs)
    with CaptureQueriesContext(connection) as queries:
        full_s, full_runs, result = timed(services.progress_recompute, args.runs)
    per_run = len(queries) // args.runs
    org_goal = Goal.objects.filter(owner_team__slug="bench-org").values_list("id", flat=True).first()
    one_s, _, _ = timed(lambda: services.progress_recompute(goal_ids=[org_goal]), args.runs)
    StaleTarget.objects.all().delete()
    mark_everything_stale()
    stale_s, _, stale = timed(services.progress_recompute_stale, 1)
    ratio = full_s / join_s
    rows = [
        ("dataset", f"{dataset['reps']:,} reps, {dataset['goals']:,} goals, {dataset['micro_goals']:,} micro goals, "
                    f"{dataset['entries']:,} entries, {dataset['rollup_rows']:,} rollup rows"),
        ("plain COUNT/SUM over the entries", f"{scan_s * 1000:,.0f} ms"),
        (f"single join over the entries ({join_rows:,} sums)", f"{join_s * 1000:,.0f} ms (runs {', '.join(f'{t:.2f}' for t in join_runs)} s)"),
        (f"full progress_recompute ({result.goals:,} + {result.micro_goals:,})", f"{full_s * 1000:,.0f} ms in {per_run} queries (runs {', '.join(f'{t:.2f}' for t in full_runs)} s)"),
        ("one org-wide team goal", f"{one_s * 1000:,.0f} ms"),
        (f"coalesced recompute of every goal marked stale ({stale.goals + stale.micro_goals:,})", f"{stale_s * 1000:,.0f} ms"),
        ("full recompute / single join", f"{ratio:.2f}x"),
    ]  # fmt: skip
    report(
        "recompute",
        rows,
        verdicts=[verdict("full recompute ÷ single join over the entries", ratio, at_most=0.5, unit="x")],
        extra={"dataset": dataset, "seconds": {"scan": scan_s, "join": join_s, "full": full_s, "org_goal": one_s}},
    )


if __name__ == "__main__":
    main()
