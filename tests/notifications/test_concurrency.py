"""Real races on PostgreSQL: two jobs notifying at once, two workers sending the same email at once."""

import threading
import time

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend

from notifications.models import Notification
from notifications.services import notify
from notifications.tasks import send_notification_email
from tests.concurrency import run_in_threads
from tests.factories import NotificationFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_notify_with_the_same_key_makes_one_row_and_one_email(eager_celery, monkeypatch):
    user = UserFactory()
    # Hold both calls until each has checked "already there?" and found nothing: both then insert.
    barrier = threading.Barrier(2, timeout=10)
    full_clean = Notification.full_clean

    def full_clean_then_wait(self, *args, **kwargs):
        full_clean(self, *args, **kwargs)
        barrier.wait()

    monkeypatch.setattr(Notification, "full_clean", full_clean_then_wait)

    def call():
        return notify(user=user, kind="deadline_reminder", key="deadline:goal-1:3d", title="Due in 3 days", body="").id

    results, errors = run_in_threads(call)
    assert errors == []
    assert len(results) == 2 and results[0] == results[1]
    assert Notification.objects.filter(user=user).count() == 1
    assert len(mail.outbox) == 1


def test_two_workers_sending_the_same_email_send_it_once(monkeypatch):
    notification = NotificationFactory(user=UserFactory(), email_status="pending")
    send_messages = EmailBackend.send_messages

    def slow_send_messages(self, messages):
        time.sleep(0.3)  # the second worker arrives while the first is still talking to the mail server
        return send_messages(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", slow_send_messages)
    results, errors = run_in_threads(lambda: send_notification_email(notification.id))
    assert errors == []
    assert sorted(results) == ["noop", "sent"]
    assert len(mail.outbox) == 1
