"""Teams pages: the hierarchy, a team's members, holidays and working days.

Admins change everything. A manager manages the members and holidays of the teams they manage (and
their sub-teams). A team the user cannot see is a 404; a page their role doesn't allow is a 403.
Reads (and those decisions) go through teams.selectors, writes through teams.services.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
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
)
from .web import add_service_errors, admin_required

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
    return render(request, "teams/team_list.html", {"tree": selectors.team_tree_for_user(user=request.user)})


@admin_required
def team_create(request):
    return _team_form_page(request, team=None)


@login_required
def team_update(request, team_id):
    team = selectors.team_get_for_user(user=request.user, id=team_id)
    if not request.user.is_staff:
        raise PermissionDenied
    return _team_form_page(request, team=team)


def _team_form_page(request, *, team):
    """The team form: a new team when `team` is None, else that team's settings."""
    form = TeamForm(request.POST or None, team=team)
    if request.method == "POST" and form.is_valid():
        try:
            if team is None:
                saved = services.team_create(**form.cleaned_data)
            else:
                saved = services.team_update(team=team, **form.cleaned_data)
        except ValidationError as error:
            if team is not None:
                team.refresh_from_db()  # the service set the rejected values on it
            add_service_errors(form, error, rename={"slug": "name"})
        else:
            messages.success(request, f"Team “{saved.name}” {'created' if team is None else 'saved'}.")
            return redirect("team_detail", saved.id)
    return render(request, "teams/team_form.html", {"form": form, "team": team})


@login_required
def team_detail(request, team_id):
    team, can_manage = selectors.team_and_can_manage_for_user(user=request.user, id=team_id)
    return _render_team_page(request, team, can_manage=can_manage)


def _render_team_page(request, team, *, can_manage=True, member_form=None, holiday_form=None):
    former, upcoming = selectors.team_former_and_upcoming_members(team=team)
    members = list(selectors.team_members(team=team))
    context = {
        "team": team,
        "members": members,
        "includes_sub_teams": any(m.team_id != team.id for m in members),
        "former_members": former,
        "upcoming_members": upcoming,
        "holidays": selectors.team_holidays_in_force(team=team),
        "weekdays": WEEKDAYS,
        "can_manage": can_manage,
        "today": timezone.localdate(),
    }
    if can_manage:
        # can_manage: the user manages this team, which is all the rules need to know for its own members.
        context["changeable_ids"] = {
            m.id
            for m in members
            if m.team_id == team.id
            and not selectors.membership_change_refusal(user=request.user, membership=m, managed={team.id})
        }
        context["member_form"] = member_form or MemberAddForm(team=team, added_by=request.user)
        context["holiday_form"] = holiday_form or HolidayForm()
    return render(request, "teams/team_detail.html", context)


def _to_section(team, section):
    """Back to a section (members, holidays) of the team page, after a change without htmx."""
    return redirect(reverse("team_detail", args=[team.id]) + f"#{section}")


# --- Members (admins and the team's managers) ------------------------------------------------------------


@login_required
@require_POST
def member_add(request, team_id):
    team = selectors.team_get_managed_by(user=request.user, id=team_id)
    form = MemberAddForm(request.POST, team=team, added_by=request.user)
    if form.is_valid():
        try:
            membership = services.member_add(added_by=request.user, team=team, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error, field="user")
        else:
            messages.success(request, f"{membership.user} joined {team.name} as {membership.get_role_display()}.")
            return _to_section(team, "members")
    return _render_team_page(request, team, member_form=form)


@login_required
def member_update(request, team_id, membership_id):
    """Change a member's role or capacity; with htmx the form replaces the member's row in place."""
    team = selectors.team_get_managed_by(user=request.user, id=team_id)
    membership = _changeable_membership(request, team, membership_id)
    form = MemberUpdateForm(request.POST or None, membership=membership, changed_by=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.member_update(changed_by=request.user, membership=membership, **form.cleaned_data)
        except ValidationError as error:
            membership.refresh_from_db()
            add_service_errors(form, error)
        else:
            if request.htmx:
                context = {
                    "m": membership,
                    "team": team,
                    "can_manage": True,
                    "changeable_ids": {membership.id},
                    "today": timezone.localdate(),
                }
                return render(request, "teams/team_detail.html#member_row", context)
            messages.success(
                request, f"{membership.user}: {membership.get_role_display()}, capacity {membership.capacity:.2f}."
            )
            return _to_section(team, "members")
    return _render_member_edit(request, team, membership, form=form)


@login_required
@require_POST
def member_remove(request, team_id, membership_id):
    team = selectors.team_get_managed_by(user=request.user, id=team_id)
    membership = _changeable_membership(request, team, membership_id)
    form = MemberRemoveForm(request.POST)
    if form.is_valid():
        try:
            services.member_remove(removed_by=request.user, membership=membership, **form.cleaned_data)
        except ValidationError as error:
            membership.refresh_from_db()
            add_service_errors(form, error, field="active_to")
        else:
            messages.success(request, f"{membership.user}'s last day in {team.name}: {membership.active_to:%d %b %Y}.")
            return _to_section(team, "members")
    return _render_member_edit(request, team, membership, remove_form=form)


def _changeable_membership(request, team, membership_id):
    """A current membership of the team that the user may change: a 404 if it is not the team's, a 403 if the
    rules of membership changes refuse it (own membership; a manager's, for a manager)."""
    membership = selectors.membership_get_current(team=team, id=membership_id)
    # team_get_managed_by found that the user manages `team`, the membership's team: no need to ask again.
    if selectors.membership_change_refusal(user=request.user, membership=membership, managed={team.id}):
        raise PermissionDenied
    return membership


def _render_member_edit(request, team, membership, *, form=None, remove_form=None):
    context = {
        "team": team,
        "m": membership,
        "form": form or MemberUpdateForm(membership=membership, changed_by=request.user),
        "remove_form": remove_form or MemberRemoveForm(),
    }
    template = "teams/member_edit.html#edit_row" if request.htmx else "teams/member_edit.html"
    return render(request, template, context)


# --- Holidays (admins and the team's managers); with htmx the holidays card updates in place -------------


@login_required
@require_POST
def holiday_add(request, team_id):
    team = selectors.team_get_managed_by(user=request.user, id=team_id)
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
    team = selectors.team_get_managed_by(user=request.user, id=team_id)
    holiday = selectors.holiday_get_for_team(team=team, id=holiday_id)
    services.holiday_remove(holiday=holiday)
    if not request.htmx:
        messages.success(request, f"{holiday.date:%d %b %Y} is a working day again for {team.name}.")
    return _holidays_changed(request, team)


def _holidays_changed(request, team):
    if request.htmx:
        return _render_holidays(request, team, HolidayForm())
    return _to_section(team, "holidays")


def _render_holidays(request, team, form):
    context = {
        "team": team,
        "holidays": selectors.team_holidays_in_force(team=team),
        "holiday_form": form,
        "can_manage": True,
    }
    return render(request, "teams/team_detail.html#holidays", context)
