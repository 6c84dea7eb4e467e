"""Reminders and the weekly digest: find everyone who is due with a fixed few queries, then notify() each.

Set-based: whether there are 5 reps or 5,000, choosing who is due costs the same few queries (local
times are worked out per *timezone*, not per user, and turned into one filter); only notify() runs once
per recipient. Idempotent: every notification has a deterministic key and notify() delivers a (user, key)
once, so a job that runs twice, concurrently, or is redelivered after a crash sends nothing twice.

There is deliberately no transaction around a whole fan-out: each notify() commits on its own, so a job
that dies half-way keeps what it delivered and its re-run (acks_late) delivers only the rest.
"""

import datetime
import logging
import zoneinfo
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.formats import number_format

from notifications.models import Notification
from notifications.services import notify
from teams.models import Membership, Team, User
from teams.selectors import (
    active_memberships,
    calendars_for_teams,
    team_ids_with_ancestors,
    team_ids_with_descendants,
)

from ..models import Goal, Health, MicroGoal, ProgressEntry

logger = logging.getLogger(__name__)

Kind = Notification.Kind
DIGEST_WEEKDAY = 1  # ISO Monday
DIGEST_HOUR = 8  # manager's local time


# --- helpers shared by the three fan-outs -----------------------------------------------------------


def org_today(now: datetime.datetime | None = None) -> datetime.date:
    """The organisation's local date (settings.TIME_ZONE), whatever timezone is active: daily jobs run on it."""
    return (now or timezone.now()).astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE)).date()


def _local_now_by_timezone(now: datetime.datetime) -> dict[str, datetime.datetime]:
    """The local time in every timezone an active user has (one query: timezones number in the tens)."""
    local = {}
    for name in User.objects.filter(is_active=True).order_by().values_list("timezone", flat=True).distinct():
        try:
            local[name] = now.astimezone(zoneinfo.ZoneInfo(name))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            logger.warning("Users with the unknown timezone %r get no timed reminders", name)
    return local


def _team_parents() -> dict[int, int | None]:
    return dict(Team.objects.order_by().values_list("id", "parent_id"))


def _unsent(deliveries):
    """Drop the (user, key, …) deliveries already made (one query), so an hourly job that found the same
    people again does no work for them. notify() would ignore them anyway; this only saves its queries."""
    keys = {d[1] for d in deliveries}
    if not keys:
        return []
    user_ids = {d[0].id for d in deliveries}
    sent = set(Notification.objects.filter(user_id__in=user_ids, key__in=keys).order_by().values_list("user_id", "key"))
    return [d for d in deliveries if (d[0].id, d[1]) not in sent]


def _fmt(value: Decimal, kpi) -> str:
    text = number_format(value.quantize(kpi.quantum), decimal_pos=kpi.decimal_places, force_grouping=True)
    if kpi.unit == kpi.Unit.CURRENCY and kpi.currency_code:
        return f"{text} {kpi.currency_code}"
    if kpi.unit == kpi.Unit.PERCENT:
        return f"{text}%"
    return text


def _attainment(goal: Goal) -> int:
    """Share of the way from baseline to target, in whole percent (works for lower-is-better KPIs too)."""
    span = goal.target_value - goal.baseline_value
    if not span:
        return 0
    return int((goal.current_value - goal.baseline_value) * 100 / span)


def _long(day: datetime.date) -> str:
    return f"{day:%A} {day.day} {day:%B}"


def _short(day: datetime.date) -> str:
    return f"{day.day} {day:%b}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# --- deadline reminders -------------------------------------------------------------------------------


