"""The goals admin: every page opens; history and the ledger cannot be deleted or rewritten there."""

import pytest
from django.urls import reverse

from tests.factories import GoalFactory, KpiFactory, MicroGoalFactory, ProgressEntryFactory

pytestmark = pytest.mark.django_db


def test_admin_pages_open_for_every_goals_model(client, admin_user):
    goal = GoalFactory()
    micro = MicroGoalFactory(goal=goal)
    entry = ProgressEntryFactory(kpi=goal.kpi)
    revision = goal.revisions.create(kind="created", changes={"target_value": ["", "100"]})
    client.force_login(admin_user)
    for model, obj in [("kpi", goal.kpi), ("goal", goal), ("microgoal", micro), ("progressentry", entry),
                       ("goalrevision", revision)]:  # fmt: skip
        assert client.get(reverse(f"admin:goals_{model}_changelist")).status_code == 200
        assert client.get(reverse(f"admin:goals_{model}_change", args=[obj.pk])).status_code == 200


def test_entries_and_revisions_cannot_be_deleted_or_added_in_the_admin(client, admin_user):
    entry = ProgressEntryFactory()
    client.force_login(admin_user)
    assert client.get(reverse("admin:goals_progressentry_delete", args=[entry.pk])).status_code == 403
    assert client.get(reverse("admin:goals_progressentry_add")).status_code == 403
    assert client.get(reverse("admin:goals_goalrevision_add")).status_code == 403
    assert client.get(reverse("admin:goals_goal_add")).status_code == 403


def test_goals_cannot_be_deleted_in_the_admin_so_their_revisions_stay(client, admin_user):
    goal = GoalFactory()
    goal.revisions.create(kind="created", changes={"target_value": ["", "100"]})
    client.force_login(admin_user)
    assert client.get(reverse("admin:goals_goal_delete", args=[goal.pk])).status_code == 403
    response = client.post(
        reverse("admin:goals_goal_changelist"),
        {"action": "delete_selected", "_selected_action": [goal.pk], "post": "yes"},
    )
    assert goal.revisions.count() == 1 and type(goal).objects.filter(pk=goal.pk).exists()
    assert response.status_code in (200, 302)


def test_a_goals_parent_cannot_be_changed_in_the_admin_skipping_the_cycle_check(client, admin_user):
    parent = GoalFactory()
    child = GoalFactory(parent=parent)
    client.force_login(admin_user)
    page = client.get(reverse("admin:goals_goal_change", args=[parent.pk])).content.decode()
    assert 'name="parent"' not in page  # shown read-only
    client.post(reverse("admin:goals_goal_change", args=[parent.pk]), {"title": parent.title, "parent": child.pk})
    parent.refresh_from_db()
    assert parent.parent_id is None


def test_kpis_are_configured_in_the_app_not_in_the_admin(client, admin_user):
    """The admin would skip kpi_create's case-insensitive name and currency checks."""
    kpi = KpiFactory(name="Deals won")
    client.force_login(admin_user)
    assert client.get(reverse("admin:goals_kpi_add")).status_code == 403
    client.post(
        reverse("admin:goals_kpi_change", args=[kpi.pk]),
        {"name": "deals WON", "unit": "currency", "currency_code": "DOL"},
    )
    kpi.refresh_from_db()
    assert (kpi.name, kpi.unit) == ("Deals won", "count")
