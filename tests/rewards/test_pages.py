"""The rewards pages: who may open what (one table), forms with their messages, the CSV export, query pins."""

import csv
import datetime
import io

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from api.services import api_token_create
from goals.models import MicroGoal
from rewards import services
from rewards.models import Award, RewardTier
from teams.models import AuditEvent, Membership
from tests.factories import GoalFactory, UserFactory

from .conftest import D, make_tier, march

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(personas, tiers, deals):
    """A pending Stretch bonus of rep A (team A)."""
    goal = GoalFactory(owner_user=personas.rep_a, kpi=deals, target_value=D(10), current_value=D(13))
    return Award.objects.create(user=personas.rep_a, tier=tiers["stretch"], goal=goal, attainment=D(130),
                                threshold=D(120), amount=D(500), currency="USD", status=Award.Status.PENDING)  # fmt: skip


ADMIN, MANAGER_A, REP_A, MANAGER_B, REP_B = "admin", "manager_a", "rep_a", "manager_b", "rep_b"
PERSONAS = (ADMIN, MANAGER_A, REP_A, MANAGER_B, REP_B)
# url name, uses the award / a tier, method, then the expected status for admin, manager A, rep A, manager B, rep B.
MATRIX = [
    ("rewards:my_rewards", None, "get", (200, 200, 200, 200, 200)),
    ("rewards:streak_badge", None, "get", (200, 200, 200, 200, 200)),
    ("rewards:leaderboard", None, "get", (200, 200, 200, 200, 200)),
    ("rewards:leaderboard_card", None, "get", (200, 200, 403, 200, 403)),
    ("rewards:review", None, "get", (200, 200, 403, 200, 403)),
    ("rewards:award_detail", "award", "get", (200, 200, 200, 404, 404)),
    # the rep may see their own award but not decide it: a 403, as in the API; others' awards are unknown (404)
    ("rewards:award_detail", "award", "approve", (302, 302, 403, 404, 404)),
    ("rewards:tier_list", None, "get", (200, 403, 403, 403, 403)),
    ("rewards:tier_create", None, "get", (200, 403, 403, 403, 403)),
    ("rewards:tier_edit", "tier", "get", (200, 403, 403, 403, 403)),
    ("rewards:tier_toggle", "tier", "post", (302, 403, 403, 403, 403)),
    ("rewards:tier_delete", "tier", "post", (302, 403, 403, 403, 403)),
    ("rewards:payouts", None, "get", (200, 403, 403, 403, 403)),
    ("rewards:payouts_csv", None, "get", (200, 403, 403, 403, 403)),
]


@pytest.mark.parametrize(("name", "obj", "method", "expected"), MATRIX, ids=[f"{m[0]}-{m[2]}" for m in MATRIX])
@pytest.mark.parametrize("who", range(len(PERSONAS)), ids=PERSONAS)
def test_permission_matrix(client, personas, pending, tiers, name, obj, method, expected, who):
    client.force_login(getattr(personas, {ADMIN: "admin"}.get(PERSONAS[who], PERSONAS[who])))
    args = {"award": [pending.id], "tier": [tiers["commit"].id], None: []}[obj]
    url = reverse(name, args=args)
    if method == "get":
        response = client.get(url)
    elif method == "approve":
        response = client.post(url, {"action": "approve", "reason": ""})
    else:
        response = client.post(url)
    assert response.status_code == expected[who]


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    assert client.get(reverse("rewards:my_rewards"))["Location"].startswith("/accounts/login/")


def test_a_rep_sees_only_their_own_teams_board(client, personas, deals):
    client.force_login(personas.rep_a)
    response = client.get(reverse("rewards:leaderboard"), {"team": personas.team_b.id, "period": "month"})
    assert response.status_code == 200
    page = response.content.decode()
    assert str(personas.rep_b) not in page and "Team A" in page


def test_the_manager_approves_a_pending_bonus_from_the_review_list(client, personas, pending):
    client.force_login(personas.manager_a)
    page = client.get(reverse("rewards:review")).content.decode()
    assert f'id="review-{pending.id}"' in page and "Stretch" in page
    response = client.post(
        reverse("rewards:award_detail", args=[pending.id]),
        {"action": "approve", "reason": "", "next": "review"},
        headers={"HX-Request": "true"},
    )
    assert "approved" in response.content.decode()
    pending.refresh_from_db()
    assert (pending.status, pending.decided_by) == (Award.Status.APPROVED, personas.manager_a)


def test_rejecting_without_a_reason_is_a_form_error_and_changes_nothing(client, personas, pending):
    client.force_login(personas.manager_a)
    response = client.post(reverse("rewards:award_detail", args=[pending.id]), {"action": "reject", "reason": " "})
    assert response.status_code == 200
    assert "Give a reason" in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == Award.Status.PENDING


