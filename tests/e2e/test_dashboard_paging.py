"""A manager of a large team pages through the dashboard's rep table, reorders it and finds a rep by name."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from goals.models import Health, Kpi
from goals.selectors import DASHBOARD_PAGE_SIZE
from tests.factories import GoalFactory, MembershipFactory, UserFactory

from .conftest import login, screenshot
from .test_manager_goals import on_a_phone

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def big_team(personas):
    """45 more reps in Team A, each with a goal on track at 1 %, 2 %, … 45 % (rep_a has none: last)."""
    kpi = Kpi.objects.create(name="Deals won", unit=Kpi.Unit.COUNT)
    today = personas.manager_a.local_today()
    reps = []
    for n in range(1, 46):
        rep = MembershipFactory(team=personas.team_a, user=UserFactory(first_name=f"Rep{n:02d}", last_name="Big")).user
        GoalFactory(kpi=kpi, owner_user=rep, created_by=personas.manager_a, health=Health.ON_TRACK,
                    current_value=Decimal(n), start_date=today.replace(day=1), due_date=today)  # fmt: skip
        reps.append(rep)
    return reps


def test_manager_pages_the_rep_table_without_a_reload_and_finds_a_rep(page, live_server, personas, big_team):
    login(page, live_server, personas.manager_a)
    page.goto(f"{live_server.url}/dashboard/")
    table = page.locator("#rep-table")
    expect(page.locator("#rep-summary")).to_contain_text("46 reps")  # every rep, whichever page is shown
    expect(page.locator("#rep-range")).to_contain_text(f"Reps 1–{DASHBOARD_PAGE_SIZE} of 46")
    expect(table).to_contain_text("Rep01 Big")
    expect(table.locator("tbody tr")).to_have_count(DASHBOARD_PAGE_SIZE)
    screenshot(page, "dashboard-paged-1280")
    on_a_phone(page, "dashboard-paged-375")

    page.evaluate("() => { window.notReloaded = true; }")
    page.get_by_role("navigation", name="Pages of reps").get_by_role("link", name="Next").click()
    expect(page.locator("#rep-range")).to_contain_text(
        f"Reps {DASHBOARD_PAGE_SIZE + 1}–{2 * DASHBOARD_PAGE_SIZE} of 46"
    )
    expect(table).to_contain_text(f"Rep{DASHBOARD_PAGE_SIZE + 1:02d} Big")
    expect(table).not_to_contain_text("Rep01 Big")
    assert "page=2" in page.url and page.evaluate("() => window.notReloaded") is True  # htmx: no reload

    page.get_by_label("Order").select_option(label="Highest attainment first")
    expect(page.locator("#rep-range")).to_contain_text(f"Reps 1–{DASHBOARD_PAGE_SIZE} of 46")
    expect(table.locator("tbody tr").first).to_contain_text("Rep45 Big")

    page.get_by_label("Find a rep").fill("rep07")
    page.get_by_label("Find a rep").press("Enter")
    expect(page.locator("#rep-range")).to_contain_text("Reps 1–1 of 1 matching “rep07”")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(page.locator("#rep-summary")).to_contain_text("46 reps")
    screenshot(page, "dashboard-rep-search-1280")
    on_a_phone(page, "dashboard-rep-search-375")
