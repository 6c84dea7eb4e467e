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
import logging
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import (
    Avg,
    Case,
    Count,
    Exists,
    F,
    FloatField,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Concat, Greatest, Lower, NullIf, Trim
from django.shortcuts import get_object_or_404

from notifications.models import Notification
from notifications.selectors import notification_keys_delivered
from teams.calendar import WorkingCalendar, org_today
from teams.models import Membership, Team, User
from teams.selectors import (
    active_memberships,
    calendars_for_reps,
    calendars_for_teams,
    managed_team_ids,
    rep_membership,
    team_ids_with_ancestors,
    team_ids_with_descendants,
    team_parents,
    user_ids_visible_to,
)
from teams.validators import parse_id

from . import pace
from .figures import figures_for
from .models import Goal, GoalRevision, Health, Kpi, MicroGoal, ProgressDay, ProgressEntry, ProgressEntryRevision

logger = logging.getLogger(__name__)
Kind = Notification.Kind

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


def revision_list_for_entry(*, entry: ProgressEntry) -> QuerySet[ProgressEntryRevision]:
    """The entry's corrections (edits and its void), oldest first, with who made them. The entry is one the caller
    may see (entry_get_for_user): so is its history. Queries: 1."""
    return entry.revisions.select_related("changed_by").order_by("changed_at", "id")


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


def largest_day_logged(*, user_ids, kpi: Kpi) -> Decimal | None:
    """The largest amount one of these people logged on one day on the KPI (non-voided entries), or None.
    Read from the daily rollup (one row per person and day, kept with every write), so a log POST never
    re-reads the team's entries: the cost follows the days logged, not the size of the ledger. Queries: 1."""
    largest = (
        ProgressDay.objects.filter(user_id__in=list(user_ids), kpi=kpi, entry_count__gt=0)
        .order_by()
        .aggregate(largest=Max("total"))["largest"]
    )
    return largest


def micro_goal_list_for_goal(*, goal: Goal) -> QuerySet[MicroGoal]:
    """The goal's micro goals but the cancelled ones, by period then assignee, with assignee and KPI; on a cancelled
    goal, the ones cancelled with it stay (the plan it had; those a re-plan superseded do not). The goal is one the
    caller may see (goal_get_for_user): so are its micro goals."""
    return (
        goal.micro_goals.exclude(status=MicroGoal.Status.CANCELLED, cancelled_with_goal=False)
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


@dataclass(frozen=True)
class RepGoal:
    """One of a rep's hard goals on the dashboard row: enough to list and link it."""

    id: int
    title: str
    status: str
    health: str
    attainment: Decimal


@dataclass
class RepRow:
    """A rep's row. Its figures are named aggregates of the rep's own hard goals in the period (micro goals are
    plans inside those goals, never counted as goals):
    - attainment = the plain average of those goals' attainment % (each goal weighs the same);
    - health = the worst health among those still active (among all of them once none is active)."""

    membership: Membership
    goals: list[RepGoal] = field(default_factory=list)
    last_entry: datetime.date | None = None
    entries_this_week: int = 0

    @property
    def user(self):
        return self.membership.user

    @property
    def attainment(self) -> Decimal | None:
        if not self.goals:
            return None
        return sum((g.attainment for g in self.goals), Decimal(0)) / len(self.goals)

    @property
    def health(self) -> str:
        live = [g.health for g in self.goals if g.status == Goal.Status.ACTIVE and g.health]
        live = live or [g.health for g in self.goals if g.health]
        return min(live, key=HEALTH_ORDER.get, default="")

    @property
    def health_counts(self) -> list[tuple[str, int]]:
        """[(health, how many goals)] worst first, for "1 off track, 2 on track"."""
        counts: dict[str, int] = {}
        for goal in self.goals:
            if goal.health:
                counts[goal.health] = counts.get(goal.health, 0) + 1
        return sorted(counts.items(), key=lambda item: HEALTH_ORDER[item[0]])


DASHBOARD_PAGE_SIZE = 20  # the demo's admin sees its 25 reps on two pages (tests/test_demo_pages.py)
# The rep table's orders (?sort=): key → how the page says it. Each ends on the membership id, so pages never
# overlap or skip a rep.
DASHBOARD_SORTS = {
    "health": "off track and at risk first",
    "name": "by name",
    "attainment": "highest attainment first",
}
_NO_HEALTH_RANK = HEALTH_ORDER[""]


def _dashboard_goals(*, start: datetime.date, end: datetime.date, today: datetime.date) -> QuerySet[Goal]:
    """The hard goals a rep's row counts: in the period, started by today, neither cancelled nor draft."""
    overlap = Q(start_date__lte=min(end, today), due_date__gte=start)
    return Goal.objects.filter(overlap).exclude(status__in=[Goal.Status.CANCELLED, Goal.Status.DRAFT])


def _per_rep(goals: QuerySet[Goal], aggregate) -> Subquery:
    """One aggregate of each rep's goals, as a subquery of their membership row."""
    mine = goals.filter(owner_user_id=OuterRef("user_id")).order_by().values("owner_user_id")
    return Subquery(mine.annotate(value=aggregate).values("value")[:1])


def attainment_sql() -> Case:
    """pace.attainment_percent as SQL, to ORDER the rep table by it (the figures shown still come from pace;
    tests/goals/test_manager_pages.py checks the two agree). In floating point: it only orders, and SQLite
    would divide whole-number decimals as integers."""
    done = Cast(F("current_value") - F("baseline_value"), FloatField())
    whole = Cast(F("target_value") - F("baseline_value"), FloatField())
    return Case(
        When(target_value=F("baseline_value"), then=Value(100.0)),
        default=Greatest(Value(0.0), done * Value(100.0) / whole),
        output_field=FloatField(),
    )


def _rep_order_keys(memberships: QuerySet[Membership], goals: QuerySet[Goal]) -> QuerySet[Membership]:
    """The row figures as SQL (RepRow's definitions): health_rank = the worst health among the rep's active
    goals, else among all of them (HEALTH_ORDER; no health last), attainment = the plain average of the
    goals' attainment %, name_key = the rep's name as shown, lower-cased."""
    rank = Case(
        *(When(health=health, then=Value(order)) for health, order in HEALTH_ORDER.items() if health),
        default=Value(_NO_HEALTH_RANK),
    )
    rated = goals.exclude(health="")
    live = _per_rep(rated.filter(status=Goal.Status.ACTIVE), Min(rank))
    full_name = Trim(Concat("user__first_name", Value(" "), "user__last_name"))
    return memberships.annotate(
        health_rank=Coalesce(live, _per_rep(rated, Min(rank)), Value(_NO_HEALTH_RANK)),
        avg_attainment=_per_rep(goals, Avg(attainment_sql())),
        name_key=Lower(Coalesce(NullIf(full_name, Value("")), "user__username")),
    )


@dataclass
class DashboardReps:
    """The rep table: one page of rows, and the summary of ALL the reps (not only the page's)."""

    total: int  # current reps of the teams
    health_counts: list[tuple[str, int]]  # [(health, reps whose row has it)] worst first; "" = no health yet
    page: Page  # its object_list: the page's RepRows
    sort: str
    search: str

    @property
    def sort_label(self) -> str:
        return DASHBOARD_SORTS[self.sort]

    @property
    def page_links(self):
        """The page numbers to link: the ends and two either side of this page, "…" between."""
        return self.page.paginator.get_elided_page_range(self.page.number, on_each_side=2, on_ends=1)

    @property
    def needs_attention(self) -> int:
        return sum(n for health, n in self.health_counts if health in (Health.OFF_TRACK, Health.AT_RISK))


def dashboard_reps(
    *,
    team_ids,
    start: datetime.date,
    end: datetime.date,
    today: datetime.date,
    sort: str = "health",
    search: str = "",
    page: str | int | None = 1,
    per_page: int = DASHBOARD_PAGE_SIZE,
) -> DashboardReps:
    """The current reps of the teams, a page at a time in `sort` order (DASHBOARD_SORTS), those whose name
    or username contains `search` only; the summary counts every rep, in SQL. Queries: 5 whatever the number
    of reps — the summary, the matching count, the page's memberships, their goals, their entries aggregate
    (the last two only when the page has rows)."""
    goals = _dashboard_goals(start=start, end=end, today=today)
    memberships = _rep_order_keys(
        active_memberships(today).filter(team_id__in=team_ids, role=Membership.Role.REP), goals
    )
    summary = dict(
        memberships.order_by().values("health_rank").annotate(reps=Count("id")).values_list("health_rank", "reps")
    )
    by_rank = {order: health for health, order in HEALTH_ORDER.items()}
    health_counts = [(by_rank[rank], summary[rank]) for rank in sorted(summary)]
    if search:
        memberships = memberships.filter(Q(name_key__contains=search.lower()) | Q(user__username__icontains=search))
    sort = sort if sort in DASHBOARD_SORTS else "health"
    order = {
        "health": ("health_rank", F("avg_attainment").asc(nulls_last=True), "name_key", "id"),
        "name": ("name_key", "id"),
        "attainment": (F("avg_attainment").desc(nulls_last=True), "name_key", "id"),
    }[sort]
    shown = Paginator(memberships.select_related("user", "team").order_by(*order), per_page).get_page(page)
    rows = {m.user_id: RepRow(m) for m in shown.object_list}
    if rows:
        _fill_rep_rows(rows, goals=goals, today=today)
    shown.object_list = list(rows.values())
    return DashboardReps(total=sum(summary.values()), health_counts=health_counts, page=shown, sort=sort, search=search)


def _fill_rep_rows(rows: dict[int, RepRow], *, goals: QuerySet[Goal], today: datetime.date) -> None:
    """The rows' goals (with their attainment, by pace) and last entry / entries this week. Queries: 2."""
    for user_id, goal_id, title, status, health, current, baseline, target in (
        goals.filter(owner_user_id__in=list(rows))
        .order_by("due_date", "title", "id")
        .values_list(
            "owner_user_id", "id", "title", "status", "health", "current_value", "baseline_value", "target_value"
        )
    ):
        attainment = pace.attainment_percent(current=current, baseline=baseline, target=target)
        rows[user_id].goals.append(RepGoal(goal_id, title, status, health, attainment))
    week_start = today - datetime.timedelta(days=today.weekday())
    for user_id, last, week in (
        ProgressEntry.objects.filter(user_id__in=list(rows), voided_at__isnull=True, date__lte=today)
        .order_by()
        .values("user_id")
        .annotate(last=Max("date"), week=Count("id", filter=Q(date__gte=week_start)))
        .values_list("user_id", "last", "week")
    ):
        rows[user_id].last_entry, rows[user_id].entries_this_week = last, week


def goal_list_with_plans_ahead(*, team: Team, today: datetime.date) -> list[Goal]:
    """Active goals of the team (with sub-teams) and of its current reps that have active micro goals starting after
    `today`: the breakdowns a change of the team (holiday, capacity, member) may put out of date. Queries: 3."""
    team_ids = team_ids_with_descendants([team.id])
    reps = active_memberships(today).filter(team_id__in=team_ids, role=Membership.Role.REP).values("user_id")
    ahead = MicroGoal.objects.filter(goal=OuterRef("pk"), status=MicroGoal.Status.ACTIVE, start_date__gt=today)
    return list(
        Goal.objects.filter(Q(owner_team_id__in=team_ids) | Q(owner_user_id__in=reps), status=Goal.Status.ACTIVE)
        .filter(Exists(ahead))
        .select_related("kpi", "owner_user", "owner_team")
        .order_by("due_date", "title")
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


def calendars_for_goals(*, goals) -> dict[int, WorkingCalendar]:
    """{goal id: the working calendar its pace counts on} for many goals (the progress engine's rule, as
    `owner_calendar`): a team goal's team's, a personal goal's owner's current rep team's, else Monday–Friday.
    Queries: 3 whatever the number of goals (the owners' rep teams, the team tree, holidays), none without goals."""
    goals = list(goals)
    if not goals:
        return {}
    rep_team = dict(
        active_memberships()
        .filter(role=Membership.Role.REP, user_id__in={g.owner_user_id for g in goals if g.owner_user_id})
        .order_by("active_from")  # should history overlap, the latest membership wins (as the engine)
        .values_list("user_id", "team_id")
    )
    team_of = {g.id: g.owner_team_id or rep_team.get(g.owner_user_id) for g in goals}
    calendars = calendars_for_teams(team_ids={t for t in team_of.values() if t})
    default = WorkingCalendar()
    return {goal_id: calendars.get(team_id, default) for goal_id, team_id in team_of.items()}


# --- Reminders and the digest: who is due (goals.services.reminders sends) ---------------------------------------
# Set-based: whether there are 5 reps or 5,000, choosing who is due costs the same few queries (local times are
# worked out per *timezone*, not per user, and turned into one filter).

DIGEST_WEEKDAY = 1  # ISO Monday
DIGEST_HOUR = 8  # manager's local time


def goal_figures_attach(goals, *, today: datetime.date) -> None:
    """Set `goal.figures` (goals.figures.GoalFigures) on each goal, on the engine's calendar for its owner.
    Queries: those of calendars_for_goals (at most 3), whatever the number of goals."""
    goals = list(goals)
    calendars = calendars_for_goals(goals=goals)
    for goal in goals:
        goal.figures = figures_for(goal, calendar=calendars[goal.id], today=today)


def micro_goal_figures_attach(micro_goals, *, today: datetime.date) -> None:
    """Set `micro_goal.figures` (goals.figures.GoalFigures) on each micro goal, on its assignee's current rep team's
    calendar (Monday–Friday without one), as the engine and Today count it. Queries: at most 3, whatever the number
    of micro goals."""
    micro_goals = list(micro_goals)
    calendars = calendars_for_reps(user_ids={m.assignee_id for m in micro_goals})
    default = WorkingCalendar()
    for micro_goal in micro_goals:
        micro_goal.figures = figures_for(
            micro_goal, calendar=calendars.get(micro_goal.assignee_id, default), today=today
        )


def local_now_by_timezone(now: datetime.datetime) -> dict[str, datetime.datetime]:
    """The local time in every timezone an active user has (one query: timezones number in the tens)."""
    local = {}
    for name in User.objects.filter(is_active=True).order_by().values_list("timezone", flat=True).distinct():
        try:
            local[name] = now.astimezone(zoneinfo.ZoneInfo(name))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            logger.warning("Users with the unknown timezone %r get no timed reminders", name)
    return local


@dataclass(frozen=True)
class DeadlineDelivery:
    user: User
    kind: str  # Notification.Kind: deadline_reminder (to the owner) or goal_off_track (to their managers)
    key: str  # deadline:<goal>:<days>, the same for both kinds
    goal: Goal  # with .figures
    days: int  # days until the due date


def _deadline_due_goals(today: datetime.date) -> tuple[QuerySet[Goal], dict[datetime.date, int]]:
    """Active goals due in N days (settings.PACER["DEADLINE_REMINDER_DAYS"]) and not achieved, and N by due date."""
    days_by_due = {today + datetime.timedelta(days=n): n for n in settings.PACER["DEADLINE_REMINDER_DAYS"]}
    goals = Goal.objects.filter(status=Goal.Status.ACTIVE, due_date__in=list(days_by_due)).exclude(
        health=Health.ACHIEVED
    )
    return goals, days_by_due


def deadline_goal_ids(*, today: datetime.date) -> list[int]:
    """The goals deadline_deliveries would remind about today (one query): what the hourly job fans out."""
    goals, _ = _deadline_due_goals(today)
    return list(goals.order_by("id").values_list("id", flat=True))


def deadline_deliveries(*, today: datetime.date, goal_ids=None) -> list[DeadlineDelivery]:
    """Goals due in N days (settings.PACER["DEADLINE_REMINDER_DAYS"]) and not achieved (among `goal_ids` if
    given: a fan-out chunk): one delivery to each owner (a team goal's owners are the nearest managers of the
    team); an off-track personal goal also to the nearest managers of the owner's team. Those already delivered
    are left out. Queries: goals, the owners' memberships, the team tree, the managers, the calendars (2–3), the
    keys already delivered."""
    goals_due, days_by_due = _deadline_due_goals(today)
    if goal_ids is not None:
        goals_due = goals_due.filter(id__in=list(goal_ids))
    goals = list(goals_due.select_related("kpi", "owner_user", "owner_team").order_by("id"))
    if not goals:
        return []
    # The team a user-owned goal belongs to: the owner's rep team, else a team they manage.
    owner_team: dict[int, int] = {}
    owner_ids = {g.owner_user_id for g in goals if g.owner_user_id}
    for user_id, team_id, role in (
        active_memberships(today).filter(user_id__in=owner_ids).order_by("id").values_list("user_id", "team_id", "role")
    ):
        if role == Membership.Role.REP or user_id not in owner_team:
            owner_team[user_id] = team_id
    parents = team_parents()
    goal_teams = {*owner_team.values(), *(g.owner_team_id for g in goals if g.owner_team_id)}
    managers_by_team: dict[int, list[User]] = defaultdict(list)
    for membership in (
        active_memberships(today)
        .filter(
            role=Membership.Role.MANAGER,
            user__is_active=True,
            team_id__in=team_ids_with_ancestors(goal_teams, parents=parents),
        )
        .select_related("user")
        .order_by("team_id", "user_id")
    ):
        managers_by_team[membership.team_id].append(membership.user)

    def nearest_managers(team_id, *, excluding=None) -> list[User]:
        """The team's managers, or those of the closest team above it that has any."""
        seen = set()
        while team_id is not None and team_id not in seen:
            seen.add(team_id)
            found = [u for u in managers_by_team.get(team_id, ()) if u.id != excluding]
            if found:
                return found
            team_id = parents.get(team_id)
        return []

    goal_figures_attach(goals, today=today)
    deliveries = []
    for goal in goals:
        days = days_by_due[goal.due_date]
        key = f"deadline:{goal.id}:{days}"
        if goal.owner_user_id:
            owners = [goal.owner_user] if goal.owner_user.is_active else []
            team_id = owner_team.get(goal.owner_user_id)
            managers = nearest_managers(team_id, excluding=goal.owner_user_id) if team_id else []
        else:
            owners = nearest_managers(goal.owner_team_id)
            managers = []  # a team goal's owners are its managers: they already hear about it
        deliveries += [DeadlineDelivery(owner, Kind.DEADLINE_REMINDER, key, goal, days) for owner in owners]
        if goal.health == Health.OFF_TRACK:
            owner_ids_here = {u.id for u in owners}
            deliveries += [
                DeadlineDelivery(manager, Kind.GOAL_OFF_TRACK, key, goal, days)
                for manager in managers
                if manager.id not in owner_ids_here
            ]
    return _undelivered(deliveries)


def _undelivered(deliveries: list) -> list:
    delivered = notification_keys_delivered(pairs=[(d.user.id, d.key) for d in deliveries])
    return [d for d in deliveries if (d.user.id, d.key) not in delivered]


@dataclass(frozen=True)
class CheckinDelivery:
    user: User
    key: str  # checkin:<user>:<local date>
    day: datetime.date  # the rep's local today


def checkin_due_memberships(*, now: datetime.datetime, user_ids=None) -> list[tuple[Membership, datetime.date]]:
    """The reps to remind now, each with their local today: local time at or past their reminder hour (and
    still the same local date), a working day of their team (weekdays and holidays), an active micro goal
    covering the day, and no non-voided entry dated that day; only among `user_ids` if given (a fan-out
    chunk). Queries: timezones, the reps (one query whatever their number), and the team calendars."""
    local = local_now_by_timezone(now)
    # Users share a handful of local dates at any instant (UTC-12 … UTC+14): one condition per date,
    # each listing the timezones on that date with the local hour they have reached.
    hour_reached_by_date: dict[datetime.date, Q] = defaultdict(Q)
    for name, local_now in local.items():
        hour_reached_by_date[local_now.date()] |= Q(user__timezone=name, user__reminder_hour__lte=local_now.hour)
    condition = None
    for day, hour_reached in hour_reached_by_date.items():
        on_day = (
            hour_reached
            & Q(active_from__lte=day)
            & (Q(active_to__isnull=True) | Q(active_to__gte=day))
            & Q(team__working_weekdays__contains=str(day.isoweekday()))
            & Exists(
                MicroGoal.objects.filter(
                    assignee_id=OuterRef("user_id"),
                    status=MicroGoal.Status.ACTIVE,
                    goal__status=Goal.Status.ACTIVE,
                    start_date__lte=day,
                    due_date__gte=day,
                )
            )
            & ~Exists(ProgressEntry.objects.filter(user_id=OuterRef("user_id"), date=day, voided_at__isnull=True))
        )
        condition = on_day if condition is None else condition | on_day
    if condition is None:
        return []
    reps = Membership.objects.filter(condition, role=Membership.Role.REP, user__is_active=True)
    if user_ids is not None:
        reps = reps.filter(user_id__in=list(user_ids))
    reps = list(reps.select_related("user").order_by("user_id"))
    if not reps:
        return []
    calendars = calendars_for_teams(team_ids={m.team_id for m in reps})
    due = []
    for membership in reps:
        day = local[membership.user.timezone].date()
        if calendars[membership.team_id].is_working_day(day):  # the query checked weekdays; this adds holidays
            due.append((membership, day))
    return due


def checkin_deliveries(*, now: datetime.datetime, user_ids=None) -> list[CheckinDelivery]:
    """One check-in reminder per due rep and local date (checkin_due_memberships), those not yet delivered."""
    deliveries = [
        CheckinDelivery(m.user, f"checkin:{m.user_id}:{day.isoformat()}", day)
        for m, day in checkin_due_memberships(now=now, user_ids=user_ids)
    ]
    return _undelivered(deliveries)


@dataclass
class DigestSection:
    """One team a manager manages: its active goals (the team's own and its reps', with .figures), how they
    stand, and the reps who logged nothing last week although it had working days."""

    team: Team
    goals: list[Goal]
    silent: list[User]

    @property
    def average_attainment(self) -> Decimal | None:
        """The plain average of the goals' attainment % (each goal weighs the same), as the dashboard's rows."""
        if not self.goals:
            return None
        return sum((g.figures.attainment for g in self.goals), Decimal(0)) / len(self.goals)

    @property
    def on_track_count(self) -> int:
        """On track or already achieved: neither needs attention."""
        return sum(1 for g in self.goals if g.health in (Health.ON_TRACK, Health.ACHIEVED))

    @property
    def at_risk(self) -> list[Goal]:
        return [g for g in self.goals if g.health == Health.AT_RISK]

    @property
    def off_track(self) -> list[Goal]:
        return [g for g in self.goals if g.health == Health.OFF_TRACK]

    @property
    def at_risk_count(self) -> int:
        return len(self.at_risk)

    @property
    def off_track_count(self) -> int:
        return len(self.off_track)

    @property
    def by_attainment(self) -> list[Goal]:
        return sorted(self.goals, key=lambda g: (g.figures.attainment, g.id))


@dataclass
class DigestDelivery:
    user: User
    key: str  # digest:<user>:<ISO year-week>
    monday: datetime.date
    last_monday: datetime.date
    last_sunday: datetime.date
    teams: list[Team]
    sections: list[DigestSection] = field(default_factory=list)


def _digest_due_managers(now: datetime.datetime) -> tuple[QuerySet[Membership], datetime.date] | None:
    """The manager memberships whose manager's local time is Monday at or after 08:00, and that Monday."""
    local = local_now_by_timezone(now)
    due_zones = [n for n, t in local.items() if t.isoweekday() == DIGEST_WEEKDAY and t.hour >= DIGEST_HOUR]
    if not due_zones:
        return None
    # Every timezone that is on a Monday right now is on the same Monday (offsets span 26 hours).
    monday = local[due_zones[0]].date()
    memberships = active_memberships(monday).filter(
        role=Membership.Role.MANAGER, user__is_active=True, user__timezone__in=due_zones
    )
    return memberships, monday


def digest_manager_ids(*, now: datetime.datetime) -> list[int]:
    """The managers digest_deliveries may owe a digest now (two queries): what the hourly job fans out."""
    due = _digest_due_managers(now)
    if due is None:
        return []
    return sorted(set(due[0].order_by().values_list("user_id", flat=True)))


def digest_deliveries(*, now: datetime.datetime, user_ids=None) -> list[DigestDelivery]:
    """The weekly digests due now: to each manager whose local time is Monday at or after 08:00 (an hourly job,
    so it goes out at 08:xx; a missed run is caught up later that Monday), not yet delivered; only among
    `user_ids` if given (a fan-out chunk). Per team they manage: its active goals (the team's own and its reps'),
    at-risk and off-track goals, and the reps who logged nothing last week (Monday to Sunday) although it had
    working days. Queries: timezones, managers, keys delivered, team tree, reps, goals, their calendars, last
    week's loggers, the reps' calendars."""
    due = _digest_due_managers(now)
    if due is None:
        return []
    manager_memberships, monday = due
    if user_ids is not None:
        manager_memberships = manager_memberships.filter(user_id__in=list(user_ids))
    year, week, _ = monday.isocalendar()
    last_monday, last_sunday = monday - datetime.timedelta(days=7), monday - datetime.timedelta(days=1)
    teams_by_manager: dict[int, list[Team]] = defaultdict(list)
    managers: dict[int, User] = {}
    for membership in manager_memberships.select_related("user", "team").order_by("user_id", "team__name"):
        managers[membership.user_id] = membership.user
        teams_by_manager[membership.user_id].append(membership.team)
    deliveries = _undelivered(
        [
            DigestDelivery(
                user,
                f"digest:{user.id}:{year}-W{week:02d}",
                monday,
                last_monday,
                last_sunday,
                teams_by_manager[user.id],
            )
            for user in managers.values()
        ]
    )
    if not deliveries:
        return []

    parents = team_parents()
    below = {team.id: team_ids_with_descendants([team.id], parents=parents) for d in deliveries for team in d.teams}
    all_team_ids = set().union(*below.values())
    reps = list(
        active_memberships(monday)
        .filter(role=Membership.Role.REP, team_id__in=all_team_ids, user__is_active=True)
        .select_related("user")
        .order_by("user__first_name", "user__last_name", "user__username")
    )
    rep_ids = {m.user_id for m in reps}
    goals = list(
        Goal.objects.filter(status=Goal.Status.ACTIVE)
        .filter(Q(owner_team_id__in=all_team_ids) | Q(owner_user_id__in=rep_ids))
        .select_related("kpi", "owner_user", "owner_team")
    )
    goal_figures_attach(goals, today=org_today(now))
    logged = set(
        ProgressEntry.objects.filter(
            user_id__in=rep_ids, date__gte=last_monday, date__lte=last_sunday, voided_at__isnull=True
        )
        .order_by()
        .values_list("user_id", flat=True)
        .distinct()
    )
    calendars = calendars_for_teams(team_ids={m.team_id for m in reps}) if reps else {}
    for delivery in deliveries:
        for team in delivery.teams:
            team_reps = [m for m in reps if m.team_id in below[team.id]]
            team_rep_ids = {m.user_id for m in team_reps}
            silent = [
                m.user
                for m in team_reps
                if calendars[m.team_id].count(last_monday, last_sunday) > 0 and m.user_id not in logged
            ]
            team_goals = [g for g in goals if g.owner_team_id in below[team.id] or g.owner_user_id in team_rep_ids]
            delivery.sections.append(DigestSection(team, team_goals, silent))
    return deliveries
