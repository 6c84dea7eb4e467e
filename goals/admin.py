"""Admin for the goals app: a window onto everything, never a back door. KPIs, goals, micro goals and entries
are created and changed in the app, through the services (name and currency checks, revisions, cycle checks,
void reasons, recomputes); here they are read-only, and nothing that the app keeps as history can be deleted."""

from django.contrib import admin

from teams.admin import ReadOnlyAdminMixin as ReadOnlyMixin

from .models import Goal, GoalRevision, Kpi, MicroGoal, ProgressEntry
from .services.engine import FIGURE_FIELDS

DERIVED = (*FIGURE_FIELDS, "computed_at")  # the engine's: never typed in


@admin.register(Kpi)
class KpiAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """KPIs are configured on the app's KPI pages (kpi_create / kpi_update check names and currency codes)."""

    list_display = ("name", "unit", "decimal_places", "aggregation", "direction", "is_active")
    list_filter = ("is_active", "unit", "aggregation", "direction")
    search_fields = ("name",)


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
        # The parent goal too: goal_update checks cycles and cancelled parents. Title and description stay editable.
        "parent",
        *DERIVED,
    )

    def has_add_permission(self, request):
        return False  # set goals in the app: it assesses achievability and records the revision

    def has_delete_permission(self, request, obj=None):
        return False  # deleting would cascade the revision history away: cancel the goal in the app instead


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
