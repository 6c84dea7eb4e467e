"""The goals admin: every page opens; history and the ledger cannot be deleted or rewritten there."""

import pytest
from django.urls import reverse

from tests.factories import GoalFactory, MicroGoalFactory, ProgressEntryFactory

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
