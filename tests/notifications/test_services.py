"""Reading and marking notifications, and saving a user's delivery preferences."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from notifications import selectors, services
from notifications.context_processors import unread
from notifications.models import Notification
from tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db


def test_list_shows_unread_first_then_newest_and_only_mine(rep_a, rep_b):
    now = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
    old_unread = NotificationFactory(user=rep_a, created_at=now - datetime.timedelta(days=2))
    new_read = NotificationFactory(user=rep_a, created_at=now, read_at=now)
    new_unread = NotificationFactory(user=rep_a, created_at=now - datetime.timedelta(hours=1))
    NotificationFactory(user=rep_b)
    assert list(selectors.notification_list_for_user(user=rep_a)) == [new_unread, old_unread, new_read]
    assert selectors.unread_count(user=rep_a) == 2


def test_mark_read_keeps_the_first_read_time(rep_a):
    notification = NotificationFactory(user=rep_a)
    first = services.notification_mark_read(user=rep_a, notification_id=notification.id).read_at
    services.notification_mark_read(user=rep_a, notification_id=notification.id)
    notification.refresh_from_db()
    assert first is not None and notification.read_at == first


def test_mark_read_of_another_users_notification_is_404(rep_a, rep_b):
    theirs = NotificationFactory(user=rep_b)
    with pytest.raises(Http404):
        services.notification_mark_read(user=rep_a, notification_id=theirs.id)
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read_touches_only_my_unread(rep_a, rep_b):
    NotificationFactory.create_batch(3, user=rep_a)
    theirs = NotificationFactory(user=rep_b)
    assert services.notifications_mark_all_read(user=rep_a) == 3
    assert selectors.unread_count(user=rep_a) == 0
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_unread_badge_is_counted_lazily(rf, rep_a, django_assert_num_queries):
    NotificationFactory.create_batch(2, user=rep_a)
    request = rf.get("/")
    request.user = rep_a
    with django_assert_num_queries(0):
        badge = unread(request)["unread_notifications"]
    with django_assert_num_queries(1):
        assert badge == 2


def test_anonymous_visitor_has_no_badge(rf):
    from django.contrib.auth.models import AnonymousUser

    request = rf.get("/")
    request.user = AnonymousUser()
    assert unread(request) == {"unread_notifications": 0}


# --- Preferences ----------------------------------------------------------------------------------

VALID = {
    "prefs": {"checkin_reminder": "in_app", "manager_digest": "off"},
    "quiet_hours_start": datetime.time(22),
    "quiet_hours_end": datetime.time(7),
    "reminder_hour": 17,
    "timezone": "America/New_York",
}


def test_prefs_update_saves_and_merges_channels(rep_a):
    rep_a.notification_prefs = {"award_granted": "off"}
    rep_a.save()
    services.notification_prefs_update(user=rep_a, **VALID)
    rep_a.refresh_from_db()
    assert rep_a.notification_prefs == {"award_granted": "off", "checkin_reminder": "in_app", "manager_digest": "off"}
    assert (rep_a.timezone, rep_a.reminder_hour) == ("America/New_York", 17)
    assert (rep_a.quiet_hours_start, rep_a.quiet_hours_end) == (datetime.time(22), datetime.time(7))
    assert selectors.notification_channel(user=rep_a, kind="goal_closed") == "email"  # not chosen: email


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"prefs": {"smoke_signal": "email"}}, "notification_prefs", "“smoke_signal” is not a notification kind"),
        ({"prefs": {"award_granted": "pager"}}, "notification_prefs", "choose in_app, email or off"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone", "not an IANA timezone"),
        ({"reminder_hour": 24}, "reminder_hour", "less than or equal to 23"),
        ({"quiet_hours_end": None}, "quiet_hours_end", "Set both the start and the end"),
        ({"quiet_hours_end": datetime.time(22)}, "quiet_hours_end", "different time"),
    ],
)
def test_prefs_update_refuses_bad_values_and_changes_nothing(rep_a, change, field, message):
    with pytest.raises(ValidationError) as error:
        services.notification_prefs_update(user=rep_a, **{**VALID, **change})
    assert message in " ".join(error.value.message_dict[field])
    assert (rep_a.timezone, rep_a.notification_prefs) == ("UTC", {})  # the object in hand is untouched too
    rep_a.refresh_from_db()
    assert (rep_a.timezone, rep_a.reminder_hour, rep_a.notification_prefs, rep_a.quiet_hours_start) == (
        "UTC",
        16,
        {},
        None,
    )


def test_garbled_preference_falls_back_to_email(rep_a):
    rep_a.notification_prefs = {"award_granted": "carrier pigeon"}
    assert selectors.notification_channel(user=rep_a, kind="award_granted") == Notification.Channel.EMAIL
