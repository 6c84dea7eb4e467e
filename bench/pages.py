"""Benchmark: Today, My goals, the manager dashboard and a team goal's page for a team of 5 reps and a
team of 500 reps: the same number of queries, and p50 time 500 ÷ 5 ≤ 2×.

Each organisation is one team (org → region → team) with 60 entries per rep over the quarter; pages are
rendered in-process by Django's test client (no network), each page `--runs` times after a warm-up.

    .venv/bin/python bench/pages.py
"""

import argparse
import time

from common import ensure_database, median, report, require_bench_database, use_database, verdict
from django.db import connection
from django.test import Client
from django.urls import reverse
from synth import build

from goals.models import Goal
from teams.models import User

PAGES = ("Today", "My goals", "dashboard", "goal page")


class QueryCounter:
    """A database execute wrapper that keeps the SQL of every query."""

    def __init__(self):
        self.sqls = []

    def __call__(self, execute, sql, params, many, context):
        self.sqls.append(sql)
        return execute(sql, params, many, context)


def measure(runs: int) -> dict:
    rep = User.objects.get(username="bench-rep-0")
    manager = User.objects.get(username="bench-manager-0")
    team_goal = Goal.objects.get(owner_team__slug="bench-team-0", kpi__name="Bench revenue")
    rep_client, manager_client = Client(), Client()
    rep_client.force_login(rep)
    manager_client.force_login(manager)
    urls = {
        "Today": (rep_client, reverse("today")),
        "My goals": (rep_client, reverse("my_goals")),
        "dashboard": (manager_client, reverse("dashboard")),
        "goal page": (manager_client, reverse("goal_detail", args=[team_goal.id])),
    }
    out = {}
    for page, (client, url) in urls.items():
        assert client.get(url).status_code == 200, f"{page} did not answer 200"
        counter = QueryCounter()
        with connection.execute_wrapper(counter):  # the test client resets Django's own query log per request
            client.get(url)
        captured = counter.sqls
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            client.get(url)
            times.append(time.perf_counter() - started)
        out[page] = {"queries": len(captured), "p50": median(times)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    require_bench_database()
    # A database of its own: the large dataset and the 10 k one stay as they are for the other benches.
    database = str(connection.settings_dict["NAME"])[: -len("bench")] + "pages_bench"
    ensure_database(database)
    results = {}
    with use_database(database):
        for reps in (5, 500):
            build(reps_per_team=reps, entries=reps * 60, teams=1, regions=1, big_team=0)
            results[reps] = measure(args.runs)
    rows, verdicts = [], []
    for page in PAGES:
        small, large = results[5][page], results[500][page]
        ratio = large["p50"] / small["p50"]
        rows.append(
            (page, f"5 reps: {small['queries']} queries, p50 {small['p50'] * 1000:.1f} ms · "
                   f"500 reps: {large['queries']} queries, p50 {large['p50'] * 1000:.1f} ms · {ratio:.2f}x")
        )  # fmt: skip
        verdicts.append(verdict(f"{page}: p50 500 ÷ 5 reps", ratio, at_most=2, unit="x"))
        verdicts.append(verdict(f"{page}: queries 500 − 5 reps", large["queries"] - small["queries"], at_most=0))
    report("pages", rows, verdicts=verdicts, extra={"results": results})


if __name__ == "__main__":
    main()
