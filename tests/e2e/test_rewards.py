"""An admin creates a reward tier in the browser; a rep crosses it by logging on Today (on a phone) and sees the
award on My rewards; the manager approves a pending bonus from the review list without a reload."""

import datetime
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from goals import services as goal_services
from goals.models import Goal, Kpi, MicroGoal
from rewards import services
from rewards.models import Award, RewardTier
from tests.factories import MembershipFactory, UserFactory

from .conftest import login, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 812}


@pytest.fixture
def demos_goal(personas, org):
    """rep_a: 10 demos this month (at least a week long) with a micro goal for this week; nothing logged yet."""
    rep = personas.rep_a
    today = rep.local_today()
    monday = today - datetime.timedelta(days=today.weekday())
    demos = Kpi.objects.create(name="Demos booked", unit=Kpi.Unit.COUNT)
    goal = Goal.objects.create(title="Demos this month", kpi=demos, target_value=Decimal(10),
                               start_date=min(today.replace(day=1), monday),
                               due_date=max(today.replace(day=28), today + datetime.timedelta(days=7)),
                               owner_user=rep, created_by=personas.manager_a)  # fmt: skip
    MicroGoal.objects.create(goal=goal, assignee=rep, kpi=demos, target_value=Decimal(5), start_date=monday,
                             due_date=monday + datetime.timedelta(days=6))  # fmt: skip
    goal_services.progress_recompute(today=today)
    return goal


def test_admin_creates_a_tier_and_a_rep_crossing_it_sees_the_award(
    page, live_server, personas, demos_goal, eager_celery
):
    login(page, live_server, personas.admin)
    page.get_by_role("link", name="Reward tiers").click()
    page.get_by_role("link", name="New tier").click()
    page.get_by_label("Name").fill("Halfway")
    page.get_by_label("Reward kind").select_option("points")
    page.get_by_role("button", name="Create tier").click()
    # No threshold and no points: the form says what to fix, nothing is saved.
    expect(page.locator("main form")).to_contain_text("The threshold must be a positive percentage of the target")
    expect(page.locator("main form")).to_contain_text("A points reward needs a positive number of points.")
    page.get_by_label("Threshold (% of target)").fill("50")
    page.get_by_label("Points").fill("25")
    screenshot(page, "rewards-tier-form")
    page.get_by_role("button", name="Create tier").click()
    expect(page.locator("#tier-table")).to_contain_text("Halfway")
    expect(page.locator("#tier-table")).to_contain_text("50 % of target")
    screenshot(page, "rewards-tier-list")
    assert RewardTier.objects.get(name="Halfway").points == 25

    page.context.clear_cookies()
    page.set_viewport_size(PHONE)
    login(page, live_server, personas.rep_a)
    page.goto(f"{live_server.url}/today/")
    expect(page.locator("#streak-badge")).to_contain_text("No streak yet")
    card = page.locator(f"#kpi-{demos_goal.kpi_id}")
    card.get_by_label("Value").fill("6")
    card.get_by_role("button", name="Log Demos booked").click()
    expect(card.locator(".log-flash")).to_contain_text("Logged 6 Demos booked")
    award = Award.objects.get(user=personas.rep_a)  # granted by the recompute task's after-recompute hook
    assert (award.tier.name, award.points, award.attainment) == ("Halfway", 25, Decimal(60))

    page.get_by_role("button", name="Toggle navigation").click()
    page.get_by_role("link", name="My rewards").click()
    expect(page.locator("#award-table")).to_contain_text("Halfway")
    expect(page.locator("#reward-summary")).to_contain_text("25")
    expect(page.locator("#current-streak")).to_contain_text("1 day")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing cut off on a phone
    screenshot(page, "rewards-my-rewards-phone")
    page.get_by_role("link", name="Halfway").click()
    expect(page.locator("main")).to_contain_text("60.00%")
    page.goto(f"{live_server.url}/rewards/leaderboard/")
    expect(page.locator("#board-attainment")).to_contain_text("You")
    screenshot(page, "rewards-leaderboard-phone")


def test_manager_approves_a_pending_bonus_from_the_review_list(page, live_server, personas, demos_goal):
    services.tier_create(created_by=personas.admin, name="Stretch", threshold_percent=Decimal(120),
                         reward_kind="bonus", amount=Decimal(500), needs_approval=True)  # fmt: skip
    Goal.objects.filter(pk=demos_goal.pk).update(current_value=Decimal(13))
    services.awards_grant(goal_ids=[demos_goal.id])
    login(page, live_server, personas.manager_a)
    expect(page.locator("#leaderboard-card")).to_contain_text("Leaderboard")  # loaded into the dashboard by htmx
    screenshot(page, "rewards-dashboard-card")
    today = datetime.date.today()
    page.get_by_label("Period").select_option("quarter")  # the card follows the dashboard's filters
    quarter_start = datetime.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    expect(page.locator("#leaderboard-card")).to_contain_text(quarter_start.strftime("%b %Y"))
    page.get_by_role("link", name="Review awards").click()
    row = page.locator("#review-list li").first
    expect(row).to_contain_text("Stretch")
    page.evaluate("window.__pacerMarker = 'no reload'")
    row.get_by_role("button", name="Reject").click()
    expect(row).to_contain_text("Give a reason")  # htmx swapped the row with its error
    page.locator("#review-list li").first.get_by_label("Reason").fill("Great month: well earned.")
    screenshot(page, "rewards-review")
    page.locator("#review-list li").first.get_by_role("button", name="Approve").click()
    expect(page.locator("#review-list")).to_contain_text("approved")
    assert page.evaluate("window.__pacerMarker") == "no reload"
    assert Award.objects.get().status == Award.Status.APPROVED


def test_the_dashboards_leaderboard_card_shows_the_top_10_and_opens_the_whole_board(page, live_server, personas, org):
    """Team A with 15 reps on a monthly target: the card lists 10, the link names the whole board's size and opens it."""
    today = personas.manager_a.local_today()
    calls = Kpi.objects.get(name="Calls made")
    goal = Goal.objects.create(title="Calls this month", kpi=calls, target_value=Decimal(200), start_date=today,
                               due_date=today, owner_team=personas.team_a, created_by=personas.manager_a)  # fmt: skip
    for n in range(11):
        MembershipFactory(user=UserFactory(first_name=f"Seller{n:02d}", last_name="Card"), team=personas.team_a)
    reps = [m.user for m in personas.team_a.memberships.filter(role="rep", active_to__isnull=True)]
    for n, rep in enumerate(reps):
        MicroGoal.objects.create(goal=goal, assignee=rep, kpi=calls, target_value=Decimal(10),
                                 current_value=Decimal(n), expected_value=Decimal(10), start_date=today,
                                 due_date=today)  # fmt: skip
    login(page, live_server, personas.manager_a)
    card = page.locator("#leaderboard-card")
    expect(card.locator("tbody tr")).to_have_count(10)  # loaded into the dashboard by htmx: the top 10 only
    link = card.get_by_role("link", name=f"Full leaderboard ({len(reps)} reps)")
    expect(link).to_be_visible()
    card.scroll_into_view_if_needed()
    screenshot(page, "rewards-dashboard-card-top-10")
    link.click()
    expect(page.locator("#board-attainment tbody tr")).to_have_count(len(reps))
    expect(page.get_by_label("KPI")).to_have_value(str(calls.id))
    screenshot(page, "rewards-leaderboard-from-card")
