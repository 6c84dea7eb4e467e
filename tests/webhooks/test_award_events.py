""" "award.granted": awards_grant hands the awards it grants to webhooks (settings.PACER_AFTER_AWARDS_GRANTED, inside
its transaction), delivered signed to a real local receiver, as Pacer JSON or as a Slack line that hides a name the
rep hides from peers and never shows a bonus amount."""

import json

import pytest
from django.db import transaction

from rewards import services as reward_services
from rewards.models import Award, RewardTier
from tests.factories import GoalFactory, KpiFactory
from tests.rewards.conftest import TODAY, D, log, make_tier, recompute_and_grant
from tests.webhooks.test_webhooks import Receiver
from webhooks import services, signing
from webhooks.models import Event, WebhookDelivery

pytestmark = pytest.mark.django_db


def _endpoints(admin, url):
    made = {}
    for payload_format in ("pacer", "slack"):
        made[payload_format] = services.webhook_endpoint_create(
            name=payload_format, url=f"{url}/{payload_format}", events=[Event.AWARD_GRANTED],
            payload_format=payload_format, created_by=admin,
        )  # fmt: skip
    return made


def _reach_commit_and_stretch(admin, rep):
    deals = KpiFactory(name="Deals won")
    make_tier(admin, "Commit", D(80))
    make_tier(admin, "Stretch", D(120), reward_kind=RewardTier.RewardKind.BONUS, amount=D(500), needs_approval=True)
    goal = GoalFactory(owner_user=rep, kpi=deals, target_value=D(10), title="Q4 revenue")
    log(rep, deals, 3, 12)
    return goal


def test_granted_awards_reach_the_receiver_signed_as_json_and_as_a_slack_line(
    admin_user, rep_a, eager_celery, django_capture_on_commit_callbacks
):
    rep = rep_a
    with Receiver() as receiver:
        endpoints = _endpoints(admin_user, receiver.url.removesuffix("/hook"))
        goal = _reach_commit_and_stretch(admin_user, rep)
        with django_capture_on_commit_callbacks(execute=True):
            assert recompute_and_grant(goal).granted == 2
            assert recompute_and_grant(goal).granted == 0  # granted once: announced once
    assert len(receiver.requests) == 2  # one event, one delivery per endpoint
    assert len({headers["Pacer-Event-Id"] for headers, _ in receiver.requests}) == 1
    bodies = {}
    for headers, raw in receiver.requests:
        fmt = "slack" if "text" in json.loads(raw) else "pacer"
        assert signing.verify(secret=endpoints[fmt][1], header=headers["Pacer-Signature"], body=raw)
        assert headers["Pacer-Event"] == "award.granted"
        bodies[fmt] = json.loads(raw)
    awards = bodies["pacer"]["data"]["awards"]
    assert [(a["tier"]["name"], a["status"], a["amount"], a["subject"]) for a in awards] == [
        ("Commit", "granted", "0.00", {"type": "goal", "id": goal.id, "label": "Q4 revenue"}),
        ("Stretch", "pending", "500.00", {"type": "goal", "id": goal.id, "label": "Q4 revenue"}),
    ]
    assert awards[0]["user"] == {"id": rep.id, "username": rep.username, "name": str(rep)}
    assert awards[0]["attainment"] == "120.00" and awards[0]["url"].endswith(f"/rewards/awards/{awards[0]['id']}/")
    assert bodies["slack"] == {
        "text": f":trophy: {rep} earned Commit on Q4 revenue\n:trophy: {rep} earned Stretch on Q4 revenue, pending approval"
    }
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}


def test_a_rep_who_hides_their_name_is_a_teammate_in_the_channel(admin_user, rep_a):
    reward_services.reward_preference_set(user=rep_a, hide_name_from_peers=True)
    services.webhook_endpoint_create(name="Slack", url="http://127.0.0.1:9/x", events=[Event.AWARD_GRANTED],
                                     payload_format="slack", created_by=admin_user)  # fmt: skip
    tier = make_tier(admin_user, "Streak 3", applies_to="streak", streak_days=3, reward_kind="points", points=30)
    award = Award.objects.create(user=rep_a, tier=tier, streak_day=TODAY, points=30)
    assert services.awards_granted_emit(award_ids=[award.id]) == 1
    assert WebhookDelivery.objects.get().payload == {
        "text": ":trophy: A teammate earned Streak 3 (3 working days in a row) (+30 points)"
    }


def test_a_rolled_back_grant_announces_nothing_and_a_failing_hook_costs_no_award(admin_user, rep_a, settings):
    services.webhook_endpoint_create(name="CRM", url="http://127.0.0.1:9/x", events=[Event.AWARD_GRANTED],
                                     created_by=admin_user)  # fmt: skip
    goal = _reach_commit_and_stretch(admin_user, rep_a)
    with pytest.raises(RuntimeError), transaction.atomic():
        recompute_and_grant(goal)
        assert WebhookDelivery.objects.count() == 1  # written with the awards…
        raise RuntimeError("the grant's transaction fails")
    assert (Award.objects.count(), WebhookDelivery.objects.count()) == (0, 0)  # …and gone with them
    settings.PACER_AFTER_AWARDS_GRANTED = ["tests.webhooks.test_award_events.failing_hook"]
    assert recompute_and_grant(goal).granted == 2
    assert (Award.objects.count(), WebhookDelivery.objects.count()) == (2, 0)


def failing_hook(*, award_ids):
    WebhookDelivery.objects.all().delete()  # a write the savepoint must undo
    raise ValueError("the receiver side broke")
