"""The rep's pages: Today (log progress without a page reload), My goals, a goal's entry history, and the
inline edit and void of today's entries.

Whose page: the signed-in user's, or with `?rep=<id>` someone the viewer manages (a manager logging for a
rep: the entry is the rep's, created_by the manager); any other id is a 404 (teams.selectors decides).
Reads go through goals.selectors and teams.selectors, writes through goals.services. A change marks the
goals it touches stale and the coalesced background recompute writes their figures within seconds; the
page never waits for it: the subject's own stale goals and micro goals are shown as the engine computes
them right now (`progress_preview`: no goal row lock, only the subject's daily rollups), and stale team
goals show their last figures marked "updating…", refreshed by a bounded htmx poll of the card's goals.

With htmx the forms answer with fragments (`{% partialdef %}` blocks of the page templates); without
JavaScript the same URLs work as plain pages (post, redirect, get).
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet, Sum
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from goals import pace, selectors, services
from goals.figures import figures_for
from goals.forms import EntryEditForm, EntryVoidForm, ProgressLogForm
from goals.models import Goal, Kpi, MicroGoal, ProgressEntry
from goals.templatetags.pacer import day, kpi_value
from teams import selectors as team_selectors
from teams.calendar import WorkingCalendar, org_today
from teams.models import User
from teams.validators import parse_id
from teams.web import add_service_errors

HISTORY_PAGE_SIZE = 25
TODAY_ENTRIES_SHOWN = 50  # a CRM import may add hundreds in a day; Today lists the latest ones
# A stale team figure is polled every POLL_SECONDS, at most POLL_LIMIT times (then the page says to reload).
POLL_SECONDS = 2
POLL_LIMIT = 15


# --- whose page, and the arithmetic the bars show -------------------------------------------------------------


def _subject(request) -> User:
    """The person the page is about: the viewer, or `?rep=<id>` when the viewer may see them (else 404)."""
    text = request.GET.get("rep", "")
    if not text:
        return request.user
    rep_id = parse_id(text)
    if rep_id is None:
        raise Http404("No such person.")
    if rep_id == request.user.pk:
        return request.user
    return team_selectors.user_get_for_user(user=request.user, id=rep_id)


def _rep_query(viewer: User, subject: User) -> str:
    return "" if subject.pk == viewer.pk else f"?rep={subject.pk}"


def _with_figures(
    item: Goal | MicroGoal, *, calendar: WorkingCalendar, today: datetime.date, logged_today: Decimal | None = None
) -> None:
    """Attach `item.figures` (goals.figures: the same figures every page shows, counted on the organisation's
    date) and, given what was logged today on the item's KPI, `item.left_today` (Today's card only): today's
    even share of what was left this morning, less what today already brought."""
    figures = figures_for(item, calendar=calendar, today=org_today())
    item.figures, item.left_today = figures, None
    works_today = item.start_date <= today <= item.due_date and calendar.is_working_day(today)
    if logged_today is not None and works_today and not (figures.is_level or figures.is_budget):
        item.left_today = pace.left_today(
            remaining=figures.remaining,
            logged_today=logged_today,
            days_left=figures.days_left,
            quantum=item.kpi.quantum,
        )


def _calendar_and_teams(subject: User, today: datetime.date) -> tuple[WorkingCalendar, set[int]]:
    """The subject's working calendar (their rep team's; Mon–Fri without one) and the teams whose goals their
    entries count for (their rep team and every team above it). Queries: 5 with a rep team, 1 without."""
    membership = team_selectors.rep_membership(user=subject, on=today)
    if membership is None:
        return WorkingCalendar(), set()
    calendar = team_selectors.calendar_for_team(team=membership.team)
    return calendar, team_selectors.team_ids_with_ancestors([membership.team_id])


# --- Today ----------------------------------------------------------------------------------------------------


@dataclass
class Card:
    """One KPI on Today: this week's micro goals and the current goals on it, and the form to log it."""

    kpi: Kpi
    micro_goals: list[MicroGoal] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    form: ProgressLogForm | None = None
    flash: str = ""
    second_look: "SecondLook | None" = None

    @property
    def updating(self) -> bool:
        """Some goal on the card waits for the background recompute (its figures are the last written)."""
        return any(goal.updating for goal in self.goals)


