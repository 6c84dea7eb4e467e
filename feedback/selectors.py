"""Who may see which feedback, check-ins, action items and adjustment requests; the goal timeline, the confidence
trend and the 1:1 agenda. Reads only. Every list costs a fixed number of queries whatever its length.

Seeing follows goals: a check-in, action item or adjustment request is visible to whoever may see its goal
(goals.selectors.goal_list_for_user). Feedback is visible to its author and recipient; with visibility
"managers" also to whoever manages the recipient; praise on the kudos feed ("team") also to the recipient's
teammates. Admins see everything. The `get` selectors raise Http404 alike for missing and not-yours.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from goals import pace
from goals.models import Goal, GoalRevision, Health
from goals.selectors import goal_list_for_user, goal_manageable_by, local_now_by_timezone
from goals.services import PlanRow
from notifications.models import Notification
from notifications.selectors import notification_keys_delivered
from teams.models import Membership, Team, User
from teams.selectors import (
    _parents,
    active_memberships,
    calendars_for_reps,
    managed_team_ids,
    team_ids_with_ancestors,
    team_ids_with_descendants,
    user_ids_visible_to,
)

from .models import ActionItem, AdjustmentRequest, CheckIn, Feedback

LOW_CONFIDENCE = 3  # at or below: the manager hears about it
CONFIDENCE_DROP = 3  # a fall of this many points or more from the previous check-in: likewise
RECENT_FEEDBACK_DAYS = 30
TREND_WEEKS = 12
TWO_WEEKS = datetime.timedelta(weeks=2)


# --- Who manages whom -------------------------------------------------------------------------------------------


def managers_of(*, user: User, nearest: bool = False) -> list[User]:
    """The managers of the teams the user belongs to and of every team above them (with `nearest`, only the
    closest level that has a manager: whoever should hear about an alert). The user themself is left out.
    Queries: 3."""
    parents = _parents()
    own = set(active_memberships().filter(user=user).values_list("team_id", flat=True))
    managers: dict[int, list[User]] = {}
    for membership in (
        active_memberships()
        .filter(
            role=Membership.Role.MANAGER,
            user__is_active=True,
            team_id__in=team_ids_with_ancestors(own, parents=parents),
        )
        .exclude(user=user)
        .select_related("user")
        .order_by("user_id")
    ):
        managers.setdefault(membership.team_id, []).append(membership.user)
    if not nearest:
        return list({u.id: u for users in managers.values() for u in users}.values())
    level: set[int] = set(own)
    found: dict[int, User] = {}
    while level and not found:
        found = {u.id: u for team_id in level for u in managers.get(team_id, ())}
        level = {p for p in (parents.get(t) for t in level) if p is not None}
    return list(found.values())


def manages_user(*, manager: User, user: User) -> bool:
    """Is `manager` an admin or a manager of a team `user` belongs to (or of a team above it)? Queries: <= 3."""
    if manager.is_staff:
        return True
    if manager.id == user.id:
        return False
    return active_memberships().filter(user=user, team_id__in=managed_team_ids(user=manager)).exists()


def teammates(*, user: User, other: User) -> bool:
    """Are both current members of one same team? Queries: 1."""
    mine = active_memberships().filter(user=user).values("team_id")
    return active_memberships().filter(user=other, team_id__in=mine).exists()


# --- Feedback ---------------------------------------------------------------------------------------------------


def _visible_feedback(user: User) -> Q:
    if user.is_staff:
        return Q()
    visible = Q(author=user) | Q(recipient=user)
    managed = managed_team_ids(user=user)
    if managed:
        members = active_memberships().filter(team_id__in=managed).values("user_id")
        visible |= Q(visibility__in=[Feedback.Visibility.MANAGERS, Feedback.Visibility.TEAM], recipient_id__in=members)
    own_teams = active_memberships().filter(user=user).values("team_id")
    mates = active_memberships().filter(team_id__in=own_teams).values("user_id")
    visible |= Q(visibility=Feedback.Visibility.TEAM, recipient_id__in=mates)
    return visible


def feedback_list_for_user(*, user: User) -> QuerySet[Feedback]:
    """Every feedback the user may read, newest first. Queries: 2 before the list (none for an admin)."""
    return Feedback.objects.filter(_visible_feedback(user)).select_related("author", "recipient", "goal")


def feedback_get_for_user(*, user: User, id: int) -> Feedback:
    return get_object_or_404(feedback_list_for_user(user=user), id=id)


def feedback_received(*, user: User) -> QuerySet[Feedback]:
    return Feedback.objects.filter(recipient=user).select_related("author", "recipient", "goal")


def feedback_given(*, user: User) -> QuerySet[Feedback]:
    return Feedback.objects.filter(author=user).select_related("author", "recipient", "goal")


def kudos_feed(*, team: Team, limit: int = 50) -> list[Feedback]:
    """Praise shared with the team (its members and those of its sub-teams), newest first. The team is one the
    viewer may see (teams.selectors.team_get_for_user). Queries: 2."""
    members = active_memberships().filter(team_id__in=team_ids_with_descendants([team.id])).values("user_id")
    return list(
        Feedback.objects.filter(
            kind=Feedback.Kind.PRAISE, visibility=Feedback.Visibility.TEAM, recipient_id__in=members
        ).select_related("author", "recipient", "goal")[:limit]
    )


def feedback_recipients_for(*, user: User) -> QuerySet[User]:
    """Whom the user may give feedback to: the people they manage, their teammates and their managers (everyone
    for an admin), never themself. Queries: 4 (the list included)."""
    if user.is_staff:
        return User.objects.filter(is_active=True).exclude(id=user.id)
    ids = user_ids_visible_to(user=user)
    own_teams = active_memberships().filter(user=user).values("team_id")
    ids |= set(active_memberships().filter(team_id__in=own_teams).values_list("user_id", flat=True))
    ids |= {m.id for m in managers_of(user=user)}
    return User.objects.filter(id__in=ids - {user.id}, is_active=True)


# --- Check-ins and the confidence trend -------------------------------------------------------------------------


def week_start_of(day: datetime.date) -> datetime.date:
    """The Monday of the ISO week that holds `day`."""
    return day - datetime.timedelta(days=day.weekday())


def checkin_list_for_user(*, user: User) -> QuerySet[CheckIn]:
    return CheckIn.objects.filter(goal__in=goal_list_for_user(user=user)).select_related("goal", "goal__kpi", "rep")


def checkin_get_for_user(*, user: User, id: int) -> CheckIn:
    return get_object_or_404(checkin_list_for_user(user=user), id=id)


def checkin_this_week(*, goal: Goal, today: datetime.date) -> CheckIn | None:
    return CheckIn.objects.filter(goal=goal, week_start=week_start_of(today)).first()


@dataclass
class TrendPoint:
    """One week of the trend: the confidence, and the attainment the check-in recorded beside it."""

    checkin: CheckIn

    @property
    def week_start(self) -> datetime.date:
        return self.checkin.week_start

    @property
    def confidence(self) -> int:
        return self.checkin.confidence

    @property
    def attainment(self) -> Decimal | None:
        value = self.checkin.snapshot.get("attainment")
        return Decimal(value) if value else None


def confidence_trend(*, goal: Goal, weeks: int = TREND_WEEKS) -> list[TrendPoint]:
    """The goal's check-ins oldest first (the last `weeks`), each with the attainment it recorded. Queries: 1."""
    checkins = list(CheckIn.objects.filter(goal=goal).order_by("-week_start")[:weeks])
    return [TrendPoint(checkin) for checkin in reversed(checkins)]


