"""The pure arithmetic of the breakdown: periods, weights, largest remainder (no database)."""

import datetime
import itertools
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goals import breakdown
from goals.breakdown import Assignee, Period
from teams.calendar import WorkingCalendar

D = datetime.date
MON_FRI = WorkingCalendar()


def test_weekly_periods_run_monday_to_sunday_and_are_clipped_to_the_window():
    # Wednesday 4 March to Tuesday 17 March 2026.
    assert breakdown.periods(D(2026, 3, 4), D(2026, 3, 17), "weekly") == [
        Period(D(2026, 3, 4), D(2026, 3, 8)),
        Period(D(2026, 3, 9), D(2026, 3, 15)),
        Period(D(2026, 3, 16), D(2026, 3, 17)),
    ]


def test_biweekly_periods_count_two_weeks_from_the_monday_of_the_start_week():
    assert breakdown.periods(D(2026, 3, 4), D(2026, 4, 1), "biweekly") == [
        Period(D(2026, 3, 4), D(2026, 3, 15)),
        Period(D(2026, 3, 16), D(2026, 3, 29)),
        Period(D(2026, 3, 30), D(2026, 4, 1)),
    ]


def test_daily_periods_are_every_calendar_day():
    assert breakdown.periods(D(2026, 3, 6), D(2026, 3, 8), "daily") == [
        Period(D(2026, 3, 6), D(2026, 3, 6)),
        Period(D(2026, 3, 7), D(2026, 3, 7)),
        Period(D(2026, 3, 8), D(2026, 3, 8)),
    ]


def test_unknown_cadence_is_refused():
    with pytest.raises(ValueError, match="cadence"):
        breakdown.periods(D(2026, 3, 2), D(2026, 3, 8), "monthly")


def test_largest_remainder_hands_leftover_units_to_the_largest_remainders():
    assert breakdown.largest_remainder(Decimal(100), [1, 1, 1], Decimal(1)) == [34, 33, 33]
    assert breakdown.largest_remainder(Decimal("10.00"), [1, 2], Decimal("0.01")) == [
        Decimal("3.33"),
        Decimal("6.67"),
    ]


def test_largest_remainder_gives_zero_weights_exactly_nothing():
    assert breakdown.largest_remainder(Decimal(7), [0, 1, 0, 1], Decimal(1)) == [0, 4, 0, 3]


def test_largest_remainder_refuses_a_total_finer_than_the_quantum_and_all_zero_weights():
    with pytest.raises(ValueError, match="whole number"):
        breakdown.largest_remainder(Decimal("1.005"), [1, 1], Decimal("0.01"))
    with pytest.raises(ValueError, match="positive weight"):
        breakdown.largest_remainder(Decimal(5), [0, 0], Decimal(1))


def test_hand_worked_breakdown_with_a_half_time_rep_and_a_holiday_week():
    # Two weeks from Monday 2 March; Monday 9 March is a holiday, so week 2 has 4 working days.
    calendar = WorkingCalendar(holidays=frozenset({D(2026, 3, 9)}))
    ava, ben = Assignee("ava", Decimal("1.00"), calendar), Assignee("ben", Decimal("0.50"), calendar)
    slots = breakdown.slots(breakdown.periods(D(2026, 3, 2), D(2026, 3, 15), "weekly"), [ava, ben])
    assert [(s.key, s.working_days, s.weight) for s in slots] == [
        ("ava", 5, Decimal("5.00")),
        ("ben", 5, Decimal("2.50")),
        ("ava", 4, Decimal("4.00")),
        ("ben", 4, Decimal("2.00")),
    ]
    # 100 × weight / 13.5 = 37.04, 18.52, 29.63, 14.81: floors 37+18+29+14 = 98, the 2 left go to .81 and .63.
    assert [a.target for a in breakdown.allocate(Decimal(100), slots, Decimal(1))] == [37, 18, 30, 15]
    # 270 splits without remainders: 100, 50, 80, 40.
    assert [a.target for a in breakdown.allocate(Decimal(270), slots, Decimal(1))] == [100, 50, 80, 40]


def test_allocate_leaves_out_slots_with_nothing_to_do():
    calendar = WorkingCalendar(holidays=frozenset(D(2026, 3, 9) + datetime.timedelta(days=i) for i in range(5)))
    slots = breakdown.slots(breakdown.periods(D(2026, 3, 2), D(2026, 3, 22), "weekly"), [Assignee(1, 1, calendar)])
    allocations = breakdown.allocate(Decimal(10), slots, Decimal(1))
    assert [(a.slot.period.start, a.target) for a in allocations] == [(D(2026, 3, 2), 5), (D(2026, 3, 16), 5)]


def test_infer_cadence_from_the_longest_window():
    assert breakdown.infer_cadence([Period(D(2026, 3, 4), D(2026, 3, 4))]) == "daily"
    assert breakdown.infer_cadence([Period(D(2026, 3, 4), D(2026, 3, 8)), Period(D(2026, 3, 9), D(2026, 3, 15))]) == (
        "weekly"
    )
    assert breakdown.infer_cadence([Period(D(2026, 3, 4), D(2026, 3, 15))]) == "biweekly"


