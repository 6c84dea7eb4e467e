import pytest
from django.core.management import call_command

from goals.models import Goal, StaleTarget
from teams.models import AuditEvent, Membership, Team, User

pytestmark = pytest.mark.django_db


def _snapshot():
    return (
        sorted(User.objects.values_list("username", "first_name", "timezone", "password")),
        sorted(Team.objects.values_list("slug", "name", "parent__slug")),
        sorted(Membership.objects.values_list("user__username", "team__slug", "role", "capacity", "active_from")),
    )


def test_seed_demo_builds_org_and_is_idempotent(capsys):
    call_command("seed_demo")
    first = _snapshot()
    # 24 demo reps and a former rep (Berlin, deactivated today); the invited newcomer is in no team yet.
    assert Membership.objects.filter(role="rep").count() == 25
    assert Membership.objects.filter(role="rep", active_to__isnull=True).count() == 24
    assert User.objects.get(username="nia.newcomer@example.com").has_usable_password() is False
    assert User.objects.get(username="zoe.former").is_active is False
    assert AuditEvent.objects.filter(kind="invitation").count() == 1
    assert set(AuditEvent.objects.values_list("kind", flat=True)) >= {"login", "login_failed", "lockout",
                                                                       "permission_denied", "deactivation"}  # fmt: skip
    assert Membership.objects.filter(role="manager").count() == 4
    assert Team.objects.count() == 7  # org, 2 regions, 4 teams
    assert "rep1" in capsys.readouterr().out
    # Every figure is fresh at once: nothing waits for a worker ("updating…" on every goal page, a tester saw).
    assert not StaleTarget.objects.exists()
    assert not Goal.objects.filter(status="active", computed_at__isnull=True).exists()
    events = AuditEvent.objects.count()
    call_command("seed_demo")
    assert _snapshot() == first and AuditEvent.objects.count() == events