def _freshen(subject: User, goals: list[Goal], micro_goals: list[MicroGoal]) -> None:
    """Sets `.updating` on every item and, for the subject's own stale items, today's figures in memory.

    One query (which items are stale); when some of the subject's own are, the engine's preview of just
    those (a few queries over the subject's own daily rollups, no row lock). Nothing is written: the
    coalesced recompute does that.
    """
    stale_goals, stale_micro = services.stale_target_ids(
        goal_ids=[g.pk for g in goals], micro_goal_ids=[m.pk for m in micro_goals]
    )
    own_goals = [g for g in goals if g.pk in stale_goals and g.owner_user_id == subject.pk]
    own_micro = [m for m in micro_goals if m.pk in stale_micro]
    preview = {}
    if own_goals or own_micro:
        preview = services.progress_preview(
            goal_ids=[g.pk for g in own_goals], micro_goal_ids=[m.pk for m in own_micro]
        )
    for item in (*goals, *micro_goals):
        figures = preview.get((type(item), item.pk))
        if figures is not None:
            (
                item.current_value,
                item.expected_value,
                item.forecast_value,
                item.forecast_low,
                item.forecast_high,
                item.chance_pct,
                item.health,
            ) = figures
        stale = stale_goals if isinstance(item, Goal) else stale_micro
        item.updating = item.pk in stale and figures is None


@dataclass
class TodayData:
    """What Today shows. The rep's own entries (today's sums per KPI and the latest ones listed) are read by
    `read_entries`, so an answer after a write re-reads only those, not the goals, scopes and calendar."""

    today: datetime.date
    cards: list[Card]
    calendar: WorkingCalendar
    own_entries: QuerySet[ProgressEntry]  # the subject's entries, in the viewer's scope
    start_of_day: datetime.datetime
    entries: list[ProgressEntry] = field(default_factory=list)
    logged_today: dict[int, Decimal] = field(default_factory=dict)

    def card(self, kpi_id) -> Card | None:
        return next((card for card in self.cards if str(card.kpi.pk) == str(kpi_id)), None)

    def kpis(self):
        """The KPIs this person may log on now (a forged id is a form error)."""
        return selectors.kpi_list().filter(id__in=[card.kpi.pk for card in self.cards])

    def read_entries(self) -> None:
        """Today's sums per KPI and the latest entries listed. Queries: 2, over the subject's own entries."""
        self.logged_today = dict(
            self.own_entries.filter(date=self.today, voided_at__isnull=True)
            .order_by()
            .values_list("kpi_id")
            .annotate(total=Sum("value"))
            .values_list("kpi_id", "total")
        )
        shown = (
            # Backfills typed in today show too; a CRM import of older days is not "logged today" by the rep.
            self.own_entries.filter(
                Q(date=self.today) | Q(created_at__gte=self.start_of_day, source=ProgressEntry.Source.WEB)
            )
            .select_related("voided_by")
            .order_by("-created_at", "-id")[:TODAY_ENTRIES_SHOWN]
        )
        self.entries = list(shown)

    def freshen(self, subject: User, cards: list[Card]) -> None:
        """The figures of these cards: which items wait for the recompute, the subject's own ones as the engine
        previews them now (`_freshen`), then each item's figures and what is left today."""
        _freshen(subject, [g for c in cards for g in c.goals], [m for c in cards for m in c.micro_goals])
        for card in cards:
            for micro_goal in card.micro_goals:
                logged = self.logged_today.get(micro_goal.kpi_id, Decimal(0))
                _with_figures(micro_goal, calendar=self.calendar, today=self.today, logged_today=logged)
            for goal in card.goals:
                _with_figures(goal, calendar=self.calendar, today=self.today)


