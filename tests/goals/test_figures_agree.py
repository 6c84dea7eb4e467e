"""One number, one rule: a goal's figures read back from every place that shows them are the same strings.

For a spread of goals — summed and "last" KPIs, counts and currency, lower-is-better levels and budgets, team and
personal owners, on the window's first day, mid-window, its last day and after its due date — the figures are read
back from Today, My goals, the goal page, the manager dashboard, the burn-up chart data and the weekly digest email,
and compared with each other and with goals.figures.GoalFigures rendered by the display filters.
"""

import datetime
import json
import re
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from goals import services
from goals.figures import figures_for
from goals.models import Goal, Kpi
from goals.selectors import owner_calendar
from goals.templatetags.pacer import days_left, kpi_value, percent
from notifications.models import Notification
from teams.models import Membership
from tests.factories import GoalFactory, KpiFactory, MembershipFactory, ProgressEntryFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

D = Decimal
MONDAY = datetime.date(2026, 3, 16)  # the digest goes out on Mondays: every case is seen on one
NOW = datetime.datetime(2026, 3, 16, 12, tzinfo=datetime.UTC)

KPIS = {
    "deals": {"name": "Deals won"},
    "revenue": {"name": "Revenue", "unit": Kpi.Unit.CURRENCY, "currency_code": "USD", "decimal_places": 2},
    "days to close": {
        "name": "Days to close",
        "aggregation": Kpi.Aggregation.LAST,
        "direction": Kpi.Direction.LOWER,
        "decimal_places": 1,
    },
    "discount budget": {
        "name": "Discounts given",
        "unit": Kpi.Unit.CURRENCY,
        "currency_code": "EUR",
        "decimal_places": 2,
        "direction": Kpi.Direction.LOWER,
    },  # a budget: the target is a ceiling
}
TARGETS = {  # (baseline, target, a day's entry)
    "deals": (D(0), D(26), D("1")),
    "revenue": (D(0), D("950000"), D("31234.57")),
    "days to close": (D(30), D(20), D("27.5")),
    "discount budget": (D(0), D("5000"), D("180.25")),
}
WINDOWS = {  # (start, due) seen on MONDAY
    "first day": (MONDAY, MONDAY + datetime.timedelta(days=25)),
    "mid-window": (MONDAY - datetime.timedelta(days=14), MONDAY + datetime.timedelta(days=11)),
    "last day": (MONDAY - datetime.timedelta(days=25), MONDAY),
    "after due": (MONDAY - datetime.timedelta(days=28), MONDAY - datetime.timedelta(days=3)),
}


def read_figures(html: str) -> dict[str, str]:
    """{figure name: the text shown} for every data-figure element of `html` (their content has no tags)."""
    return {name: " ".join(text.split()) for name, text in re.findall(r'data-figure="(\w+)"[^>]*>([^<]*)<', html)}


def block(html: str, start_marker: str, end_marker: str) -> str:
    start = html.index(start_marker)
    return html[start : html.index(end_marker, start)]


@pytest.fixture
def world(db):
    team = TeamFactory(name="North")
    rep = UserFactory(username="ava", first_name="Ava", last_name="Adams")
    manager = UserFactory(username="mona", first_name="Mona", last_name="Manager")
    MembershipFactory(user=rep, team=team, active_from=datetime.date(2025, 1, 1))
    MembershipFactory(user=manager, team=team, role=Membership.Role.MANAGER, active_from=datetime.date(2025, 1, 1))
    return {"team": team, "rep": rep, "manager": manager}


