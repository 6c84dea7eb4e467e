"""CSV import (browser: upload → report with line numbers → confirm; `manage.py import_progress`) and streamed CSV
exports, scoped like everything else."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from goals.models import ProgressEntry

pytestmark = pytest.mark.django_db
HEADER = "user,kpi,date,value,note,external_id\n"


def _csv(w, rows: list[str], header: str = HEADER) -> str:
    return header + "".join(row + "\n" for row in rows)


def _good_rows(w):
    rep = w.a.rep.username
    return [f"{rep},Deals won,{w.today},2,first,crm-1", f"{w.a.rep.email},deals won,{w.today},3,,crm-2",
            f"{w.a.rep.id},{w.kpi.id},2026-01-05,1,backdated,crm-3"]  # fmt: skip


def _upload(client, text, name="progress.csv"):
    return client.post(reverse("progress_import"), {"file": SimpleUploadedFile(name, text.encode(), "text/csv")})


def test_a_manager_uploads_sees_the_report_then_confirms(world, client):
    client.force_login(world.manager_a)
    page = _upload(client, _csv(world, _good_rows(world)))
    assert "all 3 rows are valid" in page.content.decode()
    assert not ProgressEntry.objects.filter(source="import").exists()  # nothing before the confirmation
    done = client.post(reverse("progress_import"), {"pending": page.context["report"]["pending"].id}, follow=True)
    assert "Imported 3 entries" in done.content.decode()
    imported = ProgressEntry.objects.filter(source="import")
    assert imported.count() == 3 and {e.created_by for e in imported} == {world.manager_a}
    again = _upload(client, _csv(world, _good_rows(world)))
    assert again.context["report"]["new"] == 0 and again.context["report"]["unchanged"] == 3


def test_a_file_with_bad_rows_imports_nothing_and_reports_their_lines(world, client):
    client.force_login(world.manager_a)
    rows = [
        *_good_rows(world),
        f"{world.b.rep.username},Deals won,{world.today},1,,x1",  # line 5: another team's rep
        f"{world.a.rep.username},Nope,{world.today},1,,x2",  # line 6: unknown KPI
        f"{world.a.rep.username},Deals won,31/12/2026,1.5,,x3",  # line 7: bad date and decimals
        f"{world.a.rep.username},Deals won,{world.today},1,,crm-1",  # line 8: repeats line 2's external id
    ]
    page = _upload(client, _csv(world, rows))
    errors = {(e.line, e.field) for e in page.context["report"]["errors"]}
    assert errors == {(5, "user"), (6, "kpi"), (7, "date"), (7, "value"), (8, "external_id")}
    assert "nothing was imported" in page.content.decode()
    assert "pending" not in page.context["report"]
    assert not ProgressEntry.objects.filter(source="import").exists()


def test_semicolons_and_a_bom_are_read_and_unusable_files_are_explained(world, client):
    client.force_login(world.manager_a)
    semicolons = "\ufeffuser;kpi;date;value\n" + f"{world.a.rep.username};Deals won;{world.today};4\n"
    assert _upload(client, semicolons).context["report"]["new"] == 1
    missing = _upload(client, "name,amount\nx,1\n").context["report"]["errors"]
    assert missing[0].line == 1 and "Missing column(s): user, kpi, date, value" in missing[0].message
    ragged = _upload(client, HEADER + "a,b\n").context["report"]["errors"]
    assert (ragged[0].line, ragged[0].field) == (2, "row")


def test_reps_cannot_import(world, client):
    client.force_login(world.rep_a)
    assert client.get(reverse("progress_import")).status_code == 403


def test_the_command_imports_a_clean_file_and_is_idempotent(world, tmp_path):
    path = tmp_path / "in.csv"
    path.write_text(_csv(world, _good_rows(world)))
    out = io.StringIO()
    call_command("import_progress", str(path), "--as", world.manager_a.username, stdout=out, stderr=io.StringIO())
    assert "Imported 3 entries" in out.getvalue()
    call_command("import_progress", str(path), "--as", world.manager_a.username, stdout=out, stderr=io.StringIO())
    assert "skipped 3 already imported" in out.getvalue()
    assert ProgressEntry.objects.filter(source="import").count() == 3


def test_the_command_exits_non_zero_with_the_bad_lines(world, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(_csv(world, [*_good_rows(world), f"{world.a.rep.username},Deals won,{world.today},-1,,z"]))
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 problem"):
        call_command("import_progress", str(path), "--as", world.manager_a.username, stdout=io.StringIO(), stderr=err)
    assert f"{path}:5: value: The value cannot be negative" in err.getvalue()
    assert not ProgressEntry.objects.filter(source="import").exists()


def _read(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode().lstrip("\ufeff")
    return list(csv.DictReader(io.StringIO(text)))


def test_the_entries_export_streams_what_the_user_may_see_with_filters(world, client):
    client.force_login(world.manager_b)
    rows = _read(client.get(reverse("entries_export")))
    assert {r["user"] for r in rows} == {world.b.rep.username}
    client.force_login(world.manager_a)
    rows = _read(client.get(reverse("entries_export"), {"date_from": str(world.a.entry.date)}))
    assert [r["id"] for r in rows] == [str(world.a.entry.id)]
    assert client.get(reverse("entries_export"), {"date_from": "soon"}).status_code == 400


def test_an_export_imports_back_as_nothing_new(world, client):
    client.force_login(world.manager_a)
    _upload(client, _csv(world, _good_rows(world)))
    client.post(
        reverse("progress_import"),
        {"pending": _upload(client, _csv(world, _good_rows(world))).context["report"]["pending"].id},
    )
    exported = b"".join(client.get(reverse("entries_export"), {"source": "import"}).streaming_content).decode()
    report = _upload(client, exported).context["report"]
    assert (report["new"], report["unchanged"], report["errors"]) == (0, 3, [])
    assert set(report["ignored"]) == {"source", "created_by", "created_at", "voided_at", "void_reason", "id"}


def test_the_goals_export_has_the_figures(world, client):
    client.force_login(world.manager_a)
    rows = _read(client.get(reverse("goals_export")))
    assert {r["id"] for r in rows} == {str(world.a.team_goal.id), str(world.a.rep_goal.id)}
    assert set(rows[0]) >= {"current_value", "expected_value", "forecast_value", "health", "attainment_percent"}
