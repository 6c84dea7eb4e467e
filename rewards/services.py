"""Every write of the rewards app: tiers (admins), granting and flagging awards (jobs), decisions (managers),
payouts (admins), a rep's privacy choice.

Granting, exactly once:
- `awards_grant` runs after each recompute of changed goals and after closing (settings.PACER_AFTER_RECOMPUTE,
  called by goals/tasks.py), and periodically for everything (rewards.tasks.grant_all_awards).
- A tier is reached when the goal's attainment (goals.pace.attainment_percent, the one definition; it already
  mirrors lower-is-better KPIs) is at least the tier's threshold. One Award per (user, tier, goal / micro goal /
  streak day): the database's unique constraints decide, so two concurrent runs grant once; the losing insert
  is a no-op in a savepoint. Inserts go in a fixed order, so two runs never deadlock.
- The rep, and for hard goals and bonuses the managers above their team, are notified once (notify() with the key
  "award:<id>", written in the same transaction as the award: no award, no notification). Micro goal points and
  streak badges reach the rep only, and rank changes never notify anyone. The new awards then go to the hooks of
  settings.PACER_AFTER_AWARDS_GRANTED (webhooks' "award.granted"), in the same transaction.
- When the figure later drops below the threshold the award was granted at, the award is flagged for a manager's
  review (never deleted, never re-granted: the unique constraint also holds for revoked awards). It stays flagged
  until the manager keeps or revokes it, and an award a manager kept is not flagged again.
- Team goals: the tier goes to each rep who was a rep of the team (or a sub-team) during the goal's window, or
  only to those of them who logged an entry that counts (the tier's `team_recipients`).
- Streaks: N consecutive working days on the rep's team calendar with at least one non-voided entry (on the
  tier's KPI, if it has one); non-working days neither count nor break a streak. One award per streak, dated
  on the day it reached N.
"""

import datetime
import logging
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from goals.models import Goal, MicroGoal, ProgressEntry
from goals.selectors import entry_list_for_owner
from notifications.models import Notification
from notifications.services import notify
from teams.hooks import hooks_run
from teams.models import Membership, User
from teams.selectors import (
    active_memberships,
    calendars_for_reps,
    team_ids_with_ancestors,
    team_ids_with_descendants,
    user_ids_visible_to,
)

from .figures import goal_attainment, streak_length, streak_runs
from .models import Award, RewardPreference, RewardTier
from .selectors import STREAK_LOOKBACK_DAYS, payable_awards

logger = logging.getLogger(__name__)
Status = Award.Status
# What a user holds: these are flagged when the figure drops below the award's threshold.
HELD = (Status.GRANTED, Status.PENDING, Status.APPROVED, Status.PAID)
# Closed goals keep being checked for this long (a periodic run catches a grant a lost job missed).
RECENTLY_CLOSED = datetime.timedelta(days=35)
CENT = Decimal("0.01")
MAX_NEW_AWARDS_PER_RUN = 2000
MAX_PERCENT = Decimal("9999999.99")


# --- tiers (admins) ---------------------------------------------------------------------------------------------


def _require_admin(user: User) -> None:
    if not user.is_staff:
        raise PermissionDenied("Only admins configure reward tiers and payouts.")


TIER_FIELDS = (
    "name",
    "description",
    "applies_to",
    "threshold_percent",
    "streak_days",
    "kpi",
    "owner_kind",
    "team_recipients",
    "reward_kind",
    "points",
    "amount",
    "needs_approval",
)
# Once a tier has been awarded these define what its awards mean: changing them would rewrite history.
FROZEN_ONCE_AWARDED = ("applies_to", "reward_kind")


@transaction.atomic
def tier_create(*, created_by: User, **fields) -> RewardTier:
    """A new active tier. Fields: those of TIER_FIELDS (see RewardTier); rules in `_clean_tier`."""
    _require_admin(created_by)
    tier = RewardTier(**{name: value for name, value in fields.items() if name in TIER_FIELDS})
    _clean_tier(tier)
    _save_tier(tier)
    return tier


