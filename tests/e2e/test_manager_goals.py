"""A manager sets a team target with the SMART form and its breakdown, then edits and re-plans a goal."""

import datetime
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from goals import services
from goals.models import Goal, Kpi, MicroGoal, ProgressEntry
from teams.selectors import calendar_for_team, team_members

from .conftest import login, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}


def on_a_phone(page, name):
    """A full-page screenshot at 375 px; the page must not scroll sideways (wide tables scroll in their box)."""
    page.set_viewport_size(PHONE)
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")  # re-laid out
    screenshot(page, name)
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px at 375 px"
    page.set_viewport_size(DESKTOP)


@pytest.fixture
def deals(personas, org):
    """A "Deals won" KPI on which every current rep of Team A closed one deal a working day for 60 working days:
    Team A's recent pace is about 4 deals a working day."""
    kpi = Kpi.objects.create(name="Deals won", unit=Kpi.Unit.COUNT)
    today = personas.manager_a.local_today()
    calendar = calendar_for_team(team=personas.team_a)
    days = calendar.working_dates(calendar.add_working_days(today, -60), today - datetime.timedelta(days=1))
    ProgressEntry.objects.bulk_create(
        ProgressEntry(user=m.user, kpi=kpi, date=day, value=Decimal(1), created_by=m.user)
        for m in team_members(team=personas.team_a, role="rep")
        for day in days
    )
    return kpi


def test_manager_sets_a_team_target_with_live_achievability_and_a_weekly_breakdown(page, live_server, personas, deals):
    today = personas.manager_a.local_today()
    due = today + datetime.timedelta(days=27)
    login(page, live_server, personas.manager_a)
    page.goto(f"{live_server.url}/dashboard/")
    page.get_by_role("link", name="Set a target").first.click()
    expect(page.get_by_role("heading", name="Set a target")).to_be_visible()

    page.get_by_label("Title").fill("Close the year strong")
    page.get_by_label("Description").fill("New business deals, signed.")
    page.get_by_label("Owner").select_option(label="Team A (team)")
    page.get_by_label("KPI").select_option(label="Deals won")
    page.get_by_label("Start date").fill(today.isoformat())
    page.get_by_label("Due date").fill(due.isoformat())
    verdict = page.locator("#achievability")

    page.get_by_label("Target").fill("40")
    expect(verdict).to_contain_text("Achievable")
    expect(verdict).to_contain_text("Needed per working day")
    page.get_by_label("Target").fill("400")
    expect(verdict).to_contain_text("Unrealistic")
    screenshot(page, "manager-set-target-unrealistic")
    page.get_by_label("Target").fill("60")
    expect(verdict).to_contain_text("Achievable")
    page.get_by_label("Rationale").fill("Our share of the EMEA year-end push.")
    screenshot(page, "manager-set-target-form")
    on_a_phone(page, "manager-set-target-form-375")

    page.get_by_label("Weekly").check()
    page.get_by_role("button", name="Preview breakdown").click()
    expect(page.get_by_role("heading", name="Set a target: check the breakdown")).to_be_visible()
    breakdown = page.locator("#breakdown")
    expect(breakdown).to_contain_text("add up to exactly 60")
    expect(breakdown.locator("tfoot")).to_contain_text("60")
    expect(breakdown).to_contain_text("Isla Costa")
    expect(breakdown).to_contain_text("0.60")
    assert not Goal.objects.exists()
    weekly_columns = breakdown.locator("thead th").count()

    page.get_by_label("Every two weeks").check()  # htmx swaps the table in place
    expect(breakdown.locator("thead th")).not_to_have_count(weekly_columns)
    page.get_by_label("Weekly").check()
    expect(breakdown.locator("thead th")).to_have_count(weekly_columns)
    screenshot(page, "manager-set-target-weekly-preview")
    on_a_phone(page, "manager-set-target-weekly-preview-375")

    page.get_by_role("button", name="Confirm and save").click()
    expect(page.get_by_role("alert")).to_contain_text("Goal “Close the year strong” set with")
    goal = Goal.objects.get()
    assert goal.owner_team == personas.team_a and goal.achievability == Goal.Achievability.ACHIEVABLE
    assert sum(m.target_value for m in MicroGoal.objects.filter(goal=goal)) == Decimal(60)
    expect(page.locator("#timeline")).to_contain_text("Created")
    expect(page.locator("#goal-history")).not_to_contain_text("Open the log history")  # htmx loaded it
    screenshot(page, "manager-goal-page-after-create")

    page.get_by_role("link", name="Dashboard").first.click()
    expect(page.get_by_role("heading", name="Team dashboard")).to_be_visible()
    expect(page.locator("#team-goals-heading + ul")).to_contain_text("Close the year strong")
    expect(page.locator("#rep-table")).to_contain_text("Isla Costa")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.querySelector('canvas[data-burnup]'))")
    screenshot(page, "manager-dashboard-with-new-goal")
    on_a_phone(page, "manager-dashboard-375")


