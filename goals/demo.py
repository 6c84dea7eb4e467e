"""Demo goals for the demo org: KPIs, this quarter's hard goals with weekly micro goals, and progress history per
rep: the 60 working days before the quarter (what the goals were assessed against when they were set, on the
quarter's first day) and the quarter so far. Called by `manage.py seed_demo` after teams.demo.seed_org.

Deterministic (every random number comes from a random.Random seeded by the rep and the date) and idempotent:
KPIs are found by name, goals by KPI, owner and start date (titles carry targets computed from history), micro goals are only generated for a goal without any, and
entries carry an external id "demo:<rep>:<kpi>:<date>" (source import), so a second run adds nothing.
"""

import datetime
import random
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone

from goals.models import Goal, Kpi, ProgressEntry, ProgressEntryRevision
from goals.services import (
    goal_create,
    goals_close_due,
    kpi_create,
    micro_goals_generate,
    progress_recompute,
    progress_record,
    progress_update,
    progress_void,
)
from goals.services.rollups import rollups_add_entries
from teams.calendar import WorkingCalendar
from teams.models import Membership
from teams.selectors import calendars_for_teams, rep_membership

HISTORY_WORKING_DAYS = 60
KPIS = {
    "revenue": {"name": "Revenue", "unit": Kpi.Unit.CURRENCY, "currency_code": "USD", "decimal_places": 2},
    "deals": {"name": "Deals won", "unit": Kpi.Unit.COUNT},
    "demos": {"name": "Demos booked", "unit": Kpi.Unit.COUNT},
    "calls": {"name": "Calls", "unit": Kpi.Unit.COUNT},
}
# How much each rep's target asks beyond their own recent pace: the verdicts come out varied.
STRETCH = [Decimal("0.85"), Decimal("1.00"), Decimal("1.10"), Decimal("1.25"), Decimal("1.60")]
CENT = Decimal("0.01")


def seed_goals(*, org, progress=lambda it, **kw: it) -> None:
    today = timezone.localdate()
    q_start, q_end = _quarter(today)
    quarter = f"Q{(q_start.month - 1) // 3 + 1} {q_start.year}"
    calendars = calendars_for_teams(team_ids=[team.id for team in org.teams])
    with transaction.atomic():
        kpis = {key: Kpi.objects.filter(name=spec["name"]).first() or kpi_create(**spec) for key, spec in KPIS.items()}
        _seed_history(org, kpis, calendars, since=q_start, today=today, progress=progress)
        for team, manager in progress(list(zip(org.teams, org.managers, strict=True)), desc="goals", leave=False):
            _seed_team_goals(team, manager, kpis, calendars[team.id], quarter=quarter, start=q_start, due=q_end)
        _seed_corrections(org.reps[0], kpis)
    progress_recompute()
    goals_close_due(today=today)  # the weeks already over show as achieved or missed