@transaction.atomic
def tier_update(*, tier: RewardTier, updated_by: User, **fields) -> RewardTier:
    """Change a tier. Awards already granted keep the threshold, points and amount they were granted with; what an
    awarded tier applies to and its reward kind can no longer change (create a new tier instead)."""
    _require_admin(updated_by)
    tier = RewardTier.objects.select_for_update().get(pk=tier.pk)
    awarded = tier.awards.exists()
    errors = {}
    for name, value in fields.items():
        if name not in TIER_FIELDS:
            continue
        if awarded and name in FROZEN_ONCE_AWARDED and getattr(tier, name) != value:
            label = getattr(RewardTier._meta.get_field(name), "verbose_name", name)
            errors[name] = f"This tier has been awarded already, so its {label} cannot change: create a new tier."
        setattr(tier, name, value)
    if errors:
        raise ValidationError(errors)
    _clean_tier(tier)
    _save_tier(tier)
    return tier


def _save_tier(tier: RewardTier) -> None:
    try:
        with transaction.atomic():  # a savepoint: the name check can race with another admin's save
            tier.save()
    except IntegrityError:
        raise ValidationError(
            {"name": f"A tier named “{tier.name}” already exists (names are compared ignoring case)."}
        ) from None


@transaction.atomic
def tier_set_active(*, tier: RewardTier, active: bool, changed_by: User) -> RewardTier:
    """Deactivate (no new awards; those granted stay) or reactivate a tier."""
    _require_admin(changed_by)
    RewardTier.objects.filter(pk=tier.pk).update(is_active=active, updated_at=timezone.now())
    tier.refresh_from_db()
    return tier


def tier_deactivate(*, tier: RewardTier, deactivated_by: User) -> RewardTier:
    return tier_set_active(tier=tier, active=False, changed_by=deactivated_by)


@transaction.atomic
def tier_delete(*, tier: RewardTier, deleted_by: User) -> None:
    """Delete a tier nobody has received yet; an awarded tier is history: deactivate it instead."""
    _require_admin(deleted_by)
    tier = RewardTier.objects.select_for_update().get(pk=tier.pk)
    if tier.awards.exists():
        raise ValidationError(f"“{tier.name}” has been awarded, so it cannot be deleted: deactivate it instead.")
    tier.delete()


def _clean_tier(tier: RewardTier) -> None:
    """The rules of a tier, each with a message that says what to fix (raised together)."""
    errors = {}
    tier.name = (tier.name or "").strip()
    tier.description = (tier.description or "").strip()
    if not tier.name:
        errors["name"] = "Give the tier a name, e.g. Target."
    elif RewardTier.objects.filter(name__iexact=tier.name).exclude(pk=tier.pk).exists():
        errors["name"] = f"A tier named “{tier.name}” already exists (names are compared ignoring case)."
    if tier.applies_to == RewardTier.AppliesTo.STREAK:
        tier.threshold_percent = None
        tier.owner_kind = RewardTier.OwnerKind.PERSONAL
        if not tier.streak_days or tier.streak_days < 2:
            errors["streak_days"] = "A streak needs at least 2 consecutive working days."
    else:
        tier.streak_days = None
        if tier.applies_to == RewardTier.AppliesTo.MICRO_GOAL:
            tier.owner_kind = RewardTier.OwnerKind.PERSONAL
        if tier.threshold_percent is None or tier.threshold_percent <= 0:
            errors["threshold_percent"] = "The threshold must be a positive percentage of the target, e.g. 100."
        elif tier.threshold_percent > 1000:
            errors["threshold_percent"] = "Keep the threshold at or below 1,000 % of the target."
    kind = tier.reward_kind
    tier.points = tier.points or 0
    tier.amount = tier.amount or Decimal(0)
    if kind == RewardTier.RewardKind.POINTS and tier.points <= 0:
        errors["points"] = "A points reward needs a positive number of points."
    if kind == RewardTier.RewardKind.BONUS and tier.amount <= 0:
        errors["amount"] = f"A bonus needs a positive amount (in {settings.PACER['CURRENCY']})."
    if kind != RewardTier.RewardKind.POINTS:
        tier.points = 0
    if kind != RewardTier.RewardKind.BONUS:
        tier.amount = Decimal(0)
        tier.needs_approval = False
    if errors:
        raise ValidationError(errors)
    tier.full_clean(validate_unique=False, validate_constraints=False)


