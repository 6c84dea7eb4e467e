"""Recompute every active goal and micro goal now (what the periodic recompute_all task does), with a
progress bar. For repairs after an outage or a data import; safe to run at any time (idempotent)."""

import datetime
import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from goals import services
from goals.models import Goal, MicroGoal


class Command(BaseCommand):
    help = "Recompute progress, pace, forecast and health of every active goal and micro goal from the entries."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=None, help="Goals per aggregate query.")
        parser.add_argument(
            "--today", type=datetime.date.fromisoformat, default=None, help="As of this date (YYYY-MM-DD)."
        )

    def handle(self, *args, batch_size, today, verbosity, **options):
        # Only sizes the bar: the recompute itself re-reads which goals are active.
        total = (
            Goal.objects.filter(status=Goal.Status.ACTIVE).count()
            + MicroGoal.objects.filter(status=MicroGoal.Status.ACTIVE).count()
        )
        started = time.monotonic()
        with tqdm(total=total, unit="goal", disable=verbosity == 0) as bar:
            try:
                result = services.progress_recompute(today=today, batch_size=batch_size, on_batch=bar.update)
            except Exception as exc:
                # CommandError: a message on stderr and exit status 1, instead of a bare traceback.
                raise CommandError(f"Recompute failed: {exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Recomputed {result.goals} goals and {result.micro_goals} micro goals "
                f"in {time.monotonic() - started:.1f} s."
            )
        )
