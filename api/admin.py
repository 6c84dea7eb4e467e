"""API tokens in the Django admin: read-only (a token is created by its owner, shown once, on the settings page);
an admin may revoke one (delete), e.g. for a leaked token. Idempotency keys are not shown (internal)."""

from django.contrib import admin
from knox.models import AuthToken

from api.models import ApiToken

if admin.site.is_registered(AuthToken):  # knox's own admin would create tokens for anyone, bypassing the page
    admin.site.unregister(AuthToken)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "token_key", "created", "expiry", "last_used_at"]
    search_fields = ["name", "user__username", "token_key"]
    readonly_fields = ["name", "user", "token_key", "created", "expiry", "last_used_at"]
    exclude = ["digest"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
