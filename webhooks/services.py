"""Writes of the webhooks app: endpoints (create, rotate the secret), events (emit), deliveries (attempt, re-send).

An event becomes one WebhookDelivery per active endpoint that subscribes to it, written in the caller's
transaction and handed to Celery after commit: a rolled-back change announces nothing. Deliveries are retried with
backoff by webhooks.tasks; each attempt is recorded (status, response code, attempts, last error).
"""

import json
import logging
import secrets
import uuid
from collections.abc import Iterable
from typing import Any

import requests
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.urls import reverse
from django.utils import timezone

from goals.models import Goal, ProgressEntry
from rewards.models import Award, RewardPreference
from teams.models import User
from webhooks import signing
from webhooks.models import Event, GoalEventState, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)
ENTRIES_PER_DELIVERY = 500
TIMEOUT = (3, 10)  # seconds to connect, to read: a slow receiver must not hold a worker
CLOSED = (Goal.Status.ACHIEVED, Goal.Status.MISSED)


class Outcome:
    DELIVERED, RETRY, FAILED, SKIPPED = "delivered", "retry", "failed", "skipped"


# --- endpoints ----------------------------------------------------------------------------------------------------


def _clean_endpoint(*, name: str, url: str, events: Iterable[str], payload_format: str) -> dict:
    errors = {}
    name, url, events = (name or "").strip(), (url or "").strip(), list(dict.fromkeys(events or ()))
    if not name:
        errors["name"] = "Name the endpoint (for example “Sales Slack channel”)."
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        errors["url"] = f"“{url}” is not an http(s) URL."
    unknown = [e for e in events if e not in Event.values]
    if not events or unknown:
        errors["events"] = f"Choose events among: {', '.join(Event.values)}."
    if payload_format not in WebhookEndpoint.Format.values:
        errors["payload_format"] = f"Choose a format: {', '.join(WebhookEndpoint.Format.values)}."
    if errors:
        raise ValidationError(errors)
    return {"name": name, "url": url, "events": events, "payload_format": payload_format}


