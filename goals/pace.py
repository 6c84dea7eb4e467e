"""Every figure a goal shows, defined once: pure Decimal arithmetic, no database.

The progress engine (goals/services/engine.py) gathers the numbers with a few set-based queries and
hands them to these functions; goals/figures.py turns a goal (or micro goal) plus its calendar and today
into one `GoalFigures` that every page, chart, email and API serialises. Floats never appear except
inside `chance_percent` (the normal curve), whose result is a whole percent. Values are rounded to the
KPI's step (Kpi.quantum) with ROUND_HALF_UP unless a rule says otherwise.

"today" is the organisation's local date (teams.calendar.org_today), the date the engine computed the
stored figures on, so every page shows the same working days for a goal whoever looks at it.

Rules (docs/architecture.md, "The engine"):

- attainment % = (current − baseline) / (target − baseline) × 100: 0 at the baseline, 100 at the
  target, above 100 when over-achieved, never below 0 (moving the wrong way shows 0 %). Displayed as a
  whole percent, half up (the `percent` filter).
- expected by now (pace) = baseline + (target − baseline) × working days elapsed / working days in the
  window. Elapsed counts working days from the start through today inclusive, capped to the window, so
  on the due date expected = target. A window without a single working day expects the target at once.
- working days left = working days from today (included when it is a working day) to the due date;
  before the start, the whole window; after the due date, 0.
- still needed per working day = what is left to do ÷ working days left, rounded UP to the KPI's step
  (never understate what is needed). "What is left" is measured in the KPI's good direction and is never
  negative. A lower-is-better sum (a budget) has nothing "needed": it shows what is still allowed per
  day, rounded DOWN (never overstate what may be spent). A level ("last" KPI) has no per-day figure.
- pace gap = current − expected, signed so that a positive gap is ahead of pace for either direction.
- forecast (sum KPIs) = current + daily rate × working days left after today, and today, while it is an
  open working day of the window, brings at least the daily rate (what was already logged today, if more).
  The daily rate blends the window's own run rate with a prior, by credibility (Bühlmann):
      z = n / (n + K)     n = working days of the window completed before today, K = the setting
                          FORECAST_CREDIBILITY_WORKING_DAYS
      rate = z × run rate + (1 − z) × prior
  run rate = what was logged over the last RUN_RATE_WORKING_DAYS completed working days inside the window
  ÷ those days (today is still open: it is not judged yet). prior = the owner's own daily rate on the KPI
  over the FORECAST_HISTORY_WORKING_DAYS working days before the window (their previous windows); when
  they logged nothing then, their team's rate per unit of capacity × their capacity; when that is
  unknown too, the plan's own rate ((target − baseline) ÷ working days in the window). A rate is never
  negative (entries are). On day 1 the prior alone counts; on the last days the run rate dominates.
  A "last" KPI is a level (a win rate, days to close): its run rate is how far it has moved from the
  baseline per elapsed working day, its prior the plan's rate, and it may move either way.
- likely range P10–P90 = forecast ∓ 1.2816 σ, σ = sd × √(working days left after today), where sd is the
  population standard deviation of the owner's daily totals over the history period and the window so
  far (working days without an entry count as 0). A sum never goes down, so P10 is at least the current
  value. A level has no daily totals to spread: its range is its forecast.
- chance of reaching the target = Φ((forecast − target) / σ) in the good direction, a whole percent;
  with σ = 0 it is 100 when the forecast reaches the target, else 0. So chance ≥ 50 exactly when the
  forecast reaches the target.
- health, from the forecast against the target, direction-aware, in this order: achieved when the
  current value has reached the target; on track when the forecast reaches the target; at risk when the
  forecast still makes at least HEALTH_AT_RISK_FORECAST_RATIO of the way from baseline to target;
  otherwise off track. A badge never says "on track" while the forecast misses the target.
"""

import datetime
import math
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal

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


def blended_rate(
    *, run_rate: Decimal, elapsed: int, prior_rate: Decimal, credibility_days: int, is_level: bool = False
) -> Decimal:
    """The daily rate a forecast extrapolates: z × run rate + (1 − z) × prior, z = elapsed / (elapsed + K).

    Unrounded; never negative for a sum (entries are not), either sign for a level.
    """
    weight = elapsed + credibility_days
    z = Decimal(elapsed) / weight if weight else Decimal(1)
    rate = z * run_rate + (1 - z) * prior_rate
    return rate if is_level else max(Decimal(0), rate)


def forecast_value(
    *,
    current: Decimal,
    rate: Decimal,
    left: int,
    quantum: Decimal,
    today_open: bool = False,
    logged_today: Decimal = Decimal(0),
) -> Decimal:
    """Where the value lands at the due date: current + rate × working days left after today, plus, while
    today is an open working day, what today still brings to reach the rate (`rate` from `blended_rate`)."""
    rest_of_today = max(Decimal(0), rate - logged_today) if today_open else Decimal(0)
    return _round(current + rate * max(0, left) + rest_of_today, quantum)


def run_rate(*, recent_total: Decimal, logged_today: Decimal, recent_days: int, today_open: bool) -> Decimal:
    """What the run-rate period logged per completed working day (today, while open, is left out of both)."""
    days = recent_days - today_open
    return (recent_total - logged_today) / days if days > 0 else Decimal(0)


P10_Z = Decimal("1.2816")  # the standard normal's 90th percentile: P10 and P90 are forecast ∓ 1.2816 σ


def daily_sd(*, total: Decimal, squares: Decimal, days: int) -> Decimal:
    """Population standard deviation of daily totals over `days` working days (days without entries are 0)."""
    if days <= 0:
        return Decimal(0)
    mean = total / days
    variance = squares / days - mean * mean
    return variance.sqrt() if variance > 0 else Decimal(0)


