"""notify(): one row and at most one email per (user, key), by the user's preferences, after commit."""

import contextlib
import datetime

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from kombu.exceptions import OperationalError

from notifications.models import Notification
from notifications.selectors import in_quiet_hours
from notifications.services import notify
from notifications.tasks import send_deferred_emails, send_notification_email
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]

UTC = datetime.UTC
KIND = Notification.Kind.FEEDBACK_RECEIVED


def _notify(user, key="feedback:1", kind=KIND, **extra):
    return notify(
        user=user, kind=kind, key=key, title="Mia left you feedback", body="Great demo!", url="/goals/7/", **extra
    )


def test_notify_records_one_notification_and_sends_one_email(rep_a, django_capture_on_commit_callbacks, settings):
    settings.SITE_URL = "https://pacer.example.com"
    with django_capture_on_commit_callbacks(execute=True):
        notification = _notify(rep_a)
        assert mail.outbox == []  # nothing leaves before the transaction commits

    notification.refresh_from_db()
    assert Notification.objects.count() == 1
    assert (notification.email_status, notification.email_attempts) == ("sent", 1)
    assert notification.emailed_at is not None and notification.read_at is None
    [email] = mail.outbox
    assert email.to == [rep_a.email]
    assert email.subject == "New feedback: Mia left you feedback"
    assert "Great demo!" in email.body and "https://pacer.example.com/goals/7/" in email.body
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html" and 'href="https://pacer.example.com/goals/7/"' in html


