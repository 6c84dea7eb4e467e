"""The manager's pages: team dashboard, set a target (SMART form, live achievability, breakdown preview), bulk targets.

Everything happens on Wednesday 11 March 2026 (UTC, the personas' timezone): the week runs Mon 9 – Sun 15.
"""

import datetime
from decimal import Decimal

import pytest
from django.test import override_settings
from django.urls import reverse

from goals import pace, selectors, services
from goals.models import Goal, Health, MicroGoal
from tests.factories import (
    GoalFactory,
    MembershipFactory,
    MicroGoalFactory,
    ProgressEntryFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("wednesday_11_march")]

TODAY = datetime.date(2026, 3, 11)
HTMX = {"HTTP_HX_REQUEST": "true"}
MANAGER_URLS = ["dashboard", "goal_create", "goal_bulk"]


def goal_data(owner, kpi, **overrides):
    """What the SMART form posts: a team or rep goal of 40 deals over April."""
    data = {
        "title": "April deals",
        "description": "New business only.",
        "kpi": kpi.id,
        "target_value": "40",
        "baseline_value": "0",
        "owner": owner,
        "parent": "",
        "rationale": "Quarter plan.",
        "start_date": "2026-04-01",
        "due_date": "2026-04-30",
        "cadence": "weekly",
    }
    return {**data, **overrides}


def grow_team(team, n, kpi, *, manager):
    """n more reps in the team, each with every row the dashboard reads: a personal March goal, a micro goal of a
    team goal, and an entry this week."""
    team_goal = GoalFactory(title="Team March", kpi=kpi, owner_team=team, created_by=manager, health=Health.ON_TRACK)
    for i in range(n):
        rep = MembershipFactory(team=team, user=UserFactory(username=f"{team.slug}-rep-{i}")).user
        GoalFactory(kpi=kpi, owner_user=rep, created_by=manager, health=Health.ON_TRACK, current_value=Decimal(40))
        MicroGoalFactory(
            goal=team_goal,
            assignee=rep,
            start_date=datetime.date(2026, 3, 9),
            due_date=datetime.date(2026, 3, 13),
            health=Health.AT_RISK,
        )
        ProgressEntryFactory(user=rep, kpi=kpi, date=TODAY - datetime.timedelta(days=i % 3))
    return team_goal


# --- Permissions ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", MANAGER_URLS)
def test_pages_need_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", MANAGER_URLS)
def test_rep_gets_403_on_manager_pages(client, personas, name):
    client.force_login(personas.rep_a)
    assert client.get(reverse(name)).status_code == 403


@pytest.mark.parametrize("name", ["goal_achievability", "goal_create_preview"])
def test_rep_gets_403_on_the_form_fragments(client, personas, deals, name):
    client.force_login(personas.rep_a)
    response = client.post(reverse(name), goal_data(f"user:{personas.rep_a.id}", deals), **HTMX)
    assert response.status_code == 403


def test_rep_cannot_create_a_goal_by_posting(client, personas, deals):
    client.force_login(personas.rep_a)
    data = {**goal_data(f"user:{personas.rep_a.id}", deals), "step": "confirm"}
    assert client.post(reverse("goal_create"), data).status_code == 403
    assert not Goal.objects.exists()


@pytest.mark.parametrize("name", MANAGER_URLS)
def test_manager_and_admin_open_manager_pages(client, personas, name):
    for user in (personas.manager_a, personas.admin):
        client.force_login(user)
        assert client.get(reverse(name)).status_code == 200


# --- Team dashboard -----------------------------------------------------------------------------------------


