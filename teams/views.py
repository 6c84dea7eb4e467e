"""Teams pages: the hierarchy, a team's members, holidays and working days.

Admins change everything. A manager manages the members and holidays of the teams they manage (and
their sub-teams). A team the user cannot see is a 404; a page their role doesn't allow is a 403.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from . import selectors, services
from .forms import (
    WEEKDAYS,
    HolidayForm,
    MemberAddForm,
    MemberRemoveForm,
    MemberUpdateForm,
    TeamForm,
    add_service_errors,
)
from .models import Holiday, Membership, Team


def admin_required(view):
    """Logged in and staff, else 403 (the login page for anonymous users)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_staff:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


# --- Reads these pages need that teams.selectors does not offer yet (candidates to move there) -----------


def _team_and_can_manage(user, team_id) -> tuple[Team, bool]:
    """The team, and whether the user manages it (admin, or manager of it or a team above); 404 if not visible."""
    if team_id in selectors.managed_team_ids(user=user):
        return get_object_or_404(Team.objects.select_related("parent"), id=team_id), True
    return selectors.team_get_for_user(user=user, id=team_id), False


def _managed_team(user, team_id) -> Team:
    """The team if the user may manage its members and holidays: 404 if they can't see it, 403 if only see it."""
    team, can_manage = _team_and_can_manage(user, team_id)
    if not can_manage:
        raise PermissionDenied
    return team


def _current_membership(team: Team, membership_id: int) -> Membership:
    """A current membership of exactly this team (a forged id from another team is a 404)."""
    members = selectors.active_memberships().filter(team=team).select_related("user", "team")
    return get_object_or_404(members, id=membership_id)


def _past_and_upcoming_members(team: Team) -> tuple[list[Membership], list[Membership]]:
    """Memberships of this team that ended before today, and those that start after today (one query)."""
    today = timezone.localdate()
    rows = (
        Membership.objects.filter(team=team)
        .filter(Q(active_to__lt=today) | Q(active_from__gt=today))
        .select_related("user")
        .order_by("-active_to", "active_from")
    )
    former, upcoming = [], []
    for membership in rows:
        (former if membership.active_from <= today else upcoming).append(membership)
    return former, upcoming


def _holidays_in_force(team: Team) -> list[Holiday]:
    """The team's own holidays and those of every team above it (two queries)."""
    team_ids = selectors.team_ids_with_ancestors([team.id])
    return list(Holiday.objects.filter(team_id__in=team_ids).select_related("team").order_by("date"))


def _as_tree(teams) -> list[dict]:
    """Nested {"team", "children"} nodes, siblings by name; a team whose parent is not visible is a root."""
    nodes = {team.id: {"team": team, "children": []} for team in sorted(teams, key=lambda t: t.name.casefold())}
    roots = []
    for node in nodes.values():
        parent_id = node["team"].parent_id
        (nodes[parent_id]["children"] if parent_id in nodes else roots).append(node)
    return roots


# --- Pages ----------------------------------------------------------------------------------------------


@login_required
def home(request):
    """Everyone lands on the page their role works from: managers their dashboard, reps their day."""
    if request.user.is_staff or selectors.managed_team_ids(user=request.user):
        return redirect("dashboard")
    if selectors.rep_membership(user=request.user):
        return redirect("today")
    return redirect("team_list")


@login_required
def team_list(request):
    teams = selectors.team_list_for_user(user=request.user)
    return render(request, "teams/team_list.html", {"tree": _as_tree(teams)})


@admin_required
def team_create(request):
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            team = services.team_create(**form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error, rename={"slug": "name"})
        else:
            messages.success(request, f"Team “{team.name}” created.")
            return redirect("team_detail", team.id)
    return render(request, "teams/team_form.html", {"form": form, "team": None})


@login_required
def team_update(request, team_id):
    team = selectors.team_get_for_user(user=request.user, id=team_id)
    if not request.user.is_staff:
        raise PermissionDenied
    form = TeamForm(request.POST or None, team=team)
    if request.method == "POST" and form.is_valid():
        try:
            services.team_update(team=team, **form.cleaned_data)
        except ValidationError as error:
            team.refresh_from_db()  # the service set the rejected values on it
            add_service_errors(form, error)
        else:
            messages.success(request, f"Team “{team.name}” saved.")
            return redirect("team_detail", team.id)
    return render(request, "teams/team_form.html", {"form": form, "team": team})


@login_required
def team_detail(request, team_id):
    team, can_manage = _team_and_can_manage(request.user, team_id)
    return _render_team_page(request, team, can_manage=can_manage)


