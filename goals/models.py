"""KPIs, hard goals, micro goals, their revision history and the progress ledger.

ProgressEntry is the only source of truth; the "derived" fields on Goal and MicroGoal are a cache that
`progress_recompute` can rebuild at any time from the entries (see goals/services/engine.py).
"""

from decimal import Decimal
from typing import TypedDict

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import F, Q

from teams.models import Team
from teams.validators import validate_pacer_date


class _DecimalShape(TypedDict):
    max_digits: int
    decimal_places: int


# Every measured value: up to 14 digits before the point, 4 after. Never float.
VALUE: _DecimalShape = {"max_digits": 18, "decimal_places": 4}


class Kpi(models.Model):
    class Unit(models.TextChoices):
        COUNT = "count", "Count"
        CURRENCY = "currency", "Currency"
        PERCENT = "percent", "Percent"
        HOURS = "hours", "Hours"

    class Aggregation(models.TextChoices):
        SUM = "sum", "Sum of entries"
        LAST = "last", "Latest entry"

    class Direction(models.TextChoices):
        HIGHER = "higher", "Higher is better"
        LOWER = "lower", "Lower is better"

    name = models.CharField(max_length=80, unique=True)
    description = models.TextField(blank=True)
    unit = models.CharField(max_length=16, choices=Unit.choices, default=Unit.COUNT)
    currency_code = models.CharField(max_length=3, blank=True, help_text="ISO code when the unit is currency.")
    decimal_places = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(4)])
    aggregation = models.CharField(max_length=8, choices=Aggregation.choices, default=Aggregation.SUM)
    direction = models.CharField(max_length=8, choices=Direction.choices, default=Direction.HIGHER)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(decimal_places__lte=4), name="kpi_decimal_places_max_4"),
        ]

    def __str__(self):
        return self.name

    @property
    def quantum(self) -> Decimal:
        """The smallest step of this KPI's values, e.g. 0.01 for two decimals."""
        return Decimal(1).scaleb(-self.decimal_places)

    @property
    def higher_is_better(self) -> bool:
        return self.direction == self.Direction.HIGHER


class Health(models.TextChoices):
    ACHIEVED = "achieved", "Achieved"
    ON_TRACK = "on_track", "On track"
    AT_RISK = "at_risk", "At risk"
    OFF_TRACK = "off_track", "Off track"


