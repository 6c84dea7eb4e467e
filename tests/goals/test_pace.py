"""goals/pace.py: pace, forecast, health and attainment worked out by hand. No database."""

import datetime
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

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


# --- forecast: the credibility blend, worked by hand -----------------------------------------------------
# Ben's Calls goal: 450 over March's 20 working days (plan 22.5 a day); over the 20 working days before March he
# logged 400 (a prior of 20 a day); K = 5.


def ben_forecast(*, current, recent_total, logged_today, recent_days, completed, left, today_open):
    run = pace.run_rate(
        recent_total=D(recent_total), logged_today=D(logged_today), recent_days=recent_days, today_open=today_open
    )
    rate = pace.blended_rate(run_rate=run, elapsed=completed, prior_rate=D(20), credibility_days=5)
    return pace.forecast_value(
        current=D(current), rate=rate, left=left, quantum=ONE, today_open=today_open, logged_today=D(logged_today)
    )


def test_blend_on_day_1_leans_on_the_owners_history_not_on_one_day():
    # Monday 2nd, 42 calls logged this morning: nothing completed yet, z = 0 → 20 a day.
    # 42 today (more than the rate) + 20 × 19 days after today = 422 (the old rule said 42 × 22 = 924).
    assert ben_forecast(
        current=42, recent_total=42, logged_today=42, recent_days=1, completed=0, left=19, today_open=True
    ) == D(422)


def test_blend_mid_window_weighs_the_run_rate_by_its_credibility():
    # Monday 16th, 10 of 20 days completed with 300 calls (the last 10: 300 → 30 a day), nothing yet today.
    # z = 10 / 15: 2/3 × 30 + 1/3 × 20 = 26.67 a day; today still brings 26.67, then 9 days → 300 + 266.7 = 567.
    assert ben_forecast(
        current=300, recent_total=300, logged_today=0, recent_days=11, completed=10, left=9, today_open=True
    ) == D(567)


def test_blend_on_the_last_day_forecasts_only_the_rest_of_today():
    # Friday 27th, 19 days completed; the last 10 working days (9 completed) brought 270 = 30 a day; 15 logged
    # today. z = 19 / 24: 0.79 × 30 + 0.21 × 20 = 27.92 a day; today brings 12.92 more → 430 + 12.9 = 442.9 → 443.
    assert ben_forecast(
        current=430, recent_total=285, logged_today=15, recent_days=10, completed=19, left=0, today_open=True
    ) == D(443)


def test_blend_without_credibility_constant_is_the_run_rate():
    assert pace.blended_rate(run_rate=D(3), elapsed=4, prior_rate=D(9), credibility_days=0) == D(3)


def test_a_sum_rate_is_never_negative_but_a_level_may_fall():
    assert pace.blended_rate(run_rate=D(-1), elapsed=1, prior_rate=D(-1), credibility_days=1) == 0
    assert pace.blended_rate(run_rate=D(-1), elapsed=1, prior_rate=D(-1), credibility_days=1, is_level=True) == -1


def test_forecast_rounds_to_the_kpi_decimals():
    assert pace.forecast_value(current=D(65), rate=D(65) / 9, left=10, quantum=CENT) == D("137.22")


def test_forecast_with_nothing_left_and_today_closed_is_the_current_value():
    assert pace.forecast_value(current=D(40), rate=D(3), left=0, quantum=ONE) == D(40)


# --- likely range and chance ------------------------------------------------------------------------------


def test_daily_spread_counts_days_without_entries_as_zero():
    # Days 10, 0, 20, 10 (sum 40, squares 600): mean 10, variance 600 / 4 − 100 = 50.
    assert pace.daily_sd(total=D(40), squares=D(600), days=4) == D(50).sqrt()


def test_range_is_the_forecast_plus_minus_1_2816_sigma_and_never_below_the_current_value():
    sigma = pace.forecast_spread(sd=D(5), left=4, is_level=False)  # 5 × √4 = 10
    assert sigma == D(10)
    assert pace.forecast_range(forecast=D(100), current=D(60), sigma=sigma, is_level=False, quantum=ONE) == (
        D(87),
        D(113),
    )
    assert pace.forecast_range(forecast=D(100), current=D(95), sigma=sigma, is_level=False, quantum=ONE)[0] == D(95)