# --- granting (jobs) ----------------------------------------------------------------------------------------------


class Granted(NamedTuple):
    granted: int
    flagged: int


def _percent(value: Decimal) -> Decimal:
    return min(value, MAX_PERCENT).quantize(CENT, rounding=ROUND_HALF_UP)


@transaction.atomic
def awards_grant(*, goal_ids=None, micro_goal_ids=None, user_ids=None, today: datetime.date | None = None) -> Granted:
    """Grant the tiers the given goals and micro goals reach, and the streak tiers of the people they concern (or
    of `user_ids`); flag held awards whose figure dropped below their threshold. With no ids at all: every active
    or recently closed goal and micro goal, and every current rep's streaks (the periodic safety net).

    Idempotent and safe to run concurrently (see the module docstring). Queries: a fixed number per kind, plus a
    few per team goal that reaches a tier, plus two per new award (insert, notification).
    """
    everything = goal_ids is None and micro_goal_ids is None and user_ids is None
    goals, micro_goals = _subjects(goal_ids, micro_goal_ids, everything=everything)
    tiers = list(RewardTier.objects.filter(is_active=True).select_related("kpi"))
    wanted: dict[tuple, tuple[RewardTier, Decimal]] = {}  # (user, tier, field, subject) → (tier, attainment)
    figures: dict[tuple[str, int], Decimal] = {}
    for goal in goals:
        figures["goal", goal.id] = attainment = goal_attainment(goal)
        for tier in _tiers_for(tiers, RewardTier.AppliesTo.GOAL, goal):
            if attainment >= tier.threshold:
                for user_id in _recipients(goal, tier):
                    wanted[user_id, tier.id, "goal", goal.id] = (tier, attainment)
    for micro in micro_goals:
        figures["micro_goal", micro.id] = attainment = goal_attainment(micro)
        for tier in _tiers_for(tiers, RewardTier.AppliesTo.MICRO_GOAL, micro):
            if attainment >= tier.threshold:
                wanted[micro.assignee_id, tier.id, "micro_goal", micro.id] = (tier, attainment)

    held = Award.objects.filter(
        Q(goal_id__in=[g.id for g in goals]) | Q(micro_goal_id__in=[m.id for m in micro_goals])
    ).values_list("id", "user_id", "tier_id", "goal_id", "micro_goal_id", "status", "threshold", "flagged_at")
    existing = set()
    flag = []
    for award_id, user_id, tier_id, goal_id, micro_goal_id, status, threshold, flagged_at in held:
        field, subject = ("goal", goal_id) if goal_id else ("micro_goal", micro_goal_id)
        existing.add((user_id, tier_id, field, subject))
        figure = figures[field, subject]
        # A held award flagged before was kept by a manager, who saw the drop: it is not flagged again.
        if status in HELD and flagged_at is None and threshold is not None and figure < threshold:
            flag.append((award_id, figure))

    streak_tiers = [t for t in tiers if t.applies_to == RewardTier.AppliesTo.STREAK]
    # Deactivated streak tiers grant nothing, but their awards are still checked (and flagged).
    if RewardTier.objects.filter(applies_to=RewardTier.AppliesTo.STREAK).exists():
        if everything:
            people = set(active_memberships().filter(role=Membership.Role.REP).values_list("user_id", flat=True))
        else:
            people = set(user_ids or ()) | {m.assignee_id for m in micro_goals} | _people_of(goals)
        streak_wanted, streak_flag = _streaks(people, streak_tiers, today=today)
        wanted |= streak_wanted
        flag += streak_flag

    created = _create_awards({key: value for key, value in wanted.items() if key not in existing})
    flagged = _flag(flag)
    _notify_granted(created)
    _after_granted(created)
    return Granted(granted=len(created), flagged=len(flagged))


