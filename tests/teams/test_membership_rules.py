"""Who may change whose membership (issue 9 §1) and rep memberships never overlap (§2).

The rules live in teams.services: each case is refused there whatever a form sent, and the pages only offer
what the rules allow.
"""

import datetime
import re
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from teams import selectors, services
from teams.models import AuditEvent, Membership, Team
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

D = datetime.date


def current(user, team):
    return Membership.objects.get(user=user, team=team, active_to__isnull=True)


# --- §1 In the services -----------------------------------------------------------------------------------


def test_manager_cannot_add_another_teams_rep(personas):
    with pytest.raises(PermissionDenied, match="only an admin can move"):
        services.member_add(added_by=personas.manager_a, user=personas.rep_b, team=personas.team_a)
    assert not Membership.objects.filter(user=personas.rep_b, team=personas.team_a).exists()


def test_manager_cannot_grant_the_manager_role(personas):
    newcomer = UserFactory()
    with pytest.raises(PermissionDenied, match="Only an admin can make someone a manager"):
        services.member_add(added_by=personas.manager_a, user=newcomer, team=personas.team_a, role="manager")
    membership = current(personas.rep_a, personas.team_a)
    with pytest.raises(PermissionDenied, match="Only an admin can grant or revoke"):
        services.member_update(changed_by=personas.manager_a, membership=membership, role="manager", capacity=1)
    assert Membership.objects.filter(user=newcomer).count() == 0
    membership.refresh_from_db()
    assert membership.role == "rep"


@pytest.mark.parametrize("who", ["admin_user", "manager_b"])
def test_manager_cannot_pull_in_an_admin_or_another_manager_as_rep(personas, who):
    person = personas.admin if who == "admin_user" else personas.manager_b
    with pytest.raises(PermissionDenied):
        services.member_add(added_by=personas.manager_a, user=person, team=personas.team_a)


def test_manager_cannot_add_to_a_team_they_do_not_manage(personas):
    with pytest.raises(PermissionDenied, match="teams you manage"):
        services.member_add(added_by=personas.manager_a, user=UserFactory(), team=personas.team_b)


def test_manager_cannot_change_or_remove_another_manager_or_other_teams_reps(personas):
    co_manager = MembershipFactory(team=personas.team_a, role="manager")
    for membership in (co_manager, current(personas.rep_b, personas.team_b)):
        with pytest.raises(PermissionDenied):
            services.member_update(changed_by=personas.manager_a, membership=membership, role=membership.role,
                                   capacity=Decimal("0.01"))  # fmt: skip
        with pytest.raises(PermissionDenied):
            services.member_remove(removed_by=personas.manager_a, membership=membership)
    assert not Membership.objects.filter(active_to__isnull=False).exists()
    assert set(Membership.objects.values_list("capacity", flat=True)) == {Decimal("1.00")}


@pytest.mark.parametrize("who", ["admin", "manager_a", "rep_a"])
def test_nobody_changes_their_own_membership(personas, who):
    actor = getattr(personas, who)
    own = MembershipFactory(user=actor, team=personas.team_b, role="manager") if who == "admin" else None
    own = own or current(actor, personas.team_a)
    with pytest.raises(PermissionDenied, match="own membership"):
        services.member_update(changed_by=actor, membership=own, role="rep", capacity=Decimal("0.5"))
    with pytest.raises(PermissionDenied, match="own membership"):
        services.member_remove(removed_by=actor, membership=own)
    with pytest.raises(PermissionDenied, match="themself"):
        services.member_add(added_by=actor, user=actor, team=TeamFactory())


def test_a_rep_cannot_change_anyone(personas):
    colleague = MembershipFactory(team=personas.team_a)
    with pytest.raises(PermissionDenied):
        services.member_update(changed_by=personas.rep_a, membership=colleague, role="rep", capacity=Decimal("0.01"))
    with pytest.raises(PermissionDenied):
        services.member_add(added_by=personas.rep_a, user=UserFactory(), team=personas.team_a)