def test_dashboard_lists_reps_worst_first_with_last_entry_and_entries_this_week(client, personas, deals):
    manager, team = personas.manager_a, personas.team_a
    ok = MembershipFactory(team=team, user=UserFactory(first_name="Olive", last_name="Ok")).user
    bad = MembershipFactory(team=team, user=UserFactory(first_name="Barry", last_name="Bad")).user
    risky = MembershipFactory(team=team, user=UserFactory(first_name="Rosa", last_name="Risky")).user
    for user, health, current in [(ok, Health.ON_TRACK, 50), (bad, Health.OFF_TRACK, 5), (risky, Health.AT_RISK, 30)]:
        GoalFactory(kpi=deals, owner_user=user, created_by=manager, health=health, current_value=Decimal(current))
    ProgressEntryFactory(user=bad, kpi=deals, date=datetime.date(2026, 3, 2))  # last week
    ProgressEntryFactory(user=ok, kpi=deals, date=datetime.date(2026, 3, 9))
    ProgressEntryFactory(user=ok, kpi=deals, date=TODAY)
    ProgressEntryFactory(
        user=ok,
        kpi=deals,
        date=TODAY,
        voided_at=datetime.datetime(2026, 3, 11, 9, tzinfo=datetime.UTC),
        void_reason="typo",
    )  # not counted

    client.force_login(manager)
    page = client.get(reverse("dashboard")).content.decode()
    table = page[page.index('id="rep-table"') :]
    order = [table.index(str(user)) for user in (bad, risky, ok)]
    assert order == sorted(order), "off track, then at risk, then on track"
    assert table.index(str(ok)) < table.index(str(personas.rep_a)), "reps without goals come last"
    ok_row = table[table.index(str(ok)) :].split("</tr>")[0]
    assert (
        "On track" in ok_row
        and "50%" in ok_row
        and "Today" in ok_row
        and '<td class="num d-none d-md-table-cell">2</td>' in ok_row
    )
    bad_row = table[table.index(str(bad)) :].split("</tr>")[0]
    assert (
        "Off track" in bad_row and "Mon 2 Mar" in bad_row and '<td class="num d-none d-md-table-cell">0</td>' in bad_row
    )
    assert f'href="{reverse("today")}?rep={bad.id}"' in bad_row and "Log for rep" in bad_row
    assert f'href="{reverse("my_goals")}?rep={bad.id}"' in bad_row
    assert "2 need attention" in page


def test_dashboard_shows_only_the_managers_own_teams(client, personas, deals):
    client.force_login(personas.manager_a)
    page = client.get(reverse("dashboard")).content.decode()
    assert str(personas.rep_a) in page and str(personas.rep_b) not in page


def test_dashboard_filters_by_sub_team_and_a_forged_team_is_ignored(client, personas, deals):
    sub = TeamFactory(name="Team A North", parent=personas.team_a)
    north = MembershipFactory(team=sub).user
    client.force_login(personas.manager_a)
    page = client.get(reverse("dashboard"), {"team": sub.id}).content.decode()
    assert str(north) in page and str(personas.rep_a) not in page
    forged = client.get(reverse("dashboard"), {"team": personas.team_b.id}).content.decode()
    assert str(personas.rep_b) not in forged and "Select a valid choice" in forged


def test_dashboard_period_filter_and_htmx_refresh(client, personas, deals):
    manager = personas.manager_a
    GoalFactory(title="Team Q2", kpi=deals, owner_team=personas.team_a, created_by=manager,
                start_date=datetime.date(2026, 4, 1), due_date=datetime.date(2026, 6, 30))  # fmt: skip
    GoalFactory(title="Team March", kpi=deals, owner_team=personas.team_a, created_by=manager)
    client.force_login(manager)
    month = client.get(reverse("dashboard"), {"period": "month"}).content.decode()
    assert "Team March" in month and "Team Q2" not in month
    custom = client.get(
        reverse("dashboard"), {"period": "custom", "start": "2026-04-01", "end": "2026-04-30"}, **HTMX
    ).content.decode()
    assert "Team Q2" in custom and "Team March" not in custom
    assert custom.lstrip().startswith('<div id="results">') and "<html" not in custom  # the fragment only


