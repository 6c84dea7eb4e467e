"""The permission matrix (issue 9, Tests): every URL with an id, and the main pages without one, × every persona ×
GET and POST → the status each must get. ONE table, read by one parametrised test.

Personas (tests/conftest.py): anonymous; rep A and rep A2 (both reps of team A); rep B; manager A; manager B; admin.
The world: rep A's personal goal, team A's goal, an entry of rep A, the memberships, a holiday of team A, a
notification of rep A, a KPI. Rules the statuses encode:
- anonymous: 302 to the login page, whatever the method;
- an object the persona may not see: 404, alike for "missing" and "not yours" (team B never learns team A exists);
- an object they may see but not change: 403 (a rep's own team's members and holidays; their own goal's edit);
- a POST-only address opened with GET: 405 (the page in the layout, config/middleware.py); a GET-only one posted: 405;
- POSTs carry no data: a page answers 200 with its form errors, an action that needs nothing answers 302.

To add a URL: one row in MATRIX. Each row runs all seven personas in one test case (each inside a rolled-back
savepoint, so one persona's POST never changes what the next one sees), and reports every mismatch at once.
"""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import transaction
from django.urls import reverse

from api.services import api_token_create
from goals.models import Kpi
from rewards.models import Award
from rewards.services import tier_create
from teams.models import Holiday, Membership
from tests.factories import GoalFactory, KpiFactory, NotificationFactory, ProgressEntryFactory

pytestmark = pytest.mark.django_db

PERSONAS = ("anonymous", "rep_a", "rep_a2", "rep_b", "manager_a", "manager_b", "admin")

