"""Every write to teams and memberships. Keyword-only, one transaction each, ValidationError on bad input."""

import datetime
import logging
from decimal import Decimal

from axes.utils import reset as axes_reset
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
    team_ids_with_ancestors,
)

logger = logging.getLogger(__name__)
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
    """A team's holiday applies to every team below it, so a date the team or a team above it already has is
    refused (it would change nothing, yet every page would say the plans it touches are out of date)."""
    same = Holiday.objects.filter(team_id__in=team_ids_with_ancestors([team.id]), date=date).select_related("team")
    existing = same.order_by("team_id").first()
    if existing is not None and existing.team_id == team.id:
        raise ValidationError({"date": f"{date:%d %b %Y} is already a holiday of {team}."})
    if existing is not None:
        raise ValidationError(
            {"date": f"{date:%d %b %Y} is already a holiday of {team}: {existing.team} has it, and a team's holidays "
                     "apply to every team below it."}
        )  # fmt: skip
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
    if exclude_id is not None:
        overlapping = overlapping.exclude(id=exclude_id)
    return overlapping.select_related("team").order_by("active_from").first()


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
    """Change a member's role (admins only) or capacity (admins, and the team's managers for reps) of a current or
    upcoming membership."""
    _refuse_unless_may_change(changed_by, membership)
    if membership.active_to is not None and membership.active_to < timezone.localdate():
        # It decided whose entries counted, with what capacity, on the days it covered: history stays as it was.
        raise ValidationError(
            f"{membership.user} left {membership.team} on {membership.active_to:%d %b %Y}: an ended membership "
            "cannot be changed."
        )
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


# --- People: invitations, deactivation, unlocking (admins only) ---------------------------------------------


def _refuse_unless_admin(actor: User, what: str) -> None:
    if not actor.is_staff:
        raise PermissionDenied(f"Only an admin can {what}.")


def _send_invitation_after_commit(user: User) -> None:
    from .tasks import send_invitation_email  # tasks import services: imported here to avoid the cycle

    def enqueue():
        try:
            send_invitation_email.delay(user.id)
        except Exception:  # the broker is down: the admin can resend from the People page
            logger.warning("Could not queue the invitation email of user %s", user.id, exc_info=True)

    transaction.on_commit(enqueue)


@transaction.atomic
def user_invite(
    *,
    invited_by: User,
    first_name: str,
    last_name: str,
    email: str,
    timezone: str = "UTC",
    team: Team | None = None,
    role: str = Membership.Role.REP,
) -> User:
    """Create a person who sets their own password through a one-time link (Django's password-reset token: it
    stops working once a password is set or after PASSWORD_RESET_TIMEOUT). Their username is their email.
    With a team they join it from today, under the same rules as member_add."""
    _refuse_unless_admin(invited_by, "invite people")
    email = User.objects.normalize_email(email.strip()).lower()
    if User.objects.filter(Q(email__iexact=email) | Q(username__iexact=email)).exists():
        raise ValidationError({"email": f"Someone already has a Pacer login with {email}."})
    user = User(username=email, email=email, first_name=first_name.strip(), last_name=last_name.strip(),
                timezone=timezone)  # fmt: skip
    user.set_unusable_password()
    user.full_clean()
    user.save()
    summary = f"{invited_by} invited {user} ({email})"
    if team is not None:
        membership = member_add(added_by=invited_by, user=user, team=team, role=role)
        summary += f" to {team} as {membership.get_role_display()}"
    audit_record(kind=Kind.INVITATION, actor=invited_by, subject_user=user, summary=summary,
                 data={"email": email, "team_id": team.id if team else None, "role": role if team else None})  # fmt: skip
    _send_invitation_after_commit(user)
    return user


@transaction.atomic
def user_invitation_resend(*, user: User, resent_by: User) -> User:
    _refuse_unless_admin(resent_by, "send invitations")
    if user.has_usable_password() or user.last_login:
        raise ValidationError(f"{user} has already set a password; they can log in.")
    if not user.is_active:
        raise ValidationError(f"{user} is deactivated; reactivate them first.")
    audit_record(kind=Kind.INVITATION, actor=resent_by, subject_user=user,
                 summary=f"{resent_by} sent {user} a new invitation link", data={"email": user.email, "resent": True})  # fmt: skip
    _send_invitation_after_commit(user)
    return user


@transaction.atomic
def user_deactivate(*, user: User, deactivated_by: User) -> User:
    """Refuse the person's logins from now on (their open sessions and API tokens stop working too: Django and
    DRF reject inactive users). Their memberships end today through member_remove; goals, entries and history
    are kept."""
    _refuse_unless_admin(deactivated_by, "deactivate people")
    if user.id == deactivated_by.id:
        raise PermissionDenied("You cannot deactivate yourself; ask another admin.")
    if not user.is_active:
        raise ValidationError(f"{user} is already deactivated.")
    today = timezone.localdate()
    ended = []
    for membership in active_memberships(today).filter(user=user, active_to__isnull=True).select_related("team"):
        member_remove(removed_by=deactivated_by, membership=membership, active_to=today)
        ended.append(membership.team.name)
    user.is_active = False
    user.save(update_fields=["is_active"])
    audit_record(kind=Kind.DEACTIVATION, actor=deactivated_by, subject_user=user,
                 summary=f"{deactivated_by} deactivated {user}" + (f"; left {', '.join(ended)}" if ended else ""),
                 data={"action": "deactivated", "memberships_ended": ended})  # fmt: skip
    return user


@transaction.atomic
def user_reactivate(*, user: User, reactivated_by: User) -> User:
    """Let the person log in again. Memberships are not restored: add them to a team again."""
    _refuse_unless_admin(reactivated_by, "reactivate people")
    if user.is_active:
        raise ValidationError(f"{user} is already active.")
    user.is_active = True
    user.save(update_fields=["is_active"])
    audit_record(kind=Kind.DEACTIVATION, actor=reactivated_by, subject_user=user,
                 summary=f"{reactivated_by} reactivated {user}", data={"action": "reactivated"})  # fmt: skip
    return user


@transaction.atomic
def user_unlock(*, user: User, unlocked_by: User) -> int:
    """Clear the failed logins that lock the person's account (django-axes' records). Returns how many were
    cleared. An address locked by guesses at other accounts stays locked (unlock it in the Django admin)."""
    _refuse_unless_admin(unlocked_by, "unlock accounts")
    cleared = axes_reset(username=user.username)
    audit_record(kind=Kind.LOCKOUT, actor=unlocked_by, subject_user=user,
                 summary=f"{unlocked_by} unlocked {user}'s account", data={"action": "unlocked", "cleared": cleared})  # fmt: skip
    return cleared