class ProgressFields(models.Model):
    """What the progress engine derives; identical on goals and micro goals so one recompute serves both."""

    current_value = models.DecimalField(**VALUE, default=Decimal(0))
    expected_value = models.DecimalField(**VALUE, default=Decimal(0))
    forecast_value = models.DecimalField(**VALUE, default=Decimal(0))
    # The likely range of the forecast (P10–P90) and the chance of reaching the target (goals/pace.py).
    forecast_low = models.DecimalField(**VALUE, null=True, blank=True)
    forecast_high = models.DecimalField(**VALUE, null=True, blank=True)
    chance_pct = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MaxValueValidator(100)])
    health = models.CharField(max_length=16, choices=Health.choices, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class Goal(ProgressFields):
    """A hard goal: a SMART target on a KPI for one user or one team."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        ACHIEVED = "achieved", "Achieved"
        MISSED = "missed", "Missed"
        CANCELLED = "cancelled", "Cancelled"

    class Achievability(models.TextChoices):
        ACHIEVABLE = "achievable", "Achievable"
        STRETCH = "stretch", "Stretch"
        UNREALISTIC = "unrealistic", "Unrealistic"
        NO_HISTORY = "no_history", "No history"

    title = models.CharField(max_length=140)  # Specific
    description = models.TextField(blank=True)
    kpi = models.ForeignKey(Kpi, on_delete=models.PROTECT, related_name="goals")  # Measurable
    target_value = models.DecimalField(**VALUE)
    baseline_value = models.DecimalField(**VALUE, default=Decimal(0))
    # Achievable: the verdict and both daily rates it was based on, as shown to the manager.
    achievability = models.CharField(max_length=16, choices=Achievability.choices, blank=True)
    required_daily_rate = models.DecimalField(**VALUE, null=True, blank=True)
    historical_daily_rate = models.DecimalField(**VALUE, null=True, blank=True)
    parent = models.ForeignKey(  # Relevant: aligned upward
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    rationale = models.TextField(blank=True)
    start_date = models.DateField(validators=[validate_pacer_date])  # Time-bound
    due_date = models.DateField(validators=[validate_pacer_date])
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="goals"
    )
    owner_team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="goals")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_date", "title"]
        constraints = [
            models.CheckConstraint(condition=Q(start_date__lte=F("due_date")), name="goal_start_not_after_due"),
            models.CheckConstraint(
                condition=(Q(owner_user__isnull=False) & Q(owner_team__isnull=True))
                | (Q(owner_user__isnull=True) & Q(owner_team__isnull=False)),
                name="goal_exactly_one_owner",
            ),
            models.CheckConstraint(condition=~Q(target_value=F("baseline_value")), name="goal_target_differs"),
        ]
        indexes = [
            models.Index(fields=["status", "due_date"]),
            models.Index(fields=["owner_user", "status"]),
            models.Index(fields=["owner_team", "status"]),
        ]

    def __str__(self):
        return self.title

    @property
    def owner(self):
        return self.owner_user or self.owner_team


class MicroGoal(ProgressFields):
    """A small target over a short window (a day to a few weeks), broken out of a hard goal for one assignee."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ACHIEVED = "achieved", "Achieved"
        MISSED = "missed", "Missed"
        CANCELLED = "cancelled", "Cancelled"

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="micro_goals")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="micro_goals")
    kpi = models.ForeignKey(Kpi, on_delete=models.PROTECT, related_name="micro_goals")  # goal's KPI or a leading one
    target_value = models.DecimalField(**VALUE)
    start_date = models.DateField()
    due_date = models.DateField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    # Cancelled because its goal was (goal_cancel), not superseded by a re-plan: part of the plan the goal had when
    # it closed, so its page still shows it.
    cancelled_with_goal = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["start_date", "assignee_id"]
        constraints = [
            models.CheckConstraint(condition=Q(start_date__lte=F("due_date")), name="micro_start_not_after_due"),
            models.CheckConstraint(condition=Q(target_value__gte=0), name="micro_target_not_negative"),
        ]
        indexes = [
            models.Index(fields=["assignee", "status", "due_date"]),
            models.Index(fields=["goal", "start_date"]),
        ]

    def __str__(self):
        return f"{self.goal}: {self.assignee} {self.start_date}–{self.due_date}"


class GoalRevision(models.Model):
    """One change of a goal's target, dates, owner or plan: who, when, why, old → new."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        EDITED = "edited", "Edited"
        REPLANNED = "replanned", "Re-planned"
        ADJUSTED = "adjusted", "Adjustment approved"
        CANCELLED = "cancelled", "Cancelled"
        CLOSED = "closed", "Closed"

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="revisions")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)
    reason = models.TextField(blank=True)
    # {"field": [old, new], ...} with values as strings (dates ISO, decimals exact, owners "user:<id>"/"team:<id>").
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["goal", "changed_at"])]

    def __str__(self):
        return f"{self.goal} {self.kind} {self.changed_at:%Y-%m-%d}"


class ProgressEntry(models.Model):
    """One logged value of a KPI by a user on a date (their local date). Never hard-deleted: voided instead."""

    class Source(models.TextChoices):
        WEB = "web", "Web"
        API = "api", "API"
        IMPORT = "import", "Import"

    # No index of its own: (user, date) below serves every "entries of this user" lookup.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="progress_entries", db_index=False
    )
    kpi = models.ForeignKey(Kpi, on_delete=models.PROTECT, related_name="entries")
    date = models.DateField(validators=[validate_pacer_date])
    value = models.DecimalField(**VALUE)
    note = models.CharField(max_length=500, blank=True)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.WEB)
    # A CRM deal id, an import row id, or the web form's one-time token: the same key counts once.
    external_id = models.CharField(max_length=200, null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    # Indexed only where set (entry_voided_by below): a full index would hold a NULL for every live entry.
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    void_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-date", "-created_at"]
        verbose_name_plural = "progress entries"
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=Q(external_id__isnull=False),
                name="entry_unique_external_id_per_source",
            ),
            models.CheckConstraint(
                condition=Q(voided_at__isnull=True) | ~Q(void_reason=""), name="entry_void_needs_reason"
            ),
        ]
        indexes = [
            # "entries of these users for this KPI in this window": the recompute's only query shape.
            models.Index(
                fields=["kpi", "user", "date"], name="entry_kpi_user_date", condition=Q(voided_at__isnull=True)
            ),
            models.Index(fields=["user", "date"]),
            # Who voided what (the PROTECT check when a user is deleted); live entries are not in it.
            models.Index(fields=["voided_by"], name="entry_voided_by", condition=Q(voided_by__isnull=False)),
        ]

    def __str__(self):
        return f"{self.user} {self.kpi} {self.date}: {self.value}"

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None


# --- what the engine reads, and its scheduling state (goals/services/rollups.py, recompute_queue.py) ------------


class ProgressDay(models.Model):
    """The ledger summarised per (user, KPI, date): what the engine aggregates instead of the entries.

    Kept in the same transaction as every record, edit and void (goals/services/rollups.py), and
    verifiable against the entries at any time (`manage.py rollups_verify`). Only non-voided entries
    count. `last_value` is the day's latest entry (latest created_at, then id: the engine's tie-break),
    with its ordering key, for "last" KPIs; all three are empty on a day whose entries are all voided.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kpi = models.ForeignKey(Kpi, on_delete=models.PROTECT, related_name="+")
    date = models.DateField()
    # A day's sum may exceed one entry's maximum: 4 more digits than VALUE.
    total = models.DecimalField(max_digits=22, decimal_places=4, default=Decimal(0))
    entry_count = models.PositiveIntegerField(default=0)
    last_value = models.DecimalField(**VALUE, null=True, blank=True)
    last_created_at = models.DateTimeField(null=True, blank=True)
    last_entry_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            # Also the engine's index: "days of these users for this KPI in this window".
            models.UniqueConstraint(fields=["kpi", "user", "date"], name="progress_day_unique_kpi_user_date"),
        ]

    def __str__(self):
        return f"{self.user_id} {self.kpi_id} {self.date}: {self.total} in {self.entry_count}"