def confidence_flag(points: list[TrendPoint]) -> str:
    """ "low" (the latest is ≤ LOW_CONFIDENCE), "falling" (down CONFIDENCE_DROP or more from the one before) or ""."""
    if not points:
        return ""
    if points[-1].confidence <= LOW_CONFIDENCE:
        return "low"
    if len(points) > 1 and points[-2].confidence - points[-1].confidence >= CONFIDENCE_DROP:
        return "falling"
    return ""


# --- Action items and adjustment requests -----------------------------------------------------------------------


def action_item_list_for_user(*, user: User) -> QuerySet[ActionItem]:
    return ActionItem.objects.filter(goal__in=goal_list_for_user(user=user)).select_related("goal", "owner")


def action_item_get_for_user(*, user: User, id: int) -> ActionItem:
    return get_object_or_404(action_item_list_for_user(user=user), id=id)


def adjustment_request_list_for_user(*, user: User) -> QuerySet[AdjustmentRequest]:
    return AdjustmentRequest.objects.filter(goal__in=goal_list_for_user(user=user)).select_related(
        "goal", "goal__kpi", "goal__owner_user", "goal__owner_team", "requested_by", "decided_by"
    )


def adjustment_request_get_for_user(*, user: User, id: int) -> AdjustmentRequest:
    return get_object_or_404(adjustment_request_list_for_user(user=user), id=id)