def _today_data(*, viewer: User, subject: User, complete: bool = True) -> TodayData:
    """Everything Today shows, in a fixed number of queries (see the pinned test for the list). With
    complete=False only the cards' goals: the log POST reads the entries and freshens the card it answers
    with once, after its write."""
    today = subject.local_today()
    calendar, team_ids = _calendar_and_teams(subject, today)
    week_start = today - datetime.timedelta(days=today.weekday())
    week_end = week_start + datetime.timedelta(days=6)
    micro_goals = (
        selectors.micro_goal_list_for_user(user=viewer)
        .filter(assignee=subject, status=MicroGoal.Status.ACTIVE, start_date__lte=week_end, due_date__gte=week_start)
        .order_by("start_date", "due_date", "id")
    )
    goals = (
        selectors.goal_list_for_user(user=viewer)
        .filter(Q(owner_user=subject) | Q(owner_team_id__in=team_ids))
        .filter(status=Goal.Status.ACTIVE, start_date__lte=today, due_date__gte=today)
        .order_by("due_date", "id")
    )
    cards: dict[int, Card] = {}
    for micro_goal in micro_goals:
        cards.setdefault(micro_goal.kpi_id, Card(kpi=micro_goal.kpi)).micro_goals.append(micro_goal)
    for goal in goals:
        cards.setdefault(goal.kpi_id, Card(kpi=goal.kpi)).goals.append(goal)
    data = TodayData(
        today=today,
        cards=sorted(cards.values(), key=lambda c: c.kpi.name.casefold()),
        calendar=calendar,
        own_entries=selectors.entry_list_for_user(user=viewer).filter(user=subject),
        start_of_day=datetime.datetime.combine(today, datetime.time.min, tzinfo=subject.zone),
    )
    if complete:
        data.read_entries()
        data.freshen(subject, data.cards)
    return data


@dataclass(frozen=True)
class SecondLook:
    """An entry that looks implausible, held back until the rep confirms it (nothing is stored before)."""

    value: Decimal
    message: str


def _second_look(card: Card, subject: User, cleaned: dict) -> SecondLook | None:
    """A second look when the value alone exceeds the whole target of a hard goal on the card, or is many times the
    largest day the rep or their team ever logged on the KPI (goals.pace.implausible). None when it is plausible,
    not a sum, or already confirmed. Queries: 2–3 (the rep team's members, their largest day)."""
    kpi, value = card.kpi, cleaned["value"]
    if kpi.aggregation != Kpi.Aggregation.SUM or cleaned.get("confirmed") == str(value):
        return None
    targets = {goal.target_value - goal.baseline_value: goal for goal in card.goals}  # hard goals: the whole target
    membership = team_selectors.rep_membership(user=subject)
    people = {subject.pk}
    if membership is not None:
        people |= set(team_selectors.team_members(team=membership.team).values_list("user_id", flat=True))
    largest = selectors.largest_day_logged(user_ids=people, kpi=kpi)
    factor = Decimal(settings.PACER["IMPLAUSIBLE_DAY_FACTOR"])
    found = pace.implausible(value=value, whole_targets=list(targets), largest_day=largest, factor=factor)
    if found is None:
        return None
    shown = f"{kpi_value(value, kpi)} {kpi.name}"
    if found[0] == "target":
        why = f"is more than the whole target of “{targets[found[1]].title}” ({kpi_value(found[1], kpi)})"
    else:
        why = (
            f"is more than {factor} times the largest day ever logged by you or your team ({kpi_value(found[1], kpi)})"
        )
    return SecondLook(value, f"{shown} {why}. Is that right?")


