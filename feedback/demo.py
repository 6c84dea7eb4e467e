"""Demo coaching for the demo org (called by `manage.py seed_demo` after goals.demo): weekly check-ins with a
confidence trend over several weeks, coaching and praise (on the kudos feed), action items (one overdue), and one
pending, one approved and one rejected adjustment request in the first team.

Idempotent: check-ins are unique per goal and week (past weeks are written as history, this week through
checkin_submit so the low-confidence alert reaches the manager); feedback and action items are found by their text;
requests are only made on goals that have none.
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from goals import pace
from goals.models import Goal, ProgressEntry
from teams.models import Membership

from . import services
from .models import ActionItem, AdjustmentRequest, CheckIn, Feedback
from .selectors import week_start_of

WEEKS = 6
# Confidence per week, oldest first: steady, falling (the alert), recovering.
TRENDS = [[8, 8, 7, 7, 6, 6], [7, 7, 6, 5, 4, 3], [4, 5, 5, 6, 7, 8]]
BLOCKERS = {3: "Two deals pushed to next quarter; pricing objections on the rest.", 4: "Few demos booked this week."}
COACHING = [
    "Lead with the customer's numbers in the first five minutes; you had them nodding on Tuesday.",
    "Your discovery calls run long: try the three-question opener we practised.",
]
PRAISE = [
    "Thanks for sharing your pricing deck, it won me the Globex meeting!",
    "Great save on the Initech renewal. Calm under pressure.",
]


def seed_feedback(*, org, progress=lambda it, **kw: it) -> None:
    today = timezone.localdate()
    for index, (team, manager) in enumerate(
        progress(list(zip(org.teams, org.managers, strict=True)), desc="coaching", leave=False)
    ):
        reps = [
            m.user
            for m in team.memberships.filter(role=Membership.Role.REP, active_to__isnull=True)
            .select_related("user")
            .order_by("user__username")
        ]
        goals = {rep.id: _open_goal(rep) for rep in reps}
        with transaction.atomic():
            open_goals = [(rep, goal) for rep in reps if (goal := goals[rep.id]) is not None]
            for (rep, goal), trend in zip(open_goals, TRENDS, strict=False):
                _checkins(goal, rep, trend, today=today)
            _feedback(manager, reps, goals)
            _action_items(manager, reps, goals, today=today)
        if index == 0:
            _requests(manager, reps, goals, today=today)


def _open_goal(rep) -> Goal | None:
    """The rep's first active goal still short of its target (something to be confident about)."""
    return (
        Goal.objects.filter(owner_user=rep, status=Goal.Status.ACTIVE, current_value__lt=F("target_value"))
        .select_related("kpi")
        .order_by("kpi__name")
        .first()
    )


def _attainment_by_week(goal: Goal, rep, weeks: list[datetime.date]) -> dict[datetime.date, str]:
    """The goal's attainment at the end of each week, from the rep's entries (one query)."""
    daily = dict(
        ProgressEntry.objects.filter(user=rep, kpi=goal.kpi, voided_at__isnull=True, date__gte=goal.start_date)
        .values_list("date")
        .annotate(total=Sum("value"))
        .values_list("date", "total")
    )
    result = {}
    for week in weeks:
        end = week + datetime.timedelta(days=6)
        done = sum((Decimal(str(v)) for d, v in daily.items() if d <= end), Decimal(0))
        percent = pace.attainment_percent(current=done, baseline=goal.baseline_value, target=goal.target_value)
        result[week] = str(percent.quantize(Decimal("0.1"), ROUND_HALF_UP))
    return result


