"""The progress ledger: record, update and void entries, each with its revision, its daily rollup and the
stale marks of what it touches (the engine in engine.py then recomputes those goals).

ProgressEntry is the only source of truth: every figure is derived from it (goals/services/engine.py).
"""

import datetime
import logging
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from goals.models import (
    VALUE,
    Goal,
    Kpi,
    MicroGoal,
    ProgressEntry,
    ProgressEntryRevision,
    StaleTarget,
)
from goals.numbers import too_many_decimals
from goals.selectors import entry_rewritable_by
from teams.audit import audit_record
from teams.calendar import org_today
from teams.models import AuditEvent, Membership, Team, User
from teams.selectors import (
    user_ids_visible_to,
)
from teams.validators import NON_ASCII_DIGITS_MESSAGE, has_non_ascii_digits, validate_pacer_date

from . import rollups
from .enqueue import request_stale_recompute

logger = logging.getLogger(__name__)

# Goals per aggregate query. 1,000 rows of 7 parameters stay far below SQLite's 250,000-variable limit
# and PostgreSQL's comfort zone, and a whole batch is written back by one UPDATE.
BATCH_SIZE = 1000
# The largest value a ProgressEntry can store (18 digits, 4 of them decimals).
MAX_VALUE = Decimal(10) ** (VALUE["max_digits"] - VALUE["decimal_places"])
# FKs are instances passed in (the database enforces them) and (source, external_id) is deduplicated
# explicitly, so full_clean skips the per-field existence and constraint queries.
_NOT_CLEANED = ["user", "kpi", "created_by", "voided_by"]


# --- the ledger ---------------------------------------------------------------------------------------


@transaction.atomic
def progress_record(
    *,
    user: User,
    kpi: Kpi,
    date: datetime.date,
    value,
    note: str = "",
    source: str = ProgressEntry.Source.WEB,
    external_id: str | None = None,
    created_by: User,
) -> ProgressEntry:
    """Log `value` of `kpi` for `user` on `date` (the user's local date) and recompute what it touches.

    Rules, each refused with a message that says what to fix:
    - value: a Decimal, an int or a numeric string (never a float: floats are inexact), finite, not
      negative (a mistake is corrected by editing or voiding the entry), with at most the KPI's
      decimal places, below 10^14.
    - date: any date up to the user's local today (history and backfills are normal); a later date is
      refused.
    - kpi: must be active (archived KPIs take no new progress).
    - created_by: the user themself, a manager of a team the user belongs to (or of a team above it),
      or an admin; anyone else gets PermissionDenied. The entry is the user's either way.
    - dedupe: with an external_id, a second call with the same (source, external_id) returns the
      first entry unchanged and counts nothing twice — also when two calls race (the database's unique
      constraint decides, the loser re-reads the winner's row). Reusing an id for a different user or
      KPI is refused.

    The day's rollup (ProgressDay) is updated in the same transaction; the goals and micro goals the
    entry touches (see `_TOUCHED_SQL`) are marked stale, and after commit one coalesced recompute is asked
    for (goals/services/recompute_queue.py).
    """
    _check_may_act(actor=created_by, user=user, verb="log")
    if not kpi.is_active:
        raise ValidationError({"kpi": f"The KPI “{kpi}” is archived: progress can no longer be logged on it."})
    value = _clean_value(value, kpi)
    date = _clean_date(date, user)
    external_id = (external_id or "").strip() or None
    entry = ProgressEntry(
        user=user,
        kpi=kpi,
        date=date,
        value=value,
        note=note.strip(),
        source=source,
        external_id=external_id,
        created_by=created_by,
    )
    entry.full_clean(exclude=_NOT_CLEANED, validate_unique=False, validate_constraints=False)
    if external_id is None:
        entry.save()
    else:
        existing = ProgressEntry.objects.filter(source=source, external_id=external_id).first()
        if existing is not None:
            return _same_entry(existing, entry)
        try:
            with transaction.atomic():  # a savepoint: a lost race must not abort the caller's transaction
                entry.save()
        except IntegrityError:
            existing = ProgressEntry.objects.filter(source=source, external_id=external_id).first()
            if existing is None:  # some other constraint failed: not a duplicate
                raise
            return _same_entry(existing, entry)
    rollups.rollup_entry_added(entry)  # h7: the daily rollup, in this transaction
    _enqueue_touched(user_id=user.pk, kpi_id=kpi.pk, dates=[date])
    return entry


