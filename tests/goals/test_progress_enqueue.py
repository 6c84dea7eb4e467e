"""A changed entry marks exactly the goals it touches stale, in its own transaction, and asks for ONE
coalesced recompute after commit (never one task per entry); the request never fails when the broker is
down. The coalesced recompute is single-flight and leaves nothing stale behind. The tasks are thin."""

import datetime
import logging
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from goals import services, tasks
from goals.models import Goal, MicroGoal, RecomputeFlight, StaleTarget
from goals.services import recompute_queue
from teams import services as team_services
from tests.factories import GoalFactory, KpiFactory, MembershipFactory, MicroGoalFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

D = Decimal
DAY = datetime.date(2026, 3, 10)


@pytest.fixture
def sent(monkeypatch):
    """How often recompute_stale.delay was called, instead of publishing to the broker."""
    calls = []
    monkeypatch.setattr(tasks.recompute_stale, "delay", lambda *args: calls.append(args))
    return calls


@pytest.fixture
def deals():
    return KpiFactory(name="Deals")


def record(user, kpi, day=DAY, **kwargs):
    return services.progress_record(user=user, kpi=kpi, date=day, value="1", created_by=user, **kwargs)


def stale():
    """(goal ids, micro goal ids) marked stale, distinct and sorted."""
    rows = set(StaleTarget.objects.values_list("kind", "target_id"))
    return (
        sorted(i for kind, i in rows if kind == StaleTarget.Kind.GOAL),
        sorted(i for kind, i in rows if kind == StaleTarget.Kind.MICRO_GOAL),
    )


def test_recording_enqueues_exactly_the_touched_goals(
    team_a, team_b, rep_a, rep_b, deals, sent, django_capture_on_commit_callbacks
):
    org = TeamFactory()
    team_a.parent = org
    team_a.save()
    touched = [
        GoalFactory(owner_user=rep_a, kpi=deals),
        GoalFactory(owner_team=team_a, kpi=deals),
        GoalFactory(owner_team=org, kpi=deals),  # the rep's team's parent
    ]
    micro = MicroGoalFactory(goal=touched[0], assignee=rep_a, start_date=DAY, due_date=DAY)
    # Starting after the date, within the history their forecast reads (goals/pace.py): touched too, and so
    # are a teammate's (their prior may fall back on the team's rate).
    teammate = MembershipFactory(team=team_a).user
    later = datetime.date(2026, 3, 11)
    touched += [GoalFactory(owner_user=rep_a, kpi=deals, start_date=later)]
    touched += [GoalFactory(owner_user=teammate, kpi=deals, start_date=later)]
    micro_ids = [micro.id, MicroGoalFactory(goal=touched[0], assignee=rep_a, start_date=later).id]
    # Not touched: another team, another KPI, a window long after the date, a window before it, a closed goal,
    # a sub-team of the rep's team, another team's rep's micro goal, a teammate's goal running since before.
    GoalFactory(owner_team=team_b, kpi=deals)
    GoalFactory(owner_user=rep_a, kpi=KpiFactory())
    far = {"start_date": datetime.date(2026, 6, 1), "due_date": datetime.date(2026, 6, 30)}
    GoalFactory(owner_user=rep_a, kpi=deals, **far)
    GoalFactory(owner_user=rep_a, kpi=deals, start_date=datetime.date(2026, 2, 2), due_date=datetime.date(2026, 2, 27))
    GoalFactory(owner_user=rep_a, kpi=deals, status=Goal.Status.CANCELLED)
    GoalFactory(owner_team=TeamFactory(parent=team_a), kpi=deals)
    GoalFactory(owner_user=teammate, kpi=deals)
    MicroGoalFactory(goal=touched[0], assignee=rep_b)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        record(rep_a, deals)
    assert len(callbacks) == 1 and sent == [()]  # one coalesced recompute asked for, no ids in the message
    assert stale() == (sorted(g.id for g in touched), sorted(micro_ids))


