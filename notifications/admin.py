from django.contrib import admin, messages

from .models import Notification
from .services import notification_emails_requeue


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("title", "user", "kind", "created_at", "read_at", "email_status", "email_attempts")
    list_filter = ("kind", "email_status", ("read_at", admin.EmptyFieldListFilter))
    search_fields = ("title", "key", "user__username", "user__email")
    raw_id_fields = ("user",)
    date_hierarchy = "created_at"
    list_select_related = ("user",)
    readonly_fields = ("created_at", "emailed_at", "email_status", "email_error", "email_attempts")
    actions = ("queue_email_again",)

    @admin.action(description="Queue the email again (failed or stuck ones)")
    def queue_email_again(self, request, queryset):
        count = notification_emails_requeue(notification_ids=list(queryset.values_list("id", flat=True)))
        self.message_user(request, f"Queued {count} email(s) again.", messages.SUCCESS)