# Columns: anonymous, rep A, rep A2, rep B, manager A, manager B, admin.
#   (url name, its kwargs from the world, query string, {method: statuses})
MATRIX = [
    # --- pages without an id
    ("home", {}, "", {"GET": "302 302 302 302 302 302 302"}),
    ("team_list", {}, "", {"GET": "302 200 200 200 200 200 200"}),
    ("team_create", {}, "", {"GET": "302 403 403 403 403 403 200", "POST": "302 403 403 403 403 403 200"}),
    ("kpi_list", {}, "", {"GET": "302 403 403 403 403 403 200"}),
    ("kpi_create", {}, "", {"GET": "302 403 403 403 403 403 200", "POST": "302 403 403 403 403 403 200"}),
    ("dashboard", {}, "", {"GET": "302 403 403 403 200 200 200"}),
    ("goal_create", {}, "", {"GET": "302 403 403 403 200 200 200", "POST": "302 403 403 403 200 200 200"}),
    ("goal_achievability", {}, "", {"GET": "302 403 403 403 405 405 405", "POST": "302 403 403 403 200 200 200"}),
    ("goal_create_preview", {}, "", {"GET": "302 403 403 403 405 405 405", "POST": "302 403 403 403 200 200 200"}),
    ("goal_bulk", {}, "", {"GET": "302 403 403 403 200 200 200", "POST": "302 403 403 403 200 200 200"}),
    ("today", {}, "", {"GET": "302 200 200 200 200 200 200", "POST": "302 405 405 405 405 405 405"}),
    ("today_log", {}, "", {"GET": "302 405 405 405 405 405 405", "POST": "302 200 200 200 200 200 200"}),
    ("today_entries", {}, "", {"GET": "302 302 302 302 302 302 302", "POST": "302 405 405 405 405 405 405"}),
    ("my_goals", {}, "", {"GET": "302 200 200 200 200 200 200", "POST": "302 405 405 405 405 405 405"}),
    ("notification_list", {}, "", {"GET": "302 200 200 200 200 200 200"}),
    (
        "notification_mark_all_read",
        {},
        "",
        {"GET": "302 405 405 405 405 405 405", "POST": "302 302 302 302 302 302 302"},
    ),
    (
        "notification_settings",
        {},
        "",
        {"GET": "302 200 200 200 200 200 200", "POST": "302 200 200 200 200 200 200"},
    ),
    # --- someone's page by ?rep=<id>: rep A's
    ("today", {}, "?rep={rep_a}", {"GET": "302 200 404 404 200 404 200"}),
    ("my_goals", {}, "?rep={rep_a}", {"GET": "302 200 404 404 200 404 200"}),
    ("today_log", {}, "?rep={rep_a}", {"POST": "302 200 404 404 200 404 200"}),
    # --- teams
    ("team_detail", {"team_id": "team_a"}, "", {"GET": "302 200 200 404 200 404 200"}),
    (
        "team_update",
        {"team_id": "team_a"},
        "",
        {"GET": "302 403 403 404 403 404 200", "POST": "302 403 403 404 403 404 200"},
    ),
    (
        "member_add",
        {"team_id": "team_a"},
        "",
        {"GET": "302 405 405 405 405 405 405", "POST": "302 403 403 404 200 404 200"},
    ),
    (
        "member_update",
        {"team_id": "team_a", "membership_id": "membership_rep_a"},
        "",
        {"GET": "302 403 403 404 200 404 200", "POST": "302 403 403 404 200 404 200"},
    ),
    (
        "member_remove",
        {"team_id": "team_a", "membership_id": "membership_rep_a"},
        "",
        {"GET": "302 405 405 405 405 405 405", "POST": "302 403 403 404 200 404 200"},
    ),
    (
        "holiday_add",
        {"team_id": "team_a"},
        "",
        {"GET": "302 405 405 405 405 405 405", "POST": "302 403 403 404 200 404 200"},
    ),
    (
        "holiday_remove",
        {"team_id": "team_a", "holiday_id": "holiday_a"},
        "",
        {"GET": "302 405 405 405 405 405 405", "POST": "302 403 403 404 302 404 302"},
    ),
    # the team page's "plans affected" fragment (goals app): its managers and admins
    ("team_plans_affected", {"team_id": "team_a"}, "", {"GET": "302 403 403 404 200 404 200"}),
    # --- KPIs
    (
        "kpi_update",
        {"kpi_id": "kpi"},
        "",
        {"GET": "302 403 403 403 403 403 200", "POST": "302 403 403 403 403 403 200"},
    ),
    # --- goals: rep A's personal goal, team A's goal
    ("goal_detail", {"goal_id": "goal_a"}, "", {"GET": "302 200 404 404 200 404 200"}),
    ("goal_detail", {"goal_id": "team_goal_a"}, "", {"GET": "302 200 200 404 200 404 200"}),
    (
        "goal_edit",
        {"goal_id": "goal_a"},
        "",
        {"GET": "302 403 404 404 200 404 200", "POST": "302 403 404 404 200 404 200"},
    ),
    ("goal_edit", {"goal_id": "team_goal_a"}, "", {"GET": "302 403 403 404 200 404 200"}),
    (
        "goal_replan",
        {"goal_id": "goal_a"},
        "",
        {"GET": "302 405 405 405 405 405 405", "POST": "302 403 404 404 200 404 200"},
    ),
    (
        "goal_cancel",
        {"goal_id": "goal_a"},
        "",
        {"GET": "302 405 405 405 405 405 405", "POST": "302 403 404 404 200 404 200"},
    ),
    ("goal_cancel", {"goal_id": "team_goal_a"}, "", {"POST": "302 403 403 404 200 404 200"}),
    (
        "goal_entries",
        {"goal_id": "goal_a"},
        "",
        {"GET": "302 200 404 404 200 404 200", "POST": "302 405 405 405 405 405 405"},
    ),
    ("goal_entries", {"goal_id": "team_goal_a"}, "", {"GET": "302 200 200 404 200 404 200"}),
    # --- rep A's entry
    (
        "entry_edit",
        {"entry_id": "entry_a"},
        "",
        {"GET": "302 200 404 404 200 404 200", "POST": "302 200 404 404 200 404 200"},
    ),
    (
        "entry_void",
        {"entry_id": "entry_a"},
        "",
        {"GET": "302 200 404 404 200 404 200", "POST": "302 200 404 404 200 404 200"},
    ),
    # --- people and the audit log (admins only: others get 403 before the method is checked); the person is rep B
    ("people_list", {}, "", {"GET": "302 403 403 403 403 403 200"}),
    ("person_invite", {}, "", {"GET": "302 403 403 403 403 403 200", "POST": "302 403 403 403 403 403 200"}),
    ("audit_log", {}, "", {"GET": "302 403 403 403 403 403 200"}),
    (
        "person_deactivate",
        {"person_id": "rep_b"},
        "",
        {"GET": "302 403 403 403 403 403 200", "POST": "302 403 403 403 403 403 302"},
    ),
    (
        "person_reactivate",
        {"person_id": "rep_b"},
        "",
        {"GET": "302 403 403 403 403 403 405", "POST": "302 403 403 403 403 403 302"},
    ),
    (
        "person_unlock",
        {"person_id": "rep_b"},
        "",
        {"GET": "302 403 403 403 403 403 405", "POST": "302 403 403 403 403 403 302"},
    ),
    (
        "person_invitation_resend",
        {"person_id": "rep_b"},
        "",
        {"GET": "302 403 403 403 403 403 405", "POST": "302 403 403 403 403 403 302"},
    ),
    # --- rep A's API token: only rep A revokes it (their settings page)
    (
        "api_token_revoke",
        {"token_key": "token_a"},
        "",
        {"GET": "302 405 405 405 405 405 405", "POST": "302 302 404 404 404 404 404"},
    ),
    # --- rep A's pending bonus (namespaced, so the coverage check below does not ask for it): rep A sees it and may
    # not decide it (403, as in the API); a teammate, team B and manager B never learn it exists (404); its
    # managers get the form back with its errors (a POST without data)
    (
        "rewards:award_detail",
        {"award_id": "award_a"},
        "",
        {"GET": "302 200 404 404 200 404 200", "POST": "302 403 404 404 200 404 200"},
    ),
    # --- rep A's notification
    (
        "notification_mark_read",
        {"notification_id": "notification_a"},
        "",
        {"GET": "302 405 405 405 405 405 405", "POST": "302 302 404 404 404 404 404"},
    ),
]


