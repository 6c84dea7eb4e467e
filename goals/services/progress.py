"""The progress ledger (record, update, void) and the engine that derives every goal's numbers from it.

ProgressEntry is the only source of truth. `progress_recompute` rebuilds the derived fields of goals
and micro goals (current, expected, forecast, health, computed_at) from the entries alone, so running
it twice, for some goals or for all, in batches of any size, always gives the same values.

Decisions (the arithmetic itself lives in goals/pace.py, with the pace, forecast and health rules):

- Which entries count for a goal: non-voided entries on the goal's KPI dated inside
  [start_date, due_date], logged by the owner user, or — for a team goal — by anyone who
  was a *rep* of the owner team or one of its sub-teams on the entry's date (a rep who moved teams
  counts for the team they were in that day; managers' own entries do not count for their team).
  Capacity does not scale a rep's contribution: a half-time rep's deal is a whole deal (capacity only
  weighs how a team target is split into micro goals).
- Micro goals: the same with owner = assignee, the micro goal's KPI and window, and a baseline of 0.
- current value, "sum" KPI: the sum of the counted entries. The baseline is where pace starts (normally
  0) and is not added: entries are absolute amounts.
- current value, "last" KPI: the value of the latest counted entry (latest date, then latest
  created_at); for a team, the sum over its reps of each rep's latest value; the baseline while
  nothing has been logged yet.
- Pace, forecast and health use the owner team's working calendar; for an individual goal or a micro
  goal, the calendar of the owner's current rep team, or Monday–Friday without holidays when they
  have none. "today" defaults to the organisation's local date (settings.TIME_ZONE) and only moves the
  pace: which entries count never depends on it. (progress_record already refuses dates after the
  rep's own local today, so a rep in Tokyo whose Tuesday starts while the organisation is still on
  Monday sees their entry count at once, whichever clock runs the recompute.)
- Only active goals and micro goals are recomputed: a closed goal keeps the numbers it closed with.
"""

