"""Reads of the api app: a user's own API tokens and unconfirmed uploads (never anyone else's)."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from api.models import ApiToken, PendingImport
from teams.models import User


def api_token_list_for_user(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created")


def api_token_get_for_user(*, user: User, token_key: str) -> ApiToken:
    return get_object_or_404(ApiToken, user=user, token_key=token_key)


def pending_import_get_for_user(*, user: User, id: int) -> PendingImport:
    """One of the user's own unconfirmed uploads; anyone else's is a 404."""
    return get_object_or_404(PendingImport, user=user, id=id)
