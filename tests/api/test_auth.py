"""API authentication: personal tokens (hashed, shown once, optional expiry, revocable on the settings page), the
browser session with CSRF enforced, and throttling per token."""

import datetime
import uuid

import pytest
from django.conf import settings
from django.core.cache import cache, caches
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from api.auth import PerTokenThrottle
from api.models import ApiToken
from api.services import api_token_create
from tests.test_config import _settings_subprocess

pytestmark = pytest.mark.django_db
ME = "/api/v1/me/"


def _with_token(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_the_settings_page_shows_a_new_token_once_and_stores_only_its_hash(client, rep_a):
    client.force_login(rep_a)
    page = client.post(reverse("api_tokens"), {"name": "HubSpot sync", "expires_in_days": "30"})
    token = page.context["created"]
    assert token.startswith("pacer_") and token in page.content.decode()
    stored = ApiToken.objects.get(user=rep_a)
    assert stored.name == "HubSpot sync" and token not in (stored.digest, stored.token_key)
    assert stored.expiry.date() == (timezone.now() + datetime.timedelta(days=30)).date()
    assert token not in client.get(reverse("api_tokens")).content.decode()  # never shown again
    assert _with_token(token).get(ME).json()["username"] == rep_a.username


def test_a_revoked_token_is_refused(client, rep_a):
    stored, token = api_token_create(user=rep_a, name="old")
    client.force_login(rep_a)
    client.post(reverse("api_token_revoke", args=[stored.token_key]))
    assert _with_token(token).get(ME).status_code == 401


def test_nobody_revokes_another_users_token(client, rep_a, rep_b):
    stored, token = api_token_create(user=rep_a, name="mine")
    client.force_login(rep_b)
    assert client.post(reverse("api_token_revoke", args=[stored.token_key])).status_code == 404
    assert _with_token(token).get(ME).status_code == 200


def test_an_expired_token_is_refused(rep_a):
    stored, token = api_token_create(user=rep_a, name="short", expires_in_days=1)
    ApiToken.objects.filter(pk=stored.pk).update(expiry=timezone.now() - datetime.timedelta(seconds=1))
    assert _with_token(token).get(ME).status_code == 401


def test_token_names_are_required_and_unique_per_user(client, rep_a):
    client.force_login(rep_a)
    client.post(reverse("api_tokens"), {"name": "CRM"})
    page = client.post(reverse("api_tokens"), {"name": "crm"})
    assert "already have a token named" in page.content.decode()
    assert ApiToken.objects.filter(user=rep_a).count() == 1


def test_the_browser_session_needs_the_csrf_token_to_write(world):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.rep_a)
    body = {"kpi": world.kpi.id, "date": str(world.today), "value": "1"}
    assert client.get(ME).status_code == 200
    refused = client.post("/api/v1/progress-entries/", body, format="json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["errors"][0]["detail"]


def test_each_token_has_its_own_throttle(rep_a, monkeypatch):
    monkeypatch.setattr(PerTokenThrottle, "THROTTLE_RATES", {"token": "3/min"})  # read once, at import, by DRF
    cache.clear()
    first, second = (_with_token(api_token_create(user=rep_a, name=n)[1]) for n in ("one", "two"))
    assert [first.get(ME).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert second.get(ME).status_code == 200
    cache.clear()


def test_a_redis_cache_url_gets_the_redis_backend_that_keeps_its_clients():
    code = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    for url, backend in (
        ("redis://cache.example:6379/1", "config.cache.RedisCache"),
        ("locmemcache://", "django.core.cache.backends.locmem.LocMemCache"),
    ):
        result = _settings_subprocess({"DEBUG": "1", "CACHE_URL": url}, code)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == backend


@pytest.mark.redis
def test_each_token_has_its_own_throttle_in_redis_over_one_client(rep_a, monkeypatch):
    """Production counts in Redis (CACHE_URL): the same budget per token as above, through config.cache's backend,
    which builds one redis-py client for its pool instead of one per call."""
    monkeypatch.setattr(PerTokenThrottle, "THROTTLE_RATES", {"token": "3/min"})
    redis = {"BACKEND": "config.cache.RedisCache", "LOCATION": settings.CELERY_BROKER_URL}
    # A fresh key prefix: no clear() (it would empty the broker's Redis database); the counters expire in a minute.
    with override_settings(CACHES={"default": {**redis, "KEY_PREFIX": f"test-{uuid.uuid4()}"}}):
        first, second = (_with_token(api_token_create(user=rep_a, name=n)[1]) for n in ("one", "two"))
        assert [first.get(ME).status_code for _ in range(4)] == [200, 200, 200, 429]
        assert second.get(ME).status_code == 200
        backend = caches["default"]._cache
        assert backend.get_client() is backend.get_client(write=True)  # one server: one pool, one client
        assert len(backend._clients) == 1


def test_anonymous_requests_are_401_with_a_token_challenge(api_client):
    response = api_client.get(ME)
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"


def test_the_docs_are_served_offline_without_inline_script_or_style(client):
    for path in ("/api/docs/", "/api/redoc/"):
        page = client.get(path).content.decode()
        assert "/static/drf_spectacular_sidecar/" in page, path
        assert "http" not in page.replace(f"http://testserver{path}", ""), path  # no CDN, no web fonts
        assert "<script>" not in page and "<style" not in page and "style=" not in page, path
    init = client.get("/api/docs/?script")
    assert init.status_code == 200 and "SwaggerUIBundle" in init.content.decode()
    assert client.get("/api/schema/").status_code == 200
