"""Admin for the feedback app: look, never rewrite. Feedback, check-ins, action items and adjustment requests are
written by feedback/services.py (edit window, one check-in per week, the request state machine, notifications);
here every model is read-only and nothing is ever deleted."""

from django.contrib import admin

from goals.admin import ReadOnlyMixin

from .models import ActionItem, AdjustmentRequest, CheckIn, CheckInReply, Feedback


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    pass


class ReadOnlyInline(ReadOnlyMixin, admin.TabularInline):
    extra = 0


@admin.register(Feedback)
class FeedbackAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "author", "recipient", "visibility", "goal")
    list_filter = ("kind", "visibility")
    search_fields = ("body", "author__username", "recipient__username")
    list_select_related = ("author", "recipient", "goal")
    date_hierarchy = "created_at"


class CheckInReplyInline(ReadOnlyInline):
    model = CheckInReply
    fields = ("created_at", "author", "body")
    readonly_fields = fields


@admin.register(CheckIn)
class CheckInAdmin(ReadOnlyAdmin):
    list_display = ("week_start", "rep", "goal", "confidence")
    list_filter = ("confidence",)
    search_fields = ("rep__username", "goal__title")
    list_select_related = ("rep", "goal")
    inlines = [CheckInReplyInline]


@admin.register(ActionItem)
class ActionItemAdmin(ReadOnlyAdmin):
    list_display = ("title", "goal", "owner", "due_date", "done_at")
    list_filter = ("done_at",)
    search_fields = ("title", "owner__username", "goal__title")
    list_select_related = ("goal", "owner")


@admin.register(AdjustmentRequest)
class AdjustmentRequestAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "goal",
        "requested_by",
        "proposed_target",
        "proposed_due_date",
        "status",
        "decided_by",
    )
    list_filter = ("status",)
    search_fields = ("goal__title", "requested_by__username", "reason")
    list_select_related = ("goal", "requested_by", "decided_by")
