"""manage.py import_progress FILE --as USERNAME: import a CSV of progress entries, all rows or none.

The same rules and columns as the browser import (api/csv_io.py). Exits non-zero, listing every bad row by line
number, when any row is wrong; nothing is imported then. Rows whose external_id was already imported are skipped.
"""

import time
from contextlib import contextmanager
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm

from api import csv_io
from goals import services
from teams.models import User
from webhooks.services import entries_recorded_emit

SHOWN_ERRORS = 100


class Command(BaseCommand):
    help = "Import progress entries from a CSV file (columns: user, kpi, date, value, note, external_id)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--as", dest="username", required=True, help="Who imports: a manager or an admin.")
        parser.add_argument("--check", action="store_true", help="Validate only; import nothing.")

    def handle(self, *args, file: Path, username: str, check: bool, **options):
        importer = User.objects.filter(username=username, is_active=True).first()
        if importer is None:
            raise CommandError(f"No active user “{username}”.")
        try:
            text = file.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise CommandError(f"{file}: no such file.") from None
        except UnicodeDecodeError:
            raise CommandError(f"{file} is not UTF-8 text: save it as “CSV UTF-8”.") from None
        try:
            with tqdm(desc="reading", unit=" rows", disable=None) as bar:
                rows, ignored = csv_io.parse_rows(text, progress=lambda reader: _counting(reader, bar))
            if ignored:
                self.stdout.write(f"Ignored column(s): {', '.join(ignored)}")
            if check:
                with _bar("validating", rows) as bar:
                    new, unchanged = services.progress_import_check(rows=rows, imported_by=importer, progress=bar)
                self.stdout.write(
                    self.style.SUCCESS(f"All rows valid: {len(new):,} new, {unchanged:,} already imported.")
                )
                return
            started = time.monotonic()
            with transaction.atomic():  # the entries and their webhook deliveries commit together
                # The bar follows the validation, row by row; the write after it is one bulk statement (COPY on
                # PostgreSQL) with no rows to count, so it is announced, then timed.
                with _bar("validating", rows) as bar:
                    result = services.progress_import(
                        rows=rows, imported_by=importer, progress=_then_writing(bar, self)
                    )
                entries_recorded_emit(entry_ids=result.entry_ids)
        except (csv_io.CsvProblem, services.ImportRejected) as problem:
            for error in problem.errors[:SHOWN_ERRORS]:
                self.stderr.write(f"{file}:{error.line}: {error.field}: {error.message}")
            more = len(problem.errors) - SHOWN_ERRORS
            if more > 0:
                self.stderr.write(f"…and {more} more.")
            raise CommandError(f"{len(problem.errors)} problem(s) in {file}; nothing was imported.") from None
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {result.created:,} entries; skipped {result.unchanged:,} already imported "
                f"({time.monotonic() - started:.1f} s)."
            )
        )


def _counting(reader, bar):
    for cells in reader:
        bar.update()
        yield cells


@contextmanager
def _bar(desc: str, rows: list):
    """A tqdm bar over the rows (hidden when the output is not a terminal), as a `progress=` wrapper."""
    with tqdm(desc=desc, total=len(rows), unit=" rows", disable=None) as bar:
        yield lambda items: _counting(items, bar)


def _then_writing(progress, command):
    """The validation's progress wrapper, then a line saying the write has started once every row is checked."""

    def wrapped(rows):
        yield from progress(rows)
        command.stdout.write(f"Writing {len(rows):,} rows in one transaction…")

    return wrapped
