"""The demo data shows this issue's API over real rows: the first demo rep's corrected entries have a history, their
manager sees the team's members, and every goal's figures carry the forecast's likely range."""

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from goals.models import ProgressEntryRevision
from teams.models import Membership, User

pytestmark = pytest.mark.django_db


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_demo_shows_entry_histories_members_and_full_figures():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    rep = User.objects.get(username="rep1")
    client = _client(rep)
    edited = ProgressEntryRevision.objects.filter(entry__user=rep, kind="edited").first()
    assert edited is not None, "seed_demo leaves no edited entry"
    history = client.get(f"/api/v1/progress-entries/{edited.entry_id}/history/").json()
    assert "edited" in {revision["kind"] for revision in history}
    team = Membership.objects.get(user=rep, role="rep", active_to__isnull=True).team
    manager = Membership.objects.filter(team=team, role="manager").first().user
    members = _client(manager).get(f"/api/v1/teams/{team.id}/members/").json()
    assert rep.id in {member["user"]["id"] for member in members}
    goals = client.get("/api/v1/goals/?status=active").json()["results"]
    assert goals and all(goal["figures"]["forecast_low"] is not None for goal in goals)
