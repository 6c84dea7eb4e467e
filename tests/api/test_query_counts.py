"""Every list endpoint costs the same number of queries for a team of 5 reps and one of 200 (pinned), as manager A.
Each pin lists what it pays for; token authentication is 1 of them (the token with its owner: the owner's other,
expired tokens are purged daily, not read on every call)."""

import datetime

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from feedback.models import ActionItem, AdjustmentRequest, CheckIn, CheckInReply, Feedback
from feedback.selectors import week_start_of
from goals.models import ProgressEntryRevision
from rewards.models import Award, RewardTier
from tests.factories import (
    GoalFactory,
    MembershipFactory,
    MicroGoalFactory,
    NotificationFactory,
    ProgressEntryFactory,
    UserFactory,
)
from webhooks import services as webhooks

pytestmark = pytest.mark.django_db

PINS = {
    # path: queries (token authentication is 1 of them: the token with its owner)
    "/api/v1/me/": 2,  # auth, current memberships
    "/api/v1/teams/": 6,  # auth, managed teams (direct, tree), own memberships, count, page
    "/api/v1/teams/{team}/members/": 7,  # auth, team scope (managed: 2, team), team tree, members
    "/api/v1/kpis/": 3,  # auth, count, page
    "/api/v1/goals/": 8,  # auth, managed teams (2), count, page, calendars (rep teams, team tree, holidays)
    "/api/v1/micro-goals/": 9,  # auth, visible users (managed 2, members), count, page, calendars (rep teams, tree, holidays)
    "/api/v1/progress-entries/": 5,  # auth, visible users (3), page (a cursor: no count)
    "/api/v1/progress-entries/{entry}/history/": 6,  # auth, visible users (3), the entry, its revisions with who
    "/api/v1/notifications/": 3,  # auth, count, page
    "/api/v1/goals/export/": 8,  # auth, managed teams (2), a chunk, its calendars (3), the end-of-chunks read
    "/api/v1/progress-entries/export/": 5,  # auth, visible users (3), the streamed rows
    # rewards
    "/api/v1/reward-tiers/": 3,  # auth, count, page (with the awarded count)
    "/api/v1/awards/": 6,  # auth, visible users (managed 2, members), count, page
    "/api/v1/leaderboards/": 11,  # auth, teams (managed 2, rep team, teams), rep team, tree, KPI, managed (2), board
    # feedback
    "/api/v1/checkins/": 5,  # auth, managed teams (tree, memberships), count, page
    "/api/v1/checkins/{checkin}/replies/": 5,  # auth, managed teams (2), the check-in, its replies
    "/api/v1/feedback/": 5,  # auth, managed teams (2), count, page
    "/api/v1/action-items/": 5,  # auth, managed teams (2), count, page
    "/api/v1/adjustment-requests/": 5,  # auth, managed teams (2), count, page
    # end feedback
}


def _add_reps(team, kpi, manager, count, today, *, edited_entry):
    """`count` reps, each with a goal, a micro goal, an entry and a notification of the manager; each also corrects
    `edited_entry` once (its history grows with the team)."""
    start, due = today - datetime.timedelta(days=10), today + datetime.timedelta(days=30)
    for _ in range(count):
        rep = MembershipFactory(user=UserFactory(), team=team).user
        value, day = edited_entry.value, edited_entry.date
        ProgressEntryRevision.objects.create(
            entry=edited_entry, kind="edited", changed_by=rep, old_value=value, new_value=value, old_date=day,
            new_date=day, old_note="", new_note="checked",
        )  # fmt: skip
        goal = GoalFactory(kpi=kpi, owner_user=rep, start_date=start, due_date=due, created_by=manager)
        MicroGoalFactory(goal=goal, assignee=rep)
        ProgressEntryFactory(user=rep, kpi=kpi, date=today)
        NotificationFactory(user=manager)
        _add_award(rep, goal)
        _add_feedback(rep, goal, manager, today)