def _checkins(goal: Goal, rep, trend: list[int], *, today: datetime.date) -> None:
    this_week = week_start_of(today)
    weeks = [this_week - datetime.timedelta(weeks=WEEKS - 1 - i) for i in range(WEEKS)]
    weeks = [w for w in weeks if w + datetime.timedelta(days=6) >= goal.start_date]
    trend = trend[-len(weeks) :]
    attainment = _attainment_by_week(goal, rep, weeks)
    existing = set(CheckIn.objects.filter(goal=goal).values_list("week_start", flat=True))
    for week, confidence in zip(weeks, trend, strict=True):
        if week in existing:
            continue
        blockers = BLOCKERS.get(confidence, "")
        if week == this_week:
            services.checkin_submit(goal=goal, rep=rep, confidence=confidence, blockers=blockers, today=today)
        else:
            at = timezone.make_aware(datetime.datetime.combine(week + datetime.timedelta(days=3), datetime.time(16)))
            CheckIn.objects.create(
                goal=goal, rep=rep, week_start=week, confidence=confidence, blockers=blockers,
                snapshot={"attainment": attainment[week], "target": str(goal.target_value)},
                submitted_at=at, created_at=at,
            )  # fmt: skip


def _feedback(manager, reps, goals) -> None:
    given = 0

    def give(author, recipient, kind, body, goal=None):
        nonlocal given
        given += 1
        if not Feedback.objects.filter(author=author, recipient=recipient, body=body).exists():
            feedback = services.feedback_give(author=author, recipient=recipient, kind=kind, body=body, goal=goal)
            # Spread over the last weeks, so the feed reads like a history (the edit window is long over).
            Feedback.objects.filter(id=feedback.id).update(
                created_at=timezone.now() - datetime.timedelta(days=2 * given, hours=3 * given)
            )

    for rep, body in zip(reps[:2], COACHING, strict=False):
        give(manager, rep, Feedback.Kind.COACHING, body, goals.get(rep.id))
    for (author, recipient), body in zip(zip(reps[1:], reps, strict=False), PRAISE, strict=False):
        give(author, recipient, Feedback.Kind.PRAISE, body)
    if reps:
        give(reps[0], manager, Feedback.Kind.PRAISE, "The role-play session before the Acme call really helped.")
        give(manager, reps[0], Feedback.Kind.PRAISE, "Best week of the quarter on demos booked. Well done!")


def _action_items(manager, reps, goals, *, today: datetime.date) -> None:
    if not reps or goals.get(reps[0].id) is None:
        return
    rep, goal = reps[0], goals[reps[0].id]
    for title, owner, days in (
        ("Shadow Ben on two demos", rep, -3),
        ("Review the pricing objection playbook together", manager, 4),
        ("Book three discovery calls with dormant accounts", rep, 7),
    ):
        if not ActionItem.objects.filter(goal=goal, title=title).exists():
            # Created a week ago so the first one is overdue today.
            item = services.action_item_create(goal=goal, title=title, owner=owner, created_by=manager,
                                               due_date=today + datetime.timedelta(days=days),
                                               link="https://example.com/playbooks/pricing" if owner == manager else "")  # fmt: skip
            ActionItem.objects.filter(id=item.id).update(created_at=timezone.now() - datetime.timedelta(days=7))


def _requests(manager, reps, goals, *, today: datetime.date) -> None:
    """The next reps with an open goal: one approved (goal updated and re-planned), one rejected, one pending."""
    plans = [
        ("approved", Decimal("0.85"), "A key account froze its budget until January."),
        ("rejected", Decimal("0.75"), "The new territory is slower than expected."),
        ("pending", Decimal("0.90"), "Two weeks of sick leave in November."),
    ]
    candidates = [rep for rep in reps[1:] if goals.get(rep.id) is not None]
    for rep, (outcome, factor, reason) in zip(candidates, plans, strict=False):
        goal = goals[rep.id]
        if AdjustmentRequest.objects.filter(goal=goal).exists():
            continue
        # Less of what is still missing: the new target stays above what is done, so the re-plan has work to spread.
        missing = goal.target_value - goal.current_value
        target = (goal.current_value + missing * factor).quantize(goal.kpi.quantum, ROUND_HALF_UP)
        if not goal.current_value < target < goal.target_value:
            continue
        request = services.adjustment_request_create(
            goal=goal, requested_by=rep, proposed_target=target, reason=reason, today=today
        )
        if outcome == "approved":
            services.adjustment_request_approve(request=request, decided_by=manager, response="Agreed, let's re-plan.")
        elif outcome == "rejected":
            services.adjustment_request_reject(
                request=request, decided_by=manager, response="Let's keep the target and add coaching on demos first."
            )
