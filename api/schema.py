"""The OpenAPI schema documents the errors the API really answers with (drf-standardized-errors' format).

Writes call services, and a service may refuse with field errors (400) or a permission error (403) whatever the
request serializer says, so every write documents both; so does a read with declared query parameters. The 400 body is the generic validation error (`attr` is
the field at fault, or "non_field_errors"): services may name a field the serializer does not declare.
"""

from drf_standardized_errors.openapi import AutoSchema
from drf_standardized_errors.openapi_serializers import ValidationErrorResponseSerializer

WRITES = ("POST", "PUT", "PATCH", "DELETE")


class PacerAutoSchema(AutoSchema):
    def _should_add_validation_error_response(self) -> bool:
        # A read that takes declared query parameters (a leaderboard's team, KPI, period) refuses bad ones with 400.
        declared = self.method == "GET" and bool(self.get_override_parameters())
        return self.method in WRITES or declared or super()._should_add_validation_error_response()

    def _should_add_http403_error_response(self) -> bool:
        return self.method in WRITES or super()._should_add_http403_error_response()

    def _get_serializer_for_validation_error_response(self):
        return ValidationErrorResponseSerializer