def _render_team_page(request, team, *, can_manage=True, member_form=None, holiday_form=None):
    former, upcoming = _past_and_upcoming_members(team)
    members = list(selectors.team_members(team=team))
    context = {
        "team": team,
        "members": members,
        "includes_sub_teams": any(m.team_id != team.id for m in members),
        "former_members": former,
        "upcoming_members": upcoming,
        "holidays": _holidays_in_force(team),
        "weekdays": WEEKDAYS,
        "can_manage": can_manage,
        "today": timezone.localdate(),
    }
    if can_manage:
        context["member_form"] = member_form or MemberAddForm(team=team)
        context["holiday_form"] = holiday_form or HolidayForm()
    return render(request, "teams/team_detail.html", context)


# --- Members (admins and the team's managers) ------------------------------------------------------------


@login_required
@require_POST
def member_add(request, team_id):
    team = _managed_team(request.user, team_id)
    form = MemberAddForm(request.POST, team=team)
    if form.is_valid():
        try:
            membership = services.member_add(team=team, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error, field="user")
        else:
            messages.success(request, f"{membership.user} joined {team.name} as {membership.get_role_display()}.")
            return redirect(reverse("team_detail", args=[team.id]) + "#members")
    return _render_team_page(request, team, member_form=form)


@login_required
def member_update(request, team_id, membership_id):
    """Change a member's role or capacity; with htmx the form replaces the member's row in place."""
    team = _managed_team(request.user, team_id)
    membership = _current_membership(team, membership_id)
    form = MemberUpdateForm(request.POST or None, membership=membership)
    if request.method == "POST" and form.is_valid():
        try:
            services.member_update(membership=membership, **form.cleaned_data)
        except ValidationError as error:
            membership.refresh_from_db()
            add_service_errors(form, error)
        else:
            if request.htmx:
                context = {"m": membership, "team": team, "can_manage": True, "today": timezone.localdate()}
                return render(request, "teams/team_detail.html#member_row", context)
            messages.success(
                request, f"{membership.user}: {membership.get_role_display()}, capacity {membership.capacity:.2f}."
            )
            return redirect(reverse("team_detail", args=[team.id]) + "#members")
    return _render_member_edit(request, team, membership, form=form)


@login_required
@require_POST
def member_remove(request, team_id, membership_id):
    team = _managed_team(request.user, team_id)
    membership = _current_membership(team, membership_id)
    form = MemberRemoveForm(request.POST)
    if form.is_valid():
        try:
            services.member_remove(membership=membership, **form.cleaned_data)
        except ValidationError as error:
            membership.refresh_from_db()
            add_service_errors(form, error, field="active_to")
        else:
            messages.success(request, f"{membership.user}'s last day in {team.name}: {membership.active_to:%d %b %Y}.")
            return redirect(reverse("team_detail", args=[team.id]) + "#members")
    return _render_member_edit(request, team, membership, remove_form=form)


def _render_member_edit(request, team, membership, *, form=None, remove_form=None):
    context = {
        "team": team,
        "m": membership,
        "form": form or MemberUpdateForm(membership=membership),
        "remove_form": remove_form or MemberRemoveForm(),
    }
    template = "teams/member_edit.html#edit_row" if request.htmx else "teams/member_edit.html"
    return render(request, template, context)


# --- Holidays (admins and the team's managers); with htmx the holidays card updates in place -------------


@login_required
@require_POST
def holiday_add(request, team_id):
    team = _managed_team(request.user, team_id)
    form = HolidayForm(request.POST)
    if form.is_valid():
        try:
            holiday = services.holiday_add(team=team, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error, field="date")
        else:
            if not request.htmx:
                messages.success(request, f"{holiday.date:%d %b %Y} is now a holiday of {team.name}.")
            return _holidays_changed(request, team)
    if request.htmx:
        return _render_holidays(request, team, form)
    return _render_team_page(request, team, holiday_form=form)


@login_required
@require_POST
def holiday_remove(request, team_id, holiday_id):
    team = _managed_team(request.user, team_id)
    holiday = get_object_or_404(Holiday, id=holiday_id, team=team)
    services.holiday_remove(holiday=holiday)
    if not request.htmx:
        messages.success(request, f"{holiday.date:%d %b %Y} is a working day again for {team.name}.")
    return _holidays_changed(request, team)


def _holidays_changed(request, team):
    if request.htmx:
        return _render_holidays(request, team, HolidayForm())
    return redirect(reverse("team_detail", args=[team.id]) + "#holidays")


def _render_holidays(request, team, form):
    context = {"team": team, "holidays": _holidays_in_force(team), "holiday_form": form, "can_manage": True}
    return render(request, "teams/team_detail.html#holidays", context)
