"""What the navigation may show: computed once per request, lazily (pages that don't render it pay nothing)."""

from django.utils.functional import SimpleLazyObject

from .selectors import managed_team_ids, rep_membership


def _is_manager(request) -> bool:
    if request.user.is_staff:
        return True
    managed = getattr(request, "managed_team_ids", None)  # already found by the manager pages' access check
    return bool(managed_team_ids(user=request.user) if managed is None else managed)


def _nav(request):
    user = request.user
    if not user.is_authenticated:
        return {}
    return {
        "is_admin": user.is_staff,
        "is_manager": _is_manager(request),
        "is_rep": rep_membership(user=user) is not None,
    }


def navigation(request):
    return {"nav": SimpleLazyObject(lambda: _nav(request))}
