"""What reached a user: one row per (user, key), so a job that runs twice still delivers once."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone


def validate_site_path(value):
    # Only paths on this site: a full or protocol-relative URL in an email link would be a phishing vector.
    if value and (not value.startswith("/") or value.startswith("//")):
        raise ValidationError(f"“{value}” must be a path on this site starting with a single “/”.")


class Notification(models.Model):
    class Kind(models.TextChoices):
        CHECKIN_REMINDER = "checkin_reminder", "Check-in reminders"
        DEADLINE_REMINDER = "deadline_reminder", "Deadline reminders"
        GOAL_OFF_TRACK = "goal_off_track", "Goals going off track"
        MANAGER_DIGEST = "manager_digest", "Weekly manager digest"
        GOAL_CLOSED = "goal_closed", "Goals closed (achieved or missed)"
        AWARD_GRANTED = "award_granted", "Rewards granted"
        FEEDBACK_RECEIVED = "feedback_received", "Feedback received"
        ADJUSTMENT_DECIDED = "adjustment_decided", "Goal adjustment decisions"

    class Channel(models.TextChoices):
        """A user's choice per kind (User.notification_prefs); a kind not in the prefs means EMAIL."""

        IN_APP = "in_app", "In the app only"
        EMAIL = "email", "In the app and by email"
        OFF = "off", "Off"

    class EmailStatus(models.TextChoices):
        NONE = "", "No email (in-app only)"
        PENDING = "pending", "Queued"
        DEFERRED = "deferred", "Waiting for quiet hours to end"
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Skipped (no email address)"
        FAILED = "failed", "Failed"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=40, choices=Kind.choices)
    # Chosen by the caller so a repeat is recognised, e.g. "deadline:goal-12:3d".
    key = models.CharField(max_length=200)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True, validators=[validate_site_path])
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_status = models.CharField(max_length=10, choices=EmailStatus.choices, blank=True, default="")
    email_error = models.TextField(blank=True)
    email_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="notification_unique_user_key")]
        indexes = [
            models.Index(fields=["user", "read_at"], name="notification_user_read"),
            # The periodic sender scans only the few rows still waiting for an email.
            models.Index(
                fields=["email_status", "created_at"],
                condition=Q(email_status__in=["pending", "deferred"]),
                name="notification_email_waiting",
            ),
        ]

    def __str__(self):
        return f"{self.title} → {self.user}"

    @property
    def is_unread(self):
        return self.read_at is None