def test_notify_twice_with_the_same_key_delivers_once(rep_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = _notify(rep_a)
        second = _notify(rep_a)
    assert first.id == second.id
    assert Notification.objects.count() == 1 and len(mail.outbox) == 1


def test_the_same_key_for_two_users_reaches_both(rep_a, rep_b, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _notify(rep_a)
        _notify(rep_b)
    assert Notification.objects.count() == 2 and len(mail.outbox) == 2


def test_kind_turned_off_reaches_nothing(rep_a, django_capture_on_commit_callbacks):
    rep_a.notification_prefs = {KIND: "off"}
    with django_capture_on_commit_callbacks(execute=True):
        assert _notify(rep_a) is None
    assert not Notification.objects.exists() and mail.outbox == []


def test_in_app_only_records_the_notification_without_email(rep_a, django_capture_on_commit_callbacks):
    rep_a.notification_prefs = {KIND: "in_app"}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notification = _notify(rep_a)
    assert notification.email_status == "" and callbacks == [] and mail.outbox == []


def test_user_without_email_address_gets_in_app_only(django_capture_on_commit_callbacks):
    user = UserFactory(email="")
    with django_capture_on_commit_callbacks(execute=True):
        notification = _notify(user)
    assert notification.email_status == "skipped" and mail.outbox == []


@pytest.mark.parametrize("kind", Notification.Kind.values)
def test_every_kind_has_its_own_email_with_a_link_back(kind, rep_a, django_capture_on_commit_callbacks, settings):
    settings.SITE_URL = "https://pacer.example.com/"
    with django_capture_on_commit_callbacks(execute=True):
        notify(user=rep_a, kind=kind, key=kind, title="Q3 pipeline", body="Line one\nLine <two>", url="/goals/7/")
    [email] = mail.outbox
    assert "Q3 pipeline" in email.subject and "\n" not in email.subject
    assert "https://pacer.example.com/goals/7/" in email.body
    assert "Line <two>" in email.body  # plain text is not HTML-escaped
    html = email.alternatives[0][0]
    assert "Line &lt;two&gt;" in html and "https://pacer.example.com/notifications/settings/" in html


def test_notification_without_url_links_to_the_notification_list(rep_a, django_capture_on_commit_callbacks, settings):
    settings.SITE_URL = "https://pacer.example.com"
    with django_capture_on_commit_callbacks(execute=True):
        notify(user=rep_a, kind=KIND, key="k", title="Hello", body="")
    assert "https://pacer.example.com/notifications/" in mail.outbox[0].body


@pytest.mark.parametrize(
    ("field", "extra"),
    [
        ("kind", {"kind": "carrier_pigeon"}),
        ("url", {"url": "https://evil.example/"}),
        ("url", {"url": "//evil.example/"}),
    ],
)
def test_notify_refuses_unknown_kind_and_offsite_links(rep_a, field, extra):
    arguments = {"user": rep_a, "kind": KIND, "key": "k", "title": "t", "body": "b", **extra}
    with pytest.raises(ValidationError) as error:
        notify(**arguments)
    assert field in error.value.message_dict
    assert not Notification.objects.exists()


# --- Quiet hours ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "local", "inside"),
    [
        ("22:00", "07:00", "23:30", True),
        ("22:00", "07:00", "06:59", True),
        ("22:00", "07:00", "07:00", False),  # the end is not part of the window
        ("22:00", "07:00", "12:00", False),
        ("09:00", "17:00", "09:00", True),
        ("09:00", "17:00", "17:00", False),
        (None, None, "23:30", False),
        ("08:00", "08:00", "08:00", False),  # an empty window
    ],
)
def test_quiet_hours_may_wrap_past_midnight(start, end, local, inside):
    user = UserFactory.build(
        timezone="Europe/Paris",
        quiet_hours_start=start and datetime.time.fromisoformat(start),
        quiet_hours_end=end and datetime.time.fromisoformat(end),
    )
    hour, minute = map(int, local.split(":"))
    paris_winter = datetime.datetime(2026, 1, 14, hour, minute, tzinfo=datetime.timezone(datetime.timedelta(hours=1)))
    assert in_quiet_hours(user=user, at=paris_winter) is inside


@pytest.fixture
def committed_at(django_capture_on_commit_callbacks):
    """Run a block at `moment` and then its on-commit callbacks (the queued emails), as a commit would."""

    @contextlib.contextmanager
    def travel(moment):
        with time_machine.travel(moment, tick=False), django_capture_on_commit_callbacks(execute=True) as callbacks:
            yield callbacks

    return travel


def test_email_in_quiet_hours_waits_until_they_end(committed_at):
    # Paris is UTC+1 in January; quiet from 22:00 to 07:00 there.
    user = UserFactory(timezone="Europe/Paris", quiet_hours_start=datetime.time(22), quiet_hours_end=datetime.time(7))
    with committed_at(datetime.datetime(2026, 1, 14, 22, 30, tzinfo=UTC)) as callbacks:  # 23:30 in Paris
        notification = _notify(user)
    assert notification.email_status == "deferred" and callbacks == [] and mail.outbox == []

    with committed_at(datetime.datetime(2026, 1, 15, 5, 0, tzinfo=UTC)):  # 06:00 in Paris
        assert send_deferred_emails() == 0
    assert mail.outbox == []

    with committed_at(datetime.datetime(2026, 1, 15, 6, 5, tzinfo=UTC)):  # 07:05 in Paris
        assert send_deferred_emails() == 1
    notification.refresh_from_db()
    assert notification.email_status == "sent" and len(mail.outbox) == 1


# --- Broker outages -------------------------------------------------------------------------------


def _broker_down(*args, **kwargs):
    raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def test_broker_down_does_not_fail_notify_and_leaves_the_email_pending(
    rep_a, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    monkeypatch.setattr(send_notification_email, "apply_async", _broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        notification = _notify(rep_a)  # does not raise
    notification.refresh_from_db()
    assert notification.email_status == "pending" and mail.outbox == []
    assert "Could not queue the email" in caplog.text


def test_emails_lost_in_a_broker_outage_are_queued_again_after_ten_minutes(rep_a, committed_at, monkeypatch):
    start = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with monkeypatch.context() as patched, committed_at(start):
        patched.setattr(send_notification_email, "apply_async", _broker_down)
        notification = _notify(rep_a)

    with committed_at(start + datetime.timedelta(minutes=5)):
        assert send_deferred_emails() == 0  # may still be on its way: not queued twice
    with committed_at(start + datetime.timedelta(minutes=11)):
        assert send_deferred_emails() == 1
    notification.refresh_from_db()
    assert notification.email_status == "sent" and len(mail.outbox) == 1
