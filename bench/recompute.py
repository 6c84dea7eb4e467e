"""Benchmark: a full progress_recompute against a plain scan of the entries table, in the same run.

Builds a synthetic organisation in the configured database (org → 5 regions → 50 teams, 500 reps of
whom 100 moved teams mid-quarter, 1,000 goals, 2,000 micro goals, 100,000 entries via bulk_create),
times the baseline (SELECT COUNT/SUM over the entries) and the full recompute, prints both and their
ratio, then deletes everything it created (--keep to leave it). Not part of the test suite.

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/pacer_engine .venv/bin/python bench/recompute.py

The database must be migrated (`manage.py migrate`). Everything created is named "bench-…".
"""

import argparse
import datetime
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from goals import services  # noqa: E402
from goals.models import Goal, Kpi, MicroGoal, ProgressEntry  # noqa: E402
from teams.models import Holiday, Membership, Team, User  # noqa: E402

PREFIX = "bench-"
QUARTER = (datetime.date(2026, 1, 1), datetime.date(2026, 3, 31))
TODAY = datetime.date(2026, 3, 13)
TODAY_DT = datetime.datetime(2026, 3, 13, 12, tzinfo=datetime.UTC)
MOVE_DAY = datetime.date(2026, 2, 16)


def build(*, reps_per_team: int, entries: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    org = Team.objects.create(name="Bench org", slug=f"{PREFIX}org")
    regions = Team.objects.bulk_create(
        Team(name=f"Bench region {r}", slug=f"{PREFIX}region-{r}", parent=org) for r in range(5)
    )
    teams = Team.objects.bulk_create(
        Team(name=f"Bench team {t}", slug=f"{PREFIX}team-{t}", parent=regions[t % 5]) for t in range(50)
    )
    Holiday.objects.create(team=org, date=datetime.date(2026, 1, 1), name="New Year")
    Holiday.objects.create(team=regions[0], date=datetime.date(2026, 3, 2), name="Regional day")
    reps = User.objects.bulk_create(
        # "!" is Django's unusable password: these users cannot log in.
        User(username=f"{PREFIX}rep-{i}", password="!", timezone="UTC")  # noqa: S106
        for i in range(reps_per_team * 50)
    )
    memberships = []
    for i, rep in enumerate(reps):
        team = teams[i % 50]
        if i % 5 == 0:  # every fifth rep moved to the next team mid-quarter
            memberships.append(
                Membership(user=rep, team=team, active_from=datetime.date(2025, 1, 1), active_to=MOVE_DAY)
            )
            team = teams[(i + 1) % 50]
            memberships.append(Membership(user=rep, team=team, active_from=MOVE_DAY + datetime.timedelta(days=1)))
        else:
            memberships.append(Membership(user=rep, team=team, active_from=datetime.date(2025, 1, 1)))
    Membership.objects.bulk_create(memberships)
    revenue = Kpi.objects.create(name=f"{PREFIX}revenue", decimal_places=2)
    win_rate = Kpi.objects.create(name=f"{PREFIX}win rate", aggregation=Kpi.Aggregation.LAST, decimal_places=1)
    start, due = QUARTER
    common = {"start_date": start, "due_date": due, "created_by": reps[0]}
    goals = [Goal(title="rep revenue", kpi=revenue, target_value=Decimal(60000), owner_user=r, **common) for r in reps]
    owners = [org, *regions, *teams]
    goals += [
        Goal(title="team revenue", kpi=revenue, target_value=Decimal(600000), owner_team=t, **common) for t in owners
    ]
    goals += [
        Goal(title="team win rate", kpi=win_rate, target_value=Decimal(500), owner_team=t, **common) for t in teams
    ]
    goals += [
        Goal(
            title="rep win rate",
            kpi=win_rate,
            baseline_value=Decimal(20),
            target_value=Decimal(35),
            owner_user=r,
            **common,
        )
        for r in reps[: 1000 - len(goals)]
    ]
    goals = Goal.objects.bulk_create(goals)
    micro = []
    for g in goals[: len(reps)]:
        for week in range(4):
            monday = datetime.date(2026, 3, 2) + datetime.timedelta(weeks=week)
            micro.append(
                MicroGoal(
                    goal=g,
                    assignee=g.owner_user,
                    kpi=revenue,
                    target_value=Decimal(5000),
                    start_date=monday,
                    due_date=monday + datetime.timedelta(days=4),
                )
            )
    MicroGoal.objects.bulk_create(micro)
    days = (due - start).days + 1
    batch = []
    for n in range(entries):
        rep = reps[n % len(reps)]
        kpi = win_rate if rng.random() < 0.1 else revenue
        value = Decimal(rng.randint(0, 1000)) if kpi is win_rate else Decimal(rng.randint(0, 500000)) / 100
        voided = rng.random() < 0.02
        batch.append(
            ProgressEntry(
                user=rep,
                kpi=kpi,
                date=start + datetime.timedelta(days=rng.randrange(days)),
                value=value,
                created_by=rep,
                voided_at=TODAY_DT if voided else None,
                voided_by=rep if voided else None,
                void_reason="bench" if voided else "",
            )
        )
        if len(batch) == 5000:
            ProgressEntry.objects.bulk_create(batch)
            batch = []
    ProgressEntry.objects.bulk_create(batch)


def cleanup() -> None:
    kpis = Kpi.objects.filter(name__startswith=PREFIX)
    ProgressEntry.objects.filter(kpi__in=kpis).delete()
    MicroGoal.objects.filter(kpi__in=kpis).delete()
    Goal.objects.filter(kpi__in=kpis).delete()
    Membership.objects.filter(user__username__startswith=PREFIX).delete()
    User.objects.filter(username__startswith=PREFIX).delete()
    teams = Team.objects.filter(slug__startswith=PREFIX)
    Holiday.objects.filter(team__in=teams).delete()
    for level in ("team", "region", "org"):  # children first: parent is PROTECT
        Team.objects.filter(slug__startswith=f"{PREFIX}{level}").delete()
    kpis.delete()


def best_of(runs: int, fn) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def baseline() -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*), SUM(value) FROM {ProgressEntry._meta.db_table} WHERE voided_at IS NULL"  # noqa: S608
        )
        return cursor.fetchone()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps-per-team", type=int, default=10)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="Leave the synthetic data in the database.")
    args = parser.parse_args()
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    cleanup()
    started = time.perf_counter()
    with transaction.atomic():
        build(reps_per_team=args.reps_per_team, entries=args.entries)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(
        f"built {Goal.objects.count()} goals, {MicroGoal.objects.count()} micro goals, "
        f"{ProgressEntry.objects.count()} entries in {time.perf_counter() - started:.1f} s"
    )
    try:
        scan, _ = best_of(args.runs + 2, baseline)
        with CaptureQueriesContext(connection) as queries:
            full, result = best_of(args.runs, lambda: services.progress_recompute(today=TODAY))
        per_run = len(queries) // args.runs
        one_goal = Goal.objects.filter(owner_team__slug=f"{PREFIX}org").values_list("id", flat=True).first()
        single, _ = best_of(args.runs, lambda: services.progress_recompute(goal_ids=[one_goal], today=TODAY))
        print(f"baseline  SELECT COUNT/SUM over entries      {scan * 1000:9.1f} ms")
        print(
            f"full recompute ({result.goals} goals, {result.micro_goals} micro goals) "
            f"{full * 1000:9.1f} ms  in {per_run} queries"
        )
        print(f"one org-wide team goal (the enqueue path)  {single * 1000:9.1f} ms")
        print(f"ratio full / baseline                      {full / scan:9.1f} x")
    finally:
        if not args.keep:
            cleanup()


if __name__ == "__main__":
    main()
