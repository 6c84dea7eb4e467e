import datetime
from decimal import Decimal

import factory

from teams.models import Membership, Team, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    timezone = "UTC"
    password = factory.django.Password("pw")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    team = factory.SubFactory(TeamFactory)
    role = Membership.Role.REP
    capacity = Decimal("1.00")
    active_from = datetime.date(2020, 1, 1)


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "notifications.Notification"

    user = factory.SubFactory(UserFactory)
    kind = "feedback_received"
    key = factory.Sequence(lambda n: f"test:{n}")
    title = factory.Sequence(lambda n: f"Notification {n}")
    body = "Something happened."
    url = "/"


class KpiFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "goals.Kpi"
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"KPI {n}")
    unit = "count"
    decimal_places = 0
    aggregation = "sum"
    direction = "higher"


class GoalFactory(factory.django.DjangoModelFactory):
    """An active individual goal for a new user; pass owner_team=… for a team goal (owner_user is then None)."""

    class Meta:
        model = "goals.Goal"

    title = factory.Sequence(lambda n: f"Goal {n}")
    kpi = factory.SubFactory(KpiFactory)
    target_value = Decimal("100")
    baseline_value = Decimal("0")
    start_date = datetime.date(2026, 3, 2)
    due_date = datetime.date(2026, 3, 27)
    owner_team = None
    owner_user = factory.Maybe("owner_team", yes_declaration=None, no_declaration=factory.SubFactory(UserFactory))
    status = "active"
    created_by = factory.SubFactory(UserFactory)


class MicroGoalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "goals.MicroGoal"

    goal = factory.SubFactory(GoalFactory)
    assignee = factory.SubFactory(UserFactory)
    kpi = factory.SelfAttribute("goal.kpi")
    target_value = Decimal("10")
    start_date = factory.SelfAttribute("goal.start_date")
    due_date = factory.SelfAttribute("goal.due_date")
    status = "active"


class ProgressEntryFactory(factory.django.DjangoModelFactory):
    """A raw ledger row (no validation, no enqueue): for set-up. Tests of the rules go through progress_record."""

    class Meta:
        model = "goals.ProgressEntry"

    user = factory.SubFactory(UserFactory)
    kpi = factory.SubFactory(KpiFactory)
    date = datetime.date(2026, 3, 2)
    value = Decimal("1")
    source = "web"
    created_by = factory.SelfAttribute("user")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        entry = super()._create(model_class, *args, **kwargs)
        # The engine reads the daily rollup: keep it in step, as progress_record does.
        from goals.services.rollups import rollups_add_entries

        rollups_add_entries([entry.pk])
        return entry


# --- Builders: shorthands over the factories above, for tests that set up many rows ---------------------


def make_kpi(**fields):
    return KpiFactory(**fields)


def make_goal(*, owner_user=None, owner_team=None, kpi=None, created_by=None, **fields):
    """An active goal over 2026 (on track until recomputed) for owner_user or owner_team."""
    defaults = {"start_date": datetime.date(2026, 1, 1), "due_date": datetime.date(2026, 12, 31), "health": "on_track"}
    return GoalFactory(
        kpi=kpi or KpiFactory(),
        owner_user=owner_user,
        owner_team=owner_team,
        created_by=created_by or owner_user or UserFactory(),
        **{**defaults, **fields},
    )


def make_micro_goal(*, assignee, start, due, goal=None, **fields):
    goal = goal or make_goal(owner_user=assignee, start_date=start, due_date=max(due, start))
    return MicroGoalFactory(
        goal=goal, assignee=assignee, target_value=Decimal(5), start_date=start, due_date=due, **fields
    )


def make_entry(*, user, date, kpi=None, value=1, **fields):
    return ProgressEntryFactory(user=user, kpi=kpi or KpiFactory(), date=date, value=Decimal(value), **fields)


def make_rep(team, *, username=None, timezone="UTC", **user_fields):
    """A user who is a rep of `team` (since 2020)."""
    user = UserFactory(**({"username": username} if username else {}), timezone=timezone, **user_fields)
    MembershipFactory(user=user, team=team, role=Membership.Role.REP)
    return user


def make_manager(team, *, username=None, timezone="UTC", **user_fields):
    """A user who manages `team` (since 2020)."""
    user = UserFactory(**({"username": username} if username else {}), timezone=timezone, **user_fields)
    MembershipFactory(user=user, team=team, role=Membership.Role.MANAGER)
    return user


def allow_legacy_overlapping_rep_memberships():
    """Stand in for data written before rep memberships were refused to overlap (issue 9): on PostgreSQL drop the
    membership_rep_no_overlap constraint inside the current test's transaction (rolled back with it); SQLite has
    no such constraint. Then MembershipFactory may create overlaps, as old databases may hold them."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE refuses while deferred FK checks wait
            cursor.execute("ALTER TABLE teams_membership DROP CONSTRAINT membership_rep_no_overlap")
