"""Reads of the rewards app: whose awards a user may see, what a manager reviews, a rep's streak and next tiers,
and the leaderboards. No writes.

Who sees what: a rep sees their own awards and their own team's board; a manager sees the awards and boards of
the teams they manage (with sub-teams); an admin sees everything. `award_get_for_user` raises 404 alike for
missing and not-yours.

Leaderboards rank each rep by attainment of their OWN targets on one KPI in the period, so a part-time rep with
a smaller quota competes fairly: the rep's micro goals on the KPI that overlap the period (a week straddling the
first of the month counts in both months), plus their personal goals on it that lie inside the period and have no
micro goals (those would count twice; a quarter's goal is not "this week's figures"). Attainment is
goals.pace.attainment_percent over those sums (the one definition). Ties: higher attainment, then more points
in the period, then the earlier member (user id): deterministic, and equal figures share a rank. Points and
badges are those granted in the period, so a weekly board shows this week, not all-time totals.
"""

import datetime
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Any

from django.db.models import Count, DecimalField, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from goals import pace
from goals.models import Goal, Kpi, MicroGoal, ProgressEntry
from teams.models import Membership, Team, User
from teams.selectors import (
    active_memberships,
    calendars_for_reps,
    managed_team_ids,
    rep_membership,
    team_ids_with_descendants,
    user_ids_visible_to,
)

from .figures import goal_attainment, streak_length
from .models import Award, RewardPreference, RewardTier

Status = Award.Status
# How far back streaks are read from the ledger.
STREAK_LOOKBACK_DAYS = 400
COUNTED = (Status.GRANTED, Status.PENDING, Status.APPROVED, Status.PAID)  # what a board's points include
PERIODS = {"week": "This week", "month": "This month", "quarter": "This quarter"}
HIDDEN_NAME = "a teammate"


# --- awards ------------------------------------------------------------------------------------------------------


def _with_subjects(awards: QuerySet[Award]) -> QuerySet[Award]:
    return awards.select_related("tier", "user", "goal", "micro_goal__kpi", "decided_by")


def award_list_for_user(*, user: User, managed: bool = False) -> QuerySet[Award]:
    """The user's own awards, newest first (every status: a revoked award stays in their history). With
    `managed`, also those of the reps they manage (every award for an admin): the scope of award_get_for_user."""
    if not managed:
        return _with_subjects(Award.objects.filter(user=user))
    if user.is_staff:
        return _with_subjects(Award.objects.all())
    return _with_subjects(Award.objects.filter(user_id__in=user_ids_visible_to(user=user)))


def award_get_for_user(*, user: User, id: int) -> Award:
    """An award the user may see: their own, or one of a rep they manage (any for an admin); else 404."""
    awards = Award.objects.all()
    if not user.is_staff:
        awards = awards.filter(user_id__in=user_ids_visible_to(user=user))
    return get_object_or_404(_with_subjects(awards), id=id)


def award_can_decide(*, user: User, award: Award) -> bool:
    """May the user approve, reject, keep or revoke it? One of the rep's managers or an admin, never the rep."""
    if award.user_id == user.id:
        return False
    return user.is_staff or award.user_id in user_ids_visible_to(user=user)


def awards_to_review_for_user(*, user: User) -> QuerySet[Award]:
    """Flagged awards and pending bonuses of the reps the user manages (every rep's for an admin), oldest first.
    Queries: 2 to scope (none for an admin), then the list."""
    awards = Award.objects.filter(status__in=[Status.FLAGGED, Status.PENDING]).exclude(user=user)
    if not user.is_staff:
        awards = awards.filter(user_id__in=user_ids_visible_to(user=user) - {user.id})
    return _with_subjects(awards).order_by("granted_at", "id")


def payable_awards():
    """Bonuses ready to pay: approved, or granted by a tier that needs no approval. Oldest first."""
    return (
        _with_subjects(Award.objects.filter(amount__gt=0))
        .filter(Q(status=Status.APPROVED) | Q(status=Status.GRANTED, tier__needs_approval=False))
        .order_by("granted_at", "id")
    )


@dataclass
class RewardSummary:
    points: int
    bonuses: Decimal  # granted, approved or paid
    pending_bonuses: Decimal  # waiting for a manager's approval
    badges: int


