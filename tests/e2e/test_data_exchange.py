"""A manager imports a CRM export in the browser (report with line numbers, then confirm) and a rep creates an API
token (shown once) and uses it."""

import datetime

import pytest
from playwright.sync_api import expect

from goals.models import ProgressEntry
from tests.factories import KpiFactory

from .conftest import login, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_manager_fixes_a_bad_file_then_imports_it(page, live_server, personas, tmp_path):
    KpiFactory(name="Deals won")
    yesterday = datetime.date.today() - datetime.timedelta(days=1)
    rep = personas.rep_a.username
    bad = tmp_path / "crm.csv"
    bad.write_text(
        f"user,kpi,date,value,external_id\n{rep},Deals won,{yesterday},2,d1\n{rep},Deals wn,{yesterday},1,d2\n"
    )
    login(page, live_server, personas.manager_a)
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Import").click()
    page.get_by_label("CSV file").set_input_files(str(bad))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_test_id("import-errors")).to_contain_text("1 problem — nothing was imported")
    expect(page.get_by_role("row", name="3 kpi")).to_contain_text("No KPI matches “Deals wn”")
    screenshot(page, "import-report-with-errors")

    bad.write_text(
        f"user,kpi,date,value,external_id\n{rep},Deals won,{yesterday},2,d1\n{rep},Deals won,{yesterday},1,d2\n"
    )
    page.get_by_label("CSV file").set_input_files(str(bad))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_test_id("import-ready")).to_contain_text("all 2 rows are valid")
    screenshot(page, "import-report-ready")
    page.get_by_role("button", name="Import 2 entries").click()
    expect(page.get_by_role("alert")).to_contain_text("Imported 2 entries from crm.csv")
    assert ProgressEntry.objects.filter(source="import", user=personas.rep_a).count() == 2


def test_rep_creates_a_token_sees_it_once_and_revokes_it(page, live_server, personas):
    login(page, live_server, personas.rep_a)
    page.get_by_title("Your settings: timezone, reminders and notifications").click()
    page.get_by_role("link", name="API tokens").click()
    page.get_by_label("Name").fill("My spreadsheet")
    page.get_by_label("Expires").select_option(label="In 90 days")
    page.get_by_role("button", name="Create token").click()
    token = page.get_by_label("New API token").input_value()
    assert token.startswith("pacer_")
    screenshot(page, "api-token-created")
    response = page.request.get(f"{live_server.url}/api/v1/me/", headers={"Authorization": f"Token {token}"})
    assert response.json()["username"] == personas.rep_a.username
    page.goto(f"{live_server.url}/settings/api-tokens/")  # a fresh visit: the token is not shown again
    expect(page.get_by_test_id("new-token")).to_have_count(0)
    page.get_by_role("button", name="Revoke My spreadsheet").click()
    expect(page.get_by_role("alert")).to_contain_text("revoked")
    assert page.request.get(f"{live_server.url}/api/v1/me/", headers={"Authorization": f"Token {token}"}).status == 401


def test_the_api_docs_render_offline(page, live_server, personas):
    login(page, live_server, personas.manager_a)
    page.goto(f"{live_server.url}/api/docs/")
    expect(page.get_by_role("heading", name="Pacer API")).to_be_visible()
    expect(page.get_by_text("/api/v1/progress-entries/bulk/").first).to_be_visible()
    screenshot(page, "api-docs-swagger")
