"""On a real Celery worker (Redis broker, PostgreSQL): an entry's recompute task grants the tier it crosses."""

import datetime
from decimal import Decimal

import pytest

from goals import services as goal_services
from notifications.models import Notification
from rewards import services
from rewards.models import Award
from tests.factories import GoalFactory, KpiFactory
from tests.jobs.test_worker import wait_for, worker  # noqa: F401 - the worker fixture

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_real_worker_grants_the_tier_an_entry_crosses_once(rep_a, manager_a, admin_user, worker):  # noqa: F811
    services.tier_create(created_by=admin_user, name="Target", threshold_percent=Decimal(100))
    kpi = KpiFactory(name="Deals won")
    goal = GoalFactory(owner_user=rep_a, kpi=kpi, target_value=Decimal(5), start_date=datetime.date(2000, 1, 1),
                       due_date=datetime.date(2099, 1, 1))  # fmt: skip
    today = rep_a.local_today()
    goal_services.progress_record(user=rep_a, kpi=kpi, date=today, value=5, created_by=rep_a)
    wait_for(lambda: Award.objects.filter(user=rep_a, goal=goal).exists(), what="the award")
    goal_services.progress_record(user=rep_a, kpi=kpi, date=today, value=1, created_by=rep_a)  # a second recompute
    wait_for(lambda: goal.__class__.objects.get(id=goal.id).current_value == 6, what="the second recompute")
    assert Award.objects.filter(user=rep_a).count() == 1
    assert Notification.objects.filter(user__in=[rep_a, manager_a], kind="award_granted").count() == 2
