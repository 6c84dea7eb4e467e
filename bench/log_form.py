"""Benchmark: p50 and p99 of the Today log POST with 50 reps of one team posting at once through gunicorn,
at the large scale and at 10 k entries, in the same run (target: large ÷ 10 k ≤ 1.5× for both).

Each of 50 reps of bench team 0 (logged in by a session made directly, CSRF cookie and header as a
browser sends them) posts `--posts` entries from its own thread, through the same gunicorn (2 workers ×
8 threads) at both scales, with a real Celery worker running the coalesced recompute meanwhile, as in
production. The answer is the htmx card: the rep's own figures fresh, the team's marked "updating…".

    .venv/bin/python bench/log_form.py --entries 1000000 --reps-per-team 40
"""

import argparse
import secrets
import threading
import time
import uuid

import requests
from common import (
    ensure_database,
    forget_recompute_requests,
    percentile,
    report,
    require_bench_database,
    small_database_name,
    use_database,
    verdict,
)
from django.db import connection
from django.utils import timezone
from synth import build, session_for
from workers import celery_worker, gunicorn

from goals.models import Kpi
from teams.models import Membership, User

PORT = 18731


def team_reps(count: int) -> list[User]:
    today = timezone.localdate()
    reps = Membership.objects.filter(team__slug="bench-team-0", role=Membership.Role.REP, active_from__lte=today)
    reps = reps.exclude(active_to__lt=today).values_list("user_id", flat=True)
    return list(User.objects.filter(id__in=list(reps)).order_by("id")[:count])


def post_load(base: str, reps: list[User], posts: int) -> list[float]:
    kpi = Kpi.objects.get(name="Bench revenue")
    today = timezone.localdate().isoformat()
    sessions = []
    for rep in reps:
        http = requests.Session()
        csrf = secrets.token_hex(16)  # a 32-character CSRF secret, as the cookie holds it
        http.cookies.set("sessionid", session_for(rep))
        http.cookies.set("csrftoken", csrf)
        http.headers.update({"X-CSRFToken": csrf, "HX-Request": "true", "Referer": base + "/today/"})
        sessions.append(http)
    connection.close()
    times, lock, barrier = [], threading.Lock(), threading.Barrier(len(sessions))

    def rep_posts(http):
        barrier.wait()
        for _ in range(posts):
            data = {"kpi": kpi.id, "value": "10", "date": today, "note": "", "token": str(uuid.uuid4())}
            started = time.perf_counter()
            response = http.post(base + "/today/log/", data=data, timeout=60)
            took = time.perf_counter() - started
            if response.status_code != 200 or "Logged" not in response.text:
                raise SystemExit(f"The log POST failed: {response.status_code} {response.text[:300]}")
            with lock:
                times.append(took)

    threads = [threading.Thread(target=rep_posts, args=(http,)) for http in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return times


def measure(reps_count: int, posts: int) -> list[float]:
    forget_recompute_requests()
    name = connection.settings_dict["NAME"]
    reps = team_reps(reps_count)
    with celery_worker(name, queues="recompute"), gunicorn(name, port=PORT) as base:
        post_load(base, reps[:5], 2)  # warm up every gunicorn thread's connection
        times = post_load(base, reps, posts)
    forget_recompute_requests()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps-per-team", type=int, default=10)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--posts", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    require_bench_database()
    large_set = build(reps_per_team=args.reps_per_team, entries=args.entries)
    ensure_database(small_database_name())
    with use_database(small_database_name()):
        small_set = build(reps_per_team=args.reps_per_team, entries=10_000)
    # Alternating rounds (large, 10 k, large, 10 k), so a busy moment of a shared machine weighs on both.
    times = {"large": [], "small": []}
    for _ in range(args.rounds):
        times["large"] += measure(args.reps, args.posts)
        with use_database(small_database_name()):
            times["small"] += measure(args.reps, args.posts)
    large, small = (
        {"posts": len(t), "p50": percentile(t, 50), "p99": percentile(t, 99)} for t in (times["large"], times["small"])
    )
    p50, p99 = large["p50"] / small["p50"], large["p99"] / small["p99"]
    rows = [
        ("reps posting at once", f"{args.reps} of bench team 0, {args.posts} posts each, {args.rounds} rounds a scale"),
        (f"10 k entries ({small_set['entries']:,})", f"p50 {small['p50'] * 1000:.0f} ms, p99 {small['p99'] * 1000:.0f} ms"),
        (f"large ({large_set['entries']:,} entries)", f"p50 {large['p50'] * 1000:.0f} ms, p99 {large['p99'] * 1000:.0f} ms"),
        ("large / 10 k", f"p50 {p50:.2f}x, p99 {p99:.2f}x"),
    ]  # fmt: skip
    report(
        "log_form",
        rows,
        verdicts=[
            verdict("log POST p50, large ÷ 10 k", p50, at_most=1.5, unit="x"),
            verdict("log POST p99, large ÷ 10 k", p99, at_most=1.5, unit="x"),
        ],
        extra={"small": small, "large": large},
    )


if __name__ == "__main__":
    main()
