"""goals/figures.py: one GoalFigures per goal, from the stored figures, its calendar and today. No database."""

import datetime
from decimal import Decimal
from types import SimpleNamespace

from goals.figures import figures_for
from goals.models import Kpi
from teams.calendar import WorkingCalendar

D = Decimal
DEALS = Kpi(name="Deals won", decimal_places=0)
BUDGET = Kpi(name="Discounts", unit=Kpi.Unit.CURRENCY, currency_code="EUR", decimal_places=2,
             direction=Kpi.Direction.LOWER)  # fmt: skip


def goal(kpi=DEALS, **fields):
    values = {
        "kpi": kpi, "baseline_value": D(0), "target_value": D(26), "current_value": D(17), "expected_value": D(18),
        "forecast_value": D(23), "forecast_low": D(20), "forecast_high": D(26), "chance_pct": 24, "health": "at_risk",
        "start_date": datetime.date(2026, 11, 2), "due_date": datetime.date(2026, 12, 31),
    }  # fmt: skip
    return SimpleNamespace(**{**values, **fields})


def test_figures_of_ava_deals_goal_on_1_december():
    figures = figures_for(goal(), calendar=WorkingCalendar(), today=datetime.date(2026, 12, 1))
    # 23 working days from Tuesday 1 to Thursday 31 December, today included; 9 to go → 0.39 a day → 1.
    assert (figures.days_left, figures.remaining, figures.per_day) == (23, D(9), D(1))
    assert figures.pace_gap == D(-1) and figures.state == "open" and figures.has_range
    assert figures.as_dict()["attainment"] == str(D(17) * 100 / 26) and figures.as_dict()["chance"] == 24


def test_a_budget_shows_what_is_still_allowed_rounded_down():
    figures = figures_for(
        goal(BUDGET, target_value=D(1000), current_value=D("400.00"), expected_value=D(500)),
        calendar=WorkingCalendar(),
        today=datetime.date(2026, 12, 29),  # Tue 29, Wed 30, Thu 31: 600 / 3 = 200
    )
    assert (figures.is_budget, figures.remaining, figures.per_day, figures.pace_gap) == (True, D(600), D(200), D(100))


def test_after_the_due_date_no_working_day_is_left_and_nothing_is_needed_per_day():
    figures = figures_for(goal(), calendar=WorkingCalendar(), today=datetime.date(2027, 1, 4))
    assert (figures.days_left, figures.per_day, figures.state) == (0, None, "over")
