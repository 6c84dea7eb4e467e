"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live_server.

Every test here is marked `e2e` (skipped without /usr/bin/chromium, a failure when REQUIRE_SERVICES=1) and
`django_db(transaction=True)` (the live server runs in another thread, so data must be committed).
Any console error (a Content-Security-Policy violation is one), uncaught page error, failed request or HTTP
status >= 400 fails the test.
"""

import datetime
import os
import re
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest

from goals.models import Kpi
from teams.models import Holiday, Team
from tests.factories import MembershipFactory, TeamFactory, UserFactory

# live_server + sync Playwright: Playwright runs an event loop in the test thread, Django's ORM must not mind.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",  # without these Chromium keeps trying to reach the internet
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).parent / "screenshots"  # git-ignored
PASSWORD = "pw"  # every persona's password (tests/factories.py)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}, "locale": "en-US"}


# Every Content-Security-Policy violation becomes a console error naming the directive (Chromium also logs
# its own "Refused to …" message); an init script is not subject to the page's policy.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (event) {
  console.error("CSP violation: " + event.violatedDirective + " blocked " + (event.blockedURI || "inline"));
});
"""


class BrowserErrors:
    """What went wrong in the browser while a test ran: console errors (CSP violations among them), page errors,
    failed/4xx/5xx requests."""

    def __init__(self, page):
        self.found: list[str] = []
        page.add_init_script(REPORT_CSP_VIOLATIONS)
        page.on("console", lambda msg: msg.type == "error" and self.found.append(f"console: {msg.text} ({page.url})"))
        page.on("pageerror", lambda exc: self.found.append(f"page error: {exc} ({page.url})"))
        page.on("requestfailed", self._request_failed)
        page.on(
            "response",
            lambda resp: (
                resp.status >= 400 and self.found.append(f"HTTP {resp.status}: {resp.request.method} {resp.url}")
            ),
        )

    def _request_failed(self, request):
        # ERR_ABORTED is the browser cancelling a request itself (a navigation started while the favicon
        # or a fragment was still loading); server errors are caught by the status check below.
        if request.failure != "net::ERR_ABORTED":
            self.found.append(f"failed: {request.method} {request.url} {request.failure}")

    def assert_none(self):
        found, self.found = self.found, []
        assert not found, "The browser reported:\n" + "\n".join(found)


@pytest.fixture(autouse=True)
def browser_errors(page):
    """Records the page's errors; at teardown there must be none (tests may also check earlier)."""
    page.set_default_timeout(10_000)
    errors = BrowserErrors(page)
    yield errors
    errors.assert_none()


def login(page, live_server, user, password=PASSWORD):
    """Log in through the real login form and wait until Pacer has redirected away from it."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def screenshot(page, name):
    """A full-page PNG in tests/e2e/screenshots/<name>.png, to look at."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name).strip('-')}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def org(personas):
    """A small realistic organisation around the personas: Acme → EMEA → Team A / Team B, holidays, KPIs,
    a few more reps (one part-time), a former member and someone not yet in any team."""
    acme = TeamFactory(name="Acme Sales", slug="acme")
    emea = TeamFactory(name="EMEA", slug="emea", parent=acme)
    Team.objects.filter(id__in=[personas.team_a.id, personas.team_b.id]).update(parent=emea)
    Holiday.objects.create(team=acme, date=datetime.date(2030, 12, 25), name="Christmas Day")
    Holiday.objects.create(team=personas.team_a, date=datetime.date(2030, 7, 14), name="Team offsite")
    for first, last in [("Grace", "Hughes"), ("Hugo", "Fischer")]:
        MembershipFactory(user=UserFactory(first_name=first, last_name=last), team=personas.team_a)
    MembershipFactory(
        user=UserFactory(first_name="Isla", last_name="Costa"), team=personas.team_a, capacity=Decimal("0.60")
    )
    MembershipFactory(
        user=UserFactory(first_name="Finn", last_name="Evans"),
        team=personas.team_a,
        active_from=datetime.date(2023, 3, 1),
        active_to=datetime.date(2025, 6, 30),
    )
    Kpi.objects.create(name="Calls made", unit=Kpi.Unit.COUNT)
    Kpi.objects.create(name="Pipeline", unit=Kpi.Unit.CURRENCY, currency_code="EUR", decimal_places=2,
                       aggregation=Kpi.Aggregation.LAST, description="Open pipeline value at the end of the day.")  # fmt: skip
    newcomer = UserFactory(username="nia", first_name="Nia", last_name="Newcomer")
    return SimpleNamespace(acme=acme, emea=emea, newcomer=newcomer)
