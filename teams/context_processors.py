"""What the navigation may show: computed once per request, lazily (pages that don't render it pay nothing)."""

from django.utils.functional import SimpleLazyObject

from .selectors import managed_team_ids, rep_membership


def _nav(user):
    if not user.is_authenticated:
        return {}
    return {
        "is_admin": user.is_staff,
        "is_manager": user.is_staff or bool(managed_team_ids(user=user)),
        "is_rep": rep_membership(user=user) is not None,
    }


def navigation(request):
    return {"nav": SimpleLazyObject(lambda: _nav(request.user))}
