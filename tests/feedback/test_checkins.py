"""Weekly check-ins: one per goal per ISO week (what a re-submit replaced is kept), the snapshot of the figures,
the confidence alerts sent once, and the weekly reminder that does not nag a rep who already checked in."""

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from feedback import selectors, services
from feedback.models import CheckIn
from notifications.models import Notification

pytestmark = pytest.mark.django_db

NEXT_WEEK = datetime.date(2026, 3, 18)


def _alerts(manager):
    return Notification.objects.filter(user=manager, key__startswith="checkin-alert:")


def test_one_check_in_per_goal_and_week_and_a_resubmit_keeps_what_it_replaced(personas, rep_goal):
    first = services.checkin_submit(goal=rep_goal, rep=personas.rep_a, confidence=7, blockers="", note="Fine")
    again = services.checkin_submit(goal=rep_goal, rep=personas.rep_a, confidence=6, blockers="Pricing", note="")
    assert again.id == first.id and CheckIn.objects.count() == 1
    again.refresh_from_db()
    assert (again.confidence, again.blockers, again.week_start) == (6, "Pricing", datetime.date(2026, 3, 9))
    assert [(h["confidence"], h["note"]) for h in again.history] == [(7, "Fine")]
    later = services.checkin_submit(goal=rep_goal, rep=personas.rep_a, confidence=8, today=NEXT_WEEK)
    assert later.id != first.id and later.week_start == datetime.date(2026, 3, 16)


def test_the_snapshot_holds_the_goals_figures_from_the_engine(personas, rep_goal):
    checkin = services.checkin_submit(goal=rep_goal, rep=personas.rep_a, confidence=7)
    assert checkin.snapshot["current"] == str(rep_goal.current_value)
    assert checkin.snapshot["target"] == str(rep_goal.target_value)
    assert checkin.snapshot["attainment"] == "25.0"
    assert checkin.snapshot["health"] == rep_goal.health


@pytest.mark.parametrize("confidence", [-1, 11, None])
def test_confidence_outside_0_to_10_is_refused(personas, rep_goal, confidence):
    with pytest.raises(ValidationError, match="from 0"):
        services.checkin_submit(goal=rep_goal, rep=personas.rep_a, confidence=confidence)
    assert not CheckIn.objects.exists()


def test_only_the_goals_rep_checks_in(personas, rep_goal):
    for who in (personas.manager_a, personas.rep_b):
        with pytest.raises(PermissionDenied):
            services.checkin_submit(goal=rep_goal, rep=who, confidence=5)


def test_low_confidence_alerts_the_manager_once_even_when_resubmitted(personas, rep_goal):
    services.checkin_submit(goal=rep_goal, rep=personas.rep_a, confidence=3, blockers="Lost the Initech deal")
    services.checkin_submit(goal=rep_goal, rep=personas.rep_a, confidence=2)
    alerts = list(_alerts(personas.manager_a))
    assert len(alerts) == 1
    assert "3/10" in alerts[0].title and "Initech" in alerts[0].body
    assert not _alerts(personas.manager_b).exists()
    assert not _alerts(personas.rep_a).exists()


def test_a_drop_of_three_points_alerts_and_a_smaller_one_does_not(personas, rep_goal):
    services.checkin_submit(goal=rep_goal, rep=personas.rep_a, confidence=9, today=datetime.date(2026, 3, 4))
    services.checkin_submit(goal=rep_goal, rep=personas.rep_a, confidence=7)  # down 2: fine
    assert not _alerts(personas.manager_a).exists()
    services.checkin_submit(goal=rep_goal, rep=personas.rep_a, confidence=6, today=NEXT_WEEK)  # down 1 from 7
    assert not _alerts(personas.manager_a).exists()
    services.checkin_submit(goal=rep_goal, rep=personas.rep_a, confidence=4, today=NEXT_WEEK)  # 7 → 4: down 3
    alert = _alerts(personas.manager_a).get()
    assert "down 3 from 7" in alert.body