# --- Properties -------------------------------------------------------------------------------------------------

dates = st.dates(min_value=D(2024, 1, 1), max_value=D(2028, 12, 31))
weekday_sets = st.sets(st.integers(min_value=1, max_value=7), min_size=1, max_size=7)
capacities = st.integers(min_value=1, max_value=100).map(lambda n: Decimal(n) / 100)


@st.composite
def calendars(draw, start):
    holidays = draw(st.sets(st.integers(min_value=0, max_value=140), max_size=20))
    return WorkingCalendar(
        frozenset(draw(weekday_sets)), frozenset(start + datetime.timedelta(days=d) for d in holidays)
    )


@st.composite
def plans(draw):
    start = draw(dates)
    due = start + datetime.timedelta(days=draw(st.integers(min_value=0, max_value=130)))
    cadence = draw(st.sampled_from(breakdown.CADENCES))
    places = draw(st.integers(min_value=0, max_value=4))
    quantum = Decimal(1).scaleb(-places)
    total = Decimal(draw(st.integers(min_value=1, max_value=10**12))) * quantum
    people = [
        Assignee(n, draw(capacities), draw(calendars(start)))
        for n in range(draw(st.integers(min_value=1, max_value=8)))
    ]
    return start, due, cadence, quantum, total, people


@settings(max_examples=60, deadline=None)
@given(plans())
def test_breakdown_sums_exactly_to_the_target_for_any_calendar_capacity_and_decimals(plan):
    start, due, cadence, quantum, total, people = plan
    period_list = breakdown.periods(start, due, cadence)
    # The periods tile the window: contiguous, no gaps, none longer than the cadence.
    assert period_list[0].start == start and period_list[-1].end == due
    assert all(b.start == a.end + datetime.timedelta(days=1) for a, b in itertools.pairwise(period_list))
    assert all((p.end - p.start).days < breakdown.CADENCE_DAYS[cadence] for p in period_list)

    slots = breakdown.slots(period_list, people)
    if not any(s.weight for s in slots):
        with pytest.raises(ValueError):
            breakdown.allocate(total, slots, quantum)
        return
    targets = breakdown.largest_remainder(total, [s.weight for s in slots], quantum)
    assert sum(targets) == total
    whole = sum(Fraction(s.weight) for s in slots)
    for slot, target in zip(slots, targets, strict=True):
        assert target >= 0 and target % quantum == 0
        exact = Fraction(total) * Fraction(slot.weight) / whole
        assert abs(Fraction(target) - exact) < Fraction(quantum)  # never more than one step off its share
        if slot.weight == 0:
            assert target == 0
    allocations = breakdown.allocate(total, slots, quantum)
    assert sum(a.target for a in allocations) == total and all(a.target > 0 for a in allocations)


@settings(max_examples=60, deadline=None)
@given(plans(), st.data())
def test_replan_arithmetic_keeps_past_periods_and_still_sums_to_the_target(plan, data):
    start, due, cadence, quantum, total, people = plan
    period_list = breakdown.periods(start, due, cadence)
    slots = breakdown.slots(period_list, people)
    if not any(s.weight for s in slots):
        return
    planned = breakdown.allocate(total, slots, quantum)
    cut = data.draw(st.integers(min_value=0, max_value=len(period_list) - 1))
    cutoff = period_list[cut].start
    kept = [a for a in planned if a.slot.period.end < cutoff]
    ahead = breakdown.slots(period_list[cut:], people)
    if not any(s.weight for s in ahead):
        return
    # The owner was exactly on plan: kept targets + re-planned targets = the target, exactly.
    achieved = sum((a.target for a in kept), Decimal(0))
    replanned = breakdown.allocate(total - achieved, ahead, quantum)
    assert sum(a.target for a in kept) + sum(a.target for a in replanned) == total
    # Behind or ahead of plan: what is still missing is spread exactly.
    achieved = data.draw(st.integers(min_value=0, max_value=int(total / quantum) - 1)) * quantum
    replanned = breakdown.allocate(total - achieved, ahead, quantum)
    assert achieved + sum(a.target for a in replanned) == total


def test_a_period_lies_inside_a_window_only_whole():
    period = Period(datetime.date(2026, 12, 21), datetime.date(2026, 12, 27))
    assert period.inside(datetime.date(2026, 12, 1), datetime.date(2026, 12, 31))
    assert period.inside(datetime.date(2026, 12, 21), datetime.date(2026, 12, 27))
    assert not period.inside(datetime.date(2026, 12, 1), datetime.date(2026, 12, 24))  # the due date moved earlier
    assert not period.inside(datetime.date(2026, 12, 22), datetime.date(2026, 12, 31))  # the start moved later