def reward_summary_for_user(*, user: User) -> RewardSummary:
    """Points, bonus amounts and badges the user holds (flagged and revoked awards aside). Queries: 1."""
    money: dict[str, Any] = {"output_field": DecimalField()}
    totals = Award.objects.filter(user=user, status__in=COUNTED).aggregate(
        points=Coalesce(Sum("points"), 0),
        bonuses=Coalesce(Sum("amount", filter=~Q(status=Status.PENDING)), Decimal(0), **money),
        pending_bonuses=Coalesce(Sum("amount", filter=Q(status=Status.PENDING)), Decimal(0), **money),
        badges=Count("id", filter=Q(tier__reward_kind=RewardTier.RewardKind.BADGE)),
    )
    return RewardSummary(**totals)


# --- streaks and the next tier within reach --------------------------------------------------------------------------


def current_streak_for_user(*, user: User, now: datetime.datetime | None = None) -> int:
    """Consecutive working days (on the rep's team calendar) with a non-voided entry, up to the rep's local today.
    Today is still open: without an entry yet it neither counts nor breaks the streak. 0 for someone who is nobody's
    rep. Queries: 4 (1 when not a rep)."""
    calendar = calendars_for_reps(user_ids=[user.id]).get(user.id)
    if calendar is None:
        return 0
    today = user.local_today(now)
    days = set(
        ProgressEntry.objects.filter(
            user=user, voided_at__isnull=True, date__gte=today - datetime.timedelta(days=STREAK_LOOKBACK_DAYS)
        ).values_list("date", flat=True)
    )
    if calendar.is_working_day(today) and today not in days:
        today = calendar.add_working_days(today, -1)
    return streak_length(calendar, days, end=today)


@dataclass
class WithinReach:
    tier: RewardTier
    subject: object  # a Goal or MicroGoal; None for a streak
    kpi: Kpi | None
    remaining: Decimal  # in the KPI's unit, or working days for a streak
    attainment: Decimal | None


def _value_at(subject, threshold: Decimal) -> Decimal:
    """The value at which the subject's attainment reaches `threshold` % (the inverse of attainment_percent)."""
    baseline = getattr(subject, "baseline_value", Decimal(0))
    return baseline + (subject.target_value - baseline) * threshold / 100


def next_tiers_for_user(*, user: User, streak: int, limit: int = 3) -> list[WithinReach]:
    """The nearest tiers the user can still reach: per active personal goal or micro goal the lowest active tier
    above its attainment that it has not earned yet, with what is still needed ("3 more deals"), and the next
    streak tier. Nearest first (by the share of the target still needed). Queries: 4."""
    tiers = list(RewardTier.objects.filter(is_active=True).select_related("kpi"))
    if not tiers:
        return []
    goals = list(Goal.objects.filter(owner_user=user, status=Goal.Status.ACTIVE).select_related("kpi"))
    micro_goals = list(MicroGoal.objects.filter(assignee=user, status=MicroGoal.Status.ACTIVE).select_related("kpi"))
    earned = set(
        Award.objects.filter(user=user)
        .filter(Q(goal__in=goals) | Q(micro_goal__in=micro_goals))
        .values_list("tier_id", "goal_id", "micro_goal_id")
    )
    found = []
    for subject, applies_to in [(g, RewardTier.AppliesTo.GOAL) for g in goals] + [
        (m, RewardTier.AppliesTo.MICRO_GOAL) for m in micro_goals
    ]:
        attainment = goal_attainment(subject)
        is_goal = applies_to == RewardTier.AppliesTo.GOAL
        candidates = [
            t
            for t in tiers
            if t.applies_to == applies_to
            and t.kpi_id in (None, subject.kpi_id)
            and (not is_goal or t.owner_kind != RewardTier.OwnerKind.TEAM)
            and t.threshold > attainment
            and (t.id, subject.id if is_goal else None, None if is_goal else subject.id) not in earned
        ]
        if candidates:
            tier = min(candidates, key=lambda t: t.threshold)
            gap = abs(_value_at(subject, tier.threshold) - subject.current_value)
            remaining = (gap / subject.kpi.quantum).to_integral_value(rounding=ROUND_CEILING) * subject.kpi.quantum
            found.append((tier.threshold - attainment, WithinReach(tier, subject, subject.kpi, remaining, attainment)))
    streak_tiers = [t for t in tiers if t.applies_to == RewardTier.AppliesTo.STREAK and t.days > streak]
    if streak_tiers:
        tier = min(streak_tiers, key=lambda t: t.days)
        share = Decimal(tier.days - streak) * 100 / tier.days
        found.append((share, WithinReach(tier, None, None, Decimal(tier.days - streak), None)))
    found.sort(key=lambda pair: pair[0])
    return [item for _, item in found[:limit]]


