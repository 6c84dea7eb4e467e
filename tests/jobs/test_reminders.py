"""Who gets a check-in reminder, a deadline reminder and the weekly digest — once, and chosen set-based."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from goals.models import Goal, Health, MicroGoal
from goals.services import reminders
from notifications.models import Notification
from teams.models import Holiday
from tests.factories import (
    KpiFactory,
    TeamFactory,
    UserFactory,
    make_entry,
    make_goal,
    make_manager,
    make_micro_goal,
    make_rep,
)

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
FRIDAY = datetime.date(2026, 11, 20)
SATURDAY = datetime.date(2026, 11, 21)
MONDAY = datetime.date(2026, 11, 23)


def at(day, hour, minute=0, tz=UTC):
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=tz)


def keys(**filters):
    return sorted(Notification.objects.filter(**filters).values_list("user__username", "kind", "key"))


@pytest.fixture
def busy_rep(team_a):
    """A UTC rep of team A with a micro goal covering the whole month."""
    rep = make_rep(team_a, username="busy_rep")
    make_micro_goal(assignee=rep, start=datetime.date(2026, 11, 1), due=datetime.date(2026, 11, 30))
    return rep


# --- check-in reminders -------------------------------------------------------------------------------


def test_rep_without_an_entry_today_is_reminded_once_at_their_reminder_hour(
    busy_rep, eager_celery, django_capture_on_commit_callbacks
):
    with time_machine.travel(at(FRIDAY, 16, 0), tick=False), django_capture_on_commit_callbacks(execute=True):
        assert reminders.checkin_reminders_send() == 1
    [notification] = Notification.objects.all()
    assert (notification.user, notification.kind) == (busy_rep, "checkin_reminder")
    assert notification.key == f"checkin:{busy_rep.id}:2026-11-20"
    assert notification.url == "/today/"
    [email] = mail.outbox
    assert email.to == [busy_rep.email] and "/today/" in email.body


def test_checkin_reminder_waits_for_the_reminder_hour(busy_rep):
    with time_machine.travel(at(FRIDAY, 15, 59), tick=False):
        assert reminders.checkin_reminders_send() == 0
    assert not Notification.objects.exists()


def test_checkin_reminder_still_goes_later_that_day_if_the_hour_was_missed(busy_rep):
    with time_machine.travel(at(FRIDAY, 22, 30), tick=False):
        assert reminders.checkin_reminders_send() == 1


def test_checkin_reminder_follows_the_reps_own_reminder_hour(team_a):
    early = make_rep(team_a, username="early_bird", reminder_hour=9)
    make_micro_goal(assignee=early, start=FRIDAY, due=FRIDAY)
    with time_machine.travel(at(FRIDAY, 9, 0), tick=False):
        assert reminders.checkin_reminders_send() == 1
    assert keys() == [("early_bird", "checkin_reminder", f"checkin:{early.id}:2026-11-20")]


def test_running_the_checkin_job_twice_reminds_once(busy_rep, eager_celery, django_capture_on_commit_callbacks):
    with time_machine.travel(at(FRIDAY, 16, 0), tick=False), django_capture_on_commit_callbacks(execute=True):
        assert reminders.checkin_reminders_send() == 1
    with time_machine.travel(at(FRIDAY, 16, 15), tick=False), django_capture_on_commit_callbacks(execute=True):
        assert reminders.checkin_reminders_send() == 0
    assert Notification.objects.count() == 1 and len(mail.outbox) == 1


def test_rep_who_already_logged_today_gets_nothing(busy_rep):
    make_entry(user=busy_rep, date=FRIDAY)
    with time_machine.travel(at(FRIDAY, 16, 0), tick=False):
        assert reminders.checkin_reminders_send() == 0


def test_a_voided_entry_does_not_count_as_logged(busy_rep):
    make_entry(user=busy_rep, date=FRIDAY, voided_at=at(FRIDAY, 10), void_reason="typo")
    with time_machine.travel(at(FRIDAY, 16, 0), tick=False):
        assert reminders.checkin_reminders_send() == 1


def test_an_entry_for_another_day_does_not_count_as_logged_today(busy_rep):
    make_entry(user=busy_rep, date=FRIDAY - datetime.timedelta(days=1))
    with time_machine.travel(at(FRIDAY, 16, 0), tick=False):
        assert reminders.checkin_reminders_send() == 1


def test_rep_without_an_active_micro_goal_today_gets_nothing(team_a):
    done = make_rep(team_a, username="done")
    make_micro_goal(assignee=done, start=datetime.date(2026, 11, 1), due=FRIDAY - datetime.timedelta(days=1))
    later = make_rep(team_a, username="later")
    make_micro_goal(assignee=later, start=MONDAY, due=MONDAY)
    cancelled = make_rep(team_a, username="cancelled")
    make_micro_goal(assignee=cancelled, start=FRIDAY, due=FRIDAY, status=MicroGoal.Status.CANCELLED)
    goal_closed = make_rep(team_a, username="goal_closed")
    micro = make_micro_goal(assignee=goal_closed, start=FRIDAY, due=FRIDAY)
    Goal.objects.filter(id=micro.goal_id).update(status=Goal.Status.CANCELLED)
    make_rep(team_a, username="no_micro_goal_at_all")
    with time_machine.travel(at(FRIDAY, 16, 0), tick=False):
        assert reminders.checkin_reminders_send() == 0


def test_no_checkin_reminder_on_a_non_working_weekday(busy_rep):
    with time_machine.travel(at(SATURDAY, 16, 0), tick=False):
        assert reminders.checkin_reminders_send() == 0


def test_weekend_teams_are_reminded_on_their_own_working_days(busy_rep, team_a):
    team_a.working_weekdays = "123456"
    team_a.save()
    with time_machine.travel(at(SATURDAY, 16, 0), tick=False):
        assert reminders.checkin_reminders_send() == 1


def test_no_checkin_reminder_on_a_team_holiday(busy_rep, team_a):
    Holiday.objects.create(team=team_a, date=FRIDAY, name="Founders' day")
    with time_machine.travel(at(FRIDAY, 16, 0), tick=False):
        assert reminders.checkin_reminders_send() == 0


def test_no_checkin_reminder_on_an_org_wide_holiday_set_on_a_parent_team(team_a):
    org = TeamFactory(name="Org", slug="org")
    team_a.parent = org
    team_a.save()
    rep = make_rep(team_a)
    make_micro_goal(assignee=rep, start=FRIDAY, due=FRIDAY)
    Holiday.objects.create(team=org, date=FRIDAY, name="Company day off")
    with time_machine.travel(at(FRIDAY, 16, 0), tick=False):
        assert reminders.checkin_reminders_send() == 0


def test_managers_and_inactive_reps_get_no_checkin_reminder(team_a):
    manager = make_manager(team_a)
    make_micro_goal(assignee=manager, start=FRIDAY, due=FRIDAY)
    gone = make_rep(team_a, is_active=False)
    make_micro_goal(assignee=gone, start=FRIDAY, due=FRIDAY)
    with time_machine.travel(at(FRIDAY, 16, 0), tick=False):
        assert reminders.checkin_reminders_send() == 0


def test_a_rep_who_left_the_team_gets_no_checkin_reminder(team_a):
    rep = make_rep(team_a)
    rep.memberships.update(active_to=FRIDAY - datetime.timedelta(days=1))
    make_micro_goal(assignee=rep, start=FRIDAY, due=FRIDAY)
    with time_machine.travel(at(FRIDAY, 16, 0), tick=False):
        assert reminders.checkin_reminders_send() == 0


def test_a_user_turning_checkin_reminders_off_gets_none(busy_rep):
    busy_rep.notification_prefs = {"checkin_reminder": "off"}
    busy_rep.save()
    with time_machine.travel(at(FRIDAY, 16, 0), tick=False):
        reminders.checkin_reminders_send()
    assert not Notification.objects.exists()


def _reps_with_micro_goals(team, n, prefix):
    for i in range(n):
        rep = make_rep(team, username=f"{prefix}{i}", timezone=["UTC", "Europe/London", "Africa/Abidjan"][i % 3])
        make_micro_goal(assignee=rep, start=FRIDAY, due=FRIDAY)


def _queries(fn):
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_a_checkin_run_costs_the_same_queries_for_5_or_50_reps():
    # The users' timezones; the due reps (one query, whatever their number); the team calendars (team tree
    # with weekdays, holidays); the keys already sent; then the delivery: the keys again (a concurrent run may
    # have delivered meanwhile), one INSERT, the new rows' ids, inside its transaction (here a savepoint and its
    # release: the test runs in a transaction).
    counts = []
    for n in (5, 50):
        Notification.objects.all().delete()
        team = TeamFactory()
        _reps_with_micro_goals(team, n, prefix=f"t{n}_")
        with time_machine.travel(at(FRIDAY, 16, 0), tick=False):
            counts.append(_queries(reminders.checkin_reminders_send))
        assert Notification.objects.count() == n + (5 if n == 50 else 0)  # the first team's reps are still due
    assert counts[0] == counts[1] == 10


# --- deadline reminders -------------------------------------------------------------------------------


def _due_in(days, today=FRIDAY):
    return today + datetime.timedelta(days=days)


def test_deadline_reminders_go_to_the_owner_7_3_and_1_days_before(
    rep_a, eager_celery, django_capture_on_commit_callbacks
):
    goals = {n: make_goal(owner_user=rep_a, title=f"due in {n}", due_date=_due_in(n)) for n in (7, 5, 3, 1, 0)}
    with time_machine.travel(at(FRIDAY, 9), tick=False), django_capture_on_commit_callbacks(execute=True):
        assert reminders.deadline_reminders_send() == 3
    assert keys() == sorted(("ray_rep_a", "deadline_reminder", f"deadline:{goals[n].id}:{n}") for n in (7, 3, 1))
    tomorrow = Notification.objects.get(key=f"deadline:{goals[1].id}:1")
    assert tomorrow.title == "“due in 1” is due tomorrow" and tomorrow.url == f"/goals/{goals[1].id}/"
    assert len(mail.outbox) == 3


def test_deadline_reminder_days_come_from_settings(rep_a, settings):
    settings.PACER = {**settings.PACER, "DEADLINE_REMINDER_DAYS": [14]}
    goal = make_goal(owner_user=rep_a, due_date=_due_in(14))
    make_goal(owner_user=rep_a, due_date=_due_in(7))
    with time_machine.travel(at(FRIDAY, 9), tick=False):
        reminders.deadline_reminders_send()
    assert keys() == [("ray_rep_a", "deadline_reminder", f"deadline:{goal.id}:14")]


def test_achieved_and_closed_goals_get_no_deadline_reminder(rep_a):
    make_goal(owner_user=rep_a, due_date=_due_in(3), health=Health.ACHIEVED)
    for status in (Goal.Status.ACHIEVED, Goal.Status.MISSED, Goal.Status.CANCELLED, Goal.Status.DRAFT):
        make_goal(owner_user=rep_a, due_date=_due_in(3), status=status)
    with time_machine.travel(at(FRIDAY, 9), tick=False):
        assert reminders.deadline_reminders_send() == 0


def test_off_track_goal_also_alerts_the_owners_managers(rep_a, manager_a, rep_b, manager_b):
    goal = make_goal(owner_user=rep_a, due_date=_due_in(3), health=Health.OFF_TRACK, title="Demos")
    with time_machine.travel(at(FRIDAY, 9), tick=False):
        assert reminders.deadline_reminders_send() == 2
    assert keys() == [
        ("mia_manager_a", "goal_off_track", f"deadline:{goal.id}:3"),
        ("ray_rep_a", "deadline_reminder", f"deadline:{goal.id}:3"),
    ]
    alert = Notification.objects.get(user=manager_a)
    assert "off track" in alert.title.lower() and alert.url == f"/goals/{goal.id}/"


def test_the_longest_goal_title_still_fits_a_notification_title(rep_a, manager_a):
    make_goal(owner_user=rep_a, title="x" * 140, due_date=_due_in(7), health=Health.OFF_TRACK)
    with time_machine.travel(at(FRIDAY, 9), tick=False):
        assert reminders.deadline_reminders_send() == 2
    assert all(len(title) <= 200 for title in Notification.objects.values_list("title", flat=True))


def test_on_track_and_at_risk_goals_do_not_alert_the_manager(rep_a, manager_a):
    make_goal(owner_user=rep_a, due_date=_due_in(3), health=Health.AT_RISK)
    make_goal(owner_user=rep_a, due_date=_due_in(7), health=Health.ON_TRACK)
    with time_machine.travel(at(FRIDAY, 9), tick=False):
        reminders.deadline_reminders_send()
    assert {k[0] for k in keys()} == {"ray_rep_a"}


def test_a_team_goal_reminds_the_teams_managers(team_a, manager_a, rep_a):
    other_manager = make_manager(team_a, username="second_manager")
    goal = make_goal(owner_team=team_a, created_by=manager_a, due_date=_due_in(1), health=Health.OFF_TRACK)
    with time_machine.travel(at(FRIDAY, 9), tick=False):
        assert reminders.deadline_reminders_send() == 2
    assert keys() == [
        ("mia_manager_a", "deadline_reminder", f"deadline:{goal.id}:1"),
        ("second_manager", "deadline_reminder", f"deadline:{goal.id}:1"),
    ]
    assert other_manager.notifications.count() == 1  # not a second, off-track, notification


def test_a_team_without_its_own_manager_reaches_the_manager_above(team_a, rep_a):
    region = TeamFactory(name="Region", slug="region")
    team_a.parent = region
    team_a.save()
    make_manager(region, username="regional_manager")
    goal = make_goal(owner_user=rep_a, due_date=_due_in(1), health=Health.OFF_TRACK)
    with time_machine.travel(at(FRIDAY, 9), tick=False):
        reminders.deadline_reminders_send()
    assert ("regional_manager", "goal_off_track", f"deadline:{goal.id}:1") in keys()


def test_deadline_reminders_run_twice_deliver_once(rep_a, manager_a, eager_celery, django_capture_on_commit_callbacks):
    make_goal(owner_user=rep_a, due_date=_due_in(3), health=Health.OFF_TRACK)
    for hour in (9, 10):
        with time_machine.travel(at(FRIDAY, hour), tick=False), django_capture_on_commit_callbacks(execute=True):
            reminders.deadline_reminders_send()
    assert Notification.objects.count() == 2 and len(mail.outbox) == 2


def test_due_in_n_days_is_counted_in_the_org_timezone(rep_a, settings):
    settings.TIME_ZONE = "Pacific/Auckland"  # UTC+13 in November: Friday 12:00 UTC is Saturday 01:00 there
    goal = make_goal(owner_user=rep_a, due_date=_due_in(3, today=SATURDAY))
    make_goal(owner_user=rep_a, due_date=_due_in(3, today=FRIDAY))
    with time_machine.travel(at(FRIDAY, 12), tick=False):
        reminders.deadline_reminders_send()
    assert keys() == [("ray_rep_a", "deadline_reminder", f"deadline:{goal.id}:3")]


def test_choosing_deadline_recipients_costs_the_same_queries_for_5_or_50_goals(team_a, manager_a):
    # Expected: the due goals; the owners' memberships; the team tree; the managers; the goals' figures (the
    # owners' rep teams, the calendars: team tree with weekdays, holidays); the keys already sent.
    counts = []
    for n in (5, 50):
        Goal.objects.all().delete()
        for i in range(n):
            make_goal(
                owner_user=make_rep(TeamFactory()) if i % 2 else make_rep(team_a),
                due_date=_due_in(3),
                health=Health.OFF_TRACK,
            )
        Notification.objects.all().delete()
        with time_machine.travel(at(FRIDAY, 9), tick=False):
            counts.append(_queries(reminders.deadline_reminders_send))
        # every owner, and manager_a for team A's off-track goals
        assert Notification.objects.count() == n + (n + 1) // 2
    assert counts[0] == counts[1] <= 13


# --- weekly manager digest ----------------------------------------------------------------------------


@pytest.fixture
def digest_team(team_a, manager_a, rep_a):
    manager_a.timezone = "Europe/Paris"  # UTC+1 in November: Monday 08:00 local is 07:00 UTC
    manager_a.save()
    quiet = make_rep(team_a, username="quiet_rep", first_name="Quentin", last_name="Quiet")
    make_entry(user=rep_a, date=MONDAY - datetime.timedelta(days=3))  # logged last week
    make_entry(user=quiet, date=MONDAY - datetime.timedelta(days=10))  # only the week before
    make_goal(owner_user=rep_a, title="Ray's demos", current_value=Decimal(50), health=Health.ON_TRACK)
    make_goal(owner_user=quiet, title="Quentin's calls", current_value=Decimal(20), health=Health.OFF_TRACK)
    make_goal(
        owner_team=team_a, created_by=manager_a, title="Team revenue", current_value=Decimal(40), health=Health.AT_RISK
    )
    return team_a


def test_manager_gets_the_weekly_digest_on_monday_at_8_local(
    digest_team, manager_a, eager_celery, django_capture_on_commit_callbacks
):
    with time_machine.travel(at(MONDAY, 6, 59), tick=False):
        assert reminders.manager_digests_send() == 0
    with time_machine.travel(at(MONDAY, 7, 0), tick=False), django_capture_on_commit_callbacks(execute=True):
        assert reminders.manager_digests_send() == 1
    digest = Notification.objects.get()
    assert (digest.user, digest.kind, digest.key) == (manager_a, "manager_digest", f"digest:{manager_a.id}:2026-W48")
    assert digest.url == f"/teams/{digest_team.id}/"
    body = digest.body
    # (50 + 20 + 40) / 3 = 36.67: rounded as every page rounds attainment, never truncated.
    assert "3 active goals, 37% average attainment (1 on track, 1 at risk, 1 off track)" in body
    assert "Ray's demos (ray_rep_a" not in body  # owners are shown by name
    assert "Team revenue" in body.split("At risk:")[1].split("Off track:")[0]
    assert "Quentin's calls" in body.split("Off track:")[1]
    assert "Not logged last week: Quentin Quiet" in body
    [email] = mail.outbox
    assert email.to == [manager_a.email] and "Quentin Quiet" in email.body


def test_the_digest_goes_once_a_week(digest_team, manager_a):
    for hour in (7, 8, 15):
        with time_machine.travel(at(MONDAY, hour), tick=False):
            reminders.manager_digests_send()
    assert Notification.objects.count() == 1
    with time_machine.travel(at(MONDAY + datetime.timedelta(days=7), 7), tick=False):
        reminders.manager_digests_send()
    assert Notification.objects.count() == 2


def test_no_digest_on_other_days(digest_team):
    for day in range(1, 7):
        with time_machine.travel(at(MONDAY + datetime.timedelta(days=day), 8), tick=False):
            assert reminders.manager_digests_send() == 0


def test_each_manager_gets_the_digest_at_8_in_their_own_timezone(digest_team, manager_a, team_b, manager_b):
    manager_b.timezone = "America/Los_Angeles"  # UTC-8: Monday 08:00 local is 16:00 UTC
    manager_b.save()
    with time_machine.travel(at(MONDAY, 7), tick=False):
        reminders.manager_digests_send()
    assert [k[0] for k in keys()] == ["mia_manager_a"]
    with time_machine.travel(at(MONDAY, 16), tick=False):
        reminders.manager_digests_send()
    assert [k[0] for k in keys()] == ["max_manager_b", "mia_manager_a"]
    assert "No active goals." in Notification.objects.get(user=manager_b).body


def test_the_digest_covers_sub_teams_and_leaves_out_other_teams(digest_team, manager_a, team_b, rep_b):
    sub = TeamFactory(name="Team A North", slug="a-north", parent=digest_team)
    north_rep = make_rep(sub, first_name="Nora", last_name="North")
    make_goal(owner_user=north_rep, title="North deals", health=Health.OFF_TRACK)
    make_goal(owner_user=rep_b, title="Team B secret", health=Health.OFF_TRACK)
    with time_machine.travel(at(MONDAY, 7), tick=False):
        reminders.manager_digests_send()
    body = Notification.objects.get(user=manager_a).body
    assert "North deals" in body and "Nora North" in body
    assert "Team B secret" not in body and str(rep_b) not in body


def test_choosing_and_building_digests_costs_the_same_queries_for_few_or_many(team_a):
    # Expected: timezones; due managers; keys already sent; team tree; reps; goals; the goals' figures (owners'
    # rep teams, calendars: team tree with weekdays, holidays); last week's loggers; the reps' calendars; the
    # delivery (keys, one INSERT, the new ids, in a savepoint).
    counts = []
    for n in (2, 20):
        Notification.objects.all().delete()
        for _ in range(n):
            team = TeamFactory()
            make_manager(team)
            rep = make_rep(team)
            make_goal(owner_user=rep)
        with time_machine.travel(at(MONDAY, 8), tick=False):
            counts.append(_queries(reminders.manager_digests_send))
        assert Notification.objects.count() == (2 if n == 2 else 22)
    assert counts[0] == counts[1] <= 17


def test_a_user_without_a_team_is_never_a_digest_recipient():
    UserFactory(username="loner", timezone="UTC")
    with time_machine.travel(at(MONDAY, 8), tick=False):
        assert reminders.manager_digests_send() == 0


def test_a_deadline_reminder_prints_the_figures_as_the_goal_page_does(rep_a):
    revenue = KpiFactory(name="Revenue", unit="currency", currency_code="USD", decimal_places=2)
    goal = make_goal(
        owner_user=rep_a,
        kpi=revenue,
        title="Q4 revenue",
        due_date=_due_in(3),
        target_value=Decimal("950000"),
        current_value=Decimal("656672.034"),
        forecast_value=Decimal("901234.5"),
        forecast_low=Decimal("880000"),
        forecast_high=Decimal("922000"),
        chance_pct=8,
        health=Health.AT_RISK,
    )
    with time_machine.travel(at(FRIDAY, 9), tick=False):
        reminders.deadline_reminders_send()
    body = Notification.objects.get(key=f"deadline:{goal.id}:3").body
    assert "So far: $656,672.03 of $950,000.00 Revenue (69%); it is at risk." in body  # the page's rounding
    assert "Forecast at the due date: $901,234.50 (likely $880,000.00 – $922,000.00), a 8% chance" in body
    # 293,327.966 left over Friday (today) and Monday = 146,663.983 a day, rounded up.
    assert "Still needed: $146,663.99 per working day with 2 working days left." in body
