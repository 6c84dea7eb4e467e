"""The rewards API beyond the permission matrix: awards are scoped and filtered, decisions and payouts go through
the services (their refusals are field errors), tiers follow the service rules, and the leaderboards show what the
page shows, a hidden name included."""

import datetime
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from api.services import api_token_create
from goals.models import MicroGoal
from rewards import selectors, services
from rewards.models import Award
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _ids(response):
    assert response.status_code == 200, response.content
    return sorted(row["id"] for row in response.json()["results"])


def _errors(response):
    assert response.status_code == 400, response.content
    return {error["attr"]: error["detail"] for error in response.json()["errors"]}


def test_awards_lists_hold_your_own_and_your_reps_never_another_teams(world, client_for):
    r = world.rewards
    mine = sorted([r.pending.id, r.flagged.id])
    manager, admin = client_for("manager_a"), client_for("admin")
    assert _ids(client_for("rep_a").get("/api/v1/awards/")) == mine
    assert _ids(manager.get("/api/v1/awards/")) == mine
    assert _ids(client_for("rep_b").get("/api/v1/awards/")) == [r.foreign.id]
    assert _ids(client_for("manager_b").get("/api/v1/awards/")) == [r.foreign.id]
    assert _ids(admin.get("/api/v1/awards/")) == sorted([*mine, r.foreign.id])
    # Filtering narrows what you may see; it never widens it.
    assert _ids(manager.get("/api/v1/awards/", {"status": "pending"})) == [r.pending.id]
    assert _ids(manager.get("/api/v1/awards/", {"user": world.rep_b.id})) == []
    assert _ids(manager.get("/api/v1/awards/", {"team": world.team_b.id})) == []
    assert _ids(admin.get("/api/v1/awards/", {"team": world.team_b.id})) == [r.foreign.id]
    tomorrow = world.today + datetime.timedelta(days=1)
    assert _ids(manager.get("/api/v1/awards/", {"granted_from": str(tomorrow)})) == []
    assert _ids(manager.get("/api/v1/awards/", {"granted_to": str(tomorrow), "tier": r.bonus.id})) == [r.pending.id]
    rows = manager.get("/api/v1/awards/", {"ordering": "-amount"}).json()["results"]
    assert [(row["id"], row["amount"], row["tier"]["name"]) for row in rows] == [
        (r.pending.id, "500.00", "Stretch"),
        (r.flagged.id, "0.00", "Commit"),
    ]
    assert rows[0]["subject"] == world.a.rep_goal.title and rows[0]["user"]["id"] == world.rep_a.id


def test_decisions_are_the_services_with_their_rules_as_field_errors(world, client_for):
    pending, manager = world.rewards.pending, client_for("manager_a")
    path = f"/api/v1/awards/{pending.id}"
    assert "reason" in _errors(manager.post(f"{path}/reject/", {"reason": "  "}))
    assert _errors(manager.post(f"{path}/approve/", {"reason": "ok", "status": "paid"}))  # a read-only key: refused
    refused = client_for("rep_a").post(f"{path}/approve/")
    assert refused.status_code == 403 and "your own award" in refused.json()["errors"][0]["detail"]
    approved = manager.post(f"{path}/approve/", {"reason": "Great quarter"})
    assert approved.status_code == 200, approved.content
    assert (approved.json()["status"], approved.json()["decision_reason"]) == ("approved", "Great quarter")
    assert approved.json()["decided_by"]["id"] == world.manager_a.id
    assert "non_field_errors" in _errors(manager.post(f"{path}/approve/"))  # approved already
    kept = manager.post(f"/api/v1/awards/{world.rewards.flagged.id}/keep/", {"reason": "A refund, not a lost deal"})
    assert kept.json()["status"] == "granted"  # what it was before the flag


def test_admins_mark_payable_bonuses_paid_once_with_a_reference(world, client_for):
    pending = world.rewards.pending
    services.award_approve(award=pending, decided_by=world.manager_a)
    admin = client_for("admin")
    assert _ids(admin.get("/api/v1/awards/", {"payable": "true"})) == [pending.id]  # what payroll is to pay
    assert _errors(admin.post("/api/v1/awards/mark-paid/", {"award_ids": [], "reference": "x"})) == {
        "award_ids": "Ensure this field has at least 1 elements."
    }
    assert "reference" in _errors(
        admin.post("/api/v1/awards/mark-paid/", {"award_ids": [pending.id], "reference": "x" * 201})
    )
    body = {"award_ids": [pending.id, world.rewards.flagged.id], "reference": "March payroll"}
    assert admin.post("/api/v1/awards/mark-paid/", body).json() == {"marked": 1}  # the flagged badge is not payable
    assert admin.post("/api/v1/awards/mark-paid/", body).json() == {"marked": 0}  # paid already
    pending.refresh_from_db()
    assert (pending.status, pending.payout_reference, pending.paid_by) == ("paid", "March payroll", world.admin)
    assert _ids(admin.get("/api/v1/awards/", {"payable": "true"})) == []


