"""Many entries at once: a CRM's bulk sync (the API) and CSV imports (browser and `manage.py import_progress`).

`progress_import` validates EVERY row first, set-based (a fixed number of queries however many rows: people, KPIs,
who the importer may log for, external ids already stored), and writes nothing if any row is wrong: the caller gets
every error with its line. A clean batch is inserted by `_entries_insert` (the one place the ledger is written in
bulk) with its days' rollups (ProgressDay); everything it touched is marked stale for ONE coalesced recompute.

100,000 rows take seconds (docs/benchmarks.md, "import"): validation builds no model instances (plain `NewEntry`
rows), and on PostgreSQL the rows go in with ONE `COPY … FROM STDIN` (ids taken from the table's sequence first, so
the result and the webhooks know them) and the rollup with ONE set-based upsert over those ids. SQLite keeps the
portable path (bulk_create, then the rollup per 900 entries), with the same ledger and rollup.

The rules are `progress_record`'s, row by row: a value with at most the KPI's decimals, not negative, not a float;
a date up to the person's local today (backdated rows are normal: CRM sync lag); an active KPI; the importer is
the person, their manager or an admin. People are given by id, username or email; KPIs by id or name.
Idempotent on external_id: a row whose (source, external_id) is already stored for the same person and KPI is
skipped (counted as unchanged); the same id for another person or KPI is an error, as is an id repeated in a file.
"""

import datetime
import io
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from goals.models import Goal, Kpi, MicroGoal, ProgressEntry
from teams.models import Membership, User
from teams.selectors import team_ids_with_ancestors, user_ids_visible_to
from teams.validators import date_bounds

from .progress import _clean_date, _clean_value
from .recompute_queue import targets_mark_stale
from .rollups import rollups_add_entries

INSERT_BATCH = 2000
LOOKUP_CHUNK = 5000  # ids per IN (...) query: far below SQLite's and PostgreSQL's parameter limits
NOTE_MAX, EXTERNAL_ID_MAX = 500, 200  # ProgressEntry.note's and external_id's max_length
# A plain decimal in ASCII digits ("1250.50"): parsed straight to a Decimal, then `_clean_value` applies every rule.
# Anything else (signs, exponents, other digits, junk) goes to `_clean_value` as text, for its exact message.
_PLAIN_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+", re.ASCII)


@dataclass
class ImportRow:
    """One row as given: `line` is what error messages cite (a file's line number, or a list index)."""

    line: int
    user: str
    kpi: str
    date: datetime.date | str
    value: Decimal | str | int
    note: str = ""
    external_id: str = ""


@dataclass
class RowError:
    line: int
    field: str
    message: str