@transaction.atomic
def progress_update(
    *, entry: ProgressEntry, value, note: str, date: datetime.date | None = None, updated_by: User
) -> ProgressEntry:
    """Correct an entry's value, note and (optionally) date, with the same value and date rules as
    `progress_record`. Voided entries cannot be edited. Corrections stay possible after the KPI is
    archived. Recomputes the goals touched by the old and the new date.

    - An unchanged date is never checked again: after the rep moves to a timezone where that day is still
      ahead (Tokyo → Pago Pago), a note or value correction of today's entry is still accepted.
    - A rep cannot rewrite an entry someone else logged for them or one that was imported: they void it
      with a reason and log the right value; their manager (or an admin) can edit it.
    - Every change writes a ProgressEntryRevision (old and new value, date and note) and an audit event;
      an edit that changes nothing writes nothing.
    """
    entry = ProgressEntry.objects.select_for_update(of=("self",)).select_related("kpi", "user").get(pk=entry.pk)
    _check_may_act(actor=updated_by, user=entry.user, verb="edit")
    if entry.is_voided:
        raise ValidationError(
            f"This entry was voided on {entry.voided_at:%d %b %Y} and cannot be edited; log a new entry instead."
        )
    _check_may_rewrite(actor=updated_by, entry=entry)
    before = _figures_of(entry)
    entry.value = _clean_value(value, entry.kpi)
    entry.note = note.strip()
    if date is not None and date != before.date:
        entry.date = _clean_date(date, entry.user)
    if _figures_of(entry) == before:
        return entry
    entry.full_clean(exclude=_NOT_CLEANED, validate_unique=False, validate_constraints=False)
    entry.save(update_fields=["value", "note", "date", "updated_at"])
    _record_revision(entry, kind=ProgressEntryRevision.Kind.EDITED, before=before, changed_by=updated_by)
    rollups.rollup_days_refresh(user_id=entry.user_id, kpi_id=entry.kpi_id, dates=[before.date, entry.date])  # h7
    _enqueue_touched(user_id=entry.user_id, kpi_id=entry.kpi_id, dates=[before.date, entry.date])
    return entry


@transaction.atomic
def progress_void(*, entry: ProgressEntry, reason: str, voided_by: User) -> ProgressEntry:
    """Void an entry: it stays in the ledger with who, when and why, and never counts again.

    Entries are never deleted. A reason is required; voiding an entry twice is refused. Anyone who may
    edit the person's progress may void any of their entries (also one a manager logged or an import
    brought); the void is recorded as a ProgressEntryRevision and an audit event.
    """
    entry = ProgressEntry.objects.select_for_update(of=("self",)).select_related("kpi", "user").get(pk=entry.pk)
    _check_may_act(actor=voided_by, user=entry.user, verb="void")
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why this entry is voided (the reason is kept with it)."})
    if len(reason) > (ProgressEntry._meta.get_field("void_reason").max_length or len(reason)):
        raise ValidationError({"reason": "Keep the reason under 500 characters."})
    if entry.is_voided:
        raise ValidationError(f"This entry was already voided on {entry.voided_at:%d %b %Y} by {entry.voided_by}.")
    entry.voided_at, entry.voided_by, entry.void_reason = timezone.now(), voided_by, reason
    entry.save(update_fields=["voided_at", "voided_by", "void_reason", "updated_at"])
    _record_revision(
        entry, kind=ProgressEntryRevision.Kind.VOIDED, before=_figures_of(entry), changed_by=voided_by, reason=reason
    )
    rollups.rollup_days_refresh(user_id=entry.user_id, kpi_id=entry.kpi_id, dates=[entry.date])  # h7
    _enqueue_touched(user_id=entry.user_id, kpi_id=entry.kpi_id, dates=[entry.date])
    return entry


class _Figures(NamedTuple):
    value: Decimal
    date: datetime.date
    note: str


def _figures_of(entry: ProgressEntry) -> _Figures:
    return _Figures(entry.value, entry.date, entry.note)


def _check_may_rewrite(*, actor: User, entry: ProgressEntry) -> None:
    if entry_rewritable_by(user=actor, entry=entry):
        return
    how = "was imported" if entry.source == ProgressEntry.Source.IMPORT else "was logged for you by someone else"
    raise PermissionDenied(
        f"This entry {how}, so you cannot rewrite it: void it with a reason and log the right value, "
        "or ask your manager to correct it."
    )