def test_entry_of_a_former_rep_enqueues_the_team_of_the_entry_date(
    team_a, team_b, deals, sent, django_capture_on_commit_callbacks
):
    mover = MembershipFactory(team=team_a, active_from=datetime.date(2026, 1, 1))
    team_services.member_remove(
        removed_by=UserFactory(is_staff=True), membership=mover, active_to=datetime.date(2026, 3, 15)
    )
    MembershipFactory(user=mover.user, team=team_b, active_from=datetime.date(2026, 3, 16))
    goal_a = GoalFactory(owner_team=team_a, kpi=deals)
    GoalFactory(owner_team=team_b, kpi=deals)
    with django_capture_on_commit_callbacks(execute=True):
        record(mover.user, deals, DAY)
    assert stale() == ([goal_a.id], [])


def test_moving_an_entry_enqueues_the_goals_of_the_old_and_the_new_date(
    rep_a, deals, sent, django_capture_on_commit_callbacks
):
    march = GoalFactory(owner_user=rep_a, kpi=deals)
    april = GoalFactory(
        owner_user=rep_a, kpi=deals, start_date=datetime.date(2026, 4, 1), due_date=datetime.date(2026, 4, 30)
    )
    entry = record(rep_a, deals)
    StaleTarget.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        services.progress_update(entry=entry, value="2", note="", date=datetime.date(2026, 4, 2), updated_by=rep_a)
    assert stale() == (sorted([march.id, april.id]), [])


def test_voiding_enqueues_the_goals_the_entry_counted_for(rep_a, deals, sent, django_capture_on_commit_callbacks):
    goal = GoalFactory(owner_user=rep_a, kpi=deals)
    entry = record(rep_a, deals)
    StaleTarget.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        services.progress_void(entry=entry, reason="Duplicate", voided_by=rep_a)
    assert stale() == ([goal.id], [])


def test_an_entry_that_touches_no_goal_enqueues_nothing(rep_a, deals, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        record(rep_a, deals)
    assert callbacks == [] and sent == [] and stale() == ([], [])


def test_a_rolled_back_transaction_enqueues_nothing(rep_a, deals, sent, django_capture_on_commit_callbacks):
    GoalFactory(owner_user=rep_a, kpi=deals)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        record(rep_a, deals)
        transaction.set_rollback(True)  # e.g. the view failed after recording
    assert callbacks == [] and sent == [] and stale() == ([], [])


def test_a_refused_entry_enqueues_nothing(rep_a, deals, sent, django_capture_on_commit_callbacks):
    GoalFactory(owner_user=rep_a, kpi=deals)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Exception, match="negative"):
        services.progress_record(user=rep_a, kpi=deals, date=DAY, value="-1", created_by=rep_a)
    assert callbacks == [] and sent == [] and stale() == ([], [])


def test_a_burst_of_entries_asks_for_one_recompute_until_it_runs(
    rep_a, deals, sent, django_capture_on_commit_callbacks
):
    goal = GoalFactory(owner_user=rep_a, kpi=deals)
    for _ in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            record(rep_a, deals)
    assert sent == [()]  # the first asked; the other four found it already queued
    assert services.progress_recompute_stale() == (1, 0)  # the task: one pass over the one stale goal
    goal.refresh_from_db()
    assert goal.current_value == D(5) and stale() == ([], [])
    with django_capture_on_commit_callbacks(execute=True):
        record(rep_a, deals)
    assert sent == [(), ()]  # the task started, so the next entry asks again


def test_a_lost_recompute_request_is_sent_again_after_the_lease(rep_a, deals, sent, django_capture_on_commit_callbacks):
    GoalFactory(owner_user=rep_a, kpi=deals)
    with django_capture_on_commit_callbacks(execute=True):
        record(rep_a, deals)
    RecomputeFlight.objects.update(pending_since=timezone.now() - datetime.timedelta(minutes=10))  # never ran
    with django_capture_on_commit_callbacks(execute=True):
        record(rep_a, deals)
    assert sent == [(), ()]


