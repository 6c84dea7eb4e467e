"""Admin-only pages for webhooks: register endpoints (the secret is shown once), see every delivery with its
status, response code, attempts and last error, and re-send deliveries. Every change goes through the services."""

from django import forms
from django.contrib import admin, messages

from webhooks import services
from webhooks.models import Event, WebhookDelivery, WebhookEndpoint


class EndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(choices=Event.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "events", "payload_format", "is_active"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    list_display = ["name", "url", "payload_format", "is_active", "created_at"]
    list_filter = ["is_active", "payload_format"]
    actions = ["rotate_secret"]

    def save_model(self, request, obj, form, change):
        fields = {k: form.cleaned_data[k] for k in ("name", "url", "events", "payload_format", "is_active")}
        if change:
            services.webhook_endpoint_update(endpoint=obj, **fields, changed_by=request.user)
            return
        endpoint, secret = services.webhook_endpoint_create(**fields, created_by=request.user)
        obj.pk = endpoint.pk
        self.message_user(
            request,
            f"Signing secret for “{endpoint}” (shown once; the receiver verifies Pacer-Signature with it): {secret}",
            messages.WARNING,
        )

    def delete_model(self, request, obj):
        services.webhook_endpoint_delete(endpoints=[obj], deleted_by=request.user)

    def delete_queryset(self, request, queryset):
        services.webhook_endpoint_delete(endpoints=queryset, deleted_by=request.user)

    @admin.action(description="Rotate the signing secret (shown once)")
    def rotate_secret(self, request, queryset):
        for endpoint in queryset:
            secret = services.webhook_secret_rotate(endpoint=endpoint, rotated_by=request.user)
            self.message_user(request, f"New signing secret for “{endpoint}” (shown once): {secret}", messages.WARNING)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "event", "endpoint", "status", "attempts", "response_code", "created_at", "last_attempt_at"]
    list_filter = ["status", "event", "endpoint"]
    list_select_related = ["endpoint"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    actions = ["resend"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Re-send the selected deliveries", permissions=["view"])
    def resend(self, request, queryset):
        count = services.webhook_deliveries_resend(deliveries=queryset, resent_by=request.user)
        self.message_user(request, f"{count} deliveries queued again.", messages.SUCCESS)