def test_tiers_follow_the_service_rules_and_reps_read_only_active_ones(world, client_for):
    admin, rep = client_for("admin"), client_for("rep_a")
    badge = world.rewards.badge
    assert admin.post(f"/api/v1/reward-tiers/{badge.id}/deactivate/").json()["is_active"] is False
    assert badge.id not in _ids(rep.get("/api/v1/reward-tiers/"))
    assert rep.get(f"/api/v1/reward-tiers/{badge.id}/").status_code == 404
    assert _ids(admin.get("/api/v1/reward-tiers/", {"is_active": "false"})) == [badge.id]
    assert admin.get(f"/api/v1/reward-tiers/{badge.id}/").json()["awarded"] == 2
    assert _errors(admin.post("/api/v1/reward-tiers/", {"name": "Hot", "applies_to": "streak", "streak_days": 1})) == {
        "streak_days": "A streak needs at least 2 consecutive working days."
    }
    assert "name" in _errors(admin.post("/api/v1/reward-tiers/", {"name": "commit", "threshold_percent": "90"}))
    assert "non_field_errors" in _errors(admin.post("/api/v1/reward-tiers/", {"name": "X", "is_active": True}))
    assert "applies_to" in _errors(admin.patch(f"/api/v1/reward-tiers/{badge.id}/", {"applies_to": "micro_goal"}))
    created = admin.post(
        "/api/v1/reward-tiers/",
        {"name": "Target", "threshold_percent": "100", "reward_kind": "points", "points": 50, "kpi": world.kpi.id},
    )
    assert created.status_code == 201, created.content
    assert (created.json()["points"], created.json()["kpi"], created.json()["awarded"]) == (50, world.kpi.id, 0)
    assert "non_field_errors" in _errors(admin.delete(f"/api/v1/reward-tiers/{badge.id}/"))  # awarded: history
    assert admin.delete(f"/api/v1/reward-tiers/{created.json()['id']}/").status_code == 204


def _token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=user, name='t')[1]}")
    return client


def test_the_board_hides_a_name_from_peers_as_the_page_does(world, client_for, rep_a2):
    MicroGoal.objects.filter(id=world.a.micro.id).update(current_value=Decimal(7), expected_value=Decimal(10))
    services.reward_preference_set(user=world.rep_a, hide_name_from_peers=True)
    peer = _token_client(rep_a2).get("/api/v1/leaderboards/", {"kpi": world.kpi.id}).json()
    hidden = next(row for row in peer["rows"] if not row["is_viewer"])
    assert (hidden["name"], hidden["user"]) == ("a teammate", None)
    own = client_for("rep_a").get("/api/v1/leaderboards/").json()["rows"]
    assert [(row["name"], row["user"]["id"]) for row in own if row["is_viewer"]] == [("You", world.rep_a.id)]
    managed = client_for("manager_a").get("/api/v1/leaderboards/", {"team": world.team_a.id}).json()
    named = next(row for row in managed["rows"] if row["user"]["id"] == world.rep_a.id)
    assert named["name"] == f"{world.rep_a} (hidden from peers)"
    # The figures are the selector's (one definition), rounded for the wire.
    start, end = selectors.period_bounds("month", world.manager_a.local_today())
    board = selectors.leaderboard_for_team(
        team=world.team_a, start=start, end=end, viewer=world.manager_a, kpi=world.kpi
    )
    expected = next(row for row in board.rows if row.user.id == world.rep_a.id)
    assert named["attainment"] == f"{expected.attainment:.2f}" and named["rank"] == expected.rank
    assert (managed["start"], managed["end"], managed["kpi"]["id"]) == (str(start), str(end), world.kpi.id)


def test_the_most_improved_board_and_bad_choices(world, client_for):
    manager = client_for("manager_a")
    improved = manager.get("/api/v1/leaderboards/", {"board": "most_improved", "period": "week"}).json()
    start = datetime.date.fromisoformat(improved["start"])
    assert improved["board"] == "most_improved" and start.weekday() == 0
    assert improved["previous_start"] == str(start - datetime.timedelta(days=7))
    assert "team" in _errors(manager.get("/api/v1/leaderboards/", {"team": world.team_b.id}))
    assert "kpi" in _errors(manager.get("/api/v1/leaderboards/", {"kpi": 10**6}))
    assert "period" in _errors(manager.get("/api/v1/leaderboards/", {"period": "decade"}))
    goal = world.a.team_goal
    window = manager.get("/api/v1/leaderboards/", {"goal": goal.id}).json()
    assert (window["team"]["id"], window["kpi"]["id"]) == (world.team_a.id, goal.kpi_id)
    assert (window["start"], window["end"]) == (str(goal.start_date), str(goal.due_date))
    assert "goal" in _errors(manager.get("/api/v1/leaderboards/", {"goal": world.b.team_goal.id}))
    assert "goal" in _errors(manager.get("/api/v1/leaderboards/", {"goal": world.a.rep_goal.id}))  # not a team's
    nobody = UserFactory(username="no_team")
    alone = _token_client(nobody).get("/api/v1/leaderboards/").json()
    assert (alone["team"], alone["kpi"], alone["rows"]) == (None, None, [])  # a user of no team sees no board


def test_an_award_of_another_team_is_a_404_even_for_a_decision(world, client_for):
    foreign = world.rewards.foreign
    assert client_for("manager_a").post(f"/api/v1/awards/{foreign.id}/revoke/", {"reason": "x"}).status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == Award.Status.GRANTED
