"""Correcting past entries where they are shown (issue 9 §5, issue 10 §7): the goal's log history offers edit and
void to whoever may, a correction goes back to the history with its trail under the entry, and after an inline
void on Today the focus stays on the entry's row (not on <body>)."""

import datetime
from decimal import Decimal

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from goals import services
from goals.models import Goal, Kpi, ProgressEntry

from .conftest import login, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def history(personas, org):
    rep, today = personas.rep_a, personas.rep_a.local_today()
    deals = Kpi.objects.create(name="Deals won", unit=Kpi.Unit.COUNT)
    goal = Goal.objects.create(
        title="Deals this quarter", kpi=deals, target_value=Decimal(40), start_date=today - datetime.timedelta(days=30),
        due_date=today + datetime.timedelta(days=30), owner_user=rep, created_by=personas.manager_a,
    )  # fmt: skip
    imported = services.progress_record(
        user=rep, kpi=deals, date=today - datetime.timedelta(days=3), value="13", source=ProgressEntry.Source.IMPORT,
        external_id="crm-7", created_by=rep,
    )  # fmt: skip
    own = services.progress_record(
        user=rep, kpi=deals, date=today - datetime.timedelta(days=1), value="2", note="two renewals", created_by=rep
    )
    return goal, imported, own  # the goal, an imported entry, an own entry


def test_a_rep_corrects_an_own_entry_from_the_log_history_and_sees_the_trail(page, live_server, personas, history):
    goal = history[0]
    login(page, live_server, personas.rep_a)
    page.goto(f"{live_server.url}/goals/{goal.id}/entries/")
    rows = page.locator(".history-entry")
    expect(rows).to_have_count(2)
    expect(rows.nth(1).get_by_role("link", name="Void")).to_be_visible()
    expect(rows.nth(1).get_by_role("link", name="Edit")).to_have_count(0)  # imported: void it, never rewrite it
    rows.nth(0).get_by_role("link", name="Edit").click()
    page.get_by_label("Value").fill("3")
    page.get_by_label("Note (optional)").fill("three renewals")
    page.get_by_role("button", name="Save correction").click()
    page.wait_for_url(f"**/goals/{goal.id}/entries/")
    expect(page.get_by_role("alert")).to_contain_text("Entry corrected.")
    trail = page.locator(".history-entry").nth(0).locator(".entry-trail")
    expect(trail).to_contain_text("the value 2 → 3")
    expect(trail).to_contain_text("“two renewals” → “three renewals”")
    screenshot(page, "rep-log-history-after-correction")


def test_after_an_inline_void_on_today_the_focus_is_on_the_entry(page, live_server, personas, history):
    goal = history[0]
    services.progress_record(user=personas.rep_a, kpi=goal.kpi, date=personas.rep_a.local_today(), value="1",
                             created_by=personas.rep_a)  # fmt: skip
    login(page, live_server, personas.rep_a)
    page.goto(f"{live_server.url}/today/")
    row = page.locator("#today-entries .entry-row").first
    row.get_by_role("link", name="Void").click()
    page.get_by_label("Why void this entry?").fill("Logged on the wrong goal")
    page.get_by_role("button", name="Void entry").click()
    expect(page.locator("#today-entries")).to_contain_text("Voided")
    # The focus moves once htmx has settled the swap: wait for it (bounded) rather than read it at once.
    try:
        page.wait_for_function("() => (document.activeElement.id || '').startsWith('entry-')", timeout=5000)
    except PlaywrightTimeoutError:
        pytest.fail(f"focus is on {page.evaluate('() => document.activeElement.tagName')}")
    screenshot(page, "rep-today-after-void-focus")
