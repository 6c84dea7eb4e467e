"""Shared fixtures: the named personas, eager Celery, and the rule that service-backed tests never silently skip
in CI."""

import os
from types import SimpleNamespace

import pytest
from celery.result import _set_task_join_will_block
from django.conf import settings

from config.celery import app
from teams.models import Membership

from .factories import MembershipFactory, TeamFactory, UserFactory

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
EAGER = {"task_always_eager": True, "task_eager_propagates": True}


def _service_missing(marker_name):
    """Why a service-backed test cannot run here, or None when it can."""
    if marker_name == "postgres" and settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        return "needs PostgreSQL: set DATABASE_URL=postgres://..."
    if marker_name == "redis" and not settings.CELERY_BROKER_URL.startswith("redis://"):
        return "needs Redis: set CELERY_BROKER_URL=redis://..."
    if marker_name == "e2e" and not os.path.exists("/usr/bin/chromium"):
        return "needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"
    return None


@pytest.fixture(autouse=True)
def _celery_join_flag_cleared():
    """Celery's "joining would block" flag is process-wide and set without a lock: threads racing on eager tasks
    (the concurrency tests) can leave it set, and the next test in the same process that calls .get() fails with
    "Never call result.get() within a task!". Start every test with it cleared."""
    _set_task_join_will_block(False)
    yield


def pytest_runtest_setup(item):
    for name in ("postgres", "redis", "e2e"):
        if item.get_closest_marker(name):
            reason = _service_missing(name)
            if reason and REQUIRE_SERVICES:
                pytest.fail(f"REQUIRE_SERVICES=1 but this test {reason}", pytrace=False)
            if reason:
                pytest.skip(reason)


@pytest.fixture
def team_a(db):
    return TeamFactory(name="Team A", slug="team-a")


@pytest.fixture
def team_b(db):
    return TeamFactory(name="Team B", slug="team-b")


@pytest.fixture
def admin_user(db):
    return UserFactory(username="ada_admin", is_staff=True, is_superuser=True)


@pytest.fixture
def manager_a(team_a):
    return MembershipFactory(user=UserFactory(username="mia_manager_a"), team=team_a, role=Membership.Role.MANAGER).user


@pytest.fixture
def rep_a(team_a):
    return MembershipFactory(user=UserFactory(username="ray_rep_a"), team=team_a).user


@pytest.fixture
def rep_a2(team_a):
    """A second rep of team A: a teammate, who may see the team's goals but not change rep A's entries."""
    return MembershipFactory(user=UserFactory(username="rob_rep_a2"), team=team_a).user


@pytest.fixture
def manager_b(team_b):
    return MembershipFactory(user=UserFactory(username="max_manager_b"), team=team_b, role=Membership.Role.MANAGER).user


@pytest.fixture
def rep_b(team_b):
    return MembershipFactory(user=UserFactory(username="rita_rep_b"), team=team_b).user


@pytest.fixture
def personas(admin_user, manager_a, rep_a, manager_b, rep_b, team_a, team_b):
    return SimpleNamespace(
        admin=admin_user,
        manager_a=manager_a,
        rep_a=rep_a,
        manager_b=manager_b,
        rep_b=rep_b,
        team_a=team_a,
        team_b=team_b,
    )


@pytest.fixture
def eager_celery():
    """Queued tasks (e.g. notify()'s email) run in-process, as a worker would: the broker is not under test."""
    saved = {name: app.conf[name] for name in EAGER}
    app.conf.update(EAGER)
    yield
    app.conf.update(saved)


@pytest.fixture
def notification_inserts():
    """How many INSERT statements notifications_deliver's bulk_create of n rows takes: one on PostgreSQL (up to
    its batch of 500); on SQLite as many as its bound-parameter limit needs (about 90 rows each)."""
    from django.db import connection
    from django.db.models import AutoField

    from notifications.models import Notification

    fields = [f for f in Notification._meta.concrete_fields if not isinstance(f, AutoField)]

    def inserts(n: int) -> int:
        per_statement = min(500, connection.ops.bulk_batch_size(fields, [None] * n))
        return -(-n // per_statement)

    return inserts