def can_request_adjustment(*, user: User, goal: Goal) -> bool:
    """A rep (or anyone) for their own goal; a manager for a team goal of a team they manage. Only live goals."""
    if goal.status not in (Goal.Status.ACTIVE, Goal.Status.DRAFT):
        return False
    if goal.owner_user_id == user.id:
        return True
    return goal.owner_team_id is not None and goal_manageable_by(user=user, goal=goal)


def can_decide_adjustment(*, user: User, request: AdjustmentRequest) -> bool:
    """An admin, or a manager of the goal who did not ask. A request a manager made for their team's goal goes to
    a manager above that team (their own manager) or an admin, never to a peer. Queries: <= 4."""
    if user.id == request.requested_by_id:
        return False
    if user.is_staff:
        return True
    goal = request.goal
    if not goal_manageable_by(user=user, goal=goal):
        return False
    if goal.owner_team_id is not None:
        requester_managed = managed_team_ids(user=request.requested_by)
        if goal.owner_team_id in requester_managed or request.requested_by.is_staff:
            # Asked by a manager of the team: only someone managing the team above may decide.
            parent_id = Team.objects.filter(id=goal.owner_team_id).values_list("parent_id", flat=True).first()
            return parent_id is not None and parent_id in managed_team_ids(user=user)
    return True


def adjustment_requests_to_decide(*, user: User) -> list[AdjustmentRequest]:
    """Pending requests the user may decide (the rule of `can_decide_adjustment`), oldest first.
    Queries: constant whatever the number of requests (scope, requests, members, requesters' manager roles)."""
    pending = list(
        adjustment_request_list_for_user(user=user)
        .filter(status=AdjustmentRequest.Status.PENDING)
        .exclude(requested_by=user)
        .order_by("created_at", "id")
    )
    if user.is_staff or not pending:
        return pending
    parents = _parents()
    managed = team_ids_with_descendants(
        active_memberships().filter(user=user, role=Membership.Role.MANAGER).values_list("team_id", flat=True),
        parents=parents,
    )
    members = set(active_memberships().filter(team_id__in=managed).values_list("user_id", flat=True))
    requester_roots: dict[int, list[int]] = {}
    for user_id, team_id in (
        active_memberships()
        .filter(role=Membership.Role.MANAGER, user_id__in={r.requested_by_id for r in pending})
        .values_list("user_id", "team_id")
    ):
        requester_roots.setdefault(user_id, []).append(team_id)
    decidable = []
    for request in pending:
        goal = request.goal
        if goal.owner_team_id is None:
            if goal.owner_user_id != user.id and goal.owner_user_id in members:
                decidable.append(request)
            continue
        if goal.owner_team_id not in managed:
            continue
        requester_managed = team_ids_with_descendants(requester_roots.get(request.requested_by_id, []), parents=parents)
        if goal.owner_team_id in requester_managed or request.requested_by.is_staff:
            parent = parents.get(goal.owner_team_id)
            if parent is None or parent not in managed:
                continue
        decidable.append(request)
    return decidable


