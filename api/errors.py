"""One error format for the whole API (drf-standardized-errors), with the services' own messages kept.

A service raises Django's ValidationError (with field errors where it knows the field) and PermissionDenied (with
a message that says who may do it); here they become a 400 with field errors and a 403 with that message.
"""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_standardized_errors.handler import ExceptionHandler
from rest_framework import exceptions, serializers, status


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This request conflicts with an earlier one."
    default_code = "conflict"


class ServiceAwareExceptionHandler(ExceptionHandler):
    def convert_known_exceptions(self, exc):
        if isinstance(exc, DjangoValidationError):
            if hasattr(exc, "error_dict"):
                return exceptions.ValidationError(
                    {("non_field_errors" if f == "__all__" else f): m for f, m in exc.message_dict.items()}
                )
            return exceptions.ValidationError({"non_field_errors": exc.messages})
        if isinstance(exc, PermissionDenied) and exc.args:
            return exceptions.PermissionDenied(str(exc))
        return super().convert_known_exceptions(exc)


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class ConflictResponseSerializer(serializers.Serializer):
    """409: the request conflicts with an earlier one: an Idempotency-Key reused with another body, an adjustment
    request that is no longer pending, an action item already completed (documented in the schema where it
    happens)."""

    type = serializers.ChoiceField(choices=["client_error"])
    # A field named like Serializer.errors: only ever used to document the response.
    errors = ErrorSerializer(many=True)  # type: ignore[assignment]
