"""Reminders and the weekly digest: thin loops over notify().

Who is due is decided by goals.selectors (`deadline_deliveries`, `checkin_deliveries`, `digest_deliveries`); what
they read is written in templates (templates/emails/<kind>_title.txt for the notification's title,
<kind>_message.txt for its text; the email wraps them in <kind>_subject.txt, _body.txt and _body.html), with the
same figures and filters as the pages (goals.figures, goals/templatetags/pacer.py) and links by reverse().

Idempotent: every notification has a deterministic key and notify() delivers a (user, key) once, so a job that
runs twice, concurrently, or is redelivered after a crash sends nothing twice. There is deliberately no
transaction around a whole fan-out: each notify() commits on its own, so a job that dies half-way keeps what it
delivered and its re-run (acks_late) delivers only the rest.
"""

import datetime

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification
from notifications.services import notify
from teams.calendar import org_today

from ..selectors import checkin_deliveries, deadline_deliveries, digest_deliveries

Kind = Notification.Kind
TITLE_MAX = 200  # Notification.title


def reminder_notify(*, user, kind: str, key: str, url: str, **context) -> bool:
    """Render the kind's title and text (templates/emails/<kind>_title.txt, _message.txt) for `user` with
    `context` and notify() them; True when a notification was made (False: the user turned the kind off)."""
    context = {"user": user, **context}
    title = " ".join(render_to_string(f"emails/{kind}_title.txt", context).split())
    body = render_to_string(f"emails/{kind}_message.txt", context).strip()
    if len(title) > TITLE_MAX:
        title = title[: TITLE_MAX - 1] + "…"
    return bool(notify(user=user, kind=kind, key=key, title=title, body=body, url=url))


def deadline_reminders_send(*, now: datetime.datetime | None = None) -> int:
    """Goals due in N days and not achieved, to their owners; off-track ones to the managers too (see
    goals.selectors.deadline_deliveries). Returns how many notifications were delivered."""
    today = org_today(now or timezone.now())
    return sum(
        reminder_notify(
            user=d.user,
            kind=d.kind,
            key=d.key,
            url=reverse("goal_detail", args=[d.goal.id]),
            goal=d.goal,
            figures=d.goal.figures,
            days=d.days,
        )
        for d in deadline_deliveries(today=today)
    )


def checkin_reminders_send(*, now: datetime.datetime | None = None) -> int:
    """One check-in reminder per rep and local date, to the reps goals.selectors.checkin_due_memberships finds.
    Returns how many were sent."""
    return sum(
        reminder_notify(user=d.user, kind=Kind.CHECKIN_REMINDER, key=d.key, url=reverse("today"), day=d.day)
        for d in checkin_deliveries(now=now or timezone.now())
    )


def manager_digests_send(*, now: datetime.datetime | None = None) -> int:
    """The weekly digest to each manager due now (goals.selectors.digest_deliveries). Rewards are not in it yet
    (the rewards app does not exist). Returns how many digests were sent."""
    sent = 0
    for d in digest_deliveries(now=now or timezone.now()):
        url = reverse("team_detail", args=[d.teams[0].id]) if len(d.teams) == 1 else reverse("team_list")
        sent += reminder_notify(user=d.user, kind=Kind.MANAGER_DIGEST, key=d.key, url=url, digest=d)
    return sent
