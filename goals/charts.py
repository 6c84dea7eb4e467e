"""Burn-up chart series for a hard goal: per working day of its window, the actual cumulative value, the pace
line and the target, with the holidays that fall inside the window marked between the working days around them.

The numbers follow the progress engine (goals/services/engine.py) exactly, so the last actual point of an
up-to-date goal equals its `current_value`:
- counted entries: the engine's, by the one rule in goals.selectors.entry_list_for_owner: non-voided entries on
  the goal's KPI dated in [start, due], of the owner user, or for a team goal of anyone who was a *rep* of the team
  or one of its sub-teams on the entry's date;
- actual on a working day = what those entries add up to by the end of that day (entries of a weekend or a
  holiday count from the next working day); on a "last" KPI, the sum over people of each one's latest value
  (the baseline while nothing has been logged); no actual value after today (so an entry dated after today — a
  rep whose local date is ahead of the organisation's — shows from the day it is dated);
- pace = `pace.expected_value` with that day as the last elapsed working day (so it reaches the target on the
  due date); the calendar is the owner team's, or the owner's current rep team's, or Monday–Friday.

Queries: constant whatever the number of reps or entries — a personal goal 4 (rep membership, team tree,
weekdays, holidays) + 1 for the entries; a team goal 3 (team tree, weekdays, holidays) + 2 (team tree, entries).
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Sum

from goals import pace
from goals.models import Goal, Kpi
from goals.selectors import entry_list_for_owner, owner_calendar
from teams.calendar import WorkingCalendar, org_today


@dataclass(frozen=True)
class BurnupDay:
    date: datetime.date
    actual: Decimal | None  # None after today
    pace: Decimal
    # The stored forecast and its likely range (P10–P90), drawn from the last actual day to the due date on a
    # straight line; None before today and when the goal is not active.
    forecast: Decimal | None = None
    forecast_low: Decimal | None = None
    forecast_high: Decimal | None = None


@dataclass(frozen=True)
class Burnup:
    kpi: Kpi
    target: Decimal
    baseline: Decimal
    days: list[BurnupDay]
    holidays: list[datetime.date]  # holidays on working weekdays inside the window (not on the x-axis)
    holiday_positions: list[float]  # where each holiday sits on the x-axis: between two working-day indexes

    def chart_data(self) -> dict:
        """What static/js/burnup.js draws (handed over with json_script). Floats are for drawing only."""
        return {
            "kpi": self.kpi.name,
            "labels": [f"{d.date:%a} {d.date.day} {d.date:%b}" for d in self.days],
            "actual": [None if d.actual is None else float(d.actual) for d in self.days],
            "pace": [float(d.pace) for d in self.days],
            "forecast": [_drawn(d.forecast) for d in self.days],
            "forecast_low": [_drawn(d.forecast_low) for d in self.days],
            "forecast_high": [_drawn(d.forecast_high) for d in self.days],
            "target": float(self.target),
            "holidays": [
                {"at": at, "label": f"Holiday {day.day} {day:%b}"}
                for day, at in zip(self.holidays, self.holiday_positions, strict=True)
            ],
        }


def goal_calendar(goal: Goal, *, today: datetime.date) -> WorkingCalendar:
    """The calendar the engine uses for this goal (3 queries for a team, 4 for a person)."""
    return owner_calendar(owner_user=goal.owner_user, owner_team=goal.owner_team, on=today)


def goal_burnup(goal: Goal, *, today: datetime.date | None = None, calendar: WorkingCalendar | None = None) -> Burnup:
    """The burn-up series of a goal (see the module docstring); `goal.kpi` and its owner should be loaded already."""
    today = today or org_today()
    calendar = calendar or goal_calendar(goal, today=today)
    kpi, quantum = goal.kpi, goal.kpi.quantum
    working_days = calendar.working_dates(goal.start_date, goal.due_date)
    total = len(working_days)
    daily = _daily_amounts(goal)

    days, running, latest = [], Decimal(0), {}
    pending = sorted(daily)  # dates with entries, consumed as the working days pass
    for elapsed, day in enumerate(working_days, start=1):
        while pending and pending[0] <= day:
            entry_day = pending.pop(0)
            if kpi.aggregation == Kpi.Aggregation.SUM:
                running += sum(daily[entry_day].values(), Decimal(0))
            else:
                latest.update(daily[entry_day])
        if day > today:
            actual = None
        elif kpi.aggregation == Kpi.Aggregation.SUM:
            actual = running
        else:
            actual = sum(latest.values(), Decimal(0)) if latest else goal.baseline_value
        expected = pace.expected_value(
            baseline=goal.baseline_value, target=goal.target_value, elapsed=elapsed, total=total, quantum=quantum
        )
        days.append(BurnupDay(day, None if actual is None else actual.quantize(quantum), expected))

    holidays = sorted(
        h for h in calendar.holidays if goal.start_date <= h <= goal.due_date and h.isoweekday() in calendar.weekdays
    )
    positions = [sum(1 for d in working_days if d < h) - 0.5 for h in holidays]
    return Burnup(kpi, goal.target_value, goal.baseline_value, _with_forecast(goal, days), holidays, positions)


def _with_forecast(goal: Goal, days: list[BurnupDay]) -> list[BurnupDay]:
    """The forecast cone: from the last actual value (today) straight to the stored forecast, P10 and P90 on the
    due date. Only for an active goal with working days left after today."""
    shown = [i for i, d in enumerate(days) if d.actual is not None]
    if goal.status != Goal.Status.ACTIVE or not shown or shown[-1] == len(days) - 1:
        return days
    start, steps = shown[-1], len(days) - 1 - shown[-1]
    origin = days[start].actual
    ends = (goal.forecast_value, goal.forecast_low or goal.forecast_value, goal.forecast_high or goal.forecast_value)
    cone = list(days[:start])
    for step, d in enumerate(days[start:]):
        point, low, high = (origin + (end - origin) * step / steps for end in ends)
        q = goal.kpi.quantum
        cone.append(
            replace(
                d,
                forecast=point.quantize(q, ROUND_HALF_UP),
                forecast_low=low.quantize(q, ROUND_HALF_UP),
                forecast_high=high.quantize(q, ROUND_HALF_UP),
            )
        )
    return cone


def _drawn(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _daily_amounts(goal: Goal) -> dict[datetime.date, dict[int, Decimal]]:
    """{date: {user id: amount}} of the counted entries: the day's sum on a "sum" KPI (summed in SQL over the
    people, under the key 0: a team's burn-up reads one row a day, not one per rep and day), the day's latest
    value per person on a "last" KPI. One query for a personal goal, two for a team goal."""
    entries = (
        entry_list_for_owner(owner_user=goal.owner_user, owner_team=goal.owner_team)
        .filter(kpi_id=goal.kpi_id, voided_at__isnull=True, date__gte=goal.start_date, date__lte=goal.due_date)
        .order_by()
    )
    if goal.kpi.aggregation == Kpi.Aggregation.SUM:
        by_day = entries.values("date").annotate(amount=Sum("value")).values_list("date", "amount")
        rows = ((day, 0, amount) for day, amount in by_day)
    else:  # latest of each day wins: ordered oldest first, later rows overwrite
        rows = entries.order_by("date", "created_at", "id").values_list("date", "user_id", "value")
    daily: dict[datetime.date, dict[int, Decimal]] = defaultdict(dict)
    for day, user_id, amount in rows:
        daily[day][user_id] = Decimal(amount)
    return daily
