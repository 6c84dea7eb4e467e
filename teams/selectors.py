"""Who may see and act on which team: the single place other apps ask.

Admins (User.is_staff) see everything. A manager sees the teams they manage and all their
sub-teams. A rep sees their own team. Every function costs a fixed number of queries.
"""

import datetime

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from .calendar import WorkingCalendar
from .models import Holiday, Membership, Team, User

ADMIN = "admin"


def active_memberships(on: datetime.date | None = None) -> QuerySet[Membership]:
    on = on or timezone.localdate()
    return Membership.objects.filter(Q(active_to__isnull=True) | Q(active_to__gte=on), active_from__lte=on)


def _parents() -> dict[int, int | None]:
    """The whole hierarchy as {team id: parent id}: teams number in the hundreds, so one small query."""
    return dict(Team.objects.order_by().values_list("id", "parent_id"))


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


def teams_managed_by(*, user: User) -> QuerySet[Team]:
    return Team.objects.filter(id__in=managed_team_ids(user=user))


def rep_membership(*, user: User, on: datetime.date | None = None) -> Membership | None:
    """The user's current rep membership (a user is a rep of at most one team at a time)."""
    return active_memberships(on).filter(user=user, role=Membership.Role.REP).select_related("team").first()


def team_list_for_user(*, user: User) -> QuerySet[Team]:
    visible = managed_team_ids(user=user)
    visible |= set(active_memberships().filter(user=user).values_list("team_id", flat=True))
    return Team.objects.filter(id__in=visible).select_related("parent")


def team_get_for_user(*, user: User, id: int) -> Team:
    """The team if the user may see it; 404 alike for missing and not-yours."""
    return get_object_or_404(team_list_for_user(user=user), id=id)


def team_members(*, team: Team, role: str | None = None, on: datetime.date | None = None) -> QuerySet[Membership]:
    """Current memberships of the team and its sub-teams."""
    members = active_memberships(on).filter(team_id__in=team_ids_with_descendants([team.id]))
    if role:
        members = members.filter(role=role)
    return members.select_related("user", "team").order_by("user__first_name", "user__last_name", "user__username")


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
    parents = _parents()
    weekdays = dict(Team.objects.filter(id__in=team_ids).values_list("id", "working_weekdays"))
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


def calendar_for_team(*, team: Team) -> WorkingCalendar:
    return calendars_for_teams(team_ids=[team.id])[team.id]
