"""Benchmark: the rewards job and the leaderboards on a 200-rep team, in the configured database.

Builds one team of 200 reps, each with 13 weekly micro goals on one KPI (a quarter), a personal goal and 60
working days of entries; three hard-goal tiers, a micro-goal points tier and a 5-day streak tier. Times the
first grant run (everything is new), a second one (nothing new: the steady state after each recompute), and
both leaderboards, with their query counts. Everything runs in one transaction that is rolled back at the end,
so the database is left as it was. Not part of the test suite.

    DEBUG=1 DATABASE_URL=postgres://... .venv/bin/python bench/rewards.py
"""

import datetime
import os
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

from goals import services as goal_services  # noqa: E402
from goals.models import Goal, Kpi, MicroGoal, ProgressEntry  # noqa: E402
from rewards import selectors, services  # noqa: E402
from teams.models import Membership, Team, User  # noqa: E402

REPS = 200
START, TODAY = datetime.date(2026, 1, 5), datetime.date(2026, 3, 27)


class Rollback(Exception):
    pass


def timed(label, call):
    connection.queries_log.clear()  # a full log would make the count read 0
    with CaptureQueriesContext(connection) as queries:
        began = time.perf_counter()
        result = call()
        elapsed = time.perf_counter() - began
    print(f"{label:<34} {elapsed * 1000:8.1f} ms {len(queries):5d} queries  {result}")
    return result


def build():
    admin = User.objects.create(username="bench-admin", is_staff=True)
    team = Team.objects.create(name="bench-team", slug="bench-team")
    kpi = Kpi.objects.create(name="bench-deals")
    reps = User.objects.bulk_create(User(username=f"bench-rep-{n}") for n in range(REPS))
    Membership.objects.bulk_create(Membership(user=u, team=team, active_from=START) for u in reps)
    goals = Goal.objects.bulk_create(
        Goal(title=f"bench-{u.username}", kpi=kpi, target_value=Decimal(60), start_date=START,
             due_date=datetime.date(2026, 3, 31), owner_user=u, created_by=admin) for u in reps
    )  # fmt: skip
    weeks = [START + datetime.timedelta(weeks=w) for w in range(13)]
    MicroGoal.objects.bulk_create(
        MicroGoal(goal=g, assignee=g.owner_user, kpi=kpi, target_value=Decimal(5), start_date=w,
                  due_date=w + datetime.timedelta(days=4)) for g in goals for w in weeks
    )  # fmt: skip
    days = [
        START + datetime.timedelta(days=d) for d in range(84) if (START + datetime.timedelta(days=d)).isoweekday() < 6
    ]
    ProgressEntry.objects.bulk_create(
        (ProgressEntry(user=u, kpi=kpi, date=d, value=Decimal(1 + (n + i) % 2), created_by=u)
         for n, u in enumerate(reps) for i, d in enumerate(days[-60:]) if (n + i) % 17),
        batch_size=2000,
    )  # fmt: skip
    for name, threshold in (("bench-Commit", 80), ("bench-Target", 100), ("bench-Stretch", 120)):
        services.tier_create(created_by=admin, name=name, threshold_percent=Decimal(threshold))
    services.tier_create(created_by=admin, name="bench-Week", applies_to="micro_goal", threshold_percent=Decimal(100),
                         reward_kind="points", points=10)  # fmt: skip
    services.tier_create(created_by=admin, name="bench-Streak", applies_to="streak", streak_days=5)
    goal_services.progress_recompute(today=TODAY)
    return admin, team, kpi


def main():
    try:
        with transaction.atomic():
            admin, team, kpi = build()
            print(f"{REPS} reps, {MicroGoal.objects.filter(kpi=kpi).count()} micro goals, "
                  f"{ProgressEntry.objects.filter(kpi=kpi).count()} entries")  # fmt: skip
            while timed("awards_grant() run (new awards)", lambda: services.awards_grant(today=TODAY)).granted:
                pass
            timed("awards_grant() second run", lambda: services.awards_grant(today=TODAY))
            one = list(Goal.objects.filter(kpi=kpi).values_list("id", flat=True)[:1])
            timed("awards_grant(goal_ids=[one])", lambda: services.awards_grant(goal_ids=one, today=TODAY))
            args = {"team": team, "start": datetime.date(2026, 3, 1), "end": datetime.date(2026, 3, 31),
                    "viewer": admin, "kpi": kpi, "team_ids": {team.id}}  # fmt: skip
            timed("leaderboard_for_team (month)", lambda: len(selectors.leaderboard_for_team(**args).rows))
            timed("most_improved_for_team (month)", lambda: len(selectors.most_improved_for_team(**args).rows))
            raise Rollback
    except Rollback:
        print("rolled back: the database is as it was")


if __name__ == "__main__":
    main()
