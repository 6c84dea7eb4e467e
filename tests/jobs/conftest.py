"""Data builders for the job tests (plain ORM: the jobs read what the goals services wrote)."""

import datetime
import itertools
from decimal import Decimal

from goals.models import Goal, Health, Kpi, MicroGoal, ProgressEntry
from goals.services.rollups import rollups_add_entries
from teams.models import Membership
from tests.factories import MembershipFactory, UserFactory

_seq = itertools.count()


def make_kpi(**fields):
    return Kpi.objects.create(**{"name": f"Deals {next(_seq)}", **fields})


def make_goal(*, owner_user=None, owner_team=None, kpi=None, created_by=None, **fields):
    defaults = {
        "title": f"Goal {next(_seq)}",
        "target_value": Decimal(100),
        "start_date": datetime.date(2026, 1, 1),
        "due_date": datetime.date(2026, 12, 31),
        "health": Health.ON_TRACK,
    }
    return Goal.objects.create(
        kpi=kpi or make_kpi(),
        owner_user=owner_user,
        owner_team=owner_team,
        created_by=created_by or owner_user or UserFactory(),
        **{**defaults, **fields},
    )


def make_micro_goal(*, assignee, start, due, goal=None, **fields):
    goal = goal or make_goal(owner_user=assignee, start_date=start, due_date=max(due, start))
    return MicroGoal.objects.create(
        goal=goal,
        assignee=assignee,
        kpi=goal.kpi,
        target_value=Decimal(5),
        start_date=start,
        due_date=due,
        **fields,
    )


def make_entry(*, user, date, kpi=None, value=1, **fields):
    entry = ProgressEntry.objects.create(
        user=user, kpi=kpi or make_kpi(), date=date, value=Decimal(value), created_by=user, **fields
    )
    rollups_add_entries([entry.pk])  # the engine reads the daily rollup, which progress_record keeps
    return entry


def make_rep(team, *, username=None, timezone="UTC", **user_fields):
    user = UserFactory(username=username or f"rep{next(_seq)}", timezone=timezone, **user_fields)
    MembershipFactory(user=user, team=team, role=Membership.Role.REP)
    return user


def make_manager(team, *, username=None, timezone="UTC", **user_fields):
    user = UserFactory(username=username or f"mgr{next(_seq)}", timezone=timezone, **user_fields)
    MembershipFactory(user=user, team=team, role=Membership.Role.MANAGER)
    return user