def test_dashboard_team_burnup_has_json_data_and_a_table_equivalent(client, personas, deals):
    goal = GoalFactory(title="Team March", kpi=deals, owner_team=personas.team_a, created_by=personas.manager_a)
    ProgressEntryFactory(user=personas.rep_a, kpi=deals, date=datetime.date(2026, 3, 3), value=Decimal(4))
    client.force_login(personas.manager_a)
    page = client.get(reverse("dashboard")).content.decode()
    assert 'data-burnup="team-burnup-data"' in page and 'id="team-burnup-data"' in page
    assert "Chart data as a table" in page and "Tue 3 Mar" in page
    assert f'href="{reverse("goal_detail", args=[goal.id])}"' in page


@pytest.mark.parametrize("reps", [5, 200])
def test_dashboard_query_count_is_the_same_for_5_and_200_reps(client, personas, deals, reps, django_assert_num_queries):
    grow_team(personas.team_a, reps, deals, manager=personas.manager_a)
    client.force_login(personas.manager_a)
    # 1 session, 2 user; 3-4 managed teams (rep memberships, team tree); 5 filter's team choices;
    # the rep table (selectors.dashboard_reps): 6 the summary of every rep, 7 how many match, 8 the page's
    # memberships, 9 their hard goals (micro goals are not goals), 10 their entries aggregate; 11 team goals;
    # burn-up: 12 team tree with weekdays, 13 holidays, 14 team tree, 15 entries (who was a rep: a subquery);
    # navigation: 16 rep membership (the managed teams are those found by the access check), 17 unread badge.
    with django_assert_num_queries(17):
        response = client.get(reverse("dashboard"))
    shown = min(reps + 1, selectors.DASHBOARD_PAGE_SIZE)
    page = response.content.decode()
    assert response.status_code == 200 and page.count(f"{reverse('today')}?rep=") == 2 * shown  # two layouts
    assert f"{reps + 1} reps" in page  # the summary counts every rep, not the page's
    # The next page of the table alone (htmx, target #reps): session, user, managed teams (2), the rep table
    # (5); no team choices, team goals, chart or navigation.
    with django_assert_num_queries(9):
        response = client.get(reverse("dashboard"), {"page": 2}, HTTP_HX_TARGET="reps", **HTMX)
    assert response.content.decode().lstrip().startswith('<section aria-labelledby="reps-heading" id="reps">')


def rep_with_attainment(team, deals, manager, name, current, health=Health.ON_TRACK):
    rep = MembershipFactory(team=team, user=UserFactory(first_name=name, last_name="Rep")).user
    GoalFactory(kpi=deals, owner_user=rep, created_by=manager, health=health, current_value=Decimal(current))
    return rep


def test_dashboard_second_page_shows_the_next_reps_and_the_summary_counts_them_all(client, personas, deals):
    manager, team = personas.manager_a, personas.team_a
    # 30 reps on track at 1 %, 2 %, … 30 %, and one off track (first whatever its attainment); rep_a has no goal.
    reps = [rep_with_attainment(team, deals, manager, f"N{n:02d}", n) for n in range(1, 31)]
    worst = rep_with_attainment(team, deals, manager, "Worst", 90, health=Health.OFF_TRACK)
    order = [worst, *reps, personas.rep_a]  # worst health first, then lowest attainment, no goal last
    client.force_login(manager)

    first = client.get(reverse("dashboard")).content.decode()
    second = client.get(reverse("dashboard"), {"page": 2}).content.decode()
    size = selectors.DASHBOARD_PAGE_SIZE
    for body, expected in ((first, order[:size]), (second, order[size:])):
        table = body[body.index('id="rep-table"') :]
        names = [str(rep) for rep in order if f'?rep={rep.id}"' in table]
        assert names == [str(rep) for rep in expected]
        assert "32 reps" in body and "1 needs attention" in body  # every rep, on every page
        assert '<span data-health="on_track">30 on track</span>' in body
        assert '<span data-health="none">1 with no health yet (no goal, or not computed)</span>' in body
    assert f"Reps 1–{size} of 32" in first and f"Reps {size + 1}–32 of 32" in second
    assert 'rel="next"' in first and "page=2" in first and 'rel="prev"' in second and 'rel="next"' not in second


