"""Granting tiers from goal figures: exactly once, notified once, flagged (never deleted) when the figure drops."""

import datetime

import pytest
import time_machine

from goals import tasks as goal_tasks
from goals.models import Goal, Kpi
from notifications.models import Notification
from rewards import services
from rewards.models import Award, RewardTier
from teams.models import Membership
from tests.concurrency import run_in_threads
from tests.factories import GoalFactory, KpiFactory, MembershipFactory, MicroGoalFactory, UserFactory

from .conftest import TODAY, D, log, make_tier, march, recompute_and_grant, void

pytestmark = pytest.mark.django_db


def awards(user):
    return {a.tier.name: a for a in Award.objects.filter(user=user).select_related("tier")}


def test_crossing_tiers_grants_each_once_and_notifies_rep_and_manager_once(rep_a, manager_a, deals, tiers):
    goal = GoalFactory(owner_user=rep_a, kpi=deals, target_value=D(10))
    log(rep_a, deals, 3, 7)
    assert recompute_and_grant(goal) == (0, 0)  # 70 %: below Commit
    log(rep_a, deals, 4, 3)
    assert recompute_and_grant(goal) == (2, 0)  # 100 %: Commit and Target
    got = awards(rep_a)
    assert set(got) == {"Commit", "Target"}
    assert got["Target"].attainment == D(100) and got["Target"].threshold == D(100) and got["Target"].points == 50
    assert got["Commit"].status == Award.Status.GRANTED and got["Commit"].goal == goal
    # Once more, and once more: nothing new, nobody notified twice.
    assert recompute_and_grant(goal) == (0, 0)
    assert services.awards_grant() == (0, 0)
    rep_notes = Notification.objects.filter(user=rep_a, kind="award_granted")
    assert sorted(n.title for n in rep_notes) == ["Well done! You earned Commit", "Well done! You earned Target"]
    manager_notes = Notification.objects.filter(user=manager_a, kind="award_granted")
    assert sorted(n.title for n in manager_notes) == [f"{rep_a} earned Commit", f"{rep_a} earned Target"]
    assert "100 % of target" in rep_notes.get(title__endswith="Target").body


def test_a_bonus_that_needs_approval_waits_pending_with_its_amount(rep_a, manager_a, deals, tiers):
    goal = GoalFactory(owner_user=rep_a, kpi=deals, target_value=D(10))
    log(rep_a, deals, 3, 12)
    recompute_and_grant(goal)
    stretch = awards(rep_a)["Stretch"]
    assert (stretch.status, stretch.amount, stretch.currency) == (Award.Status.PENDING, D(500), "USD")
    assert Notification.objects.get(user=manager_a, key=f"award:{stretch.id}:manager").title.endswith(
        "(bonus to approve)"
    )


def test_a_drop_flags_the_award_and_up_again_grants_no_second_one(rep_a, manager_a, deals, tiers):
    goal = GoalFactory(owner_user=rep_a, kpi=deals, target_value=D(10))
    log(rep_a, deals, 3, 5)
    big = log(rep_a, deals, 4, 5)
    recompute_and_grant(goal)
    void(big)  # the entry was a mistake: 50 %
    assert recompute_and_grant(goal) == (0, 2)
    got = awards(rep_a)
    assert {a.status for a in got.values()} == {Award.Status.FLAGGED}
    assert got["Target"].status_before_flag == Award.Status.GRANTED and got["Target"].flag_attainment == D(50)
    assert Notification.objects.filter(user=manager_a, title__startswith="Review").count() == 2
    log(rep_a, deals, 5, 6)  # back up to 110 %
    assert recompute_and_grant(goal) == (0, 0)
    assert Award.objects.filter(user=rep_a).count() == 2  # never a second award, never deleted
    kept = services.award_keep(award=got["Target"], decided_by=manager_a, reason="The deal closed again on Thursday.")
    assert kept.status == Award.Status.GRANTED and kept.decided_by == manager_a
    Goal.objects.filter(pk=goal.pk).update(target_value=D(30))  # down again, to 37 %
    assert recompute_and_grant(goal) == (0, 0)  # the kept Target is not flagged twice; Commit is still flagged
    assert Award.objects.get(pk=kept.pk).status == Award.Status.GRANTED


