"""Many entries at once: a CRM's bulk sync (the API) and CSV imports (browser and `manage.py import_progress`).

`progress_import` validates EVERY row first, set-based (a fixed number of queries however many rows: people, KPIs,
who the importer may log for, external ids already stored), and writes nothing if any row is wrong: the caller gets
every error with its line. A clean batch is inserted with bulk_create in `_entries_insert` (the one place the
ledger is written in bulk), with its days' rollups (ProgressDay); everything it touched is marked stale for ONE coalesced recompute.

The rules are `progress_record`'s, row by row: a value with at most the KPI's decimals, not negative, not a float;
a date up to the person's local today (backdated rows are normal: CRM sync lag); an active KPI; the importer is
the person, their manager or an admin. People are given by id, username or email; KPIs by id or name.
Idempotent on external_id: a row whose (source, external_id) is already stored for the same person and KPI is
skipped (counted as unchanged); the same id for another person or KPI is an error, as is an id repeated in a file.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Lower

from goals.models import Goal, Kpi, MicroGoal, ProgressEntry
from teams.models import Membership, User
from teams.selectors import team_ids_with_ancestors, user_ids_visible_to

from .progress import _clean_date, _clean_value
from .recompute_queue import targets_mark_stale
from .rollups import rollups_add_entries

INSERT_BATCH = 2000
LOOKUP_CHUNK = 5000  # ids per IN (...) query: far below SQLite's and PostgreSQL's parameter limits
NOTE_MAX, EXTERNAL_ID_MAX = 500, 200  # ProgressEntry.note's and external_id's max_length


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


@dataclass
class ImportResult:
    created: int = 0
    unchanged: int = 0
    entry_ids: list[int] = field(default_factory=list)


def progress_import_check(
    *, rows: list[ImportRow], imported_by: User, source: str = ProgressEntry.Source.IMPORT
) -> tuple[list[ProgressEntry], int]:
    """Validate every row (nothing is written): the entries to create, and how many rows are already stored.
    Raises ImportRejected with every error. Queries: about 6, plus one per 5,000 external ids."""
    errors: list[RowError] = []
    users = _people(rows, imported_by)
    kpis = _kpis(rows)
    today_of: dict[int, datetime.date] = {}
    entries: list[tuple[ImportRow, ProgressEntry]] = []
    for row in rows:
        before = len(errors)
        user, kpi = users.get(str(row.user).strip().casefold()), kpis.get(str(row.kpi).strip().casefold())
        if user is None:
            errors.append(RowError(row.line, "user", f"No person you can log progress for matches “{row.user}”."))
        if kpi is None:
            errors.append(RowError(row.line, "kpi", f"No KPI matches “{row.kpi}” (give its id or its name)."))
        elif not kpi.is_active:
            errors.append(RowError(row.line, "kpi", f"The KPI “{kpi}” is archived: it takes no new progress."))
        date = _date(row, errors)
        value = _value(row, kpi, errors)
        if user is not None and date is not None:
            errors += _date_errors(row, date, user, today_of)
        note, external_id = (row.note or "").strip(), (row.external_id or "").strip() or None
        if len(note) > NOTE_MAX:
            errors.append(RowError(row.line, "note", f"Keep the note under {NOTE_MAX} characters."))
        if external_id and len(external_id) > EXTERNAL_ID_MAX:
            errors.append(
                RowError(row.line, "external_id", f"Keep the external id under {EXTERNAL_ID_MAX} characters.")
            )
        if len(errors) == before and user and kpi and date and value is not None:
            entry = ProgressEntry(  # ids, not instances: 100,000 rows skip the related-object descriptors
                user_id=user.id,
                kpi_id=kpi.id,
                date=date,
                value=value,
                note=note,
                source=source,
                external_id=external_id,
                created_by_id=imported_by.id,
            )
            entries.append((row, entry))
    new, unchanged = _without_known_ids(entries, source, errors)
    if errors:
        raise ImportRejected(sorted(errors, key=lambda e: e.line))
    return new, unchanged


@transaction.atomic
def progress_import(
    *, rows: list[ImportRow], imported_by: User, source: str = ProgressEntry.Source.IMPORT
) -> ImportResult:
    """Import every row or none (see the module notes). Returns how many entries were created and skipped."""
    new, unchanged = progress_import_check(rows=rows, imported_by=imported_by, source=source)
    try:
        with transaction.atomic():
            created = _entries_insert(new)
    except IntegrityError:  # a concurrent import stored some of the same external ids first
        raise ValidationError(
            "Another import with some of the same external ids finished first; run this one again "
            "(the rows already stored will be skipped)."
        ) from None
    _enqueue_touched_many(created)
    return ImportResult(created=len(created), unchanged=unchanged, entry_ids=[e.id for e in created])


def _entries_insert(entries: list[ProgressEntry]) -> list[ProgressEntry]:
    """The ledger's one bulk write (anything kept in step with the entries is updated here, in the same transaction):
    the entries, then their days' rollups (ProgressDay, set-based, the same delta as one entry's)."""
    created = ProgressEntry.objects.bulk_create(entries, batch_size=INSERT_BATCH)
    rollups_add_entries([e.id for e in created])
    return created


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


def _date(row: ImportRow, errors: list[RowError]) -> datetime.date | None:
    if isinstance(row.date, datetime.date) and not isinstance(row.date, datetime.datetime):
        return row.date
    try:
        return datetime.date.fromisoformat(str(row.date).strip())
    except ValueError:
        errors.append(RowError(row.line, "date", f"“{row.date}” is not a date: write it as YYYY-MM-DD."))
        return None


def _value(row: ImportRow, kpi: Kpi | None, errors: list[RowError]) -> Decimal | None:
    if kpi is None:
        return None
    try:
        return _clean_value(row.value if isinstance(row.value, Decimal | int) else str(row.value).strip(), kpi)
    except ValidationError as exc:
        errors += [RowError(row.line, "value", message) for message in exc.message_dict["value"]]
        return None


def _date_errors(row: ImportRow, date, user: User, today_of: dict) -> list[RowError]:
    if user.id not in today_of:
        today_of[user.id] = user.local_today()
    if date <= today_of[user.id]:
        return []
    try:
        _clean_date(date, user)
    except ValidationError as exc:
        return [RowError(row.line, "date", message) for message in exc.message_dict["date"]]
    return []


def _without_known_ids(entries, source: str, errors: list[RowError]) -> tuple[list[ProgressEntry], int]:
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
    ids, stored = list(first_line), dict[str | None, tuple[int, int]]()
    for start in range(0, len(ids), LOOKUP_CHUNK):
        stored |= {
            external_id: (user_id, kpi_id)
            for external_id, user_id, kpi_id in ProgressEntry.objects.filter(
                source=source, external_id__in=ids[start : start + LOOKUP_CHUNK]
            ).values_list("external_id", "user_id", "kpi_id")
        }
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


def _enqueue_touched_many(entries: list[ProgressEntry]) -> None:
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
