"""The notifications page (with its HTMX row) and the settings page."""

import datetime

import pytest
from django.urls import reverse

from notifications.models import Notification
from tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db

LIST = reverse("notification_list")
SETTINGS = reverse("notification_settings")


@pytest.mark.parametrize("url", [LIST, SETTINGS])
def test_pages_need_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("count", [3, 60])
def test_list_query_count_does_not_grow_with_notifications(client, rep_a, rep_b, count, django_assert_num_queries):
    NotificationFactory.create_batch(count, user=rep_a)
    NotificationFactory(user=rep_b, title="Not yours")
    client.force_login(rep_a)
    # session, user, count (paginator), unread count (shared with the nav badge), one page of rows,
    # and the navigation's role checks (teams tree, managed teams, rep membership)
    with django_assert_num_queries(8):
        response = client.get(LIST)
    assert response.status_code == 200
    assert response.content.count(b'id="notification-') == min(count, 25)
    assert b"Not yours" not in response.content
    assert f"{count} unread".encode() in response.content


def test_list_pages_by_25_unread_first(client, rep_a):
    NotificationFactory.create_batch(30, user=rep_a, read_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC))
    unread = NotificationFactory(
        user=rep_a, title="Still unread", created_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    )
    client.force_login(rep_a)
    first = client.get(LIST).content.decode()
    assert first.index(f'id="notification-{unread.id}"') < first.index('id="notification-', first.index("Still unread"))
    assert "Page 1 of 2" in first
    assert client.get(LIST, {"page": 2}).content.count(b'id="notification-') == 6


def test_empty_list_says_so(client, rep_a):
    client.force_login(rep_a)
    assert b"No notifications yet" in client.get(LIST).content


def test_mark_read_with_htmx_returns_the_row_and_the_new_unread_count(client, rep_a):
    notification = NotificationFactory(user=rep_a, title="Deal closed")
    NotificationFactory(user=rep_a)
    client.force_login(rep_a)
    response = client.post(reverse("notification_mark_read", args=[notification.id]), headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith("<li") and "<html" not in html
    assert f'id="notification-{notification.id}"' in html and "Deal closed" in html and "Mark as read" not in html
    assert 'id="unread-badge"' in html and 'hx-swap-oob="true"' in html and "1 unread" in html
    # The header's badge too (a tester saw it stay at the old count): swapped out of band by its id.
    nav = html[html.index('id="nav-unread-badge"') :]
    assert nav.split(">", 1)[0].endswith('hx-swap-oob="true"') and nav.split(">", 1)[1].startswith("1<")
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_mark_read_without_htmx_goes_back_to_the_page_it_came_from(client, rep_a):
    notification = NotificationFactory(user=rep_a)
    client.force_login(rep_a)
    url = reverse("notification_mark_read", args=[notification.id])
    assert client.post(url, {"next": f"{LIST}?page=2"})["Location"] == f"{LIST}?page=2"
    assert client.post(url, {"next": "https://evil.example/"})["Location"] == LIST


def test_mark_read_of_another_users_notification_is_404(client, rep_a, rep_b):
    theirs = NotificationFactory(user=rep_b)
    client.force_login(rep_a)
    assert client.post(reverse("notification_mark_read", args=[theirs.id])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


@pytest.mark.parametrize("name", ["notification_mark_all_read", "notification_mark_read"])
def test_writes_refuse_get(client, rep_a, name):
    notification = NotificationFactory(user=rep_a)
    client.force_login(rep_a)
    args = [notification.id] if name == "notification_mark_read" else []
    assert client.get(reverse(name, args=args)).status_code == 405
    notification.refresh_from_db()
    assert notification.read_at is None


def test_writes_need_csrf(rep_a):
    from django.test import Client

    notification = NotificationFactory(user=rep_a)
    client = Client(enforce_csrf_checks=True)
    client.force_login(rep_a)
    assert client.post(reverse("notification_mark_read", args=[notification.id])).status_code == 403


def test_mark_all_read(client, rep_a, rep_b):
    NotificationFactory.create_batch(3, user=rep_a)
    theirs = NotificationFactory(user=rep_b)
    client.force_login(rep_a)
    response = client.post(reverse("notification_mark_all_read"), follow=True)
    assert b"Marked 3 notifications as read." in response.content
    assert not Notification.objects.filter(user=rep_a, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


# --- Settings -------------------------------------------------------------------------------------


def _settings_form(**changes):
    data = {
        "timezone": "Europe/Paris",
        "reminder_hour": "9",
        "quiet_hours_start": "22:00",
        "quiet_hours_end": "07:00",
        **{f"pref_{kind}": "email" for kind in Notification.Kind.values},
        "pref_manager_digest": "off",
        "pref_checkin_reminder": "in_app",
    }
    return {**data, **changes}


def test_settings_page_renders_with_a_fixed_query_count(client, rep_a, django_assert_num_queries):
    client.force_login(rep_a)
    # session, user, and the navigation's role checks (teams tree, managed teams, rep membership)
    with django_assert_num_queries(6):  # +1: nav unread badge
        response = client.get(SETTINGS)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="Europe/Paris"' in html and 'name="pref_award_granted"' in html


def test_settings_are_saved(client, rep_a):
    client.force_login(rep_a)
    response = client.post(SETTINGS, _settings_form(), follow=True)
    assert b"Your notification settings are saved." in response.content
    rep_a.refresh_from_db()
    assert (rep_a.timezone, rep_a.reminder_hour) == ("Europe/Paris", 9)
    assert (rep_a.quiet_hours_start, rep_a.quiet_hours_end) == (datetime.time(22), datetime.time(7))
    assert rep_a.notification_prefs["manager_digest"] == "off"
    assert rep_a.notification_prefs["checkin_reminder"] == "in_app"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "timezone", "Select a valid choice"),
        ({"reminder_hour": "24"}, "reminder_hour", "Select a valid choice"),
        ({"quiet_hours_end": ""}, "quiet_hours_end", "Set both the start and the end"),
        ({"pref_award_granted": "pager"}, "pref_award_granted", "Select a valid choice"),
    ],
)
def test_settings_form_shows_errors_in_place_and_changes_nothing(client, rep_a, changes, field, message):
    client.force_login(rep_a)
    response = client.post(SETTINGS, _settings_form(**changes))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    html = response.content.decode()
    assert "is-invalid" in html and message in html
    rep_a.refresh_from_db()
    assert (rep_a.timezone, rep_a.reminder_hour, rep_a.notification_prefs) == ("UTC", 16, {})
