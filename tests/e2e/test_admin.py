"""An admin's and a manager's everyday set-up work, through the real pages."""

import pytest
from playwright.sync_api import expect

from .conftest import login, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_admin_creates_a_kpi_and_adds_a_half_time_member(page, live_server, personas, org):
    login(page, live_server, personas.admin)

    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="KPIs").click()
    page.get_by_role("link", name="New KPI").click()
    page.get_by_label("Name").fill("Demos booked")
    page.get_by_label("Unit").select_option(label="Count")
    page.get_by_label("Description").fill("First meetings with a decision maker.")
    screenshot(page, "admin-kpi-new-filled")
    page.get_by_role("button", name="Create KPI").click()
    expect(page.get_by_role("alert")).to_contain_text("KPI “Demos booked” created.")
    expect(page.get_by_role("row", name="Demos booked")).to_contain_text("Active")
    screenshot(page, "admin-kpi-list-after-create")

    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Teams").click()
    page.get_by_role("link", name="Team A").click()
    page.get_by_label("Person").select_option(label="Nia Newcomer (nia)")
    page.get_by_label("Role").select_option(label="Rep")
    page.get_by_label("Capacity").fill("0.5")
    page.get_by_role("button", name="Add member").click()

    expect(page.get_by_role("alert")).to_contain_text("Nia Newcomer joined Team A as Rep.")
    row = page.locator("#members tbody tr", has_text="Nia Newcomer")
    expect(row).to_contain_text("Rep")
    expect(row.locator("td.num")).to_have_text("0.50")
    screenshot(page, "admin-team-after-adding-member")


def test_manager_changes_capacity_inline_and_adds_a_holiday(page, live_server, personas, org):
    login(page, live_server, personas.manager_a)
    page.goto(f"{live_server.url}/teams/{personas.team_a.id}/")

    row = page.locator("#members tbody tr", has_text="Isla Costa")
    row.get_by_role("link", name="Change").click()
    edit_row = page.locator("tr.member-edit-row")
    expect(edit_row).to_be_visible()  # htmx swapped the row for its form, no page load
    edit_row.get_by_label("Capacity").fill("1.5")
    edit_row.get_by_role("button", name="Save").click()
    expect(edit_row).to_contain_text("less than or equal to 1.00")
    screenshot(page, "manager-team-inline-edit-error")
    edit_row.get_by_label("Capacity").fill("0.8")
    edit_row.get_by_role("button", name="Save").click()
    expect(page.locator("#members tbody tr", has_text="Isla Costa").locator("td.num")).to_have_text("0.80")

    holidays = page.locator("#holidays")
    holidays.get_by_label("Date").fill("2030-05-01")
    holidays.get_by_label("Name").fill("Labour Day")
    holidays.get_by_role("button", name="Add holiday").click()
    expect(page.locator("#holidays")).to_contain_text("Labour Day")
    screenshot(page, "manager-team-after-inline-changes")
