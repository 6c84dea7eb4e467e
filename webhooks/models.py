"""Where events go (WebhookEndpoint) and each attempt to get one there (WebhookDelivery)."""

import uuid

from django.conf import settings
from django.db import models


class Event(models.TextChoices):
    ENTRY_RECORDED = "entry.recorded", "Progress entry recorded"
    GOAL_HEALTH_CHANGED = "goal.health_changed", "Goal health changed"
    GOAL_CLOSED = "goal.closed", "Goal closed (achieved or missed)"
    AWARD_GRANTED = "award.granted", "Award granted"
    ADJUSTMENT_DECIDED = "adjustment.decided", "Adjustment request decided"


class WebhookEndpoint(models.Model):
    class Format(models.TextChoices):
        PACER = "pacer", "Pacer JSON (signed)"
        SLACK = "slack", 'Slack-compatible message ({"text": …})'

    name = models.CharField(max_length=80)
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list, help_text="Event names this endpoint receives.")
    payload_format = models.CharField(max_length=8, choices=Format.choices, default=Format.PACER)
    # Kept to sign every delivery (HMAC needs it); shown to the admin once, when created or rotated.
    secret = models.CharField(max_length=64, editable=False)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RETRYING = "retrying", "Retrying"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40, choices=Event.choices)
    event_id = models.UUIDField(default=uuid.uuid4, help_text="The same for every re-send of this event.")
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["endpoint", "status"])]

    def __str__(self):
        return f"{self.event} → {self.endpoint} ({self.status})"


class GoalEventState(models.Model):
    """The last health and status announced for a goal, so "health changed" and "closed" are sent once each."""

    goal_id = models.BigIntegerField(primary_key=True)  # not a FK: the goals app stays unaware of webhooks
    health = models.CharField(max_length=16, blank=True)
    status = models.CharField(max_length=16)

    def __str__(self):
        return f"goal {self.goal_id}: {self.status} {self.health}"