@pytest.mark.parametrize("owner", ["personal", "team"])
@pytest.mark.parametrize("when", list(WINDOWS))
@pytest.mark.parametrize("kind", list(KPIS))
def test_every_page_chart_and_email_shows_the_same_figures(
    client, world, kind, when, owner, eager_celery, django_capture_on_commit_callbacks
):
    rep, manager, team = world["rep"], world["manager"], world["team"]
    kpi = KpiFactory(**KPIS[kind])
    baseline, target, daily = TARGETS[kind]
    start, due = WINDOWS[when]
    goal = GoalFactory(
        title=f"{kind} {when}",
        kpi=kpi,
        baseline_value=baseline,
        target_value=target,
        start_date=start,
        due_date=due,
        created_by=manager,
        **({"owner_user": rep} if owner == "personal" else {"owner_team": team, "owner_user": None}),
    )
    # History before the window (the forecast's prior) and entries inside it up to today, some days skipped.
    day = start - datetime.timedelta(days=30)
    while day <= min(MONDAY, due):
        if day.weekday() < 5 and day.day % 3:
            ProgressEntryFactory(user=rep, kpi=kpi, date=day, value=daily + day.day % 4)
        day += datetime.timedelta(days=1)

    with time_machine.travel(NOW, tick=False):
        services.progress_recompute()
        goal.refresh_from_db()
        figures = figures_for(goal, calendar=owner_calendar(owner_user=goal.owner_user, owner_team=goal.owner_team),
                              today=MONDAY)  # fmt: skip
        truth = {
            "current": kpi_value(figures.current, kpi),
            "target": kpi_value(figures.target, kpi),
            "expected": kpi_value(figures.expected, kpi),
            "forecast": kpi_value(figures.forecast, kpi),
            "attainment": percent(figures.attainment),
            "days_left": days_left(figures.days_left),
        }
        if figures.per_day is not None and figures.state != "done":
            truth["per_day"] = kpi_value(figures.per_day, kpi)

        client.force_login(rep)
        goal_page = client.get(reverse("goal_detail", args=[goal.id])).content.decode()
        my_goals = client.get(reverse("my_goals")).content.decode()
        today = client.get(reverse("today")).content.decode()
        client.force_login(manager)
        dashboard = client.get(reverse("dashboard")).content.decode()
        with django_capture_on_commit_callbacks(execute=True):  # the email goes out after commit
            assert services.manager_digests_send() == 1

    shown = {"goal page": read_figures(block(goal_page, 'id="goal-figures"', "</section>"))}
    shown["my goals"] = read_figures(block(my_goals, f'aria-labelledby="goal-{goal.id}-title"', "</article>"))
    if start <= MONDAY <= due:  # Today lists the goals running today
        line = today[today.index(f'id="today-goal-{goal.id}"') :]
        shown["today"] = read_figures(line[: line.index("goal-needed")] + block(line, "goal-needed", "</span></span>"))
    href = f'href="{reverse("goal_detail", args=[goal.id])}"'
    if owner == "team":
        shown["dashboard"] = read_figures(block(dashboard, href, "</li>"))
    else:
        shown["dashboard"] = read_figures(block(dashboard, f'data-goal="{goal.id}"', "</li>"))

    digest = Notification.objects.get(kind="manager_digest").body
    line = next(line for line in digest.splitlines() if line.startswith(f"- {goal.title} ("))
    match = re.search(r"\): (?P<attainment>.+?) — (?P<current>.+?) of (?P<target>.+?) " + re.escape(kpi.name)
                      + r", .+?, forecast (?P<forecast>.+?), due", line)  # fmt: skip
    shown["digest email"] = match.groupdict()
    assert digest in mail.outbox[0].body

    for place, values in shown.items():
        for name, text in values.items():
            if name in truth:
                assert text == truth[name], f"{place} shows {name} {text!r}, the figure is {truth[name]!r}"
    # Every place shows at least attainment and the current value; the goal page shows everything.
    assert all({"attainment", "current"} <= set(values) or place == "dashboard" for place, values in shown.items())
    assert set(truth) <= set(shown["goal page"])

    # The chart data: the last actual point is the current value, the pace today the expected value, and the
    # forecast line ends on the forecast.
    chart = json.loads(goal_page.split('id="goal-burnup-data" type="application/json">')[1].split("</script>")[0])
    actual = [value for value in chart["actual"] if value is not None]
    if actual:
        assert kpi_value(D(str(actual[-1])), kpi) == truth["current"]
    if start <= MONDAY <= due:
        index = len(actual) - 1
        assert kpi_value(D(str(chart["pace"][index])), kpi) == truth["expected"]
    if goal.status == Goal.Status.ACTIVE and chart["forecast"][-1] is not None:
        assert kpi_value(D(str(chart["forecast"][-1])), kpi) == truth["forecast"]
        assert chart["forecast_low"][-1] <= chart["forecast"][-1] <= chart["forecast_high"][-1]
