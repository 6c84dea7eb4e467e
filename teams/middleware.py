"""Per request: dates in the signed-in user's own timezone; refused requests in the audit log."""

import zoneinfo

from django.core.exceptions import PermissionDenied
from django.urls import get_resolver, get_urlconf
from django.utils import timezone

from .audit import audit_record
from .auth import client_ip
from .models import AuditEvent


class UserTimezoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            timezone.activate(zoneinfo.ZoneInfo(user.timezone))
        else:
            timezone.deactivate()
        return self.get_response(request)


class PermissionDeniedAuditMiddleware:
    """A refused page or action is one audit event and one log line, not a traceback per 403.

    Turns a view's PermissionDenied into the project's 403 page itself (Django would log it with its traceback),
    after recording who was refused what. Anonymous users never get here: they are sent to the login page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, PermissionDenied):
            return None
        user = request.user if request.user.is_authenticated else None
        audit_record(
            kind=AuditEvent.Kind.PERMISSION_DENIED,
            actor=user,
            summary=f"{user or 'Anonymous'} was refused {request.method} {request.path}",
            data={"method": request.method, "path": request.path[:500], "reason": str(exception)[:300]},
            ip=client_ip(request),
        )
        handler = get_resolver(get_urlconf()).resolve_error_handler(403)
        return handler(request, exception=exception)
