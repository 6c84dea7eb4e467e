"""Every write of the feedback app: one transaction each, keyword arguments, told who acts.

Rules decided here:
- Feedback: managers coach the people they manage (any kind); anyone may give praise to a teammate and any kind
  to their own managers; admins to anyone; never to oneself. Praise defaults to the team's kudos feed; only praise
  goes there. An optional goal or micro goal must be the recipient's and visible to the author. The author may
  edit it for 15 minutes (earlier wordings kept); nobody deletes it.
- Check-ins: a rep checks in on their own active goal, once per ISO week of their local calendar; a second submit
  that week updates it and keeps what it replaced. Confidence 0–10. A confidence ≤ 3, or a drop of 3 or more
  from the previous check-in, alerts the rep's nearest managers once per check-in (notify key
  `checkin-alert:<id>`), whatever the number of re-submits that week.
- Adjustment requests: see `adjustment_request_create` and `_decide`; the state machine is pending → approved |
  rejected | withdrawn, final once decided, at most one pending per goal (a partial unique constraint).

Notifications without fatigue: what a person must act on or hear about now (feedback to them, a decision on
their request, a confidence alert) goes through notify() with their own per-kind preferences. The low-priority
items a manager gets from many reps (a new adjustment request to decide, a reply on a check-in) are in-app only
(`email=False`); `feedback_digests_send` emails each manager one weekly summary of what is still unread.
"""

import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from goals import pace
from goals import services as goal_services
from goals.models import Goal, GoalRevision, MicroGoal
from goals.numbers import too_many_decimals
from goals.selectors import goal_list_for_user, goal_manageable_by
from goals.templatetags.pacer import kpi_value
from notifications.models import Notification
from notifications.services import Message, notifications_deliver, notify
from teams.audit import audit_record
from teams.hooks import hooks_run
from teams.models import AuditEvent, User

from . import selectors
from .models import EDIT_WINDOW, ActionItem, AdjustmentRequest, CheckIn, CheckInReply, Feedback

Kind = Notification.Kind
Status = AdjustmentRequest.Status
# The code of a refusal caused by an object's state, not the input (a request already decided; another one pending;
# an action item already completed): the API answers it with a 409, the pages show it like any other error.
CONFLICT = "conflict"


def _clean_text(value: str, field: str, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: f"Write {what}: it cannot be empty."})
    return text


# --- Feedback ---------------------------------------------------------------------------------------------------


@transaction.atomic
def feedback_give(
    *,
    author: User,
    recipient: User,
    kind: str,
    body: str,
    visibility: str | None = None,
    goal: Goal | None = None,
    micro_goal: MicroGoal | None = None,
) -> Feedback:
    if recipient.id == author.id:
        raise ValidationError({"recipient": "Feedback goes to someone else; choose a teammate, a rep or a manager."})
    if kind not in Feedback.Kind.values:
        raise ValidationError({"kind": f"Choose a kind: {', '.join(Feedback.Kind.labels).lower()}."})
    manages = selectors.manages_user(manager=author, user=recipient)
    managed_by = selectors.manages_user(manager=recipient, user=author)
    if not (manages or managed_by):
        if not selectors.teammates(user=author, other=recipient):
            raise PermissionDenied(f"You can give feedback to your team, your reps and your managers, not {recipient}.")
        if kind != Feedback.Kind.PRAISE:
            raise ValidationError(
                {"kind": f"Coaching and concerns go to the people you manage; give {recipient} praise."}
            )
    if visibility is None:
        visibility = Feedback.Visibility.TEAM if kind == Feedback.Kind.PRAISE else Feedback.Visibility.PRIVATE
    if visibility not in Feedback.Visibility.values:
        raise ValidationError({"visibility": "Choose who may read it."})
    if visibility == Feedback.Visibility.TEAM and kind != Feedback.Kind.PRAISE:
        raise ValidationError({"visibility": "Only praise goes on the team's kudos feed; keep this between you."})
    if micro_goal is not None:
        if micro_goal.assignee_id != recipient.id:
            raise ValidationError({"micro_goal": f"That micro goal is not {recipient}'s."})
        goal = micro_goal.goal
    if goal is not None:
        if not goal_list_for_user(user=author).filter(id=goal.id).exists():
            raise ValidationError({"goal": "Choose one of the goals you can see."})
        if goal.owner_user_id not in (None, recipient.id) or (
            goal.owner_team_id is not None and not goal_list_for_user(user=recipient).filter(id=goal.id).exists()
        ):
            raise ValidationError({"goal": f"That goal is not {recipient}'s."})
    feedback = Feedback(
        author=author,
        recipient=recipient,
        kind=kind,
        body=_clean_text(body, "body", "the feedback"),
        visibility=visibility,
        goal=goal,
        micro_goal=micro_goal,
    )
    feedback.full_clean()
    feedback.save()
    notify(
        user=recipient,
        kind=Kind.FEEDBACK_RECEIVED,
        key=f"feedback:{feedback.id}",
        title=f"{feedback.get_kind_display()} from {author}"[:200],
        body=feedback.body,
        url=reverse("feedback:received"),
    )
    return feedback


