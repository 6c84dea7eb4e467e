"""Demo webhook: a Slack-format endpoint for goal, award and adjustment events, pointing at a local URL and DISABLED,
so `make run` sends nothing anywhere; an admin enables it (or points it at a real Slack incoming webhook) in the
Django admin."""

from teams.models import User
from webhooks.models import Event, WebhookEndpoint
from webhooks.services import webhook_endpoint_create

NAME = "Sales channel (demo, disabled)"


def seed_webhooks(*, org, progress=None) -> None:
    admin = User.objects.filter(is_staff=True).order_by("id").first()
    if admin is None or WebhookEndpoint.objects.filter(name=NAME).exists():
        return
    webhook_endpoint_create(
        name=NAME,
        url="http://127.0.0.1:9009/pacer-webhook",
        events=[Event.GOAL_HEALTH_CHANGED, Event.GOAL_CLOSED, Event.AWARD_GRANTED, Event.ADJUSTMENT_DECIDED],
        payload_format=WebhookEndpoint.Format.SLACK,
        is_active=False,
        created_by=admin,
    )
