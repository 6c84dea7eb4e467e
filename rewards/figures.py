"""The rewards app's own arithmetic, pure (no database): a subject's attainment by the one definition, and
streaks of consecutive working days."""

import datetime
from decimal import Decimal

from goals import pace
from teams.calendar import WorkingCalendar


def goal_attainment(goal) -> Decimal:
    """A goal's or micro goal's attainment in percent, by the one definition (micro goals start from 0)."""
    baseline = getattr(goal, "baseline_value", Decimal(0))
    return pace.attainment_percent(current=goal.current_value, baseline=baseline, target=goal.target_value)


def streak_runs(calendar: WorkingCalendar, days) -> list[list[datetime.date]]:
    """The maximal runs of consecutive working days (on `calendar`) among `days`; non-working days are ignored:
    they neither count nor break a run."""
    runs: list[list[datetime.date]] = []
    for day in sorted(d for d in days if calendar.is_working_day(d)):
        if runs and calendar.add_working_days(runs[-1][-1], 1) == day:
            runs[-1].append(day)
        else:
            runs.append([day])
    return runs


def streak_length(calendar: WorkingCalendar, days, *, end: datetime.date, at_most: int | None = None) -> int:
    """How many consecutive working days with an entry end on `end` (0 when `end` itself has none)."""
    count, day = 0, end
    if not calendar.is_working_day(day):
        day = calendar.add_working_days(day, -1)
    while day in days and (at_most is None or count < at_most):
        count += 1
        day = calendar.add_working_days(day, -1)
    return count
