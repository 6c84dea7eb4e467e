"""Reminders and the weekly digest: who is due is set-based, delivery is in bulk, the jobs fan out.

Who is due is decided by goals.selectors (`deadline_deliveries`, `checkin_deliveries`, `digest_deliveries`); what
they read is written in templates (templates/emails/<kind>_title.txt for the notification's title,
<kind>_message.txt for its text; the email wraps them in <kind>_subject.txt, _body.txt and _body.html), with the
same figures and filters as the pages (goals.figures, goals/templatetags/pacer.py) and links by reverse().

The periodic tasks only find the ids due (`*_due_ids`) and fan them out (notifications.fanout) to chunk tasks
that call the `*_send` functions with those ids and the run's `now`; called without ids, a `*_send` does the
whole run in-process (the demo, the tests). Each call delivers its notifications with
notifications_deliver (one transaction, a constant number of queries, emails queued in batches after commit).

Idempotent: every notification has a deterministic key and a (user, key) is delivered once, so a job that
runs twice, concurrently, or is redelivered after a crash sends nothing twice. A chunk commits on its own, so a
job that dies half-way keeps what its finished chunks delivered and its re-run delivers only the rest.
"""

import datetime

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification
from notifications.services import Message, notifications_deliver
from teams.calendar import org_today

from ..selectors import (
    checkin_deliveries,
    deadline_deliveries,
    deadline_goal_ids,
    digest_deliveries,
    digest_manager_ids,
)

Kind = Notification.Kind
TITLE_MAX = 200  # Notification.title


def reminder_message(*, user, kind: str, key: str, url: str, **context) -> Message:
    """Render the kind's title and text (templates/emails/<kind>_title.txt, _message.txt) for `user` with
    `context`, as a Message for notifications_deliver."""
    context = {"user": user, **context}
    title = " ".join(render_to_string(f"emails/{kind}_title.txt", context).split())
    body = render_to_string(f"emails/{kind}_message.txt", context).strip()
    if len(title) > TITLE_MAX:
        title = title[: TITLE_MAX - 1] + "…"
    return Message(user=user, kind=kind, key=key, title=title, body=body, url=url)


def reminder_notify(*, user, kind: str, key: str, url: str, **context) -> bool:
    """One rendered reminder (reminder_message), delivered; True when a notification was made."""
    return notifications_deliver(messages=[reminder_message(user=user, kind=kind, key=key, url=url, **context)]) > 0


def deadline_reminders_due_ids(*, now: datetime.datetime) -> list[int]:
    """The goals whose deadline reminders may be due now (the hourly job's fan-out)."""
    return deadline_goal_ids(today=org_today(now))


def deadline_reminders_send(*, now: datetime.datetime | None = None, goal_ids=None) -> int:
    """Goals due in N days and not achieved (only `goal_ids` if given), to their owners; off-track ones to the
    managers too (see goals.selectors.deadline_deliveries). Returns how many notifications were delivered."""
    today = org_today(now or timezone.now())
    url = {}
    return notifications_deliver(
        messages=[
            reminder_message(
                user=d.user,
                kind=d.kind,
                key=d.key,
                url=url.setdefault(d.goal.id, reverse("goal_detail", args=[d.goal.id])),
                goal=d.goal,
                figures=d.goal.figures,
                days=d.days,
            )
            for d in deadline_deliveries(today=today, goal_ids=goal_ids)
        ]
    )


def checkin_reminders_due_ids(*, now: datetime.datetime) -> list[int]:
    """The reps due a check-in reminder now and not yet reminded (goals.selectors.checkin_deliveries; the
    15-minute job's fan-out: its runs after the first that day find nobody left)."""
    return sorted({d.user.id for d in checkin_deliveries(now=now)})


def checkin_reminders_send(*, now: datetime.datetime | None = None, user_ids=None) -> int:
    """One check-in reminder per rep and local date, to the reps goals.selectors.checkin_due_memberships finds
    (only among `user_ids` if given). Returns how many were sent."""
    url = reverse("today")
    return notifications_deliver(
        messages=[
            reminder_message(user=d.user, kind=Kind.CHECKIN_REMINDER, key=d.key, url=url, day=d.day)
            for d in checkin_deliveries(now=now or timezone.now(), user_ids=user_ids)
        ]
    )


def manager_digests_due_ids(*, now: datetime.datetime) -> list[int]:
    """The managers who may be due the weekly digest now (the hourly job's fan-out)."""
    return digest_manager_ids(now=now)


def manager_digests_send(*, now: datetime.datetime | None = None, user_ids=None) -> int:
    """The weekly digest to each manager due now (goals.selectors.digest_deliveries; only among `user_ids` if
    given). Rewards are not in it yet (the rewards app does not exist). Returns how many digests were sent."""
    messages = []
    for d in digest_deliveries(now=now or timezone.now(), user_ids=user_ids):
        url = reverse("team_detail", args=[d.teams[0].id]) if len(d.teams) == 1 else reverse("team_list")
        messages.append(reminder_message(user=d.user, kind=Kind.MANAGER_DIGEST, key=d.key, url=url, digest=d))
    return notifications_deliver(messages=messages)
