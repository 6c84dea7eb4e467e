"""What every resource shares: strict input serializers, pagination and the admin-only write permission."""

import json

from drf_spectacular.utils import extend_schema_field
from rest_framework import pagination, permissions, renderers, serializers
from rest_framework.settings import api_settings


class StrictSerializer(serializers.Serializer):
    """An input serializer that refuses what it does not accept: an unknown key, or a field that is read-only
    (owner, status, figures, is_staff, created_by…), is a 400 naming it, never dropped or applied."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            writable = {name for name, f in self.fields.items() if not f.read_only}
            unknown = sorted(str(key) for key in data if key not in writable)
            if unknown:  # reported as non-field errors: the schema documents one `attr` per accepted field only
                accepted = ", ".join(sorted(writable)) or "none"
                raise serializers.ValidationError(
                    {
                        api_settings.NON_FIELD_ERRORS_KEY: [
                            f"“{key}” cannot be set here (accepted: {accepted})." for key in unknown
                        ]
                    }
                )
        return super().to_internal_value(data)

    @classmethod
    def validate_input(cls, data, **kwargs) -> dict:
        """The validated data, or a 400 with field errors."""
        serializer = cls(data=data, **kwargs)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


@extend_schema_field({"type": "string", "format": "decimal", "example": "1250.50"})
class DecimalText(serializers.CharField):
    """A number, as a string (or a JSON number), passed to the service as given: the service checks it against
    the KPI (decimals, sign, size), so its messages quote the value the client sent."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 40)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


class PagePagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


class LedgerPagination(pagination.CursorPagination):
    """The ledger grows by thousands of rows a day: cursors stay stable and cheap where page numbers drift."""

    ordering = ("-date", "-id")
    page_size_query_param = "page_size"
    max_page_size = 500


class AdminWritesOnly(permissions.BasePermission):
    """Everyone signed in may read (scoped by the selectors); only admins may write."""

    message = "Only an admin can change this."

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False  # a 401: DRF answers NotAuthenticated when no credentials were given
        return request.method in permissions.SAFE_METHODS or user.is_staff


class CsvRenderer(renderers.BaseRenderer):
    """Lets a client ask for text/csv on the export endpoints (their CSV is streamed by the view; an error, a
    dict, is rendered as JSON text)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return json.dumps(data).encode() if data is not None else b""