# --- leaderboards ----------------------------------------------------------------------------------------------------


def period_bounds(period: str, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """This week (Monday–Sunday), month or quarter around `today`."""
    if period == "week":
        first = today - datetime.timedelta(days=today.weekday())
        return first, first + datetime.timedelta(days=6)
    months = 3 if period == "quarter" else 1
    first = today.replace(month=(today.month - 1) // months * months + 1, day=1)
    month_after = first.month + months
    following = first.replace(year=first.year + (month_after > 12), month=(month_after - 1) % 12 + 1)
    return first, following - datetime.timedelta(days=1)


def previous_period(start: datetime.date, end: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The period just before [start, end]: the previous calendar month or quarter when it is one, else the same
    number of days before."""
    next_day = end + datetime.timedelta(days=1)
    if start.day == 1 and next_day.day == 1:
        months = (next_day.year - start.year) * 12 + next_day.month - start.month
        month = start.month - months
        first = start.replace(year=start.year + (month - 1) // 12, month=(month - 1) % 12 + 1)
        return first, start - datetime.timedelta(days=1)
    length = end - start + datetime.timedelta(days=1)
    return start - length, start - datetime.timedelta(days=1)


def leaderboard_team_list_for_user(*, user: User) -> QuerySet[Team]:
    """The teams whose board the user may open: those they manage (with sub-teams; all for an admin) and their own
    rep team, by name. Queries before the list's own: 3, the managed teams (2; 1 for an admin) and the rep team."""
    team_ids = managed_team_ids(user=user)
    membership = rep_membership(user=user)
    if membership is not None:
        team_ids = team_ids | {membership.team_id}
    return Team.objects.filter(id__in=team_ids).order_by("name")


def leaderboard_teams_for_user(*, user: User) -> list[Team]:
    """leaderboard_team_list_for_user as a list. Queries: 4 (3 for an admin)."""
    return list(leaderboard_team_list_for_user(user=user))


@dataclass
class BoardRow:
    user: User
    team: Team
    name: str  # what the viewer sees: the name, "You", or "a teammate"
    is_viewer: bool
    target: Decimal | None
    current: Decimal | None
    attainment: Decimal | None
    points: int
    badges: int
    on_pace: Decimal | None = None  # attainment of what the pace expects by now (= attainment once it is over)
    previous_on_pace: Decimal | None = None
    rank: int | None = None

    @property
    def improvement(self) -> Decimal | None:
        if self.on_pace is None or self.previous_on_pace is None:
            return None
        return self.on_pace - self.previous_on_pace


@dataclass
class Board:
    team: Team
    kpi: Kpi
    start: datetime.date
    end: datetime.date
    rows: list[BoardRow]  # ranked first, then reps without a target in the period
    previous: tuple[datetime.date, datetime.date] | None = None


def _sum_of(model, user_field: str, value: str, filters: Q):
    """A correlated subquery: the sum of `value` over the rep's rows of `model` matching `filters`."""
    rows = model.objects.filter(filters, **{user_field: OuterRef("user_id")}).order_by().values(user_field)
    return Subquery(rows.annotate(total=Sum(value)).values("total")[:1], output_field=DecimalField())


def _figures(kpi: Kpi, start: datetime.date, end: datetime.date, suffix: str) -> dict:
    """The annotations that give a rep's own targets and progress on `kpi` in [start, end]."""
    micro = Q(kpi=kpi, start_date__lte=end, due_date__gte=start) & ~Q(status=MicroGoal.Status.CANCELLED)
    goals = (
        Q(kpi=kpi, start_date__gte=start, due_date__lte=end)
        & ~Q(status__in=[Goal.Status.CANCELLED, Goal.Status.DRAFT])
        & ~Q(Exists(MicroGoal.objects.filter(goal=OuterRef("pk"))))
    )
    return {
        f"micro_target{suffix}": _sum_of(MicroGoal, "assignee", "target_value", micro),
        f"micro_current{suffix}": _sum_of(MicroGoal, "assignee", "current_value", micro),
        f"micro_expected{suffix}": _sum_of(MicroGoal, "assignee", "expected_value", micro),
        f"goal_target{suffix}": _sum_of(Goal, "owner_user", "target_value", goals),
        f"goal_current{suffix}": _sum_of(Goal, "owner_user", "current_value", goals),
        f"goal_expected{suffix}": _sum_of(Goal, "owner_user", "expected_value", goals),
        f"goal_baseline{suffix}": _sum_of(Goal, "owner_user", "baseline_value", goals),
    }


@dataclass
class _Figures:
    target: Decimal | None = None
    current: Decimal | None = None
    attainment: Decimal | None = None
    on_pace: Decimal | None = None


def _figures_of(row, suffix: str) -> _Figures:
    """A board row's sums, attainment (of the target) and on-pace attainment (of the pace's expected value, which the
    engine sets to the target once the window is over), all by goals.pace.attainment_percent. Empty when the rep has
    no target in the period; no on-pace figure while nothing is expected yet."""
    names = ("micro_target", "micro_current", "micro_expected", "goal_target", "goal_current", "goal_expected",
             "goal_baseline")  # fmt: skip
    parts = {name: getattr(row, f"{name}{suffix}") or Decimal(0) for name in names}
    if getattr(row, f"micro_target{suffix}") is None and getattr(row, f"goal_target{suffix}") is None:
        return _Figures()
    target = parts["micro_target"] + parts["goal_target"]
    current = parts["micro_current"] + parts["goal_current"]
    expected = parts["micro_expected"] + parts["goal_expected"]
    baseline = parts["goal_baseline"]
    on_pace = None
    if expected != baseline:
        on_pace = pace.attainment_percent(current=current, baseline=baseline, target=expected)
    return _Figures(
        target, current, pace.attainment_percent(current=current, baseline=baseline, target=target), on_pace
    )


def _board_query(*, team_ids, kpi, start, end, previous=None) -> QuerySet[Membership]:
    """ONE query: the current reps of the teams with their figures, points and badges in the period (and the
    previous period's figures for "most improved"), and whether they hide their name."""
    since = timezone.make_aware(datetime.datetime.combine(start, datetime.time.min))
    until = timezone.make_aware(datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min))
    awards = Award.objects.filter(
        user_id=OuterRef("user_id"), status__in=COUNTED, granted_at__gte=since, granted_at__lt=until
    ).order_by()
    annotations = {
        **_figures(kpi, start, end, ""),
        "points": Coalesce(
            Subquery(awards.values("user_id").annotate(n=Sum("points")).values("n")[:1], output_field=IntegerField()),
            Value(0),
        ),
        "badges": Coalesce(
            Subquery(
                awards.filter(tier__reward_kind=RewardTier.RewardKind.BADGE)
                .values("user_id")
                .annotate(n=Count("id"))
                .values("n")[:1],
                output_field=IntegerField(),
            ),
            Value(0),
        ),
        "hides_name": Exists(RewardPreference.objects.filter(user_id=OuterRef("user_id"), hide_name_from_peers=True)),
    }
    if previous:
        annotations |= _figures(kpi, previous[0], previous[1], "_prev")
    return (
        active_memberships()
        .filter(team_id__in=team_ids, role=Membership.Role.REP)
        .select_related("user", "team")
        .annotate(**annotations)
    )


def _rank(rows: list[BoardRow], key) -> list[BoardRow]:
    """Rows with a figure ranked by `key` (best first, ties on the whole key share a rank), the others after."""
    ranked = sorted((r for r in rows if key(r) is not None), key=lambda r: (-key(r), -r.points, r.user.id))
    for position, row in enumerate(ranked, start=1):
        same = position > 1 and (key(row), row.points) == (key(ranked[position - 2]), ranked[position - 2].points)
        row.rank = ranked[position - 2].rank if same else position
    rest = sorted((r for r in rows if key(r) is None), key=lambda r: r.user.id)
    return ranked + rest


def _board(*, team: Team, start, end, viewer: User, kpi: Kpi, previous=None, team_ids=None) -> Board:
    team_ids = team_ids_with_descendants([team.id]) if team_ids is None else team_ids
    sees_names = viewer.is_staff or team.id in managed_team_ids(user=viewer)
    rows = []
    member: Any  # a Membership with the annotations of _board_query
    for member in _board_query(team_ids=team_ids, kpi=kpi, start=start, end=end, previous=previous):
        is_viewer = member.user_id == viewer.id
        hides_name = member.hides_name
        if is_viewer:
            name = "You"
        elif hides_name and not sees_names:
            name = HIDDEN_NAME
        else:
            name = str(member.user) + (" (hidden from peers)" if hides_name else "")
        now = _figures_of(member, "")
        row = BoardRow(member.user, member.team, name, is_viewer, now.target, now.current, now.attainment,
                       member.points, member.badges, on_pace=now.on_pace)  # fmt: skip
        if previous:
            row.previous_on_pace = _figures_of(member, "_prev").on_pace
        rows.append(row)
    return Board(team=team, kpi=kpi, start=start, end=end, rows=rows, previous=previous)


def leaderboard_for_team(
    *, team: Team, start: datetime.date, end: datetime.date, viewer: User, kpi: Kpi, team_ids=None
) -> Board:
    """The team's (and sub-teams') current reps ranked by attainment of their own targets on `kpi` in the period.
    The board is ONE query (plus 2 to know whether the viewer manages the team, 1 for the team tree unless
    `team_ids` is given). The caller has checked the viewer may see the team (leaderboard_teams_for_user)."""
    board = _board(team=team, start=start, end=end, viewer=viewer, kpi=kpi, team_ids=team_ids)
    board.rows = _rank(board.rows, lambda r: r.attainment)
    return board


def most_improved_for_team(
    *, team: Team, start: datetime.date, end: datetime.date, viewer: User, kpi: Kpi, team_ids=None
) -> Board:
    """The same reps ranked by how much their attainment rose against their own previous period (reps with a target
    in both periods). A period still running is judged on pace (attainment of what is expected by now), so the first
    days of a month compare fairly with the whole of the last one. ONE query, like leaderboard_for_team."""
    previous = previous_period(start, end)
    board = _board(team=team, start=start, end=end, viewer=viewer, kpi=kpi, previous=previous, team_ids=team_ids)
    board.rows = [r for r in _rank(board.rows, lambda r: r.improvement) if r.improvement is not None]
    return board


CARD_SIZE = 10  # the dashboard's leaderboard card: its top rows


@dataclass
class BoardTop:
    """The top of a board (the dashboard's card): its first rows, the viewer's own row when it is further down, and
    how many reps the whole board has."""

    rows: list[BoardRow]
    viewer_row: BoardRow | None
    total: int


def leaderboard_top(board: Board, *, size: int = CARD_SIZE) -> BoardTop:
    """The first `size` rows of a ranked board in the board's own order: ranked reps first, tied reps sharing their
    rank as on the full board (a tie across the cut keeps the board's order: points, then the earliest rep), then
    reps without a target; plus the viewer's row when they are on the board below those. No query: names, hidden
    names included, are the board's."""
    rows = board.rows[:size]
    viewer_row = next((row for row in board.rows[size:] if row.is_viewer), None)
    return BoardTop(rows=rows, viewer_row=viewer_row, total=len(board.rows))


def leaderboard_default_kpi(*, team_ids) -> Kpi | None:
    """The KPI a board opens on: the one most of the teams' current micro goals and goals use, else the first
    active KPI. Queries: 1 or 2."""
    kpi = (
        Kpi.objects.filter(is_active=True)
        .annotate(
            uses=Count(
                "micro_goals",
                filter=Q(micro_goals__status=MicroGoal.Status.ACTIVE)
                & Q(micro_goals__assignee__memberships__team_id__in=team_ids),
            )
        )
        .filter(uses__gt=0)
        .order_by("-uses", "name")
        .first()
    )
    return kpi or Kpi.objects.filter(is_active=True).order_by("name").first()


def reward_preference_for_user(*, user: User) -> bool:
    """Does the user hide their name from peers on leaderboards?"""
    return RewardPreference.objects.filter(user=user, hide_name_from_peers=True).exists()


def tier_list() -> QuerySet[RewardTier]:
    # Ordered explicitly: Meta.ordering does not apply to a GROUP BY query.
    tiers = RewardTier.objects.select_related("kpi").annotate(awarded=Count("awards"))
    return tiers.order_by("applies_to", "threshold_percent", "streak_days", "name")


def tier_get(*, id: int) -> RewardTier:
    return get_object_or_404(RewardTier.objects.select_related("kpi"), id=id)


def tier_list_for_user(*, user: User) -> QuerySet[RewardTier]:
    """The tiers a user may read: every tier for an admin, the active ones (what can still be earned) for others."""
    tiers = tier_list()
    return tiers if user.is_staff else tiers.filter(is_active=True)


def tier_get_for_user(*, user: User, id: int) -> RewardTier:
    """A tier of tier_list_for_user, else 404 (a deactivated tier is not there for a rep)."""
    return get_object_or_404(tier_list_for_user(user=user), id=id)