# --- The goal timeline ------------------------------------------------------------------------------------------


@dataclass
class TimelineEvent:
    at: datetime.datetime
    kind: str  # revision | request | decision | checkin | feedback
    actor: User | None
    title: str
    obj: object
    detail: dict = field(default_factory=dict)


def goal_timeline(*, user: User, goal: Goal, revisions: list[GoalRevision] | None = None) -> list[TimelineEvent]:
    """One history of the goal, newest first: its revisions (the original target is the "created" one; pass them
    when already read, e.g. made readable by the goal page), the adjustment requests and their decisions,
    check-ins and the feedback about it the user may read. Queries: 3 (+1 without `revisions`) plus the
    feedback scope (2), whatever the number of events."""
    events: list[TimelineEvent] = []
    if revisions is None:
        revisions = list(goal.revisions.select_related("changed_by"))
    for revision in revisions:
        events.append(
            TimelineEvent(revision.changed_at, "revision", revision.changed_by, revision.get_kind_display(), revision)
        )
    for request in goal.adjustment_requests.select_related("requested_by", "decided_by"):
        events.append(
            TimelineEvent(request.created_at, "request", request.requested_by, "Adjustment requested", request)
        )
        if request.decided_at:
            events.append(
                TimelineEvent(
                    request.decided_at,
                    "decision",
                    request.decided_by,
                    f"Request {request.get_status_display().lower()}",
                    request,
                )
            )
    for checkin in goal.checkins.select_related("rep").annotate(reply_count=Count("replies")).order_by("-week_start"):
        events.append(
            TimelineEvent(checkin.submitted_at, "checkin", checkin.rep, f"Check-in: {checkin.confidence}/10", checkin)
        )
    for item in feedback_list_for_user(user=user).filter(goal=goal):
        events.append(TimelineEvent(item.created_at, "feedback", item.author, item.get_kind_display(), item))
    events.sort(key=lambda e: e.at, reverse=True)
    return events


# --- The 1:1 agenda ---------------------------------------------------------------------------------------------


@dataclass
class GoalConfidence:
    goal: Goal
    attainment: Decimal
    points: list[TrendPoint]
    flag: str

    @property
    def latest(self) -> TrendPoint | None:
        return self.points[-1] if self.points else None


@dataclass
class Agenda:
    rep: User
    goals: list[GoalConfidence]  # every active goal of the rep, worst first
    attention: list[GoalConfidence]  # at risk / off track, or low / falling confidence
    open_requests: list[AdjustmentRequest]
    overdue_items: list[ActionItem]
    open_items: list[ActionItem]
    recent_feedback: list[Feedback]


HEALTH_ORDER = {Health.OFF_TRACK: 0, Health.AT_RISK: 1, Health.ON_TRACK: 2, Health.ACHIEVED: 3, "": 4}


def one_on_one_agenda(*, manager: User, rep: User, today: datetime.date | None = None) -> Agenda:
    """What a manager and one of their reps go through at their 1:1 (the caller checked `manages_user`).
    Queries: 6 plus the feedback scope, whatever the number of goals, check-ins and items."""
    today = today or timezone.localdate()
    goals = list(
        Goal.objects.filter(owner_user=rep, status=Goal.Status.ACTIVE).select_related("kpi").order_by("due_date", "id")
    )
    since = week_start_of(today) - datetime.timedelta(weeks=TREND_WEEKS)
    by_goal: dict[int, list[CheckIn]] = {}
    for checkin in CheckIn.objects.filter(goal__in=goals, week_start__gte=since).order_by("week_start", "id"):
        by_goal.setdefault(checkin.goal_id, []).append(checkin)
    rows = []
    for goal in goals:
        points = [TrendPoint(c) for c in by_goal.get(goal.id, [])]
        attainment = pace.attainment_percent(
            current=goal.current_value, baseline=goal.baseline_value, target=goal.target_value
        )
        rows.append(GoalConfidence(goal, attainment, points, confidence_flag(points)))
    rows.sort(key=lambda r: (HEALTH_ORDER.get(r.goal.health, 4), r.flag == "", r.goal.due_date))
    attention = [r for r in rows if r.goal.health in (Health.AT_RISK, Health.OFF_TRACK) or r.flag]
    open_requests = list(
        AdjustmentRequest.objects.filter(goal__owner_user=rep, status=AdjustmentRequest.Status.PENDING)
        .select_related("goal", "goal__kpi", "requested_by")
        .order_by("created_at")
    )
    items = list(
        ActionItem.objects.filter(Q(goal__owner_user=rep) | Q(owner=rep), done_at__isnull=True)
        .select_related("goal", "owner")
        .order_by("due_date", "id")
    )
    recent = list(
        feedback_list_for_user(user=manager).filter(
            Q(recipient=rep) | Q(author=rep),
            created_at__gte=timezone.now() - datetime.timedelta(days=RECENT_FEEDBACK_DAYS),
        )[:20]
    )
    return Agenda(
        rep=rep,
        goals=rows,
        attention=attention,
        open_requests=open_requests,
        overdue_items=[i for i in items if i.due_date < today],
        open_items=[i for i in items if i.due_date >= today],
        recent_feedback=recent,
    )


