"""Every page a persona can reach from the navigation loads cleanly, on a desktop and on a 375 px phone.

The crawl starts at the navigation's links and follows the links in each page's main content (two levels
deep), so team pages, member pages and KPI forms are visited too. On every page: no console error, no
failed request, no HTTP error, no horizontal scrolling at 375 px, and every form control has a label.
"""

from urllib.parse import urldefrag, urlsplit

import pytest
from playwright.sync_api import expect

from .conftest import login, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}
MAX_DEPTH = 2  # nav links are depth 0
MAX_PAGES = (
    90  # rewards, feedback, people and the audit log added pages; the admin's team edit page must still be reached
)
NOT_CRAWLED = ("/admin/", "/accounts/logout/")  # Django's own admin is not Pacer's to test

UNLABELLED_CONTROLS_JS = """
() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
  .filter(el => el.labels.length === 0 && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
  .map(el => el.name || el.id || el.outerHTML.slice(0, 80))
"""

WIDEST_JS = """
() => [...document.querySelectorAll('body *')]
  .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1 && !el.closest('.table-responsive'))
  .slice(0, 5).map(el => `${el.tagName}.${el.className} right=${Math.round(el.getBoundingClientRect().right)}`)
"""


def links(page, selector, origin):
    """Same-site page links inside `selector`, without fragments, in document order."""
    found = []
    for href in page.locator(f"{selector} a[href]").evaluate_all("els => els.map(a => a.href)"):
        url = urldefrag(href).url
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" == origin and not parts.path.startswith(NOT_CRAWLED):
            found.append(url)
    return found


def check_page(page, browser_errors, name):
    """The page as loaded at desktop width, then again at 375 px."""
    browser_errors.assert_none()
    assert page.evaluate(UNLABELLED_CONTROLS_JS) == [], f"unlabelled form controls on {page.url}"
    expect(page.locator("h1")).to_have_count(1)
    screenshot(page, name)
    page.set_viewport_size(PHONE)
    screenshot(page, f"{name}-375")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px at 375 px: {page.evaluate(WIDEST_JS)}"
    page.set_viewport_size(DESKTOP)


@pytest.mark.parametrize("persona", ["admin", "manager_a", "rep_a"])
def test_every_page_reachable_from_the_navigation_loads_cleanly(page, live_server, personas, org, persona,
                                                                browser_errors):  # fmt: skip
    login(page, live_server, getattr(personas, persona))
    origin = live_server.url
    queue = [(url, 0) for url in dict.fromkeys(links(page, "#nav-main", origin))]
    assert queue, "the navigation shows no links"
    seen = {url for url, _ in queue}
    visited = []
    while queue and len(visited) < MAX_PAGES:
        url, depth = queue.pop(0)
        page.goto(url)
        page.wait_for_load_state("networkidle")
        path = urlsplit(url).path
        visited.append(path)
        check_page(page, browser_errors, f"{persona}-{page.title().removesuffix(' · Pacer')}")
        if depth < MAX_DEPTH:
            for found in links(page, "main", origin):
                if found not in seen:
                    seen.add(found)
                    queue.append((found, depth + 1))
    print(f"{persona} visited {len(visited)} pages: {visited}")
    expected = {"/teams/", f"/teams/{personas.team_a.id}/"}
    if persona == "admin":
        expected |= {"/kpis/", "/kpis/new/", "/teams/new/", f"/teams/{personas.team_a.id}/edit/"}
    assert expected <= set(visited)
    if persona != "admin":
        assert not any(path.startswith("/kpis/") for path in visited)
        assert f"/teams/{personas.team_b.id}/" not in visited


def test_phone_navigation_opens_from_the_menu_button(page, live_server, personas, org):
    page.set_viewport_size(PHONE)
    login(page, live_server, personas.admin)
    nav = page.get_by_role("navigation", name="Main navigation")
    expect(nav.get_by_role("link", name="KPIs")).to_be_hidden()
    nav.get_by_role("button", name="Toggle navigation").click()
    page.locator("#nav-main.collapse.show").wait_for()  # Bootstrap's opening animation has finished
    expect(nav.get_by_role("link", name="KPIs")).to_be_visible()
    expect(nav.get_by_role("link", name="Dashboard")).to_have_attribute("aria-current", "page")  # admins land there
    screenshot(page, "admin-phone-menu-open")
