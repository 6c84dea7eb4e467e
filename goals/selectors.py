"""Who may see and act on which goals, micro goals and progress entries: the one place the goals app decides it.

- admin (User.is_staff): everything.
- manager: goals owned by the teams they manage (with sub-teams) and by the members of those teams; micro goals
  and entries of those members (and their own).
- rep: their own goals and the goals owned by the teams they belong to; their own micro goals and entries.

Every function costs a fixed number of queries however many rows it returns; the `get` selectors raise Http404
alike for "missing" and "not yours".
"""

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from teams.models import User
from teams.selectors import active_memberships, managed_team_ids, user_ids_visible_to

from .models import Goal, Kpi, MicroGoal, ProgressEntry


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


def kpi_list(*, active_only: bool = True) -> QuerySet[Kpi]:
    kpis = Kpi.objects.all()
    return kpis.filter(is_active=True) if active_only else kpis