def test_chance_is_the_normal_curve_around_the_forecast():
    assert pace.chance_percent(forecast=D(100), target=D(100), sigma=D(10), higher_is_better=True) == 50
    assert pace.chance_percent(forecast=D(112.816), target=D(100), sigma=D(10), higher_is_better=True) == 90
    assert pace.chance_percent(forecast=D(87), target=D(100), sigma=D(10), higher_is_better=True) == 10
    assert pace.chance_percent(forecast=D(18), target=D(20), sigma=D(0), higher_is_better=False) == 100
    assert pace.chance_percent(forecast=D("99.999"), target=D(100), sigma=D(1000), higher_is_better=True) == 49


# --- health ------------------------------------------------------------------------------------------


def health(current, forecast, *, baseline=0, target=100, higher=True):
    return pace.health(
        current=D(current),
        forecast=D(forecast),
        baseline=D(baseline),
        target=D(target),
        higher_is_better=higher,
        at_risk_ratio=D("0.90"),
    )


@pytest.mark.parametrize(
    ("current", "forecast", "verdict"),
    [
        (100, 100, pace.ACHIEVED),  # reached the target
        (150, 150, pace.ACHIEVED),  # over-achieved
        (17, 100, pace.ON_TRACK),  # the forecast reaches the target
        (17, 99, pace.AT_RISK),  # it misses: never "on track"
        (47, 90, pace.AT_RISK),  # the forecast makes 90 % of the way
        (47, 89, pace.OFF_TRACK),  # and falls short of that
    ],
)
def test_health_higher_is_better(current, forecast, verdict):
    assert health(current, forecast) == verdict


@pytest.mark.parametrize(
    ("current", "forecast", "verdict"),
    [
        (20, 20, pace.ACHIEVED),  # down to the target
        (19, 19, pace.ACHIEVED),  # below it
        (25, 20, pace.ON_TRACK),
        (26, 21, pace.AT_RISK),  # the forecast comes down 9 of 10
        (26, 22, pace.OFF_TRACK),
        (31, 31, pace.OFF_TRACK),  # went the wrong way
    ],
)
def test_health_lower_is_better_is_mirrored(current, forecast, verdict):
    assert health(current, forecast, baseline=30, target=20, higher=False) == verdict


values = st.decimals(min_value=-1000, max_value=1000, places=2)


@given(current=values, forecast=values, baseline=values, target=values, higher=st.booleans(), sd=values)
def test_health_range_and_chance_agree_with_the_forecast(current, forecast, baseline, target, higher, sd):
    assume(target != baseline)
    verdict = health(current, forecast, baseline=baseline, target=target, higher=higher)
    sign = 1 if higher else -1
    reaches = sign * (forecast - target) >= 0
    if verdict == pace.ON_TRACK:
        assert reaches  # never "on track" while the forecast misses
    if reaches:
        assert verdict in (pace.ACHIEVED, pace.ON_TRACK)
    sigma = abs(sd)
    chance = pace.chance_percent(forecast=forecast, target=target, sigma=sigma, higher_is_better=higher)
    assert 0 <= chance <= 100 and (chance >= 50) == reaches
    low, high = pace.forecast_range(
        forecast=forecast, current=min(current, forecast), sigma=sigma, is_level=False, quantum=CENT
    )
    assert low <= forecast <= high


# --- still needed per working day ---------------------------------------------------------------------


def test_working_days_left_count_today_when_it_is_a_working_day():
    assert pace.working_days_left(MON_FRI, start=START, due=DUE, today=march(27)) == 1
    assert pace.working_days_left(MON_FRI, start=START, due=DUE, today=march(28)) == 0
    assert pace.working_days_left(MON_FRI, start=START, due=DUE, today=march(1)) == 20
    assert pace.working_days_left(MON_FRI, start=START, due=DUE, today=march(14)) == 10  # a Saturday


def test_still_needed_rounds_up_and_a_budget_allowance_rounds_down():
    assert pace.per_working_day(amount=D(9), days_left=21, quantum=ONE, is_budget=False) == D(1)  # 0.43 → 1
    assert pace.per_working_day(amount=D(400), days_left=21, quantum=CENT, is_budget=False) == D("19.05")
    assert pace.per_working_day(amount=D(400), days_left=21, quantum=CENT, is_budget=True) == D("19.04")
    assert pace.per_working_day(amount=D(5), days_left=0, quantum=ONE, is_budget=False) is None


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