@transaction.atomic
def feedback_edit(
    *, feedback: Feedback, edited_by: User, body: str, kind: str | None = None, now: datetime.datetime | None = None
) -> Feedback:
    """The author rewords their feedback within EDIT_WINDOW of giving it; the earlier wording is kept."""
    now = now or timezone.now()
    feedback = Feedback.objects.select_for_update().get(pk=feedback.pk)
    if feedback.author_id != edited_by.id:
        raise PermissionDenied("Only the author can edit this feedback.")
    if now > feedback.created_at + EDIT_WINDOW:
        minutes = int(EDIT_WINDOW.total_seconds() // 60)
        raise ValidationError(
            f"Feedback can be edited for {minutes} minutes after it was given; add a new one instead."
        )
    kind = kind or feedback.kind
    if kind not in Feedback.Kind.values:
        raise ValidationError({"kind": "Choose a kind."})
    if feedback.visibility == Feedback.Visibility.TEAM and kind != Feedback.Kind.PRAISE:
        raise ValidationError({"kind": "This is on the team's kudos feed: it stays praise."})
    text = _clean_text(body, "body", "the feedback")
    if text == feedback.body and kind == feedback.kind:
        return feedback
    feedback.history = [
        *feedback.history,
        {"body": feedback.body, "kind": feedback.kind, "replaced_at": now.isoformat()},
    ]
    feedback.body, feedback.kind, feedback.edited_at = text, kind, now
    feedback.full_clean()
    feedback.save(update_fields=["body", "kind", "edited_at", "history"])
    return feedback


# --- Check-ins --------------------------------------------------------------------------------------------------


def goal_snapshot(goal: Goal) -> dict[str, str]:
    """The goal's figures as the engine last computed them (strings: exact decimals), for a check-in."""
    attainment = pace.attainment_percent(
        current=goal.current_value, baseline=goal.baseline_value, target=goal.target_value
    )
    return {
        "current": str(goal.current_value),
        "target": str(goal.target_value),
        "expected": str(goal.expected_value),
        "forecast": str(goal.forecast_value),
        "attainment": str(attainment.quantize(Decimal("0.1"))),
        "health": goal.health,
        "computed_at": goal.computed_at.isoformat() if goal.computed_at else "",
    }


@transaction.atomic
def checkin_submit(
    *, goal: Goal, rep: User, confidence: int, blockers: str = "", note: str = "", today: datetime.date | None = None
) -> CheckIn:
    """This ISO week's check-in of the rep on their goal: created, or updated (the replaced one kept)."""
    goal = Goal.objects.select_for_update(of=("self",)).get(pk=goal.pk)  # one submit per goal at a time
    if goal.owner_user_id != rep.id:
        raise PermissionDenied("Reps check in on their own goals.")
    if goal.status != Goal.Status.ACTIVE:
        raise ValidationError(f"This goal is {goal.get_status_display().lower()}: check-ins are for active goals.")
    if confidence is None or not (0 <= int(confidence) <= 10):
        raise ValidationError({"confidence": "Choose how confident you are, from 0 (not at all) to 10 (certain)."})
    today = today or rep.local_today()
    week = selectors.week_start_of(today)
    values = {
        "confidence": int(confidence),
        "blockers": (blockers or "").strip(),
        "note": (note or "").strip(),
        "snapshot": goal_snapshot(goal),
        "submitted_at": timezone.now(),
    }
    checkin = CheckIn.objects.filter(goal=goal, week_start=week).first()
    if checkin is None:
        checkin = CheckIn(goal=goal, rep=rep, week_start=week, **values)
    else:
        replaced = {name: getattr(checkin, name) for name in ("confidence", "blockers", "note", "snapshot")}
        checkin.history = [*checkin.history, {**replaced, "submitted_at": checkin.submitted_at.isoformat()}]
        for name, value in values.items():
            setattr(checkin, name, value)
    checkin.full_clean(validate_unique=False, validate_constraints=False)
    checkin.save()
    _checkin_alert(checkin, goal)
    return checkin


def _checkin_alert(checkin: CheckIn, goal: Goal) -> None:
    previous = CheckIn.objects.filter(goal=goal, week_start__lt=checkin.week_start).order_by("-week_start").first()
    before = previous.confidence if previous is not None else None
    drop = before - checkin.confidence if before is not None else 0
    if checkin.confidence > selectors.LOW_CONFIDENCE and drop < selectors.CONFIDENCE_DROP:
        return
    why = f"down {drop} from {before}" if drop >= selectors.CONFIDENCE_DROP else "low"
    body = f"{checkin.rep} rated their confidence in “{goal.title}” {checkin.confidence}/10 ({why})."
    if checkin.blockers:
        body += f"\nBlockers: {checkin.blockers}"
    for manager in selectors.managers_of(user=checkin.rep, nearest=True):
        notify(
            user=manager,
            kind=Kind.FEEDBACK_RECEIVED,
            key=f"checkin-alert:{checkin.id}",
            title=f"{checkin.rep}: confidence {checkin.confidence}/10 on “{goal.title}”"[:200],
            body=body,
            url=reverse("feedback:checkin_detail", args=[checkin.id]),
        )


@transaction.atomic
def checkin_reply(*, checkin: CheckIn, author: User, body: str) -> CheckInReply:
    """A message in the check-in's thread, by the rep or one of their managers; the other side hears of it."""
    is_rep = checkin.rep_id == author.id
    if not (is_rep or selectors.manages_user(manager=author, user=checkin.rep)):
        raise PermissionDenied("Only the rep and their managers take part in a check-in's thread.")
    reply = CheckInReply(checkin=checkin, author=author, body=_clean_text(body, "body", "a reply"))
    reply.full_clean()
    reply.save()
    url = reverse("feedback:checkin_detail", args=[checkin.id])
    title = f"{author} replied on your check-in on “{checkin.goal.title}”"[:200]
    if is_rep:  # to the managers who took part (or the nearest ones): low priority, bundled into the digest
        involved = set(checkin.replies.exclude(author=author).values_list("author_id", flat=True))
        managers = [m for m in selectors.managers_of(user=author) if m.id in involved] or selectors.managers_of(
            user=author, nearest=True
        )
        for manager in managers:
            notify(user=manager, kind=Kind.FEEDBACK_RECEIVED, key=f"checkin-reply:{reply.id}", title=title,
                   body=reply.body, url=url, email=False)  # fmt: skip
    else:
        notify(user=checkin.rep, kind=Kind.FEEDBACK_RECEIVED, key=f"checkin-reply:{reply.id}", title=title,
               body=reply.body, url=url)  # fmt: skip
    return reply


# --- Action items -----------------------------------------------------------------------------------------------


def _may_plan_support(user: User, goal: Goal) -> bool:
    return goal.owner_user_id == user.id or goal_manageable_by(user=user, goal=goal)


@transaction.atomic
def action_item_create(
    *,
    goal: Goal,
    title: str,
    owner: User,
    due_date: datetime.date,
    created_by: User,
    link: str = "",
    checkin: CheckIn | None = None,
    feedback: Feedback | None = None,
) -> ActionItem:
    """A support step on a goal, by its rep or a manager of it; owned by the rep or by one of their managers."""
    if not _may_plan_support(created_by, goal):
        raise PermissionDenied("Only the goal's rep and their managers plan its support.")
    if goal.status != Goal.Status.ACTIVE:
        raise ValidationError(f"This goal is {goal.get_status_display().lower()}: support steps are for active goals.")
    rep = goal.owner_user
    if owner.id != created_by.id and not (
        (rep is not None and owner.id == rep.id) or goal_manageable_by(user=owner, goal=goal)
    ):
        raise ValidationError({"owner": "The owner is the goal's rep or one of their managers."})
    if due_date is None:
        raise ValidationError({"due_date": "Give a due date."})
    if checkin is not None and checkin.goal_id != goal.id:
        raise ValidationError({"checkin": "That check-in is about another goal."})
    if feedback is not None and feedback.goal_id not in (None, goal.id):
        raise ValidationError({"feedback": "That feedback is about another goal."})
    item = ActionItem(
        goal=goal,
        title=_clean_text(title, "title", "what is to be done"),
        link=(link or "").strip(),
        owner=owner,
        due_date=due_date,
        checkin=checkin,
        feedback=feedback,
        created_by=created_by,
    )
    item.full_clean()
    item.save()
    if owner.id != created_by.id:
        notify(user=owner, kind=Kind.FEEDBACK_RECEIVED, key=f"action-item:{item.id}",
               title=f"New support step: {item.title}"[:200],
               body=f"{created_by} asked you to: {item.title} (due {due_date:%d %b %Y}), for “{goal.title}”.",
               url=reverse("feedback:action_items"))  # fmt: skip
    return item


@transaction.atomic
def action_item_complete(*, action_item: ActionItem, completed_by: User) -> ActionItem:
    item = ActionItem.objects.select_for_update(of=("self",)).select_related("goal").get(pk=action_item.pk)
    if item.owner_id != completed_by.id and not _may_plan_support(completed_by, item.goal):
        raise PermissionDenied("Only its owner, the goal's rep or their managers can tick off a support step.")
    if item.done_at is not None:
        raise ValidationError(
            f"This action item is already completed (done on {timezone.localtime(item.done_at):%d %b %Y}).",
            code=CONFLICT,
        )
    item.done_at, item.done_by = timezone.now(), completed_by
    item.save(update_fields=["done_at", "done_by"])
    return item


# --- Adjustment requests ----------------------------------------------------------------------------------------


@transaction.atomic
def adjustment_request_create(
    *,
    goal: Goal,
    requested_by: User,
    reason: str,
    proposed_target=None,
    proposed_due_date: datetime.date | None = None,
    today: datetime.date | None = None,
) -> AdjustmentRequest:
    """A rep asks for a new target and/or due date on their own goal; a manager likewise for a team goal of theirs
    (decided by their own manager or an admin). Refused while another request on the goal is pending."""
    today = today or timezone.localdate()
    goal = Goal.objects.select_for_update(of=("self",)).select_related("kpi").get(pk=goal.pk)
    if not selectors.can_request_adjustment(user=requested_by, goal=goal):
        raise PermissionDenied("You can ask for an adjustment of your own goals (managers: of their teams' goals).")
    errors: dict[str, str] = {}
    if proposed_target is not None:
        try:
            proposed_target = Decimal(str(proposed_target).strip())
        except InvalidOperation:
            proposed_target = Decimal("NaN")
        if not proposed_target.is_finite():
            errors["proposed_target"] = "Give the new target as a number."
        elif goal.kpi.higher_is_better and proposed_target < goal.baseline_value:
            errors["proposed_target"] = (
                f"Higher is better for {goal.kpi}: propose a target above {goal.baseline_value}."
            )
        elif proposed_target == goal.target_value:
            errors["proposed_target"] = "That is already the target; propose a different one or leave it empty."
        elif proposed_target % goal.kpi.quantum:
            errors["proposed_target"] = too_many_decimals(goal.kpi, proposed_target)
        elif proposed_target == goal.baseline_value:
            errors["proposed_target"] = "A target equal to the baseline leaves nothing to achieve."
    if proposed_due_date is not None:
        if proposed_due_date == goal.due_date:
            errors["proposed_due_date"] = "That is already the due date; propose another or leave it empty."
        elif proposed_due_date < max(today, goal.start_date):
            errors["proposed_due_date"] = "Propose a due date from today on (and not before the goal's start)."
    if proposed_target is None and proposed_due_date is None and not errors:
        errors["proposed_target"] = "Propose a new target, a new due date, or both."
    if not (reason or "").strip():
        errors["reason"] = "Say why: your manager decides on it, and it stays in the goal's history."
    if errors:
        raise ValidationError(errors)
    if goal.adjustment_requests.filter(status=Status.PENDING).exists():
        raise ValidationError(
            "A request on this goal is already waiting for a decision; withdraw it to ask again.", code=CONFLICT
        )
    request = AdjustmentRequest(
        goal=goal,
        requested_by=requested_by,
        proposed_target=proposed_target,
        proposed_due_date=proposed_due_date,
        current_target=goal.target_value,
        current_due_date=goal.due_date,
        reason=reason.strip(),
    )
    request.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():  # a concurrent request on the same goal loses to the partial unique constraint
            request.save()
    except IntegrityError as error:
        raise ValidationError("A request on this goal is already waiting for a decision.", code=CONFLICT) from error
    for manager in _deciders(request):
        notify(user=manager, kind=Kind.ADJUSTMENT_DECIDED, key=f"adjustment:{request.id}:asked",
               title=f"{requested_by} asks to adjust “{goal.title}”"[:200], body=request.reason,
               url=reverse("feedback:request_detail", args=[request.id]), email=False)  # fmt: skip
    return request


def _deciders(request: AdjustmentRequest) -> list[User]:
    """The nearest managers who may decide (never the requester)."""
    goal = request.goal
    if goal.owner_user is not None:
        candidates = selectors.managers_of(user=goal.owner_user)
    elif goal.owner_team is not None:
        candidates = selectors.team_managers(team=goal.owner_team)
    else:
        candidates = []
    return [m for m in candidates if selectors.can_decide_adjustment(user=m, request=request)]


def _locked(request: AdjustmentRequest) -> AdjustmentRequest:
    return (
        AdjustmentRequest.objects.select_for_update(of=("self",))
        .select_related("goal", "goal__kpi", "requested_by")
        .get(pk=request.pk)
    )


def _require_pending(request: AdjustmentRequest) -> None:
    if request.status != Status.PENDING:
        who = f" by {request.decided_by}" if request.decided_by_id and request.status != Status.WITHDRAWN else ""
        raise ValidationError(
            f"This request was already {request.get_status_display().lower()}{who} "
            f"on {timezone.localtime(request.decided_at):%d %b %Y}: a decided request is final.",
            code=CONFLICT,
        )


def _require_decider(request: AdjustmentRequest, user: User) -> None:
    if user.id == request.requested_by_id:
        raise PermissionDenied("You cannot decide your own request: your manager or an admin does.")
    if not selectors.can_decide_adjustment(user=user, request=request):
        raise PermissionDenied("Only a manager of the goal's team (above the one who asked) or an admin decides.")


def _apply(request: AdjustmentRequest, decided_by: User, today: datetime.date) -> tuple[GoalRevision, list]:
    """The approved change through goals' own services: goal_update (an "adjusted" revision) and goal_replan."""
    changes: dict[str, object] = {}
    if request.proposed_target is not None:
        changes["target_value"] = request.proposed_target
    if request.proposed_due_date is not None:
        changes["due_date"] = request.proposed_due_date
    reason = f"Adjustment request approved: {request.reason}"
    newest = request.goal.revisions.order_by("-id").values_list("id", flat=True)
    before = newest.first()
    goal = goal_services.goal_update(
        goal=request.goal,
        changed_by=decided_by,
        reason=reason,
        today=today,
        revision_kind=GoalRevision.Kind.ADJUSTED,
        **changes,
    )
    revision = goal.revisions.order_by("-id").first()
    if revision is None or revision.id == before:
        raise ValidationError("The goal already has these values: nothing would change; reject the request instead.")
    rows: list[goal_services.PlanRow] = []
    plannable = goal.micro_goals.filter(kpi=goal.kpi, status=MicroGoal.Status.ACTIVE).exists()
    if plannable and goal.status == Goal.Status.ACTIVE:
        rows = goal_services.goal_replan(goal=goal, as_of=today, replanned_by=decided_by, reason=reason)
    return revision, rows


@transaction.atomic
def adjustment_request_approve(
    *, request: AdjustmentRequest, decided_by: User, response: str = "", today: datetime.date | None = None
) -> AdjustmentRequest:
    request = _locked(request)  # two concurrent approvals: the second waits here, then finds it decided
    _require_pending(request)
    _require_decider(request, decided_by)
    revision, _rows = _apply(request, decided_by, today or timezone.localdate())
    return _decide(request, Status.APPROVED, decided_by, response, revision=revision)


@transaction.atomic
def adjustment_request_reject(*, request: AdjustmentRequest, decided_by: User, response: str) -> AdjustmentRequest:
    request = _locked(request)
    _require_pending(request)
    _require_decider(request, decided_by)
    text = _clean_text(response, "response", "why it is declined (the requester reads it)")
    return _decide(request, Status.REJECTED, decided_by, text)


@transaction.atomic
def adjustment_request_withdraw(*, request: AdjustmentRequest, withdrawn_by: User) -> AdjustmentRequest:
    request = _locked(request)
    if withdrawn_by.id != request.requested_by_id:
        raise PermissionDenied("Only the person who asked can withdraw a request.")
    _require_pending(request)
    request.status, request.decided_at = Status.WITHDRAWN, timezone.now()
    request.full_clean(validate_constraints=False)
    request.save(update_fields=["status", "decided_at"])
    return request


def _decide(request, status, decided_by, response, *, revision=None) -> AdjustmentRequest:
    request.status, request.decided_by, request.decided_at = status, decided_by, timezone.now()
    request.response, request.revision = (response or "").strip(), revision
    request.full_clean(validate_constraints=False)
    request.save(update_fields=["status", "decided_by", "decided_at", "response", "revision"])
    goal = request.goal
    audit_record(
        kind=AuditEvent.Kind.GOAL_REVISION,
        actor=decided_by,
        subject_user=request.requested_by,
        summary=f"Adjustment request {request.id} on “{goal.title}” {status} by {decided_by}",
        data={"goal": goal.id, "request": request.id, "status": status, "revision": revision.id if revision else None},
    )
    verb = "approved" if status == Status.APPROVED else "declined"
    body = f"{decided_by} {verb} your request on “{goal.title}”."
    if status == Status.APPROVED:
        body += f" Target {kpi_value(goal.target_value, goal.kpi)}, due {goal.due_date:%d %b %Y}."
    if request.response:
        body += f"\n{request.response}"
    notify(
        user=request.requested_by,
        kind=Kind.ADJUSTMENT_DECIDED,
        key=f"adjustment:{request.id}:decided",
        title=f"Request {verb}: “{goal.title}”"[:200],
        body=body,
        url=reverse("feedback:request_detail", args=[request.id]),
    )
    # The apps above (webhooks: "adjustment.decided") write inside this transaction: announced iff decided.
    hooks_run("PACER_AFTER_ADJUSTMENT_DECIDED", request_id=request.id)
    return request


def adjustment_request_preview(*, request: AdjustmentRequest, decided_by: User, today: datetime.date | None = None):
    """What approval would do, computed by the real services inside a transaction that is rolled back: the goal
    with its new figures and the re-planned micro goal rows (nothing is written). Raises what approval would."""
    today = today or timezone.localdate()
    with transaction.atomic():
        request = _locked(request)
        _require_pending(request)
        _require_decider(request, decided_by)
        _revision, rows = _apply(request, decided_by, today)
        goal_services.progress_recompute(goal_ids=[request.goal_id], micro_goal_ids=[], today=today)
        after = Goal.objects.select_related("kpi").get(pk=request.goal_id)
        for row in rows:  # detach the rows from the rolled-back micro goals
            row.micro_goal = None
        transaction.set_rollback(True)
    return after, rows


# --- Jobs: the weekly check-in reminder and the feedback digest -------------------------------------------------

CHECKIN_WEEKDAY = 4  # ISO Thursday: a reminder late enough to have a week to talk about, early enough to act
DIGEST_WEEKDAY, DIGEST_HOUR = 5, 15  # Friday afternoon, the manager's local time


def checkin_weekly_reminders_due_ids(*, now: datetime.datetime) -> list[int]:
    """The reps due the weekly check-in reminder now (the hourly job's fan-out)."""
    return [rep.id for rep, _, _ in selectors.checkin_reminder_due(now=now, weekday=CHECKIN_WEEKDAY)]


def checkin_weekly_reminders_send(*, now: datetime.datetime | None = None, user_ids=None) -> int:
    """On Thursday from each rep's reminder hour (local time): one reminder (key `weekly-checkin:<user>:<week>`)
    to each active rep (among `user_ids` if given) with an active goal of their own and no check-in on it this ISO
    week. A rep who checked in on every goal is skipped. Separate from goals' daily log reminder. Delivered in
    bulk (notifications_deliver). Returns how many were sent."""
    now = now or timezone.now()
    url = reverse("feedback:checkins")
    messages = []
    for rep, week, missing in selectors.checkin_reminder_due(now=now, weekday=CHECKIN_WEEKDAY, user_ids=user_ids):
        titles = ", ".join(f"“{g.title}”" for g in missing[:3]) + (" …" if len(missing) > 3 else "")
        messages.append(
            Message(
                user=rep,
                kind=Kind.CHECKIN_REMINDER,
                key=f"weekly-checkin:{rep.id}:{week.isoformat()}",
                title="Your weekly check-in",
                body=f"How confident are you this week? Two taps per goal: {titles}.",
                url=url,
            )
        )
    return notifications_deliver(messages=messages)


def feedback_digests_due_ids(*, now: datetime.datetime) -> list[int]:
    """The managers due the feedback digest now (the hourly job's fan-out)."""
    return [m.id for m, _, _ in selectors.feedback_digest_due(now=now, weekday=DIGEST_WEEKDAY, hour=DIGEST_HOUR)]


def feedback_digests_send(*, now: datetime.datetime | None = None, user_ids=None) -> int:
    """Friday from 15:00 local: one email-able summary per manager (among `user_ids` if given) of the low-priority
    items still unread this week (adjustment requests to decide, reps' replies), key
    `feedback-digest:<user>:<week>`. Delivered in bulk (notifications_deliver). Returns how many."""
    now = now or timezone.now()
    url = reverse("feedback:requests")
    messages = []
    due = selectors.feedback_digest_due(now=now, weekday=DIGEST_WEEKDAY, hour=DIGEST_HOUR, user_ids=user_ids)
    for manager, week, items in due:
        lines = [f"- {n.title}" for n in items]
        messages.append(
            Message(
                user=manager,
                kind=Kind.MANAGER_DIGEST,
                key=f"feedback-digest:{manager.id}:{week.isoformat()}",
                title=f"{len(items)} coaching item{'s' if len(items) != 1 else ''} this week",
                body="Still waiting for you in Pacer:\n" + "\n".join(lines),
                url=url,
            )
        )
    return notifications_deliver(messages=messages)