def _subjects(goal_ids, micro_goal_ids, *, everything: bool) -> tuple[list[Goal], list[MicroGoal]]:
    """The goals and micro goals to check: those asked for that have figures (computed, not draft or cancelled)."""
    goals = Goal.objects.exclude(status__in=[Goal.Status.DRAFT, Goal.Status.CANCELLED]).filter(
        computed_at__isnull=False
    )
    micro_goals = MicroGoal.objects.exclude(status=MicroGoal.Status.CANCELLED).filter(computed_at__isnull=False)
    if everything:
        recent = timezone.now() - RECENTLY_CLOSED
        goals = goals.filter(Q(status=Goal.Status.ACTIVE) | Q(closed_at__gte=recent))
        micro_goals = micro_goals.filter(
            Q(status=MicroGoal.Status.ACTIVE) | Q(due_date__gte=timezone.localdate() - RECENTLY_CLOSED)
        )
    else:
        goals = goals.filter(id__in=list(goal_ids or ()))
        micro_goals = micro_goals.filter(id__in=list(micro_goal_ids or ()))
    return list(goals.select_related("owner_team").order_by("id")), list(micro_goals.order_by("id"))


def _tiers_for(tiers: list[RewardTier], applies_to: str, subject) -> list[RewardTier]:
    is_team = getattr(subject, "owner_team_id", None) is not None
    kinds = {RewardTier.OwnerKind.BOTH, RewardTier.OwnerKind.TEAM if is_team else RewardTier.OwnerKind.PERSONAL}
    return [
        t
        for t in tiers
        if t.applies_to == applies_to
        and (t.kpi_id is None or t.kpi_id == subject.kpi_id)
        and (applies_to != RewardTier.AppliesTo.GOAL or t.owner_kind in kinds)
    ]


def _recipients(goal: Goal, tier: RewardTier) -> set[int]:
    """Who receives a goal's tier: its owner; for a team goal the reps of the team (and sub-teams) during the
    window, or only those of them whose entries count for it (the progress engine's rule). Queries: 0 or 2."""
    if goal.owner_team_id is None:
        return {goal.owner_user_id} if goal.owner_user_id else set()
    cache = goal.__dict__.setdefault("_recipients", {})
    if tier.team_recipients not in cache:
        if tier.team_recipients == RewardTier.TeamRecipients.ALL:
            cache[tier.team_recipients] = set(
                Membership.objects.filter(
                    Q(active_to__isnull=True) | Q(active_to__gte=goal.start_date),
                    team_id__in=team_ids_with_descendants([goal.owner_team_id]),
                    role=Membership.Role.REP,
                    active_from__lte=goal.due_date,
                ).values_list("user_id", flat=True)
            )
        else:
            cache[tier.team_recipients] = set(
                entry_list_for_owner(owner_team=goal.owner_team)
                .filter(kpi_id=goal.kpi_id, date__gte=goal.start_date, date__lte=goal.due_date, voided_at__isnull=True)
                .values_list("user_id", flat=True)
                .distinct()
            )
    return cache[tier.team_recipients]


def _people_of(goals: list[Goal]) -> set[int]:
    """The owners of personal goals (team goals' reps get their streaks checked by their own entries' recompute)."""
    return {g.owner_user_id for g in goals if g.owner_user_id}


