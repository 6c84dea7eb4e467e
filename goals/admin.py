"""Admin for the goals app. Goals, micro goals and entries are changed in the app (through the services, which
keep revisions, void reasons and recomputes); here admins configure KPIs and can look at everything."""

from django.contrib import admin

from .models import Goal, GoalRevision, Kpi, MicroGoal, ProgressEntry

DERIVED = (
    "current_value",
    "expected_value",
    "forecast_value",
    "forecast_low",
    "forecast_high",
    "chance_pct",
    "health",
    "computed_at",
)


class ReadOnlyMixin:
    """View only: no add, change or delete (the history tables are written by the services alone)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Kpi)
class KpiAdmin(admin.ModelAdmin):
    list_display = ("name", "unit", "decimal_places", "aggregation", "direction", "is_active")
    list_filter = ("is_active", "unit", "aggregation", "direction")
    search_fields = ("name",)

    def get_readonly_fields(self, request, obj=None):
        # These shape every stored number: frozen once progress exists (as kpi_update enforces).
        if obj is not None and obj.entries.exists():
            return ("aggregation", "decimal_places", "direction", "created_at")
        return ("created_at",)

    def has_delete_permission(self, request, obj=None):
        return False  # retire a KPI (is_active) instead: goals and entries refer to it


class GoalRevisionInline(ReadOnlyMixin, admin.TabularInline):
    model = GoalRevision
    fields = ("changed_at", "kind", "changed_by", "reason", "changes")
    readonly_fields = fields
    extra = 0


class MicroGoalInline(ReadOnlyMixin, admin.TabularInline):
    model = MicroGoal
    fields = ("assignee", "kpi", "start_date", "due_date", "target_value", "current_value", "health", "status")
    readonly_fields = fields
    extra = 0


@admin.register(Goal)
class GoalAdmin(admin.ModelAdmin):
    list_display = ("title", "kpi", "owner", "target_value", "current_value", "health", "status", "due_date")
    list_filter = ("status", "health", "achievability", "kpi")
    search_fields = ("title", "owner_user__username", "owner_user__last_name", "owner_team__name")
    date_hierarchy = "due_date"
    list_select_related = ("kpi", "owner_user", "owner_team")
    inlines = (MicroGoalInline, GoalRevisionInline)
    # Target, dates and owner change through goal_update, which keeps the revision history.
    readonly_fields = (
        "kpi",
        "target_value",
        "baseline_value",
        "start_date",
        "due_date",
        "owner_user",
        "owner_team",
        "status",
        "achievability",
        "required_daily_rate",
        "historical_daily_rate",
        "created_by",
        "created_at",
        "updated_at",
        "closed_at",
        *DERIVED,
    )
    raw_id_fields = ("parent",)

    def has_add_permission(self, request):
        return False  # set goals in the app: it assesses achievability and records the revision


@admin.register(MicroGoal)
class MicroGoalAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("goal", "assignee", "kpi", "start_date", "due_date", "target_value", "current_value", "status")
    list_filter = ("status", "health", "kpi")
    search_fields = ("goal__title", "assignee__username", "assignee__last_name")
    list_select_related = ("goal", "assignee", "kpi")
    date_hierarchy = "start_date"


@admin.register(ProgressEntry)
class ProgressEntryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Entries are logged through the app or the API (validation, dedupe, recompute), corrected and voided there
    (so goals are recomputed), and never hard-deleted: a mistake is voided, with a reason."""

    list_display = ("date", "user", "kpi", "value", "source", "external_id", "voided_at")
    list_filter = ("source", "kpi", ("voided_at", admin.EmptyFieldListFilter))
    search_fields = ("user__username", "user__last_name", "external_id", "note")
    list_select_related = ("user", "kpi")
    date_hierarchy = "date"


@admin.register(GoalRevision)
class GoalRevisionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("goal", "kind", "changed_by", "changed_at", "reason")
    list_filter = ("kind",)
    search_fields = ("goal__title", "reason")
    list_select_related = ("goal", "changed_by")
