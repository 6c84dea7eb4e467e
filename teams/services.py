"""Every write to teams and memberships. Keyword-only, one transaction each, ValidationError on bad input."""

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from .audit import audit_record
from .models import AuditEvent, Holiday, Membership, Team, User
from .selectors import (
    active_memberships,
    current_or_upcoming_memberships,
    managed_team_ids,
    membership_change_refusal,
)

Kind = AuditEvent.Kind
ONE_DAY = datetime.timedelta(days=1)


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


def _span(start: datetime.date, end: datetime.date | None) -> str:
    return f"from {start:%d %b %Y} to {end:%d %b %Y}" if end else f"since {start:%d %b %Y}"


def _lock_person(user: User) -> None:
    """Serialise membership changes of one person (two admins adding them at once on PostgreSQL)."""
    User.objects.select_for_update().filter(id=user.id).first()


def _overlapping_rep_membership(
    *, user: User, start: datetime.date, end: datetime.date | None, exclude_id: int | None = None
) -> Membership | None:
    """Another rep membership of `user` whose days share at least one day with [start, end] (end None = open)."""
    overlapping = Membership.objects.filter(user=user, role=Membership.Role.REP).filter(
        Q(active_to__isnull=True) | Q(active_to__gte=start)
    )
    if end is not None:
        overlapping = overlapping.filter(active_from__lte=end)
    return overlapping.exclude(id=exclude_id).select_related("team").order_by("active_from").first()


def _overlap_error(user: User, other: Membership) -> ValidationError:
    return ValidationError(
        f"{user} is already a rep of {other.team} {_span(other.active_from, other.active_to)}: a person is a rep "
        "of one team at a time, so their entries are never counted twice. End that membership first "
        "(an admin can transfer them), or choose dates that do not overlap."
    )


def _save_membership(membership: Membership, **save_kwargs) -> None:
    """Save; the database's own rules (PostgreSQL's no-overlap exclusion, the one-current-rep-team index) are the
    last line behind the checks above, for two writes that race: their refusal reads as plain words too."""
    membership.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            membership.save(**save_kwargs)
    except IntegrityError as error:
        text = str(error)
        if "membership_rep_no_overlap" in text or "membership_one_current_rep_team" in text:
            raise ValidationError(
                f"{membership.user} already has a rep membership on some of these days: a person is a rep of one "
                "team at a time. Reload the page to see their current memberships."
            ) from error
        if "membership_one_current_per_team" in text:
            raise ValidationError(f"{membership.user} is already a member of {membership.team}.") from error
        raise


def _membership_data(membership: Membership, **extra) -> dict:
    return {
        "membership_id": membership.id,
        "team_id": membership.team_id,
        "team": membership.team.name,
        "role": membership.role,
        "capacity": str(membership.capacity),
        "active_from": membership.active_from.isoformat(),
        "active_to": membership.active_to.isoformat() if membership.active_to else None,
        **extra,
    }


