"""Install the default beat schedule (config/schedule.py). Idempotent: never changes an existing task."""

from django.core.management.base import BaseCommand
from django.db import transaction

from config.schedule import install_default_schedule


class Command(BaseCommand):
    help = "Install the default periodic tasks that are missing; tasks already there (and admins' changes) are kept."

    def handle(self, *args, **options):
        with transaction.atomic():
            results = install_default_schedule()
        for name, created, schedule in results:
            if created:
                self.stdout.write(self.style.SUCCESS(f"installed  {name}: {schedule}"))
            else:
                self.stdout.write(f"kept       {name} (already scheduled; change it in the admin)")
        installed = sum(created for _name, created, _schedule in results)
        self.stdout.write(f"{installed} installed, {len(results) - installed} already present.")
