"""On a phone a rep checks in (two taps) and asks for an adjustment; the manager decides it with the preview of the
new figures and the re-planned micro goals; both then see the new target and the one combined timeline."""

import datetime
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from feedback.models import AdjustmentRequest, CheckIn
from goals import services
from goals.models import Kpi, MicroGoal

from .conftest import login, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 812}


def no_sideways_scroll(page):
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"


@pytest.fixture
def goal(personas, org):
    """rep_a's goal of 60 demos over four weeks from this week's Monday, in weekly micro goals."""
    today = personas.rep_a.local_today()
    monday = today - datetime.timedelta(days=today.weekday())
    kpi = Kpi.objects.create(name="Demos booked", unit=Kpi.Unit.COUNT)
    goal = services.goal_create(
        title="Demos this month", kpi=kpi, target_value=Decimal(60), start_date=monday,
        due_date=monday + datetime.timedelta(days=25), owner_user=personas.rep_a, created_by=personas.manager_a,
    )  # fmt: skip
    services.micro_goals_generate(goal=goal, cadence="weekly", created_by=personas.manager_a)
    services.progress_recompute(goal_ids=[goal.id], micro_goal_ids=None)
    return goal


def test_rep_checks_in_and_asks_on_a_phone_the_manager_approves_and_both_see_it(
    page, browser, live_server, personas, goal
):
    page.set_viewport_size(PHONE)
    login(page, live_server, personas.rep_a)
    page.goto(f"{live_server.url}/my-goals/")
    card = page.get_by_role("article", name="Demos this month")
    card.get_by_role("link", name="Check in").click()  # loaded into the card by htmx

    # Two taps: a confidence, then Save — the Save button is on the first screen of a phone.
    expect(page.get_by_role("heading", name="Weekly check-in")).to_be_visible()
    save = page.get_by_role("button", name="Save check-in")
    box = save.bounding_box()
    assert box["y"] + box["height"] <= PHONE["height"], "Save must be reachable without scrolling"
    no_sideways_scroll(page)
    screenshot(page, "feedback-checkin-phone")
    page.get_by_text("4", exact=True).click()
    save.click()
    expect(page.get_by_text("Check-in saved: confidence 4/10")).to_be_visible()
    assert CheckIn.objects.get(goal=goal).confidence == 4

    # The goal page loads the confidence trend and the combined timeline from the feedback app.
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Check-in: 4/10")
    page.get_by_role("link", name="Request an adjustment").click()
    page.get_by_label("New target").fill("50")
    page.get_by_label("Why").fill("Two customers postponed their demos to January.")
    no_sideways_scroll(page)
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_text("Request sent")).to_be_visible()
    screenshot(page, "feedback-request-sent-phone")
    request = AdjustmentRequest.objects.get(goal=goal)

    # The manager, on a desktop, sees what approval would do before deciding.
    manager_page = browser.new_page(viewport={"width": 1280, "height": 900})
    login(manager_page, live_server, personas.manager_a)
    manager_page.goto(f"{live_server.url}/feedback/requests/")
    manager_page.get_by_role("link", name="Demos this month").click()
    compare = manager_page.locator("table.adjust-compare")
    expect(compare).to_contain_text("60")
    expect(compare).to_contain_text("50")
    expect(manager_page.get_by_text("Re-planned after approval")).to_be_visible()
    screenshot(manager_page, "feedback-request-preview-desktop")
    manager_page.get_by_label("Your answer to the requester").fill("Fair — let's re-plan.")
    manager_page.get_by_role("button", name="Approve").click()
    expect(manager_page.get_by_text("Approved: the goal and its micro goals are updated.")).to_be_visible()
    expect(manager_page.locator("#decision")).to_contain_text("The goal is now 50")
    manager_page.goto(f"{live_server.url}/goals/{goal.id}/")
    expect(manager_page.locator("#timeline")).to_contain_text("Adjustment approved")
    # The 1:1 agenda: the off-track goal with this week's confidence, ready for the meeting.
    manager_page.get_by_role("link", name="1:1s").click()
    manager_page.get_by_role("link", name=str(personas.rep_a)).click()
    attention = manager_page.get_by_role("region", name="Needs attention")
    expect(attention).to_contain_text("Demos this month")
    expect(attention).to_contain_text("Confidence: 4")
    screenshot(manager_page, "feedback-agenda-desktop")
    manager_page.set_viewport_size(PHONE)
    no_sideways_scroll(manager_page)
    manager_page.close()

    request.refresh_from_db()
    assert request.status == "approved" and request.revision.kind == "adjusted"
    active = goal.micro_goals.filter(status=MicroGoal.Status.ACTIVE)
    assert sum(m.target_value for m in active) == Decimal(50)

    # Back on the phone, the rep sees the new target and the whole story in the timeline.
    page.goto(f"{live_server.url}/goals/{goal.id}/")
    expect(page.locator("#figures-heading + div")).to_contain_text("50")
    for text in ("Adjustment approved", "Request approved", "Adjustment requested", "Check-in: 4/10", "Created"):
        expect(timeline).to_contain_text(text)
    expect(timeline).to_contain_text("Fair — let's re-plan.")
    no_sideways_scroll(page)
    screenshot(page, "feedback-goal-timeline-phone")