def test_dashboard_rep_table_orders_by_name_or_attainment_and_finds_a_rep_by_name(client, personas, deals):
    manager, team = personas.manager_a, personas.team_a
    low = rep_with_attainment(team, deals, manager, "Zed", 10)
    high = rep_with_attainment(team, deals, manager, "Amy", 80)
    personas.rep_a.first_name, personas.rep_a.last_name = "Mia", "Persona"  # between Amy and Zed, whatever Faker drew
    personas.rep_a.save(update_fields=["first_name", "last_name"])
    client.force_login(manager)

    def table(**query):
        body = client.get(reverse("dashboard"), {"team": team.id, **query}, HTTP_HX_TARGET="reps", **HTMX)
        return body.content.decode()

    def positions(body, *reps):
        return [body.index(f'?rep={rep.id}"') for rep in reps]

    by_name = table(sort="name")
    assert positions(by_name, high, personas.rep_a, low) == sorted(positions(by_name, high, personas.rep_a, low))
    by_attainment = table(sort="attainment")
    assert positions(by_attainment, high, low, personas.rep_a) == sorted(
        positions(by_attainment, high, low, personas.rep_a)
    )
    by_health = table(sort="forged")  # an unknown order is the default one: on track, lowest attainment first
    assert positions(by_health, low, high) == sorted(positions(by_health, low, high))

    found = table(q="amy rep")  # the name as shown, any case
    assert f'?rep={high.id}"' in found and f'?rep={low.id}"' not in found and "matching “amy rep”" in found
    assert f'<input type="hidden" name="team" value="{team.id}">' in found  # a search keeps the filters
    assert "No rep matches “nobody”" in table(q="nobody")
    assert "page=" not in table(q="a" * 500)  # a long search is cut to REP_SEARCH_MAX, never an error


def test_going_back_to_a_pushed_page_of_reps_gets_the_whole_page(client, personas, deals):
    client.force_login(personas.manager_a)
    restore = {"HTTP_HX_HISTORY_RESTORE_REQUEST": "true", **HTMX}  # htmx's history cache missed
    body = client.get(reverse("dashboard"), {"page": 1}, **restore).content.decode()
    assert "<html" in body and 'id="reps"' in body


@pytest.mark.parametrize(
    ("current", "baseline", "target"),
    [("0", "0", "100"), ("37.5", "0", "100"), ("150", "0", "100"), ("25", "30", "20"), ("35", "30", "20"),
     ("3", "0", "7"), ("0.01", "0", "3")],  # a goal's target never equals its baseline (a constraint)
)  # fmt: skip
def test_the_rep_tables_sql_attainment_is_paces(personas, deals, current, baseline, target):
    """The rep table is ORDERED by attainment in SQL; it must be pace.attainment_percent, the one definition."""
    goal = GoalFactory(kpi=deals, current_value=Decimal(current), baseline_value=Decimal(baseline),
                       target_value=Decimal(target))  # fmt: skip
    in_sql = Goal.objects.annotate(a=selectors.attainment_sql()).get(id=goal.id).a
    in_python = pace.attainment_percent(current=Decimal(current), baseline=Decimal(baseline), target=Decimal(target))
    assert round(Decimal(in_sql), 6) == round(in_python, 6)


# --- Set a target: the SMART form -------------------------------------------------------------------------


def test_create_form_has_smart_sections_and_live_achievability_attributes(client, personas, deals):
    client.force_login(personas.manager_a)
    page = client.get(reverse("goal_create")).content.decode()
    for section in ("Specific", "Measurable", "Achievable?", "Relevant", "Time-bound"):
        assert section in page
    assert page.count(f'hx-post="{reverse("goal_achievability")}"') == 6
    assert 'hx-trigger="input changed delay:400ms"' in page and 'id="achievability"' in page


