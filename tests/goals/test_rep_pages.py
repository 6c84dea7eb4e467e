"""The rep's pages: Today (log without a reload, edit, void), My goals, a goal's log history.

Everything happens on Wednesday 11 March 2026 (UTC, the personas' timezone): the week runs Mon 9 – Sun 15.
"""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.urls import reverse

from goals import services
from goals.models import Goal, Kpi, MicroGoal, ProgressEntry
from goals.templatetags.pacer import kpi_value
from teams.models import Membership, User
from tests.factories import GoalFactory, KpiFactory, MicroGoalFactory, ProgressEntryFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("wednesday_11_march")]

TODAY = datetime.date(2026, 3, 11)
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def demos(db):
    # Ids past 999 throughout: an id must render as "1234" in URLs and DOM ids, never "1,234".
    return KpiFactory(id=1234, name="Demos booked")


@pytest.fixture
def plan(personas, demos):
    """rep_a: a March goal of 100 demos (Mon 2 – Fri 27) and this week's micro goal of 10 (Mon 9 – Fri 13)."""
    goal = GoalFactory(
        id=2345, title="March demos", kpi=demos, owner_user=personas.rep_a, created_by=personas.manager_a
    )
    micro = MicroGoalFactory(
        id=3456,
        goal=goal,
        assignee=personas.rep_a,
        target_value=Decimal("10"),
        start_date=datetime.date(2026, 3, 9),
        due_date=datetime.date(2026, 3, 13),
    )
    ProgressEntryFactory(id=4567, user=personas.rep_a, kpi=demos).delete()  # the next entries get ids > 4567
    services.rollups_verify(repair=True)  # a raw delete: take it out of the daily rollup too
    services.progress_recompute(today=TODAY)
    micro.refresh_from_db()
    return micro


def log(client, kpi, *, value="3", date=TODAY, token=None, note="", rep=None, htmx=True):
    url = reverse("today_log") + (f"?rep={rep.id}" if rep else "")
    data = {"kpi": kpi.id, "value": value, "date": date.isoformat(), "note": note, "token": token or uuid.uuid4()}
    return client.post(url, data, **(HTMX if htmx else {}))


# --- Today -----------------------------------------------------------------------------------------------------


def test_today_shows_this_weeks_micro_goal_with_pace_and_a_log_form(client, personas, plan, demos):
    client.force_login(personas.rep_a)
    page = client.get(reverse("today")).content.decode()
    assert f'id="kpi-{demos.id}"' in page and "Demos booked" in page
    assert "Mon 9 Mar – Fri 13 Mar" in page
    # Wednesday of Mon–Fri: 3 of 5 working days elapsed, so the pace marker stands at 6 of 10.
    assert "pace 6" in page and 'aria-valuenow="0"' in page
    # Nothing logged yet: 10 to go over Wed, Thu, Fri = 4 a day (rounded up), all of it still to do today.
    assert "10 to go · 4 a day over 3 working days" in page
    assert 'name="token"' in page and f'max="{TODAY.isoformat()}"' in page


def test_logging_with_htmx_answers_the_fresh_card_and_todays_entries_out_of_band(client, personas, plan, demos):
    client.force_login(personas.rep_a)
    response = log(client, demos, value="3", note="Two demos with Initech")
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith(f'<section id="kpi-{demos.id}"')  # the card: the main swap
    assert '<section id="today-entries"' in body and 'hx-swap-oob="true"' in body
    assert "Two demos with Initech" in body
    entry = ProgressEntry.objects.get()
    assert (entry.user, entry.created_by, entry.source, entry.value) == (
        personas.rep_a,
        personas.rep_a,
        "web",
        Decimal("3"),
    )
    # The rep's own figures computed for the answer: the bar moved and "left today" shrank (4 a day, 3 done →
    # 1 left today), without waiting for the background recompute, which writes the same figure.
    assert 'aria-valuenow="30"' in body
    assert '<strong class="num">1</strong> left today' in body
    plan.refresh_from_db()
    assert plan.current_value == Decimal("0")  # not written by the request
    services.progress_recompute_stale()  # what the worker does with the coalesced recompute
    plan.refresh_from_db()
    assert plan.current_value == Decimal("3")


def test_a_double_submitted_log_form_creates_one_entry(client, personas, plan, demos):
    client.force_login(personas.rep_a)
    token = uuid.uuid4()
    first, second = log(client, demos, token=token), log(client, demos, token=token)
    assert first.status_code == second.status_code == 200
    assert ProgressEntry.objects.count() == 1
    services.progress_recompute_stale()
    plan.refresh_from_db()
    assert plan.current_value == Decimal("3")
    # Each rendered form carries a new token.
    assert str(token) not in second.content.decode()


def test_a_future_date_is_refused_with_a_field_error(client, personas, plan, demos):
    client.force_login(personas.rep_a)
    response = log(client, demos, date=TODAY + datetime.timedelta(days=1))
    body = response.content.decode()
    assert "That is in the future" in body and "is-invalid" in body
    assert ProgressEntry.objects.count() == 0


def test_a_past_date_is_fine_and_the_entry_says_which_day(client, personas, plan, demos):
    client.force_login(personas.rep_a)
    body = log(client, demos, date=datetime.date(2026, 3, 9)).content.decode()
    assert ProgressEntry.objects.get().date == datetime.date(2026, 3, 9)
    assert "for Mon 9 Mar" in body


def test_logged_today_lists_todays_backfills_but_not_a_crm_import_of_older_days(client, personas, plan, demos):
    client.force_login(personas.rep_a)
    last_week = TODAY - datetime.timedelta(days=7)
    log(client, demos, value="2", date=last_week, htmx=False)
    ProgressEntryFactory(user=personas.rep_a, kpi=demos, date=last_week, value=Decimal(9), source="import")
    page = client.get(reverse("today")).content.decode()
    logged_today = page[page.index('id="today-entries-heading"') :]
    assert logged_today.count("for Wed 4 Mar") == 1  # the rep's own backfill, typed in today
    assert "Import" not in logged_today


def test_a_forged_kpi_id_is_a_form_error_and_logs_nothing(client, personas, plan):
    other = KpiFactory(name="Calls made")  # exists, but rep_a has nothing on it
    client.force_login(personas.rep_a)
    response = log(client, other)
    assert response["HX-Retarget"] == "#log-alerts"
    assert "only be logged on a KPI you have an active goal on" in response.content.decode()
    response = log(client, other, htmx=False)
    assert response.status_code == 200 and "Nothing was logged" in response.content.decode()
    assert ProgressEntry.objects.count() == 0


def test_an_archived_kpi_keeps_its_card_but_takes_no_new_progress(client, personas, plan, demos):
    Kpi.objects.filter(id=demos.id).update(is_active=False)
    client.force_login(personas.rep_a)
    page = client.get(reverse("today")).content.decode()
    assert "Demos booked is archived" in page and 'name="token"' not in page
    assert "only be logged on a KPI" in log(client, demos).content.decode()
    assert ProgressEntry.objects.count() == 0


def test_cancel_puts_todays_entries_back(client, personas, plan, demos):
    client.force_login(personas.rep_a)
    log(client, demos)
    body = client.get(reverse("today_entries"), **HTMX).content.decode()
    assert body.lstrip().startswith('<section id="today-entries"') and "hx-swap-oob" not in body
    assert client.get(reverse("today_entries")).status_code == 302


def test_without_javascript_logging_redirects_back_to_today(client, personas, plan, demos):
    client.force_login(personas.rep_a)
    response = log(client, demos, htmx=False)
    assert response.status_code == 302 and response["Location"] == reverse("today")
    assert "Logged 3 Demos booked for today." in client.get(reverse("today")).content.decode()


def test_todays_entries_can_be_corrected_inline(client, personas, plan, demos):
    client.force_login(personas.rep_a)
    log(client, demos, value="3")
    entry = ProgressEntry.objects.get()
    form = client.get(reverse("entry_edit", args=[entry.id]), **HTMX).content.decode()
    assert form.lstrip().startswith(f'<li class="list-group-item entry-form-row" id="entry-{entry.id}"')
    response = client.post(
        reverse("entry_edit", args=[entry.id]), {"value": "5", "date": TODAY, "note": "recounted"}, **HTMX
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="today-entries"') and f'id="kpi-{demos.id}"' in body
    assert 'aria-valuenow="50"' in body  # the card out of band, with the corrected figure
    services.progress_recompute_stale()
    entry.refresh_from_db()
    plan.refresh_from_db()
    assert (entry.value, entry.note, plan.current_value) == (Decimal("5"), "recounted", Decimal("5"))


def test_voiding_needs_a_reason_shown_in_place_and_nothing_changes(client, personas, plan, demos):
    client.force_login(personas.rep_a)
    log(client, demos, value="3")
    entry = ProgressEntry.objects.get()
    response = client.post(reverse("entry_void", args=[entry.id]), {"reason": "  "}, **HTMX)
    body = response.content.decode()
    assert "Say why this entry is voided" in body and f'id="entry-{entry.id}-reason"' in body
    entry.refresh_from_db()
    assert entry.voided_at is None


def test_voiding_with_a_reason_strikes_the_entry_through_and_moves_the_bar_back(client, personas, plan, demos):
    client.force_login(personas.rep_a)
    log(client, demos, value="3")
    entry = ProgressEntry.objects.get()
    body = client.post(reverse("entry_void", args=[entry.id]), {"reason": "Logged twice"}, **HTMX).content.decode()
    assert "<del>" in body and "Logged twice" in body
    entry.refresh_from_db()
    plan.refresh_from_db()
    assert entry.voided_by == personas.rep_a and plan.current_value == 0


def test_rep_cannot_edit_or_void_another_reps_entry(client, personas, demos):
    entry = ProgressEntryFactory(user=personas.rep_a, kpi=demos, date=TODAY)
    client.force_login(personas.rep_b)
    assert client.get(reverse("entry_edit", args=[entry.id])).status_code == 404
    assert client.post(reverse("entry_void", args=[entry.id]), {"reason": "x"}).status_code == 404
    client.force_login(personas.manager_b)
    assert client.post(reverse("entry_void", args=[entry.id]), {"reason": "x"}).status_code == 404
    entry.refresh_from_db()
    assert entry.voided_at is None


def test_manager_logs_for_a_rep_of_their_team_as_the_reps_entry(client, personas, plan, demos):
    client.force_login(personas.manager_a)
    page = client.get(reverse("today") + f"?rep={personas.rep_a.id}").content.decode()
    assert "Logging for" in page and str(personas.rep_a) in page
    assert f'action="{reverse("today_log")}?rep={personas.rep_a.id}"' in page
    log(client, demos, rep=personas.rep_a)
    entry = ProgressEntry.objects.get()
    assert (entry.user, entry.created_by) == (personas.rep_a, personas.manager_a)


def test_manager_cannot_log_for_another_teams_rep(client, personas, plan, demos):
    client.force_login(personas.manager_a)
    assert client.get(reverse("today") + f"?rep={personas.rep_b.id}").status_code == 404
    assert log(client, demos, rep=personas.rep_b).status_code == 404
    client.force_login(personas.rep_b)
    assert client.get(reverse("today") + f"?rep={personas.rep_a.id}").status_code == 404
    assert ProgressEntry.objects.count() == 0


def test_today_needs_login(client):
    response = client.get(reverse("today"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# --- My goals --------------------------------------------------------------------------------------------------


def test_my_goals_lists_own_and_team_goals_active_first_with_their_figures(client, personas, plan, demos):
    revenue = KpiFactory(name="Revenue", unit=Kpi.Unit.CURRENCY, currency_code="EUR", decimal_places=2)
    GoalFactory(
        title="Team revenue",
        kpi=revenue,
        owner_team=personas.team_a,
        target_value=Decimal("50000"),
        created_by=personas.manager_a,
    )
    GoalFactory(
        title="February demos",
        kpi=demos,
        owner_user=personas.rep_a,
        status=Goal.Status.ACHIEVED,
        start_date=datetime.date(2026, 2, 2),
        due_date=datetime.date(2026, 2, 27),
    )
    GoalFactory(title="Not mine", kpi=demos, owner_user=personas.rep_b)
    GoalFactory(title="Draft idea", kpi=demos, owner_user=personas.rep_a, status=Goal.Status.DRAFT)
    ProgressEntryFactory(user=personas.rep_a, kpi=demos, date=datetime.date(2026, 3, 3), value=Decimal("20"))
    services.progress_recompute(today=TODAY)
    client.force_login(personas.rep_a)
    page = client.get(reverse("my_goals")).content.decode()
    assert "Not mine" not in page and "Draft idea" not in page
    assert page.index("March demos") < page.index("Team revenue") < page.index("February demos")
    assert f'href="{reverse("goal_detail", args=[plan.goal_id])}"' in page
    assert "€50,000.00" in page and 'data-figure="current">20<' in page and 'data-figure="target">100<' in page
    # 20 of 100 on Wednesday of week 2 (8 of 20 working days elapsed): 20 %, pace 40; 80 still to do over the
    # 13 working days left (today included) = 7 a day, rounded up.
    assert 'data-figure="attainment">20%</dd>' in page
    assert 'data-figure="expected">40<' in page and "Off track" in page
    assert "Needed per day" in page and "13 working days left" in page
    assert '<span data-figure="per_day">7</span>' in page


# --- a goal's log history ---------------------------------------------------------------------------------------


def test_entry_history_is_paged_newest_first_with_voided_entries_struck_through(client, personas, plan, demos):
    for day in range(2, 12):  # 2 … 11 March, 3 entries a day = 30 entries
        for _ in range(3):
            ProgressEntryFactory(user=personas.rep_a, kpi=demos, date=datetime.date(2026, 3, day))
    voided = ProgressEntry.objects.filter(date=datetime.date(2026, 3, 11)).first()
    services.progress_void(entry=voided, reason="Duplicate of the CRM import", voided_by=personas.manager_a)
    ProgressEntryFactory(user=personas.rep_a, kpi=demos, date=datetime.date(2026, 2, 27))  # before the window
    client.force_login(personas.rep_a)
    url = reverse("goal_entries", args=[plan.goal_id])
    first = client.get(url).content.decode()
    assert "30 entries" in first and "Page 1 of 2" in first and "Wed 11 Mar" in first
    assert first.count('class="list-group-item history-entry') == 25
    assert "<del>" in first and "Duplicate of the CRM import" in first and str(personas.manager_a) in first
    second = client.get(url + "?page=2", **HTMX).content.decode()
    assert second.lstrip().startswith(f'<section id="entry-history-{plan.goal_id}"')  # the fragment alone
    assert second.count('class="list-group-item history-entry') == 5 and "Fri 27 Feb" not in second


def test_a_rep_cannot_see_another_reps_goal_history(client, personas, plan):
    client.force_login(personas.rep_b)
    assert client.get(reverse("goal_entries", args=[plan.goal_id])).status_code == 404
    assert client.get(reverse("goal_entries", args=[99999])).status_code == 404


def test_team_goal_history_lists_the_entries_of_the_teams_reps(client, personas, demos):
    goal = GoalFactory(title="Team demos", kpi=demos, owner_team=personas.team_a, created_by=personas.manager_a)
    ProgressEntryFactory(user=personas.rep_a, kpi=demos, date=TODAY, note="rep a's demo")
    ProgressEntryFactory(user=personas.rep_b, kpi=demos, date=TODAY, note="rep b's demo")
    ProgressEntryFactory(user=personas.manager_a, kpi=demos, date=TODAY, note="manager's own")
    client.force_login(personas.manager_a)
    page = client.get(reverse("goal_entries", args=[goal.id])).content.decode()
    assert "rep a&#x27;s demo" in page and "rep b" not in page and "manager&#x27;s own" not in page


# --- query counts: the same for a team of 5 reps and of 200 -------------------------------------------------------


def _team_of(size, personas, kpi, *, entries=None):
    """Team A with `size` reps (rep_a included), each with a March goal, this week's micro goal and two entries
    a day so far (or `entries` in all, spread over the reps and the days); plus a team goal. Built with
    bulk_create."""
    users = User.objects.bulk_create(User(username=f"bulk{n}", timezone="UTC") for n in range(size - 1))
    Membership.objects.bulk_create(
        Membership(user=user, team=personas.team_a, active_from=datetime.date(2020, 1, 1)) for user in users
    )
    reps = [personas.rep_a, *users]
    start, due = datetime.date(2026, 3, 2), datetime.date(2026, 3, 27)
    goals = Goal.objects.bulk_create(
        Goal(
            title=f"March {rep.username}",
            kpi=kpi,
            owner_user=rep,
            target_value=100,
            start_date=start,
            due_date=due,
            created_by=personas.manager_a,
        )
        for rep in reps
    )
    team_goal = GoalFactory(kpi=kpi, owner_team=personas.team_a, created_by=personas.manager_a, target_value=5000)
    MicroGoal.objects.bulk_create(
        MicroGoal(
            goal=goal,
            assignee=rep,
            kpi=kpi,
            target_value=10,
            start_date=datetime.date(2026, 3, 9),
            due_date=datetime.date(2026, 3, 13),
        )
        for goal, rep in zip(goals, reps, strict=True)
    )
    ledger = [(rep, day) for rep in reps for day in range(2, 12) for _ in range(2)]
    if entries is not None:
        ledger = [(reps[n % size], 2 + (n // size) % 10) for n in range(entries)]
    ProgressEntry.objects.bulk_create(
        ProgressEntry(user=rep, kpi=kpi, date=datetime.date(2026, 3, day), value=1, created_by=rep)
        for rep, day in ledger
    )
    ProgressEntry.objects.filter(user=personas.rep_a, date=TODAY).update(
        voided_at=datetime.datetime(2026, 3, 11, 9, tzinfo=datetime.UTC), voided_by=personas.rep_a, void_reason="x"
    )
    services.rollups_verify(repair=True)  # raw ledger writes: bring the daily rollup in step
    services.progress_recompute(today=TODAY)
    return goals[0], team_goal


# The same for 5 and 200 reps and for a ledger of 10 or 1,000 entries (the list is in
# test_the_log_post_costs_the_same_for_any_ledger_and_team). It read the page twice (68); now once (53); the
# touched goals and their stale marks are one statement, not six (48); the preview reads the rep's team, calendar
# and capacities once for both of their goals, not once per kind (43); a person's window and forecast history are
# one pass over their rollup, not two (40).
LOG_POST_QUERIES = 40


@pytest.mark.parametrize("size", [5, 200])
def test_page_query_counts_do_not_grow_with_the_team(client, personas, demos, size, django_assert_num_queries):
    own_goal, team_goal = _team_of(size, personas, demos)

    client.force_login(personas.rep_a)
    # Today (rep): session, user, rep membership, calendar (team tree with weekdays, holidays), team tree again
    # (goal owners), then for each of micro goals, goals and entries the viewer's scope (managed memberships,
    # team tree) + the list itself, plus today's sums per KPI; the navigation (managed memberships, team
    # tree, rep membership); +1: which shown items wait for the background recompute (none here).
    with django_assert_num_queries(21):  # +1: nav unread badge
        assert client.get(reverse("today")).status_code == 200
    # My goals: session, user, rep membership, memberships, team tree, the goals' scope (2) + list, the owner
    # teams' and the rep team's calendars in one lookup (team tree with weekdays, holidays), navigation (3).
    with django_assert_num_queries(14):  # +1: nav unread badge
        assert client.get(reverse("my_goals")).status_code == 200
    # The log-history fragment: session, user, the goal's scope (2) + goal, the entries' scope (2), count,
    # page, the page's corrections (one prefetch), whom the viewer may correct for (2). No navigation (a fragment).
    with django_assert_num_queries(12):
        assert client.get(reverse("goal_entries", args=[own_goal.id]), **HTMX).status_code == 200

    client.force_login(personas.manager_a)
    # A manager's view of a rep's Today: as the rep's, plus the check that the rep is theirs (managed
    # memberships, team tree, members, the user) and the members of the managed teams in the micro goals' and
    # the entries' scope. The 200 reps' ids ride in one IN list, never one query each.
    with django_assert_num_queries(27):  # +1: nav unread badge; +1: the stale check
        assert client.get(reverse("today") + f"?rep={personas.rep_a.id}").status_code == 200
    # The team goal's history for its manager: as the rep's fragment, plus the managed teams' members in the
    # entries' scope and the team tree for the goal's sub-teams (400 entries of 200 reps: still one page query);
    # whom they may correct for is 3 queries for a manager (managed memberships, team tree, members).
    with django_assert_num_queries(15):
        assert client.get(reverse("goal_entries", args=[team_goal.id]), **HTMX).status_code == 200

    client.force_login(personas.rep_a)
    # The log POST never waits on the engine, whatever the team's size (see the next test for the list).
    with django_assert_num_queries(LOG_POST_QUERIES):
        response = client.post(
            reverse("today_log"),
            {"kpi": demos.id, "value": "1", "date": TODAY.isoformat(), "note": "", "token": uuid.uuid4()},
            **HTMX,
        )
    assert response.status_code == 200 and "updating…" in response.content.decode()


@pytest.mark.parametrize(("reps", "entries"), [(5, 10), (5, 1000), (200, 1000)])
def test_the_log_post_costs_the_same_for_any_ledger_and_team(
    client, personas, demos, reps, entries, django_assert_num_queries
):
    """The Today log POST reads the page once and answers from it: its queries do not follow the ledger's size
    or the team's, also when the rep's own goals are still stale from the previous POST (the second one)."""
    own_goal, _ = _team_of(reps, personas, demos, entries=entries)
    client.force_login(personas.rep_a)
    # session, user; the page's goals (rep membership, calendar: team tree with weekdays and holidays, the goal
    # owners' team tree, the micro goals' and the goals' scopes (team tree, managed memberships each) and the
    # lists); the form's KPIs; the second look (rep membership, team tree, members, the largest day from the
    # daily rollup); the write (savepoints, dedupe check, insert, the day's rollup, then ONE statement that
    # finds the touched goals — rep teams, tree, teammates, goals, micro goals — and inserts their stale marks); the rep's own entries of today (the
    # entries' scope, 2, today's sums, the list); which of the card's goals are stale; the preview of the rep's
    # own goal and micro goal (for each: the row without a lock, ONE aggregate over the rep's own daily rollups for
    # the window and the forecast history; once for both: the rep's team with capacity, its calendar, 2, and the team's
    # daily totals and capacity, 3 — goals/services/run.py).
    for value in ("2", "3"):
        with django_assert_num_queries(LOG_POST_QUERIES):
            response = client.post(
                reverse("today_log"),
                {"kpi": demos.id, "value": value, "date": TODAY.isoformat(), "note": "", "token": uuid.uuid4()},
                **HTMX,
            )
        body = response.content.decode()
        assert response.status_code == 200 and f"Logged {value} Demos booked for today." in body
        assert body.count("updating…") == 1, "the team goal waits for the recompute; the rep's own are fresh"
    services.progress_recompute_stale()
    own_goal.refresh_from_db()
    own_block = body[body.index(f'id="today-goal-{own_goal.id}"') :].split("</h3>")[1].split('class="goal-line')[0]
    shown = f'data-figure="current">{kpi_value(own_goal.current_value, demos)}</strong>'
    assert shown in own_block, "the answer showed what the recompute then wrote"


# --- the web path never waits on the engine --------------------------------------------------------------------


@pytest.fixture
def team_demos(personas, demos):
    return GoalFactory(
        title="Team demos", kpi=demos, owner_team=personas.team_a, target_value=400, created_by=personas.manager_a
    )


def test_after_logging_team_figures_say_updating_and_poll_until_the_recompute_lands(
    client, personas, plan, demos, team_demos
):
    client.force_login(personas.rep_a)
    body = log(client, demos, value="3").content.decode()
    goals_block = body[body.index(f'id="kpi-{demos.id}-goals"') :]
    assert "updating…" in goals_block and f"{reverse('today_goals')}?kpi={demos.id}&amp;poll=1" in goals_block
    assert 'hx-trigger="load delay:2s"' in goals_block
    # The rep's own goal already shows the entry, the team goal its last written figure.
    assert 'aria-valuenow="3"' in body  # 3 of 100 for the rep's own goal
    poll = client.get(reverse("today_goals"), {"kpi": demos.id, "poll": 1}, **HTMX).content.decode()
    assert poll.lstrip().startswith(f'<div id="kpi-{demos.id}-goals"') and "poll=2" in poll
    assert services.progress_recompute_stale().goals == 2  # the coalesced recompute lands
    poll = client.get(reverse("today_goals"), {"kpi": demos.id, "poll": 2}, **HTMX).content.decode()
    assert "updating…" not in poll and "today/goals/" not in poll  # no more polling
    assert (
        '<strong class="num" data-figure="current">3</strong> of <span class="num" data-figure="target">400</span>'
        in poll
    )


def test_polling_stops_after_the_limit_and_says_to_reload(client, personas, plan, demos, team_demos):
    client.force_login(personas.rep_a)
    log(client, demos)
    poll = client.get(reverse("today_goals"), {"kpi": demos.id, "poll": 15}, **HTMX).content.decode()
    assert "updating…" in poll and "today/goals/" not in poll and "reload the page in a minute" in poll


def test_the_goals_fragment_is_scoped_like_today(client, personas, plan, demos):
    client.force_login(personas.rep_b)
    assert client.get(reverse("today_goals"), {"kpi": demos.id}, **HTMX).status_code == 404  # not on b's Today
    response = client.get(reverse("today_goals"), {"kpi": demos.id, "rep": personas.rep_a.id}, **HTMX)
    assert response.status_code == 404  # not b's rep
    assert client.get(reverse("today_goals"), {"kpi": demos.id}).status_code == 302  # without htmx: Today


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_logging_never_waits_for_a_recompute_holding_the_team_goals_lock(client, personas, plan, demos, team_demos):
    """A recompute holds the team goal's row lock (as a long pass does); the rep's log still answers at once."""
    import threading

    from django.db import connection, transaction

    from goals.models import Goal as GoalModel

    locked, release = threading.Event(), threading.Event()

    def hold_lock():
        with transaction.atomic():
            list(GoalModel.objects.select_for_update().filter(id=team_demos.id))
            locked.set()
            release.wait(30)
        connection.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(10)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '1s'")  # waiting on any row lock would fail the request
        client.force_login(personas.rep_a)
        response = log(client, demos, value="3")
        assert response.status_code == 200 and 'aria-valuenow="30"' in response.content.decode()
    finally:
        release.set()
        holder.join(30)


# --- a second look at implausible values --------------------------------------------------------------------------


def test_a_value_above_the_whole_target_asks_for_confirmation_and_stores_nothing_until_then(
    client, personas, plan, demos
):
    client.force_login(personas.rep_a)
    token = uuid.uuid4()
    page = log(client, demos, value="1000000", token=token).content.decode()
    assert "1,000,000 Demos booked is more than the whole target of “March demos” (100). Is that right?" in page
    assert 'name="confirmed" value="1000000"' in page and "Nothing is logged until you confirm it." in page
    assert ProgressEntry.objects.count() == 0
    url = reverse("today_log")
    data = {
        "kpi": demos.id,
        "value": "1000000",
        "date": "2026-03-11",
        "note": "",
        "token": token,
        "confirmed": "1000000",
    }
    client.post(url, data, **HTMX)
    assert ProgressEntry.objects.get().value == Decimal(1000000)


def test_a_value_many_times_the_largest_day_asks_for_confirmation(client, personas, plan, demos):
    ProgressEntryFactory(user=personas.rep_a, kpi=demos, date=datetime.date(2026, 3, 2), value=Decimal(4))
    ProgressEntryFactory(user=personas.rep_a, kpi=demos, date=datetime.date(2026, 3, 2), value=Decimal(3))  # 7 that day
    client.force_login(personas.rep_a)
    page = log(client, demos, value="71").content.decode()
    assert "71 Demos booked is more than 10 times the largest day ever logged by you or your team (7)" in page
    assert ProgressEntry.objects.count() == 2
    log(client, demos, value="70")  # 10 × 7: plausible
    assert ProgressEntry.objects.count() == 3


def test_changing_a_confirmed_value_looks_again(client, personas, plan, demos):
    client.force_login(personas.rep_a)
    data = {
        "kpi": demos.id,
        "value": "5000",
        "date": "2026-03-11",
        "note": "",
        "token": uuid.uuid4(),
        "confirmed": "1000",
    }
    page = client.post(reverse("today_log"), data, **HTMX).content.decode()
    assert "Is that right?" in page and ProgressEntry.objects.count() == 0