@pytest.fixture
def planned_goal(personas, deals):
    today = personas.manager_a.local_today()
    goal = services.goal_create(
        title="Year-end deals",
        kpi=deals,
        target_value=Decimal(60),
        start_date=today - datetime.timedelta(days=7),
        due_date=today + datetime.timedelta(days=27),
        owner_team=personas.team_a,
        rationale="EMEA year-end push",
        created_by=personas.manager_a,
    )
    services.micro_goals_generate(goal=goal, cadence="weekly", created_by=personas.manager_a)
    services.progress_recompute(goal_ids=[goal.id], micro_goal_ids=list(goal.micro_goals.values_list("id", flat=True)))
    return goal


def test_manager_edits_the_target_with_a_reason_and_replans(page, live_server, personas, planned_goal):
    login(page, live_server, personas.manager_a)
    page.goto(f"{live_server.url}/goals/{planned_goal.id}/")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.querySelector('canvas[data-burnup]'))")
    screenshot(page, "manager-goal-page-before-edit")

    page.get_by_role("link", name="Edit goal").first.click()
    page.get_by_label("Target").fill("80")
    page.get_by_role("button", name="Save changes").click()
    reason = page.get_by_label("Reason for the change")
    expect(reason).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.locator("#div_id_reason")).to_contain_text("Say why the target changes")
    expect(page.get_by_label("Target")).to_have_value("80")  # what was typed is kept
    screenshot(page, "manager-goal-edit-needs-reason")
    on_a_phone(page, "manager-goal-edit-375")
    reason.fill("Two new reps start in December")
    page.get_by_role("button", name="Save changes").click()

    expect(page.get_by_role("alert").first).to_contain_text("Goal “Year-end deals” saved.")
    timeline = page.locator("#timeline")
    expect(timeline.locator("li").first).to_contain_text("Edited")
    expect(timeline.locator("li").first).to_contain_text("Two new reps start in December")
    expect(timeline.locator("li").first).to_contain_text("Target: 60 → 80")

    manage = page.locator("#manage")
    manage.get_by_label("Reason (optional)").fill("Spread the new target")
    manage.get_by_role("button", name="Preview the re-plan").click()
    expect(page.locator("#replan-preview")).to_be_visible()  # the new plan, before anything changes
    screenshot(page, "manager-replan-preview")
    page.locator("#manage").get_by_role("button", name="Apply the re-plan").click()
    expect(page.get_by_role("alert").first).to_contain_text("Re-planned")
    expect(timeline.locator("li").first).to_contain_text("Re-planned")
    expect(timeline.locator("li").first).to_contain_text("Spread the new target")
    future = MicroGoal.objects.filter(
        goal=planned_goal, status="active", due_date__gte=personas.manager_a.local_today()
    )
    assert sum(m.target_value for m in future) > 0
    screenshot(page, "manager-goal-page-after-replan")
    on_a_phone(page, "manager-goal-page-375")


