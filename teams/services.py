"""Every write to teams and memberships. Keyword-only, one transaction each, ValidationError on bad input."""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from .models import Holiday, Membership, Team, User
from .selectors import active_memberships


@transaction.atomic
def team_create(*, name: str, parent: Team | None = None, slug: str = "", working_weekdays: str = "12345") -> Team:
    slug = slug or slugify(name)
    if Team.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": f"A team with the short name “{slug}” already exists; choose another."})
    team = Team(name=name, parent=parent, slug=slug, working_weekdays=working_weekdays)
    team.full_clean()
    team.save()
    return team


@transaction.atomic
def team_update(*, team: Team, name: str, parent: Team | None, working_weekdays: str) -> Team:
    team.name, team.parent, team.working_weekdays = name, parent, working_weekdays
    team.full_clean()
    team.save()
    return team


@transaction.atomic
def holiday_add(*, team: Team, date: datetime.date, name: str = "") -> Holiday:
    if Holiday.objects.filter(team=team, date=date).exists():
        raise ValidationError({"date": f"{date:%d %b %Y} is already a holiday of {team}."})
    holiday = Holiday(team=team, date=date, name=name)
    holiday.full_clean()
    holiday.save()
    return holiday


@transaction.atomic
def holiday_remove(*, holiday: Holiday) -> None:
    holiday.delete()


@transaction.atomic
def member_add(
    *,
    user: User,
    team: Team,
    role: str = Membership.Role.REP,
    capacity: Decimal = Decimal("1.00"),
    active_from: datetime.date | None = None,
) -> Membership:
    active_from = active_from or timezone.localdate()
    current = active_memberships(active_from).select_for_update().filter(user=user)
    if current.filter(team=team).exists():
        raise ValidationError(f"{user} is already a member of {team}; change their role or capacity instead.")
    if role == Membership.Role.REP:
        other = current.filter(role=Membership.Role.REP).select_related("team").first()
        if other:
            raise ValidationError(
                f"{user} is already a rep of {other.team} (since {other.active_from:%d %b %Y}); "
                "remove them from that team first."
            )
    membership = Membership(user=user, team=team, role=role, capacity=capacity, active_from=active_from)
    membership.full_clean()
    membership.save()
    return membership


@transaction.atomic
def member_update(*, membership: Membership, role: str, capacity: Decimal) -> Membership:
    membership.role, membership.capacity = role, capacity
    membership.full_clean()
    membership.save()
    return membership


@transaction.atomic
def member_remove(*, membership: Membership, active_to: datetime.date | None = None) -> Membership:
    """End a membership (history is kept: the row stays with its last day set)."""
    active_to = active_to or timezone.localdate()
    if membership.active_to is not None:
        raise ValidationError(f"{membership.user} already left {membership.team} on {membership.active_to:%d %b %Y}.")
    if active_to < membership.active_from:
        raise ValidationError(
            f"The last day cannot be before the membership started ({membership.active_from:%d %b %Y})."
        )
    membership.active_to = active_to
    membership.full_clean()
    membership.save(update_fields=["active_to"])
    return membership