@pytest.mark.parametrize("error", [OperationalError("broker down"), ConnectionRefusedError(), TimeoutError()])
def test_broker_down_still_records_and_logs_a_warning(
    rep_a, deals, monkeypatch, caplog, django_capture_on_commit_callbacks, error
):
    goal = GoalFactory(owner_user=rep_a, kpi=deals)

    def unreachable(*args):
        raise error

    monkeypatch.setattr(tasks.recompute_stale, "delay", unreachable)
    with (
        caplog.at_level(logging.WARNING, logger="goals.services.enqueue"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        entry = record(rep_a, deals)
    assert entry.pk is not None and entry.value == D(1)
    assert "periodic recompute will catch up" in caplog.text
    assert stale() == ([goal.id], []) and RecomputeFlight.objects.get().pending_since is None  # the next one retries


def test_the_coalesced_recompute_takes_every_stale_goal_in_one_pass_and_clears_them(rep_a, rep_b, deals):
    mine, theirs = GoalFactory(owner_user=rep_a, kpi=deals), GoalFactory(owner_user=rep_b, kpi=deals)
    micro = MicroGoalFactory(goal=mine, assignee=rep_a, start_date=DAY, due_date=DAY)
    untouched = GoalFactory(owner_user=rep_a, kpi=KpiFactory())
    for user in (rep_a, rep_a, rep_b):
        record(user, deals)
    assert tasks.recompute_stale.apply().get() == {"goals": 2, "micro_goals": 1}
    assert [Goal.objects.get(id=g.id).current_value for g in (mine, theirs)] == [D(2), D(1)]
    assert MicroGoal.objects.get(id=micro.id).current_value == D(2)
    assert Goal.objects.get(id=untouched.id).computed_at is None
    assert stale() == ([], []) and tasks.recompute_stale.apply().get() == {"goals": 0, "micro_goals": 0}


def test_only_one_coalesced_recompute_runs_at_a_time(rep_a, deals):
    goal = GoalFactory(owner_user=rep_a, kpi=deals)
    record(rep_a, deals)
    held = timezone.now() + datetime.timedelta(minutes=1)
    RecomputeFlight.objects.update_or_create(id=1, defaults={"lease_until": held, "holder": "another worker"})
    assert services.progress_recompute_stale() == (0, 0)  # the holder will see the mark after its pass
    assert stale() == ([goal.id], [])
    RecomputeFlight.objects.update(lease_until=timezone.now() - datetime.timedelta(seconds=1))  # it crashed
    assert services.progress_recompute_stale() == (1, 0)
    assert RecomputeFlight.objects.get().lease_until is None and stale() == ([], [])


def test_a_goal_marked_stale_during_a_pass_is_recomputed_before_the_pass_ends(rep_a, rep_b, deals, monkeypatch):
    first, second = GoalFactory(owner_user=rep_a, kpi=deals), GoalFactory(owner_user=rep_b, kpi=deals)
    record(rep_a, deals)
    engine = services.progress_recompute
    calls = []

    def recompute_while_rep_b_logs(**kwargs):
        calls.append(kwargs["goal_ids"])
        if len(calls) == 1:  # rep b logs while the first round runs
            record(rep_b, deals)
        return engine(**kwargs)

    monkeypatch.setattr("goals.services.recompute_queue.progress_recompute", recompute_while_rep_b_logs)
    assert recompute_queue.progress_recompute_stale() == (2, 0)
    assert calls == [{first.id}, {second.id}] and stale() == ([], [])
    assert Goal.objects.get(id=second.id).current_value == D(1)


def test_recompute_goals_task_recomputes_the_given_goals(rep_a, deals):
    goal = GoalFactory(owner_user=rep_a, kpi=deals)
    untouched = GoalFactory(owner_user=rep_a, kpi=deals)
    record(rep_a, deals)
    assert tasks.recompute_goals.apply(args=([goal.id], [])).get() == {"goals": 1, "micro_goals": 0}
    goal.refresh_from_db()
    untouched.refresh_from_db()
    assert (goal.current_value, untouched.computed_at) == (D(1), None)


def test_recompute_all_task_checks_the_rollups_and_recomputes_every_active_goal(rep_a, deals):
    goal = GoalFactory(owner_user=rep_a, kpi=deals)
    MicroGoalFactory(goal=goal, assignee=rep_a)
    record(rep_a, deals)
    assert tasks.recompute_all.apply().get() == {"goals": 1, "micro_goals": 1, "rollups_repaired": 0}
    assert stale() == ([], [])  # a lost coalesced task leaves nothing marked after the safety net


def test_recompute_tasks_survive_a_lost_worker():
    for task in (tasks.recompute_goals, tasks.recompute_all, tasks.recompute_stale):
        assert task.acks_late and task.reject_on_worker_lost
