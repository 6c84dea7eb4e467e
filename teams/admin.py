"""Admin for teams and people. Memberships are history (they decide whose entries count for which team), so
they change only in the app, through the services that enforce who may add, move or remove whom; here they are
read-only. Nothing that the app keeps as history can be deleted here."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import AuditEvent, Holiday, Membership, Team, User


class ReadOnlyAdminMixin:
    """View only: no add, change or delete (these rows are written by the services alone)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Deactivating someone ends their memberships too, so it happens in the app; nobody is deleted (their entries,
    goals and audit trail refer to them)."""

    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        (
            "Pacer",
            {
                "fields": (
                    "timezone",
                    "reminder_hour",
                    "notification_prefs",
                    "quiet_hours_start",
                    "quiet_hours_end",
                )
            },
        ),
    )
    list_display = ("username", "email", "first_name", "last_name", "timezone", "is_staff", "is_active")

    def get_readonly_fields(self, request, obj=None):
        return ("is_active", "last_login", "date_joined") if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return False


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


class MembershipInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Membership
    fields = ("user", "role", "capacity", "active_from", "active_to")
    readonly_fields = fields
    extra = 0


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "parent", "working_weekdays")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (HolidayInline, MembershipInline)

    def has_delete_permission(self, request, obj=None):
        return False  # a team's goals and memberships are history


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("user", "team", "role", "capacity", "active_from", "active_to")
    list_filter = ("role", "team")
    search_fields = ("user__username", "user__first_name", "user__last_name", "team__name")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "kind", "actor", "subject_user", "summary", "ip")
    list_filter = ("kind",)
    search_fields = ("summary", "actor__username", "subject_user__username")
    list_select_related = ("actor", "subject_user")
    date_hierarchy = "at"
