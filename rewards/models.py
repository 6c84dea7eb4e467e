"""Reward tiers admins configure, the awards granted from them (exactly once), and a rep's privacy choice.

Every write goes through rewards/services.py; these models only hold data and the invariants of one row.
"""

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from goals.models import Goal, Kpi, MicroGoal
from teams.calendar import format_day

MONEY: dict[str, Any] = {"max_digits": 12, "decimal_places": 2}
PERCENT: dict[str, Any] = {"max_digits": 9, "decimal_places": 2}


class RewardTier(models.Model):
    class AppliesTo(models.TextChoices):
        GOAL = "goal", "Hard goals"
        MICRO_GOAL = "micro_goal", "Micro goals"
        STREAK = "streak", "Streaks"

    class OwnerKind(models.TextChoices):
        PERSONAL = "personal", "Personal goals"
        TEAM = "team", "Team goals"
        BOTH = "both", "Personal and team goals"

    class TeamRecipients(models.TextChoices):
        CONTRIBUTORS = "contributors", "Reps who contributed"
        ALL = "all", "Every rep of the team during the goal"

    class RewardKind(models.TextChoices):
        BADGE = "badge", "Badge"
        POINTS = "points", "Points"
        BONUS = "bonus", "Bonus"

    name = models.CharField(max_length=80)
    description = models.CharField(max_length=300, blank=True)
    applies_to = models.CharField(max_length=16, choices=AppliesTo.choices, default=AppliesTo.GOAL)
    # Goals and micro goals: reached when attainment (goals.pace.attainment_percent) is at least this.
    threshold_percent = models.DecimalField(**PERCENT, null=True, blank=True)
    # Streaks: this many consecutive working days with at least one (non-voided) entry.
    streak_days = models.PositiveSmallIntegerField(null=True, blank=True)
    kpi = models.ForeignKey(Kpi, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    owner_kind = models.CharField(max_length=16, choices=OwnerKind.choices, default=OwnerKind.PERSONAL)
    team_recipients = models.CharField(
        max_length=16, choices=TeamRecipients.choices, default=TeamRecipients.CONTRIBUTORS
    )
    reward_kind = models.CharField(max_length=16, choices=RewardKind.choices, default=RewardKind.BADGE)
    points = models.PositiveIntegerField(default=0)
    amount = models.DecimalField(**MONEY, default=Decimal(0))  # a bonus, in settings.PACER["CURRENCY"]
    needs_approval = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["applies_to", "threshold_percent", "streak_days", "name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="reward_tier_unique_name_ci"),
            models.CheckConstraint(
                condition=Q(threshold_percent__isnull=True) | Q(threshold_percent__gt=0),
                name="reward_tier_threshold_positive",
            ),
            models.CheckConstraint(
                condition=(Q(applies_to="streak") & Q(streak_days__gte=1))
                | (~Q(applies_to="streak") & Q(threshold_percent__isnull=False)),
                name="reward_tier_has_its_measure",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def threshold(self) -> Decimal:
        """The threshold of a goal or micro goal tier (never empty for those: a database constraint)."""
        return self.threshold_percent if self.threshold_percent is not None else Decimal(0)

    @property
    def days(self) -> int:
        """The length of a streak tier (never empty for those: a database constraint)."""
        return self.streak_days or 0

    @property
    def measure_label(self) -> str:
        if self.applies_to == self.AppliesTo.STREAK:
            return f"{self.days} working days in a row"
        return f"{self.threshold.normalize():f} % of target"


class Award(models.Model):
    """One tier granted to one user for one goal, micro goal or streak: at most once (database constraints)."""

    class Status(models.TextChoices):
        GRANTED = "granted", "Granted"
        PENDING = "pending", "Pending approval"
        APPROVED = "approved", "Approved"
        PAID = "paid", "Paid"
        FLAGGED = "flagged", "Flagged for review"
        REVOKED = "revoked", "Revoked"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="awards")
    tier = models.ForeignKey(RewardTier, on_delete=models.PROTECT, related_name="awards")
    goal = models.ForeignKey(Goal, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    micro_goal = models.ForeignKey(MicroGoal, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    streak_day = models.DateField(null=True, blank=True, help_text="The working day the streak reached the tier.")
    # Snapshots at grant time: editing the tier later never changes an award already granted.
    attainment = models.DecimalField(**PERCENT, null=True, blank=True)
    threshold = models.DecimalField(**PERCENT, null=True, blank=True)
    points = models.PositiveIntegerField(default=0)
    amount = models.DecimalField(**MONEY, default=Decimal(0))
    currency = models.CharField(max_length=3, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.GRANTED)
    status_before_flag = models.CharField(max_length=16, choices=Status.choices, blank=True)
    granted_at = models.DateTimeField(default=timezone.now)
    flagged_at = models.DateTimeField(null=True, blank=True)
    flag_attainment = models.DecimalField(**PERCENT, null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=500, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    payout_reference = models.CharField(max_length=200, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-granted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "tier", "goal"], condition=Q(goal__isnull=False), name="award_once_per_goal"
            ),
            models.UniqueConstraint(
                fields=["user", "tier", "micro_goal"],
                condition=Q(micro_goal__isnull=False),
                name="award_once_per_micro_goal",
            ),
            models.UniqueConstraint(
                fields=["user", "tier", "streak_day"],
                condition=Q(streak_day__isnull=False),
                name="award_once_per_streak_day",
            ),
            models.CheckConstraint(
                condition=(Q(goal__isnull=False) & Q(micro_goal__isnull=True) & Q(streak_day__isnull=True))
                | (Q(goal__isnull=True) & Q(micro_goal__isnull=False) & Q(streak_day__isnull=True))
                | (Q(goal__isnull=True) & Q(micro_goal__isnull=True) & Q(streak_day__isnull=False)),
                name="award_exactly_one_subject",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "granted_at"]),
            models.Index(fields=["status", "granted_at"]),
            models.Index(fields=["goal"], name="award_goal"),
            models.Index(fields=["micro_goal"], name="award_micro_goal"),
        ]

    def __str__(self):
        return f"{self.tier} → {self.user}"

    @property
    def subject_label(self) -> str:
        if self.goal is not None:
            return self.goal.title
        if self.micro_goal is not None:
            mg = self.micro_goal
            return f"{mg.kpi.name} {format_day(mg.start_date)} – {format_day(mg.due_date)}"  # the one way dates read
        if self.streak_day is not None:
            return f"Streak reached on {format_day(self.streak_day, weekday=True)}"
        return str(self.tier)

    @property
    def is_bonus(self) -> bool:
        return self.amount > 0


class RewardPreference(models.Model):
    """A rep's choice to appear as "a teammate" on leaderboards their peers see (managers still see the name)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reward_preference")
    hide_name_from_peers = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.user}: {'hidden' if self.hide_name_from_peers else 'shown'}"
