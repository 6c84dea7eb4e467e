"""With a shared cache (production's CACHE_URL), an event nobody subscribes to costs no query: the cache holds a
version of the subscriptions that every endpoint change replaces, inside its transaction and again after its commit
(webhooks/services.py). A new, changed, disabled or deleted subscription is seen by the very next event; without a
shared cache every event reads the endpoints (test_webhooks.py pins that query)."""

import uuid

import pytest
from django.core.exceptions import PermissionDenied
from django.test import override_settings
from django.urls import reverse

from webhooks import services
from webhooks.models import Event, WebhookEndpoint

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def shared_cache(monkeypatch):
    """A cache of its own (a fresh locmem: one process here, as one shared cache for all in production), and no
    subscriptions remembered by this process from an earlier test."""
    monkeypatch.setattr(services, "_seen", ("", frozenset()))
    own = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"webhooks-{uuid.uuid4()}"}
    with override_settings(CACHES={"default": own}, WEBHOOK_SUBSCRIPTIONS_CACHED=True):
        yield


def _entry_recorded():
    return services.webhook_emit(event=Event.ENTRY_RECORDED, data={"entries": []})


def _create(admin, events=(Event.ENTRY_RECORDED,)):
    endpoint, _ = services.webhook_endpoint_create(
        name="CRM", url="https://crm.example/hook", events=list(events), created_by=admin
    )
    return endpoint


def _update(endpoint, admin, **changes):
    fields = {"name": endpoint.name, "url": endpoint.url, "events": endpoint.events, "is_active": endpoint.is_active,
              "payload_format": endpoint.payload_format, **changes}  # fmt: skip
    return services.webhook_endpoint_update(endpoint=endpoint, **fields, changed_by=admin)


def test_without_subscribers_emitting_costs_no_query(world, django_assert_num_queries):
    _entry_recorded()  # the first event of this process reads the endpoints once
    with django_assert_num_queries(0):
        assert _entry_recorded() == []
        assert services.entries_recorded_emit(entries=[world.a.entry]) == 0
        assert services.goal_events_emit(goal_ids=[world.a.team_goal.id]) == 0
    _create(world.admin, events=[Event.GOAL_CLOSED])
    with django_assert_num_queries(1):  # another event's endpoint: read once, then remembered again
        assert _entry_recorded() == []
    with django_assert_num_queries(0):
        assert _entry_recorded() == []


def test_a_new_subscription_is_seen_at_once_and_a_changed_or_deleted_one_stops_at_once(world):
    assert _entry_recorded() == []
    endpoint = _create(world.admin)
    assert [d.endpoint_id for d in _entry_recorded()] == [endpoint.id]
    endpoint = _update(endpoint, world.admin, events=[Event.GOAL_CLOSED])
    assert _entry_recorded() == []
    endpoint = _update(endpoint, world.admin, events=[Event.ENTRY_RECORDED])
    assert len(_entry_recorded()) == 1
    endpoint = _update(endpoint, world.admin, is_active=False)
    assert _entry_recorded() == []
    endpoint = _update(endpoint, world.admin, is_active=True)
    assert len(_entry_recorded()) == 1
    assert services.webhook_endpoint_delete(endpoints=[endpoint], deleted_by=world.admin) == 1
    assert _entry_recorded() == [] and not WebhookEndpoint.objects.exists()


def test_what_another_process_read_before_the_commit_is_not_kept(world, django_capture_on_commit_callbacks):
    """Another process may read the endpoints after the change's first new version but before its commit (it sees
    no subscriber yet): the version replaced after the commit makes it read them again."""
    assert _entry_recorded() == []
    with django_capture_on_commit_callbacks(execute=True):
        endpoint = _create(world.admin)
        before_commit = services.cache.get(services.SUBSCRIPTIONS_VERSION_KEY)
        services._seen = (before_commit, frozenset())  # that process's reading: this version, no subscriber
    assert [d.endpoint_id for d in _entry_recorded()] == [endpoint.id]


def test_admins_delete_endpoints_from_the_admin_through_the_service(world, client):
    """(The admin deletes only endpoints without deliveries: deliveries are history it may not delete.)"""
    endpoint = _create(world.admin)
    assert Event.ENTRY_RECORDED in services._subscribed_events()
    client.force_login(world.admin)
    page = client.post(reverse("admin:webhooks_webhookendpoint_delete", args=[endpoint.id]), {"post": "yes"})
    assert page.status_code == 302 and not WebhookEndpoint.objects.exists()
    assert Event.ENTRY_RECORDED not in services._subscribed_events()
    second = _create(world.admin)
    assert Event.ENTRY_RECORDED in services._subscribed_events()
    changelist = reverse("admin:webhooks_webhookendpoint_changelist")
    client.post(changelist, {"action": "delete_selected", "_selected_action": [second.id], "post": "yes"})
    assert not WebhookEndpoint.objects.exists() and _entry_recorded() == []
    with pytest.raises(PermissionDenied):
        services.webhook_endpoint_delete(endpoints=[_create(world.admin)], deleted_by=world.manager_a)
