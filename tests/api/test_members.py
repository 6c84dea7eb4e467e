"""Member writes over the API follow the membership rules of SECURITY.md, as the services enforce them: a manager
adds only people in no team (as reps) and changes or ends only reps' memberships; only admins appoint managers or
transfer people; nobody changes their own membership; rep memberships never overlap; an ended one is history."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from teams.models import AuditEvent, Membership
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def _members(team):
    return f"/api/v1/teams/{team.id}/members/"


def _membership(membership, action=""):
    return f"/api/v1/memberships/{membership.id}/" + (f"{action}/" if action else "")


def _details(response) -> str:
    return " ".join(error["detail"] for error in response.json()["errors"])


def test_a_manager_adds_a_newcomer_as_a_rep_of_their_team(world, client_for):
    response = client_for("manager_a").post(
        _members(world.team_a), {"user": world.newcomer.id, "capacity": "0.5"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["user"]["id"], body["team"], body["role"], body["capacity"]) == (
        world.newcomer.id,
        world.team_a.id,
        "rep",
        "0.50",
    )
    assert body["active_from"] == str(timezone.localdate()) and body["active_to"] is None
    membership = Membership.objects.get(user=world.newcomer)
    assert (membership.team, membership.capacity) == (world.team_a, Decimal("0.50"))
    assert AuditEvent.objects.filter(actor=world.manager_a, subject_user=world.newcomer).exists()


@pytest.mark.parametrize(
    ("extra", "refusal"),
    [
        ({"role": "manager"}, "Only an admin can make someone a manager"),
        ({"transfer": True}, "Only an admin can make someone a manager or move a person"),
    ],
)
def test_a_manager_cannot_appoint_managers_or_transfer(world, client_for, extra, refusal):
    response = client_for("manager_a").post(_members(world.team_a), {"user": world.newcomer.id, **extra}, format="json")
    assert response.status_code == 403
    assert refusal in _details(response)
    assert not Membership.objects.filter(user=world.newcomer).exists()


def test_another_teams_person_is_unknown_to_a_manager(world, client_for):
    """Rep B is in team B, which manager A cannot see: naming them is an unknown id (400), never a refusal that
    would confirm who they are."""
    response = client_for("manager_a").post(_members(world.team_a), {"user": world.rep_b.id}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "user"
    assert not Membership.objects.filter(user=world.rep_b, team=world.team_a).exists()


def test_nobody_adds_themself_and_a_visible_member_gets_the_services_words(world, client_for):
    client = client_for("manager_a")
    response = client.post(_members(world.team_a), {"user": world.manager_a.id}, format="json")
    assert response.status_code == 403
    assert "Nobody can add themself" in _details(response)
    response = client.post(_members(world.team_a), {"user": world.rep_a.id}, format="json")
    assert response.status_code == 403  # rep A is already in a team: only an admin moves people
    assert "already in a team" in _details(response)


def test_an_admin_transfers_a_rep_and_overlap_is_refused_without_transfer(world, client_for):
    client = client_for("admin")
    response = client.post(_members(world.team_a), {"user": world.rep_b.id}, format="json")
    assert response.status_code == 400
    assert "already a rep of Team B" in _details(response)
    today = timezone.localdate()
    response = client.post(_members(world.team_a), {"user": world.rep_b.id, "transfer": True}, format="json")
    assert response.status_code == 201, response.content
    old = Membership.objects.get(user=world.rep_b, team=world.team_b)
    assert old.active_to == today - datetime.timedelta(days=1)
    response = client.post(_members(world.team_b), {"user": world.newcomer.id, "role": "manager"}, format="json")
    assert response.status_code == 201 and response.json()["role"] == "manager"


@pytest.mark.parametrize(
    "body",
    [
        {"team": 1},  # read-only in a membership: the team is the URL's
        {"active_to": "2030-01-01"},  # a new membership is current; ending it is another request
        {"capacity": "1.5"},
        {"capacity": "0"},
        {"role": "owner"},
        {"active_from": "1850-01-01"},
    ],
)
def test_bad_input_is_a_400_and_stores_nothing(world, client_for, body):
    response = client_for("admin").post(_members(world.team_a), {**body, "user": world.newcomer.id}, format="json")
    assert response.status_code == 400, response.content
    assert not Membership.objects.filter(user=world.newcomer).exists()


def test_a_manager_changes_a_reps_capacity_but_not_roles(world, client_for):
    client = client_for("manager_a")
    response = client.patch(_membership(world.a.membership), {"capacity": "0.75"}, format="json")
    assert response.status_code == 200 and response.json()["capacity"] == "0.75"
    response = client.patch(_membership(world.a.membership), {"role": "manager"}, format="json")
    assert response.status_code == 403
    assert "Only an admin can grant or revoke the manager role" in _details(response)
    own = Membership.objects.get(user=world.manager_a)
    response = client.patch(_membership(own), {"capacity": "0.5"}, format="json")
    assert response.status_code == 403 and "Nobody can change their own membership" in _details(response)
    world.a.membership.refresh_from_db()
    assert (world.a.membership.role, world.a.membership.capacity) == ("rep", Decimal("0.75"))


def test_only_an_admin_changes_or_ends_a_managers_membership(world, client_for):
    co_manager = MembershipFactory(user=UserFactory(), team=world.team_a, role=Membership.Role.MANAGER)
    client = client_for("manager_a")
    assert client.patch(_membership(co_manager), {"capacity": "0.5"}, format="json").status_code == 403
    response = client.post(_membership(co_manager, "end"), {}, format="json")
    assert response.status_code == 403 and "Only an admin can change or remove a manager" in _details(response)
    response = client_for("admin").patch(_membership(co_manager), {"role": "rep"}, format="json")
    assert response.status_code == 200 and response.json()["role"] == "rep"


def test_ending_keeps_the_membership_as_history(world, client_for):
    client = client_for("manager_a")
    membership = world.a.membership
    assert client.post(_membership(membership, "end"), {"active_to": "2019-12-31"}, format="json").status_code == 400
    response = client.post(_membership(membership, "end"), {}, format="json")
    assert response.status_code == 200 and response.json()["active_to"] == str(timezone.localdate())
    response = client.post(_membership(membership, "end"), {}, format="json")
    assert response.status_code == 400 and "already left" in _details(response)
    got = client.get(_membership(membership))
    assert got.status_code == 200 and got.json()["active_to"] == str(timezone.localdate())
    assert Membership.objects.filter(id=membership.id).exists()


def test_an_ended_membership_cannot_be_changed(world, client_for):
    ended = MembershipFactory(
        user=UserFactory(),
        team=world.team_a,
        active_from=datetime.date(2024, 1, 1),
        active_to=datetime.date(2024, 6, 30),
    )
    response = client_for("admin").patch(_membership(ended), {"capacity": "0.5"}, format="json")
    assert response.status_code == 400 and "an ended membership cannot be changed" in _details(response)
    ended.refresh_from_db()
    assert ended.capacity == Decimal("1.00")


def test_a_sub_teams_members_are_the_parent_managers_to_change(world, client_for):
    sub_team = TeamFactory(name="A north", parent=world.team_a)
    rep = MembershipFactory(user=UserFactory(), team=sub_team)
    manager = client_for("manager_a")
    assert manager.patch(_membership(rep), {"capacity": "0.6"}, format="json").status_code == 200
    assert client_for("manager_b").get(_membership(rep)).status_code == 404
    assert client_for("rep_a").get(_membership(rep)).status_code == 200  # in team A's member list: visible
    response = manager.post(_members(sub_team), {"user": world.newcomer.id}, format="json")
    assert response.status_code == 201