def test_owner_choices_are_only_what_the_manager_manages(client, personas, deals):
    client.force_login(personas.manager_a)
    page = client.get(reverse("goal_create")).content.decode()
    assert f'value="team:{personas.team_a.id}"' in page and f'value="user:{personas.rep_a.id}"' in page
    assert f'value="team:{personas.team_b.id}"' not in page and f'value="user:{personas.rep_b.id}"' not in page


def test_achievability_fragment_changes_verdict_with_the_target(client, personas, deals):
    # rep_a closed 1 deal every working day of the last 60 (history before today).
    day = TODAY
    for _ in range(60):
        day -= datetime.timedelta(days=1)
        while day.weekday() >= 5:
            day -= datetime.timedelta(days=1)
        ProgressEntryFactory(user=personas.rep_a, kpi=deals, date=day, value=Decimal(1))
    client.force_login(personas.manager_a)
    url, owner = reverse("goal_achievability"), f"user:{personas.rep_a.id}"
    easy = client.post(url, goal_data(owner, deals, target_value="20"), **HTMX).content.decode()
    # 20 over 22 working days = 0.91, shown as the goal page will show it: rounded up to whole deals; vs 1.00 a day.
    needed = '<dt class="col-7 fw-normal">Needed per working day</dt><dd class="col-5 num fw-semibold mb-0">{}</dd>'
    assert "Achievable" in easy and needed.format(1) in easy and "1.00" in easy
    hard = client.post(url, goal_data(owner, deals, target_value="60"), **HTMX).content.decode()
    assert "Unrealistic" in hard and needed.format(3) in hard  # 2.73 → 3
    assert "<html" not in hard


@pytest.mark.parametrize(
    ("target", "message"), [("-5", "set a target above the baseline"), ("0", "nothing to achieve")]
)
def test_achievability_fragment_refuses_what_saving_refuses(client, personas, deals, target, message):
    """A target saving would refuse is never called achievable while it is typed: the card says what to fix."""
    client.force_login(personas.manager_a)
    data = goal_data(f"user:{personas.rep_a.id}", deals, target_value=target)
    page = client.post(reverse("goal_achievability"), data, **HTMX).content.decode()
    assert "Not valid yet" in page and message in page
    assert "Achievable" not in page and "Needed per working day" not in page


def test_achievability_fragment_waits_for_the_needed_fields(client, personas, deals):
    client.force_login(personas.manager_a)
    response = client.post(reverse("goal_achievability"), {"title": "x", "kpi": deals.id}, **HTMX)
    assert "the verdict appears here as you type" in response.content.decode()


def test_achievability_fragment_ignores_a_forged_owner(client, personas, deals):
    client.force_login(personas.manager_a)
    data = goal_data(f"team:{personas.team_b.id}", deals)
    response = client.post(reverse("goal_achievability"), data, **HTMX).content.decode()
    assert "the verdict appears here as you type" in response


@pytest.mark.parametrize("reps", [5, 200])
def test_achievability_fragment_query_count(client, personas, deals, reps, django_assert_num_queries):
    grow_team(personas.team_a, reps, deals, manager=personas.manager_a)
    client.force_login(personas.manager_a)
    data = goal_data(f"team:{personas.team_a.id}", deals)
    # 1 session, 2 user, 3-4 managed teams (team tree, manager memberships); the form: 5 teams, 6 reps,
    # 7-8 managed teams again for the parent-goal choices (goal_list_for_user), 9 the KPI; the assessment:
    # 10 team tree with weekdays, 11 holidays, 12 team tree (reps of sub-teams), 13 entries of the team's reps.
    with django_assert_num_queries(13):
        response = client.post(reverse("goal_achievability"), data, **HTMX)
    assert "Needed per working day" in response.content.decode()


# --- Set a target: breakdown preview and confirm ---------------------------------------------------------