def _quarter(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    start = datetime.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    following = datetime.date(start.year + (start.month == 10), (start.month + 2) % 12 + 1, 1)
    return start, following - datetime.timedelta(days=1)


def _rep_profile(rep) -> tuple[float, float]:
    """(skill, trend): how productive the rep is, and how that changed over the last three months."""
    rng = random.Random(f"profile:{rep.username}")
    return rng.uniform(0.6, 1.35), rng.uniform(-0.35, 0.35)


def _seed_history(org, kpis, calendars, *, since, today, progress) -> None:
    existing = set(
        ProgressEntry.objects.filter(source=ProgressEntry.Source.IMPORT, external_id__startswith="demo:").values_list(
            "external_id", flat=True
        )
    )
    entries = []
    for rep in progress(org.reps, desc="history", leave=False):
        membership = rep_membership(user=rep)
        calendar = calendars.get(membership.team_id, WorkingCalendar()) if membership else WorkingCalendar()
        capacity = float(membership.capacity) if membership else 1.0
        skill, trend = _rep_profile(rep)
        first = calendar.add_working_days(since, -HISTORY_WORKING_DAYS)
        days = calendar.working_dates(first, today - datetime.timedelta(days=1))
        for n, day in enumerate(days):
            # Older days run from -1 to the most recent at +1: improving reps get ahead this quarter.
            level = max(0.1, skill * capacity * (1 + trend * (2 * n / max(len(days) - 1, 1) - 1)))
            for key, value in _day(random.Random(f"{rep.username}:{day.isoformat()}"), level).items():
                external_id = f"demo:{rep.username}:{key}:{day.isoformat()}"
                if value and external_id not in existing:
                    entries.append(
                        ProgressEntry(
                            user=rep,
                            kpi=kpis[key],
                            date=day,
                            value=value,
                            source=ProgressEntry.Source.IMPORT,
                            external_id=external_id,
                            created_by=rep,
                        )
                    )
    newest = ProgressEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    ProgressEntry.objects.bulk_create(entries, batch_size=500, ignore_conflicts=True)
    # The engine reads the daily rollup: add exactly the entries this run created (seeding runs alone).
    created = ProgressEntry.objects.filter(id__gt=newest, external_id__startswith="demo:").values_list("id", flat=True)
    rollups_add_entries(list(created))


def _seed_corrections(rep, kpis) -> None:
    """The correction trail on the first demo rep's log history: their manager corrects an imported deals entry
    (a rep may not rewrite an import), the rep voids a duplicated calls import and logs the right figure, then
    fixes the note of that new entry. Once: skipped when the rep already has corrections."""
    if ProgressEntryRevision.objects.filter(entry__user=rep).exists():
        return
    manager = (
        Membership.objects.filter(team_id=rep_membership(user=rep).team_id, role=Membership.Role.MANAGER).first().user
    )
    latest = ProgressEntry.objects.filter(user=rep, voided_at__isnull=True, source=ProgressEntry.Source.IMPORT)
    deals = latest.filter(kpi=kpis["deals"]).order_by("-date").first()
    calls = latest.filter(kpi=kpis["calls"]).order_by("-date").first()
    if deals is not None:
        progress_update(
            entry=deals, value=deals.value + 1, note="One more: a renewal signed on paper, missing in the CRM.",
            updated_by=manager,
        )  # fmt: skip
    if calls is not None:
        progress_void(entry=calls, reason="The CRM sync counted these calls twice.", voided_by=rep)
        again = progress_record(
            user=rep, kpi=kpis["calls"], date=calls.date, value=max(calls.value // 2, Decimal(1)),
            note="calls", external_id=f"demo:correction:{rep.username}", created_by=rep,
        )  # fmt: skip
        progress_update(entry=again, value=again.value, note="Calls after the duplicate sync, counted by hand.",
                        updated_by=rep)  # fmt: skip


def _day(rng: random.Random, level: float) -> dict[str, Decimal]:
    """One working day of a rep whose productivity is `level` (1.0 = a typical full-time rep)."""
    calls = max(0, round(rng.gauss(32 * level, 6)))
    demos = sum(rng.random() < 0.4 * level for _ in range(3))
    deals = sum(rng.random() < 0.22 * level for _ in range(2))
    revenue = sum(
        (Decimal(rng.randrange(150_000, 1_200_000)) * CENT for _ in range(deals)),
        Decimal(0),
    )
    return {"calls": Decimal(calls), "demos": Decimal(demos), "deals": Decimal(deals), "revenue": revenue}


def _daily_rate(rep, kpi, *, before) -> Decimal:
    """The rep's own rate per working day before the quarter (what achievability compared with)."""
    entries = ProgressEntry.objects.filter(user=rep, kpi=kpi, voided_at__isnull=True, date__lt=before)
    total = sum(entries.values_list("value", flat=True), Decimal(0))
    return total / HISTORY_WORKING_DAYS


def _seed_team_goals(team, manager, kpis, calendar, *, quarter, start, due) -> None:
    working_days = calendar.count(start, due)
    reps = [
        m.user for m in team.memberships.filter(role=Membership.Role.REP, active_to__isnull=True).select_related("user")
    ]
    revenue_target = sum((_daily_rate(rep, kpis["revenue"], before=start) for rep in reps), Decimal(0)) * working_days
    revenue_target = max(Decimal(10_000), (revenue_target * Decimal("1.05") / 5000).quantize(1, ROUND_HALF_UP) * 5000)
    team_goal = _goal(
        title=f"{quarter} revenue — {team.name}",
        description=f"Book {revenue_target:,.0f} USD of new revenue in {quarter}.",
        kpi=kpis["revenue"],
        target=revenue_target.quantize(CENT),
        start=start,
        due=due,
        owner_team=team,
        manager=manager,
        rationale="The team's share of the region's quarterly number.",
    )
    for rep in reps:
        stretch = random.Random(f"stretch:{rep.username}").choice(STRETCH)
        for key, label in (("deals", "Win {n} deals"), ("demos", "Book {n} demos")):
            target = max(
                Decimal(3),
                (_daily_rate(rep, kpis[key], before=start) * working_days * stretch).quantize(1, ROUND_HALF_UP),
            )
            _goal(
                title=f"{quarter}: {label.format(n=target)} — {rep.get_full_name()}",
                kpi=kpis[key],
                target=target,
                start=start,
                due=due,
                owner_user=rep,
                manager=manager,
                parent=team_goal,
                rationale=f"{kpis[key].name} feed the team's revenue goal.",
            )


def _goal(*, title, kpi, target, start, due, manager, description="", owner_user=None, owner_team=None, **extra):
    goal = Goal.objects.filter(kpi=kpi, owner_user=owner_user, owner_team=owner_team, start_date=start).first()
    if goal is None:
        goal = goal_create(
            title=title,
            description=description,
            kpi=kpi,
            target_value=target,
            start_date=start,
            due_date=due,
            owner_user=owner_user,
            owner_team=owner_team,
            created_by=manager,
            today=start,  # set on the quarter's first day: assessed against the history before it
            **extra,
        )
    if not goal.micro_goals.exists():
        micro_goals_generate(goal=goal, cadence="weekly", created_by=manager, today=start)
    return goal
