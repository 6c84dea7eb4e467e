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
    list_display = ("username", "email", "first_name", "last_name", "timezone", "is_staff")


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "parent", "working_weekdays")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (HolidayInline, MembershipInline)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "team", "role", "capacity", "active_from", "active_to")
    list_filter = ("role", "team")
    search_fields = ("user__username", "user__first_name", "user__last_name", "team__name")