def test_preview_shows_a_breakdown_that_adds_up_to_the_target_and_saves_nothing(client, personas, deals):
    half = MembershipFactory(team=personas.team_a, capacity=Decimal("0.50")).user
    client.force_login(personas.manager_a)
    data = {**goal_data(f"team:{personas.team_a.id}", deals, target_value="41"), "step": "preview"}
    page = client.post(reverse("goal_create"), data).content.decode()
    assert "Step 2 of 2" in page and "Confirm and save" in page
    assert "add up to exactly <strong>41</strong>" in page
    assert str(half) in page and "0.50" in page and "1.00" in page
    assert "1 Apr–5 Apr" in page and "3 working days" in page
    assert not Goal.objects.exists() and not MicroGoal.objects.exists()


def test_preview_shows_holidays_of_each_period(client, personas, deals):
    personas.team_a.holidays.create(date=datetime.date(2026, 4, 6), name="Easter Monday")
    client.force_login(personas.manager_a)
    data = {**goal_data(f"team:{personas.team_a.id}", deals), "step": "preview"}
    page = client.post(reverse("goal_create"), data).content.decode()
    assert "holiday Mon 6 Apr" in page and "4 working days" in page


def test_preview_fragment_switches_cadence(client, personas, deals):
    client.force_login(personas.manager_a)
    data = goal_data(f"user:{personas.rep_a.id}", deals, cadence="biweekly")
    fragment = client.post(reverse("goal_create_preview"), data, **HTMX).content.decode()
    assert "<html" not in fragment and "<strong>3</strong> periods" in fragment  # 30 Mar–12 Apr, 13–26 Apr, 27–30 Apr
    daily = client.post(reverse("goal_create_preview"), {**data, "cadence": "daily"}, **HTMX).content.decode()
    assert "<strong>22</strong> periods" in daily


@pytest.mark.parametrize("reps", [5, 200])
def test_preview_fragment_query_count(client, personas, deals, reps, django_assert_num_queries):
    grow_team(personas.team_a, reps, deals, manager=personas.manager_a)
    client.force_login(personas.manager_a)
    data = goal_data(f"team:{personas.team_a.id}", deals)
    # 1 session, 2 user, 3-4 managed teams; the form: 5 teams, 6 reps, 7-8 parent-goal choices, 9 KPI;
    # 10 savepoint of the rolled-back preview; goal_create: 11 its savepoint, 12-13 may manage?,
    # 14-17 achievability (team tree with weekdays, holidays, team tree, entries), 18-20 full_clean's FK checks,
    # 21-29 three constraint checks (savepoint, check, release each), 30 insert goal, 31 insert revision,
    # 32 insert its audit event, 33 release; micro_goals_generate(preview): 34 savepoint, 35 lock the goal,
    # 36-37 may manage?, 38 existing micro goals, 39 team tree, 40 reps with capacity, 41-42 calendars,
    # 43 cap check, 44 release; the table's holidays: 45 assignees' teams, 46-47 calendars; 48-49 roll back to
    # and release the savepoint.
    goals_before = Goal.objects.count()
    with django_assert_num_queries(49):
        response = client.post(reverse("goal_create_preview"), data, **HTMX)
    assert "add up to exactly <strong>40</strong>" in response.content.decode()
    assert Goal.objects.count() == goals_before


def test_confirm_saves_the_goal_and_its_micro_goals_together(client, personas, deals):
    MembershipFactory(team=personas.team_a)
    client.force_login(personas.manager_a)
    data = {**goal_data(f"team:{personas.team_a.id}", deals), "step": "confirm"}
    response = client.post(reverse("goal_create"), data)
    goal = Goal.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("goal_detail", args=[goal.id])
    assert goal.owner_team == personas.team_a and goal.created_by == personas.manager_a
    assert goal.achievability == Goal.Achievability.NO_HISTORY
    micro = list(goal.micro_goals.all())
    assert len(micro) == 10 and sum(m.target_value for m in micro) == Decimal(40)  # 2 reps × 5 weeks
    assert goal.revisions.get().kind == "created"


