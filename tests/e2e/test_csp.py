"""The Content-Security-Policy holds in a real browser: a violation fails a browser test (so every other browser
test proves its pages satisfy the policy), and the pages that use htmx and Chart.js draw under it."""

import pytest

from tests.e2e.conftest import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_inline_style_or_script_is_refused_and_reported(page, live_server, personas, browser_errors):
    login(page, live_server, personas.rep_a)
    page.goto(f"{live_server.url}/today/")
    page.evaluate(
        """() => {
          document.body.insertAdjacentHTML("beforeend", '<div id="forged" style="color: red">x</div>');
          const script = document.createElement("script");
          script.textContent = "window.forgedRan = true";
          document.body.appendChild(script);
        }"""
    )
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.forgedRan") is None  # the inline script did not run
    assert page.evaluate("() => getComputedStyle(document.getElementById('forged')).color") != "rgb(255, 0, 0)"
    found, browser_errors.found = browser_errors.found, []
    assert any("CSP violation: style-src-attr" in line for line in found), found
    assert any("CSP violation: script-src-elem" in line for line in found), found


def test_cssom_styles_are_allowed(page, live_server, personas):
    """What Chart.js and Bootstrap do (element.style through the CSSOM) is not an inline style."""
    login(page, live_server, personas.rep_a)
    page.goto(f"{live_server.url}/today/")
    page.evaluate("() => { document.body.style.outline = '1px solid red'; }")
    assert page.evaluate("() => document.body.style.outline") == "red solid 1px"


def test_the_django_admin_works_under_the_policy(page, live_server, personas, org):
    from tests.factories import GoalFactory

    goal = GoalFactory(owner_user=personas.rep_a, created_by=personas.manager_a)
    login(page, live_server, personas.admin)
    for path in ["/admin/", "/admin/goals/goal/", f"/admin/goals/goal/{goal.id}/change/", "/admin/teams/user/"]:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
