"""What every app's browser views share: access decorators, service errors shown on forms, date inputs.

Views import these from here (never from another app's views). Permission *rules* live in the services
and selectors; these decorators only gate whole pages by role.
"""

import datetime
from functools import wraps

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError

from .selectors import managed_team_ids


def admin_required(view):
    """Logged in and staff, else 403 (the login page for anonymous users)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_staff:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def manager_required(view):
    """Logged in and managing at least one team (or an admin), else 403. Sets request.managed_team_ids (2 queries;
    1 for an admin), which the view and the navigation (teams.context_processors) then use."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        request.managed_team_ids = managed_team_ids(user=request.user)
        if not (request.user.is_staff or request.managed_team_ids):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def add_service_errors(form: forms.Form, error: ValidationError, *, field: str | None = None, rename=None) -> None:
    """Show a service's ValidationError on the form: each message on its field when the form has that field.

    `rename` maps a model field the form does not show onto one it does (e.g. a team's slug onto its name);
    messages without a field go to `field` (None = above the form).
    """
    rename = rename or {}
    errors: list[tuple[str | None, list[str]]] = [(field, error.messages)]
    if hasattr(error, "error_dict"):
        errors = list(error.message_dict.items())
    for name, messages in errors:
        name = rename.get(name, name)
        form.add_error(name if name in form.fields else field, messages)


class DateInput(forms.DateInput):
    """A native date picker that round-trips ISO dates."""

    input_type = "date"

    def format_value(self, value):
        return value.isoformat() if isinstance(value, datetime.date) else value
