"""Admin pages: people (invite, deactivate, reactivate, unlock) and the audit log.

Only admins (is_staff) reach them; anyone else gets a 403, anonymous users the login page. Reads go through
teams.selectors, writes through teams.services (which check the admin rule again).
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from . import selectors, services
from .forms import AuditFilterForm, InviteForm, PeopleFilterForm
from .web import add_service_errors, admin_required

PEOPLE_PER_PAGE = 50
EVENTS_PER_PAGE = 50


def _page(request, queryset, per_page):
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def _query_without_page(request):
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@admin_required
def people_list(request):
    filters = PeopleFilterForm(request.GET or None)
    search, status = "", ""
    if filters.is_valid():
        search, status = filters.cleaned_data["q"].strip(), filters.cleaned_data["status"]
    page = _page(request, selectors.people_list(search=search, status=status), PEOPLE_PER_PAGE)
    context = {
        "filters": filters,
        "page": page,
        "locked": selectors.locked_usernames(usernames=[person.username for person in page]),
        "query": _query_without_page(request),
    }
    return render(request, "teams/people_list.html", context)


@admin_required
def person_invite(request):
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            person = services.user_invite(invited_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error, field="team")
        else:
            messages.success(request, f"Invitation sent to {person.email}. {person} sets a password from the link.")
            return redirect("people_list")
    return render(request, "teams/person_invite.html", {"form": form})


def _back_to_people(request):
    """Back to the list page the admin acted from (a local path only)."""
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/people/") else reverse("people_list"))


def _act(request, person_id, action, done):
    person = selectors.person_get(id=person_id)
    try:
        action(person)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done(person))
    return _back_to_people(request)


@admin_required
def person_deactivate(request, person_id):
    """GET: what deactivating will do, with the button; POST: do it."""
    if request.method == "POST":
        return _act(
            request,
            person_id,
            lambda p: services.user_deactivate(user=p, deactivated_by=request.user),
            lambda p: f"{p} is deactivated: they can no longer log in. Their history stays.",
        )
    person = selectors.person_get(id=person_id)
    memberships = selectors.active_memberships().filter(user=person).select_related("team").order_by("team__name")
    return render(request, "teams/person_deactivate.html", {"person": person, "memberships": memberships})


@admin_required
@require_POST
def person_reactivate(request, person_id):
    return _act(request, person_id, lambda p: services.user_reactivate(user=p, reactivated_by=request.user),
                lambda p: f"{p} can log in again. Add them to a team if they work in one.")  # fmt: skip


@admin_required
@require_POST
def person_unlock(request, person_id):
    return _act(request, person_id, lambda p: services.user_unlock(user=p, unlocked_by=request.user),
                lambda p: f"{p}'s account is unlocked: they can log in now.")  # fmt: skip


@admin_required
@require_POST
def person_invitation_resend(request, person_id):
    return _act(request, person_id, lambda p: services.user_invitation_resend(user=p, resent_by=request.user),
                lambda p: f"A new invitation link is on its way to {p.email}.")  # fmt: skip


@admin_required
def audit_log(request):
    filters = AuditFilterForm(request.GET or None)
    criteria = filters.cleaned_data if filters.is_valid() else {}
    events = selectors.audit_events(**{k: v for k, v in criteria.items() if v})
    context = {
        "filters": filters,
        "page": _page(request, events, EVENTS_PER_PAGE),
        "query": _query_without_page(request),
    }
    return render(request, "teams/audit_log.html", context)
