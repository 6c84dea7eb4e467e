"""The Django admin for teams and people: every page opens, and nothing the app keeps as history can be changed
or deleted there (memberships decide whose entries count; their rules live in teams.services)."""

import pytest
from django.urls import reverse

from teams.models import AuditEvent, Membership
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_admin_pages_open_for_every_teams_model(client, admin_user):
    membership = MembershipFactory()
    event = AuditEvent.objects.create(kind=AuditEvent.Kind.LOGIN, actor=admin_user, summary="admin logged in")
    client.force_login(admin_user)
    for model, obj in [("user", membership.user), ("team", membership.team), ("membership", membership),
                       ("auditevent", event)]:  # fmt: skip
        assert client.get(reverse(f"admin:teams_{model}_changelist")).status_code == 200
        assert client.get(reverse(f"admin:teams_{model}_change", args=[obj.pk])).status_code == 200


def test_memberships_cannot_be_added_changed_or_deleted_in_the_admin(client, admin_user):
    membership = MembershipFactory(role=Membership.Role.REP)
    client.force_login(admin_user)
    assert client.get(reverse("admin:teams_membership_add")).status_code == 403
    assert client.get(reverse("admin:teams_membership_delete", args=[membership.pk])).status_code == 403
    client.post(reverse("admin:teams_membership_change", args=[membership.pk]), {"role": "manager"})
    membership.refresh_from_db()
    assert membership.role == Membership.Role.REP


def test_a_team_page_in_the_admin_does_not_offer_to_delete_its_memberships(client, admin_user):
    membership = MembershipFactory()
    client.force_login(admin_user)
    page = client.get(reverse("admin:teams_team_change", args=[membership.team.pk])).content.decode()
    assert "memberships-0-DELETE" not in page
    assert client.get(reverse("admin:teams_team_delete", args=[membership.team.pk])).status_code == 403


def test_people_and_the_audit_trail_cannot_be_deleted_in_the_admin(client, admin_user):
    user = UserFactory()
    event = AuditEvent.objects.create(kind=AuditEvent.Kind.LOGIN, actor=user, summary="logged in")
    client.force_login(admin_user)
    assert client.get(reverse("admin:teams_user_delete", args=[user.pk])).status_code == 403
    assert client.get(reverse("admin:teams_auditevent_delete", args=[event.pk])).status_code == 403
    page = client.get(reverse("admin:teams_user_change", args=[user.pk])).content.decode()
    assert 'name="is_active"' not in page  # deactivation ends memberships: it happens in the app
    TeamFactory()  # the team list still opens with teams in it
    assert client.get(reverse("admin:teams_team_changelist")).status_code == 200
