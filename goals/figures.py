"""A goal's figures as one object: what every page, chart, email and the API show for a goal or micro goal.

`figures_for(item, calendar=…, today=…)` reads the numbers the progress engine stored on the item (current,
expected, forecast and its range, chance, health) and derives the rest (attainment, working days left, still
needed per working day, pace gap) with the one definition of each in goals/pace.py, whose docstring holds the
rules. Pure: no database; callers pass the item's calendar (goals.selectors.owner_calendar, or a batch of them
from teams.selectors.calendars_for_teams) and the organisation's date (teams.calendar.org_today).
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from teams.calendar import WorkingCalendar

from . import pace

SUM, LOWER = "sum", "lower"  # Kpi.Aggregation.SUM, Kpi.Direction.LOWER (spelled out: no models needed)


@dataclass(frozen=True)
class GoalFigures:
    kpi: object  # goals.models.Kpi: how to display the values (unit, decimals, currency)
    current: Decimal
    target: Decimal
    baseline: Decimal
    expected: Decimal  # expected by now (pace)
    forecast: Decimal
    forecast_low: Decimal | None  # P10, None until the engine computed it
    forecast_high: Decimal | None  # P90
    chance: int | None  # chance of reaching the target, whole percent
    health: str  # achieved | on_track | at_risk | off_track | "" (not computed yet)
    attainment: Decimal  # percent, unrounded (the `percent` filter rounds it)
    expected_attainment: Decimal  # where the pace marker sits on the same scale
    days_left: int  # working days left, today included when it is one
    remaining: Decimal  # still to do in the KPI's good direction; on a budget, still allowed
    per_day: Decimal | None  # remaining ÷ days_left (rounded up; down on a budget); None for a level or no day left
    pace_gap: Decimal  # current − expected, positive = ahead
    state: str  # upcoming | open | done | over
    is_budget: bool  # a lower-is-better sum: the target is a ceiling
    is_level: bool  # a "last" KPI: no per-day figure, the forecast is the value

    def as_dict(self) -> dict:
        """The figures as JSON-ready values for the API and webhooks: Decimals as exact strings (never floats),
        the KPI left out (the caller serialises it once)."""
        values = {name: getattr(self, name) for name in self.__dataclass_fields__ if name != "kpi"}
        return {name: str(value) if isinstance(value, Decimal) else value for name, value in values.items()}

    @property
    def has_range(self) -> bool:
        return (
            self.forecast_low is not None and self.forecast_high is not None and self.forecast_low != self.forecast_high
        )


def figures_for(
    item, *, calendar: WorkingCalendar, today: datetime.date, baseline: Decimal | None = None
) -> GoalFigures:
    """The figures of a Goal or MicroGoal (a micro goal's baseline is 0) on `today`, on `calendar`."""
    kpi = item.kpi
    if baseline is None:
        baseline = getattr(item, "baseline_value", Decimal(0))
    current, target = item.current_value, item.target_value
    higher = kpi.direction != LOWER
    is_level = kpi.aggregation != SUM
    is_budget = not is_level and not higher
    days_left = pace.working_days_left(calendar, start=item.start_date, due=item.due_date, today=today)
    left = pace.remaining(current=current, target=target, higher_is_better=higher, is_budget=is_budget)
    per_day = None
    if not is_level and left:
        per_day = pace.per_working_day(amount=left, days_left=days_left, quantum=kpi.quantum, is_budget=is_budget)
    reached = (current >= target) if higher else (current <= target)
    if reached and not is_budget:
        state = "done"
    elif today < item.start_date:
        state = "upcoming"
    elif today > item.due_date:
        state = "over"
    else:
        state = "open"
    return GoalFigures(
        kpi=kpi,
        current=current,
        target=target,
        baseline=baseline,
        expected=item.expected_value,
        forecast=item.forecast_value,
        forecast_low=item.forecast_low,
        forecast_high=item.forecast_high,
        chance=item.chance_pct,
        health=item.health,
        attainment=pace.attainment_percent(current=current, baseline=baseline, target=target),
        expected_attainment=pace.attainment_percent(current=item.expected_value, baseline=baseline, target=target),
        days_left=days_left,
        remaining=left,
        per_day=per_day,
        pace_gap=pace.pace_gap(current=current, expected=item.expected_value, higher_is_better=higher),
        state=state,
        is_budget=is_budget,
        is_level=is_level,
    )