import datetime
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from goals import pace
from goals.models import (
    VALUE,
    Goal,
    GoalRevision,
    Health,
    Kpi,
    MicroGoal,
    ProgressDay,
    ProgressEntry,
    ProgressEntryRevision,
    StaleTarget,
)
from goals.numbers import exact_sum
from goals.selectors import entry_rewritable_by
from teams.audit import audit_record
from teams.calendar import WorkingCalendar, org_today
from teams.models import AuditEvent, Membership, Team, User
from teams.selectors import (
    active_memberships,
    calendars_for_teams,
    team_ids_with_descendants,
    team_parents,
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
DEFAULT_CALENDAR = WorkingCalendar()
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
    if len(reason) > ProgressEntry._meta.get_field("void_reason").max_length:
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
        allowed = "whole numbers only" if kpi.decimal_places == 0 else f"at most {kpi.decimal_places} decimals"
        raise ValidationError({"value": f"{kpi} takes {allowed}; {number} has more."})
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
    params = [x for day in days for x in (ops.adapt_datefield_value(day), ops.adapt_datefield_value(day + history))]
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


# --- the engine -----------------------------------------------------------------------------------------


class Recomputed(NamedTuple):
    goals: int
    micro_goals: int


@dataclass(frozen=True)
class _Target:
    """A goal or a micro goal, reduced to what the engine needs."""

    id: int
    kpi: Kpi
    user_id: int | None
    team_id: int | None
    start: datetime.date
    due: datetime.date
    baseline: Decimal
    target: Decimal


def progress_recompute(
    *,
    goal_ids: Iterable[int] | None = None,
    micro_goal_ids: Iterable[int] | None = None,
    today: datetime.date | None = None,
    batch_size: int | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> Recomputed:
    """Recompute current, expected, forecast, health and computed_at from the entries.

    With neither goal_ids nor micro_goal_ids: every active goal and micro goal. With either: exactly
    those ids (the other one None means none); ids that are not active are skipped. `on_batch(n)` is
    called after each batch of n (for progress bars). Returns how many of each were recomputed.

    Set-based: per batch of `batch_size` goals (module BATCH_SIZE by default) a fixed number of
    queries, however many entries there are: lock the batch's rows, read the owners' rep teams and
    their calendars, ONE aggregate query for every goal of the batch, ONE UPDATE writing them all.
    Each batch is its own transaction, so a full run never holds every goal's row lock at once; the
    row lock makes a concurrent recompute of the same goals wait and then read the newer entries,
    so a slower, older run can never overwrite a newer result.
    """
    today = today or timezone.localdate()
    batch_size = batch_size or BATCH_SIZE
    if goal_ids is None and micro_goal_ids is None:
        goal_ids = Goal.objects.filter(status=Goal.Status.ACTIVE).values_list("id", flat=True)
        micro_goal_ids = MicroGoal.objects.filter(status=MicroGoal.Status.ACTIVE).values_list("id", flat=True)
    now = timezone.now()
    done = {}
    for model, ids in ((Goal, goal_ids), (MicroGoal, micro_goal_ids)):
        ids = sorted(set(ids or ()))
        done[model] = 0
        for first in range(0, len(ids), batch_size):
            batch = ids[first : first + batch_size]
            with transaction.atomic():
                done[model] += _recompute_batch(model, batch, today=today, now=now)
            if on_batch:
                on_batch(len(batch))
    return Recomputed(goals=done[Goal], micro_goals=done[MicroGoal])


def _recompute_batch(model, ids: list[int], *, today: datetime.date, now: datetime.datetime) -> int:
    rows = _figures(_targets(model, ids, lock=True), today=today)
    if rows:
        _write(model, rows, now=now)
    return len(rows)


def _figures(targets: list[_Target], *, today: datetime.date) -> list[tuple]:
    """(id, current, expected, forecast, forecast_low, forecast_high, chance, health) of each target: the
    calendars, one aggregate over the rollups, and the history (one aggregate, plus the owners' capacities)."""
    if not targets:
        return []
    run_rate_days = settings.PACER["RUN_RATE_WORKING_DAYS"]
    calendars = _calendars(targets, today=today)
    windows = [
        pace.window(calendar, start=t.start, due=t.due, today=today, run_rate_days=run_rate_days)
        for t, calendar in zip(targets, calendars, strict=True)
    ]
    sums = _aggregate(targets, windows)
    history = _history_rates(targets, calendars, today=today)
    return [
        (t.id, *_progress(t, w, sums.get(row_no), history[row_no]))
        for row_no, (t, w) in enumerate(zip(targets, windows, strict=True))
    ]


def progress_preview(
    *, goal_ids: Iterable[int] = (), micro_goal_ids: Iterable[int] = (), today: datetime.date | None = None
) -> dict[tuple[type, int], tuple]:
    """What a recompute would give these active goals and micro goals now, without writing or locking.

    {(Goal or MicroGoal, id): (current, expected, forecast, forecast_low, forecast_high, chance, health)}. For a response that must show a
    rep's own figures at once while the coalesced recompute (which writes them) is on its way: the same
    engine, rules and rollups, but no goal row lock, so a request never waits on a running recompute.
    A fixed number of queries per kind: the targets, their calendars and one aggregate.
    """
    today = today or timezone.localdate()
    preview = {}
    for model, ids in ((Goal, goal_ids), (MicroGoal, micro_goal_ids)):
        ids = sorted(set(ids))
        if ids:
            for target_id, *figures in _figures(_targets(model, ids, lock=False), today=today):
                preview[model, target_id] = tuple(figures)
    return preview


_TARGET_FIELDS = {
    Goal: ("id", "owner_user_id", "owner_team_id", "start_date", "due_date", "baseline_value", "target_value"),
    MicroGoal: ("id", "assignee_id", None, "start_date", "due_date", None, "target_value"),
}
_KPI_FIELDS = [f.attname for f in Kpi._meta.concrete_fields]


def _targets(model, ids: list[int], *, lock: bool) -> list[_Target]:
    """The active ones of these ids, in id order, with their KPI (one query; rows, not model instances:
    a full recompute reads 10,000s of them). With lock, their rows stay locked until the batch commits."""
    rows = model.objects.filter(id__in=ids, status=model.Status.ACTIVE).order_by("id")
    if lock:  # in id order, so two runs over overlapping batches cannot deadlock
        rows = rows.select_for_update(of=("self",))
    own = [name for name in _TARGET_FIELDS[model] if name]
    kpis: dict[int, Kpi] = {}
    targets = []
    for values in rows.values_list(*own, *(f"kpi__{name}" for name in _KPI_FIELDS)):
        fields = dict(zip(own, values[: len(own)], strict=True))
        kpi_values = values[len(own) :]
        kpi = kpis.get(kpi_values[0]) or kpis.setdefault(kpi_values[0], Kpi.from_db(None, _KPI_FIELDS, kpi_values))
        user_field, team_field, _, _, baseline_field = _TARGET_FIELDS[model][1:6]
        targets.append(
            _Target(
                fields["id"],
                kpi,
                fields[user_field],
                fields[team_field] if team_field else None,
                fields["start_date"],
                fields["due_date"],
                fields[baseline_field] if baseline_field else Decimal(0),
                fields["target_value"],
            )
        )
    return targets


def _calendars(targets: list[_Target], *, today: datetime.date) -> list[WorkingCalendar]:
    """Each target's working calendar: its owner team's, else its owner's current rep team's (4 queries)."""
    users = {t.user_id for t in targets if t.team_id is None}
    rep_team = dict(
        active_memberships(today)
        .filter(role=Membership.Role.REP, user_id__in=users)
        .order_by("active_from")  # should history overlap, the latest membership wins
        .values_list("user_id", "team_id")
    )
    team_ids = [t.team_id or rep_team.get(t.user_id) for t in targets]
    calendars = calendars_for_teams(team_ids={t for t in team_ids if t}) if any(team_ids) else {}
    return [calendars.get(team_id, DEFAULT_CALENDAR) for team_id in team_ids]


def _team_stints(carry: str) -> str:
    """The CTEs `tree`, `stints` and `covered` that both engine queries use, so "which rep counts for a team goal on
    which day" is written once: every team below the scope row's team, each rep membership there clipped to the
    row's [start_date, end_date], and `covered_to`, the last day an earlier stint of the same person already
    covers. `carry` names the scope columns the query needs further on (e.g. "s.split, s.today")."""
    return """tree (row_no, team_id) AS (
    SELECT row_no, team_id FROM scope WHERE team_id IS NOT NULL
    UNION ALL
    SELECT tree.row_no, child.id FROM {team} child JOIN tree ON child.parent_id = tree.team_id
),
stints AS (
    SELECT s.row_no, s.kpi_id, m.user_id, /*carry*/, m.id AS membership_id,
           CASE WHEN m.active_from > s.start_date THEN m.active_from ELSE s.start_date END AS from_date,
           CASE WHEN m.active_to IS NULL OR m.active_to > s.end_date THEN s.end_date ELSE m.active_to END AS to_date
    FROM scope s JOIN tree ON tree.row_no = s.row_no JOIN {membership} m ON m.team_id = tree.team_id
    WHERE m.role = %s AND m.active_from <= s.end_date AND (m.active_to IS NULL OR m.active_to >= s.start_date)
),
covered AS (
    SELECT stints.*,
           MAX(to_date) OVER (
               PARTITION BY row_no, user_id ORDER BY from_date, membership_id
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
           ) AS covered_to
    FROM stints
),
""".replace("/*carry*/", carry)


# One row per target of the batch: (row_no, sum, sum of each owner's latest value, recent sum).
# Reads the daily rollup (ProgressDay: one row per user, KPI and day with the day's sum and latest entry,
# goals/services/rollups.py), never the entries themselves: a day's rows count or not as a whole, since
# the rules only ever depend on an entry's date. For "last", the latest day's last_value is the latest entry.
# Portable SQL (SQLite >= 3.33 and PostgreSQL). The team tree is walked by a recursive CTE; a team goal
# becomes its "stints": each rep membership in its tree, clipped to the goal's window, so every entry is
# fetched through its own index (kpi, user, date) — never "every entry of the KPI, per team goal" — and
# counts for the team the rep was in on the entry's date. Should one person's rep memberships in one
# tree overlap (a backdated membership), an entry counts only in the first stint covering its date:
# `covered_to` is the last day the earlier stints already cover (the later stint starts the day after).
# Spans that several targets share — the same rep's stint in a team goal, its region's and the org's, or the
# rep's own goal over the same window — are "pieces", each read from the rollup ONCE per batch and summed
# back into every target that has it. For "last" KPIs a piece's latest value is its last day's (one
# index lookup); each owner's latest over their spans is ranked, for "last" targets only.
_AGGREGATE_SQL = """
WITH RECURSIVE
scope (row_no, kpi_id, user_id, team_id, start_date, end_date, recent_from, is_level) AS (
    VALUES {scope}
),
/*team_stints*/team_reps AS (
    SELECT row_no, kpi_id, user_id, recent_from, is_level, to_date,
           CASE WHEN covered_to IS NULL OR covered_to < from_date THEN from_date ELSE {day_after_covered} END
               AS from_date
    FROM covered
),
spans AS (
    SELECT row_no, kpi_id, user_id, start_date AS from_date, end_date AS to_date, recent_from, is_level
    FROM scope WHERE team_id IS NULL
    UNION ALL
    SELECT row_no, kpi_id, user_id, from_date, to_date, recent_from, is_level FROM team_reps
),
pieces AS (
    SELECT DISTINCT kpi_id, user_id, from_date, to_date, recent_from FROM spans
),
piece_days AS (
    SELECT p.kpi_id, p.user_id, p.from_date, p.to_date, p.recent_from, e.date AS day, e.total AS amount
    FROM pieces p JOIN {day} e ON e.kpi_id = p.kpi_id AND e.user_id = p.user_id
    WHERE e.entry_count > 0 AND e.date >= p.from_date AND e.date <= p.to_date
),
piece_totals AS (
    SELECT kpi_id, user_id, from_date, to_date, recent_from, MAX(day) AS last_day,
           SUM(amount) AS total, SUM(CASE WHEN day >= recent_from THEN amount ELSE 0 END) AS recent
    FROM piece_days
    GROUP BY kpi_id, user_id, from_date, to_date, recent_from
),
span_totals AS (
    SELECT s.row_no, s.user_id, s.is_level, t.total, t.recent, t.last_day, d.last_value
    FROM spans s
    JOIN piece_totals t ON t.kpi_id = s.kpi_id AND t.user_id = s.user_id AND t.from_date = s.from_date
                        AND t.to_date = s.to_date AND t.recent_from = s.recent_from
    LEFT JOIN {day} d ON s.is_level = 1 AND d.kpi_id = t.kpi_id AND d.user_id = t.user_id AND d.date = t.last_day
),
ranked AS (
    SELECT span_totals.*, ROW_NUMBER() OVER (PARTITION BY row_no, user_id ORDER BY last_day DESC) AS recency
    FROM span_totals
)
SELECT row_no, SUM(total), SUM(CASE WHEN is_level = 1 AND recency = 1 THEN last_value END), SUM(recent)
FROM ranked
GROUP BY row_no
""".replace("/*team_stints*/", _team_stints("s.recent_from, s.is_level"))


# A batch without team goals (individual goals, micro goals): one span per target, no tree, no pieces. A
# query of its own, because the planner cannot see inside the VALUES list that the team parts are empty
# and would otherwise plan nested loops over them.
_INDIVIDUAL_SQL = """
WITH
scope (row_no, kpi_id, user_id, team_id, start_date, end_date, recent_from, is_level) AS (
    VALUES {scope}
),
totals AS (
    SELECT s.row_no, s.kpi_id, s.user_id, s.is_level, MAX(e.date) AS last_day, SUM(e.total) AS total,
           SUM(CASE WHEN e.date >= s.recent_from THEN e.total ELSE 0 END) AS recent
    FROM scope s JOIN {day} e ON e.kpi_id = s.kpi_id AND e.user_id = s.user_id
    WHERE e.entry_count > 0 AND e.date >= s.start_date AND e.date <= s.end_date
    GROUP BY s.row_no, s.kpi_id, s.user_id, s.is_level
)
SELECT t.row_no, t.total, d.last_value, t.recent
FROM totals t
LEFT JOIN {day} d ON t.is_level = 1 AND d.kpi_id = t.kpi_id AND d.user_id = t.user_id AND d.date = t.last_day
"""


def _aggregate(
    targets: list[_Target], windows: list[pace.Window]
) -> dict[int, tuple[Decimal, Decimal | None, Decimal]]:
    """{row_no: (sum, sum of latest per owner or None, recent sum)} for the targets with counted entries.

    ONE query for the whole batch.
    """
    ops, params = connection.ops, []
    for row_no, (t, w) in enumerate(zip(targets, windows, strict=True)):
        dates = (t.start, t.due, w.recent_from)
        is_level = int(t.kpi.aggregation == Kpi.Aggregation.LAST)
        params += [row_no, t.kpi.id, t.user_id, t.team_id, *(ops.adapt_datefield_value(d) for d in dates), is_level]
    # Casts, because PostgreSQL would type a column of only NULLs as text.
    scope = ", ".join(["(%s, %s, CAST(%s AS BIGINT), CAST(%s AS BIGINT), %s, %s, %s, %s)"] * len(targets))
    teams = any(t.team_id for t in targets)
    sql = (_AGGREGATE_SQL if teams else _INDIVIDUAL_SQL).format(
        scope=scope,
        day=ops.quote_name(ProgressDay._meta.db_table),
        team=ops.quote_name(Team._meta.db_table),
        membership=ops.quote_name(Membership._meta.db_table),
        day_after_covered="covered_to + 1" if connection.vendor == "postgresql" else "date(covered_to, '+1 day')",
    )
    if connection.vendor == "postgresql":
        # The planner cannot see inside the VALUES list: it overestimates the rows by orders of magnitude
        # and JIT-compiles the query (~200 ms of compiling per batch for a query that runs in ~50 ms), or,
        # for a batch of one team goal, underestimates them and joins the spans back to their pieces by
        # nested loops (quadratic: ~1 s for an org-wide goal). Hash joins are right for both. SET LOCAL,
        # in the same statement: the query count stays the same on every database.
        sql = ("SET LOCAL jit = off; SET LOCAL enable_nestloop = off; " if teams else "SET LOCAL jit = off; ") + sql
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *([Membership.Role.REP.value] if teams else [])])
        return {row[0]: tuple(exact_sum(x) for x in row[1:]) for row in cursor.fetchall()}


