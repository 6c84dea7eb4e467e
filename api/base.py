"""What every resource shares: strict input serializers, references scoped to what the user may see, pagination and
the admin-only write permission."""

import json
from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
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


@extend_schema_field(OpenApiTypes.INT)
class VisiblePrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """An id among what the requesting user may see (or pick): `visible(user)` gives the choices, usually a selector
    (`goal_list_for_user`…). Any other id is a 400 on the field, "does not exist" (or the field's own
    `error_messages`), alike for a missing object and one that is not the user's: another team's object stays
    unknown. The serializer needs the request in its context. A `pk_field` (an IntegerField for a query parameter)
    parses and validates the id before it is looked up.

    Pass `visible=` to the field, or name a reusable field class with `VisiblePrimaryKeyRelatedField.of(visible)`:
    `VisibleGoal = VisiblePrimaryKeyRelatedField.of(lambda user: goal_list_for_user(user=user))`."""

    visible: Callable[[Any], QuerySet]

    def __init__(self, *, visible: Callable[[Any], QuerySet] | None = None, **kwargs):
        if visible is not None:
            self.visible = visible
        if not hasattr(self, "visible"):
            raise TypeError(f"{type(self).__name__} needs visible=: who may see which objects")
        super().__init__(**kwargs)

    @classmethod
    def of(cls, visible: Callable[[Any], QuerySet]) -> "type[VisiblePrimaryKeyRelatedField]":
        """A field class whose choices are `visible(user)`."""
        return type("VisiblePrimaryKeyRelatedField", (cls,), {"visible": staticmethod(visible)})

    def get_queryset(self):
        return self.visible(self.context["request"].user)

    def to_internal_value(self, data):
        if self.pk_field is not None:  # a `pk_field` parses the id first, with its validators (min_value…)
            data = self.pk_field.run_validation(data)
        return super().to_internal_value(data)


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
