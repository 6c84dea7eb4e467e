from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from teams.web import add_service_errors

from . import selectors, services
from .forms import NotificationSettingsForm

PAGE_SIZE = 25


def _back_to_list(request):
    """Where a plain (non-HTMX) POST returns: the list page it came from, never another site."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect("notification_list")


@login_required
def notification_list(request):
    notifications = selectors.notification_list_for_user(user=request.user)
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    # Passed here so the nav badge (context processor) reuses this count instead of querying again.
    unread = selectors.unread_count(user=request.user)
    return render(request, "notifications/list.html", {"page": page, "unread_notifications": unread})


@login_required
@require_POST
def notification_mark_read(request, notification_id):
    notification = services.notification_mark_read(user=request.user, notification_id=notification_id)
    if request.htmx:
        # The row, plus the unread count as an out-of-band swap so the header badge stays right.
        unread = selectors.unread_count(user=request.user)
        context = {"notification": notification, "unread_notifications": unread, "oob": True}
        return render(request, "notifications/list.html#row", context)
    return _back_to_list(request)


@login_required
@require_POST
def notification_mark_all_read(request):
    count = services.notifications_mark_all_read(user=request.user)
    messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} as read.")
    return _back_to_list(request)


@login_required
def notification_settings(request):
    form = NotificationSettingsForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.notification_prefs_update(user=request.user, **form.service_kwargs())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Your notification settings are saved.")
            return redirect("notification_settings")
    return render(request, "notifications/settings.html", {"form": form})