def _progress(target: _Target, w: pace.Window, sums, history: "_History") -> tuple:
    """(current, expected, forecast, forecast_low, forecast_high, chance, health) of one target."""
    kpi, quantum = target.kpi, target.kpi.quantum
    # Nothing counted yet: a flow stands at 0, a level at its baseline.
    total, latest, recent = sums or (Decimal(0), target.baseline, Decimal(0))
    is_level = kpi.aggregation == Kpi.Aggregation.LAST
    current = latest if is_level else total
    expected = pace.expected_value(
        baseline=target.baseline, target=target.target, elapsed=w.elapsed, total=w.total, quantum=quantum
    )
    plan_rate = (target.target - target.baseline) / w.total if w.total else Decimal(0)
    today_open = w.completed < w.elapsed  # today is a working day of the window, still being logged
    if is_level:  # how far the level moved from the baseline per elapsed working day; the plan as prior
        own_rate, prior, seen = (current - target.baseline) / max(1, w.elapsed), plan_rate, w.elapsed
    else:
        own_rate = pace.run_rate(
            recent_total=recent, logged_today=history.logged_today, recent_days=w.recent_days, today_open=today_open
        )
        prior = history.prior_rate if history.prior_rate is not None else plan_rate
        seen = w.completed
    rate = pace.blended_rate(
        run_rate=own_rate,
        elapsed=seen,
        prior_rate=prior,
        credibility_days=settings.PACER["FORECAST_CREDIBILITY_WORKING_DAYS"],
        is_level=is_level,
    )
    forecast = pace.forecast_value(
        current=current,
        rate=rate,
        left=w.left,
        quantum=quantum,
        today_open=today_open and not is_level,
        logged_today=history.logged_today,
    )
    sigma = pace.forecast_spread(sd=history.daily_sd, left=w.left, is_level=is_level)
    low, high = pace.forecast_range(forecast=forecast, current=current, sigma=sigma, is_level=is_level, quantum=quantum)
    chance = pace.chance_percent(
        forecast=forecast, target=target.target, sigma=sigma, higher_is_better=kpi.higher_is_better
    )
    health = pace.health(
        current=current,
        forecast=forecast,
        baseline=target.baseline,
        target=target.target,
        higher_is_better=kpi.higher_is_better,
        at_risk_ratio=Decimal(str(settings.PACER["HEALTH_AT_RISK_FORECAST_RATIO"])),
    )
    if health == Health.ACHIEVED:
        chance = 100
    return current, expected, forecast, low, high, chance, health