def test_confirm_without_breakdown_saves_the_goal_only(client, personas, deals):
    client.force_login(personas.manager_a)
    data = {**goal_data(f"user:{personas.rep_a.id}", deals, cadence="none"), "step": "confirm"}
    client.post(reverse("goal_create"), data)
    assert Goal.objects.get().owner_user == personas.rep_a and not MicroGoal.objects.exists()


@pytest.mark.parametrize("owner", ["team_b", "rep_b", "junk"])
def test_forged_owner_is_a_form_error_and_nothing_is_saved(client, personas, deals, owner):
    forged = {"team_b": f"team:{personas.team_b.id}", "rep_b": f"user:{personas.rep_b.id}", "junk": "team:abc"}[owner]
    client.force_login(personas.manager_a)
    for step in ("preview", "confirm"):
        response = client.post(reverse("goal_create"), {**goal_data(forged, deals), "step": step})
        assert response.status_code == 200
        assert "Select a valid choice" in response.content.decode()
    assert not Goal.objects.exists()


def test_forged_parent_goal_is_a_form_error(client, personas, deals):
    other = GoalFactory(kpi=deals, owner_team=personas.team_b, created_by=personas.manager_b)
    client.force_login(personas.manager_a)
    data = {**goal_data(f"team:{personas.team_a.id}", deals, parent=other.id), "step": "confirm"}
    response = client.post(reverse("goal_create"), data)
    assert "Select a valid choice" in response.content.decode()
    assert Goal.objects.count() == 1


def test_service_rule_errors_show_on_their_field(client, personas, deals):
    client.force_login(personas.manager_a)
    data = {**goal_data(f"team:{personas.team_a.id}", deals, target_value="2.5"), "step": "preview"}
    page = client.post(reverse("goal_create"), data).content.decode()
    assert "Deals won takes whole numbers only" in page and "Step 2 of 2" not in page
    assert 'value="2.5"' in page  # what the manager typed is kept


@override_settings(PACER={**__import__("django.conf").conf.settings.PACER, "MAX_ACTIVE_MICRO_GOALS_PER_REP": 1})
def test_overload_is_a_form_error_naming_the_rep_and_nothing_is_saved(client, personas, deals):
    existing = GoalFactory(kpi=deals, owner_user=personas.rep_a, created_by=personas.manager_a,
                           start_date=datetime.date(2026, 3, 30), due_date=datetime.date(2026, 4, 30))  # fmt: skip
    MicroGoalFactory(goal=existing, assignee=personas.rep_a, start_date=datetime.date(2026, 3, 30),
                     due_date=datetime.date(2026, 4, 30))  # fmt: skip
    client.force_login(personas.manager_a)
    for step in ("preview", "confirm"):
        data = {**goal_data(f"team:{personas.team_a.id}", deals), "step": step}
        page = client.post(reverse("goal_create"), data).content.decode()
        assert f"{personas.rep_a} would have 2 active micro goals at once" in page
        assert 'role="alert"' in page
    assert Goal.objects.count() == 1 and MicroGoal.objects.count() == 1  # the new goal was rolled back too


# --- Bulk targets ---------------------------------------------------------------------------------------------


def bulk_data(team, kpi, targets, **overrides):
    data = {"team": team.id, "kpi": kpi.id, "title": "April deals", "start_date": "2026-04-01",
            "due_date": "2026-04-30", "rationale": "", **overrides}  # fmt: skip
    data.update({f"target_{user.id}": value for user, value in targets.items()})
    return data


def test_bulk_lists_one_row_per_rep_of_the_chosen_team(client, personas, deals):
    second = MembershipFactory(team=personas.team_a).user
    client.force_login(personas.manager_a)
    fragment = client.get(reverse("goal_bulk"), {"team": personas.team_a.id}, **HTMX).content.decode()
    assert "<html" not in fragment
    assert f'name="target_{personas.rep_a.id}"' in fragment and f'name="target_{second.id}"' in fragment
    assert f"Target for {second}" not in fragment or "<label" in fragment
    forged = client.get(reverse("goal_bulk"), {"team": personas.team_b.id}, **HTMX).content.decode()
    assert f'name="target_{personas.rep_b.id}"' not in forged