def test_a_raised_target_flags_and_a_revoked_award_is_never_granted_again(rep_a, manager_a, deals, tiers):
    goal = GoalFactory(owner_user=rep_a, kpi=deals, target_value=D(10))
    log(rep_a, deals, 3, 8)
    recompute_and_grant(goal)
    Goal.objects.filter(pk=goal.pk).update(target_value=D(20))  # a target raised: 40 %
    recompute_and_grant(goal)
    commit = awards(rep_a)["Commit"]
    services.award_revoke(award=commit, decided_by=manager_a, reason="Target was raised before the quarter began.")
    log(rep_a, deals, 4, 10)
    recompute_and_grant(goal)  # 90 % again
    assert Award.objects.get(user=rep_a, tier__name="Commit").status == Award.Status.REVOKED


def test_editing_a_threshold_never_changes_awards_already_granted(admin_user, rep_a, deals, tiers):
    goal = GoalFactory(owner_user=rep_a, kpi=deals, target_value=D(10))
    log(rep_a, deals, 3, 8)
    recompute_and_grant(goal)
    services.tier_update(tier=tiers["commit"], updated_by=admin_user, threshold_percent=D(90))
    assert recompute_and_grant(goal) == (0, 0)
    commit = awards(rep_a)["Commit"]
    assert (commit.status, commit.threshold) == (Award.Status.GRANTED, D(80))


def test_lower_is_better_kpis_use_the_mirrored_attainment(rep_a, admin_user, tiers):
    days = KpiFactory(name="Days to close", direction=Kpi.Direction.LOWER, aggregation=Kpi.Aggregation.LAST)
    goal = GoalFactory(owner_user=rep_a, kpi=days, baseline_value=D(30), target_value=D(20))
    log(rep_a, days, 3, 25)  # halfway down: 50 %
    recompute_and_grant(goal)
    assert awards(rep_a) == {}
    log(rep_a, days, 4, 22)  # 8 of 10 days down: 80 %
    recompute_and_grant(goal)
    assert set(awards(rep_a)) == {"Commit"} and awards(rep_a)["Commit"].attainment == D(80)
    log(rep_a, days, 5, 35)  # worse than the baseline: 0 %, flagged
    recompute_and_grant(goal)
    assert awards(rep_a)["Commit"].status == Award.Status.FLAGGED


def test_team_tiers_go_to_contributors_or_to_every_rep_of_the_window(admin_user, team_a, rep_a, manager_a, deals):
    quiet = MembershipFactory(team=team_a).user
    left = MembershipFactory(team=team_a, active_from=datetime.date(2026, 1, 1), active_to=march(10)).user
    gone_before = MembershipFactory(team=team_a, active_from=datetime.date(2025, 1, 1), active_to=march(1)).user
    goal = GoalFactory(owner_team=team_a, kpi=deals, target_value=D(10))
    log(rep_a, deals, 3, 6)
    log(left, deals, 4, 4)
    log(manager_a, deals, 4, 50)  # a manager's own entries do not count for the team
    contributors = make_tier(admin_user, "Team target", D(100), owner_kind=RewardTier.OwnerKind.TEAM)
    everyone = make_tier(
        admin_user,
        "Team party",
        D(100),
        owner_kind=RewardTier.OwnerKind.TEAM,
        team_recipients=RewardTier.TeamRecipients.ALL,
    )
    personal_only = make_tier(admin_user, "Personal target", D(100))
    recompute_and_grant(goal)
    got = {(a.tier_id, a.user_id) for a in Award.objects.all()}
    assert got == {
        (contributors.id, rep_a.id),
        (contributors.id, left.id),
        (everyone.id, rep_a.id),
        (everyone.id, left.id),
        (everyone.id, quiet.id),
    }
    assert not Award.objects.filter(tier=personal_only).exists()
    assert not Award.objects.filter(user__in=[manager_a, gone_before]).exists()


def test_micro_goals_earn_points_and_a_kpi_filter_narrows_a_tier(admin_user, rep_a, deals):
    calls = KpiFactory(name="Calls")
    points = make_tier(admin_user, "Week done", D(100), applies_to=RewardTier.AppliesTo.MICRO_GOAL,
                       reward_kind=RewardTier.RewardKind.POINTS, points=10)  # fmt: skip
    calls_only = make_tier(admin_user, "Caller", D(100), applies_to=RewardTier.AppliesTo.MICRO_GOAL, kpi=calls)
    micro = MicroGoalFactory(assignee=rep_a, goal=GoalFactory(owner_user=rep_a, kpi=deals), target_value=D(3))
    log(rep_a, deals, 3, 3)
    recompute_and_grant(micro_goals=[micro])
    award = Award.objects.get(user=rep_a)
    assert (award.tier, award.micro_goal, award.points) == (points, micro, 10)
    assert not Award.objects.filter(tier=calls_only).exists()