def agenda_reps(*, manager: User) -> QuerySet[Membership]:
    """The current reps of the teams the manager manages (everyone's for an admin), by name. Queries: 2 + list."""
    reps = active_memberships().filter(role=Membership.Role.REP).select_related("user", "team")
    if not manager.is_staff:
        reps = reps.filter(team_id__in=managed_team_ids(user=manager))
    return reps.exclude(user=manager).order_by("user__first_name", "user__last_name", "user__username")


def team_managers(*, team: Team) -> list[User]:
    """The managers of the team and of every team above it. Queries: 2."""
    return [
        m.user
        for m in active_memberships()
        .filter(role=Membership.Role.MANAGER, user__is_active=True, team_id__in=team_ids_with_ancestors([team.id]))
        .select_related("user")
        .order_by("user_id")
    ]


# --- Who is due for the weekly jobs -----------------------------------------------------------------------------


def checkin_reminder_due(
    *, now: datetime.datetime, weekday: int, user_ids=None
) -> list[tuple[User, datetime.date, list[Goal]]]:
    """The reps whose local day is ISO `weekday` and past their reminder hour (only among `user_ids` if given: a
    fan-out chunk), each with the week's Monday and their active goals still without a check-in this week (reps
    with none left are skipped). Queries: 5, whatever the number of reps."""
    local = local_now_by_timezone(now)
    zones = Q()
    for name, at in local.items():
        if at.isoweekday() == weekday:
            zones |= Q(user__timezone=name, user__reminder_hour__lte=at.hour)
    if not zones:
        return []
    rep_memberships = active_memberships().filter(zones, role=Membership.Role.REP, user__is_active=True)
    if user_ids is not None:
        rep_memberships = rep_memberships.filter(user_id__in=list(user_ids))
    reps = {m.user_id: m.user for m in rep_memberships.select_related("user").order_by("user_id")}
    weeks = {uid: week_start_of(local[u.timezone].date()) for uid, u in reps.items()}
    goals: dict[int, list[Goal]] = {}
    for goal in Goal.objects.filter(owner_user_id__in=list(reps), status=Goal.Status.ACTIVE).order_by("due_date", "id"):
        owner_id = goal.owner_user_id
        if owner_id is not None and goal.start_date <= local[reps[owner_id].timezone].date():
            goals.setdefault(owner_id, []).append(goal)
    done = set(
        CheckIn.objects.filter(rep_id__in=list(goals), week_start__in=set(weeks.values())).values_list(
            "goal_id", "week_start"
        )
    )
    sent = notification_keys_delivered(pairs=[(uid, f"weekly-checkin:{uid}:{weeks[uid].isoformat()}") for uid in goals])
    due = []
    for uid, rep_goals in goals.items():
        missing = [g for g in rep_goals if (g.id, weeks[uid]) not in done]
        if missing and (uid, f"weekly-checkin:{uid}:{weeks[uid].isoformat()}") not in sent:
            due.append((reps[uid], weeks[uid], missing))
    return due


