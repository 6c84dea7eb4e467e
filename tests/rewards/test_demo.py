"""`make run`'s demo shows every rewards capability: tiers, granted awards, a streak, a populated leaderboard and a
pending bonus for manager1 to approve; a second seed changes nothing."""

import datetime

import pytest
from django.core.management import call_command
from django.urls import reverse

from rewards import selectors
from rewards.models import Award, RewardTier
from teams.models import User
from webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db


def test_the_demo_shows_awards_a_streak_a_board_and_a_pending_bonus(client, time_machine):
    time_machine.move_to(datetime.datetime(2026, 5, 13, 12, tzinfo=datetime.UTC), tick=False)
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert set(RewardTier.objects.values_list("name", flat=True)) == {
        "Commit", "Target", "Stretch", "5-day streak", "Micro goal done"
    }  # fmt: skip
    kinds = {
        (a.goal_id is not None, a.micro_goal_id is not None, a.streak_day is not None) for a in Award.objects.all()
    }
    assert kinds == {(True, False, False), (False, True, False), (False, False, True)}
    rep1, manager1 = User.objects.get(username="rep1"), User.objects.get(username="manager1")
    assert selectors.current_streak_for_user(user=rep1) >= 5
    assert [a.user for a in selectors.awards_to_review_for_user(user=manager1) if a.status == "pending"][:1] == [rep1]
    assert selectors.payable_awards().exists()  # rep2's approved bonus, ready to export
    client.force_login(rep1)
    page = client.get(reverse("rewards:leaderboard")).content.decode()
    assert page.count('<td class="num fw-semibold">') >= 6  # six ranked reps in London
    # The REST API shows the same: rep1's board, and manager1's awards to decide.
    board = client.get("/api/v1/leaderboards/").json()
    assert len([row for row in board["rows"] if row["rank"]]) >= 6
    client.force_login(manager1)
    assert client.get("/api/v1/awards/", {"status": "pending"}).json()["count"] >= 1
    # The demo's (disabled) Slack endpoint would announce awards too.
    assert any("award.granted" in endpoint.events for endpoint in WebhookEndpoint.objects.all())
    count = Award.objects.count()
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Award.objects.count() == count