# --- history: the prior rate and the day-to-day spread of the forecast ----------------------------------------


@dataclass(frozen=True)
class _History:
    prior_rate: Decimal | None  # the owner's daily rate before the window (or their team's per capacity); None: unknown
    daily_sd: Decimal  # spread of the owner's daily totals over the history period and the window so far
    logged_today: Decimal = Decimal(0)  # what counted entries dated today add up to


# Per scope row: the counted days of the daily rollup (ProgressDay, the engine's rule, as in _AGGREGATE_SQL)
# over [start_date, end_date], summed per day; then the sum before `split` (the window's start), the number of such days, and the sum and
# sum of squares of every day's total. Which reps count for a team shares _team_stints with _AGGREGATE_SQL.
_HISTORY_SQL = """
WITH RECURSIVE
scope (row_no, kpi_id, user_id, team_id, start_date, end_date, split, today) AS (
    VALUES {scope}
),
/*team_period*//*team_stints*/counted AS (
    SELECT s.row_no, e.date AS day, e.total AS amount, s.split, s.today
    FROM scope s JOIN {day} e ON e.kpi_id = s.kpi_id AND e.user_id = s.user_id
    WHERE e.entry_count > 0 AND e.date >= s.start_date AND e.date <= s.end_date
    UNION ALL
    SELECT r.row_no, e.date AS day, e.total AS amount, r.split, r.today
    FROM covered r JOIN {day} e ON e.kpi_id = r.kpi_id AND e.user_id = r.user_id
    WHERE e.entry_count > 0 AND e.date >= r.from_date AND e.date <= r.to_date
      AND (r.covered_to IS NULL OR e.date > r.covered_to)
),
daily AS (
    SELECT row_no, day, split, today, SUM(amount) AS amount FROM counted GROUP BY row_no, day, split, today
)
SELECT row_no,
       SUM(CASE WHEN day < split THEN amount ELSE 0 END),
       SUM(CASE WHEN day < split THEN 1 ELSE 0 END),
       SUM(amount),
       SUM(amount * amount),
       SUM(CASE WHEN day = today THEN amount ELSE 0 END)
FROM daily GROUP BY row_no
/*team_periods*/""".replace("/*team_stints*/", _team_stints("s.split, s.today"))
# The team histories behind the persons' fallback priors. A team's daily totals do not depend on the period asked
# for (a rep counts for the team on the days they were its rep, once a day however their stints overlap; clipping
# the stints to a period only drops days outside it), so each (KPI, rep team) is ONE scope row over the union of its
# periods, and each period (`team_period`: its own row_no, its team's scope row, its first and last day) sums its
# days of that row's `daily` totals. Read once per period, a team's rollup was ~215 k of a batch's ~245 k rows at
# 1 M entries (200 periods of 50 teams; now ~90 k): the history query's largest cost.
_TEAM_PERIOD_CTE = "team_period (row_no, team_row, from_date, to_date) AS (VALUES {periods}),\n"
_TEAM_PERIODS_SQL = """
UNION ALL
SELECT p.row_no, SUM(d.amount), NULL, NULL, NULL, NULL
FROM team_period p JOIN daily d ON d.row_no = p.team_row AND d.day >= p.from_date AND d.day <= p.to_date
GROUP BY p.row_no
"""