def _log_form(data: TodayData, card: Card, post=None) -> ProgressLogForm:
    form = ProgressLogForm(
        post, kpis=data.kpis(), today=data.today, initial={"kpi": card.kpi.pk}, auto_id=f"log-{card.kpi.pk}-%s"
    )
    unit = {Kpi.Unit.CURRENCY: card.kpi.currency_code, Kpi.Unit.PERCENT: "%", Kpi.Unit.HOURS: "hours"}
    if unit.get(card.kpi.unit):
        form.fields["value"].label = f"Value ({unit[card.kpi.unit]})"
    return form


def _today_context(*, viewer: User, subject: User, data: TodayData, **extra) -> dict:
    for card in data.cards:
        if card.form is None and card.kpi.is_active:  # an archived KPI takes no new progress: no form
            card.form = _log_form(data, card)
    for entry in data.entries:  # no query: a rep may not rewrite what someone else logged or an import brought
        entry.can_edit = selectors.entry_rewritable_by(user=viewer, entry=entry)
    return {
        "subject": subject,
        "today": data.today,
        "cards": data.cards,
        "entries": data.entries,
        "rep_query": _rep_query(viewer, subject),
        "poll": 0,
        "poll_limit": POLL_LIMIT,
        "poll_seconds": POLL_SECONDS,
        **extra,
    }


@login_required
@require_GET
def today(request):
    subject = _subject(request)
    data = _today_data(viewer=request.user, subject=subject)
    return render(request, "goals/today.html", _today_context(viewer=request.user, subject=subject, data=data))


@login_required
@require_GET
def today_entries(request):
    """Today's entries list alone (what "Cancel" on an inline edit puts back)."""
    subject = _subject(request)
    if not request.htmx:
        return redirect(reverse("today") + _rep_query(request.user, subject))
    data = _today_data(viewer=request.user, subject=subject)
    context = _today_context(viewer=request.user, subject=subject, data=data)
    return render(request, "goals/today.html#entries", context)


@login_required
@require_POST
def today_log(request):
    """Record progress from a KPI card. With htmx: the card again (bar, pace marker, left today) and, out of
    band, today's entries; a forged KPI id answers with an error above the cards.

    The page's goals are read once, before the write, and reused for the answer: after the write only the
    subject's own entries of today are read, and only the answered card is freshened (its team goals marked
    "updating…", the subject's own goals as the engine previews them), so the POST costs the same few
    queries at 10 k and 1 M entries and for 5 or 200 reps (tests/goals/test_rep_pages.py pins them)."""
    viewer, subject = request.user, _subject(request)
    data = _today_data(viewer=viewer, subject=subject, complete=False)
    posted_kpi = request.POST.get("kpi", "")
    card = data.card(posted_kpi)
    form = ProgressLogForm(
        request.POST,
        kpis=data.kpis(),
        today=data.today,
        auto_id=f"log-{posted_kpi}-%s" if parse_id(posted_kpi) is not None else "log-%s",
    )
    flash, second_look = "", None
    if form.is_valid() and card is not None:
        second_look = _second_look(card, subject, form.cleaned_data)
    if form.is_valid() and second_look is None:
        kpi = form.cleaned_data["kpi"]
        try:
            entry = services.progress_record(
                user=subject,
                kpi=kpi,
                date=form.cleaned_data["date"],
                value=form.cleaned_data["value"],
                note=form.cleaned_data["note"],
                source=ProgressEntry.Source.WEB,
                external_id=str(form.cleaned_data["token"]),
                created_by=viewer,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            when = "today" if entry.date == data.today else day(entry.date, "weekday")
            flash = f"Logged {kpi_value(entry.value, kpi)} {kpi.name} for {when}."
            if not request.htmx:
                messages.success(request, flash)
                return redirect(reverse("today") + _rep_query(viewer, subject))
    data.read_entries()  # after the write: the new entry in the list and in today's sums
    if card is None:  # a KPI this person has nothing on: nowhere to show the form but above the cards
        if not request.htmx:
            data.freshen(subject, data.cards)
        context = _today_context(viewer=viewer, subject=subject, data=data, log_error_form=form)
        if not request.htmx:
            return render(request, "goals/today.html", context)
        response = render(request, "goals/today.html#log_alert", context)
        response["HX-Retarget"], response["HX-Reswap"] = "#log-alerts", "innerHTML"
        return response
    if form.errors or second_look:  # else the card gets a fresh form, with a new one-time token
        card.form = form
    card.flash, card.second_look = flash, second_look
    data.freshen(subject, data.cards if not request.htmx else [card])  # with htmx only the card is answered
    context = _today_context(viewer=viewer, subject=subject, data=data, card=card, flash=flash)
    if not request.htmx:
        return render(request, "goals/today.html", context)
    return render(request, "goals/today.html#log_response", context)


@login_required
@require_GET
def today_goals(request):
    """The goals of one KPI card alone: what the card polls while a team figure is updating (htmx only).

    `poll` counts the refreshes, so a recompute that never lands stops the polling after POLL_LIMIT."""
    subject = _subject(request)
    if not request.htmx:
        return redirect(reverse("today") + _rep_query(request.user, subject))
    data = _today_data(viewer=request.user, subject=subject)
    card = data.card(request.GET.get("kpi", ""))
    if card is None:
        raise Http404("No such card.")
    poll = request.GET.get("poll", "")
    context = _today_context(viewer=request.user, subject=subject, data=data, card=card)
    context["poll"] = min(int(poll), POLL_LIMIT) if poll.isdigit() else POLL_LIMIT
    return render(request, "goals/today.html#card_goals", context)


# --- inline edit and void of an entry ---------------------------------------------------------------------------


def _back_url(request) -> str | None:
    """Where the entry's form was opened from (`next`, e.g. a goal's log history), when it is on this site."""
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=False):
        return url
    return None