def _streaks(people: set[int], tiers: list[RewardTier], *, today: datetime.date | None):
    """(wanted awards, awards to flag) for the streak tiers of these people. Queries: 3 calendars, 1 ledger read,
    1 held awards."""
    if not people:
        return {}, []
    calendars = calendars_for_reps(user_ids=people)
    if not calendars:
        return {}, []
    since = (today or timezone.localdate()) - datetime.timedelta(days=STREAK_LOOKBACK_DAYS)
    days_by_kpi: dict[int, dict[int | None, set]] = defaultdict(lambda: defaultdict(set))
    for user_id, kpi_id, day in (
        ProgressEntry.objects.filter(user_id__in=list(calendars), voided_at__isnull=True, date__gte=since)
        .order_by()
        .values_list("user_id", "kpi_id", "date")
        .distinct()
    ):
        days_by_kpi[user_id][None].add(day)
        days_by_kpi[user_id][kpi_id].add(day)
    awarded = defaultdict(list)  # (user, tier) → the streak days already awarded
    flag = []
    rows = Award.objects.filter(user_id__in=list(calendars), streak_day__gte=since).values_list(
        "id", "user_id", "tier_id", "streak_day", "status", "flagged_at", "tier__streak_days", "tier__kpi_id"
    )
    for award_id, user_id, tier_id, streak_day, status, flagged_at, tier_days, tier_kpi in rows:
        day, tier_days = streak_day or since, tier_days or 0  # never empty: the query filters on streak_day
        if status in HELD:
            awarded[user_id, tier_id].append(day)  # a flagged or revoked award does not hold its streak
            length = streak_length(calendars[user_id], days_by_kpi[user_id][tier_kpi], end=day, at_most=tier_days)
            if length < tier_days and flagged_at is None:  # an entry of the streak was voided: a manager reviews it
                flag.append((award_id, Decimal(length * 100) / tier_days))
    wanted = {}
    for user_id, calendar in calendars.items():
        for tier in tiers:
            days = awarded.get((user_id, tier.id), [])
            for run in streak_runs(calendar, days_by_kpi[user_id][tier.kpi_id]):
                # One award per streak: a run that already holds one (e.g. two runs joined by a backfill) gets none.
                if len(run) >= tier.days and not any(run[0] <= d <= run[-1] for d in days):
                    wanted[user_id, tier.id, "streak_day", run[tier.days - 1]] = (tier, Decimal(100))
    return wanted, flag


def _create_awards(wanted: dict) -> list[Award]:
    """Insert the wanted awards, in a fixed order (no deadlock between concurrent runs); an award another run
    inserted first is skipped (the unique constraint decides, inside a savepoint). At most MAX_NEW_AWARDS_PER_RUN
    per run: a new tier on a large organisation is granted over a few periodic runs instead of one transaction
    that outlives the task's time limit (about 11 ms per award with its two notifications, bench/rewards.py)."""
    created: list[Award] = []
    currency = settings.PACER["CURRENCY"]
    for key in sorted(wanted, key=lambda k: (k[0], k[1], k[2], str(k[3])))[:MAX_NEW_AWARDS_PER_RUN]:
        user_id, _tier_id, field, subject = key
        tier, attainment = wanted[key]
        is_bonus = tier.reward_kind == RewardTier.RewardKind.BONUS
        award = Award(
            user_id=user_id,
            tier=tier,
            **{field if field == "streak_day" else f"{field}_id": subject},
            attainment=_percent(attainment),
            threshold=tier.threshold_percent,
            points=tier.points,
            amount=tier.amount,
            currency=currency if is_bonus else "",
            status=Status.PENDING if is_bonus and tier.needs_approval else Status.GRANTED,
        )
        try:
            with transaction.atomic():
                award.save(force_insert=True)
        except IntegrityError:
            continue
        created.append(award)
    return created


def _flag(flag: list[tuple[int, Decimal]]) -> list[int]:
    """Flag held awards for review; conditional, so a concurrent run flags (and notifies) once."""
    flagged = []
    now = timezone.now()
    for award_id, figure in sorted(flag):
        updated = Award.objects.filter(id=award_id, status__in=HELD).update(
            status=Status.FLAGGED,
            status_before_flag=F("status"),
            flagged_at=now,
            flag_attainment=_percent(figure),
        )
        if updated:
            flagged.append(award_id)
    if flagged:
        _notify_flagged(Award.objects.filter(id__in=flagged).select_related("tier", "user"))
    return flagged


def managers_of(user_ids) -> dict[int, set[int]]:
    """{rep id: ids of the current managers of their team or of any team above it}. Queries: 2, plus 1 per team."""
    rep_teams = dict(
        active_memberships()
        .filter(user_id__in=list(user_ids), role=Membership.Role.REP)
        .values_list("user_id", "team_id")
    )
    above = {team_id: team_ids_with_ancestors([team_id]) for team_id in set(rep_teams.values())}
    managers_by_team = defaultdict(set)
    for user_id, team_id in (
        active_memberships()
        .filter(team_id__in=set().union(set(), *above.values()), role=Membership.Role.MANAGER)
        .values_list("user_id", "team_id")
    ):
        managers_by_team[team_id].add(user_id)
    return {
        rep_id: set().union(set(), *(managers_by_team[t] for t in above[team_id])) - {rep_id}
        for rep_id, team_id in rep_teams.items()
    }