def deadline_reminders_send(*, now: datetime.datetime | None = None) -> int:
    """Goals due in N days (settings.PACER["DEADLINE_REMINDER_DAYS"], in the org's timezone) and not achieved:
    remind the owner (a team goal's owners are the team's managers); an off-track goal also goes to the
    managers of the owner's team (kind goal_off_track). Key `deadline:<goal>:<days>`. Returns how many
    notifications were delivered (users who turned the kind off are not counted). Queries: goals, the
    owners' memberships, the team tree, the managers, the keys already sent."""
    now = now or timezone.now()
    today = org_today(now)
    days_by_due = {today + datetime.timedelta(days=n): n for n in settings.PACER["DEADLINE_REMINDER_DAYS"]}
    goals = list(
        Goal.objects.filter(status=Goal.Status.ACTIVE, due_date__in=list(days_by_due))
        .exclude(health=Health.ACHIEVED)
        .select_related("kpi", "owner_user", "owner_team")
        .order_by("id")
    )
    if not goals:
        return 0

    # The team a user-owned goal belongs to: the owner's rep team, else a team they manage.
    owner_team: dict[int, int] = {}
    owner_ids = {g.owner_user_id for g in goals if g.owner_user_id}
    for user_id, team_id, role in (
        active_memberships(today).filter(user_id__in=owner_ids).order_by("id").values_list("user_id", "team_id", "role")
    ):
        if role == Membership.Role.REP or user_id not in owner_team:
            owner_team[user_id] = team_id
    parents = _team_parents()
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
        progress = (
            f"{_fmt(goal.current_value, goal.kpi)} of {_fmt(goal.target_value, goal.kpi)} {goal.kpi.name} "
            f"({_attainment(goal)}%)"
        )
        health = goal.get_health_display().lower() if goal.health else "not computed yet"
        when = "tomorrow" if days == 1 else f"in {days} days"
        for owner in owners:
            deliveries.append(
                (
                    owner,
                    key,
                    Kind.DEADLINE_REMINDER,
                    f"“{goal.title}” is due {when}",
                    f"“{goal.title}” is due {when}, on {_long(goal.due_date)}. So far: {progress}; it is {health}.",
                )
            )
        if goal.health == Health.OFF_TRACK:
            owner_ids_here = {u.id for u in owners}
            for manager in managers:
                if manager.id not in owner_ids_here:
                    deliveries.append(
                        (
                            manager,
                            key,
                            Kind.GOAL_OFF_TRACK,
                            f"Off track: “{goal.title}” ({goal.owner}) is due {when}",
                            f"{goal.owner}'s goal “{goal.title}” is off track and due {when}, on "
                            f"{_long(goal.due_date)}. So far: {progress}. A coaching conversation may help.",
                        )
                    )
    urls = {g.id: f"/goals/{g.id}/" for g in goals}
    sent = 0
    for user, key, kind, title, body in _unsent(deliveries):
        goal_id = int(key.split(":")[1])
        sent += bool(notify(user=user, kind=kind, key=key, title=title[:200], body=body, url=urls[goal_id]))
    return sent


# --- check-in reminders -------------------------------------------------------------------------------


def checkin_due_memberships(*, now: datetime.datetime) -> list[tuple[Membership, datetime.date]]:
    """The reps to remind now, each with their local today: local time at or past their reminder hour (and
    still the same local date), a working day of their team (weekdays and holidays), an active micro goal
    covering the day, and no non-voided entry dated that day. Queries: timezones, the reps (one query
    whatever their number), and the team calendars."""
    local = _local_now_by_timezone(now)
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
    reps = list(
        Membership.objects.filter(condition, role=Membership.Role.REP, user__is_active=True)
        .select_related("user")
        .order_by("user_id")
    )
    if not reps:
        return []
    calendars = calendars_for_teams(team_ids={m.team_id for m in reps})
    due = []
    for membership in reps:
        day = local[membership.user.timezone].date()
        if calendars[membership.team_id].is_working_day(day):  # the query checked weekdays; this adds holidays
            due.append((membership, day))
    return due


def checkin_reminders_send(*, now: datetime.datetime | None = None) -> int:
    """One check-in reminder per rep and local date (key `checkin:<user>:<local date>`), to the reps
    `checkin_due_memberships` finds. Returns how many were sent."""
    now = now or timezone.now()
    deliveries = [
        (membership.user, f"checkin:{membership.user_id}:{day.isoformat()}", day)
        for membership, day in checkin_due_memberships(now=now)
    ]
    sent = 0
    for user, key, day in _unsent(deliveries):
        sent += bool(
            notify(
                user=user,
                kind=Kind.CHECKIN_REMINDER,
                key=key,
                title="Log today's progress",
                body=(
                    f"You have an active micro goal today ({_long(day)}) and no progress logged yet. "
                    "Logging it now keeps your pace and forecast accurate."
                ),
                url="/today/",
            )
        )
    return sent


# --- weekly manager digest ----------------------------------------------------------------------------