def test_manager_changes_capacity_and_ends_reps_of_teams_they_manage_including_sub_teams(personas):
    sub_team = TeamFactory(parent=personas.team_a)
    sub_rep = MembershipFactory(team=sub_team)
    services.member_update(changed_by=personas.manager_a, membership=sub_rep, role="rep", capacity=Decimal("0.5"))
    services.member_remove(removed_by=personas.manager_a, membership=current(personas.rep_a, personas.team_a))
    newcomer = services.member_add(added_by=personas.manager_a, user=UserFactory(), team=sub_team)
    assert newcomer.team == sub_team and sub_rep.capacity == Decimal("0.5")


def test_an_ended_membership_is_history_nobody_changes(personas):
    """It decided whose entries counted with what capacity on its days: an admin may not rewrite it either."""
    ended = MembershipFactory(team=personas.team_a, active_from=D(2024, 1, 1), active_to=D(2024, 6, 30))
    with pytest.raises(ValidationError, match="an ended membership cannot be changed"):
        services.member_update(changed_by=personas.admin, membership=ended, role="rep", capacity=Decimal("0.5"))
    ended.refresh_from_db()
    assert ended.capacity == Decimal("1.00")


def test_admin_transfer_ends_the_old_rep_membership_the_day_before(personas):
    moved = services.member_add(added_by=personas.admin, user=personas.rep_b, team=personas.team_a,
                                active_from=D(2026, 4, 1), transfer=True)  # fmt: skip
    old = Membership.objects.get(user=personas.rep_b, team=personas.team_b)
    assert (old.active_to, moved.active_from, moved.active_to) == (D(2026, 3, 31), D(2026, 4, 1), None)
    event = AuditEvent.objects.get(kind="membership", subject_user=personas.rep_b)
    assert event.actor == personas.admin and "moved" in event.summary and "Team B" in event.summary


def test_admin_grants_and_revokes_the_manager_role_and_it_is_audited(personas):
    membership = current(personas.rep_a, personas.team_a)
    services.member_update(changed_by=personas.admin, membership=membership, role="manager", capacity=Decimal(1))
    services.member_update(changed_by=personas.admin, membership=membership, role="rep", capacity=Decimal(1))
    summaries = list(AuditEvent.objects.filter(kind="role").order_by("id").values_list("summary", flat=True))
    assert summaries == [
        f"{personas.admin} changed {personas.rep_a} in Team A: role rep → manager",
        f"{personas.admin} changed {personas.rep_a} in Team A: role manager → rep",
    ]


def test_member_changes_write_audit_events_without_secrets(personas):
    newcomer = UserFactory(username="nia")
    added = services.member_add(added_by=personas.manager_a, user=newcomer, team=personas.team_a)
    services.member_update(changed_by=personas.manager_a, membership=added, role="rep", capacity=Decimal("0.5"))
    services.member_remove(removed_by=personas.manager_a, membership=added, active_to=added.active_from)
    events = AuditEvent.objects.filter(kind="membership", subject_user=newcomer).order_by("id")
    assert [e.data["action"] for e in events] == ["added", "changed", "ended"]
    assert all(e.actor == personas.manager_a for e in events)
    assert "capacity 1.00 → 0.50" in events[1].summary
    assert "password" not in str(list(events.values()))


# --- §1 Through the pages ---------------------------------------------------------------------------------


def picker_ids(client, team):
    html = client.get(reverse("team_detail", args=[team.id])).content.decode()
    start = html.index('id="add_member_user"')
    return {int(i) for i in re.findall(r'value="(\d+)"', html[start : html.index("</select>", start)])}


def test_picker_offers_a_manager_only_people_they_may_add(client, personas):
    free = UserFactory()
    gone = MembershipFactory(team=personas.team_b, active_to=D(2021, 1, 1)).user  # a former rep: free again
    later = MembershipFactory(team=personas.team_b, active_from=D(2099, 1, 1)).user  # starts elsewhere later
    inactive = UserFactory(is_active=False)
    client.force_login(personas.manager_a)
    offered = picker_ids(client, personas.team_a)
    assert {free.id, gone.id} <= offered
    not_addable = {personas.rep_b.id, personas.manager_b.id, personas.admin.id, personas.manager_a.id, later.id}
    assert not offered & (not_addable | {inactive.id, personas.rep_a.id})
    assert set(selectors.users_addable_by(user=personas.manager_a, team=personas.team_a)) >= {free, gone}


