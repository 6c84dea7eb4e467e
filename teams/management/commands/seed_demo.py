"""Build a believable demo org. Idempotent: a second run finds everything in place and changes nothing."""

from django.core.management.base import BaseCommand
from django.db import transaction
from tqdm import tqdm

from teams.demo import DEMO_PASSWORD, seed_org


class Command(BaseCommand):
    help = "Create the demo organisation, users, KPIs, goals and history (safe to run again)."

    def handle(self, *args, **options):
        with transaction.atomic():
            org = seed_org(progress=tqdm)
        for step in self._later_steps():
            step(org=org, progress=tqdm)
        self.stdout.write(self.style.SUCCESS(f"Demo data ready. Log in with any of these (password: {DEMO_PASSWORD}):"))
        for role, username in org.logins:
            self.stdout.write(f"  {role:<8} {username}")

    def _later_steps(self):
        """Apps above teams add their demo data after the org exists (goals: KPIs, goals, history)."""
        steps = []
        try:
            from goals.demo import seed_goals
        except ImportError:
            return steps
        steps.append(seed_goals)
        try:
            from webhooks.demo import seed_webhooks
        except ImportError:
            return steps
        steps.append(seed_webhooks)
        return steps