def _digest_section(*, team, goals, reps, logged_user_ids, last_week_working) -> list[str]:
    lines = [team.name]
    if goals:
        average = sum(_attainment(g) for g in goals) // len(goals)
        by_health = defaultdict(int)
        for goal in goals:
            by_health[goal.health] += 1
        lines.append(
            f"{_plural(len(goals), 'active goal')}, {average}% average attainment "
            f"({by_health[Health.ON_TRACK] + by_health[Health.ACHIEVED]} on track, "
            f"{by_health[Health.AT_RISK]} at risk, {by_health[Health.OFF_TRACK]} off track)."
        )
        lines.append("")
        lines.append("Attainment:")
        for goal in sorted(goals, key=lambda g: (_attainment(g), g.id)):
            health = goal.get_health_display().lower() if goal.health else "not computed"
            lines.append(
                f"- {goal.title} ({goal.owner}): {_attainment(goal)}% — "
                f"{_fmt(goal.current_value, goal.kpi)} of {_fmt(goal.target_value, goal.kpi)} "
                f"{goal.kpi.name}, {health}, due {_short(goal.due_date)}"
            )
        for health, label in ((Health.AT_RISK, "At risk"), (Health.OFF_TRACK, "Off track")):
            flagged = [g for g in goals if g.health == health]
            lines.append("")
            lines.append(f"{label}:" if flagged else f"{label}: none")
            lines.extend(f"- {g.title} ({g.owner}), due {_short(g.due_date)}" for g in flagged)
    else:
        lines.append("No active goals.")
    silent = [m.user for m in reps if last_week_working(m.team_id) and m.user_id not in logged_user_ids]
    lines.append("")
    lines.append("Not logged last week: " + (", ".join(str(u) for u in silent) if silent else "everyone logged"))
    return lines


def manager_digests_send(*, now: datetime.datetime | None = None) -> int:
    """The weekly digest, to each manager whose local time is Monday at or after 08:00 (an hourly job, so it
    goes out at 08:xx; a missed run is caught up later that Monday). Per team they manage: attainment of
    its active goals (the team's own and its reps'), at-risk and off-track goals, and the reps who logged
    nothing last week (Monday to Sunday) although it had working days. Key `digest:<user>:<ISO year-week>`.
    Rewards are not in it yet (the rewards app does not exist). Returns how many digests were sent.
    Queries: timezones, managers, sent keys, team tree, reps, goals, last week's loggers, calendars."""
    now = now or timezone.now()
    local = _local_now_by_timezone(now)
    due_zones = [n for n, t in local.items() if t.isoweekday() == DIGEST_WEEKDAY and t.hour >= DIGEST_HOUR]
    if not due_zones:
        return 0
    # Every timezone that is on a Monday right now is on the same Monday (offsets span 26 hours).
    monday = local[due_zones[0]].date()
    year, week, _ = monday.isocalendar()
    week_label = f"{year}-W{week:02d}"
    last_monday, last_sunday = monday - datetime.timedelta(days=7), monday - datetime.timedelta(days=1)

    manager_memberships = (
        active_memberships(monday)
        .filter(role=Membership.Role.MANAGER, user__is_active=True, user__timezone__in=due_zones)
        .select_related("user", "team")
        .order_by("user_id", "team__name")
    )
    teams_by_manager: dict[int, list[Team]] = defaultdict(list)
    managers: dict[int, User] = {}
    for membership in manager_memberships:
        managers[membership.user_id] = membership.user
        teams_by_manager[membership.user_id].append(membership.team)
    deliveries = _unsent([(user, f"digest:{user.id}:{week_label}") for user in managers.values()])
    if not deliveries:
        return 0

    parents = _team_parents()
    below = {
        team.id: team_ids_with_descendants([team.id], parents=parents)
        for user, _key in deliveries
        for team in teams_by_manager[user.id]
    }
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
    logged = set(
        ProgressEntry.objects.filter(
            user_id__in=rep_ids, date__gte=last_monday, date__lte=last_sunday, voided_at__isnull=True
        )
        .order_by()
        .values_list("user_id", flat=True)
        .distinct()
    )
    calendars = calendars_for_teams(team_ids={m.team_id for m in reps})

    def last_week_working(team_id):
        return calendars[team_id].count(last_monday, last_sunday) > 0

    sent = 0
    for user, key in deliveries:
        teams = teams_by_manager[user.id]
        sections = []
        for team in teams:
            team_ids = below[team.id]
            team_reps = [m for m in reps if m.team_id in team_ids]
            team_rep_ids = {m.user_id for m in team_reps}
            team_goals = [g for g in goals if g.owner_team_id in team_ids or g.owner_user_id in team_rep_ids]
            sections.append(
                "\n".join(
                    _digest_section(
                        team=team,
                        goals=team_goals,
                        reps=team_reps,
                        logged_user_ids=logged,
                        last_week_working=last_week_working,
                    )
                )
            )
        intro = (
            f"Your weekly digest for the week of {_long(monday)} {monday.year} "
            f"(last week: {_short(last_monday)} – {_short(last_sunday)})."
        )
        sent += bool(
            notify(
                user=user,
                kind=Kind.MANAGER_DIGEST,
                key=key,
                title=f"{', '.join(t.name for t in teams)}, week of {_short(monday)}"[:200],
                body="\n\n".join([intro, *sections]),
                url=f"/teams/{teams[0].id}/" if len(teams) == 1 else "/teams/",
            )
        )
    return sent
