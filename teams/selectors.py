"""Who may see and act on which team: the single place other apps ask.

Admins (User.is_staff) see everything. A manager sees the teams they manage and all their
sub-teams. A rep sees their own team. Every function costs a fixed number of queries.
"""

import datetime

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, ExpressionWrapper, Prefetch, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404
from django.utils import timezone

from .calendar import WorkingCalendar
from .models import AuditEvent, Holiday, Membership, Team, User

ADMIN = "admin"


def active_memberships(on: datetime.date | None = None) -> QuerySet[Membership]:
    on = on or timezone.localdate()
    return Membership.objects.filter(Q(active_to__isnull=True) | Q(active_to__gte=on), active_from__lte=on)


def _parents() -> dict[int, int | None]:
    """The whole hierarchy as {team id: parent id}: teams number in the hundreds, so one small query."""
    return dict(Team.objects.order_by().values_list("id", "parent_id"))


def team_parents() -> dict[int, int | None]:
    """{team id: parent id} for the whole hierarchy (one query): pass it as `parents=` to the tree walks."""
    return _parents()


def team_ids_with_descendants(team_ids, *, parents=None) -> set[int]:
    """The given teams and all teams below them (one query, none when the tree is passed in)."""
    parents = _parents() if parents is None else parents
    children: dict[int | None, list[int]] = {}
    for child, parent in parents.items():
        children.setdefault(parent, []).append(child)
    found, stack = set(), list(team_ids)
    while stack:
        team_id = stack.pop()
        if team_id not in found:
            found.add(team_id)
            stack.extend(children.get(team_id, ()))
    return found


def team_ids_with_ancestors(team_ids, *, parents=None) -> set[int]:
    parents = _parents() if parents is None else parents
    found = set()
    for team_id in team_ids:
        while team_id is not None and team_id not in found:
            found.add(team_id)
            team_id = parents.get(team_id)
    return found


def managed_team_ids(*, user: User) -> set[int]:
    """Ids of the teams the user manages, with their sub-teams (every team for an admin)."""
    if user.is_staff:
        return set(Team.objects.values_list("id", flat=True))
    direct = active_memberships().filter(user=user, role=Membership.Role.MANAGER).values_list("team_id", flat=True)
    return team_ids_with_descendants(direct)


def teams_managed_by(*, user: User, team_ids: set[int] | None = None) -> QuerySet[Team]:
    """The teams the user manages, with their sub-teams, by name. Pass `team_ids` (managed_team_ids of the user)
    when already known: then the list is the only query."""
    team_ids = managed_team_ids(user=user) if team_ids is None else team_ids
    return Team.objects.filter(id__in=team_ids).order_by("name")


def rep_membership(*, user: User, on: datetime.date | None = None) -> Membership | None:
    """The user's current rep membership (a user is a rep of at most one team at a time)."""
    return active_memberships(on).filter(user=user, role=Membership.Role.REP).select_related("team").first()


def team_list_for_user(*, user: User, managed: set[int] | None = None) -> QuerySet[Team]:
    """The teams the user may see: those they manage (pass `managed`, managed_team_ids of the user, when already
    known) and those they belong to; every team for an admin. Queries before the list's own: none for an admin, else 3
    (1 with `managed`)."""
    teams = Team.objects.select_related("parent")
    if user.is_staff:
        return teams
    managed = managed_team_ids(user=user) if managed is None else managed
    own = active_memberships().filter(user=user).values_list("team_id", flat=True)
    return teams.filter(id__in=managed | set(own))


def team_get_for_user(*, user: User, id: int) -> Team:
    """The team if the user may see it; 404 alike for missing and not-yours."""
    return get_object_or_404(team_list_for_user(user=user), id=id)


def team_and_can_manage_for_user(*, user: User, id: int) -> tuple[Team, bool]:
    """The team (with its parent), and whether the user manages it: an admin, or a manager of it or of a team
    above it. 404 alike for missing and not-yours. Queries: 2 for an admin, 3 for a manager of the team, else 4."""
    managed = managed_team_ids(user=user)
    if id in managed:
        return get_object_or_404(Team.objects.select_related("parent"), id=id), True
    return get_object_or_404(team_list_for_user(user=user, managed=managed), id=id), False


def team_get_managed_by(*, user: User, id: int) -> Team:
    """The team if the user may manage its members and holidays: 404 if they cannot see it, 403 if they only
    see it."""
    team, can_manage = team_and_can_manage_for_user(user=user, id=id)
    if not can_manage:
        raise PermissionDenied
    return team


def team_tree_for_user(*, user: User) -> list[dict]:
    """The teams the user may see as nested {"team", "children"} nodes, siblings by name; a team whose parent
    the user cannot see is a root. Queries: those of team_list_for_user."""
    teams = sorted(team_list_for_user(user=user), key=lambda t: t.name.casefold())
    nodes = {team.id: {"team": team, "children": []} for team in teams}
    roots = []
    for node in nodes.values():
        parent_id = node["team"].parent_id
        (nodes[parent_id]["children"] if parent_id in nodes else roots).append(node)
    return roots


