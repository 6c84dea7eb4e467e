"""Streaks: consecutive working days with a non-voided entry, on the rep's team calendar, in the rep's timezone.

March 2026: Monday 2 to Friday 6, Saturday 7 and Sunday 8, Monday 9 to Friday 13.
"""

import datetime

import pytest

from rewards import selectors, services
from rewards.models import Award, RewardTier
from teams.models import Holiday

from .conftest import log, make_tier, march, void

pytestmark = pytest.mark.django_db


@pytest.fixture
def five_days(admin_user):
    return make_tier(admin_user, "5-day streak", applies_to=RewardTier.AppliesTo.STREAK, streak_days=5)


def grant(user):
    return services.awards_grant(user_ids=[user.id], today=march(31))


def streak_days(user):
    return sorted(Award.objects.filter(user=user, tier__applies_to="streak").values_list("streak_day", flat=True))


def test_a_weekend_does_not_break_a_streak_and_weekend_entries_do_not_count(rep_a, deals, five_days):
    for day in (5, 6, 7, 9, 10):  # Thu, Fri, (Sat), Mon, Tue: 4 working days
        log(rep_a, deals, day, 1)
    grant(rep_a)
    assert streak_days(rep_a) == []
    log(rep_a, deals, 11, 1)  # Wednesday: the fifth working day in a row
    assert grant(rep_a).granted == 1
    assert streak_days(rep_a) == [march(11)]
    log(rep_a, deals, 12, 1)  # the same streak goes on: no second award
    assert grant(rep_a).granted == 0


def test_a_holiday_does_not_break_a_streak(rep_a, team_a, deals, five_days):
    Holiday.objects.create(team=team_a, date=march(4), name="Founders' day")
    for day in (2, 3, 5, 6, 9):
        log(rep_a, deals, day, 1)
    grant(rep_a)
    assert streak_days(rep_a) == [march(9)]


def test_a_day_with_only_voided_entries_breaks_a_streak(rep_a, deals, five_days):
    for day in (2, 3, 5, 6):
        log(rep_a, deals, day, 1)
    void(log(rep_a, deals, 4, 1))
    grant(rep_a)
    assert streak_days(rep_a) == []
    log(rep_a, deals, 4, 2)  # a real entry on that day mends it
    grant(rep_a)
    assert streak_days(rep_a) == [march(6)]


def test_voiding_an_entry_of_a_granted_streak_flags_it_and_a_new_streak_earns_a_new_award(rep_a, deals, five_days):
    entries = [log(rep_a, deals, day, 1) for day in (2, 3, 4, 5, 6)]
    grant(rep_a)
    void(entries[2])
    assert grant(rep_a).flagged == 1
    award = Award.objects.get(user=rep_a)
    assert (award.status, award.flag_attainment) == (Award.Status.FLAGGED, 40)  # 2 of the 5 days still hold
    for day in (9, 10, 11):  # Thu 5, Fri 6, Mon 9, Tue 10, Wed 11: a new streak of 5
        log(rep_a, deals, day, 1)
    grant(rep_a)
    assert streak_days(rep_a) == [march(6), march(11)]


def test_a_streak_tier_with_a_kpi_counts_only_that_kpis_days(admin_user, rep_a, deals):
    from tests.factories import KpiFactory

    calls = KpiFactory(name="Calls")
    make_tier(admin_user, "Caller streak", applies_to=RewardTier.AppliesTo.STREAK, streak_days=3, kpi=calls)
    log(rep_a, calls, 2, 1)
    log(rep_a, deals, 3, 1)
    log(rep_a, calls, 4, 1)
    grant(rep_a)
    assert streak_days(rep_a) == []
    log(rep_a, calls, 3, 1)
    grant(rep_a)
    assert streak_days(rep_a) == [march(4)]


def at(day, hour, tz=datetime.UTC):
    return datetime.datetime(2026, 3, day, hour, tzinfo=tz)


def test_the_current_streak_runs_to_the_reps_local_today_and_today_is_still_open(rep_a, deals):
    for day in (5, 6, 9):  # Thu, Fri, Mon
        log(rep_a, deals, day, 1)
    # Tuesday 10th in UTC, nothing logged yet today: the streak holds at 3.
    assert selectors.current_streak_for_user(user=rep_a, now=at(10, 9)) == 3
    # Wednesday 11th and Tuesday was missed: broken.
    assert selectors.current_streak_for_user(user=rep_a, now=at(11, 9)) == 0


def test_the_reps_timezone_decides_which_day_is_today(rep_a, deals):
    rep_a.timezone = "America/Los_Angeles"
    rep_a.save()
    for day in (5, 6, 9):
        log(rep_a, deals, day, 1)
    # 03:00 UTC on Wednesday 11th is still Tuesday 10th, 20:00, in Los Angeles: Tuesday is open, streak 3.
    assert selectors.current_streak_for_user(user=rep_a, now=at(11, 3)) == 3
    rep_a.timezone = "UTC"
    rep_a.save()
    assert selectors.current_streak_for_user(user=rep_a, now=at(11, 3)) == 0  # for a UTC rep Tuesday was missed


def test_streak_runs_are_pure_calendar_arithmetic():
    from rewards.figures import streak_runs
    from teams.calendar import WorkingCalendar

    calendar = WorkingCalendar.from_team("12345", [march(4)])
    runs = streak_runs(calendar, {march(2), march(3), march(5), march(7), march(10)})
    assert runs == [[march(2), march(3), march(5)], [march(10)]]
