"""CSV in and out of the ledger. The csv module, not tablib / django-import-export: those load a whole file into
memory as a Dataset and save row by row through model resources (a query or more per row), while an import here
must validate set-based and bulk insert 100,000 rows in seconds, and an export must stream. csv.Sniffer covers the
dialects that matter (comma, semicolon and tab; Excel's BOM via utf-8-sig).

Import columns (a header row is required; extra columns are ignored and reported):
  user        the person's id, username or email
  kpi         the KPI's id or name
  date        YYYY-MM-DD, the person's local date (any past date)
  value       a number with at most the KPI's decimals, e.g. 1250.50
  note        optional
  external_id optional but recommended: a row already imported with this id is skipped, so re-running a file is
              safe
The entries export writes the same columns first, so an export can be edited and imported again.
"""

import csv
import io
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse
from django.utils import timezone

from goals import selectors
from goals.models import Goal
from goals.services import ImportRow, RowError
from teams.calendar import org_today

REQUIRED = ["user", "kpi", "date", "value"]
OPTIONAL = ["note", "external_id"]
EXPORT_ONLY = ["source", "created_by", "created_at", "voided_at", "void_reason", "id"]
CHUNK = 2000


class CsvProblem(Exception):
    """The file cannot be read as an import: the errors say where."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__("; ".join(f"line {e.line}: {e.message}" for e in errors))


def parse_rows(text: str, *, progress=lambda rows: rows) -> tuple[list[ImportRow], list[str]]:
    """The rows of an import file with their line numbers, and the names of ignored columns.
    Raises CsvProblem for a file that is not a usable CSV (no header, missing columns, a ragged row)."""
    text = text.lstrip("\ufeff")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = next(reader, None)
    if not header:
        raise CsvProblem([RowError(1, "file", "The file is empty: the first line must name the columns.")])
    names = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise CsvProblem(
            [
                RowError(
                    1,
                    "header",
                    f"Missing column(s): {', '.join(missing)}. The columns are "
                    f"{', '.join(REQUIRED + OPTIONAL)} (a header row is required).",
                )
            ]
        )
    position = {name: names.index(name) for name in REQUIRED + OPTIONAL if name in names}
    ignored = [h for h in header if h.strip().lower() not in position and h.strip()]
    rows, problems = [], []
    for cells in progress(reader):
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue  # blank lines (a trailing newline, a spreadsheet's empty rows)
        if len(cells) != len(header):
            problems.append(RowError(line, "row", f"Expected {len(header)} cells, found {len(cells)}."))
            continue
        values = {name: cells[i] for name, i in position.items()}
        rows.append(ImportRow(line=line, **values))
    if problems:
        raise CsvProblem(problems)
    if not rows:
        raise CsvProblem([RowError(2, "file", "The file has a header but no rows.")])
    return rows, ignored


class _Echo:
    def write(self, value):
        return value


def _stream(header: list[str], rows: Iterable[list]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(header)  # the BOM makes Excel read UTF-8
    for row in rows:
        yield writer.writerow(row)


def _response(filename: str, lines: Iterator[str]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.csv"'
    return response


def entries_csv_response(entries) -> StreamingHttpResponse:
    """The entries (a scoped, filtered queryset) as CSV, streamed in chunks: never the whole table in memory."""
    entries = entries.select_related("user", "kpi", "created_by").order_by("date", "id")

    def rows():
        for e in entries.iterator(chunk_size=CHUNK):
            yield [
                e.user.username,
                e.kpi.name,
                e.date.isoformat(),
                e.value,
                e.note,
                e.external_id or "",
                e.source,
                e.created_by.username,
                e.created_at.isoformat(),
                e.voided_at.isoformat() if e.voided_at else "",
                e.void_reason,
                e.id,
            ]

    return _response("pacer-entries", _stream(REQUIRED + OPTIONAL + EXPORT_ONLY, rows()))


GOAL_COLUMNS = [
    "id",
    "title",
    "kpi",
    "owner_type",
    "owner",
    "status",
    "start_date",
    "due_date",
    "baseline_value",
    "target_value",
    "current_value",
    "expected_value",
    "forecast_value",
    "forecast_low",
    "forecast_high",
    "chance_percent",
    "health",
    "attainment_percent",
    "working_days_left",
    "needed_per_day",
    "computed_at",
]


def goals_csv_response(goals) -> StreamingHttpResponse:
    """Goals with their figures (goals.figures.GoalFigures on the organisation's date: the same object the pages and
    the API show), streamed 1,000 goals at a time (each chunk: one read and the calendars' few queries)."""
    goals = goals.select_related("kpi", "owner_user", "owner_team").order_by("id")
    today = org_today()

    def rows():
        last_id = 0
        while True:
            chunk = list(goals.filter(id__gt=last_id)[:1000])
            if not chunk:
                return
            last_id = chunk[-1].id
            selectors.goal_figures_attach(chunk, today=today)
            for g in chunk:
                f = g.figures
                yield [
                    g.id,
                    g.title,
                    g.kpi.name,
                    "team" if g.owner_team_id else "user",
                    g.owner_team.name if g.owner_team_id else g.owner_user.username,
                    g.status,
                    g.start_date,
                    g.due_date,
                    f.baseline,
                    f.target,
                    f.current,
                    f.expected,
                    f.forecast,
                    _blank(f.forecast_low),
                    _blank(f.forecast_high),
                    _blank(f.chance),
                    f.health,
                    round(f.attainment, 2),
                    f.days_left if g.status == Goal.Status.ACTIVE else 0,
                    _blank(f.per_day),
                    g.computed_at.isoformat() if g.computed_at else "",
                ]

    return _response("pacer-goals", _stream(GOAL_COLUMNS, rows()))


def _blank(value):
    return "" if value is None else value