def test_picker_offers_an_admin_everyone_not_in_the_team_but_themself(client, personas):
    client.force_login(personas.admin)
    offered = picker_ids(client, personas.team_a)
    assert {personas.rep_b.id, personas.manager_b.id} <= offered
    assert not offered & {personas.admin.id, personas.rep_a.id, personas.manager_a.id}


def test_manager_posting_role_manager_or_another_teams_rep_changes_nothing(client, personas):
    client.force_login(personas.manager_a)
    url = reverse("member_add", args=[personas.team_a.id])
    for data in (
        {"user": UserFactory().id, "role": "manager", "capacity": "1", "active_from": "2026-02-01"},
        {"user": personas.rep_b.id, "role": "rep", "capacity": "1", "active_from": "2026-02-01"},
    ):
        response = client.post(url, data)
        assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert Membership.objects.filter(team=personas.team_a).count() == 2


def test_manager_cannot_open_or_post_the_change_form_of_a_manager_or_of_themself(client, personas):
    co_manager = MembershipFactory(team=personas.team_a, role="manager")
    own = current(personas.manager_a, personas.team_a)
    client.force_login(personas.manager_a)
    for membership in (co_manager, own):
        edit = reverse("member_update", args=[personas.team_a.id, membership.id])
        remove = reverse("member_remove", args=[personas.team_a.id, membership.id])
        assert client.get(edit).status_code == 403
        assert client.post(edit, {"role": "rep", "capacity": "0.1"}).status_code == 403
        assert client.post(remove, {"active_to": "2026-01-01"}).status_code == 403
    html = client.get(reverse("team_detail", args=[personas.team_a.id])).content.decode()
    rep_row = current(personas.rep_a, personas.team_a).id
    assert reverse("member_update", args=[personas.team_a.id, rep_row]) in html
    assert reverse("member_update", args=[personas.team_a.id, co_manager.id]) not in html
    assert reverse("member_update", args=[personas.team_a.id, own.id]) not in html
    assert set(Membership.objects.filter(active_to__isnull=False)) == set()


def test_manager_change_form_offers_only_the_rep_role(client, personas):
    membership = current(personas.rep_a, personas.team_a)
    client.force_login(personas.manager_a)
    html = client.get(reverse("member_update", args=[personas.team_a.id, membership.id])).content.decode()
    assert 'value="rep"' in html and 'value="manager"' not in html
    response = client.post(reverse("member_update", args=[personas.team_a.id, membership.id]),
                           {"role": "manager", "capacity": "1"})  # fmt: skip
    assert "Select a valid choice" in response.content.decode()
    membership.refresh_from_db()
    assert membership.role == "rep"


def test_admin_transfers_a_rep_through_the_page(client, personas):
    client.force_login(personas.admin)
    url = reverse("member_add", args=[personas.team_a.id])
    data = {"user": personas.rep_b.id, "role": "rep", "capacity": "1", "active_from": "2026-04-01"}
    refused = client.post(url, data)
    assert refused.status_code == 200 and "already a rep of Team B" in refused.content.decode()
    assert client.post(url, {**data, "transfer": "on"}).status_code == 302
    assert current(personas.rep_b, personas.team_a).active_from == D(2026, 4, 1)
    assert Membership.objects.get(user=personas.rep_b, team=personas.team_b).active_to == D(2026, 3, 31)


# --- §2 No overlapping rep memberships ----------------------------------------------------------------------


@pytest.fixture
def left_berlin():
    """A rep whose Berlin membership ran from 1 Jul to 1 Dec 2025."""
    berlin, london = TeamFactory(name="Berlin"), TeamFactory(name="London")
    rep = MembershipFactory(team=berlin, active_from=D(2025, 7, 1), active_to=D(2025, 12, 1)).user
    return rep, berlin, london


def test_backdated_rep_membership_overlapping_an_ended_one_is_refused(personas, left_berlin):
    rep, _, london = left_berlin
    with pytest.raises(ValidationError) as refused:
        services.member_add(added_by=personas.admin, user=rep, team=london, active_from=D(2025, 1, 1))
    message = " ".join(refused.value.messages)
    assert "already a rep of Berlin from 01 Jul 2025 to 01 Dec 2025" in message
    assert "Constraint" not in message and "violated" not in message
    assert not Membership.objects.filter(team=london).exists()
    # The day after the last day is fine.
    assert services.member_add(added_by=personas.admin, user=rep, team=london, active_from=D(2025, 12, 2))