def _history_rates(targets: list[_Target], calendars: list[WorkingCalendar], *, today: datetime.date) -> list[_History]:
    """Each target's prior daily rate and daily spread (goals/pace.py, "forecast"), for the whole batch with ONE
    aggregate query, plus 2 for the capacities of the personal owners' rep teams.

    History period: the FORECAST_HISTORY_WORKING_DAYS working days before the window's start. The prior is the
    owner's sum over it ÷ its working days when they logged anything then; else, for a person, their rep team's
    sum ÷ the team's rep capacity × their capacity; else None (the engine then uses the plan's rate). The spread
    is over the history period and the window through today. "last" KPIs need neither (a level forecasts itself).
    """
    history_days = settings.PACER["FORECAST_HISTORY_WORKING_DAYS"]
    capacity, team_capacity = _rep_capacities(targets, today=today)
    ops, params, periods = connection.ops, [], []
    n = len(targets)

    def add(row_no, kpi_id, user_id, team_id, first, last, split):
        dates = (first, last, split, today)
        params.extend([row_no, kpi_id, user_id, team_id, *(ops.adapt_datefield_value(d) for d in dates)])

    # The team history behind a person's fallback prior depends only on (KPI, rep team, period): one period row for
    # all the team's reps with that period, and one scope row per (KPI, rep team) over all its periods
    # (_TEAM_PERIODS_SQL), not one read of the team's rollup per person (~30 s of a 34 s full recompute at 1 M).
    team_rows: dict[tuple, int] = {}  # (KPI, rep team, first, window start) -> its period's row
    team_row_of: dict[int, int] = {}  # a person's row -> the row of their team's period
    team_spans: dict[tuple, list] = {}  # (KPI, rep team) -> [first day, last day] over its periods
    for row_no, (t, calendar) in enumerate(zip(targets, calendars, strict=True)):
        first = calendar.add_working_days(t.start, -history_days)
        last = max(first, min(today, t.due))
        periods.append((calendar.count(first, t.start - datetime.timedelta(days=1)), calendar.count(first, last)))
        if t.kpi.aggregation == Kpi.Aggregation.LAST:
            continue  # a level needs neither a prior nor a spread
        add(row_no, t.kpi.id, t.user_id, t.team_id, first, last, t.start)
        if t.team_id is None and t.user_id in capacity:
            team_id = capacity[t.user_id][0]
            key = (t.kpi.id, team_id, first, t.start)
            if key not in team_rows:
                team_rows[key] = n + row_no
                span = team_spans.setdefault(key[:2], [first, t.start - datetime.timedelta(days=1)])
                span[0], span[1] = min(span[0], first), max(span[1], t.start - datetime.timedelta(days=1))
            team_row_of[row_no] = team_rows[key]
    team_row = {pair: 2 * n + i for i, pair in enumerate(team_spans)}  # (KPI, rep team) -> its scope row
    for (kpi_id, team_id), (first, last) in team_spans.items():
        # split after the span: the row's own figures are never read, only its daily totals (in the periods)
        add(team_row[kpi_id, team_id], kpi_id, None, team_id, first, last, last + datetime.timedelta(days=1))
    period_params = []
    for (kpi_id, team_id, first, start), period_row in team_rows.items():
        days = (first, start - datetime.timedelta(days=1))
        period_params += [period_row, team_row[kpi_id, team_id], *(ops.adapt_datefield_value(d) for d in days)]
    rows_in_scope = len(params) // 8
    scope = ", ".join(["(%s, %s, CAST(%s AS BIGINT), CAST(%s AS BIGINT), %s, %s, %s, %s)"] * rows_in_scope)
    team_period, team_periods = "", ""
    if team_rows:
        team_period = _TEAM_PERIOD_CTE.format(periods=", ".join(["(%s, %s, %s, %s)"] * len(team_rows)))
        team_periods = _TEAM_PERIODS_SQL
    sql = (
        _HISTORY_SQL.replace("/*team_period*/", team_period)
        .replace("/*team_periods*/", team_periods)
        .format(
            scope=scope,
            team=ops.quote_name(Team._meta.db_table),
            day=ops.quote_name(ProgressDay._meta.db_table),
            membership=ops.quote_name(Membership._meta.db_table),
        )
    )
    if connection.vendor == "postgresql":
        sql = "SET LOCAL jit = off; " + sql  # as _aggregate's: the VALUES list makes the planner JIT-compile
    with connection.cursor() as cursor:
        if rows_in_scope:
            cursor.execute(sql, [*params, *period_params, Membership.Role.REP.value])
        stats = {
            row[0]: (_sum(row[1]), int(row[2] or 0), _sum(row[3]), _sum(row[4]), _sum(row[5]))
            for row in (cursor.fetchall() if rows_in_scope else [])
        }

    result = []
    for row_no, (t, (days_before, days_all)) in enumerate(zip(targets, periods, strict=True)):
        before, active_days, total, squares, logged_today = stats.get(row_no, (Decimal(0), 0, *[Decimal(0)] * 3))
        prior = None
        if active_days and days_before:
            prior = before / days_before
        elif row_no in team_row_of and team_row_of[row_no] in stats and days_before:
            team_id, own_capacity = capacity[t.user_id]
            if team_capacity.get(team_id):
                prior = stats[team_row_of[row_no]][0] / days_before / team_capacity[team_id] * own_capacity
        sd = pace.daily_sd(total=total, squares=squares, days=days_all)
        result.append(_History(prior, sd, logged_today if t.start <= today <= t.due else Decimal(0)))
    return result


