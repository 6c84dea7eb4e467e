"""Coaching and praise, weekly check-ins with confidence, support plans (action items) and goal adjustment requests.

feedback sits above goals: it reads goals and teams and calls notify(); goals never imports it. Every write is a
service (feedback/services.py); nothing here is ever hard-deleted by users (the admin has no delete either).
"""

import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from goals.models import VALUE, Goal, GoalRevision, MicroGoal

EDIT_WINDOW = datetime.timedelta(minutes=15)


class Feedback(models.Model):
    """A note from one person to another, optionally about a goal or micro goal. Editable by its author for
    EDIT_WINDOW after it was given (every earlier wording is kept in `history`); never deleted."""

    class Kind(models.TextChoices):
        COACHING = "coaching", "Coaching"
        PRAISE = "praise", "Praise"
        CONCERN = "concern", "Concern"

    class Visibility(models.TextChoices):
        PRIVATE = "private", "Only the two of us"
        MANAGERS = "managers", "Also the recipient's managers"
        TEAM = "team", "The recipient's team too (kudos feed)"

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="feedback_given")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="feedback_received")
    goal = models.ForeignKey(Goal, null=True, blank=True, on_delete=models.PROTECT, related_name="feedback")
    micro_goal = models.ForeignKey(MicroGoal, null=True, blank=True, on_delete=models.PROTECT, related_name="feedback")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.COACHING)
    body = models.TextField(max_length=4000)
    visibility = models.CharField(max_length=16, choices=Visibility.choices, default=Visibility.PRIVATE)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    # Earlier wordings, oldest first: [{"body": …, "kind": …, "replaced_at": ISO}].
    history = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "feedback"
        constraints = [
            models.CheckConstraint(condition=~Q(author=models.F("recipient")), name="feedback_not_to_self"),
            # Only praise goes on the team's kudos feed.
            models.CheckConstraint(condition=~Q(visibility="team") | Q(kind="praise"), name="feedback_team_is_praise"),
        ]
        indexes = [
            models.Index(fields=["recipient", "created_at"]),
            models.Index(fields=["author", "created_at"]),
            models.Index(fields=["goal", "created_at"]),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} from {self.author} to {self.recipient}"

    def editable_until(self) -> datetime.datetime:
        return self.created_at + EDIT_WINDOW


class CheckIn(models.Model):
    """A rep's weekly check-in on their own active goal: how confident they are (0–10), what blocks them, and the
    goal's figures at that moment. One per goal per ISO week (identified by its Monday); a second submit that week
    updates it and keeps what it replaced in `history`."""

    goal = models.ForeignKey(Goal, on_delete=models.PROTECT, related_name="checkins")
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="checkins")
    week_start = models.DateField(help_text="The Monday of the ISO week (in the rep's timezone).")
    confidence = models.PositiveSmallIntegerField(validators=[MinValueValidator(0), MaxValueValidator(10)])
    blockers = models.TextField(max_length=2000, blank=True)
    note = models.TextField(max_length=2000, blank=True)
    # The goal's figures when submitted: {"current", "target", "expected", "forecast", "attainment", "health"}.
    snapshot = models.JSONField(default=dict, blank=True)
    submitted_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    # Earlier submissions of this week, oldest first (each with its own confidence, blockers, note, snapshot).
    history = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-week_start", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["goal", "week_start"], name="checkin_one_per_goal_week"),
            models.CheckConstraint(condition=Q(confidence__lte=10), name="checkin_confidence_0_10"),
        ]
        indexes = [models.Index(fields=["rep", "week_start"])]

    def __str__(self):
        return f"{self.rep} on {self.goal}, week of {self.week_start}: {self.confidence}/10"

    @property
    def iso_week(self) -> str:
        year, week, _ = self.week_start.isocalendar()
        return f"{year}-W{week:02d}"


class CheckInReply(models.Model):
    """One message of the thread on a check-in (the manager answers, the rep replies)."""

    checkin = models.ForeignKey(CheckIn, on_delete=models.PROTECT, related_name="replies")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(max_length=4000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "check-in replies"

    def __str__(self):
        return f"{self.author} on {self.checkin}"


class ActionItem(models.Model):
    """A concrete support step on a goal ("shadow Ben on two demos", a training link): who does it, by when."""

    goal = models.ForeignKey(Goal, on_delete=models.PROTECT, related_name="action_items")
    title = models.CharField("What", max_length=300)
    link = models.URLField(max_length=500, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="action_items")
    due_date = models.DateField()
    # Where it came from: a check-in's blockers or a coaching note (optional).
    checkin = models.ForeignKey(CheckIn, null=True, blank=True, on_delete=models.PROTECT, related_name="action_items")
    feedback = models.ForeignKey(Feedback, null=True, blank=True, on_delete=models.PROTECT, related_name="action_items")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["done_at", "due_date", "id"]
        indexes = [models.Index(fields=["owner", "done_at", "due_date"]), models.Index(fields=["goal", "due_date"])]

    def __str__(self):
        return self.title

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    def is_overdue(self, today: datetime.date) -> bool:
        return self.done_at is None and self.due_date < today


class AdjustmentRequest(models.Model):
    """A proposal to change a goal's target and/or due date, with a reason: pending → approved | rejected |
    withdrawn, and final once decided. An approval applies it through goals' goal_update (the GoalRevision it
    wrote is linked here) and re-plans the micro goals. What the goal had when asked is kept (`current_*`)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Withdrawn"

    goal = models.ForeignKey(Goal, on_delete=models.PROTECT, related_name="adjustment_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_target = models.DecimalField(**VALUE, null=True, blank=True)
    proposed_due_date = models.DateField(null=True, blank=True)
    current_target = models.DecimalField(**VALUE)
    current_due_date = models.DateField()
    reason = models.TextField(max_length=4000)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    response = models.TextField(max_length=4000, blank=True)
    revision = models.ForeignKey(
        GoalRevision, null=True, blank=True, on_delete=models.PROTECT, related_name="adjustment_requests"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["goal"], condition=Q(status="pending"), name="adjustment_one_pending_per_goal"
            ),
            models.CheckConstraint(
                condition=Q(proposed_target__isnull=False) | Q(proposed_due_date__isnull=False),
                name="adjustment_proposes_something",
            ),
            models.CheckConstraint(
                condition=(Q(status="pending") & Q(decided_at__isnull=True))
                | (~Q(status="pending") & Q(decided_at__isnull=False)),
                name="adjustment_decided_iff_not_pending",
            ),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(revision__isnull=False), name="adjustment_approved_has_revision"
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self):
        return f"Adjust {self.goal} ({self.get_status_display()})"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING
