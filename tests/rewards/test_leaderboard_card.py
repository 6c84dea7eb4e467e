"""The manager dashboard's leaderboard card: the board's top 10 as the full board ranks them (ties included), the
viewer's own row when they are further down, names hidden exactly as on the board, a link to the whole board with
its size, and a cost that does not follow the team's size."""

import datetime
import re

import pytest
from django.urls import reverse

from goals.models import MicroGoal
from rewards import selectors, services
from teams.models import Membership
from tests.factories import GoalFactory, MembershipFactory, UserFactory

from .conftest import D

pytestmark = pytest.mark.django_db

CARD = reverse("rewards:leaderboard_card")


def _reps(team, kpi, currents):
    """One rep of `team` per value: a micro goal of 10 this month with that much done (names sort with their index)."""
    today = datetime.date.today()
    goal = GoalFactory(owner_team=team, kpi=kpi, start_date=today, due_date=today)
    users = [
        MembershipFactory(team=team, user=UserFactory(first_name=f"Rep{n:03d}", last_name="Card")).user
        for n in range(len(currents))
    ]
    MicroGoal.objects.bulk_create(
        MicroGoal(goal=goal, assignee=u, kpi=kpi, target_value=D(10), current_value=D(c), expected_value=D(10),
                  start_date=today, due_date=today) for u, c in zip(users, currents, strict=True)
    )  # fmt: skip
    return users


def _names(html: str) -> list[str]:
    """The rep column of the card's table, in order."""
    return [re.sub(r"<[^>]+>", "", cell).split("\n")[0].strip() for cell in
            re.findall(r'<th scope="row" class="fw-normal">(.*?)</th>', html, flags=re.S)]  # fmt: skip


def _ranks(html: str) -> list[str]:
    return re.findall(r'<tr(?: class="table-success")?>\s*<td class="num">(\d+|<span[^>]*>–</span>)</td>', html)


def test_the_card_shows_the_top_10_and_links_to_the_whole_board(client, personas, deals):
    users = _reps(personas.team_a, deals, range(14))  # 0 to 13 of 10: Rep013 leads; rep A has no target
    client.force_login(personas.manager_a)
    html = client.get(CARD).content.decode()
    assert _names(html) == [str(u) for u in reversed(users[4:])]  # 130 % … 40 %: ten rows
    assert _ranks(html) == [str(n) for n in range(1, 11)]
    assert "⋯" not in html  # a manager is on no board: no row of their own
    link = re.search(r'<a href="([^"]+)" id="full-leaderboard">Full leaderboard \((\d+) reps\)</a>', html)
    assert link and link[2] == "15"  # 14 + rep A
    assert f"team={personas.team_a.id}" in link[1] and "period=month" in link[1] and f"kpi={deals.id}" in link[1]
    full = client.get(link[1].replace("&amp;", "&")).content.decode()
    assert f"{personas.team_a.name} · {deals.name}" in full
    attainment = full.split('id="board-attainment"')[1].split("</table>")[0]
    assert len(_names(attainment)) == 15 and str(personas.rep_a) in attainment


def test_a_small_team_shows_every_rep_and_no_gap(client, personas, deals):
    _reps(personas.team_a, deals, [3, 7])
    client.force_login(personas.manager_a)
    html = client.get(CARD).content.decode()
    assert len(_names(html)) == 3 and "⋯" not in html  # the two, then rep A (no target)
    assert "Full leaderboard (3 reps)" in html


def test_a_tie_across_the_cut_keeps_the_boards_ranks_and_order(client, personas, deals):
    _reps(personas.team_a, deals, [5] * 12)  # twelve reps on 50 %: all first
    client.force_login(personas.manager_a)
    html = client.get(CARD).content.decode()
    today = datetime.date.today()
    board = selectors.leaderboard_for_team(team=personas.team_a, start=today.replace(day=1), end=today,
                                           viewer=personas.manager_a, kpi=deals)  # fmt: skip
    assert _names(html) == [row.name for row in board.rows[:10]]  # the board's order: points, then the earliest rep
    assert _ranks(html) == ["1"] * 10
    assert "Full leaderboard (13 reps)" in html


def test_a_viewer_below_the_top_10_sees_their_own_row_after_a_gap_and_hidden_names_stay_hidden(client, personas, deals):
    """A player-coach: manager B (of team B) also sells in team A, so team A's board is their own rep team's, whose
    names they see as a peer does."""
    users = _reps(personas.team_a, deals, range(1, 13))  # 10 % … 120 %
    hider = users[-1]  # the leader hides their name from peers
    services.reward_preference_set(user=hider, hide_name_from_peers=True)
    coach = personas.manager_b
    MembershipFactory(user=coach, team=personas.team_a, role=Membership.Role.REP)
    MicroGoal.objects.create(goal=GoalFactory(owner_user=coach, kpi=deals), assignee=coach, kpi=deals,
                             target_value=D(10), current_value=D(0), expected_value=D(10),
                             start_date=datetime.date.today(), due_date=datetime.date.today())  # fmt: skip

    client.force_login(coach)
    html = client.get(CARD).content.decode()
    names = _names(html)
    assert len(names) == 11 and names[-1] == "You"  # the top 10, then the coach's own row
    assert names[0] == selectors.HIDDEN_NAME and str(hider) not in html  # as on the full board for a peer
    assert html.index("⋯") < html.rindex("You")
    assert _ranks(html)[-1] == "13"  # their rank on the whole board (12 reps ahead of 0 %), rep A unranked after
    assert "Full leaderboard (14 reps)" in html

    client.force_login(personas.manager_a)  # team A's manager sees the name, marked
    html = client.get(CARD).content.decode()
    assert _names(html)[0] == f"{hider} (hidden from peers)" and "You" not in _names(html)


def test_a_viewer_inside_the_top_10_is_not_shown_twice():
    row = selectors.BoardRow
    rows = [row(None, None, "You" if n == 3 else f"r{n}", n == 3, None, None, None, 0, 0) for n in range(15)]  # type: ignore[arg-type]
    board = selectors.Board(team=None, kpi=None, start=None, end=None, rows=rows)  # type: ignore[arg-type]
    top = selectors.leaderboard_top(board)
    assert (len(top.rows), top.viewer_row, top.total) == (10, None, 15)
    rows[3].is_viewer, rows[12].is_viewer = False, True
    assert selectors.leaderboard_top(board).viewer_row is rows[12]


@pytest.mark.parametrize("size", [5, 60])
def test_the_card_costs_the_same_for_5_and_60_reps(client, personas, deals, size, django_assert_num_queries):
    users = _reps(personas.team_a, deals, [n % 13 for n in range(size)])
    services.reward_preference_set(user=users[0], hide_name_from_peers=True)
    client.force_login(personas.manager_a)
    # session + user (2), manager check (2), the teams the user may see (4), the goals for the period choices (4),
    # the rep membership (1), the team's tree (1), default KPI (1), the board (1 + 2 for whose names show)
    with django_assert_num_queries(18):
        html = client.get(CARD).content.decode()
    assert len(_names(html)) == min(size + 1, 10) and f"Full leaderboard ({size + 1} reps)" in html
