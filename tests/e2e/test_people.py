"""An admin invites a person; the person sets a password from the emailed link and logs in. Through the real pages."""

import re

import pytest
from django.conf import settings
from django.core import mail
from playwright.sync_api import expect

from .conftest import login, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "Quota-crusher-2027"


def test_admin_invites_a_rep_who_sets_a_password_and_logs_in(page, live_server, personas, org, eager_celery):
    login(page, live_server, personas.admin)
    nav = page.get_by_role("navigation", name="Main navigation")
    nav.get_by_role("link", name="People").click()
    page.get_by_role("link", name="Invite a person").click()
    page.get_by_label("First name").fill("Lena")
    page.get_by_label("Last name").fill("Lindqvist")
    page.get_by_label("Email").fill("lena@example.com")
    page.get_by_label("Timezone").select_option("Europe/Stockholm")
    page.get_by_label("Team").select_option(label="Team A")
    page.get_by_label("Role").select_option(label="Rep")
    screenshot(page, "admin-invite-filled")
    page.get_by_role("button", name="Send invitation").click()

    expect(page.get_by_role("alert")).to_contain_text("Invitation sent to lena@example.com")
    row = page.locator("tr", has_text="Lena Lindqvist")
    expect(row).to_contain_text("Invited")
    expect(row).to_contain_text("Rep of Team A")
    screenshot(page, "admin-people-after-invite")

    nav.get_by_role("link", name="Audit log").click()
    expect(page.locator("tbody")).to_contain_text("invited Lena Lindqvist (lena@example.com) to Team A as Rep")
    screenshot(page, "admin-audit-log")
    page.context.clear_cookies()

    [email] = mail.outbox
    link = re.search(r"http://\S+/accounts/reset/\S+/", email.body).group(0)
    page.goto(link.replace("http://127.0.0.1:8000", live_server.url))
    expect(page.get_by_role("heading", name="Choose your password")).to_be_visible()
    page.locator("#id_new_password1").fill("lena")
    page.locator("#id_new_password2").fill("lena")
    page.get_by_role("button", name="Save my password").click()
    expect(page.locator("form")).to_contain_text("too short")
    screenshot(page, "invitee-weak-password-refused")
    page.locator("#id_new_password1").fill(PASSWORD)
    page.locator("#id_new_password2").fill(PASSWORD)
    page.get_by_role("button", name="Save my password").click()
    expect(page.get_by_role("heading", name="Your password is saved")).to_be_visible()

    page.get_by_role("link", name="Log in").click()
    page.get_by_label("Username").fill("lena@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    expect(page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Today")).to_be_visible()
    screenshot(page, "invitee-first-login")


def expected_429s(browser_errors):
    """Drop the lockout's own 429 Too Many Requests (the response and its console line): the one error expected."""
    browser_errors.found = [e for e in browser_errors.found if "429" not in e]


def test_a_guesser_is_locked_out_and_told_why(page, live_server, personas, browser_errors):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill(personas.rep_a.username)
        page.get_by_label("Password").fill("not-my-password")
        page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Logins paused")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text(f"after {settings.AXES_FAILURE_LIMIT} wrong passwords")
    screenshot(page, "login-locked-out")
    # The lockout answers 429 Too Many Requests on purpose: that is the one error this test expects.
    expected_429s(browser_errors)
    page.get_by_role("link", name="Back to the login page").click()
    page.get_by_label("Username").fill(personas.rep_a.username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Logins paused")).to_be_visible()
    expected_429s(browser_errors)
