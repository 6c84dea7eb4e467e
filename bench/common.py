"""What every benchmark shares: Django set-up on the bench database, timing, the printed table and the
JSON result file (bench/results/<name>.json, git-ignored), and a description of the machine.

Benchmarks refuse to run on a database whose name does not end in "bench": they TRUNCATE tables.
`make bench` points DATABASE_URL at postgres://pacer:pacer@127.0.0.1:5432/pacer_bench (override with
BENCH_DATABASE_URL) and CELERY_BROKER_URL at Redis db 15 (BENCH_BROKER_URL).
"""

import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()
# Stopped with SIGTERM, a bench still stops the workers and servers it started (their `finally`).
signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

from django.db import connection  # noqa: E402


def require_bench_database() -> None:
    name = connection.settings_dict["NAME"]
    if connection.vendor != "postgresql" or not str(name).endswith("bench"):
        sys.exit(
            f"Benchmarks need a PostgreSQL database whose name ends in 'bench' (they TRUNCATE tables); "
            f"DATABASE_URL points at {connection.vendor} {name!r}. Run `make bench`, or set "
            "DATABASE_URL=postgres://pacer:pacer@127.0.0.1:5432/pacer_bench and migrate it."
        )


def timed(fn, runs: int = 3) -> tuple[float, list[float], object]:
    """(best seconds, every run's seconds, the last result)."""
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), times, result


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def median(values):
    return statistics.median(values) if values else float("nan")


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "postgresql": pg,
        "git": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
        ).stdout.strip(),
    }


def report(name: str, rows: list[tuple], *, verdicts: list[dict], extra: dict | None = None) -> None:
    """Print a two-column table and the verdicts, and write bench/results/<name>.json."""
    width = max(len(str(label)) for label, _ in rows) if rows else 10
    print(f"\n== {name} ==")
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    for v in verdicts:
        mark = "OK  " if v["met"] else "MISS"
        print(f"  [{mark}] {v['figure']}: {v['value']:.2f}{v.get('unit', '')} (target {v['target']})")
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {
        "bench": name,
        "measured_at": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "machine": machine(),
        "rows": [[str(label), str(value)] for label, value in rows],
        "verdicts": verdicts,
        **(extra or {}),
    }
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print(f"  -> {RESULTS / f'{name}.json'}")


def verdict(figure: str, value: float, *, at_most: float | None = None, at_least: float | None = None, unit=""):
    met = (at_most is None or value <= at_most) and (at_least is None or value >= at_least)
    target = f"≤ {at_most}{unit}" if at_most is not None else f"≥ {at_least}{unit}"
    return {"figure": figure, "value": round(value, 3), "target": target, "met": met, "unit": unit}


def small_database_name() -> str:
    """The 10 k-entry companion of the bench database (pacer_bench → pacer_10k_bench)."""
    name = str(connection.settings_dict["NAME"])
    return name[: -len("bench")] + "10k_bench"


class use_database:
    """Point the default connection at another database of the same server for a while."""

    def __init__(self, name: str):
        self.name = name

    def __enter__(self):
        self.saved = connection.settings_dict["NAME"]
        connection.close()
        connection.settings_dict["NAME"] = self.name
        return self

    def __exit__(self, *exc):
        connection.close()
        connection.settings_dict["NAME"] = self.saved


def database_url(name: str) -> str:
    """DATABASE_URL for another database on the bench server (for the servers and workers a bench starts)."""
    s = connection.settings_dict
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"


def forget_recompute_requests() -> None:
    """Between measurements: no stale marks, no queued or running coalesced recompute."""
    from config.celery import app
    from goals.models import RecomputeFlight, StaleTarget

    StaleTarget.objects.all().delete()
    RecomputeFlight.objects.update(lease_until=None, holder="", pending_since=None)
    app.control.purge()


def ensure_database(name: str) -> None:
    """Create and migrate a bench database on the same server if it does not exist yet."""
    import psycopg2
    from django.core.management import call_command

    s = connection.settings_dict
    admin = psycopg2.connect(
        dbname="postgres", user=s["USER"], password=s["PASSWORD"], host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    with use_database(name):
        call_command("migrate", verbosity=0)
