"""Browser pages of the api app: personal API tokens, CSV import (upload → report → confirm) and CSV exports."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from api import csv_io, selectors, services
from api.forms import ImportConfirmForm, ImportUploadForm, TokenCreateForm
from api.models import PendingImport
from goals import services as goal_services
from goals.api.entries import EntryFilter
from goals.api.goals import GoalFilter
from goals.selectors import entry_list_for_user, goal_list_for_user, kpi_list
from teams.selectors import managed_team_ids, teams_managed_by
from webhooks.services import entries_recorded_emit

REPORT_LIMIT = 200  # errors listed on the page; the count says how many more


@login_required
def token_list(request):
    form = TokenCreateForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            token, created = services.api_token_create(user=request.user, **form.cleaned_data)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form = TokenCreateForm()
            messages.success(request, f"Token “{token.name}” created. Copy it now: it is not shown again.")
    tokens = selectors.api_token_list_for_user(user=request.user)
    return render(request, "api/tokens.html", {"form": form, "tokens": tokens, "created": created})


@login_required
@require_POST
def token_revoke(request, token_key):
    token = selectors.api_token_get_for_user(user=request.user, token_key=token_key)
    services.api_token_revoke(user=request.user, token_key=token.token_key)
    messages.success(request, f"Token “{token.name}” revoked: requests with it are refused from now on.")
    return redirect("api_tokens")


def _require_importer(request) -> set[int]:
    managed = managed_team_ids(user=request.user)
    if not managed:
        raise PermissionDenied("Only managers and admins import progress.")
    return managed


def _report(text: str, user) -> dict:
    """Parse and validate without writing: {"rows", "new", "unchanged", "errors", "ignored"}."""
    try:
        rows, ignored = csv_io.parse_rows(text)
        new, unchanged = goal_services.progress_import_check(rows=rows, imported_by=user)
    except (csv_io.CsvProblem, goal_services.ImportRejected) as problem:
        return {"errors": problem.errors, "rows": 0, "new": 0, "unchanged": 0, "ignored": []}
    return {"errors": [], "rows": len(rows), "new": len(new), "unchanged": unchanged, "ignored": ignored}


@login_required
def progress_import_page(request):
    """Upload a CSV: every row is validated and reported with its line number; nothing is written until the user
    confirms a clean file (which is validated again then, as the ledger may have moved)."""
    managed = _require_importer(request)
    context = {
        "form": ImportUploadForm(),
        "teams": teams_managed_by(user=request.user, team_ids=managed),
        "kpis": kpi_list(),
        "report_limit": REPORT_LIMIT,
    }
    if request.method == "POST" and "pending" in request.POST:
        confirm = ImportConfirmForm(request.POST)
        if confirm.is_valid():
            pending = selectors.pending_import_get_for_user(user=request.user, id=confirm.cleaned_data["pending"])
            return _confirm(request, pending, context)
    elif request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES)
        context["form"] = form
        if form.is_valid():
            filename, text = form.cleaned_data["file"]
            report = _report(text, request.user)
            if not report["errors"]:
                report["pending"] = services.pending_import_create(user=request.user, filename=filename, content=text)
            context |= {"report": report, "filename": filename}
    return render(request, "api/import.html", context)


def _confirm(request, pending: PendingImport, context):
    try:
        rows, _ = csv_io.parse_rows(pending.content)
        with transaction.atomic():  # the entries, their webhook deliveries and the upload's removal, together
            result = goal_services.progress_import(rows=rows, imported_by=request.user)
            entries_recorded_emit(entry_ids=result.entry_ids)
            services.pending_import_discard(pending=pending)
    except (csv_io.CsvProblem, goal_services.ImportRejected) as problem:
        report = {"errors": problem.errors, "rows": 0, "new": 0, "unchanged": 0, "ignored": []}
        return render(request, "api/import.html", context | {"report": report, "filename": pending.filename})
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("progress_import")
    messages.success(
        request,
        f"Imported {result.created} entr{'y' if result.created == 1 else 'ies'} from {pending.filename}"
        + (f"; {result.unchanged} already imported rows skipped." if result.unchanged else "."),
    )
    return redirect("progress_import")


def _export(request, filterset_class, queryset, respond):
    filterset = filterset_class(request.GET, queryset=queryset, request=request)
    if not filterset.is_valid():
        problems = "; ".join(f"{field}: {' '.join(errors)}" for field, errors in filterset.errors.items())
        return HttpResponseBadRequest(f"Fix the export filters: {problems}", content_type="text/plain")
    return respond(filterset.qs)


@login_required
@require_GET
def entries_export(request):
    """The entries the user may see, filtered like the API (?user=&team=&kpi=&date_from=&date_to=&source=)."""
    return _export(request, EntryFilter, entry_list_for_user(user=request.user), csv_io.entries_csv_response)


@login_required
@require_GET
def goals_export(request):
    """The goals the user may see with their figures, filtered like the API (?team=&user=&kpi=&status=&health=)."""
    return _export(request, GoalFilter, goal_list_for_user(user=request.user), csv_io.goals_csv_response)
