"""send_notification_email: at most one email per notification; transient errors retried, permanent ones recorded."""

import smtplib

import pytest
from celery.exceptions import Retry
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend

from notifications.tasks import RETRY_CAP_SECONDS, send_notification_email
from tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(rep_a):
    return NotificationFactory(user=rep_a, email_status="pending")


@pytest.fixture
def smtp_raises(monkeypatch):
    def install(exc):
        def send_messages(self, messages):
            raise exc

        monkeypatch.setattr(EmailBackend, "send_messages", send_messages)

    return install


@pytest.fixture
def retry_calls(monkeypatch):
    """Record self.retry(countdown=…) instead of publishing: the countdown is what is under test."""
    calls = []

    def retry(*, countdown):
        calls.append(countdown)
        return Retry(when=countdown)

    monkeypatch.setattr(send_notification_email, "retry", retry)
    return calls


def _run(notification_id, *, retries=0):
    """Run the task as a worker would on its `retries`-th retry."""
    send_notification_email.push_request(retries=retries, id=f"test-{retries}")
    try:
        return send_notification_email.run(notification_id)
    finally:
        send_notification_email.pop_request()


def test_sends_and_records_the_email(pending):
    assert _run(pending.id) == "sent"
    pending.refresh_from_db()
    assert (pending.email_status, pending.email_attempts, pending.email_error) == ("sent", 1, "")
    assert pending.emailed_at is not None and len(mail.outbox) == 1


def test_running_twice_sends_once(pending):
    assert _run(pending.id) == "sent"
    assert _run(pending.id) == "noop"
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("status", ["", "deferred", "sent", "failed", "skipped"])
def test_only_pending_emails_are_sent(rep_a, status):
    notification = NotificationFactory(user=rep_a, email_status=status)
    assert _run(notification.id) == "noop" and mail.outbox == []


def test_missing_notification_is_a_no_op():
    assert _run(987654) == "noop"


def test_address_removed_since_notify_is_skipped(pending):
    pending.user.email = ""
    pending.user.save()
    assert _run(pending.id) == "skipped" and mail.outbox == []


@pytest.mark.parametrize(
    "exc",
    [
        smtplib.SMTPServerDisconnected("Connection unexpectedly closed"),
        smtplib.SMTPConnectError(421, b"Too many connections"),
        smtplib.SMTPResponseException(451, b"Try again later"),
        smtplib.SMTPSenderRefused(452, b"Mailbox full", "pacer@localhost"),
        ConnectionRefusedError(111, "Connection refused"),
        TimeoutError("timed out"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_transient_error_is_retried_with_growing_backoff_capped_at_ten_minutes(pending, smtp_raises, retry_calls, exc):
    smtp_raises(exc)
    for retries in range(send_notification_email.max_retries):
        with pytest.raises(Retry):
            _run(pending.id, retries=retries)
        pending.refresh_from_db()
        assert pending.email_status == "pending" and pending.email_attempts == retries + 1
        assert type(exc).__name__ in pending.email_error

    assert retry_calls == sorted(retry_calls) and retry_calls[0] < retry_calls[-1]
    assert retry_calls[0] >= 30 and max(retry_calls) <= RETRY_CAP_SECONDS

    # Retries exhausted: recorded as failed, not retried again.
    assert _run(pending.id, retries=send_notification_email.max_retries) == "failed"
    pending.refresh_from_db()
    assert (pending.email_status, pending.email_attempts) == ("failed", 7)
    assert len(retry_calls) == send_notification_email.max_retries and mail.outbox == []


@pytest.mark.parametrize(
    "exc",
    [
        smtplib.SMTPRecipientsRefused({"ray@example.com": (550, b"No such user")}),
        smtplib.SMTPResponseException(554, b"Transaction failed"),
        smtplib.SMTPAuthenticationError(535, b"Bad credentials"),
        ValueError("a bug"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_permanent_error_is_recorded_and_not_retried(pending, smtp_raises, retry_calls, exc):
    smtp_raises(exc)
    assert _run(pending.id) == "failed"
    pending.refresh_from_db()
    assert (pending.email_status, pending.email_attempts, pending.emailed_at) == ("failed", 1, None)
    assert type(exc).__name__ in pending.email_error
    assert retry_calls == []


def test_failed_email_can_be_queued_again_by_an_admin(pending, smtp_raises, django_capture_on_commit_callbacks):
    from notifications.services import notification_emails_requeue

    pending.email_status, pending.email_error = "failed", "SMTPAuthenticationError: bad"
    pending.save()
    with django_capture_on_commit_callbacks() as callbacks:
        assert notification_emails_requeue(notification_ids=[pending.id]) == 1
    pending.refresh_from_db()
    assert (pending.email_status, pending.email_error, len(callbacks)) == ("pending", "", 1)
