"""goals/pace.py: pace, forecast, health and attainment worked out by hand. No database."""

import datetime
from decimal import Decimal

import pytest

from goals import pace
from teams.calendar import WorkingCalendar

D = Decimal
MON_FRI = WorkingCalendar()
# March 2026: Monday 2 … Friday 27 is four working weeks; Friday 6 is a holiday, so 19 working days.
WITH_HOLIDAY = WorkingCalendar(holidays=frozenset({datetime.date(2026, 3, 6)}))
START, DUE = datetime.date(2026, 3, 2), datetime.date(2026, 3, 27)
ONE, CENT = D(1), D("0.01")


def march(day):
    return datetime.date(2026, 3, day)


def window(today, calendar=MON_FRI, *, start=START, due=DUE, run_rate_days=10):
    return pace.window(calendar, start=start, due=due, today=today, run_rate_days=run_rate_days)


# --- window -------------------------------------------------------------------------------------------


def test_window_skips_weekends_and_holidays():
    # Wednesday 11th: Mon 2–Thu 5 (Fri 6 is the holiday) and Mon 9–Wed 11 have elapsed.
    w = window(march(11), WITH_HOLIDAY)
    assert (w.total, w.elapsed, w.left) == (19, 7, 12)


def test_window_on_a_weekend_counts_through_the_friday_before():
    assert window(march(14), WITH_HOLIDAY).elapsed == window(march(15), WITH_HOLIDAY).elapsed == 9


def test_window_before_the_start_has_nothing_elapsed_and_everything_left():
    w = window(march(1))
    assert (w.elapsed, w.left, w.recent_from, w.recent_days) == (0, 20, START, 1)


def test_window_after_the_due_date_has_nothing_left():
    w = window(datetime.date(2026, 4, 15))
    assert (w.elapsed, w.left) == (20, 0)


def test_run_rate_period_is_the_last_ten_working_days_through_today():
    # Wednesday 18th: 18, 17, 16, 13, 12, 11, 10, 9, 6, 5 → from Thursday 5th.
    w = window(march(18))
    assert (w.elapsed, w.recent_from, w.recent_days) == (13, march(5), 10)


def test_run_rate_period_on_a_saturday_ends_with_the_friday():
    # Saturday 21st: 20, 19, 18, 17, 16, 13, 12, 11, 10, 9 → from Monday 9th.
    assert window(march(21)).recent_from == march(9)


def test_run_rate_period_is_the_whole_elapsed_part_early_in_the_window():
    w = window(march(4))
    assert (w.recent_from, w.recent_days) == (START, 3)


# --- expected (pace) --------------------------------------------------------------------------------


def test_expected_follows_working_days_with_holidays():
    w = window(march(11), WITH_HOLIDAY)
    expected = pace.expected_value(baseline=D(0), target=D(190), elapsed=w.elapsed, total=w.total, quantum=ONE)
    assert expected == D(70)  # 190 × 7 / 19


def test_expected_starts_at_the_baseline_and_ends_at_the_target():
    assert pace.expected_value(baseline=D(10), target=D(110), elapsed=0, total=20, quantum=ONE) == D(10)
    assert pace.expected_value(baseline=D(10), target=D(110), elapsed=20, total=20, quantum=ONE) == D(110)


def test_expected_rounds_half_up_to_the_kpi_decimals():
    assert pace.expected_value(baseline=D(0), target=D(1), elapsed=1, total=2, quantum=ONE) == D(1)  # 0.5 → 1
    assert pace.expected_value(baseline=D(0), target=D(100), elapsed=7, total=19, quantum=CENT) == D("36.84")


def test_expected_for_a_window_without_working_days_is_the_target():
    assert pace.expected_value(baseline=D(0), target=D(5), elapsed=0, total=0, quantum=ONE) == D(5)


def test_expected_for_lower_is_better_comes_down():
    assert pace.expected_value(baseline=D(30), target=D(20), elapsed=5, total=10, quantum=ONE) == D(25)


