import pytest
from django.core.management import call_command

from teams.models import Membership, Team, User

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
    assert Membership.objects.filter(role="rep").count() == 24
    assert Membership.objects.filter(role="manager").count() == 4
    assert Team.objects.count() == 7  # org, 2 regions, 4 teams
    assert "rep1" in capsys.readouterr().out
    call_command("seed_demo")
    assert _snapshot() == first
