"""Benchmark: importing 100,000 CSV rows with `progress_import` (set-based validation + bulk insert) against a
per-row `save()` loop writing the same rows, in the same run and database. Writes bench/results/import.json.

    DATABASE_URL=postgres://…bench .venv/bin/python bench/import.py [--rows 100000]     (also part of `make bench`)

The database must be migrated. Creates a team of 200 reps "bench-import-…", deletes everything it created at the
end. The broker is memory:// (the single recompute the import enqueues is published, not run). Not a test.
"""

import argparse
import datetime
import json
import os
import random
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# bench.settings: DEBUG off, so neither side pays for Django's query log (100,000 entries of it on the per-row side).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
os.environ["CELERY_BROKER_URL"] = "memory://"

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from api import csv_io  # noqa: E402
from goals import services  # noqa: E402
from goals.models import Kpi, ProgressDay, ProgressEntry  # noqa: E402
from teams.models import Membership, Team, User  # noqa: E402

PREFIX = "bench-import-"
REPS = 200
RESULTS = Path(__file__).resolve().parent / "results" / "import.json"


def setup() -> tuple[User, Kpi, list[User]]:
    team = Team.objects.create(name=f"{PREFIX}team", slug=f"{PREFIX}team")
    admin = User.objects.create(username=f"{PREFIX}admin", is_staff=True)
    kpi = Kpi.objects.create(name=f"{PREFIX}calls", decimal_places=2)
    reps = User.objects.bulk_create(
        User(username=f"{PREFIX}rep{n}", email=f"{PREFIX}rep{n}@example.com") for n in range(REPS)
    )
    Membership.objects.bulk_create(
        Membership(user=rep, team=team, role=Membership.Role.REP, active_from=datetime.date(2020, 1, 1)) for rep in reps
    )
    return admin, kpi, reps


def csv_text(rows: int, reps: list[User], kpi: Kpi) -> str:
    rng, today = random.Random(14), timezone.localdate()
    lines = ["user,kpi,date,value,note,external_id"]
    for n in range(rows):
        rep = reps[n % len(reps)]
        day = today - datetime.timedelta(days=rng.randrange(1, 120))
        lines.append(f"{rep.username},{kpi.name},{day},{rng.randrange(1, 50000) / 100:.2f},,bench:{n}")
    return "\n".join(lines) + "\n"


def bulk(text: str, admin: User) -> tuple[float, int]:
    start = time.perf_counter()
    rows, _ = csv_io.parse_rows(text)
    result = services.progress_import(rows=rows, imported_by=admin)
    return time.perf_counter() - start, result.created


def per_row(text: str, admin: User, kpi: Kpi, reps: list[User]) -> tuple[float, int]:
    """The same parsed rows, people and KPI looked up once, then one INSERT per row (no validation at all: the
    most generous per-row baseline)."""
    by_name = {r.username: r for r in reps}
    start = time.perf_counter()
    rows, _ = csv_io.parse_rows(text)
    with transaction.atomic():
        for row in rows:
            ProgressEntry(
                user=by_name[row.user],
                kpi=kpi,
                date=datetime.date.fromisoformat(row.date),
                value=Decimal(row.value),
                source=ProgressEntry.Source.IMPORT,
                external_id=row.external_id,
                created_by=admin,
            ).save()
    return time.perf_counter() - start, len(rows)


def vacuum() -> None:
    """PostgreSQL: clear the dead rows a side's clean-up left in the ledger and the rollup (outside a transaction)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in (ProgressEntry, ProgressDay):
                cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def cleanup() -> None:
    ProgressDay.objects.filter(kpi__name__startswith=PREFIX).delete()  # the rollup protects its KPI and people
    ProgressEntry.objects.filter(kpi__name__startswith=PREFIX).delete()
    Membership.objects.filter(team__slug__startswith=PREFIX).delete()
    Kpi.objects.filter(name__startswith=PREFIX).delete()
    User.objects.filter(username__startswith=PREFIX).delete()
    Team.objects.filter(slug__startswith=PREFIX).delete()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    cleanup()
    admin, kpi, reps = setup()
    try:
        text = csv_text(args.rows, reps, kpi)
        # The import runs before AND after the (long) per-row loop, and their mean is compared with it: on a shared
        # machine whose load swings within minutes, both sides then see the same spell of load.
        bulk_runs = []
        for side in ("import", "per-row", "import"):
            ProgressDay.objects.filter(kpi=kpi).delete()
            ProgressEntry.objects.filter(kpi=kpi).delete()
            vacuum()  # each side starts on tables without the previous side's 100,000 dead rows
            if side == "import":
                seconds, created = bulk(text, admin)
                bulk_runs.append(seconds)
            else:
                loop_seconds, saved = per_row(text, admin, kpi, reps)
            print(f"{side}: {seconds if side == 'import' else loop_seconds:.2f} s (load {os.getloadavg()[0]:.1f})")
        assert created == saved == args.rows
        bulk_seconds = sum(bulk_runs) / len(bulk_runs)
    finally:
        cleanup()
    result = {
        "rows": args.rows,
        "database": connection.vendor,
        "progress_import_seconds": round(bulk_seconds, 2),
        "progress_import_runs": [round(s, 2) for s in bulk_runs],  # before and after the per-row loop
        "per_row_save_seconds": round(loop_seconds, 2),
        "speedup": round(loop_seconds / bulk_seconds, 1),
        "measured_at": timezone.now().isoformat(timespec="seconds"),
        "load_average_1min": [round(load_before, 1), round(os.getloadavg()[0], 1)],  # at start, at end (2 cores)
        "git": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip(),
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
