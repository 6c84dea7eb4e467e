"""Who may see and act on which goals, micro goals and progress entries: the one place the goals app decides it.

- admin (User.is_staff): everything.
- manager: goals owned by the teams they manage (with sub-teams) and by the members of those teams; micro goals
  and entries of those members (and their own).
- rep: their own goals and the goals owned by the teams they belong to; their own micro goals and entries.

Also here: which entries count for an owner or a goal (the progress engine's rule, for the services and the log
history), a goal's micro goals and revisions for its page, and the manager dashboard's data.

Every function costs a fixed number of queries however many rows it returns; the `get` selectors raise Http404
alike for "missing" and "not yours".
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from teams.calendar import WorkingCalendar
from teams.models import Membership, Team, User
from teams.selectors import (
    active_memberships,
    calendars_for_teams,
    managed_team_ids,
    rep_membership,
    team_ids_with_descendants,
    user_ids_visible_to,
)
from teams.validators import parse_id

from . import pace
from .models import Goal, GoalRevision, Health, Kpi, MicroGoal, ProgressEntry, ProgressEntryRevision

# Worst first: the dashboard lists reps who need attention at the top.
HEALTH_ORDER = {Health.OFF_TRACK: 0, Health.AT_RISK: 1, Health.ON_TRACK: 2, Health.ACHIEVED: 3, "": 4}


def goal_list_for_user(*, user: User) -> QuerySet[Goal]:
    """Goals the user may see. Queries: 2 to find the managed teams (none for an admin), then the list itself."""
    goals = Goal.objects.select_related("kpi", "owner_user", "owner_team")
    if user.is_staff:
        return goals
    managed = managed_team_ids(user=user)
    own_team_ids = active_memberships().filter(user=user).values("team_id")
    visible = Q(owner_user=user) | Q(owner_team_id__in=own_team_ids)
    if managed:
        members = active_memberships().filter(team_id__in=managed).values("user_id")
        visible |= Q(owner_team_id__in=managed) | Q(owner_user_id__in=members)
    return goals.filter(visible)


def goal_get_for_user(*, user: User, id: int) -> Goal:
    return get_object_or_404(goal_list_for_user(user=user), id=id)


def goal_get_managed_by(*, user: User, id: int) -> Goal:
    """A goal the user may change: 404 when they cannot see it, 403 when they see it but do not manage it."""
    goal = goal_get_for_user(user=user, id=id)
    if not goal_manageable_by(user=user, goal=goal):
        raise PermissionDenied
    return goal


def goal_manageable_by(*, user: User, goal: Goal) -> bool:
    """May the user set, change, break down or cancel this goal? Works on unsaved goals too (goal_create asks).

    Admins manage every goal; a manager manages the goals of the teams they manage (with sub-teams) and of the
    people in those teams, except their own personal goals (those belong to whoever manages them). Reps manage
    none. Queries: at most 3.
    """
    if user.is_staff:
        return True
    managed = managed_team_ids(user=user)
    if not managed:
        return False
    if goal.owner_team_id is not None:
        return goal.owner_team_id in managed
    if goal.owner_user_id is None or goal.owner_user_id == user.id:
        return False
    return active_memberships().filter(user_id=goal.owner_user_id, team_id__in=managed).exists()


def micro_goal_list_for_user(*, user: User) -> QuerySet[MicroGoal]:
    """Micro goals assigned to the people the user may see (a rep: themself). Queries: at most 3."""
    micro_goals = MicroGoal.objects.select_related("goal", "kpi", "assignee")
    if user.is_staff:
        return micro_goals
    return micro_goals.filter(assignee_id__in=user_ids_visible_to(user=user))


def entry_list_for_user(*, user: User) -> QuerySet[ProgressEntry]:
    """Progress entries of the people the user may see, voided ones included (they are history). Queries: <= 3."""
    entries = ProgressEntry.objects.select_related("user", "kpi", "created_by")
    if user.is_staff:
        return entries
    return entries.filter(user_id__in=user_ids_visible_to(user=user))


def entry_get_for_user(*, user: User, id: int) -> ProgressEntry:
    return get_object_or_404(entry_list_for_user(user=user), id=id)


def entry_rewritable_by(*, user: User, entry: ProgressEntry) -> bool:
    """Whether `user` (who may act for the entry's owner) may change its value, date or note. The owner may
    not when someone else logged it for them or it was imported: they void it with a reason and log a new
    one; their manager or an admin corrects it. No query."""
    if user.pk != entry.user_id or user.is_staff:
        return True
    return entry.created_by_id == entry.user_id and entry.source != ProgressEntry.Source.IMPORT


def entry_actions_for_user(*, user: User, entries) -> None:
    """Mark each entry with `can_edit` and `can_void` for `user`: what the log history offers. Queries: 1–2
    (the people the user may act for), none for an admin."""
    actable = None if user.is_staff else user_ids_visible_to(user=user)
    for entry in entries:
        may_act = not entry.is_voided and (actable is None or entry.user_id in actable)
        entry.can_void = may_act
        entry.can_edit = may_act and entry_rewritable_by(user=user, entry=entry)


def _counting_for_owner(entries: QuerySet[ProgressEntry], *, owner_user_id, owner_team_id) -> QuerySet[ProgressEntry]:
    """`entries` narrowed to those that count for an owner, by the progress engine's rule: the user's own, or for a
    team those of anyone who was a rep of the team or a sub-team on the entry's date (managers' own entries do not
    count). Queries: 1 for a team (the team tree); the rest is a subquery of the returned queryset."""
    if owner_team_id is None:
        return entries.filter(user_id=owner_user_id)
    was_rep = Membership.objects.filter(
        Q(active_to__isnull=True) | Q(active_to__gte=OuterRef("date")),
        user_id=OuterRef("user_id"),
        team_id__in=team_ids_with_descendants([owner_team_id]),
        role=Membership.Role.REP,
        active_from__lte=OuterRef("date"),
    )
    return entries.filter(Exists(was_rep))


def entry_list_for_owner(*, owner_user: User | None = None, owner_team: Team | None = None) -> QuerySet[ProgressEntry]:
    """Every entry that counts for an owner (a user or a team), on any KPI and date, voided ones included: what the
    services assess and plan from. Queries: 1 for a team, none for a user, until the queryset is read."""
    return _counting_for_owner(
        ProgressEntry.objects.all(),
        owner_user_id=owner_user.pk if owner_user is not None else None,
        owner_team_id=owner_team.pk if owner_team is not None else None,
    )


def owner_calendar(
    *, owner_user: User | None = None, owner_team: Team | None = None, on: datetime.date | None = None
) -> WorkingCalendar:
    """The working calendar an owner's pace is counted on (the progress engine's rule): a team's own; a user's rep
    team's on `on` (default today); Monday–Friday for a user who is nobody's rep. Queries: 3 for a team, 4 for a
    user (1 when not a rep)."""
    if owner_team is not None:
        return calendars_for_teams(team_ids=[owner_team.pk])[owner_team.pk]
    membership = rep_membership(user=owner_user, on=on)
    if membership is None:
        return WorkingCalendar()
    return calendars_for_teams(team_ids=[membership.team_id])[membership.team_id]


def entry_list_for_goal(*, user: User, goal: Goal) -> QuerySet[ProgressEntry]:
    """The entries that count (or, voided, counted) for the goal, among those the user may see: its owner's on its
    KPI, dated inside its window, by the progress engine's rule (see `_counting_for_owner`); newest first.
    Queries: at most 4 before the list itself."""
    entries = entry_list_for_user(user=user).filter(
        kpi_id=goal.kpi_id, date__gte=goal.start_date, date__lte=goal.due_date
    )
    entries = _counting_for_owner(entries, owner_user_id=goal.owner_user_id, owner_team_id=goal.owner_team_id)
    revisions = Prefetch("revisions", ProgressEntryRevision.objects.select_related("changed_by"))
    return (
        entries.select_related("user", "created_by", "voided_by")
        .prefetch_related(revisions)
        .order_by("-date", "-created_at", "-id")
    )


def micro_goal_list_for_goal(*, goal: Goal) -> QuerySet[MicroGoal]:
    """The goal's micro goals but the cancelled ones, by period then assignee, with assignee and KPI. The goal is
    one the caller may see (goal_get_for_user): so are its micro goals."""
    return (
        goal.micro_goals.exclude(status=MicroGoal.Status.CANCELLED)
        .select_related("assignee", "kpi")
        .order_by("start_date", "assignee__first_name", "assignee__last_name", "assignee__username")
    )


def revision_list_for_goal(*, goal: Goal) -> tuple[list[GoalRevision], dict[str, str]]:
    """The goal's revisions newest first (with who made them), and the name of every owner they mention, as
    {"user:<id>": name, "team:<id>": name}. Queries: 1, plus at most 2 to name changed owners."""
    revisions = list(goal.revisions.select_related("changed_by"))
    owner_ids = {"user": set(), "team": set()}
    for revision in revisions:
        for value in revision.changes.get("owner", []):
            kind, _, pk = str(value).partition(":")
            if kind in owner_ids and parse_id(pk) is not None:
                owner_ids[kind].add(parse_id(pk))
    names = {}
    if owner_ids["user"]:
        names |= {f"user:{u.id}": str(u) for u in User.objects.filter(id__in=owner_ids["user"])}
    if owner_ids["team"]:
        names |= {f"team:{t.id}": t.name for t in Team.objects.filter(id__in=owner_ids["team"])}
    return revisions, names


def kpi_list(*, active_only: bool = True) -> QuerySet[Kpi]:
    kpis = Kpi.objects.all()
    return kpis.filter(is_active=True) if active_only else kpis


def kpi_get(*, id: int) -> Kpi:
    """Any KPI, active or not (KPIs are organisation-wide, not anyone's); 404 when missing."""
    return get_object_or_404(Kpi, id=id)


# --- The manager's dashboard ------------------------------------------------------------------------------------
# `team_ids` are those the viewer manages (teams.selectors.managed_team_ids, possibly narrowed to one team's tree).


@dataclass
class RepRow:
    membership: Membership
    attainment: Decimal | None = None
    health: str = ""
    goals: int = 0
    last_entry: datetime.date | None = None
    entries_this_week: int = 0
    _attainments: list = field(default_factory=list)
    _healths: list = field(default_factory=list)

    @property
    def user(self):
        return self.membership.user


def dashboard_rep_rows(*, team_ids, start: datetime.date, end: datetime.date, today: datetime.date) -> list[RepRow]:
    """One row per current rep of the teams, worst health first. Queries: 4, whatever the number of reps —
    rep memberships, their own goals in the period, their micro goals in the period, one aggregate of entries."""
    rows = {
        m.user_id: RepRow(m)
        for m in active_memberships(today)
        .filter(team_id__in=team_ids, role=Membership.Role.REP)
        .select_related("user", "team")
    }
    if not rows:
        return []
    overlap = Q(start_date__lte=min(end, today), due_date__gte=start)  # in the period and started by today
    goals = (
        Goal.objects.filter(overlap, owner_user_id__in=list(rows))
        .exclude(status=Goal.Status.CANCELLED)
        .values_list("owner_user_id", "status", "current_value", "baseline_value", "target_value", "health")
    )
    micro_goals = (
        MicroGoal.objects.filter(overlap, assignee_id__in=list(rows))
        .exclude(status=MicroGoal.Status.CANCELLED)
        .values_list("assignee_id", "status", "current_value", "target_value", "health")
    )
    items = [(u, s, c, b, t, h) for u, s, c, b, t, h in goals]
    items += [(u, s, c, Decimal(0), t, h) for u, s, c, t, h in micro_goals]
    for user_id, status, current, baseline, target, health in items:
        row = rows[user_id]
        row.goals += 1
        row._attainments.append(pace.attainment_percent(current=current, baseline=baseline, target=target))
        if health:
            row._healths.append((status == Goal.Status.ACTIVE, health))
    week_start = today - datetime.timedelta(days=today.weekday())
    for user_id, last, week in (
        ProgressEntry.objects.filter(user_id__in=list(rows), voided_at__isnull=True, date__lte=today)
        .order_by()
        .values("user_id")
        .annotate(last=Max("date"), week=Count("id", filter=Q(date__gte=week_start)))
        .values_list("user_id", "last", "week")
    ):
        rows[user_id].last_entry, rows[user_id].entries_this_week = last, week
    for row in rows.values():
        if row._attainments:
            row.attainment = sum(row._attainments) / len(row._attainments)
        live = [h for active, h in row._healths if active] or [h for _, h in row._healths]
        row.health = min(live, key=HEALTH_ORDER.get, default="")
    return sorted(
        rows.values(),
        key=lambda r: (
            HEALTH_ORDER[r.health],
            r.attainment if r.attainment is not None else Decimal(10**6),
            str(r.user).casefold(),
        ),
    )


def dashboard_team_goals(*, team_ids, start: datetime.date, end: datetime.date) -> list[Goal]:
    """The teams' goals overlapping the period (cancelled ones aside), active first, then by due date and title,
    each with its `attainment` in percent. Queries: 1."""
    goals = list(
        Goal.objects.filter(owner_team_id__in=team_ids, start_date__lte=end, due_date__gte=start)
        .exclude(status=Goal.Status.CANCELLED)
        .select_related("kpi", "owner_team")
        .order_by("due_date", "title")
    )
    goals.sort(key=lambda g: g.status != Goal.Status.ACTIVE)  # active first, then draft and closed ones
    for goal in goals:
        goal.attainment = pace.attainment_percent(
            current=goal.current_value, baseline=goal.baseline_value, target=goal.target_value
        )
    return goals
