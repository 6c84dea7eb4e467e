"""Build a believable demo org. Idempotent: a second run finds everything in place and changes nothing."""

from django.core.management.base import BaseCommand
from django.db import transaction
from tqdm import tqdm

from feedback.demo import seed_feedback
from goals import services as goal_services
from goals.demo import seed_goals
from rewards.demo import seed_rewards
from teams.demo import DEMO_PASSWORD, seed_org
from webhooks.demo import seed_webhooks

# Each app builds its own demo data (<app>/demo.py); the apps above teams run after the org exists, in this order.
# feedback: check-ins, coaching, praise, action items, requests; webhooks: a disabled demo endpoint.
LATER_STEPS = [seed_goals, seed_rewards, seed_feedback, seed_webhooks]


class Command(BaseCommand):
    help = "Create the demo organisation, users, KPIs, goals and history (safe to run again)."

    def handle(self, *args, **options):
        with transaction.atomic():
            org = seed_org(progress=tqdm)
        for step in LATER_STEPS:
            step(org=org, progress=tqdm)
        # The demo's entries marked their goals stale for the background pass; run it here, so the first pages
        # show fresh figures (not "updating…") even before a worker starts. Nothing is stale on a second run.
        goal_services.progress_recompute_stale()
        self.stdout.write(self.style.SUCCESS(f"Demo data ready. Log in with any of these (password: {DEMO_PASSWORD}):"))
        for role, username in org.logins:
            self.stdout.write(f"  {role:<8} {username}")