def _award_text(award: Award) -> str:
    tier = award.tier
    if award.goal_id or award.micro_goal_id:
        what = f"{tier.name} ({(award.attainment or Decimal(0)).normalize():f} % of target) on “{award.subject_label}”"
    else:
        what = f"{tier.name}: {tier.days} working days in a row with progress logged"
    if award.amount:
        what += f" — a bonus of {award.amount:,.2f} {award.currency}"
        if award.status == Status.PENDING:
            what += ", waiting for a manager's approval"
    elif award.points:
        what += f" — {award.points:,} points"
    return what + "."


def _notify_granted(created: list[Award]) -> None:
    if not created:
        return
    awards = list(
        Award.objects.filter(id__in=[a.id for a in created]).select_related("tier", "user", "goal", "micro_goal__kpi")
    )
    managers = managers_of({a.user_id for a in awards})
    people = {u.id: u for u in User.objects.filter(id__in=set().union(*managers.values(), set()))}
    for award in awards:
        text = _award_text(award)
        url = reverse("rewards:award_detail", args=[award.id])
        notify(
            user=award.user,
            kind=Notification.Kind.AWARD_GRANTED,
            key=f"award:{award.id}",
            title=f"Well done! You earned {award.tier.name}",
            body=f"You earned {text}",
            url=url,
        )
        if not (award.goal_id or award.amount):
            continue  # micro goal points and streak badges are the rep's news; a manager would drown in them
        for manager_id in sorted(managers.get(award.user_id, ())):
            notify(
                user=people[manager_id],
                kind=Notification.Kind.AWARD_GRANTED,
                key=f"award:{award.id}:manager",
                title=f"{award.user} earned {award.tier.name}"
                + (" (bonus to approve)" if award.status == Status.PENDING else ""),
                body=f"{award.user} earned {text}",
                url=url,
            )


def _after_granted(created: list[Award]) -> None:
    """Hand the new awards to the apps above rewards (webhooks announces "award.granted"): each dotted path in
    settings.PACER_AFTER_AWARDS_GRANTED is called with award_ids=, inside this transaction, so what a hook writes
    (a delivery) commits with the awards or not at all. A failing hook is logged and rolled back to its savepoint:
    it never costs a rep their award."""
    if not created:
        return
    hooks_run("PACER_AFTER_AWARDS_GRANTED", award_ids=[a.id for a in created])


def _notify_flagged(awards) -> None:
    awards = list(awards)
    managers = managers_of({a.user_id for a in awards})
    people = {u.id: u for u in User.objects.filter(id__in=set().union(*managers.values(), set()))}
    for award in awards:
        for manager_id in sorted(managers.get(award.user_id, ())):
            notify(
                user=people[manager_id],
                kind=Notification.Kind.AWARD_GRANTED,
                key=f"award:{award.id}:flagged:{award.flagged_at.isoformat()}",
                title=f"Review {award.user}'s {award.tier.name} award",
                body=f"The figure behind it dropped to {award.flag_attainment.normalize():f} %, below the "
                f"{award.tier.name} threshold it was granted at. Keep or revoke it, with a reason.",
                url=reverse("rewards:award_detail", args=[award.id]),
            )


# --- decisions (managers) and payouts (admins) ---------------------------------------------------------------------


def _locked_for_decision(*, award: Award, decided_by: User, allowed: tuple, verb: str) -> Award:
    award = Award.objects.select_for_update(of=("self",)).select_related("tier", "user").get(pk=award.pk)
    if award.user_id == decided_by.pk:
        raise PermissionDenied("You cannot decide on your own award: one of your managers does.")
    if not decided_by.is_staff and award.user_id not in user_ids_visible_to(user=decided_by):
        raise PermissionDenied("Only the rep's managers decide on their awards.")
    if award.status not in allowed:
        raise ValidationError(
            f"This award is {award.get_status_display().lower()}, so it cannot be {verb} "
            f"(only {' or '.join(Status(s).label.lower() for s in allowed)} awards can)."
        )
    return award