def _as_text(figures: _Figures, kpi: Kpi) -> dict[str, str]:
    return {"value": str(figures.value.quantize(kpi.quantum)), "date": figures.date.isoformat(), "note": figures.note}


def _record_revision(
    entry: ProgressEntry, *, kind: str, before: _Figures, changed_by: User, reason: str = ""
) -> ProgressEntryRevision:
    """The entry's trail (shown under it in the log history) and the organisation's audit log, in the same
    transaction as the change."""
    revision = ProgressEntryRevision.objects.create(
        entry=entry,
        kind=kind,
        changed_by=changed_by,
        old_value=before.value,
        new_value=entry.value,
        old_date=before.date,
        new_date=entry.date,
        old_note=before.note,
        new_note=entry.note,
        reason=reason,
    )
    voided = kind == ProgressEntryRevision.Kind.VOIDED
    old, new = _as_text(before, entry.kpi), _as_text(_figures_of(entry), entry.kpi)
    what = f"{entry.kpi} entry of {entry.user} for {old['date']}"
    if voided:
        summary = f"Voided {what} ({new['value']}): {reason}"
    else:
        changes = [f"{name} {old[name]} → {new[name]}" for name in _Figures._fields if old[name] != new[name]]
        summary = f"Edited {what}: {'; '.join(changes)}"
    audit_record(
        kind=AuditEvent.Kind.ENTRY_VOID if voided else AuditEvent.Kind.ENTRY_EDIT,
        actor=changed_by,
        subject_user=entry.user,
        summary=summary,
        data={
            "entry_id": entry.pk,
            "revision_id": revision.pk,
            "old": old,
            "new": new,
            **({"reason": reason} if voided else {}),
        },
    )
    return revision


def _check_may_act(*, actor: User, user: User, verb: str) -> None:
    """The user themself, an admin, or a manager of a team the user is in (one or two queries)."""
    if actor.pk == user.pk or actor.is_staff:
        return
    if user.pk not in user_ids_visible_to(user=actor):
        raise PermissionDenied(f"You can only {verb} progress for yourself or for members of the teams you manage.")


def _clean_value(value, kpi: Kpi) -> Decimal:
    if isinstance(value, float | bool):
        raise ValidationError(
            {"value": "Give the value as a Decimal or a string such as “12.50”, not a float (floats are inexact)."}
        )
    if isinstance(value, str) and has_non_ascii_digits(value):
        raise ValidationError({"value": NON_ASCII_DIGITS_MESSAGE.format(text=value.strip())})
    try:
        number = value if isinstance(value, Decimal) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError({"value": f"“{value}” is not a number."}) from None
    if not number.is_finite():
        raise ValidationError({"value": "The value must be a finite number (not NaN or Infinity)."})
    if number < 0:
        raise ValidationError(
            {"value": "The value cannot be negative: to correct a mistake, edit or void the entry instead."}
        )
    if number >= MAX_VALUE:
        raise ValidationError({"value": f"The value must be below {MAX_VALUE:,}."})
    if number != number.quantize(kpi.quantum):
        raise ValidationError({"value": too_many_decimals(kpi, number)})
    return number.quantize(kpi.quantum) + 0  # + 0 turns -0 into 0


def _clean_date(day, user: User) -> datetime.date:
    if not isinstance(day, datetime.date) or isinstance(day, datetime.datetime):
        raise ValidationError({"date": "Give the date as a calendar date (YYYY-MM-DD), not a time."})
    try:
        validate_pacer_date(day)
    except ValidationError as error:
        raise ValidationError({"date": error.messages}) from None
    today = user.local_today()
    if day > today:
        raise ValidationError(
            {
                "date": f"{day:%d %b %Y} is in the future for {user} (today is {today:%d %b %Y} in "
                f"{user.timezone}); progress can be logged for today or any earlier date."
            }
        )
    return day


def _same_entry(existing: ProgressEntry, attempted: ProgressEntry) -> ProgressEntry:
    """The already-recorded entry for a repeated external id, if it is really the same fact."""
    if existing.user_id != attempted.user_id or existing.kpi_id != attempted.kpi_id:
        raise ValidationError(
            {
                "external_id": f"The {attempted.source} id “{attempted.external_id}” was already used for "
                "another person's or another KPI's entry; send a new id."
            }
        )
    return existing