def test_manager_sets_bulk_targets_all_or_nothing(page, live_server, personas, deals):
    today = personas.manager_a.local_today()
    login(page, live_server, personas.manager_a)
    page.goto(f"{live_server.url}/goals/bulk/")
    page.get_by_label("Team").select_option(label="Team A")
    rows = page.locator("#bulk-rows")
    expect(rows.get_by_label("Isla Costa")).to_be_visible()  # htmx listed the team's reps
    page.get_by_label("KPI").select_option(label="Deals won")
    page.get_by_label("Title").fill("December deals")
    page.get_by_label("Start date").fill(today.isoformat())
    page.get_by_label("Due date").fill((today + datetime.timedelta(days=27)).isoformat())
    rows.get_by_label("Grace Hughes").fill("20")
    rows.get_by_label("Isla Costa").fill("12.5")  # a count KPI takes whole numbers
    page.get_by_role("button", name="Save all targets").click()
    expect(rows.locator("tr", has_text="Isla Costa")).to_contain_text("takes whole numbers only")
    expect(rows.get_by_label("Grace Hughes")).to_have_value("20")
    assert not Goal.objects.exists()  # all or nothing
    screenshot(page, "manager-bulk-row-error")
    on_a_phone(page, "manager-bulk-row-error-375")
    rows.get_by_label("Isla Costa").fill("12")
    page.get_by_role("button", name="Save all targets").click()
    expect(page.get_by_role("alert")).to_contain_text("2 goals set for Team A")
    assert sorted(Goal.objects.values_list("target_value", flat=True)) == [Decimal(12), Decimal(20)]
    screenshot(page, "manager-dashboard-after-bulk")


def test_manager_moves_the_due_date_earlier_replans_and_cancels(page, live_server, personas, planned_goal):
    """The plan says the dates changed and what lies outside the window; the preview lists every change and removal;
    the timeline says what the re-plan did; a cancelled goal shows its final state and micro goals, no forecast."""
    today = personas.manager_a.local_today()
    new_due = today + datetime.timedelta(days=13)
    login(page, live_server, personas.manager_a)
    page.goto(f"{live_server.url}/goals/{planned_goal.id}/edit/")
    page.get_by_label("Target").fill("70")
    page.get_by_label("Due date").fill(new_due.isoformat())
    page.get_by_label("Reason for the change").fill("The quarter closes early")
    page.get_by_role("button", name="Save changes").click()

    expect(page.get_by_role("alert").nth(1)).to_contain_text("The target and the dates changed")
    expect(page.get_by_role("alert").nth(1)).to_contain_text("now lie outside its window")
    warning = page.locator("#plan-out-of-date")
    expect(warning).to_contain_text("The goal's target and dates changed since this plan was made")
    expect(warning).to_contain_text("outside the goal's window")
    screenshot(page, "manager-goal-dates-moved-plan-out-of-date")

    page.locator("#manage").get_by_role("button", name="Preview the re-plan").click()
    preview = page.locator("#replan-preview")
    expect(preview).to_contain_text("removed: outside the new window")
    expect(page.locator("#replan-totals")).to_contain_text("cancelled (kept as history)")
    screenshot(page, "manager-replan-preview-after-dates-moved")
    on_a_phone(page, "manager-replan-preview-after-dates-moved-375")
    page.locator("#manage").get_by_role("button", name="Apply the re-plan").click()
    expect(page.get_by_role("alert").first).to_contain_text("cancelled (kept as history)")
    first = page.locator("#timeline li").first
    expect(first).to_contain_text("were re-planned")
    expect(first).to_contain_text("cancelled: outside the goal's window")
    expect(first).not_to_contain_text("Re-planned from")
    expect(page.locator("#plan-out-of-date")).to_have_count(0)
    assert not MicroGoal.objects.filter(goal=planned_goal, status="active", due_date__gt=new_due).exists()
    screenshot(page, "manager-goal-page-after-dates-replan")

    page.locator("#manage summary").click()
    page.get_by_label("Reason").last.fill("Territory merged")
    page.get_by_role("button", name="Cancel goal").click()
    expect(page.locator("#goal-closed")).to_contain_text("Cancelled")
    expect(page.locator("#goal-closed")).to_contain_text("Territory merged")
    expect(page.locator("#goal-figures")).not_to_contain_text("Forecast at due date")
    expect(page.locator("#goal-figures")).not_to_contain_text("Achievability")
    expect(page.locator("#closed-micro-goals")).to_contain_text("Cancelled")
    expect(page.get_by_text("tracked as a whole")).to_have_count(0)
    screenshot(page, "manager-cancelled-goal-page")
    on_a_phone(page, "manager-cancelled-goal-page-375")
