from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import Holiday, Membership, Team, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (
        *BaseUserAdmin.fieldsets,
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
    # Deactivating ends memberships and is audited: it happens on Pacer's People page (teams.services).
    readonly_fields = ("is_active",)


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


class ReadOnlyMembershipMixin:
    """Memberships change only on the team pages, through teams.services: the rules (who may change whose
    membership, no overlapping rep memberships) and the audit log apply there. Here they are read-only."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MembershipInline(ReadOnlyMembershipMixin, admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "parent", "working_weekdays")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (HolidayInline, MembershipInline)


@admin.register(Membership)
class MembershipAdmin(ReadOnlyMembershipMixin, admin.ModelAdmin):
    list_display = ("user", "team", "role", "capacity", "active_from", "active_to")
    list_filter = ("role", "team")
    search_fields = ("user__username", "user__first_name", "user__last_name", "team__name")
