"""Admin for the rewards app: look, never change behind the services' back. Tiers are configured in the app's own
pages (rewards/views.py), which validate them and keep awarded tiers from being deleted; awards change only through
the services (grant, flag, approve, pay), so here everything is read-only and nothing can be deleted."""

from django.contrib import admin

from goals.admin import ReadOnlyMixin

from .models import Award, RewardPreference, RewardTier


@admin.register(RewardTier)
class RewardTierAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("name", "applies_to", "threshold_percent", "streak_days", "reward_kind", "is_active")
    list_filter = ("applies_to", "reward_kind", "is_active")
    search_fields = ("name",)


@admin.register(Award)
class AwardAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("tier", "user", "status", "attainment", "points", "amount", "granted_at")
    list_filter = ("status", "tier")
    search_fields = ("user__username", "user__first_name", "user__last_name", "tier__name")
    list_select_related = ("tier", "user")
    date_hierarchy = "granted_at"


@admin.register(RewardPreference)
class RewardPreferenceAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("user", "hide_name_from_peers", "updated_at")
