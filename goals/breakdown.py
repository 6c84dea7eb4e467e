"""The arithmetic of breaking a hard goal into micro goals. Pure: dates, Decimals and calendars in, plans out; no ORM.

- `periods(start, due, cadence)` cuts a goal window into daily, weekly (Monday–Sunday) or biweekly periods
  (two weeks counted from the Monday of the window start's week), clipped to the window.
- `slots(periods, assignees)` pairs every assignee with every period; weight = capacity × working days of the
  period on the assignee's team calendar.
- `largest_remainder(total, weights, quantum)` splits a total in proportion to weights, rounded to the KPI's
  quantum, so the parts add up to the total EXACTLY (Hamilton's method; ties go to the earlier slot).
- `allocate(total, slots, quantum)` applies it to slots and drops the slots that get nothing.
"""

import datetime
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from teams.calendar import WorkingCalendar

DAILY, WEEKLY, BIWEEKLY = "daily", "weekly", "biweekly"
CADENCES = (DAILY, WEEKLY, BIWEEKLY)
CADENCE_DAYS = {DAILY: 1, WEEKLY: 7, BIWEEKLY: 14}


@dataclass(frozen=True, order=True)
class Period:
    start: datetime.date
    end: datetime.date  # included

    def contains(self, day: datetime.date) -> bool:
        return self.start <= day <= self.end

    def inside(self, start: datetime.date, due: datetime.date) -> bool:
        """Whether the whole period lies in the window [start, due] (a micro goal that does not is outside its
        goal's window, e.g. after the due date moved earlier)."""
        return start <= self.start and self.end <= due


@dataclass(frozen=True)
class Assignee:
    """Who a slot is for: any hashable key (a user id), their capacity and their team's working calendar."""

    key: Hashable
    capacity: Decimal
    calendar: WorkingCalendar


@dataclass(frozen=True)
class Slot:
    key: Hashable
    period: Period
    capacity: Decimal
    working_days: int

    @property
    def weight(self) -> Decimal:
        return self.capacity * self.working_days


@dataclass(frozen=True)
class Allocation:
    slot: Slot
    target: Decimal


def periods(start: datetime.date, due: datetime.date, cadence: str) -> list[Period]:
    """The goal window [start, due] cut into consecutive periods of the cadence, the first and last clipped."""
    if cadence not in CADENCES:
        raise ValueError(f"Unknown cadence {cadence!r}; choose one of {', '.join(CADENCES)}.")
    if due < start:
        return []
    length = datetime.timedelta(days=CADENCE_DAYS[cadence])
    anchor = start if cadence == DAILY else start - datetime.timedelta(days=start.weekday())  # that week's Monday
    result = []
    while anchor <= due:
        end = anchor + length - datetime.timedelta(days=1)
        result.append(Period(max(anchor, start), min(end, due)))
        anchor += length
    return result


def infer_cadence(windows: Sequence[Period]) -> str:
    """The cadence that produced these micro goal windows (the longest window decides; clipped ones are shorter)."""
    longest = max(((w.end - w.start).days + 1 for w in windows), default=1)
    return DAILY if longest <= 1 else WEEKLY if longest <= 7 else BIWEEKLY


def slots(period_list: Sequence[Period], assignees: Sequence[Assignee]) -> list[Slot]:
    """Every (period, assignee) pair, period by period, in the order given; zero-weight slots included."""
    return [Slot(a.key, p, a.capacity, a.calendar.count(p.start, p.end)) for p in period_list for a in assignees]


def largest_remainder(total: Decimal, weights: Sequence[Decimal | int], quantum: Decimal) -> list[Decimal]:
    """Split `total` in proportion to `weights` into multiples of `quantum` that add up to `total` exactly.

    Each part first gets the whole quanta of its exact share; the quanta left over go one each to the parts
    with the largest fractional remainders (ties: the earlier part). A zero weight always gets exactly 0.
    Exact rational arithmetic throughout: no float, no rounding drift.
    """
    total, quantum = Decimal(total), Decimal(quantum)
    if quantum <= 0:
        raise ValueError("The quantum must be positive, e.g. Decimal('0.01').")
    units = Fraction(total) / Fraction(quantum)
    if units.denominator != 1:
        raise ValueError(f"{total} is not a whole number of {quantum} steps.")
    if any(Decimal(w) < 0 for w in weights):
        raise ValueError("Weights cannot be negative.")
    whole = sum(Fraction(Decimal(w)) for w in weights)
    if not weights or (whole == 0 and units != 0):
        raise ValueError("There is nothing with a positive weight to split the total across.")
    if units == 0:
        return [Decimal(0).quantize(quantum) for _ in weights]
    sign, units = (1, int(units)) if units > 0 else (-1, -int(units))
    shares = [units * Fraction(Decimal(w)) / whole for w in weights]
    parts = [int(s) for s in shares]  # floor: shares are non-negative
    left = units - sum(parts)
    by_remainder = sorted(range(len(shares)), key=lambda i: (-(shares[i] - parts[i]), i))
    for i in by_remainder[:left]:
        parts[i] += 1
    return [(Decimal(sign * p) * quantum).quantize(quantum) for p in parts]


def allocate(total: Decimal, slot_list: Sequence[Slot], quantum: Decimal) -> list[Allocation]:
    """Split `total` across the slots by weight; the slots whose share rounds to nothing are left out."""
    targets = largest_remainder(total, [s.weight for s in slot_list], quantum)
    return [Allocation(slot, target) for slot, target in zip(slot_list, targets, strict=True) if target != 0]