def _enqueue_touched(*, user_id: int, kpi_id: int, dates: Iterable[datetime.date]) -> None:
    """Mark what the change touches stale (coalesced: no recompute task per entry): ONE statement that finds the
    goals and micro goals (`_TOUCHED_SQL`) and inserts their stale marks, then, after commit, one request for
    the coalesced recompute when anything was marked."""
    ops = connection.ops
    # Calendar days that surely cover FORECAST_HISTORY_WORKING_DAYS working days (weekends, holidays).
    history = datetime.timedelta(days=2 * settings.PACER["FORECAST_HISTORY_WORKING_DAYS"] + 14)
    days = sorted(set(dates))
    if not days:
        return
    today = ops.adapt_datefield_value(org_today())
    params: list = [
        x for day in days for x in (ops.adapt_datefield_value(day), ops.adapt_datefield_value(day + history))
    ]
    rep = Membership.Role.REP.value
    params += [user_id, rep, rep, today, today]
    now = ops.adapt_datetimefield_value(timezone.now())
    params += [now, StaleTarget.Kind.GOAL.value, Goal.Status.ACTIVE.value, kpi_id, user_id]
    params += [now, StaleTarget.Kind.MICRO_GOAL.value, MicroGoal.Status.ACTIVE.value, kpi_id, user_id]
    sql = _TOUCHED_SQL.format(
        days=", ".join(["(%s, %s)"] * len(days)),
        **{name: ops.quote_name(model._meta.db_table) for name, model in _TOUCHED_TABLES.items()},
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        marked = cursor.rowcount
    if marked > 0:
        transaction.on_commit(request_stale_recompute)


_TOUCHED_TABLES = {"membership": Membership, "team": Team, "goal": Goal, "micro": MicroGoal, "stale": StaleTarget}
# The active goals and micro goals an entry of this user and KPI on these dates counts for, marked stale.
# Goals on the KPI whose window contains a date, owned by the user or by a team the user was a rep of on a date,
# or any team above it; the user's micro goals on the KPI whose window contains a date. A forecast also reads
# the history before its window (goals/pace.py): so the same goals and micro goals starting within that history
# after a date (`horizon`), and — for the team fallback of the prior — the personal goals and micro goals,
# starting after a date, of those teams' reps today. With two dates (an edit that moves an entry) this may
# include a goal that only one date touches through the other date's team: a harmless extra recompute, never a
# missed one. Portable: PostgreSQL and SQLite both take a recursive CTE as an INSERT's query (the INSERT first,
# so that SQLite's driver reports the rowcount).
_TOUCHED_SQL = """
INSERT INTO {stale} (kind, target_id, marked_at)
WITH RECURSIVE
days (day, horizon) AS (VALUES {days}),
teams (id) AS (
    SELECT m.team_id FROM {membership} m JOIN days d
      ON m.active_from <= d.day AND (m.active_to IS NULL OR m.active_to >= d.day)
    WHERE m.user_id = %s AND m.role = %s
    UNION
    SELECT t.parent_id FROM {team} t JOIN teams ON t.id = teams.id WHERE t.parent_id IS NOT NULL
),
teammates (user_id) AS (
    SELECT m.user_id FROM {membership} m
    WHERE m.role = %s AND m.team_id IN (SELECT id FROM teams)
      AND m.active_from <= %s AND (m.active_to IS NULL OR m.active_to >= %s)
)
SELECT kind, target_id, marked_at FROM (
    SELECT %s AS marked_at, %s AS kind, g.id AS target_id FROM {goal} g
    WHERE g.status = %s AND g.kpi_id = %s AND (
        ((g.owner_user_id = %s OR g.owner_team_id IN (SELECT id FROM teams))
         AND EXISTS (SELECT 1 FROM days d WHERE g.start_date <= d.horizon AND g.due_date >= d.day))
        OR (g.owner_user_id IN (SELECT user_id FROM teammates)
            AND EXISTS (SELECT 1 FROM days d WHERE g.start_date > d.day AND g.start_date <= d.horizon)))
    UNION ALL
    SELECT %s, %s, mg.id FROM {micro} mg
    WHERE mg.status = %s AND mg.kpi_id = %s AND (
        (mg.assignee_id = %s
         AND EXISTS (SELECT 1 FROM days d WHERE mg.start_date <= d.horizon AND mg.due_date >= d.day))
        OR (mg.assignee_id IN (SELECT user_id FROM teammates)
            AND EXISTS (SELECT 1 FROM days d WHERE mg.start_date > d.day AND mg.start_date <= d.horizon)))
) AS touched
"""
