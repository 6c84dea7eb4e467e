"""A refusal because of an object's state, not the request's input (services.CONFLICT: an adjustment request already
decided or withdrawn, another one pending, an action item already completed) is a 409 over HTTP: the client should
read the object again rather than retry. The services' other refusals stay 400s."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiResponse

from api.errors import Conflict, ConflictResponseSerializer

from .. import services


def conflicts_as_409(call):
    """call(), with the service's refusals of code "conflict" raised as a 409 carrying the service's message."""
    try:
        return call()
    except ValidationError as error:
        if getattr(error, "code", None) == services.CONFLICT:
            raise Conflict(" ".join(error.messages)) from error
        raise


def conflict_response(description: str) -> OpenApiResponse:
    """The 409 of an action, for its extend_schema(responses=…)."""
    return OpenApiResponse(ConflictResponseSerializer, description=description)
