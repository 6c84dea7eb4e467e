"""The figures pages in Chromium: My goals fits its cards at 1280 and 375 px, the goal page draws the forecast band,
the dashboard's text passes WCAG AA contrast (computed in the browser, as axe does)."""

import datetime
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from goals import services
from goals.models import Goal, Kpi
from tests.factories import ProgressEntryFactory

from .conftest import login, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# For every element with its own text: its colour against the first opaque background behind it; returns the
# elements below 4.5:1 (3:1 for large text), as "text (ratio)".
CONTRAST_FAILURES_JS = """
(root) => {
  const parse = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let node = el; node; node = node.parentElement) {
      const c = parse(getComputedStyle(node).backgroundColor);
      if (c.length >= 3 && (c.length < 4 || c[3] > 0.5)) return c;
    }
    return [255, 255, 255];
  };
  const failures = [];
  for (const el of root.querySelectorAll("*")) {
    const text = [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent.trim()).join("");
    if (!text || !el.getClientRects().length || el.closest(".visually-hidden")) continue;
    const style = getComputedStyle(el);
    const fg = parse(style.color), bg = background(el);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    const large = parseFloat(style.fontSize) >= 24 || (parseFloat(style.fontSize) >= 18.66 && style.fontWeight >= 700);
    if (ratio < (large ? 3 : 4.5)) failures.push(`${text.slice(0, 40)} (${ratio.toFixed(2)})`);
  }
  return failures;
}
"""

OVERFLOWS_JS = """
() => {
  const found = [];
  if (document.documentElement.scrollWidth > window.innerWidth) found.push(`page ${document.documentElement.scrollWidth}px`);
  for (const el of document.querySelectorAll(".goal-card, .goal-card dd, .goal-card dt, .goal-card h3")) {
    if (el.scrollWidth > el.clientWidth + 1) found.push(`${el.className}: ${el.textContent.trim().slice(0, 40)}`);
  }
  return found;
}
"""


@pytest.fixture
def big_goals(personas, org):
    """rep_a's month: a revenue goal in the hundreds of thousands, a deals goal and a team goal, with history."""
    rep, manager = personas.rep_a, personas.manager_a
    today = rep.local_today()
    start, due = today.replace(day=1), today.replace(day=1) + datetime.timedelta(days=40)
    revenue = Kpi.objects.create(name="Revenue won", unit=Kpi.Unit.CURRENCY, currency_code="USD", decimal_places=2)
    deals = Kpi.objects.create(name="Deals closed", unit=Kpi.Unit.COUNT)
    goals = [
        Goal.objects.create(title="Quarter revenue for the whole EMEA region", kpi=revenue, owner_user=rep,
                            target_value=Decimal("950000"), start_date=start, due_date=due, created_by=manager),
        Goal.objects.create(title="Win 26 deals", kpi=deals, owner_user=rep, target_value=Decimal(26),
                            start_date=start, due_date=due, created_by=manager),
        Goal.objects.create(title="Team revenue", kpi=revenue, owner_team=personas.team_a,
                            target_value=Decimal("1950000"), start_date=start, due_date=due, created_by=manager),
    ]  # fmt: skip
    day = start - datetime.timedelta(days=30)
    while day < today:
        if day.weekday() < 5:
            ProgressEntryFactory(user=rep, kpi=revenue, date=day, value=Decimal("31234.57") + day.day * 917)
            ProgressEntryFactory(user=rep, kpi=deals, date=day, value=Decimal(day.day % 3))
        day += datetime.timedelta(days=1)
    services.progress_recompute()
    return goals


@pytest.mark.parametrize("width", [1280, 375])
def test_my_goals_fits_its_cards_and_the_screen(page, live_server, personas, big_goals, width):
    page.set_viewport_size({"width": width, "height": 900})
    login(page, live_server, personas.rep_a)
    page.goto(f"{live_server.url}/my-goals/")
    expect(page.get_by_role("heading", name="My goals")).to_be_visible()
    expect(page.locator(".goal-card")).to_have_count(3)
    screenshot(page, f"my-goals-{width}")
    assert page.evaluate(OVERFLOWS_JS) == []


def test_goal_page_draws_the_forecast_band(page, live_server, personas, big_goals):
    goal = big_goals[0]
    login(page, live_server, personas.rep_a)
    page.goto(f"{live_server.url}/goals/{goal.id}/")
    figures = page.locator("#goal-figures")
    expect(figures.locator('[data-figure="range"]')).to_be_visible()
    expect(figures.locator('[data-figure="chance"]')).to_contain_text("%")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.querySelector('canvas[data-burnup]'))")
    labels = page.evaluate(
        "() => Chart.getChart(document.querySelector('canvas[data-burnup]')).data.datasets.map((d) => d.label)"
    )
    assert {"Actual", "Pace", "Forecast", "Likely high (P90)", "Likely low (P10)"} <= set(labels)
    screenshot(page, "goal-page-forecast-band")


def test_dashboard_text_passes_aa_contrast(page, live_server, personas, big_goals):
    login(page, live_server, personas.manager_a)
    page.goto(f"{live_server.url}/dashboard/")
    expect(page.locator("#rep-table")).to_be_visible()
    screenshot(page, "dashboard-contrast")
    assert page.evaluate(CONTRAST_FAILURES_JS, page.locator("main").element_handle()) == []


def test_an_implausible_value_gets_a_second_look_before_it_is_stored(page, live_server, personas, big_goals):
    from goals.models import ProgressEntry

    before = ProgressEntry.objects.count()
    login(page, live_server, personas.rep_a)
    page.goto(f"{live_server.url}/today/")
    card = page.locator("section.kpi-card", has_text="Deals closed")
    card.get_by_label("Value").fill("1000000")
    card.get_by_role("button", name="Log Deals closed").click()
    warning = card.locator(".second-look")
    expect(warning).to_contain_text("1,000,000 Deals closed is more than the whole target of “Win 26 deals” (26)")
    assert ProgressEntry.objects.count() == before
    screenshot(page, "today-second-look")
    page.locator("section.kpi-card", has_text="Deals closed").get_by_role("button", name="Yes, log 1,000,000").click()
    expect(page.locator("section.kpi-card", has_text="Deals closed").locator(".log-flash")).to_contain_text("Logged")
    assert ProgressEntry.objects.count() == before + 1