def test_rep_membership_before_an_upcoming_one_is_refused(personas):
    later = MembershipFactory(team=personas.team_b, active_from=D(2099, 1, 1)).user
    with pytest.raises(ValidationError, match="already a rep of Team B since 01 Jan 2099"):
        services.member_add(added_by=personas.admin, user=later, team=personas.team_a, active_from=D(2026, 1, 1))


def test_making_a_manager_a_rep_where_they_are_already_a_rep_is_refused(personas, left_berlin):
    rep, _, london = left_berlin
    managing = MembershipFactory(user=rep, team=london, role="manager", active_from=D(2025, 11, 1))
    with pytest.raises(ValidationError, match="already a rep of Berlin"):
        services.member_update(changed_by=personas.admin, membership=managing, role="rep", capacity=Decimal(1))
    managing.refresh_from_db()
    assert managing.role == "manager"


def test_overlap_refusal_shows_in_plain_words_on_the_page(client, personas, left_berlin):
    rep, _, london = left_berlin
    client.force_login(personas.admin)
    response = client.post(reverse("member_add", args=[london.id]),
                           {"user": rep.id, "role": "rep", "capacity": "1", "active_from": "2025-01-01"})  # fmt: skip
    html = response.content.decode()
    assert response.status_code == 200 and "already a rep of Berlin" in html and "Constraint" not in html


@pytest.mark.postgres
def test_database_refuses_overlapping_rep_memberships_when_the_service_is_bypassed(left_berlin):
    rep, _, london = left_berlin
    with pytest.raises(IntegrityError, match="membership_rep_no_overlap"), transaction.atomic():
        Membership.objects.create(user=rep, team=london, active_from=D(2025, 1, 1), active_to=D(2025, 7, 1))
    # Touching days do not overlap; a manager membership is not a rep membership.
    Membership.objects.create(user=rep, team=london, active_from=D(2025, 1, 1), active_to=D(2025, 6, 30))
    Membership.objects.create(user=rep, team=TeamFactory(), role="manager", active_from=D(2025, 8, 1))


@pytest.mark.postgres
def test_database_refusal_reaches_the_user_in_plain_words(personas, left_berlin, monkeypatch):
    """Two admins add the same rep at once: the service check of one may pass before the other commits. Here the
    check is skipped to stand in for that race; the database still refuses, in words."""
    rep, _, london = left_berlin
    monkeypatch.setattr(services, "_overlapping_rep_membership", lambda **kw: None)
    with pytest.raises(ValidationError) as refused:
        services.member_add(added_by=personas.admin, user=rep, team=london, active_from=D(2025, 1, 1))
    assert "already has a rep membership on some of these days" in refused.value.messages[0]
    assert not Membership.objects.filter(team=london).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_adds_of_one_rep_to_two_teams_leave_one_membership():
    admins = [UserFactory(is_staff=True) for _ in range(2)]
    rep = UserFactory()
    teams = [TeamFactory(), TeamFactory()]
    results, barrier = [], threading.Barrier(2)

    def add(index):
        try:
            barrier.wait()
            services.member_add(added_by=admins[index], user=rep, team=teams[index], active_from=D(2026, 1, 1))
            results.append("added")
        except ValidationError:
            results.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=add, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["added", "refused"]
    assert Membership.objects.filter(user=rep).count() == 1
    assert Team.objects.count() == 2


def test_django_admin_shows_memberships_read_only(client, personas):
    """The Django admin is no back door around the rules: memberships change on the team pages only."""
    membership = current(personas.rep_a, personas.team_a)
    client.force_login(personas.admin)
    assert client.get(reverse("admin:teams_membership_add")).status_code == 403
    change = reverse("admin:teams_membership_change", args=[membership.id])
    assert client.post(change, {"role": "manager", "capacity": "1", "active_from": "2020-01-01"}).status_code == 403
    membership.refresh_from_db()
    assert membership.role == "rep"
    html = client.get(reverse("admin:teams_user_change", args=[personas.rep_a.id])).content.decode()
    assert 'name="is_active"' not in html
