"""Build a believable demo org. Idempotent: a second run finds everything in place and changes nothing."""

from django.core.management.base import BaseCommand
from django.db import transaction
from tqdm import tqdm

from feedback.demo import seed_feedback
from goals.demo import seed_goals
from rewards.demo import seed_rewards
from teams.demo import DEMO_PASSWORD, seed_org

# Each app builds its own demo data (<app>/demo.py); the apps above teams run after the org exists, in this order.
LATER_STEPS = [seed_goals, seed_rewards, seed_feedback]  # feedback: check-ins, coaching, praise, action items, requests


class Command(BaseCommand):
    help = "Create the demo organisation, users, KPIs, goals and history (safe to run again)."

    def handle(self, *args, **options):
        with transaction.atomic():
            org = seed_org(progress=tqdm)
        for step in LATER_STEPS:
            step(org=org, progress=tqdm)
        self.stdout.write(self.style.SUCCESS(f"Demo data ready. Log in with any of these (password: {DEMO_PASSWORD}):"))
        for role, username in org.logins:
            self.stdout.write(f"  {role:<8} {username}")