def test_a_deactivated_tier_grants_nothing_new(admin_user, rep_a, deals, tiers):
    services.tier_deactivate(tier=tiers["commit"], deactivated_by=admin_user)
    goal = GoalFactory(owner_user=rep_a, kpi=deals, target_value=D(10))
    log(rep_a, deals, 3, 9)
    recompute_and_grant(goal)
    assert awards(rep_a) == {}


def test_the_recompute_task_and_closing_grant_through_the_after_recompute_hook(rep_a, deals, tiers, settings):
    goal = GoalFactory(owner_user=rep_a, kpi=deals, target_value=D(10), due_date=march(13))
    log(rep_a, deals, 3, 8)
    with time_machine.travel(datetime.datetime(2026, 3, 12, 12, tzinfo=datetime.UTC)):
        goal_tasks.recompute_goals([goal.id])
    assert set(awards(rep_a)) == {"Commit"}
    log(rep_a, deals, 13, 2)
    with time_machine.travel(datetime.datetime(2026, 3, 14, 1, tzinfo=datetime.UTC)):
        assert goal_tasks.close_due_goals() == 1  # recomputed at closing, then granted
    assert set(awards(rep_a)) == {"Commit", "Target"}
    settings.PACER_AFTER_RECOMPUTE = []
    other = GoalFactory(owner_user=UserFactory(), kpi=deals, target_value=D(1))
    log(other.owner_user, deals, 3, 1)
    with time_machine.travel(datetime.datetime(2026, 3, 12, 12, tzinfo=datetime.UTC)):
        goal_tasks.recompute_goals([other.id])
    assert not Award.objects.filter(user=other.owner_user).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_grant_runs_grant_and_notify_once(deals):
    admin = UserFactory(is_staff=True)
    make_tier(admin, "Commit", D(80))
    make_tier(admin, "Target", D(100))
    team = MembershipFactory(role=Membership.Role.MANAGER).team
    reps = [MembershipFactory(team=team).user for _ in range(5)]
    goals = [GoalFactory(owner_user=rep, kpi=deals, target_value=D(10)) for rep in reps]
    for rep in reps:
        log(rep, deals, 3, 10)
    from goals import services as goal_services

    goal_services.progress_recompute(goal_ids=[g.id for g in goals], micro_goal_ids=[], today=TODAY)
    for _ in range(3):
        _results, errors = run_in_threads(lambda: services.awards_grant(goal_ids=[g.id for g in goals]), count=2)
        assert errors == []
    assert Award.objects.count() == 10
    assert Notification.objects.filter(kind="award_granted").count() == 20  # 10 to the reps, 10 to the manager
    assert Notification.objects.filter(key__startswith="award:").values("key").distinct().count() == 20


def test_the_award_email_reads_right_for_the_rep_and_for_the_manager(
    rep_a, manager_a, deals, tiers, eager_celery, mailoutbox, django_capture_on_commit_callbacks
):
    goal = GoalFactory(owner_user=rep_a, kpi=deals, target_value=D(10))
    log(rep_a, deals, 3, 8)
    with django_capture_on_commit_callbacks(execute=True):
        recompute_and_grant(goal)
    subjects = {m.to[0]: m.subject for m in mailoutbox}
    assert subjects == {
        manager_a.email: f"Pacer rewards: {rep_a} earned Commit",
        rep_a.email: "Pacer rewards: Well done! You earned Commit",
    }
    assert all("/rewards/awards/" in m.body for m in mailoutbox)


def test_micro_goal_points_reach_the_rep_but_not_the_manager(admin_user, rep_a, manager_a, deals):
    make_tier(admin_user, "Week done", D(100), applies_to=RewardTier.AppliesTo.MICRO_GOAL,
              reward_kind=RewardTier.RewardKind.POINTS, points=10)  # fmt: skip
    micro = MicroGoalFactory(assignee=rep_a, goal=GoalFactory(owner_user=rep_a, kpi=deals), target_value=D(3))
    log(rep_a, deals, 3, 3)
    recompute_and_grant(micro_goals=[micro])
    assert Notification.objects.filter(user=rep_a).count() == 1
    assert not Notification.objects.filter(user=manager_a).exists()