def _sum(number) -> Decimal:
    return exact_sum(number) or Decimal(0)


def _rep_capacities(targets: list[_Target], *, today: datetime.date) -> tuple[dict, dict]:
    """({user id: (rep team id, capacity)} for the personal owners, {team id: total rep capacity of its tree}).
    Queries: 3 (the owners' rep memberships, the team tree, the trees' rep memberships); none without owners."""
    users = {t.user_id for t in targets if t.team_id is None}
    if not users:
        return {}, {}
    capacity = {
        user_id: (team_id, Decimal(cap))
        for user_id, team_id, cap in active_memberships(today)
        .filter(role=Membership.Role.REP, user_id__in=users)
        .order_by("active_from")  # the latest membership wins, as in _calendars
        .values_list("user_id", "team_id", "capacity")
    }
    if not capacity:
        return {}, {}
    parents = team_parents()
    trees = {team_id: team_ids_with_descendants([team_id], parents=parents) for team_id, _ in capacity.values()}
    per_team: dict[int, Decimal] = {}
    for team_id, cap in (
        active_memberships(today)
        .filter(role=Membership.Role.REP, team_id__in=set().union(*trees.values()))
        .values_list("team_id", "capacity")
    ):
        per_team[team_id] = per_team.get(team_id, Decimal(0)) + Decimal(cap)
    team_capacity = {root: sum((per_team.get(t, Decimal(0)) for t in tree), Decimal(0)) for root, tree in trees.items()}
    return capacity, team_capacity