@transaction.atomic
def member_add(
    *,
    added_by: User,
    user: User,
    team: Team,
    role: str = Membership.Role.REP,
    capacity: Decimal = Decimal("1.00"),
    active_from: datetime.date | None = None,
    transfer: bool = False,
) -> Membership:
    """Add `user` to `team`. Admins may add anyone but themself, as rep or manager; with `transfer` a current
    rep of another team leaves it the day before. A manager may add, to a team they manage, only a person who
    is nobody's rep or manager (and not an admin), as a rep. Refusals of the rules are PermissionDenied;
    input that cannot be stored (an overlap, a duplicate) is ValidationError."""
    active_from = active_from or timezone.localdate()
    if user.id == added_by.id:
        raise PermissionDenied("Nobody can add themself to a team; ask an admin.")
    if not added_by.is_staff:
        if team.id not in managed_team_ids(user=added_by):
            raise PermissionDenied("You can add members only to the teams you manage.")
        if role != Membership.Role.REP or transfer:
            raise PermissionDenied("Only an admin can make someone a manager or move a person between teams.")
        if user.is_staff or current_or_upcoming_memberships().filter(user=user).exists():
            raise PermissionDenied(
                f"{user} is already in a team (or an admin): only an admin can move a person between teams."
            )
    if not user.is_active:
        raise ValidationError(f"{user} is deactivated; an admin can reactivate them first.")
    _lock_person(user)
    if active_memberships(active_from).filter(user=user, team=team).exists():
        raise ValidationError(f"{user} is already a member of {team}; change their role or capacity instead.")
    moved_from = None
    if role == Membership.Role.REP:
        other = _overlapping_rep_membership(user=user, start=active_from, end=None)
        if other and transfer and other.active_from < active_from and other.team_id != team.id:
            moved_from = other
            other.active_to = active_from - ONE_DAY
            _save_membership(other, update_fields=["active_to"])
            other = _overlapping_rep_membership(user=user, start=active_from, end=None)
        if other:
            raise _overlap_error(user, other)
    membership = Membership(user=user, team=team, role=role, capacity=capacity, active_from=active_from)
    _save_membership(membership)
    if moved_from:
        summary = f"{added_by} moved {user} from {moved_from.team} to {team} as {membership.get_role_display()}"
    else:
        summary = f"{added_by} added {user} to {team} as {membership.get_role_display()}"
    extra = {"moved_from_membership_id": moved_from.id} if moved_from else {}
    kind = Kind.ROLE if role == Membership.Role.MANAGER else Kind.MEMBERSHIP
    audit_record(kind=kind, actor=added_by, subject_user=user, summary=summary,
                 data=_membership_data(membership, action="added", **extra))  # fmt: skip
    return membership


def _refuse_unless_may_change(user: User, membership: Membership) -> None:
    refusal = membership_change_refusal(user=user, membership=membership)
    if refusal:
        raise PermissionDenied(refusal)


@transaction.atomic
def member_update(*, changed_by: User, membership: Membership, role: str, capacity: Decimal) -> Membership:
    """Change a member's role (admins only) or capacity (admins, and the team's managers for reps)."""
    _refuse_unless_may_change(changed_by, membership)
    if role != membership.role and not changed_by.is_staff:
        raise PermissionDenied("Only an admin can grant or revoke the manager role.")
    _lock_person(membership.user)
    before = {"role": membership.role, "capacity": str(membership.capacity)}
    if role == Membership.Role.REP and membership.role != Membership.Role.REP:
        other = _overlapping_rep_membership(
            user=membership.user, start=membership.active_from, end=membership.active_to, exclude_id=membership.id
        )
        if other:
            raise _overlap_error(membership.user, other)
    membership.role, membership.capacity = role, capacity
    _save_membership(membership)
    after = {"role": membership.role, "capacity": str(membership.capacity)}
    if before != after:
        role_changed = before["role"] != after["role"]
        what = f"role {before['role']} → {role}" if role_changed else f"capacity {before['capacity']} → {capacity:.2f}"
        audit_record(
            kind=Kind.ROLE if role_changed else Kind.MEMBERSHIP,
            actor=changed_by,
            subject_user=membership.user,
            summary=f"{changed_by} changed {membership.user} in {membership.team}: {what}",
            data=_membership_data(membership, action="changed", before=before),
        )
    return membership


@transaction.atomic
def member_remove(*, removed_by: User, membership: Membership, active_to: datetime.date | None = None) -> Membership:
    """End a membership (history is kept: the row stays with its last day set)."""
    _refuse_unless_may_change(removed_by, membership)
    active_to = active_to or timezone.localdate()
    if membership.active_to is not None:
        raise ValidationError(f"{membership.user} already left {membership.team} on {membership.active_to:%d %b %Y}.")
    if active_to < membership.active_from:
        raise ValidationError(
            f"The last day cannot be before the membership started ({membership.active_from:%d %b %Y})."
        )
    membership.active_to = active_to
    _save_membership(membership, update_fields=["active_to"])
    audit_record(
        kind=Kind.ROLE if membership.role == Membership.Role.MANAGER else Kind.MEMBERSHIP,
        actor=removed_by,
        subject_user=membership.user,
        summary=f"{removed_by} ended {membership.user}'s membership of {membership.team} on {active_to:%d %b %Y}",
        data=_membership_data(membership, action="ended"),
    )
    return membership