# --- forecast ----------------------------------------------------------------------------------------


def test_forecast_extrapolates_the_recent_run_rate_over_the_days_left():
    # 30 logged over the last 10 working days = 3 a day; 7 days left → 50 + 21.
    forecast = pace.forecast_value(
        current=D(50), recent_total=D(30), recent_days=10, left=7, is_level=False, quantum=ONE
    )
    assert forecast == D(71)


def test_forecast_rounds_to_the_kpi_decimals():
    forecast = pace.forecast_value(
        current=D(65), recent_total=D(65), recent_days=9, left=10, is_level=False, quantum=CENT
    )
    assert forecast == D("137.22")  # 65 + 65 / 9 × 10


def test_forecast_of_a_level_kpi_is_its_current_value():
    forecast = pace.forecast_value(
        current=D(24), recent_total=D(80), recent_days=3, left=10, is_level=True, quantum=ONE
    )
    assert forecast == D(24)


def test_forecast_with_nothing_left_is_the_current_value():
    forecast = pace.forecast_value(
        current=D(40), recent_total=D(30), recent_days=10, left=0, is_level=False, quantum=ONE
    )
    assert forecast == D(40)


# --- health ------------------------------------------------------------------------------------------


def health(current, expected, forecast, *, baseline=0, target=100, higher=True):
    return pace.health(
        current=D(current),
        expected=D(expected),
        forecast=D(forecast),
        baseline=D(baseline),
        target=D(target),
        higher_is_better=higher,
        on_track_ratio=D("0.95"),
        at_risk_ratio=D("0.90"),
    )


@pytest.mark.parametrize(
    ("current", "expected", "forecast", "verdict"),
    [
        (100, 60, 100, pace.ACHIEVED),  # reached the target
        (150, 60, 150, pace.ACHIEVED),  # over-achieved
        ("47.5", 50, 60, pace.ON_TRACK),  # exactly 95 % of the expected progress
        (47, 50, 90, pace.AT_RISK),  # behind pace, but the forecast makes 90 % of the target
        (47, 50, 89, pace.OFF_TRACK),  # behind pace and the forecast falls short
        (0, 0, 0, pace.ON_TRACK),  # day one: nothing expected yet, nothing logged yet
    ],
)
def test_health_higher_is_better(current, expected, forecast, verdict):
    assert health(current, expected, forecast) == verdict


@pytest.mark.parametrize(
    ("current", "expected", "forecast", "verdict"),
    [
        (20, 25, 20, pace.ACHIEVED),  # down to the target
        (19, 25, 19, pace.ACHIEVED),  # below it
        ("25.25", 25, "25.25", pace.ON_TRACK),  # came down 4.75 of the 5 expected = 95 %
        (26, 25, 21, pace.AT_RISK),  # behind, but the forecast comes down 9 of 10
        (26, 25, 22, pace.OFF_TRACK),
        (31, 25, 31, pace.OFF_TRACK),  # went the wrong way
    ],
)
def test_health_lower_is_better_is_mirrored(current, expected, forecast, verdict):
    assert health(current, expected, forecast, baseline=30, target=20, higher=False) == verdict


# --- attainment --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "baseline", "target", "percent"),
    [
        (0, 0, 100, 0),
        (50, 0, 200, 25),
        (150, 0, 100, 150),  # over-achievement is shown as such
        (25, 30, 20, 50),  # lower is better: halfway from 30 down to 20
        (35, 30, 20, 0),  # the wrong way is 0 %, never negative
        (0, 0, 0, 100),  # a micro goal of 0 has nothing left to do
    ],
)
def test_attainment_percent(current, baseline, target, percent):
    assert pace.attainment_percent(current=D(current), baseline=D(baseline), target=D(target)) == D(percent)


def test_attainment_is_exact_decimal_not_float():
    result = pace.attainment_percent(current=D(1), baseline=D(0), target=D(3))
    assert isinstance(result, Decimal)
    assert result.quantize(CENT) == D("33.33")
