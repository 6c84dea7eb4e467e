"""feedback's weekly jobs fan out like the reminders (notifications.fanout): the periodic task enqueues chunks of
the due ids, and a rerun or a duplicate chunk delivers nothing twice."""

import datetime

import pytest
import time_machine
from django.core import mail

from feedback import services, tasks
from notifications import fanout
from notifications.models import Notification

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]

THURSDAY_5PM = datetime.datetime(2026, 3, 12, 17, 0, tzinfo=datetime.UTC)
FRIDAY_330PM = datetime.datetime(2026, 3, 13, 15, 30, tzinfo=datetime.UTC)


def test_weekly_checkin_reminders_go_out_in_chunks_once_each(
    personas, rep_goal, rep_b_goal, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(fanout, "FAN_OUT_CHUNK", 1)
    with time_machine.travel(THURSDAY_5PM, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert tasks.send_weekly_checkin_reminders.apply().get() == 2  # one chunk per rep
        with django_capture_on_commit_callbacks(execute=True):
            assert tasks.send_weekly_checkin_reminders.apply().get() == 0  # nobody left
        chunk = {"ids": [personas.rep_a.id, personas.rep_b.id], "now": THURSDAY_5PM.isoformat()}
        with django_capture_on_commit_callbacks(execute=True):
            assert tasks.send_weekly_checkin_reminder_chunk.apply(kwargs=chunk).get() == 0  # a duplicate chunk
    reminded = Notification.objects.filter(kind=Notification.Kind.CHECKIN_REMINDER)
    assert sorted(reminded.values_list("user_id", "email_status")) == sorted(
        [(personas.rep_a.id, "sent"), (personas.rep_b.id, "sent")]
    )
    assert sorted(m.to[0] for m in mail.outbox) == sorted([personas.rep_a.email, personas.rep_b.email])


def test_the_feedback_digest_chunk_run_twice_sends_one_digest(personas, rep_goal, django_capture_on_commit_callbacks):
    services.adjustment_request_create(
        goal=rep_goal, requested_by=personas.rep_a, proposed_target=90, reason="Slipped deal"
    )
    with time_machine.travel(FRIDAY_330PM, tick=False):
        assert services.feedback_digests_due_ids(now=FRIDAY_330PM) == [personas.manager_a.id]
        for _ in range(2):  # the periodic run, then a redelivered copy of its chunk
            with django_capture_on_commit_callbacks(execute=True):
                tasks.send_feedback_digest_chunk.apply(
                    kwargs={"ids": [personas.manager_a.id], "now": FRIDAY_330PM.isoformat()}
                ).get()
    digest = Notification.objects.get(user=personas.manager_a, key__startswith="feedback-digest:")
    assert digest.email_status == "sent"
    assert [m.to for m in mail.outbox if "coaching item" in m.subject] == [[personas.manager_a.email]]
