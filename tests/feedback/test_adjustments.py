"""Adjustment requests: the state machine, who decides, and what approval does to the goal and its micro goals."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from feedback import services
from feedback.models import AdjustmentRequest
from goals.models import GoalRevision, MicroGoal
from notifications.models import Notification
from teams.models import AuditEvent, Membership
from tests.concurrency import run_in_threads
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

Status = AdjustmentRequest.Status


def _ask(goal, who, **kwargs):
    kwargs.setdefault("proposed_target", Decimal(80))
    return services.adjustment_request_create(goal=goal, requested_by=who, reason="Two big deals slipped", **kwargs)


def _active_total(goal):
    return sum(m.target_value for m in goal.micro_goals.filter(kpi=goal.kpi, status=MicroGoal.Status.ACTIVE))


def _snapshot(request):
    request.refresh_from_db()
    goal = request.goal
    goal.refresh_from_db()
    return (
        request.status,
        request.decided_by_id,
        request.response,
        request.revision_id,
        goal.target_value,
        goal.due_date,
        goal.revisions.count(),
        sorted(goal.micro_goals.values_list("id", "target_value", "status")),
    )


def test_rep_asks_for_their_own_goal_and_the_original_is_kept(personas, rep_goal):
    request = _ask(rep_goal, personas.rep_a, proposed_due_date=datetime.date(2026, 4, 3))
    assert request.status == Status.PENDING
    assert (request.current_target, request.current_due_date) == (Decimal(100), datetime.date(2026, 3, 27))
    # The deciders hear of it in the app only (bundled into their weekly digest, not one email each).
    asked = Notification.objects.get(user=personas.manager_a, key=f"adjustment:{request.id}:asked")
    assert asked.email_status == Notification.EmailStatus.NONE


def test_approval_writes_a_linked_revision_replans_and_the_micro_goals_still_sum_exactly(personas, rep_goal):
    assert _active_total(rep_goal) == Decimal(100)
    request = _ask(rep_goal, personas.rep_a, proposed_target=Decimal(83))
    services.adjustment_request_approve(request=request, decided_by=personas.manager_a, response="Fair: Q2 moves.")
    request.refresh_from_db()
    rep_goal.refresh_from_db()
    assert request.status == Status.APPROVED and request.decided_by == personas.manager_a
    assert rep_goal.target_value == Decimal(83)
    revision = request.revision
    assert revision.kind == GoalRevision.Kind.ADJUSTED and revision.changes["target_value"] == ["100", "83"]
    assert rep_goal.revisions.filter(kind=GoalRevision.Kind.REPLANNED).exists()
    # The original target is never lost: the "created" revision still says 100.
    assert rep_goal.revisions.get(kind=GoalRevision.Kind.CREATED).changes["target_value"] == ["", "100"]
    # Weeks already over keep their targets; what is left (83 − 25 achieved) is spread over the weeks ahead, so
    # the micro goals add up to the new target exactly.
    ahead = rep_goal.micro_goals.filter(status=MicroGoal.Status.ACTIVE, due_date__gte=datetime.date(2026, 3, 9))
    assert sum(m.target_value for m in ahead) == Decimal(58)
    assert _active_total(rep_goal) == Decimal(83)
    decided = Notification.objects.get(user=personas.rep_a, key=f"adjustment:{request.id}:decided")
    assert "Fair: Q2 moves." in decided.body
    audit = AuditEvent.objects.get(kind=AuditEvent.Kind.GOAL_REVISION, data__request=request.id)
    assert audit.actor == personas.manager_a and audit.data["revision"] == revision.id


def test_approval_of_a_later_due_date_plans_the_new_weeks(personas, rep_goal):
    request = _ask(rep_goal, personas.rep_a, proposed_target=None, proposed_due_date=datetime.date(2026, 4, 10))
    services.adjustment_request_approve(request=request, decided_by=personas.manager_a)
    rep_goal.refresh_from_db()
    assert rep_goal.due_date == datetime.date(2026, 4, 10)
    active = rep_goal.micro_goals.filter(status=MicroGoal.Status.ACTIVE)
    assert max(m.due_date for m in active) == datetime.date(2026, 4, 10)
    assert _active_total(rep_goal) == Decimal(100)


def test_rejection_needs_an_answer_and_changes_nothing_on_the_goal(personas, rep_goal):
    request = _ask(rep_goal, personas.rep_a)
    with pytest.raises(ValidationError) as refused:
        services.adjustment_request_reject(request=request, decided_by=personas.manager_a, response=" ")
    assert "response" in refused.value.message_dict
    services.adjustment_request_reject(request=request, decided_by=personas.manager_a, response="Keep pushing")
    request.refresh_from_db()
    rep_goal.refresh_from_db()
    assert request.status == Status.REJECTED and rep_goal.target_value == Decimal(100)
    assert request.revision is None


@pytest.mark.parametrize("first", ["approve", "reject", "withdraw"])
@pytest.mark.parametrize("then", ["approve", "reject", "withdraw"])
def test_a_decided_request_is_final_every_illegal_transition_is_refused_and_nothing_changes(
    personas, rep_goal, first, then
):
    request = _ask(rep_goal, personas.rep_a)
    act = {
        "approve": lambda: services.adjustment_request_approve(request=request, decided_by=personas.manager_a),
        "reject": lambda: services.adjustment_request_reject(
            request=request, decided_by=personas.manager_a, response="No"
        ),
        "withdraw": lambda: services.adjustment_request_withdraw(request=request, withdrawn_by=personas.rep_a),
    }
    act[first]()
    before = _snapshot(request)
    with pytest.raises(ValidationError) as refused:
        act[then]()
    assert "a decided request is final" in str(refused.value)
    assert _snapshot(request) == before


def test_at_most_one_pending_request_per_goal(personas, rep_goal):
    _ask(rep_goal, personas.rep_a)
    with pytest.raises(ValidationError, match="already waiting for a decision"):
        _ask(rep_goal, personas.rep_a, proposed_target=Decimal(70))
    assert AdjustmentRequest.objects.filter(goal=rep_goal).count() == 1


def test_the_database_refuses_a_second_pending_request(personas, rep_goal):
    from django.db import IntegrityError, transaction

    first = _ask(rep_goal, personas.rep_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        AdjustmentRequest.objects.create(
            goal=rep_goal,
            requested_by=personas.rep_a,
            proposed_target=Decimal(60),
            current_target=first.current_target,
            current_due_date=first.current_due_date,
            reason="again",
        )


@pytest.mark.parametrize(
    ("field", "kwargs", "message"),
    [
        ("proposed_target", {"proposed_target": Decimal(100)}, "already the target"),
        ("proposed_target", {"proposed_target": None}, "Propose a new target, a new due date, or both"),
        ("proposed_target", {"proposed_target": Decimal("80.5")}, "takes whole numbers only; 80.5 has more"),
        ("proposed_target", {"proposed_target": "lots"}, "as a number"),
        ("proposed_due_date", {"proposed_due_date": datetime.date(2026, 3, 1)}, "from today on"),
    ],
)
def test_a_bad_proposal_is_refused_with_a_message_on_its_field(personas, rep_goal, field, kwargs, message):
    with pytest.raises(ValidationError) as refused:
        _ask(rep_goal, personas.rep_a, **kwargs)
    assert message in " ".join(refused.value.message_dict[field])
    assert not AdjustmentRequest.objects.exists()


def test_no_self_approval_and_a_rep_cannot_decide(personas, rep_goal, team_goal):
    request = _ask(rep_goal, personas.rep_a)
    for who in (personas.rep_a, personas.rep_b, personas.manager_b):
        with pytest.raises(PermissionDenied):
            services.adjustment_request_approve(request=request, decided_by=who)
    # A manager asking for their team's goal cannot approve it, nor can a peer manager of the same team.
    peer = MembershipFactory(team=personas.team_a, role=Membership.Role.MANAGER).user
    team_request = _ask(team_goal, personas.manager_a, proposed_target=Decimal(350))
    for who in (personas.manager_a, peer, personas.rep_a):
        with pytest.raises(PermissionDenied):
            services.adjustment_request_approve(request=team_request, decided_by=who)
    assert _snapshot(team_request)[0] == Status.PENDING


def test_a_managers_request_for_their_team_goes_to_their_own_manager(personas, team_goal):
    region = TeamFactory(name="Region")
    personas.team_a.parent = region
    personas.team_a.save()
    director = MembershipFactory(user=UserFactory(username="dora_director"), team=region, role="manager").user
    request = _ask(team_goal, personas.manager_a, proposed_target=Decimal(350))
    services.adjustment_request_approve(request=request, decided_by=director, response="OK")
    team_goal.refresh_from_db()
    assert team_goal.target_value == Decimal(350)


def test_only_the_requester_withdraws(personas, rep_goal):
    request = _ask(rep_goal, personas.rep_a)
    with pytest.raises(PermissionDenied):
        services.adjustment_request_withdraw(request=request, withdrawn_by=personas.manager_a)
    services.adjustment_request_withdraw(request=request, withdrawn_by=personas.rep_a)
    request.refresh_from_db()
    assert request.status == Status.WITHDRAWN
    _ask(rep_goal, personas.rep_a, proposed_target=Decimal(90))  # a new one may be asked now


def test_preview_shows_what_approval_would_do_and_writes_nothing(personas, rep_goal):
    request = _ask(rep_goal, personas.rep_a, proposed_target=Decimal(83))
    before = _snapshot(request)
    after, rows = services.adjustment_request_preview(request=request, decided_by=personas.manager_a)
    assert after.target_value == Decimal(83)
    done_before = sum(m.target_value for m in rep_goal.micro_goals.filter(due_date__lt=datetime.date(2026, 3, 9)))
    assert done_before + sum(row.target for row in rows) == Decimal(83)
    assert _snapshot(request) == before


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_approvals_make_one_decision(personas, rep_goal):
    request = _ask(rep_goal, personas.rep_a)
    director = personas.admin

    results, errors = run_in_threads(
        lambda: services.adjustment_request_approve(request=request, decided_by=director), count=2
    )
    assert len(results) == 1
    assert len(errors) == 1 and isinstance(errors[0], ValidationError)
    rep_goal.refresh_from_db()
    assert rep_goal.revisions.filter(kind=GoalRevision.Kind.ADJUSTED).count() == 1
    assert rep_goal.revisions.filter(kind=GoalRevision.Kind.REPLANNED).count() == 1
    assert Notification.objects.filter(key=f"adjustment:{request.id}:decided").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_on_one_goal_leave_one_pending(personas, rep_goal):
    results, errors = run_in_threads(lambda: _ask(rep_goal, personas.rep_a), count=2)
    assert len(results) == 1 and len(errors) == 1 and isinstance(errors[0], ValidationError)
    assert AdjustmentRequest.objects.filter(goal=rep_goal, status=Status.PENDING).count() == 1