def _add_award(rep, goal):
    """rewards: each rep holds an award on their goal, so the awards list grows with the team."""
    tier = RewardTier.objects.order_by("id").first()
    Award.objects.create(user=rep, tier=tier, goal=goal, attainment=100, threshold=tier.threshold_percent)


def _add_feedback(rep, goal, manager, today):
    """A rep's feedback rows: a check-in with a reply, feedback both ways, a support step, a decided request."""
    checkin = CheckIn.objects.create(goal=goal, rep=rep, week_start=week_start_of(today), confidence=5)
    CheckInReply.objects.create(checkin=checkin, author=manager, body="Noted.")
    Feedback.objects.create(author=manager, recipient=rep, body="Keep going.", visibility="managers")
    Feedback.objects.create(author=rep, recipient=manager, kind="praise", body="Thanks!", visibility="team")
    ActionItem.objects.create(goal=goal, title="Call back", owner=rep, due_date=today, created_by=manager)
    AdjustmentRequest.objects.create(
        goal=goal, requested_by=rep, proposed_target=goal.target_value + 1, current_target=goal.target_value,
        current_due_date=goal.due_date, reason="Slipped.", status="rejected", decided_by=manager, decided_at=timezone.now(),
    )  # fmt: skip


def _count(client, path) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200, path
    return len(queries)


def test_list_endpoints_cost_the_same_for_5_and_200_reps(world, client_for):
    client = client_for("manager_a")
    client.get("/api/v1/me/")  # the token's first use records "last used" (a write at most once a minute)
    paths = [p.format(team=world.team_a.id, entry=world.a.entry.id, checkin=world.a.checkin.id) for p in PINS]
    _add_reps(world.team_a, world.kpi, world.manager_a, 4, world.today, edited_entry=world.a.entry)
    small = {p: _count(client, p) for p in paths}
    _add_reps(world.team_a, world.kpi, world.manager_a, 195, world.today, edited_entry=world.a.entry)
    large = {p: _count(client, p) for p in paths}
    assert large == small
    assert large == dict(zip(paths, PINS.values(), strict=True))


# The CRM write path, POST /api/v1/progress-entries/ with an Idempotency-Key, as a rep's token (bench/http_post.py):
# auth (1), the key claimed (1), the KPI (1), progress_record's savepoint and release (2), the entry (1), its day's
# rollup upsert (1), what it touches and its stale marks (1: one INSERT … SELECT over rep teams, team tree, teammates,
# goals and micro goals; it was 6), webhook subscribers (1), the stored response (1); and here 2 for the request's
# transaction, a savepoint inside the test's own. In production that transaction costs no statement, and after its
# commit the coalesced recompute is requested (2): 12 there too. With a shared cache (production's CACHE_URL) the
# webhook subscribers are a cache read, not a query, while no endpoint subscribes to "entry.recorded": 11.
POST_QUERIES = 12
POST_QUERIES_SHARED_CACHE = 11


@pytest.mark.parametrize("shared_cache", [False, True])
def test_logging_an_entry_over_the_api_costs_the_same_for_5_and_200_reps(
    world, client_for, django_assert_num_queries, shared_cache, monkeypatch
):
    monkeypatch.setattr(webhooks, "_seen", ("", frozenset()))  # nothing remembered from an earlier test
    own = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"counts-{shared_cache}"}
    with override_settings(CACHES={"default": own}, WEBHOOK_SUBSCRIPTIONS_CACHED=shared_cache):
        client = client_for("rep_a")
        body = {"kpi": world.kpi.id, "date": str(world.today), "value": "3"}
        assert client.post("/api/v1/progress-entries/", body, HTTP_IDEMPOTENCY_KEY="warm-up").status_code == 201
        for reps, key in ((4, "small"), (195, "large")):
            _add_reps(world.team_a, world.kpi, world.manager_a, reps, world.today, edited_entry=world.a.entry)
            with django_assert_num_queries(POST_QUERIES_SHARED_CACHE if shared_cache else POST_QUERIES):
                response = client.post("/api/v1/progress-entries/", body, HTTP_IDEMPOTENCY_KEY=key)
            assert response.status_code == 201