DIGESTED_KEYS = ("adjustment:", "checkin-reply:")  # the in-app-only items a manager's digest bundles


def feedback_digest_due(
    *, now: datetime.datetime, weekday: int, hour: int, user_ids=None
) -> list[tuple[User, datetime.date, list[Notification]]]:
    """Managers whose local time is ISO `weekday` at or after `hour` (only among `user_ids` if given: a fan-out
    chunk), with their unread in-app-only coaching items of this week (oldest first); managers with nothing
    waiting are skipped. Queries: 4."""
    local = local_now_by_timezone(now)
    zones = [name for name, at in local.items() if at.isoweekday() == weekday and at.hour >= hour]
    if not zones:
        return []
    monday = week_start_of(local[zones[0]].date())
    manager_memberships = active_memberships().filter(
        role=Membership.Role.MANAGER, user__is_active=True, user__timezone__in=zones
    )
    if user_ids is not None:
        manager_memberships = manager_memberships.filter(user_id__in=list(user_ids))
    managers = {m.user_id: m.user for m in manager_memberships.select_related("user")}
    waiting: dict[int, list[Notification]] = {}
    keys = Q()
    for prefix in DIGESTED_KEYS:
        keys |= Q(key__startswith=prefix)
    for notification in Notification.objects.filter(
        keys,
        user_id__in=list(managers),
        read_at__isnull=True,
        email_status=Notification.EmailStatus.NONE,
        created_at__gte=now - datetime.timedelta(days=7),
    ).order_by("created_at", "id"):
        waiting.setdefault(notification.user_id, []).append(notification)
    sent = notification_keys_delivered(pairs=[(uid, f"feedback-digest:{uid}:{monday.isoformat()}") for uid in waiting])
    return [
        (managers[uid], monday, items)
        for uid, items in waiting.items()
        if (uid, f"feedback-digest:{uid}:{monday.isoformat()}") not in sent
    ]


# --- What approval of an adjustment would change (the request page) ---------------------------------------------


def goal_figures(goal: Goal) -> dict:
    """The figures shown side by side on a request: today's, and those approval would give."""
    return {
        "target": goal.target_value,
        "due_date": goal.due_date,
        "attainment": pace.attainment_percent(
            current=goal.current_value, baseline=goal.baseline_value, target=goal.target_value
        ),
        "expected": goal.expected_value,
        "forecast": goal.forecast_value,
        "health": goal.health,
        "achievability": goal.get_achievability_display() if goal.achievability else "",
        "required_daily_rate": goal.required_daily_rate,
    }


def plan_rows_ahead(*, goal: Goal, today: datetime.date) -> list[PlanRow]:
    """The goal's current micro goals on its own KPI from the period holding `today` on, as the breakdown
    preview's rows (what a re-plan would replace). Queries: 1 + the reps' calendars (3) + memberships (1)."""
    micro_goals = list(
        goal.micro_goals.filter(kpi_id=goal.kpi_id, due_date__gte=today)
        .exclude(status="cancelled")
        .select_related("assignee", "kpi")
        .order_by("start_date", "assignee_id")
    )
    if not micro_goals:
        return []
    user_ids = {m.assignee_id for m in micro_goals}
    calendars = calendars_for_reps(user_ids=user_ids)
    capacity = dict(
        active_memberships().filter(user_id__in=user_ids, role=Membership.Role.REP).values_list("user_id", "capacity")
    )
    rows = []
    for micro in micro_goals:
        calendar = calendars.get(micro.assignee_id)
        days = calendar.count(micro.start_date, micro.due_date) if calendar else 0
        share = capacity.get(micro.assignee_id, Decimal(0))
        rows.append(
            PlanRow(
                micro.assignee,
                micro.kpi,
                micro.start_date,
                micro.due_date,
                days,
                share,
                share * days,
                micro.target_value,
            )
        )
    return rows