@transaction.atomic
def webhook_endpoint_create(
    *,
    name: str,
    url: str,
    events: Iterable[str],
    payload_format: str = "pacer",
    is_active: bool = True,
    created_by: User,
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint (admins only). Returns it and its signing secret, to show once."""
    _require_admin(created_by)
    fields = _clean_endpoint(name=name, url=url, events=events, payload_format=payload_format)
    endpoint = WebhookEndpoint.objects.create(
        **fields, is_active=is_active, secret=secrets.token_hex(32), created_by=created_by
    )
    _subscriptions_changed()
    return endpoint, endpoint.secret


@transaction.atomic
def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    name: str,
    url: str,
    events: Iterable[str],
    payload_format: str,
    is_active: bool,
    changed_by: User,
) -> WebhookEndpoint:
    _require_admin(changed_by)
    fields = _clean_endpoint(name=name, url=url, events=events, payload_format=payload_format)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(**fields, is_active=is_active)
    _subscriptions_changed()
    endpoint.refresh_from_db()
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, endpoints: Iterable[WebhookEndpoint], deleted_by: User) -> int:
    """Delete endpoints (admins only; from the admin page), their deliveries with them. Returns how many."""
    _require_admin(deleted_by)
    deleted = (
        WebhookEndpoint.objects.filter(pk__in=[e.pk for e in endpoints]).delete()[1].get(WebhookEndpoint._meta.label, 0)
    )
    _subscriptions_changed()
    return deleted


@transaction.atomic
def webhook_secret_rotate(*, endpoint: WebhookEndpoint, rotated_by: User) -> str:
    """A new signing secret (the old one stops working at once). Returns it, to show once."""
    _require_admin(rotated_by)
    secret = secrets.token_hex(32)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(secret=secret)
    return secret


def _require_admin(user: User) -> None:
    if not user.is_staff:
        raise PermissionDenied("Only an admin can configure webhooks.")


# --- events -------------------------------------------------------------------------------------------------------


# Which events any active endpoint subscribes to, asked on every API write: with a shared cache (CACHE_URL), ONE
# small cache read instead of a query. The cache holds only a version of the subscriptions, which every change of
# an endpoint replaces (_subscriptions_changed, in the services above); each process keeps the events it read for
# the version it saw. A reader takes the version BEFORE reading the endpoints, and a change replaces it AFTER its
# commit, so a reader that saw the old endpoints holds them under the old version only: a new subscription is seen
# by the next event, in every process. A per-process cache (locmem, the embedded default) or none (dummy) cannot
# carry another process's change: then every event reads the endpoints, as before (settings.WEBHOOK_SUBSCRIPTIONS_CACHED).
SUBSCRIPTIONS_VERSION_KEY = "webhooks:subscriptions-version"
_seen: tuple[str, frozenset[str]] = ("", frozenset())  # (version, the events subscribed to at that version)


def _subscribed_events_read() -> frozenset[str]:
    events: set[str] = set()
    for subscribed in WebhookEndpoint.objects.filter(is_active=True).values_list("events", flat=True):
        events.update(subscribed)
    return frozenset(events)


def _subscribed_events() -> frozenset[str]:
    """The events at least one active endpoint subscribes to."""
    global _seen
    if not settings.WEBHOOK_SUBSCRIPTIONS_CACHED:
        return _subscribed_events_read()
    version = cache.get(SUBSCRIPTIONS_VERSION_KEY)
    if version is None:  # never set, or evicted: start a version (the first writer wins, every reader uses it)
        cache.add(SUBSCRIPTIONS_VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(SUBSCRIPTIONS_VERSION_KEY)
    seen_version, events = _seen
    if version != seen_version or version is None:
        events = _subscribed_events_read()
        _seen = (version, events)
    return events


def _subscriptions_changed() -> None:
    """Inside the changing transaction, a new version at once (this transaction's own events see the change); after
    its commit, a new one again, so what another process read meanwhile (the endpoints before the commit) is not kept."""

    def bump():
        cache.set(SUBSCRIPTIONS_VERSION_KEY, uuid.uuid4().hex, timeout=None)

    bump()
    transaction.on_commit(bump)


def _subscribers(event: str) -> list[WebhookEndpoint]:
    """The active endpoints subscribed to `event`, from the database; with a shared cache, only when some endpoint
    subscribes to it (else no query at all)."""
    if settings.WEBHOOK_SUBSCRIPTIONS_CACHED and event not in _subscribed_events():
        return []
    return [e for e in WebhookEndpoint.objects.filter(is_active=True) if event in e.events]


def webhook_emit(*, event: str, data: dict, text: str = "") -> list[WebhookDelivery]:
    """Announce `event` with `data` (JSON-safe) to every active endpoint that subscribes to it. `text` is the
    one-line message Slack-format endpoints receive. Runs in the caller's transaction (one bulk insert), so a
    rolled-back change announces nothing. Queries: 1 without subscribers (none with a shared cache), else 2."""
    if event not in Event.values:
        raise ValueError(f"Unknown webhook event {event!r}")
    endpoints = _subscribers(event)
    if not endpoints:
        return []
    event_id, now = uuid.uuid4(), timezone.now()
    envelope = {"id": str(event_id), "event": event, "created_at": now.isoformat(), "data": data}
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            endpoint=endpoint,
            event=event,
            event_id=event_id,
            payload={"text": text or event} if endpoint.payload_format == WebhookEndpoint.Format.SLACK else envelope,
        )
        for endpoint in endpoints
    )
    _enqueue([d.id for d in deliveries])
    return deliveries


def _entry_data(entry: ProgressEntry) -> dict:
    return {
        "id": entry.id,
        "user": {"id": entry.user_id, "username": entry.user.username},
        "kpi": {"id": entry.kpi_id, "name": entry.kpi.name},
        "date": entry.date.isoformat(),
        "value": str(entry.value),
        "note": entry.note,
        "source": entry.source,
        "external_id": entry.external_id,
    }


def entries_recorded_emit(*, entries: list[ProgressEntry] | None = None, entry_ids: list[int] | None = None) -> int:
    """Emit "entry.recorded" for newly logged entries, up to 500 per delivery. Called by the API and CSV layers.
    Queries: 1 without subscribers."""
    if not _subscribers(Event.ENTRY_RECORDED):
        return 0
    if entries is None:
        entries = list(
            ProgressEntry.objects.filter(id__in=entry_ids or []).select_related("user", "kpi").order_by("id")
        )
    for start in range(0, len(entries), ENTRIES_PER_DELIVERY):
        chunk = entries[start : start + ENTRIES_PER_DELIVERY]
        first = chunk[0]
        text = (
            f"{first.user} logged {first.value} {first.kpi} on {first.date:%d %b %Y}"
            if len(chunk) == 1
            else f"{len(chunk)} progress entries recorded"
        )
        webhook_emit(event=Event.ENTRY_RECORDED, data={"entries": [_entry_data(e) for e in chunk]}, text=text)
    return len(entries)


def _award_data(award: Any) -> dict:  # an Award annotated with hides_name (awards_granted_emit)
    subject = (
        {"type": "goal", "id": award.goal_id}
        if award.goal_id
        else {"type": "micro_goal", "id": award.micro_goal_id}
        if award.micro_goal_id
        else {"type": "streak", "day": award.streak_day.isoformat() if award.streak_day else None}
    )
    return {
        "id": award.id,
        "user": {"id": award.user_id, "username": award.user.username, "name": str(award.user)},
        "name_hidden_from_peers": award.hides_name,
        "tier": {"id": award.tier_id, "name": award.tier.name, "reward_kind": award.tier.reward_kind},
        "subject": {**subject, "label": award.subject_label},
        "attainment": None if award.attainment is None else str(award.attainment),
        "threshold": None if award.threshold is None else str(award.threshold),
        "points": award.points,
        "amount": str(award.amount),
        "currency": award.currency,
        "status": award.status,
        "granted_at": award.granted_at.isoformat(),
        "url": settings.SITE_URL + reverse("rewards:award_detail", args=[award.id]),
    }


def _award_line(award: Any) -> str:
    """The Slack line, e.g. ":trophy: Ava earned Gold on Q4 revenue". A channel of peers sees "A teammate" for a rep
    who hides their name (as on the leaderboards), and never a bonus amount (that is payroll's business)."""
    name = "A teammate" if award.hides_name else str(award.user)
    on = f"on {award.subject_label}" if award.goal_id or award.micro_goal_id else f"({award.tier.measure_label})"
    line = f":trophy: {name} earned {award.tier.name} {on}"
    if award.points:
        line += f" (+{award.points:,} points)"
    return line + (", pending approval" if award.status == Award.Status.PENDING else "")


def awards_granted_emit(*, award_ids: Iterable[int]) -> int:
    """Emit "award.granted" for newly granted awards, up to 500 per delivery (settings.PACER_AFTER_AWARDS_GRANTED,
    called by rewards.services.awards_grant inside its transaction). Slack-format endpoints get one line per award
    (the first five, then how many more). Queries: 1 without subscribers, else 1 read + 2 per delivery."""
    if not _subscribers(Event.AWARD_GRANTED):
        return 0
    awards = list(
        Award.objects.filter(id__in=list(award_ids))
        .select_related("tier", "user", "goal", "micro_goal__kpi")
        .annotate(
            hides_name=Exists(RewardPreference.objects.filter(user_id=OuterRef("user_id"), hide_name_from_peers=True))
        )
        .order_by("id")
    )
    for start in range(0, len(awards), ENTRIES_PER_DELIVERY):
        chunk = awards[start : start + ENTRIES_PER_DELIVERY]
        lines = [_award_line(a) for a in chunk[:5]]
        if len(chunk) > 5:
            lines.append(f"…and {len(chunk) - 5} more awards.")
        webhook_emit(event=Event.AWARD_GRANTED, data={"awards": [_award_data(a) for a in chunk]}, text="\n".join(lines))
    return len(awards)


def _goal_data(goal: Goal) -> dict:
    return {
        "id": goal.id,
        "title": goal.title,
        "kpi": {"id": goal.kpi_id, "name": goal.kpi.name},
        "owner": {"type": "user", "id": goal.owner_user_id, "name": str(goal.owner_user)}
        if goal.owner_user_id
        else {"type": "team", "id": goal.owner_team_id, "name": str(goal.owner_team)},
        "target_value": str(goal.target_value),
        "current_value": str(goal.current_value),
        "expected_value": str(goal.expected_value),
        "forecast_value": str(goal.forecast_value),
        "health": goal.health,
        "status": goal.status,
        "due_date": goal.due_date.isoformat(),
        "url": f"{settings.SITE_URL}/goals/{goal.id}/",
    }


def goal_events_emit(*, goal_ids: Iterable[int], micro_goal_ids: Iterable[int] = ()) -> int:
    """After a recompute or a closing (settings.PACER_AFTER_RECOMPUTE): "goal.health_changed" for goals whose
    health moved since last announced, "goal.closed" for goals newly achieved or missed. Idempotent: the announced
    state is stored, so running it twice sends nothing twice. Queries: 1 without subscribers, else about 4 per
    1,000 goals. Returns how many events were emitted."""
    wanted = {Event.GOAL_HEALTH_CHANGED, Event.GOAL_CLOSED}
    if not _subscribed_events() & wanted:
        return 0
    ids, emitted = sorted(set(goal_ids)), 0
    for start in range(0, len(ids), 1000):
        with transaction.atomic():
            emitted += _goal_events_batch(ids[start : start + 1000])
    return emitted


def _goal_events_batch(batch: list[int]) -> int:
    """One batch of goal_events_emit, its announced states locked (so two recomputes never announce twice)."""
    emitted = 0
    goals = Goal.objects.filter(id__in=batch).select_related("kpi", "owner_user", "owner_team")
    states = {s.goal_id: s for s in GoalEventState.objects.select_for_update().filter(goal_id__in=batch)}
    seen = []
    for goal in goals:
        before = states.get(goal.id)
        previous = before.health if before is not None else ""
        if previous and goal.health and previous != goal.health and goal.status == Goal.Status.ACTIVE:
            label = goal.get_health_display()
            text = (
                f"{goal.title} ({goal.owner}) is now {label}: {goal.current_value} of {goal.target_value} {goal.kpi}."
            )
            webhook_emit(
                event=Event.GOAL_HEALTH_CHANGED,
                data={"goal": _goal_data(goal), "previous_health": previous},
                text=f":bar_chart: {text} {settings.SITE_URL}/goals/{goal.id}/",
            )
            emitted += 1
        if goal.status in CLOSED and (before is None or before.status != goal.status):
            verb = "achieved :tada:" if goal.status == Goal.Status.ACHIEVED else "missed"
            webhook_emit(
                event=Event.GOAL_CLOSED,
                data={"goal": _goal_data(goal)},
                text=f"{goal.title} ({goal.owner}) {verb}: {goal.current_value} of {goal.target_value} {goal.kpi}.",
            )
            emitted += 1
        seen.append(GoalEventState(goal_id=goal.id, health=goal.health, status=goal.status))
    GoalEventState.objects.bulk_create(
        seen, update_conflicts=True, unique_fields=["goal_id"], update_fields=["health", "status"]
    )
    return emitted


# --- deliveries ---------------------------------------------------------------------------------------------------


def _enqueue(delivery_ids: list[int]) -> None:
    from webhooks.tasks import enqueue_deliveries  # tasks import these services: import when called

    enqueue_deliveries(delivery_ids)


def webhook_delivery_attempt(*, delivery_id: int, final_attempt: bool = False) -> str:
    """POST the delivery once, signed, and record the attempt. Returns an Outcome: RETRY when the receiver was
    unreachable, timed out or answered 408, 429 or 5xx and attempts remain; FAILED for any other non-2xx (the
    receiver refused it) or on the final attempt. No transaction is held during the HTTP call."""
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None or delivery.status in (WebhookDelivery.Status.DELIVERED, WebhookDelivery.Status.FAILED):
        return Outcome.SKIPPED
    endpoint = delivery.endpoint
    now = timezone.now()
    if not endpoint.is_active:
        _record(delivery, status=WebhookDelivery.Status.FAILED, code=None, error="The endpoint is disabled.", at=now)
        return Outcome.FAILED
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Pacer-Webhooks/1.0",
        "Pacer-Event": delivery.event,
        "Pacer-Delivery": str(delivery.id),
        "Pacer-Event-Id": str(delivery.event_id),
        signing.HEADER: signing.sign(secret=endpoint.secret, body=body),
    }
    code, error = None, ""
    try:
        response = requests.post(endpoint.url, data=body, headers=headers, timeout=TIMEOUT, allow_redirects=False)
        code = response.status_code
        if not 200 <= code < 300:
            error = f"HTTP {code}: {response.text[:500]}"
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"[:1000]
    if not error:
        _record(delivery, status=WebhookDelivery.Status.DELIVERED, code=code, error="", at=now)
        return Outcome.DELIVERED
    retryable = code is None or code in (408, 429) or code >= 500
    if retryable and not final_attempt:
        _record(delivery, status=WebhookDelivery.Status.RETRYING, code=code, error=error, at=now)
        return Outcome.RETRY
    _record(delivery, status=WebhookDelivery.Status.FAILED, code=code, error=error, at=now)
    return Outcome.FAILED


def _record(delivery: WebhookDelivery, *, status: str, code: int | None, error: str, at) -> None:
    fields = {"status": status, "response_code": code, "last_error": error, "last_attempt_at": at}
    if status == WebhookDelivery.Status.DELIVERED:
        fields["delivered_at"] = at
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=F("attempts") + 1, **fields)


@transaction.atomic
def webhook_deliveries_resend(*, deliveries: Iterable[WebhookDelivery], resent_by: User) -> int:
    """Send these deliveries again (admins; from the admin page): same body and event id, a fresh signature."""
    _require_admin(resent_by)
    ids = [d.pk for d in deliveries]
    WebhookDelivery.objects.filter(pk__in=ids).update(status=WebhookDelivery.Status.PENDING, last_error="")
    _enqueue(ids)
    return len(ids)