def _entry_form_view(request, entry_id: int, *, mode: str):
    """Edit (mode "edit") or void (mode "void") one entry. GET with htmx: the inline form for its row; POST
    with htmx: today's entries again (the row in its form while there are errors; after a change the row
    takes the focus) and, out of band, the KPI's card with fresh numbers. Without htmx, a page of its own
    that goes back to `next` (the goal's log history) or Today.

    An entry the viewer may void but not rewrite (a rep's imported entry, or one their manager logged) opens
    the edit form as an explanation with a link to void it; a forged post gets the service's refusal."""
    viewer = request.user
    entry = selectors.entry_get_for_user(user=viewer, id=entry_id)
    subject = entry.user
    today = subject.local_today()
    post = request.POST if request.method == "POST" else None
    auto_id = f"entry-{entry.pk}-%s"
    locked = mode == "edit" and not selectors.entry_rewritable_by(user=viewer, entry=entry)
    if mode == "edit":
        form = EntryEditForm(post, entry=entry, today=today, auto_id=auto_id)
    else:
        form = EntryVoidForm(post, auto_id=auto_id)
    back = _back_url(request)
    if post is not None and form.is_valid():
        try:
            if mode == "edit":
                services.progress_update(entry=entry, updated_by=viewer, **form.cleaned_data)
                done = "Entry corrected."
            else:
                services.progress_void(entry=entry, reason=form.cleaned_data["reason"], voided_by=viewer)
                done = "Entry voided; it no longer counts."
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            if not request.htmx:
                messages.success(request, done)
                return redirect(back or reverse("today") + _rep_query(viewer, subject))
            data = _today_data(viewer=viewer, subject=subject)
            context = _today_context(
                viewer=viewer, subject=subject, data=data, card=data.card(entry.kpi_id), flash=done, changed=entry
            )
            return render(request, "goals/today.html#entries_response", context)
    rep_query = _rep_query(viewer, subject)
    extra = {
        "entry": entry,
        "form": form,
        "mode": mode,
        "locked": locked,
        "rep_query": rep_query,
        "today": today,
        "back_url": back or reverse("today") + rep_query,
        "next": back or "",
    }
    if not request.htmx:
        return render(request, "goals/entry_edit.html", {**extra, "subject": subject})
    if post is None:
        if not locked:
            form.fields["value" if mode == "edit" else "reason"].widget.attrs["autofocus"] = True
        return render(request, f"goals/entry_edit.html#{mode}_row", {**extra, "inline": True})
    data = _today_data(viewer=viewer, subject=subject)
    row = {"editing": entry, "edit_form": form} if mode == "edit" else {"voiding": entry, "void_form": form}
    context = _today_context(viewer=viewer, subject=subject, data=data, locked=locked, **row)
    return render(request, "goals/today.html#entries", context)