@pytest.mark.parametrize("action", ["approve", "reject", "keep", "revoke"])
def test_a_rep_deciding_their_own_award_is_refused_with_a_403_in_the_browser_and_the_api(
    client, personas, pending, action
):
    """They may see it (their award's page answers 200, with no decision buttons), so refusing the action is a 403
    (the project's 403 page, the refusal in the audit log), not a 404; the API answers the same."""
    rep = personas.rep_a
    client.force_login(rep)
    url = reverse("rewards:award_detail", args=[pending.id])
    page = client.get(url)
    assert page.status_code == 200 and not page.context["can_decide"] and 'name="action"' not in page.content.decode()
    for headers in ({}, {"HX-Request": "true"}):
        response = client.post(url, {"action": action, "reason": "I earned it"}, headers=headers)
        assert response.status_code == 403
        assert "You can't do that here" in response.content.decode()  # templates/403.html
    assert AuditEvent.objects.filter(actor=rep, summary__contains=f"refused POST {url}").count() == 2
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=rep, name='sync')[1]}")
    refused = api.post(f"/api/v1/awards/{pending.id}/{action}/", {"reason": "I earned it"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["detail"] == "You cannot decide on your own award: one of your managers does."
    pending.refresh_from_db()
    assert (pending.status, pending.decided_by) == (Award.Status.PENDING, None)


def test_tier_form_refuses_bad_input_with_messages(client, personas, tiers):
    client.force_login(personas.admin)
    data = {"name": "commit", "applies_to": "goal", "threshold_percent": "-5", "owner_kind": "personal",
            "team_recipients": "contributors", "reward_kind": "points", "points": "0", "amount": "0"}  # fmt: skip
    page = client.post(reverse("rewards:tier_create"), data).content.decode()
    assert "A tier named “commit” already exists (names are compared ignoring case)." in page
    assert "The threshold must be a positive percentage" in page
    assert "A points reward needs a positive number of points." in page
    assert RewardTier.objects.count() == 3
    data |= {"name": "Overachiever", "threshold_percent": "150", "points": "200"}
    assert client.post(reverse("rewards:tier_create"), data).status_code == 302
    assert RewardTier.objects.get(name="Overachiever").points == 200


def test_an_awarded_tier_cannot_be_deleted_only_deactivated(client, personas, pending, tiers):
    client.force_login(personas.admin)
    response = client.post(reverse("rewards:tier_delete", args=[tiers["stretch"].id]), follow=True)
    assert "has been awarded, so it cannot be deleted: deactivate it instead." in response.content.decode()
    client.post(reverse("rewards:tier_toggle", args=[tiers["stretch"].id]))
    tiers["stretch"].refresh_from_db()
    assert tiers["stretch"].is_active is False and Award.objects.filter(tier=tiers["stretch"]).exists()
    client.post(reverse("rewards:tier_delete", args=[tiers["commit"].id]))  # never awarded: may go
    assert not RewardTier.objects.filter(name="Commit").exists()


def test_editing_an_awarded_tier_keeps_its_awards_and_its_kind(client, personas, pending, tiers):
    client.force_login(personas.admin)
    data = {"name": "Stretch", "applies_to": "goal", "threshold_percent": "130", "owner_kind": "personal",
            "team_recipients": "contributors", "reward_kind": "badge"}  # fmt: skip
    page = client.post(reverse("rewards:tier_edit", args=[tiers["stretch"].id]), data).content.decode()
    assert "has been awarded already, so its reward kind cannot change" in page
    data |= {"reward_kind": "bonus", "amount": "800", "needs_approval": "on"}
    assert client.post(reverse("rewards:tier_edit", args=[tiers["stretch"].id]), data).status_code == 302
    pending.refresh_from_db()
    assert (pending.threshold, pending.amount) == (D(120), D(500))


def test_payout_csv_streams_the_approved_bonuses_and_mark_paid_closes_them(client, personas, pending, tiers):
    services.award_approve(award=pending, decided_by=personas.manager_a)
    personas.rep_a.first_name, personas.rep_a.last_name = "=Ray", "Rep"
    personas.rep_a.save()
    make_tier(personas.admin, "Quick bonus", D(50), reward_kind="bonus", amount=D("99.50"))  # no approval needed
    Award.objects.create(user=personas.rep_b, tier=RewardTier.objects.get(name="Quick bonus"), amount=D("99.50"),
                         goal=GoalFactory(owner_user=personas.rep_b), attainment=D(60), currency="USD")  # fmt: skip
    Award.objects.create(user=personas.rep_b, tier=tiers["stretch"], goal=GoalFactory(owner_user=personas.rep_b),
                         amount=D(500), currency="USD", status=Award.Status.PENDING)  # not approved: not exported  # fmt: skip
    client.force_login(personas.admin)
    response = client.get(reverse("rewards:payouts_csv"))
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:8] == ["rep", "email", "tier", "goal", "attainment_percent", "amount", "currency", "granted_on"]
    assert [r[:3] + r[4:7] for r in rows[1:]] == [
        ["'=Ray Rep", personas.rep_a.email, "Stretch", "130.00", "500.00", "USD"],  # no formula injection
        [str(personas.rep_b), personas.rep_b.email, "Quick bonus", "60.00", "99.50", "USD"],
    ]
    assert rows[1][9] == str(personas.manager_a) and rows[1][8] == datetime.date.today().isoformat()
    response = client.post(
        reverse("rewards:payouts"), {"award": [r[10] for r in rows[1:]], "reference": "March payroll"}
    )
    assert response.status_code == 302
    assert (
        Award.objects.filter(status=Award.Status.PAID, paid_by=personas.admin, payout_reference="March payroll").count()
        == 2
    )
    assert (
        len(
            list(
                csv.reader(io.StringIO(b"".join(client.get(reverse("rewards:payouts_csv")).streaming_content).decode()))
            )
        )
        == 1
    )


def test_privacy_choice_is_saved_from_my_rewards(client, personas):
    client.force_login(personas.rep_a)
    response = client.post(reverse("rewards:preference_update"), {"hide_name_from_peers": "on"}, follow=True)
    assert "a teammate" in response.content.decode()
    assert personas.rep_a.reward_preference.hide_name_from_peers is True


def test_my_rewards_shows_awards_points_streak_and_the_next_tier_within_reach(client, personas, tiers, deals):
    rep = personas.rep_a
    goal = GoalFactory(
        owner_user=rep,
        kpi=deals,
        target_value=D(10),
        current_value=D(7),
        computed_at=datetime.datetime(2026, 3, 2, tzinfo=datetime.UTC),
    )
    client.force_login(rep)
    page = client.get(reverse("rewards:my_rewards")).content.decode()
    assert "1 more deals won</strong> for Commit" in page
    Award.objects.create(user=rep, tier=tiers["commit"], goal=goal, attainment=D(80), threshold=D(80))
    page = client.get(reverse("rewards:my_rewards")).content.decode()
    assert "3 more deals won</strong> for Target" in page and goal.title in page


def _team_of(size, team, deals):
    goal = GoalFactory(owner_team=team, kpi=deals)
    users = UserFactory.create_batch(size)
    Membership.objects.bulk_create(Membership(user=u, team=team, active_from=march(1)) for u in users)
    today = datetime.date.today()
    MicroGoal.objects.bulk_create(
        MicroGoal(goal=goal, assignee=u, kpi=deals, target_value=D(10), current_value=D(n % 11), start_date=today,
                  due_date=today) for n, u in enumerate(users)
    )  # fmt: skip


@pytest.mark.parametrize("size", [5, 200])
def test_pages_cost_the_same_for_5_and_200_reps(
    client, personas, deals, tiers, pending, size, django_assert_max_num_queries
):
    _team_of(size, personas.team_a, deals)
    # Each pin: session + user (2), the page's own reads, and the navigation (rep membership, managed teams).
    pins = [
        # session + user (2), navigation (3), scope: teams the rep may see (4), goals for the period choices (4),
        # the rep's team and its tree (2), default KPI (1), form choices (2), two boards of 3 each (1 + 2 for names)
        (personas.rep_a, "rewards:leaderboard", [], 25),
        (personas.manager_a, "rewards:leaderboard_card", [], 18),  # the same, one board, no navigation
        (personas.manager_a, "rewards:review", [], 10),  # session, user, access (2), scope (2), list, navigation
        (personas.rep_a, "rewards:my_rewards", [], 17),  # awards, summary, streak (4), next tiers (4), preference
        (personas.rep_a, "rewards:streak_badge", [], 6),
        (personas.manager_a, "rewards:award_detail", [pending.id], 13),
        (personas.admin, "rewards:payouts", [], 5),
        (personas.admin, "rewards:tier_list", [], 5),
    ]
    for user, name, args, most in pins:
        client.force_login(user)
        with django_assert_max_num_queries(most):
            assert client.get(reverse(name, args=args)).status_code == 200


def test_the_django_admin_only_shows_rewards_never_changes_or_deletes_them(client, personas, pending, tiers):
    client.force_login(personas.admin)
    assert client.get("/admin/rewards/award/").status_code == 200
    assert client.get(f"/admin/rewards/award/{pending.id}/change/").status_code == 200  # a read-only view
    assert client.post(f"/admin/rewards/award/{pending.id}/change/", {"status": "paid"}).status_code == 403
    assert client.get(f"/admin/rewards/rewardtier/{tiers['stretch'].id}/delete/").status_code == 403
    assert client.get("/admin/rewards/rewardtier/add/").status_code == 403
    pending.refresh_from_db()
    assert pending.status == Award.Status.PENDING


def test_my_rewards_counts_a_pending_bonus_apart_from_what_is_held(client, personas, pending):
    client.force_login(personas.rep_a)
    summary = client.get(reverse("rewards:my_rewards")).context["summary"]
    assert (summary.bonuses, summary.pending_bonuses, summary.badges) == (D(0), D(500), 0)