def test_bulk_saves_every_rep_with_a_target_in_one_go(client, personas, deals):
    second = MembershipFactory(team=personas.team_a).user
    third = MembershipFactory(team=personas.team_a).user
    client.force_login(personas.manager_a)
    targets = {personas.rep_a: "30", second: "20", third: ""}  # an empty row sets no goal
    response = client.post(reverse("goal_bulk"), bulk_data(personas.team_a, deals, targets))
    assert response.status_code == 302
    goals = {g.owner_user: g.target_value for g in Goal.objects.all()}
    assert goals == {personas.rep_a: Decimal(30), second: Decimal(20)}


def test_bulk_is_all_or_nothing_with_row_errors_in_place(client, personas, deals):
    second = MembershipFactory(team=personas.team_a).user
    client.force_login(personas.manager_a)
    targets = {personas.rep_a: "30", second: "2.5"}
    response = client.post(reverse("goal_bulk"), bulk_data(personas.team_a, deals, targets))
    page = response.content.decode()
    assert response.status_code == 200 and not Goal.objects.exists()
    at = page.index(f'name="target_{second.id}"')
    row = page[page.rindex("<tr", 0, at) :].split("</tr>")[0]
    assert "is-invalid" in row and "takes whole numbers only" in row
    assert 'value="30"' in page  # the valid row keeps what was typed


def test_bulk_rejects_a_forged_team(client, personas, deals):
    client.force_login(personas.manager_a)
    response = client.post(reverse("goal_bulk"), bulk_data(personas.team_b, deals, {personas.rep_b: "10"}))
    assert "Select a valid choice" in response.content.decode() and not Goal.objects.exists()


def test_bulk_needs_at_least_one_target(client, personas, deals):
    client.force_login(personas.manager_a)
    response = client.post(reverse("goal_bulk"), bulk_data(personas.team_a, deals, {personas.rep_a: ""}))
    assert "Give at least one rep a target" in response.content.decode() and not Goal.objects.exists()


def test_created_goal_gets_fresh_figures(client, personas, deals):
    ProgressEntryFactory(user=personas.rep_a, kpi=deals, date=TODAY, value=Decimal(3))
    client.force_login(personas.manager_a)
    data = {**goal_data(f"user:{personas.rep_a.id}", deals, start_date="2026-03-02", due_date="2026-03-31"),
            "step": "confirm"}  # fmt: skip
    client.post(reverse("goal_create"), data)
    goal = Goal.objects.get()
    assert goal.current_value == Decimal(3) and goal.computed_at is not None
    assert services  # the services are the only writers (imported for clarity)


@pytest.mark.parametrize("reps", [5, 200])
def test_create_and_bulk_pages_query_counts(client, personas, deals, reps, django_assert_num_queries):
    grow_team(personas.team_a, reps, deals, manager=personas.manager_a)
    client.force_login(personas.manager_a)
    # 1 session, 2 user, 3-4 managed teams; the form: 5 teams, 6 reps (owner choices), 7-8 managed teams for
    # the parent-goal choices; rendering: 9 KPI choices, 10 parent-goal choices; navigation: 11 rep membership
    # (the managed teams are those found by the access check).
    with django_assert_num_queries(12):  # +1: nav unread badge
        assert client.get(reverse("goal_create")).status_code == 200
    # 1 session, 2 user, 3-4 managed teams, 5 teams, 6 team tree, 7 the team's reps; rendering: 8 team choices,
    # 9 KPI choices; navigation: 10 rep membership (the managed teams are those found by the access check).
    with django_assert_num_queries(11):  # +1: nav unread badge
        response = client.get(reverse("goal_bulk"), {"team": personas.team_a.id})
    assert response.content.decode().count('name="target_') == reps + 1
