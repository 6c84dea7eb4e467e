"""Check the daily progress rollups (ProgressDay) against the entries, and repair them with --repair.

Exit status 0 when every rollup row agrees with the entries (or all were repaired), 1 when some disagree
and --repair was not given; each disagreeing (user, KPI, date) is listed. The periodic recompute_all
task runs the same check with repair on, so a drift never outlives a quarter of an hour.
"""

from django.core.management.base import BaseCommand, CommandError

from goals import services

SHOWN = 20  # disagreeing days listed; the count is always complete


class Command(BaseCommand):
    help = "Verify the daily progress rollups against the entries; --repair recomputes the rows that disagree."

    def add_arguments(self, parser):
        parser.add_argument(
            "--repair",
            action="store_true",
            help="Recompute the disagreeing rows from their entries, then recompute every active goal.",
        )

    def handle(self, *args, repair, **options):
        bad = services.rollups_verify(repair=repair)
        if not bad:
            self.stdout.write(self.style.SUCCESS("Every progress rollup agrees with the entries."))
            return
        for key in bad[:SHOWN]:
            self.stdout.write(f"user {key.user_id}, KPI {key.kpi_id}, {key.date.isoformat()}")
        more = f" (the first {SHOWN} listed)" if len(bad) > SHOWN else ""
        if not repair:
            raise CommandError(
                f"{len(bad)} progress rollup rows disagree with the entries{more}; "
                "run `manage.py rollups_verify --repair` to recompute them."
            )
        result = services.progress_recompute()
        self.stdout.write(
            self.style.SUCCESS(
                f"Repaired {len(bad)} progress rollup rows{more}; recomputed {result.goals} goals and "
                f"{result.micro_goals} micro goals."
            )
        )