class ImportRejected(ValidationError):
    """At least one row is wrong: nothing was imported. `errors` lists every problem by line."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__([f"Line {e.line}, {e.field}: {e.message}" for e in errors[:50]])


@dataclass(slots=True)
class NewEntry:
    """A validated row to insert: ids and clean values only (no model instance per row). `id` is set on insert."""

    user_id: int
    kpi_id: int
    date: datetime.date
    value: Decimal
    note: str
    external_id: str | None
    id: int | None = None


@dataclass
class ImportResult:
    created: int = 0
    unchanged: int = 0
    entry_ids: list[int] = field(default_factory=list)


def progress_import_check(
    *,
    rows: list[ImportRow],
    imported_by: User,
    source: str = ProgressEntry.Source.IMPORT,
    progress: Callable[[list[ImportRow]], Iterable[ImportRow]] = lambda rows: rows,
) -> tuple[list[NewEntry], int]:
    """Validate every row (nothing is written): the entries to create, and how many rows are already stored.
    Raises ImportRejected with every error. Queries: about 6, plus one for the external ids (on SQLite one per
    5,000). `progress` wraps the rows as they are checked (the command's progress bar)."""
    errors: list[RowError] = []
    users = _people(rows, imported_by)
    kpis = _kpis(rows)
    today_of: dict[int, datetime.date] = {}
    earliest = date_bounds()[0]
    # Files repeat the same people, KPIs, dates and values on thousands of rows: each distinct raw value is
    # resolved (and its messages written) once. The messages only depend on the value, so they are the same.
    user_of: dict = {}
    kpi_of: dict = {}
    date_of: dict = {}
    date_errors: dict[tuple[int, datetime.date], list[str]] = {}
    values: dict[tuple[int, str], tuple[Decimal | None, list[str]]] = {}
    entries: list[tuple[ImportRow, NewEntry]] = []
    for row in progress(rows):
        line, wrong = row.line, False
        if (user := user_of.get(row.user, _UNSEEN)) is _UNSEEN:
            user = user_of[row.user] = users.get(str(row.user).strip().casefold())
        if user is None:
            errors.append(RowError(line, "user", f"No person you can log progress for matches “{row.user}”."))
            wrong = True
        if (found := kpi_of.get(row.kpi, _UNSEEN)) is _UNSEEN:
            found = kpi_of[row.kpi] = _kpi_or_message(kpis, row.kpi)
        kpi, kpi_message = found
        if kpi_message:
            errors.append(RowError(line, "kpi", kpi_message))
            wrong = True
        if (date := date_of.get(row.date, _UNSEEN)) is _UNSEEN:
            date = date_of[row.date] = _date(row.date)
        if date is None:
            errors.append(RowError(line, "date", f"“{row.date}” is not a date: write it as YYYY-MM-DD."))
            wrong = True
        value = None
        if kpi is not None:
            if isinstance(row.value, str):  # text only: Decimal("1.0") == Decimal("1.00") but their decimals differ
                value_key = (kpi.id, row.value)
                if value_key not in values:
                    values[value_key] = _value(row.value, kpi)
                value, messages = values[value_key]
            else:
                value, messages = _value(row.value, kpi)
            if messages:
                errors += [RowError(line, "value", message) for message in messages]
                wrong = True
        if user is not None and date is not None:
            if user.id not in today_of:
                today_of[user.id] = user.local_today()
            if not earliest <= date <= today_of[user.id]:  # `_clean_date`'s rules, asked only outside the bounds
                day_key = (user.id, date)
                if day_key not in date_errors:
                    date_errors[day_key] = _date_messages(date, user)
                if date_errors[day_key]:
                    errors += [RowError(line, "date", message) for message in date_errors[day_key]]
                    wrong = True
        note, external_id = (row.note or "").strip(), (row.external_id or "").strip() or None
        if len(note) > NOTE_MAX:
            errors.append(RowError(line, "note", f"Keep the note under {NOTE_MAX} characters."))
            wrong = True
        if external_id and len(external_id) > EXTERNAL_ID_MAX:
            errors.append(RowError(line, "external_id", f"Keep the external id under {EXTERNAL_ID_MAX} characters."))
            wrong = True
        if not wrong and user and kpi and date and value is not None:
            entries.append((row, NewEntry(user.id, kpi.id, date, value, note, external_id)))
    new, unchanged = _without_known_ids(entries, source, errors)
    if errors:
        raise ImportRejected(sorted(errors, key=lambda e: e.line))
    return new, unchanged


@transaction.atomic
def progress_import(
    *,
    rows: list[ImportRow],
    imported_by: User,
    source: str = ProgressEntry.Source.IMPORT,
    progress: Callable[[list[ImportRow]], Iterable[ImportRow]] = lambda rows: rows,
) -> ImportResult:
    """Import every row or none (see the module notes). Returns how many entries were created and skipped."""
    new, unchanged = progress_import_check(rows=rows, imported_by=imported_by, source=source, progress=progress)
    try:
        with transaction.atomic():
            created = _entries_insert(new, source=source, created_by=imported_by)
    except IntegrityError:  # a concurrent import stored some of the same external ids first
        raise ValidationError(
            "Another import with some of the same external ids finished first; run this one again "
            "(the rows already stored will be skipped)."
        ) from None
    _enqueue_touched_many(created)
    return ImportResult(created=len(created), unchanged=unchanged, entry_ids=[e.id for e in created if e.id])


def _entries_insert(entries: list[NewEntry], *, source: str, created_by: User) -> list[NewEntry]:
    """The ledger's one bulk write (anything kept in step with the entries is updated here, in the same transaction):
    the entries (their ids set, in the given order), then their days' rollups (ProgressDay, set-based, the same
    delta as one entry's). A duplicate external id stored meanwhile raises IntegrityError on either path."""
    if not entries:
        return entries
    if connection.vendor == "postgresql":
        _entries_copy(entries, source=source, created_by=created_by)
    else:
        made = ProgressEntry.objects.bulk_create(
            (
                ProgressEntry(
                    user_id=e.user_id,
                    kpi_id=e.kpi_id,
                    date=e.date,
                    value=e.value,
                    note=e.note,
                    source=source,
                    external_id=e.external_id,
                    created_by_id=created_by.id,
                )
                for e in entries
            ),
            batch_size=INSERT_BATCH,
        )
        for entry, stored in zip(entries, made, strict=True):
            entry.id = stored.id
    rollups_add_entries([e.id for e in entries if e.id is not None])  # every id is set above
    return entries


_COPY_COLUMNS = (
    "id, user_id, kpi_id, date, value, note, source, external_id, created_by_id, created_at, updated_at, void_reason"
)
# COPY's text format: a backslash, tab, newline or carriage return inside a value must be escaped; \N is NULL.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _entries_copy(entries: list[NewEntry], *, source: str, created_by: User) -> None:
    """PostgreSQL: take one id per entry from the ledger's sequence (`_ids_allocate`, one query), then stream every
    row with one COPY. The rows share one created_at, so within an import the later row (the higher id) is a day's latest,
    as with bulk_create's increasing timestamps. Unlogged in connection.queries (COPY bypasses execute)."""
    table = connection.ops.quote_name(ProgressEntry._meta.db_table)
    with connection.cursor() as cursor:
        for entry, entry_id in zip(entries, _ids_allocate(cursor, table, len(entries)), strict=True):
            entry.id = entry_id
        now = timezone.now().isoformat()
        tail = f"{source}\t{{}}\t{created_by.id}\t{now}\t{now}\t\n"  # source, external_id (per row), who, created, updated, no void_reason
        lines = io.StringIO()
        for e in entries:
            external_id = "\\N" if e.external_id is None else e.external_id.translate(_COPY_ESCAPES)
            note = e.note.translate(_COPY_ESCAPES)
            lines.write(f"{e.id}\t{e.user_id}\t{e.kpi_id}\t{e.date.isoformat()}\t{e.value}\t{note}\t")
            lines.write(tail.format(external_id))
        lines.seek(0)
        with connection.wrap_database_errors:  # a unique violation is Django's IntegrityError, as from execute()
            cursor.cursor.copy_expert(f"COPY {table} ({_COPY_COLUMNS}) FROM STDIN", lines)


# The sequence hands out n ids; nearly always a run, then only its ends travel back (100,000 ids as rows cost
# ~0.9 s to send and read). With a concurrent writer's ids in between, the ids come back as one sorted array.
# The sequence is looked up once (a sub-select), not per id: per id it cost 0.33 s of the 0.37 s.
_IDS_SQL = """
SELECT MIN(id), MAX(id), CASE WHEN MAX(id) - MIN(id) + 1 = COUNT(*) THEN NULL ELSE array_agg(id ORDER BY id) END
FROM (SELECT nextval((SELECT pg_get_serial_sequence(%s, 'id')::regclass)) AS id FROM generate_series(1, %s))
    AS allocated
"""


def _ids_allocate(cursor, table: str, n: int) -> Iterable[int]:
    """n new ids of the ledger, increasing (so a later row is a day's later entry). One query."""
    cursor.execute(_IDS_SQL, [table, n])
    first, last, scattered = cursor.fetchone()
    return range(first, last + 1) if scattered is None else scattered


def _people(rows: list[ImportRow], imported_by: User) -> dict[str, User]:
    """{reference casefolded: user} for every id, username and email the rows give that the importer may log for.
    An email shared by two people matches neither. Queries: 2 (who is visible, the people)."""
    refs = {str(r.user).strip() for r in rows if str(r.user).strip()}
    ids = {int(r) for r in refs if r.isdigit()}
    names = {r.casefold() for r in refs}
    visible = user_ids_visible_to(user=imported_by)
    found: dict[str, User] = {}
    emails: dict[str, list[User]] = defaultdict(list)
    people = User.objects.annotate(lower_username=Lower("username"), lower_email=Lower("email")).filter(
        Q(id__in=ids) | Q(lower_username__in=names) | Q(lower_email__in=names), id__in=visible, is_active=True
    )
    for user in people:
        found[str(user.id)] = user
        found[user.username.casefold()] = user
        if user.email:
            emails[user.email.casefold()].append(user)
    for email, matches in emails.items():
        if len(matches) == 1:
            found.setdefault(email, matches[0])
    return found


def _kpis(rows: list[ImportRow]) -> dict[str, Kpi]:
    """{id or name casefolded: KPI}. Queries: 1 (KPIs number in the tens)."""
    found = {}
    for kpi in Kpi.objects.all():
        found[str(kpi.id)] = kpi
        found[kpi.name.casefold()] = kpi
    return found


_UNSEEN = object()  # a cache miss (None is a cached "not found")


def _kpi_or_message(kpis: dict[str, Kpi], ref) -> tuple[Kpi | None, str]:
    """(the KPI, "") or (the KPI or None, why the row cannot use it)."""
    kpi = kpis.get(str(ref).strip().casefold())
    if kpi is None:
        return None, f"No KPI matches “{ref}” (give its id or its name)."
    if not kpi.is_active:
        return kpi, f"The KPI “{kpi}” is archived: it takes no new progress."
    return kpi, ""


def _date(raw) -> datetime.date | None:
    if isinstance(raw, datetime.date) and not isinstance(raw, datetime.datetime):
        return raw
    try:
        return datetime.date.fromisoformat(str(raw).strip())
    except ValueError:
        return None


def _value(raw, kpi: Kpi) -> tuple[Decimal | None, list[str]]:
    """`_clean_value`'s result, or its messages. A plain number in ASCII digits goes in as a Decimal (the text checks
    only explain non-numbers); anything else as given, for `_clean_value`'s exact message."""
    value = raw if isinstance(raw, Decimal | int) else str(raw).strip()
    try:
        if isinstance(value, str) and _PLAIN_NUMBER.fullmatch(value):
            return _clean_value(Decimal(value), kpi), []
        return _clean_value(value, kpi), []
    except ValidationError as exc:
        return None, exc.message_dict["value"]


def _date_messages(date: datetime.date, user: User) -> list[str]:
    try:
        _clean_date(date, user)
    except ValidationError as exc:
        return exc.message_dict["date"]
    return []


def _without_known_ids(entries, source: str, errors: list[RowError]) -> tuple[list[NewEntry], int]:
    """Drop the rows whose external id is already stored for the same person and KPI; report reused ids."""
    first_line: dict[str, int] = {}
    for row, entry in entries:
        if entry.external_id is None:
            continue
        if entry.external_id in first_line:
            errors.append(
                RowError(
                    row.line,
                    "external_id",
                    f"“{entry.external_id}” was already used on line "
                    f"{first_line[entry.external_id]} of this import; each row needs its own id.",
                )
            )
        else:
            first_line[entry.external_id] = row.line
    stored = _stored_external_ids(list(first_line), source)
    new, unchanged = [], 0
    for row, entry in entries:
        known = stored.get(entry.external_id) if entry.external_id else None
        if known is None:
            new.append(entry)
        elif known == (entry.user_id, entry.kpi_id):
            unchanged += 1
        else:
            errors.append(
                RowError(
                    row.line,
                    "external_id",
                    f"The {source} id “{entry.external_id}” is already used for "
                    "another person's or another KPI's entry; send a new id.",
                )
            )
    return new, unchanged


def _stored_external_ids(ids: list[str], source: str) -> dict[str, tuple[int, int]]:
    """{external id: (user id, KPI id)} of the given ids already stored for `source`. PostgreSQL: one query, the ids
    as one array parameter; SQLite: one query per 5,000 ids (its parameter limit)."""
    if not ids:
        return {}
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(ProgressEntry._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT external_id, user_id, kpi_id FROM {table} "  # noqa: S608 (the table name is ours)
                "WHERE source = %s AND external_id IS NOT NULL AND external_id = ANY(%s)",
                [source, ids],
            )
            return {external_id: (user_id, kpi_id) for external_id, user_id, kpi_id in cursor.fetchall()}
    stored: dict[str, tuple[int, int]] = {}
    for start in range(0, len(ids), LOOKUP_CHUNK):
        stored |= {
            str(external_id): (user_id, kpi_id)
            for external_id, user_id, kpi_id in ProgressEntry.objects.filter(
                source=source, external_id__in=ids[start : start + LOOKUP_CHUNK]
            ).values_list("external_id", "user_id", "kpi_id")
        }
    return stored


def _enqueue_touched_many(entries: list[NewEntry]) -> None:
    """Mark every active goal and micro goal the new entries may count for stale (ONE insert), and after commit
    ask for ONE coalesced recompute (goals/services/recompute_queue.py). Queries: 4, plus the insert.

    A superset, set-based: goals on the entries' KPIs overlapping their date range, owned by one of the people or
    by a team (or a team above it) they were a rep of in that range. An extra goal is a harmless recompute.
    """
    if not entries:
        return
    user_ids, kpi_ids = {e.user_id for e in entries}, {e.kpi_id for e in entries}
    first, last = min(e.date for e in entries), max(e.date for e in entries)
    rep_teams = Membership.objects.filter(
        Q(active_to__isnull=True) | Q(active_to__gte=first),
        user_id__in=user_ids,
        role=Membership.Role.REP,
        active_from__lte=last,
    ).values_list("team_id", flat=True)
    teams = team_ids_with_ancestors(set(rep_teams))
    overlapping = Q(start_date__lte=last, due_date__gte=first, kpi_id__in=kpi_ids)
    goals = Goal.objects.filter(overlapping, status=Goal.Status.ACTIVE).filter(
        Q(owner_user_id__in=user_ids) | Q(owner_team_id__in=teams)
    )
    micro_goals = MicroGoal.objects.filter(overlapping, status=MicroGoal.Status.ACTIVE, assignee_id__in=user_ids)
    targets_mark_stale(
        goal_ids=list(goals.values_list("id", flat=True)), micro_goal_ids=list(micro_goals.values_list("id", flat=True))
    )