def test_the_thread_rep_and_manager_reply_and_outsiders_cannot(personas, rep_goal):
    checkin = services.checkin_submit(goal=rep_goal, rep=personas.rep_a, confidence=4, blockers="Demos")
    services.checkin_reply(checkin=checkin, author=personas.manager_a, body="Shadow Ben on Tuesday?")
    services.checkin_reply(checkin=checkin, author=personas.rep_a, body="Yes please")
    assert list(checkin.replies.values_list("body", flat=True)) == ["Shadow Ben on Tuesday?", "Yes please"]
    assert Notification.objects.filter(user=personas.rep_a, key__startswith="checkin-reply:").count() == 1
    to_manager = Notification.objects.get(user=personas.manager_a, key__startswith="checkin-reply:")
    assert to_manager.email_status == Notification.EmailStatus.NONE  # low priority: bundled into the digest
    for who in (personas.rep_b, personas.manager_b):
        with pytest.raises(PermissionDenied):
            services.checkin_reply(checkin=checkin, author=who, body="Hi")


def test_the_confidence_trend_goes_week_by_week_beside_attainment(personas, rep_goal):
    for day, confidence in ((datetime.date(2026, 3, 4), 8), (datetime.date(2026, 3, 11), 5)):
        services.checkin_submit(goal=rep_goal, rep=personas.rep_a, confidence=confidence, today=day)
    trend = selectors.confidence_trend(goal=rep_goal)
    assert [(p.week_start.day, p.confidence) for p in trend] == [(2, 8), (9, 5)]
    assert selectors.confidence_flag(trend) == "falling"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_submits_make_one_check_in_and_keep_the_other(personas, rep_goal):
    from tests.concurrency import run_in_threads

    results, errors = run_in_threads(
        lambda: services.checkin_submit(goal=rep_goal, rep=personas.rep_a, confidence=2), count=2
    )
    assert errors == [] and len(results) == 2
    checkin = CheckIn.objects.get(goal=rep_goal)
    assert len(checkin.history) == 1
    assert Notification.objects.filter(key=f"checkin-alert:{checkin.id}").count() == 1


# --- the weekly reminder ----------------------------------------------------------------------------------------

THURSDAY_5PM = datetime.datetime(2026, 3, 12, 17, 0, tzinfo=datetime.UTC)


def test_weekly_reminder_skips_a_rep_who_already_checked_in_this_week(personas, rep_goal, rep_b_goal):
    services.checkin_submit(goal=rep_goal, rep=personas.rep_a, confidence=7)
    with time_machine.travel(THURSDAY_5PM, tick=False):
        assert services.checkin_weekly_reminders_send() == 1
        assert services.checkin_weekly_reminders_send() == 0  # idempotent: a rerun sends nothing
    reminded = Notification.objects.filter(kind=Notification.Kind.CHECKIN_REMINDER)
    assert [n.user for n in reminded] == [personas.rep_b]
    assert reminded[0].key == f"weekly-checkin:{personas.rep_b.id}:2026-03-09"


def test_weekly_reminder_waits_for_thursday_and_the_reps_hour(personas, rep_goal):
    with time_machine.travel(datetime.datetime(2026, 3, 12, 15, 0, tzinfo=datetime.UTC), tick=False):
        assert services.checkin_weekly_reminders_send() == 0  # 15:00 < reminder hour 16
    with time_machine.travel(datetime.datetime(2026, 3, 11, 18, 0, tzinfo=datetime.UTC), tick=False):
        assert services.checkin_weekly_reminders_send() == 0  # Wednesday
    with time_machine.travel(THURSDAY_5PM, tick=False):
        assert services.checkin_weekly_reminders_send() == 1


def test_the_feedback_digest_bundles_a_managers_unread_low_priority_items(personas, rep_goal):
    services.adjustment_request_create(
        goal=rep_goal, requested_by=personas.rep_a, proposed_target=90, reason="Slipped deal"
    )
    with time_machine.travel(datetime.datetime(2026, 3, 13, 15, 30, tzinfo=datetime.UTC), tick=False):
        assert services.feedback_digests_send() == 1
        assert services.feedback_digests_send() == 0
    digest = Notification.objects.get(user=personas.manager_a, key__startswith="feedback-digest:")
    assert "asks to adjust “March deals”" in digest.body
    assert digest.email_status == Notification.EmailStatus.PENDING  # one email, queued after commit