class StaleTarget(models.Model):
    """A goal or micro goal whose figures wait for the coalesced recompute (insert-only for writers).

    Writers only INSERT (never update or lock a row), so 2,000 reps logging at once never wait on each
    other or on the recompute; duplicates are expected and collapsed by the recompute, which deletes
    exactly the rows it read once it has recomputed their targets.
    """

    class Kind(models.TextChoices):
        GOAL = "goal", "Goal"
        MICRO_GOAL = "micro", "Micro goal"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    target_id = models.BigIntegerField()
    marked_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["kind", "target_id"])]

    def __str__(self):
        return f"{self.kind} {self.target_id} stale since {self.marked_at:%H:%M:%S}"


class RecomputeFlight(models.Model):
    """The single row that makes the coalesced recompute single-flight across any number of workers.

    `lease_until`: a worker holds the flight while it is in the future (taken and renewed by a
    conditional UPDATE, so it works on PostgreSQL and SQLite alike, and a crashed worker's lease simply
    expires). `pending_since`: a recompute task is already queued (since then), so writers need not queue
    another unless it is older than the lease (lost with a purged queue or a broker outage).
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    lease_until = models.DateTimeField(null=True, blank=True)
    holder = models.CharField(max_length=100, blank=True)
    pending_since = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"recompute flight held by {self.holder or 'nobody'} until {self.lease_until}"


class ProgressEntryRevision(models.Model):
    """One correction of an entry (an edit or a void): who, when, and the value, date and note before and after.

    Written by `progress_update` and `progress_void` in the transaction that makes the change; never edited or
    deleted. A void keeps the entry's figures on both sides and carries the reason.
    """

    class Kind(models.TextChoices):
        EDITED = "edited", "Edited"
        VOIDED = "voided", "Voided"

    entry = models.ForeignKey(ProgressEntry, on_delete=models.PROTECT, related_name="revisions")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(auto_now_add=True)
    old_value = models.DecimalField(**VALUE)
    new_value = models.DecimalField(**VALUE)
    old_date = models.DateField()
    new_date = models.DateField()
    old_note = models.CharField(max_length=500, blank=True)
    new_note = models.CharField(max_length=500, blank=True)
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["changed_at", "id"]
        indexes = [models.Index(fields=["entry", "changed_at"])]

    def __str__(self):
        return f"{self.entry_id} {self.kind} {self.changed_at:%Y-%m-%d}"
