"""Personal API tokens and per-token throttling."""

import datetime

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication
from knox.signals import token_expired
from rest_framework.throttling import SimpleRateThrottle

from api.models import ApiToken

# "Last used" is written at most once a minute per token: a busy integration must not write on every call.
LAST_USED_GRANULARITY = datetime.timedelta(minutes=1)


class ApiTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <token>`; knox compares hashes (the token itself is never stored). One query per call
    (the token with its user), plus the "last used" write at most once a minute."""

    def _cleanup_token(self, auth_token) -> bool:
        """Refuse (and delete) this token once expired. knox also reads ALL the owner's other tokens on every call to
        delete the expired ones: a query per request on the API's hot path, so the daily purge does that instead
        (api.services.api_tokens_expired_purge); an expired token is refused here either way."""
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            username = auth_token.user.get_username()
            auth_token.delete()
            token_expired.send(sender=self.__class__, username=username, source="auth_token")
            return True
        return False

    def validate_user(self, auth_token):
        user, token = super().validate_user(auth_token)
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_GRANULARITY:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return user, token


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A personal API token from Settings → API tokens, sent as `Token <token>`.",
        }


class PerTokenThrottle(SimpleRateThrottle):
    """One budget per API token (each integration its own), and one per user for the browser session."""

    scope = "token"

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None  # AnonRateThrottle counts those
        ident = f"t:{request.auth.pk}" if isinstance(request.auth, ApiToken) else f"u:{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