@login_required
@require_http_methods(["GET", "POST"])
def entry_edit(request, entry_id):
    return _entry_form_view(request, entry_id, mode="edit")


@login_required
@require_http_methods(["GET", "POST"])
def entry_void(request, entry_id):
    return _entry_form_view(request, entry_id, mode="void")


# --- My goals ---------------------------------------------------------------------------------------------------


def _by_due_date(goal: Goal):
    return (goal.due_date, goal.title.casefold(), goal.pk)


@login_required
@require_GET
def my_goals(request):
    """Every goal of the person or their teams (drafts aside): active ones first, due soonest first."""
    viewer, subject = request.user, _subject(request)
    today = subject.local_today()
    membership = team_selectors.rep_membership(user=subject, on=today)
    member_of = team_selectors.active_memberships(today).filter(user=subject).values_list("team_id", flat=True)
    team_ids = team_selectors.team_ids_with_ancestors(member_of)  # the rep team is among them
    goals = list(
        selectors.goal_list_for_user(user=viewer)
        .filter(Q(owner_user=subject) | Q(owner_team_id__in=team_ids))
        .exclude(status=Goal.Status.DRAFT)
    )
    # One lookup for the owner teams' calendars and the subject's own (their rep team's; Mon–Fri without one).
    own_team_ids = {membership.team_id} if membership else set()
    owner_team_ids = {g.owner_team_id for g in goals if g.owner_team_id}
    calendars = team_selectors.calendars_for_teams(team_ids=owner_team_ids | own_team_ids)
    own_calendar = calendars[membership.team_id] if membership else WorkingCalendar()
    for goal in goals:
        calendar = calendars[goal.owner_team_id] if goal.owner_team_id else own_calendar
        _with_figures(goal, calendar=calendar, today=today)
    active = sorted((g for g in goals if g.status == Goal.Status.ACTIVE), key=_by_due_date)
    closed = sorted((g for g in goals if g.status != Goal.Status.ACTIVE), key=_by_due_date)
    context = {
        "subject": subject,
        "today": today,
        "active_goals": active,
        "closed_goals": closed[::-1],
        "rep_query": _rep_query(viewer, subject),
    }
    return render(request, "goals/my_goals.html", context)


# --- a goal's entry history -------------------------------------------------------------------------------------


@login_required
@require_GET
def goal_entries(request, goal_id):
    """The paged log history of a goal; with htmx the `history` fragment alone (the goal page includes it)."""
    goal = selectors.goal_get_for_user(user=request.user, id=goal_id)
    entries = selectors.entry_list_for_goal(user=request.user, goal=goal)
    page = Paginator(entries, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    selectors.entry_actions_for_user(user=request.user, entries=page.object_list)
    context = {
        "goal": goal,
        "page": page,
        "team_goal": goal.owner_team_id is not None,
        "history_url": reverse("goal_entries", args=[goal.id]),
    }
    template = "goals/entry_history.html#history" if request.htmx else "goals/entry_history.html"
    return render(request, template, context)
