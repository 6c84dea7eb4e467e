"""A rep on a phone logs today's progress, corrects it and voids a mistake, without a page reload."""

import datetime
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from goals import services
from goals.models import Goal, Kpi, MicroGoal, ProgressEntry

from .conftest import login, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 812}


@pytest.fixture
def week_plan(personas, org):
    """rep_a: a goal of 100 demos this month and a micro goal of 10 for this week (Monday to Sunday, so today is
    always inside it), a team revenue goal, and an entry from two days ago."""
    rep = personas.rep_a
    today = rep.local_today()
    monday = today - datetime.timedelta(days=today.weekday())
    demos = Kpi.objects.create(name="Demos booked", unit=Kpi.Unit.COUNT)
    revenue = Kpi.objects.create(name="Revenue", unit=Kpi.Unit.CURRENCY, currency_code="EUR", decimal_places=2)
    goal = Goal.objects.create(
        title="Demos this month",
        kpi=demos,
        target_value=Decimal(100),
        start_date=today.replace(day=1),
        due_date=max(today.replace(day=28), today + datetime.timedelta(days=7)),
        owner_user=rep,
        created_by=personas.manager_a,
    )
    micro = MicroGoal.objects.create(
        goal=goal,
        assignee=rep,
        kpi=demos,
        target_value=Decimal(10),
        start_date=monday,
        due_date=monday + datetime.timedelta(days=6),
    )
    Goal.objects.create(
        title="Team A revenue",
        kpi=revenue,
        target_value=Decimal(250000),
        start_date=today.replace(day=1),
        due_date=max(today.replace(day=28), today + datetime.timedelta(days=7)),
        owner_team=personas.team_a,
        created_by=personas.manager_a,
    )
    if today - datetime.timedelta(days=2) >= today.replace(day=1):
        earlier = ProgressEntry.objects.create(
            user=rep, kpi=demos, date=today - datetime.timedelta(days=2), value=Decimal(4), created_by=rep
        )
        ProgressEntry.objects.filter(id=earlier.id).update(created_at=earlier.created_at - datetime.timedelta(days=2))
        services.rollups_verify(repair=True)  # a raw ledger row: bring the daily rollup in step
    services.progress_recompute(today=today)
    return micro


def test_rep_logs_twice_on_a_phone_without_a_reload_and_voids_a_mistake(page, live_server, personas, week_plan):
    micro = week_plan
    page.set_viewport_size(PHONE)
    login(page, live_server, personas.rep_a)
    page.goto(f"{live_server.url}/today/")
    page.evaluate("window.__pacerMarker = 'no reload'")  # gone if the page ever reloads or navigates

    card = page.locator(f"#kpi-{micro.kpi_id}")
    bar = page.locator(f"#micro-{micro.id} [role=progressbar]")
    start = int(bar.get_attribute("aria-valuenow"))
    screenshot(page, "rep-today-phone-before")

    card.get_by_label("Value").fill("3")
    card.get_by_label("Note (optional)").fill("Initech and Globex")
    card.get_by_role("button", name="Log Demos booked").click()
    expect(bar).to_have_attribute("aria-valuenow", str(start + 30))
    expect(page.locator("#today-entries")).to_contain_text("Initech and Globex")
    expect(page.locator(f"#kpi-{micro.kpi_id} .log-flash")).to_contain_text("Logged 3 Demos booked for today.")

    # The second time from the keyboard: the new form (with a new one-time token) submits on Enter.
    card.get_by_label("Value").fill("2")
    card.get_by_label("Value").press("Enter")
    expect(bar).to_have_attribute("aria-valuenow", str(start + 50))
    expect(page.locator("#today-entries .entry-row")).to_have_count(2)
    assert page.evaluate("window.__pacerMarker") == "no reload"
    assert ProgressEntry.objects.filter(user=personas.rep_a, date=personas.rep_a.local_today()).count() == 2
    screenshot(page, "rep-today-phone-after-two-logs")

    # Void the latest entry (2): a reason is required, the error shows in place.
    latest = page.locator("#today-entries li").first
    latest.get_by_role("link", name="Void").click()
    void_form = page.get_by_role("form", name="Void Demos booked entry")
    void_form.get_by_role("button", name="Void entry").click()
    expect(void_form).to_contain_text("Say why this entry is voided")
    screenshot(page, "rep-today-phone-void-needs-reason")
    void_form.get_by_label("Why void this entry?").fill("Logged the Globex demo twice")
    void_form.get_by_role("button", name="Void entry").click()
    voided = page.locator("#today-entries li").first
    expect(voided.locator("del")).to_contain_text("2")
    expect(voided).to_contain_text("Logged the Globex demo twice")
    expect(bar).to_have_attribute("aria-valuenow", str(start + 30))
    assert page.evaluate("window.__pacerMarker") == "no reload"
    screenshot(page, "rep-today-phone-after-void")

    # My goals and the log history, on the phone too.
    page.goto(f"{live_server.url}/my-goals/")
    expect(page.get_by_role("heading", name="My goals")).to_be_visible()
    expect(page.locator(".goal-card", has_text="Demos this month")).to_contain_text("Needed per day")
    screenshot(page, "rep-my-goals-phone")
    page.goto(f"{live_server.url}/goals/{micro.goal_id}/entries/")
    expect(page.locator(".entry-voided del")).to_contain_text("2")
    expect(page.locator(".entry-voided")).to_contain_text("Logged the Globex demo twice")
    screenshot(page, "rep-entry-history-phone")


def test_manager_logs_for_a_rep_of_their_team(page, live_server, personas, week_plan):
    micro = week_plan
    login(page, live_server, personas.manager_a)
    page.goto(f"{live_server.url}/today/?rep={personas.rep_a.id}")
    expect(page.get_by_role("note")).to_contain_text(f"Logging for {personas.rep_a}")
    card = page.locator(f"#kpi-{micro.kpi_id}")
    card.get_by_label("Value").fill("1")
    card.get_by_role("button", name="Log Demos booked").click()
    expect(page.locator("#today-entries")).to_contain_text(f"by {personas.manager_a}")
    entry = ProgressEntry.objects.get(created_by=personas.manager_a)
    assert entry.user == personas.rep_a
    screenshot(page, "manager-logs-for-rep-desktop")