def forecast_spread(*, sd: Decimal, left: int, is_level: bool) -> Decimal:
    """σ of the value at the due date: the day-to-day spread over the working days left (0 for a level)."""
    if is_level or left <= 0:
        return Decimal(0)
    return sd * Decimal(left).sqrt()


def forecast_range(
    *, forecast: Decimal, current: Decimal, sigma: Decimal, is_level: bool, quantum: Decimal
) -> tuple[Decimal, Decimal]:
    """(P10, P90) around the forecast. A sum never goes down, so P10 is at least the current value."""
    low, high = forecast - P10_Z * sigma, forecast + P10_Z * sigma
    if not is_level:
        low = max(low, current)
    return min(_round(low, quantum), forecast), max(_round(high, quantum), forecast)


def chance_percent(*, forecast: Decimal, target: Decimal, sigma: Decimal, higher_is_better: bool) -> int:
    """The chance (whole percent) that the value reaches the target by the due date, assuming a normal
    spread σ around the forecast. ≥ 50 exactly when the forecast reaches the target."""
    margin = (forecast - target) if higher_is_better else (target - forecast)
    if sigma <= 0:
        return 100 if margin >= 0 else 0
    phi = 0.5 * (1 + math.erf(float(margin / sigma) / math.sqrt(2)))
    percent = int(Decimal(str(phi * 100)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    # Keep the rounding from crossing 50 the wrong way (a forecast 0.001 short must not read 50 %).
    return max(50, percent) if margin >= 0 else min(49, percent)


def health(
    *,
    current: Decimal,
    forecast: Decimal,
    baseline: Decimal,
    target: Decimal,
    higher_is_better: bool,
    at_risk_ratio: Decimal,
) -> str:
    """achieved | on_track | at_risk | off_track, from the forecast against the target (module docstring).

    Progress is signed by the KPI's direction, so a lower-is-better KPI is judged on the mirror image.
    """
    sign = 1 if higher_is_better else -1
    if sign * (current - target) >= 0:
        return ACHIEVED
    if sign * (forecast - target) >= 0:
        return ON_TRACK
    if sign * (forecast - baseline) >= at_risk_ratio * sign * (target - baseline):
        return AT_RISK
    return OFF_TRACK


def working_days_left(calendar: WorkingCalendar, *, start: datetime.date, due: datetime.date, today) -> int:
    """Working days from today (included when it is one) to the due date; the whole window before it starts."""
    return calendar.count(max(today, start), due)


def remaining(*, current: Decimal, target: Decimal, higher_is_better: bool, is_budget: bool = False) -> Decimal:
    """What is left to do in the KPI's good direction (on a budget: what is still allowed); never negative."""
    left = target - current if higher_is_better or is_budget else current - target
    return max(Decimal(0), left)


def per_working_day(*, amount: Decimal, days_left: int, quantum: Decimal, is_budget: bool) -> Decimal | None:
    """`amount` ÷ working days left: rounded UP for what is needed (never understate it), DOWN for what a
    budget still allows (never overstate it). None when no working day is left."""
    if days_left <= 0:
        return None
    if is_budget:
        return (amount / days_left).quantize(quantum, rounding=ROUND_DOWN)
    return needed_per_day(amount / days_left, quantum)


def needed_per_day(rate: Decimal, quantum: Decimal) -> Decimal:
    """A daily rate that is needed, as shown: rounded UP to the KPI's step (never understate what is needed)."""
    return rate.quantize(quantum, rounding=ROUND_UP)


def pace_gap(*, current: Decimal, expected: Decimal, higher_is_better: bool) -> Decimal:
    """current − expected, positive when ahead of pace in the KPI's good direction."""
    return current - expected if higher_is_better else expected - current


def left_today(*, remaining: Decimal, logged_today: Decimal, days_left: int, quantum: Decimal) -> Decimal:
    """Today's even share of what was left this morning, less what today already brought (Today's card)."""
    share = ((remaining + logged_today) / max(1, days_left)).quantize(quantum, rounding=ROUND_UP)
    return max(Decimal(0), share - logged_today)


def implausible(
    *, value: Decimal, whole_targets: list[Decimal], largest_day: Decimal | None, factor: Decimal
) -> tuple[str, Decimal] | None:
    """Why an entry deserves a second look before it is stored, or None: ("target", t) when it alone is more
    than the whole target t of a goal it counts for; ("largest", d) when it is more than `factor` times d, the
    largest day this rep or their team ever logged on the KPI. Sums only (a level is not a day's amount)."""
    over = [t for t in whole_targets if t > 0 and value > t]
    if over:
        return ("target", min(over))
    if largest_day and value > factor * largest_day:
        return ("largest", largest_day)
    return None


def _round(value: Decimal, quantum: Decimal) -> Decimal:
    return value.quantize(quantum, rounding=ROUND_HALF_UP) + 0  # + 0 turns -0 into 0


def attainment_percent(*, current: Decimal, baseline: Decimal, target: Decimal) -> Decimal:
    """How far from baseline to target the value has come, in percent, unrounded (round it to display).

    0 at the baseline, 100 at the target, more when over-achieved; never negative. The sign of
    (target − baseline) carries the direction, so a lower-is-better goal from 30 down to 20 standing
    at 25 is 50 %. A target equal to its baseline (a micro goal of 0) has nothing left to do: 100 %.
    """
    if target == baseline:
        return HUNDRED
    return max(Decimal(0), (current - baseline) * HUNDRED / (target - baseline))