def _reason(reason: str, *, required: bool) -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise ValidationError({"reason": "Give a reason: the rep sees it with the decision."})
    if len(reason) > 500:  # Award.decision_reason
        raise ValidationError({"reason": "Keep the reason under 500 characters."})
    return reason


def _decide(award: Award, *, status: str, decided_by: User, reason: str) -> Award:
    award.status, award.decided_by, award.decided_at, award.decision_reason = status, decided_by, timezone.now(), reason
    award.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    notify(
        user=award.user,
        kind=Notification.Kind.AWARD_GRANTED,
        key=f"award:{award.id}:{status}:{award.decided_at.isoformat()}",
        title=f"Your {award.tier.name} award is {award.get_status_display().lower()}",
        body=f"{decided_by} decided: {reason}" if reason else f"Decided by {decided_by}.",
        url=reverse("rewards:award_detail", args=[award.id]),
    )
    return award


@transaction.atomic
def award_approve(*, award: Award, decided_by: User, reason: str = "") -> Award:
    """A manager of the rep approves a pending bonus; it can then be paid."""
    award = _locked_for_decision(award=award, decided_by=decided_by, allowed=(Status.PENDING,), verb="approved")
    return _decide(award, status=Status.APPROVED, decided_by=decided_by, reason=_reason(reason, required=False))


@transaction.atomic
def award_reject(*, award: Award, decided_by: User, reason: str) -> Award:
    """A manager of the rep rejects a pending bonus, with a reason (the award stays, revoked)."""
    award = _locked_for_decision(award=award, decided_by=decided_by, allowed=(Status.PENDING,), verb="rejected")
    return _decide(award, status=Status.REVOKED, decided_by=decided_by, reason=_reason(reason, required=True))


@transaction.atomic
def award_keep(*, award: Award, decided_by: User, reason: str) -> Award:
    """A flagged award stays as it was before the flag (granted, pending, approved or paid), with a reason."""
    award = _locked_for_decision(award=award, decided_by=decided_by, allowed=(Status.FLAGGED,), verb="kept")
    previous = award.status_before_flag or Status.GRANTED
    return _decide(award, status=previous, decided_by=decided_by, reason=_reason(reason, required=True))


@transaction.atomic
def award_revoke(*, award: Award, decided_by: User, reason: str) -> Award:
    """Revoke an award (flagged, or still held and not yet paid), with a reason. It is never deleted, and never
    granted again for the same goal."""
    allowed = (Status.FLAGGED, Status.GRANTED, Status.PENDING, Status.APPROVED)
    award = _locked_for_decision(award=award, decided_by=decided_by, allowed=allowed, verb="revoked")
    return _decide(award, status=Status.REVOKED, decided_by=decided_by, reason=_reason(reason, required=True))


@transaction.atomic
def award_mark_paid(*, award_ids, decided_by: User, reason: str = "") -> int:
    """Mark these payable bonuses paid (an admin, once the export went through payroll); `reason` is the payout's
    reference, e.g. "March payroll". Those no longer payable (paid, revoked, flagged since) are left alone. Returns
    how many were marked."""
    _require_admin(decided_by)
    reference = (reason or "").strip()
    if len(reference) > 200:  # Award.payout_reference
        raise ValidationError({"reason": "Keep the payout reference under 200 characters."})
    return (
        payable_awards()
        .filter(id__in=list(award_ids))
        .update(status=Status.PAID, paid_at=timezone.now(), paid_by=decided_by, payout_reference=reference)
    )


# --- a rep's privacy ------------------------------------------------------------------------------------------------


@transaction.atomic
def reward_preference_set(*, user: User, hide_name_from_peers: bool) -> RewardPreference:
    preference, _ = RewardPreference.objects.update_or_create(
        user=user, defaults={"hide_name_from_peers": hide_name_from_peers}
    )
    return preference
