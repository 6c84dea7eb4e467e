"""The feedback app's pages: thin. Seeing goes through feedback.selectors and goals.selectors (another team's object
is a 404); every write through feedback.services, whose ValidationError lands on the form (what was typed is
kept) and whose PermissionDenied is a 403 for someone who may see the object but not act on it.

The goal page (goals app) loads `goal_timeline` and My goals loads `goal_checkin_button` as htmx fragments:
goals never imports feedback.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from goals.models import Goal
from goals.selectors import goal_get_for_user, goal_list_for_user, goal_manageable_by
from goals.views.goal_page import _timeline
from goals.views.manager import plan_table
from teams.models import User
from teams.selectors import (
    active_memberships,
    calendars_for_reps,
    team_get_for_user,
    team_list_for_user,
    user_get_for_user,
)
from teams.web import add_service_errors

from . import selectors, services
from .forms import (
    ActionItemForm,
    AdjustmentRequestForm,
    CheckInForm,
    DecisionForm,
    FeedbackEditForm,
    FeedbackForm,
    ReplyForm,
)
from .models import AdjustmentRequest

# --- Feedback: received, given, give, edit, kudos ---------------------------------------------------------------


def _feedback_page(request, *, tab):
    items = (
        selectors.feedback_received(user=request.user)
        if tab == "received"
        else selectors.feedback_given(user=request.user)
    )
    items = list(items[:100])
    now = timezone.now()
    for item in items:
        item.can_edit = item.author_id == request.user.id and now <= item.editable_until()
    return render(request, "feedback/feedback_list.html", {"items": items, "tab": tab})


@login_required
@require_GET
def feedback_received(request):
    return _feedback_page(request, tab="received")


@login_required
@require_GET
def feedback_given(request):
    return _feedback_page(request, tab="given")


def _visible_active_goals(user):
    return goal_list_for_user(user=user).filter(status=Goal.Status.ACTIVE).order_by("title")


@login_required
def feedback_give(request):
    recipients = selectors.feedback_recipients_for(user=request.user)
    initial = {}
    if request.method == "GET":
        initial = {k: request.GET[k] for k in ("recipient", "goal", "kind") if request.GET.get(k, "").isalnum()}
    goals = _visible_active_goals(request.user)
    if str(initial.get("recipient", "")).isdigit():  # coaching someone from their goal or agenda: their goals only
        goals = goals.filter(owner_user_id=int(initial["recipient"]))
    form = FeedbackForm(request.POST or None, initial=initial, recipients=recipients, goals=goals)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            feedback = services.feedback_give(
                author=request.user,
                recipient=data["recipient"],
                kind=data["kind"],
                body=data["body"],
                visibility=data["visibility"] or None,
                goal=data["goal"],
            )
        except (ValidationError, PermissionDenied) as error:
            _form_error(form, error, field="recipient")
        else:
            messages.success(request, f"{feedback.get_kind_display()} sent to {feedback.recipient}.")
            return redirect("feedback:given")
    return render(request, "feedback/feedback_form.html", {"form": form})


def _form_error(form, error, *, field=None):
    if isinstance(error, PermissionDenied):
        form.add_error(field, str(error))
    else:
        add_service_errors(form, error, field=field)


@login_required
def feedback_edit(request, feedback_id):
    feedback = selectors.feedback_get_for_user(user=request.user, id=feedback_id)
    if feedback.author_id != request.user.id:
        raise PermissionDenied
    form = FeedbackEditForm(request.POST or None, initial={"kind": feedback.kind, "body": feedback.body})
    if request.method == "POST" and form.is_valid():
        try:
            services.feedback_edit(
                feedback=feedback,
                edited_by=request.user,
                body=form.cleaned_data["body"],
                kind=form.cleaned_data["kind"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Feedback updated.")
            return redirect("feedback:given")
    return render(request, "feedback/feedback_edit.html", {"form": form, "feedback": feedback})


@login_required
@require_GET
def kudos(request):
    """The team's praise feed: the team picked (?team=) among those the user may see, else their first."""
    teams = list(team_list_for_user(user=request.user).order_by("name"))
    team_id = request.GET.get("team", "")
    team = team_get_for_user(user=request.user, id=int(team_id)) if team_id.isdigit() else None
    if team is None and teams:
        own = set(active_memberships().filter(user=request.user).values_list("team_id", flat=True))
        team = next((t for t in teams if t.id in own), teams[0])
    items = selectors.kudos_feed(team=team) if team else []
    return render(request, "feedback/kudos.html", {"teams": teams, "team": team, "items": items})


