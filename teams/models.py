"""Users, teams and who belongs where. The base every other app reads."""

import datetime
import zoneinfo
from decimal import Decimal

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .validators import validate_pacer_date


def validate_timezone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not an IANA timezone name (for example Europe/Paris).")


def validate_weekdays(value):
    """Working weekdays as ISO digits, Monday=1 … Sunday=7, e.g. "12345"."""
    if not value or any(c not in "1234567" for c in value) or len(set(value)) != len(value):
        raise ValidationError("Working weekdays must be distinct digits 1 (Monday) to 7 (Sunday), e.g. 12345.")


class User(AbstractUser):
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    # Local hour at which a rep with no entry today gets a check-in reminder.
    reminder_hour = models.PositiveSmallIntegerField(
        default=16, validators=[MinValueValidator(0), MaxValueValidator(23)]
    )
    # Per notification kind: "in_app" | "email" | "off"; a missing kind means "email".
    notification_prefs = models.JSONField(default=dict, blank=True)
    # Emails that would be sent inside this local window wait until it ends (in-app is immediate).
    quiet_hours_start = models.TimeField(null=True, blank=True)
    quiet_hours_end = models.TimeField(null=True, blank=True)

    class Meta:
        ordering = ["first_name", "last_name", "username"]

    def __str__(self):
        return self.get_full_name() or self.username

    @property
    def zone(self):
        return zoneinfo.ZoneInfo(self.timezone)

    def local_today(self, now=None):
        return (now or timezone.now()).astimezone(self.zone).date()


class Team(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    working_weekdays = models.CharField(max_length=7, default="12345", validators=[validate_weekdays])

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def working_weekdays_label(self):
        names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        return ", ".join(names[int(d) - 1] for d in sorted(self.working_weekdays))

    def clean(self):
        # A team may not be its own ancestor (the hierarchy is a tree).
        node, seen = self.parent, set()
        while node is not None and node.pk not in seen:
            if self.pk and node.pk == self.pk:
                raise ValidationError({"parent": "A team cannot be placed under itself or its own sub-team."})
            seen.add(node.pk)
            node = node.parent


class Holiday(models.Model):
    """A non-working day for a team and all its sub-teams (an org-wide holiday lives on the org)."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField(validators=[validate_pacer_date])
    name = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["team", "date"], name="holiday_unique_per_team_date")]

    def __str__(self):
        return f"{self.date} {self.name}".strip()


class Membership(models.Model):
    class Role(models.TextChoices):
        REP = "rep", "Rep"
        MANAGER = "manager", "Manager"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.REP)
    # 1.00 = full time; a team target is split across reps in proportion to it.
    capacity = models.DecimalField(
        max_digits=3,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("1.00"))],
    )
    active_from = models.DateField(default=datetime.date.today, validators=[validate_pacer_date])
    active_to = models.DateField(
        null=True, blank=True, validators=[validate_pacer_date], help_text="Last day of membership; empty = current."
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gt=0) & Q(capacity__lte=1), name="membership_capacity_in_0_1"),
            models.CheckConstraint(
                condition=Q(active_to__isnull=True) | Q(active_to__gte=models.F("active_from")),
                name="membership_active_to_after_from",
            ),
            # A user is a current rep of at most one team (history rows have active_to set).
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(role="rep", active_to__isnull=True),
                name="membership_one_current_rep_team",
            ),
            models.UniqueConstraint(
                fields=["user", "team"],
                condition=Q(active_to__isnull=True),
                name="membership_one_current_per_team",
            ),
        ]
        indexes = [models.Index(fields=["team", "role"])]

    def __str__(self):
        return f"{self.user} — {self.get_role_display()} of {self.team}"

    def is_active_on(self, day):
        return self.active_from <= day and (self.active_to is None or day <= self.active_to)


class AuditEvent(models.Model):
    """Who did what, when and from where: written by the services that change people, roles, goals and
    entries (and by the login signals). Never holds secrets. Admins read it on the audit log page."""

    class Kind(models.TextChoices):
        LOGIN = "login", "Login"
        LOGIN_FAILED = "login_failed", "Login failed"
        LOCKOUT = "lockout", "Lockout"
        PERMISSION_DENIED = "permission_denied", "Permission denied"
        MEMBERSHIP = "membership", "Membership change"
        ROLE = "role", "Role change"
        INVITATION = "invitation", "Invitation"
        DEACTIVATION = "deactivation", "Deactivation"
        GOAL_REVISION = "goal_revision", "Goal revision"
        ENTRY_EDIT = "entry_edit", "Entry edited"
        ENTRY_VOID = "entry_void", "Entry voided"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    # Who acted (null for an anonymous failed login) and whom it concerns (the member, the entry's rep…).
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    subject_user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    summary = models.CharField(max_length=300)
    data = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["kind", "at"])]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_kind_display()}: {self.summary}"
