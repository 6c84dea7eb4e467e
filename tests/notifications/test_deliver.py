"""notifications_deliver (notify() for a reminder chunk) and the batched email task: the same preferences and
once-per-(user, key) as notify(), a constant number of queries, each email sent once."""

import datetime
import smtplib
from types import SimpleNamespace

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.mail.backends.locmem import EmailBackend

from notifications import services
from notifications.models import Notification
from notifications.services import Message, notification_emails_send, notifications_deliver
from notifications.tasks import send_notification_email, send_notification_emails
from tests.factories import NotificationFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]

KIND = Notification.Kind.CHECKIN_REMINDER


def _message(user, key="checkin:1", url="/", **extra):
    return Message(user=user, kind=KIND, key=key, title="Log today", body="Nothing logged yet.", url=url, **extra)


def test_each_user_gets_one_notification_and_one_email(django_capture_on_commit_callbacks):
    users = [UserFactory() for _ in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_deliver(messages=[_message(u, key=f"checkin:{u.id}") for u in users]) == 3
        assert mail.outbox == []  # nothing leaves before the transaction commits
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in users)
    assert set(Notification.objects.values_list("email_status", "email_attempts")) == {("sent", 1)}


def test_delivering_twice_or_a_key_twice_in_one_call_delivers_once(django_capture_on_commit_callbacks):
    user = UserFactory()
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            delivered = notifications_deliver(messages=[_message(user), _message(user)])
    assert delivered == 0  # the second call found the key delivered
    assert Notification.objects.count() == 1 and len(mail.outbox) == 1


def test_a_key_notify_already_delivered_is_left_alone(django_capture_on_commit_callbacks):
    user = UserFactory()
    NotificationFactory(user=user, key="checkin:1", email_status="sent")
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_deliver(messages=[_message(user)]) == 0
    assert mail.outbox == []


def test_the_users_preferences_decide_like_notify(django_capture_on_commit_callbacks):
    off = UserFactory(notification_prefs={KIND: "off"})
    in_app = UserFactory(notification_prefs={KIND: "in_app"})
    no_address = UserFactory(email="")
    quiet = UserFactory(quiet_hours_start=datetime.time(22), quiet_hours_end=datetime.time(7), timezone="UTC")
    low_priority = UserFactory()
    messages = [_message(u, key=f"k:{u.id}") for u in (off, in_app, no_address, quiet)]
    messages.append(_message(low_priority, key=f"k:{low_priority.id}", email=False))
    at_23 = datetime.datetime(2026, 11, 20, 23, tzinfo=datetime.UTC)
    with time_machine.travel(at_23, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert notifications_deliver(messages=messages) == 4
    assert dict(Notification.objects.values_list("user_id", "email_status")) == {
        in_app.id: "",
        no_address.id: "skipped",
        quiet.id: "deferred",
        low_priority.id: "",
    }
    assert mail.outbox == []


def test_a_bad_url_is_refused_before_anything_is_stored():
    with pytest.raises(ValidationError):
        notifications_deliver(messages=[_message(UserFactory()), _message(UserFactory(), url="https://evil.example")])
    assert not Notification.objects.exists()


@pytest.mark.parametrize("n", [3, 300])
def test_delivering_costs_the_same_queries_for_3_or_300_users(n, django_assert_num_queries, notification_inserts):
    users = [UserFactory() for _ in range(n)]
    # A savepoint (the test's transaction), the keys already delivered, one INSERT (on PostgreSQL; SQLite's
    # parameter limit splits it), the new ids, the savepoint's release.
    with django_assert_num_queries(4 + notification_inserts(n)):
        assert notifications_deliver(messages=[_message(u, key=f"checkin:{u.id}") for u in users]) == n


def test_emails_are_queued_in_batches_of_EMAIL_BATCH(monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(services, "EMAIL_BATCH", 2)
    batches = []
    monkeypatch.setattr(send_notification_emails, "delay", lambda ids: batches.append(ids))
    users = [UserFactory() for _ in range(5)]
    with django_capture_on_commit_callbacks(execute=True):
        notifications_deliver(messages=[_message(u, key=f"checkin:{u.id}") for u in users])
    ids = sorted(Notification.objects.values_list("id", flat=True))
    assert batches == [ids[0:2], ids[2:4], ids[4:5]]


# --- the batch email task ---------------------------------------------------------------------------------


def _pending(n):
    return [NotificationFactory(email_status="pending").id for _ in range(n)]


def test_a_batch_sends_each_email_once_even_when_run_twice():
    ids = _pending(3)
    assert send_notification_emails.apply(args=[ids]).get() == 3
    assert send_notification_emails.apply(args=[ids]).get() == 3  # counted as handled, sent nothing more
    assert len(mail.outbox) == 3
    assert set(Notification.objects.values_list("email_status", "email_attempts")) == {("sent", 1)}


def test_a_transient_error_continues_as_that_emails_own_retried_task(monkeypatch):
    ids = _pending(3)
    send, calls = EmailBackend.send_messages, []

    def second_send_fails(self, messages):
        calls.append(messages)
        if len(calls) == 2:
            raise smtplib.SMTPServerDisconnected("gone")
        return send(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", second_send_fails)
    retried = []
    monkeypatch.setattr(
        send_notification_email, "apply_async", lambda args, countdown: retried.append((args[0], countdown))
    )
    assert send_notification_emails.apply(args=[ids]).get() == 2
    assert [notification_id for notification_id, _ in retried] == [ids[1]]
    assert 30 <= retried[0][1] <= 600  # the usual first backoff
    statuses = dict(Notification.objects.values_list("id", "email_status"))
    assert [statuses[i] for i in ids] == ["sent", "pending", "sent"]
    assert len(mail.outbox) == 2


def test_what_the_time_budget_leaves_goes_to_a_new_batch(monkeypatch):
    ids = _pending(3)
    clock = iter([0.0, 0.0, 200.0])  # the start, then before each send: the second finds the budget spent
    monkeypatch.setattr(services, "time", SimpleNamespace(monotonic=lambda: next(clock)))
    assert notification_emails_send(notification_ids=ids, budget_seconds=120) == ([], ids[1:])
    assert len(mail.outbox) == 1