def team_members(*, team: Team, role: str | None = None, on: datetime.date | None = None) -> QuerySet[Membership]:
    """Current memberships of the team and its sub-teams."""
    members = active_memberships(on).filter(team_id__in=team_ids_with_descendants([team.id]))
    if role:
        members = members.filter(role=role)
    return members.select_related("user", "team").order_by("user__first_name", "user__last_name", "user__username")


def membership_get_current(*, team: Team, id: int) -> Membership:
    """A current membership of exactly this team, with its user and team (an id from another team is a 404)."""
    return get_object_or_404(active_memberships().filter(team=team).select_related("user", "team"), id=id)


def membership_get_for_user(*, user: User, id: int) -> Membership:
    """A membership (current, upcoming or ended) of a team the user may see or of a team below one (whose members
    that team's member list shows), with its user and team. 404 alike for missing and not-yours. Queries: 1 for an
    admin, else 6 (the team tree, the teams the user sees: 4, the membership)."""
    memberships = Membership.objects.select_related("user", "team")
    if not user.is_staff:
        parents = _parents()
        visible = team_list_for_user(user=user).values_list("id", flat=True)
        memberships = memberships.filter(team_id__in=team_ids_with_descendants(visible, parents=parents))
    return get_object_or_404(memberships, id=id)


def team_former_and_upcoming_members(
    *, team: Team, on: datetime.date | None = None
) -> tuple[list[Membership], list[Membership]]:
    """Memberships of this team (not its sub-teams) that ended before `on` (default today), latest first, and
    those that start after it, soonest first. Queries: 1."""
    on = on or timezone.localdate()
    rows = (
        Membership.objects.filter(Q(active_to__lt=on) | Q(active_from__gt=on), team=team)
        .select_related("user")
        .order_by("-active_to", "active_from")
    )
    former, upcoming = [], []
    for membership in rows:
        (former if membership.active_from <= on else upcoming).append(membership)
    return former, upcoming


def team_holidays_in_force(*, team: Team) -> list[Holiday]:
    """The team's own holidays and those of every team above it, by date, with their team. Queries: 2."""
    team_ids = team_ids_with_ancestors([team.id])
    return list(Holiday.objects.filter(team_id__in=team_ids).select_related("team").order_by("date"))


def holiday_get_for_team(*, team: Team, id: int) -> Holiday:
    """One of the team's own holidays (a holiday of another team, even one above it, is a 404)."""
    return get_object_or_404(Holiday, id=id, team=team)


def role_in_team(*, user: User, team: Team) -> str | None:
    """ "admin", "manager" (of this team or one above it), "rep" (of this team or a sub-team) or None."""
    if user.is_staff:
        return ADMIN
    mine = dict(active_memberships().filter(user=user).values_list("team_id", "role"))
    parents = _parents()
    if any(mine.get(t) == Membership.Role.MANAGER for t in team_ids_with_ancestors([team.id], parents=parents)):
        return Membership.Role.MANAGER
    if any(mine.get(t) == Membership.Role.REP for t in team_ids_with_descendants([team.id], parents=parents)):
        return Membership.Role.REP
    return None


def user_ids_visible_to(*, user: User) -> set[int]:
    """The users whose goals and progress this user may see: themself and everyone in teams they manage."""
    if user.is_staff:
        return set(User.objects.values_list("id", flat=True))
    managed = managed_team_ids(user=user)
    members = set(active_memberships().filter(team_id__in=managed).values_list("user_id", flat=True))
    return members | {user.id}


def user_get_for_user(*, user: User, id: int) -> User:
    return get_object_or_404(User.objects.filter(id__in=user_ids_visible_to(user=user)), id=id)


def calendars_for_teams(*, team_ids) -> dict[int, WorkingCalendar]:
    """Each team's calendar: its weekdays and the holidays of the team and every team above it (two queries)."""
    # The whole tree, as _parents() reads it, with each team's weekdays: one query for both.
    rows = list(Team.objects.order_by().values_list("id", "parent_id", "working_weekdays"))
    parents = {team_id: parent_id for team_id, parent_id, _ in rows}
    weekdays = {team_id: days for team_id, _, days in rows}
    holidays: dict[int, set] = {}
    for team_id, day in Holiday.objects.filter(
        team_id__in=team_ids_with_ancestors(team_ids, parents=parents)
    ).values_list("team_id", "date"):
        holidays.setdefault(team_id, set()).add(day)
    calendars = {}
    for team_id in team_ids:
        days, node = set(), team_id
        while node is not None:
            days |= holidays.get(node, set())
            node = parents.get(node)
        calendars[team_id] = WorkingCalendar.from_team(weekdays.get(team_id, "12345"), days)
    return calendars