def _cases():
    for name, kwargs, query, methods in MATRIX:
        for method, statuses in methods.items():
            expected = dict(zip(PERSONAS, map(int, statuses.split()), strict=True))
            label = f"{method} {name}({','.join(kwargs.values())}){query}"
            yield pytest.param(name, kwargs, query, method, expected, id=label)


CASES = list(_cases())
MATRIX_SIZE = len(CASES) * len(PERSONAS)


def _pending_bonus(personas, kpi):
    """A bonus of rep A waiting for a manager's approval."""
    tier = tier_create(created_by=personas.admin, name="Stretch", threshold_percent=Decimal(120), reward_kind="bonus",
                       amount=Decimal(500), needs_approval=True)  # fmt: skip
    goal = GoalFactory(kpi=kpi, owner_user=personas.rep_a, target_value=Decimal(10), current_value=Decimal(13))
    return Award.objects.create(user=personas.rep_a, tier=tier, goal=goal, attainment=Decimal(130),
                                threshold=Decimal(120), amount=Decimal(500), status=Award.Status.PENDING)  # fmt: skip


@pytest.fixture
def world(personas, rep_a2):
    kpi = KpiFactory(name="Deals won", unit=Kpi.Unit.COUNT)
    today = datetime.date.today()
    window = {"start_date": today - datetime.timedelta(days=10), "due_date": today + datetime.timedelta(days=20)}
    return SimpleNamespace(
        users={**vars(personas), "rep_a2": rep_a2, "anonymous": None},
        ids={
            "team_a": personas.team_a.id,
            "kpi": kpi.id,
            "goal_a": GoalFactory(kpi=kpi, owner_user=personas.rep_a, created_by=personas.manager_a, **window).id,
            "team_goal_a": GoalFactory(kpi=kpi, owner_team=personas.team_a, created_by=personas.manager_a, **window).id,
            "entry_a": ProgressEntryFactory(user=personas.rep_a, kpi=kpi, date=today).id,
            "membership_rep_a": Membership.objects.get(user=personas.rep_a).id,
            "holiday_a": Holiday.objects.create(team=personas.team_a, date=today + datetime.timedelta(days=30)).id,
            "notification_a": NotificationFactory(user=personas.rep_a).id,
            "award_a": _pending_bonus(personas, kpi).id,
            "token_a": api_token_create(user=personas.rep_a, name="rep A's sync")[0].token_key,
            "rep_a": personas.rep_a.id,
            "rep_b": personas.rep_b.id,
        },
    )


@pytest.mark.parametrize(("name", "kwargs", "query", "method", "expected"), CASES)
def test_permission_matrix(client, world, name, kwargs, query, method, expected):
    url = reverse(name, kwargs={key: world.ids[value] for key, value in kwargs.items()}) + query.format(**world.ids)
    mismatches = []
    for persona in PERSONAS:
        with transaction.atomic():
            user = world.users[persona]
            if user is None:
                client.logout()
            else:
                client.force_login(user)
            status = (client.get if method == "GET" else client.post)(url).status_code
            if status != expected[persona]:
                mismatches.append(f"{persona}: {status}, expected {expected[persona]}")
            transaction.set_rollback(True)
    assert not mismatches, f"{method} {url}: " + "; ".join(mismatches)


def test_the_matrix_covers_every_url_with_an_id():
    """A new URL with an id must get a row (the admin's and the auth pages aside)."""
    from django.urls import get_resolver

    covered = {name for name, *_ in MATRIX}
    with_ids = set()
    for name, (possibilities, _pattern, _defaults, _converters) in get_resolver().reverse_dict.items():
        if isinstance(name, str) and any(params for _, params in possibilities):
            with_ids.add(name)
    skipped = {"password_reset_confirm"}  # Django's auth views: token links, no object of Pacer's
    assert with_ids - covered - skipped == set()
    assert MATRIX_SIZE >= 300