# --- Check-ins --------------------------------------------------------------------------------------------------


@login_required
@require_GET
def checkins(request):
    """The rep's goals with this week's check-in (or a button), and for managers the latest check-ins of their reps."""
    user = request.user
    today = user.local_today()
    week = selectors.week_start_of(today)
    goals = list(
        Goal.objects.filter(owner_user=user, status=Goal.Status.ACTIVE).select_related("kpi").order_by("due_date")
    )
    this_week = {
        c.goal_id: c for c in selectors.checkin_list_for_user(user=user).filter(goal__in=goals, week_start=week)
    }
    for goal in goals:
        goal.this_week = this_week.get(goal.id)
    team_checkins = []
    if user.is_staff or selectors.managed_team_ids(user=user):
        team_checkins = list(
            selectors.checkin_list_for_user(user=user)
            .exclude(rep=user)
            .filter(week_start__gte=week - selectors.TWO_WEEKS)[:100]
        )
    return render(request, "feedback/checkins.html", {"goals": goals, "week": week, "team_checkins": team_checkins})


@login_required
def checkin(request, goal_id):
    """The check-in form for one of the rep's own active goals: two taps on a phone (a confidence, then Save)."""
    goal = goal_get_for_user(user=request.user, id=goal_id)
    if goal.owner_user_id != request.user.id:
        raise PermissionDenied
    today = request.user.local_today()
    existing = selectors.checkin_this_week(goal=goal, today=today)
    initial = (
        {"confidence": existing.confidence, "blockers": existing.blockers, "note": existing.note} if existing else {}
    )
    form = CheckInForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.checkin_submit(goal=goal, rep=request.user, today=today, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            verb = "updated" if existing else "saved"
            messages.success(request, f"Check-in {verb}: confidence {saved.confidence}/10 on “{goal.title}”.")
            return redirect("goal_detail", goal.id)
    trend = selectors.confidence_trend(goal=goal)
    return render(
        request, "feedback/checkin_form.html", {"goal": goal, "form": form, "existing": existing, "trend": trend}
    )


@login_required
def checkin_detail(request, checkin_id):
    """One check-in, what it replaced, and its thread; the rep and their managers reply here."""
    item = selectors.checkin_get_for_user(user=request.user, id=checkin_id)
    can_reply = item.rep_id == request.user.id or selectors.manages_user(manager=request.user, user=item.rep)
    form = ReplyForm(request.POST or None)
    if request.method == "POST":
        if not can_reply:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.checkin_reply(checkin=item, author=request.user, body=form.cleaned_data["body"])
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Reply posted.")
                return redirect("feedback:checkin_detail", item.id)
    context = {
        "checkin": item,
        "replies": list(item.replies.select_related("author")),
        "form": form,
        "can_reply": can_reply,
        "can_plan": item.rep_id == request.user.id or goal_manageable_by(user=request.user, goal=item.goal),
    }
    return render(request, "feedback/checkin_detail.html", context)


@login_required
@require_GET
def goal_checkin_button(request, goal_id):
    """htmx fragment for a goal card: "Check in" (or this week's confidence) on the viewer's own active goal."""
    goal = goal_get_for_user(user=request.user, id=goal_id)
    show = goal.owner_user_id == request.user.id and goal.status == Goal.Status.ACTIVE
    existing = selectors.checkin_this_week(goal=goal, today=request.user.local_today()) if show else None
    return render(request, "feedback/checkins.html#checkin_button", {"goal": goal, "show": show, "existing": existing})


# --- The goal timeline (loaded by the goal page) ----------------------------------------------------------------


@login_required
@require_GET
def goal_timeline(request, goal_id):
    """htmx fragment for the goal page: the confidence trend and one history (revisions, requests, decisions,
    check-ins, feedback). Queries: constant in the number of events (see tests/feedback/test_queries.py)."""
    goal = goal_get_for_user(user=request.user, id=goal_id)
    events = selectors.goal_timeline(user=request.user, goal=goal, revisions=_timeline(goal))
    context = {
        "goal": goal,
        "events": events,
        "trend": selectors.confidence_trend(goal=goal),
        "can_request": selectors.can_request_adjustment(user=request.user, goal=goal)
        and not any(e.kind == "request" and e.obj.is_pending for e in events),
        "can_check_in": goal.owner_user_id == request.user.id and goal.status == Goal.Status.ACTIVE,
        "can_plan": goal.status == Goal.Status.ACTIVE
        and (goal.owner_user_id == request.user.id or goal_manageable_by(user=request.user, goal=goal)),
    }
    return render(request, "feedback/goal_timeline.html", context)


# --- Action items -----------------------------------------------------------------------------------------------


@login_required
@require_GET
def action_items(request):
    today = timezone.localdate()
    items = list(
        selectors.action_item_list_for_user(user=request.user)
        .filter(done_at__isnull=True)
        .order_by("due_date", "id")[:200]
    )
    done = list(
        selectors.action_item_list_for_user(user=request.user).filter(done_at__isnull=False).order_by("-done_at")[:20]
    )
    return render(request, "feedback/action_items.html", {"items": items, "done": done, "today": today})


@login_required
def action_item_create(request, goal_id):
    goal = goal_get_for_user(user=request.user, id=goal_id)
    if not (goal.owner_user_id == request.user.id or goal_manageable_by(user=request.user, goal=goal)):
        raise PermissionDenied
    owner_ids = (
        {request.user.id, *(m.id for m in selectors.managers_of(user=goal.owner_user))}
        if goal.owner_user_id
        else {request.user.id}
    )
    if goal.owner_user_id:
        owner_ids.add(goal.owner_user_id)
    source = _action_source(request, goal)
    initial = {"owner": goal.owner_user_id or request.user.id}
    if source.get("checkin") is not None and source["checkin"].blockers:
        initial["title"] = source["checkin"].blockers[:300]
    form = ActionItemForm(request.POST or None, initial=initial, owners=User.objects.filter(id__in=owner_ids))
    if request.method == "POST" and form.is_valid():
        try:
            services.action_item_create(goal=goal, created_by=request.user, **form.cleaned_data, **source)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Support step added.")
            return redirect("goal_detail", goal.id)
    return render(request, "feedback/action_item_form.html", {"goal": goal, "form": form, **source})


def _action_source(request, goal) -> dict:
    """The check-in or feedback the step comes from (?checkin= / ?feedback=), when the user may see it."""
    source: dict[str, object] = {}
    params = request.POST if request.method == "POST" else request.GET
    if params.get("checkin", "").isdigit():
        source["checkin"] = selectors.checkin_get_for_user(user=request.user, id=int(params["checkin"]))
    if params.get("feedback", "").isdigit():
        source["feedback"] = selectors.feedback_get_for_user(user=request.user, id=int(params["feedback"]))
    return source


@login_required
@require_POST
def action_item_done(request, item_id):
    item = selectors.action_item_get_for_user(user=request.user, id=item_id)
    try:
        services.action_item_complete(action_item=item, completed_by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Done: {item.title}.")
    return redirect("feedback:action_items")


# --- Adjustment requests ----------------------------------------------------------------------------------------


@login_required
@require_GET
def requests(request):
    to_decide = selectors.adjustment_requests_to_decide(user=request.user)
    mine = list(selectors.adjustment_request_list_for_user(user=request.user).filter(requested_by=request.user)[:50])
    decided = list(
        selectors.adjustment_request_list_for_user(user=request.user)
        .exclude(requested_by=request.user)
        .exclude(status__in=[AdjustmentRequest.Status.PENDING, AdjustmentRequest.Status.WITHDRAWN])
        .order_by("-decided_at")[:20]
    )
    return render(request, "feedback/requests.html", {"to_decide": to_decide, "mine": mine, "decided": decided})


@login_required
def request_create(request, goal_id):
    goal = goal_get_for_user(user=request.user, id=goal_id)
    if not selectors.can_request_adjustment(user=request.user, goal=goal):
        raise PermissionDenied
    form = AdjustmentRequestForm(request.POST or None, goal=goal)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.adjustment_request_create(goal=goal, requested_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Request sent: your manager decides, and you will hear the answer.")
            return redirect("feedback:request_detail", created.id)
    return render(request, "feedback/request_form.html", {"goal": goal, "form": form})


def _render_request(request, adjustment: AdjustmentRequest, *, form=None, status=200):
    can_decide = adjustment.is_pending and selectors.can_decide_adjustment(user=request.user, request=adjustment)
    context = {
        "adjustment": adjustment,
        "goal": adjustment.goal,
        "can_decide": can_decide,
        "can_withdraw": adjustment.is_pending and adjustment.requested_by_id == request.user.id,
        "form": form or DecisionForm(),
    }
    if can_decide:
        context.update(_preview_context(request, adjustment))
    return render(request, "feedback/request_detail.html", context, status=status)


def _preview_context(request, adjustment) -> dict:
    """Today's figures and micro goals beside what approval would make of them (the breakdown preview's table)."""
    goal = adjustment.goal
    today = timezone.localdate()
    current_rows = selectors.plan_rows_ahead(goal=goal, today=today)
    try:
        after, rows = services.adjustment_request_preview(request=adjustment, decided_by=request.user, today=today)
    except (ValidationError, PermissionDenied) as error:
        return {"preview_error": " ".join(getattr(error, "messages", [str(error)]))}
    calendars = calendars_for_reps(user_ids={row.assignee.pk for row in [*rows, *current_rows]})
    return {
        "before": selectors.goal_figures(goal),
        "after": selectors.goal_figures(after),
        "table_before": plan_table(goal, current_rows, calendars_by_user=calendars, planned=False)
        if current_rows
        else None,
        "table_after": plan_table(after, rows, calendars_by_user=calendars) if rows else None,
    }


@login_required
def request_detail(request, request_id):
    return _render_request(request, selectors.adjustment_request_get_for_user(user=request.user, id=request_id))


@login_required
@require_POST
def request_decide(request, request_id, decision):
    adjustment = selectors.adjustment_request_get_for_user(user=request.user, id=request_id)
    form = DecisionForm(request.POST)
    form.is_valid()
    response = form.cleaned_data.get("response", "")
    try:
        if decision == "approve":
            services.adjustment_request_approve(request=adjustment, decided_by=request.user, response=response)
        elif decision == "reject":
            services.adjustment_request_reject(request=adjustment, decided_by=request.user, response=response)
        elif decision == "withdraw":
            services.adjustment_request_withdraw(request=adjustment, withdrawn_by=request.user)
        else:
            raise Http404
    except ValidationError as error:
        add_service_errors(form, error, field="response" if decision == "reject" else None)
        adjustment.refresh_from_db()
        return _render_request(request, adjustment, form=form, status=400)
    labels = {
        "approve": "Approved: the goal and its micro goals are updated.",
        "reject": "Declined.",
        "withdraw": "Withdrawn.",
    }
    messages.success(request, labels[decision])
    return redirect("feedback:request_detail", adjustment.id)


# --- The 1:1 agenda ---------------------------------------------------------------------------------------------


def _require_manager(request):
    if not (request.user.is_staff or selectors.managed_team_ids(user=request.user)):
        raise PermissionDenied


@login_required
@require_GET
def agenda_list(request):
    _require_manager(request)
    return render(request, "feedback/agenda_list.html", {"reps": list(selectors.agenda_reps(manager=request.user))})


@login_required
@require_GET
def agenda(request, user_id):
    """The 1:1 agenda for the manager and one rep. Queries: constant (see tests/feedback/test_queries.py)."""
    _require_manager(request)
    rep = user_get_for_user(user=request.user, id=user_id)
    if not selectors.manages_user(manager=request.user, user=rep):
        raise Http404
    data = selectors.one_on_one_agenda(manager=request.user, rep=rep, today=timezone.localdate())
    return render(request, "feedback/agenda.html", {"agenda": data, "rep": rep, "today": timezone.localdate()})