_UPDATE_SQL = """
UPDATE {table}
SET current_value = v.column2, expected_value = v.column3, forecast_value = v.column4,
    forecast_low = v.column5, forecast_high = v.column6, chance_pct = v.column7,
    health = v.column8, computed_at = %s
FROM (VALUES {rows}) AS v
WHERE {table}.id = v.column1
"""


def _write(model, rows: list[tuple], *, now: datetime.datetime) -> None:
    """Write a whole batch with ONE statement (bulk_update would split it into many on SQLite)."""
    ops, params = connection.ops, [connection.ops.adapt_datetimefield_value(now)]
    for goal_id, current, expected, forecast, low, high, chance, health in rows:
        values = (current, expected, forecast, low, high)
        params += [goal_id, *(ops.adapt_decimalfield_value(x, **VALUE) for x in values), chance, health]
    # Casts: PostgreSQL types a VALUES column from its first row, and SQLite needs none.
    row = "(%s, %s, %s, %s, %s, %s, CAST(%s AS INTEGER), %s)"
    sql = _UPDATE_SQL.format(table=ops.quote_name(model._meta.db_table), rows=", ".join([row] * len(rows)))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# --- closing ---------------------------------------------------------------------------------------------


@transaction.atomic
def goals_close_due(*, today: datetime.date) -> list[int]:
    """Close every active goal and micro goal whose due date is before `today`: achieved when a fresh
    recompute finds the target reached, missed otherwise. Goals get closed_at and a `closed` revision.

    Safe to run twice or concurrently: the due rows are locked (a concurrent run skips them), and the
    status change is conditional on the row still being active, so nothing is closed twice. Returns the
    ids of the goals this run closed.
    """
    due = Goal.objects.select_for_update(skip_locked=True).filter(status=Goal.Status.ACTIVE, due_date__lt=today)
    due_micro = MicroGoal.objects.select_for_update(skip_locked=True).filter(
        status=MicroGoal.Status.ACTIVE, due_date__lt=today
    )
    goal_ids = list(due.order_by("id").values_list("id", flat=True))
    micro_goal_ids = list(due_micro.order_by("id").values_list("id", flat=True))
    progress_recompute(goal_ids=goal_ids, micro_goal_ids=micro_goal_ids, today=today)
    now = timezone.now()
    _close(Goal.objects.filter(id__in=goal_ids, status=Goal.Status.ACTIVE), Goal.Status, closed_at=now)
    _close(MicroGoal.objects.filter(id__in=micro_goal_ids, status=MicroGoal.Status.ACTIVE), MicroGoal.Status)
    closed = list(Goal.objects.filter(id__in=goal_ids, closed_at=now).order_by("id"))
    GoalRevision.objects.bulk_create(
        GoalRevision(
            goal=goal,
            kind=GoalRevision.Kind.CLOSED,
            reason=f"Due date {goal.due_date:%d %b %Y} passed at {goal.current_value} of {goal.target_value}.",
            changes={"status": [Goal.Status.ACTIVE.value, goal.status]},
        )
        for goal in closed
    )
    return [goal.id for goal in closed]


def _close(active, status, **fields) -> None:
    """Achieved or missed, from the health just recomputed. `active` only matches rows still active, so
    the second update skips what the first closed and a repeated run closes nothing."""
    active.filter(health=Health.ACHIEVED).update(status=status.ACHIEVED, **fields)
    active.update(status=status.MISSED, **fields)