def calendars_for_reps(*, user_ids) -> dict[int, WorkingCalendar]:
    """Each user's current rep team's calendar, for those who are a rep today. Queries: 3 (1 when none of them is
    a rep), none without users."""
    if not user_ids:
        return {}
    teams = dict(
        active_memberships()
        .filter(user_id__in=user_ids, role=Membership.Role.REP)
        .order_by("active_from")
        .values_list("user_id", "team_id")
    )
    calendars = calendars_for_teams(team_ids=set(teams.values())) if teams else {}
    return {user_id: calendars[team_id] for user_id, team_id in teams.items()}


def calendar_for_team(*, team: Team) -> WorkingCalendar:
    return calendars_for_teams(team_ids=[team.id])[team.id]


# --- Who may change whose membership (the services enforce it; pages use it to offer only what is allowed) ---


def current_or_upcoming_memberships(on: datetime.date | None = None) -> QuerySet[Membership]:
    """Memberships not over by `on` (default today): current ones and those that start later."""
    on = on or timezone.localdate()
    return Membership.objects.filter(Q(active_to__isnull=True) | Q(active_to__gte=on))


def users_addable_by(*, user: User, team: Team) -> QuerySet[User]:
    """The people `user` may add to `team`: active, not already in it, never themself. An admin may add anyone
    else (a rep of another team is then a transfer); a manager only people who are nobody's rep or manager and
    not admins. Queries: none until evaluated (one then)."""
    in_team = active_memberships().filter(team=team).values("user_id")
    people = User.objects.filter(is_active=True).exclude(id__in=in_team).exclude(id=user.id)
    if user.is_staff:
        return people
    taken = current_or_upcoming_memberships().values("user_id")
    return people.filter(is_staff=False).exclude(id__in=taken)


def membership_change_refusal(*, user: User, membership: Membership, managed: set[int] | None = None) -> str | None:
    """Why `user` may not change (capacity, role) or end `membership`, in plain words; None when they may.
    Admins may change anyone's but their own; a manager only rep memberships of teams they manage (with their
    sub-teams). Pass `managed` (managed_team_ids of the user) when already known: then no query."""
    if membership.user_id == user.id:
        return "Nobody can change their own membership; ask an admin."
    if user.is_staff:
        return None
    managed = managed_team_ids(user=user) if managed is None else managed
    if membership.team_id not in managed:
        return "You can change only the members of teams you manage."
    if membership.role != Membership.Role.REP:
        return "Only an admin can change or remove a manager."
    return None


# --- People and the audit log (admin pages) ------------------------------------------------------------------

PERSON_STATUSES = {"active": "Active", "invited": "Invited, not joined yet", "deactivated": "Deactivated"}


def people_list(*, search: str = "", status: str = "") -> QuerySet[User]:
    """Everyone, by name, with `invited` (no password set yet, never logged in) and their current memberships
    with teams prefetched as `current_memberships`. Queries when evaluated: 2."""
    invited = Q(password__startswith=UNUSABLE_PASSWORD_PREFIX, last_login__isnull=True)
    people = User.objects.annotate(invited=ExpressionWrapper(invited, output_field=BooleanField())).prefetch_related(
        Prefetch(
            "memberships",
            queryset=active_memberships().select_related("team").order_by("role", "team__name"),
            to_attr="current_memberships",
        )
    )
    if search:
        people = people.filter(
            Q(first_name__icontains=search) | Q(last_name__icontains=search)
            | Q(username__icontains=search) | Q(email__icontains=search)
        )  # fmt: skip
    if status == "active":
        people = people.filter(is_active=True).exclude(invited)
    elif status == "invited":
        people = people.filter(invited, is_active=True)
    elif status == "deactivated":
        people = people.filter(is_active=False)
    return people.order_by("first_name", "last_name", "username")


def locked_usernames(*, usernames) -> set[str]:
    """Which of these accounts django-axes currently locks (failures within the cool-off reach the limit), as
    its database handler counts them. Queries: 1."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    rows = (
        AccessAttempt.objects.filter(username__in=list(usernames), attempt_time__gte=since)
        .values("username")
        .annotate(failures=Sum("failures_since_start"))
        .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
    )
    return {row["username"] for row in rows}


def person_get(*, id: int) -> User:
    return get_object_or_404(User, id=id)


def audit_events(
    *,
    person: User | None = None,
    kind: str = "",
    since: datetime.date | None = None,
    until: datetime.date | None = None,
) -> QuerySet[AuditEvent]:
    """Audit events, newest first, with who acted and whom it concerns; `person` matches either. Dates are the
    viewer's local days (the active timezone)."""
    events = AuditEvent.objects.select_related("actor", "subject_user")
    if person is not None:
        events = events.filter(Q(actor=person) | Q(subject_user=person))
    if kind:
        events = events.filter(kind=kind)
    zone = timezone.get_current_timezone()
    if since:
        events = events.filter(at__gte=datetime.datetime.combine(since, datetime.time.min, tzinfo=zone))
    if until:
        next_day = until + datetime.timedelta(days=1)
        events = events.filter(at__lt=datetime.datetime.combine(next_day, datetime.time.min, tzinfo=zone))
    return events.order_by("-at", "-id")
