"""Pace, forecast, health and attainment: pure Decimal arithmetic, no database.

The progress engine (goals/services/progress.py) gathers the numbers with a few set-based queries and
hands them to these functions, so every rule below can be tested with plain values. Floats never
appear: every input and output is a Decimal, and results are rounded to the KPI's step with
ROUND_HALF_UP (the rounding people do by hand).

Rules (docs/architecture.md, "The engine"):

- expected (pace) = baseline + (target − baseline) × working days elapsed / working days in the window.
  Elapsed counts working days from the start through today inclusive, capped to the window, so on the
  due date expected = target. A window without a single working day expects the target at once.
- forecast = current + daily run-rate × working days left after today, where the run-rate is what was
  logged over the last RUN_RATE_WORKING_DAYS working days inside the window, divided by the number of
  those days that have elapsed (at least 1). Only "sum" KPIs flow like this: a "last" KPI is a level
  (a win rate, a pipeline size), and a level's latest value is its own best forecast, so its forecast
  is the current value.
- health, in this order: achieved when the current value has reached the target; on track when the
  progress made is at least HEALTH_ON_TRACK_RATIO of the progress expected by the start of today (today
  is still open: a rep who has not logged yet at 9 am is not behind for it); at risk when the
  forecast still makes at least HEALTH_AT_RISK_FORECAST_RATIO of the way from baseline to target;
  otherwise off track. "Progress" is measured in the KPI's good direction: for a lower-is-better KPI
  (days to close: baseline 30, target 20) going down is progress, so every comparison is mirrored.
- attainment % = (current − baseline) / (target − baseline) × 100: 0 at the baseline, 100 at the
  target, above 100 when over-achieved, and never below 0 (moving the wrong way shows 0 %).
"""

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from teams.calendar import WorkingCalendar

# The same strings as goals.models.Health; spelled out here so this module needs no Django.
ACHIEVED = "achieved"
ON_TRACK = "on_track"
AT_RISK = "at_risk"
OFF_TRACK = "off_track"

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Window:
    """The working-day arithmetic of one goal window as seen on one day."""

    total: int  # working days from start to due, both included
    elapsed: int  # working days from start through min(today, due)
    completed: int  # elapsed working days before today: health judges against these (today is still open)
    left: int  # working days after today up to due
    recent_from: datetime.date  # first day of the run-rate period (entries from here through today count)
    recent_days: int  # working days in the run-rate period, at least 1 (the run-rate divides by it)


def window(
    calendar: WorkingCalendar,
    *,
    start: datetime.date,
    due: datetime.date,
    today: datetime.date,
    run_rate_days: int,
) -> Window:
    """Count the working days of [start, due] elapsed and left on `today`, and find the run-rate period.

    The run-rate period is the last `run_rate_days` working days through today inside the window (the
    whole elapsed part while fewer have passed). Before the start nothing has elapsed; after the due
    date nothing is left.
    """
    end = min(today, due)
    total = calendar.count(start, due)
    elapsed = calendar.count(start, end)
    if elapsed <= run_rate_days:
        recent_from = start
    else:
        # add_working_days steps over `end` itself, so a working `end` is one of the days already.
        back = run_rate_days - 1 if calendar.is_working_day(end) else run_rate_days
        recent_from = calendar.add_working_days(end, -back)
    today_is_open = start <= today <= due and calendar.is_working_day(today)
    return Window(
        total=total,
        elapsed=elapsed,
        completed=elapsed - today_is_open,
        left=total - elapsed,
        recent_from=recent_from,
        recent_days=max(1, min(run_rate_days, elapsed)),
    )


def expected_value(*, baseline: Decimal, target: Decimal, elapsed: int, total: int, quantum: Decimal) -> Decimal:
    """Where the value should be by now on a straight line from baseline (start) to target (due date).

    `elapsed` and `total` are working days (see `window`); `quantum` is the KPI's step (Kpi.quantum).
    A window with no working day at all expects the whole target.
    """
    if total == 0:
        return target.quantize(quantum, rounding=ROUND_HALF_UP)
    # Multiply before dividing: exact whenever the true result is representable.
    expected = baseline + (target - baseline) * elapsed / total
    return expected.quantize(quantum, rounding=ROUND_HALF_UP)


def forecast_value(
    *, current: Decimal, recent_total: Decimal, recent_days: int, left: int, is_level: bool, quantum: Decimal
) -> Decimal:
    """Where the value lands at the due date if the recent daily run-rate holds.

    run-rate = recent_total / recent_days (what was logged in the run-rate period per working day);
    forecast = current + run-rate × working days left. For a level KPI ("last" aggregation,
    `is_level`) the forecast is the current value: a level does not accumulate.
    """
    if is_level or left == 0:
        return current.quantize(quantum, rounding=ROUND_HALF_UP)
    forecast = current + recent_total * left / max(1, recent_days)
    return forecast.quantize(quantum, rounding=ROUND_HALF_UP)


def health(
    *,
    current: Decimal,
    expected: Decimal,
    forecast: Decimal,
    baseline: Decimal,
    target: Decimal,
    higher_is_better: bool,
    on_track_ratio: Decimal,
    at_risk_ratio: Decimal,
) -> str:
    """achieved | on_track | at_risk | off_track (see the module docstring for the rules).

    Progress is signed by the KPI's direction, so a lower-is-better KPI is judged on the mirror image:
    achieved when current <= target, on track when it has come down at least `on_track_ratio` of the
    way it was expected to have come down by now, and so on.
    """
    sign = 1 if higher_is_better else -1
    if sign * (current - target) >= 0:
        return ACHIEVED
    if sign * (current - baseline) >= on_track_ratio * sign * (expected - baseline):
        return ON_TRACK
    if sign * (forecast - baseline) >= at_risk_ratio * sign * (target - baseline):
        return AT_RISK
    return OFF_TRACK


def attainment_percent(*, current: Decimal, baseline: Decimal, target: Decimal) -> Decimal:
    """How far from baseline to target the value has come, in percent, unrounded (round it to display).

    0 at the baseline, 100 at the target, more when over-achieved; never negative. The sign of
    (target − baseline) carries the direction, so a lower-is-better goal from 30 down to 20 standing
    at 25 is 50 %. A target equal to its baseline (a micro goal of 0) has nothing left to do: 100 %.
    """
    if target == baseline:
        return HUNDRED
    return max(Decimal(0), (current - baseline) * HUNDRED / (target - baseline))
