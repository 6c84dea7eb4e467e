"""The rewards pages. Thin: selectors read and scope, services decide, these translate.

- Everyone logged in: My rewards (own awards, points, streak, next tiers, privacy), an award's page (own, or of a
  rep one manages: else 404; deciding on one's own award is a 403), the leaderboard of a team they may see (own rep team, managed teams).
- Managers: awards to review (flagged, pending bonuses) with approve / reject / keep / revoke and a reason.
- Admins: reward tiers (list, create, edit, activate / deactivate, delete while never awarded), payouts (CSV
  export, mark paid).
- Fragments loaded by htmx from other apps' pages (goals never imports rewards): the streak badge on Today and the
  leaderboard card on the manager dashboard.
"""

import csv
import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from goals.models import Goal
from goals.selectors import goal_list_for_user
from teams.selectors import rep_membership, team_ids_with_descendants
from teams.web import add_service_errors, admin_required, manager_required

from . import selectors, services
from .forms import BoardForm, DecisionForm, PreferenceForm, TierForm
from .models import Award

DECISIONS = {
    "approve": services.award_approve,
    "reject": services.award_reject,
    "keep": services.award_keep,
    "revoke": services.award_revoke,
}
# Which decisions each status offers (the services refuse the others anyway).
ACTIONS_FOR = {
    Award.Status.PENDING: ["approve", "reject"],
    Award.Status.FLAGGED: ["keep", "revoke"],
    Award.Status.GRANTED: ["revoke"],
    Award.Status.APPROVED: ["revoke"],
}


# --- the rep ---------------------------------------------------------------------------------------------------------


@login_required
def my_rewards(request):
    user = request.user
    streak = selectors.current_streak_for_user(user=user)
    context = {
        "awards": list(selectors.award_list_for_user(user=user)),
        "summary": selectors.reward_summary_for_user(user=user),
        "currency": settings.PACER["CURRENCY"],
        "streak": streak,
        "within_reach": selectors.next_tiers_for_user(user=user, streak=streak),
        "preference_form": PreferenceForm(
            initial={"hide_name_from_peers": selectors.reward_preference_for_user(user=user)}
        ),
    }
    return render(request, "rewards/my_rewards.html", context)


@require_POST
@login_required
def preference_update(request):
    form = PreferenceForm(request.POST)
    form.is_valid()  # a checkbox: always valid
    hide = form.cleaned_data.get("hide_name_from_peers", False)
    services.reward_preference_set(user=request.user, hide_name_from_peers=hide)
    messages.success(
        request, "Your peers now see you as “a teammate”." if hide else "Your peers now see your name on leaderboards."
    )
    return redirect("rewards:my_rewards")


@require_GET
@login_required
def streak_badge(request):
    """The streak on Today (an htmx fragment)."""
    streak = selectors.current_streak_for_user(user=request.user)
    return render(request, "rewards/_streak_badge.html", {"streak": streak})


@login_required
def award_detail(request, award_id):
    """An award, and (for the rep's managers) the decision form. POST decides; htmx gets the review row back."""
    award = selectors.award_get_for_user(user=request.user, id=award_id)
    can_decide = selectors.award_can_decide(user=request.user, award=award)
    form = DecisionForm(request.POST or None)
    if request.method == "POST":
        if not can_decide:  # the rep, on their own award: they may see it, not decide it (a 403, as in the API)
            raise PermissionDenied("You cannot decide on your own award: one of your managers does.")
        if form.is_valid():
            try:
                award = DECISIONS[form.cleaned_data["action"]](
                    award=award, decided_by=request.user, reason=form.cleaned_data["reason"]
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                message = f"{award.tier.name} of {award.user}: {award.get_status_display().lower()}."
                if request.htmx:
                    return render(request, "rewards/review.html#decided", {"award": award, "message": message})
                messages.success(request, message)
                if request.POST.get("next") == "review":
                    return redirect("rewards:review")
                return redirect("rewards:award_detail", award.id)
        if request.htmx:
            return render(request, "rewards/review.html#row", _row(award, form))  # 200: htmx swaps only 2xx
    context = {"award": award, "can_decide": can_decide, **_row(award, form)}
    return render(request, "rewards/award_detail.html", context)


def _row(award, form=None):
    return {"award": award, "form": form or DecisionForm(), "actions": ACTIONS_FOR.get(award.status, [])}


# --- the manager -----------------------------------------------------------------------------------------------------


@manager_required
def review(request):
    rows = [_row(award) for award in selectors.awards_to_review_for_user(user=request.user)]
    return render(request, "rewards/review.html", {"rows": rows})


def _board_context(request, *, compact=False):
    """The board the request asks for, among the teams the user may see; None when they see no team."""
    teams = selectors.leaderboard_teams_for_user(user=request.user)
    if not teams:
        return None
    today = request.user.local_today()
    goals = _board_goals(request.user, teams)
    chosen = BoardForm(request.GET or None, teams=teams, goals=goals).chosen()
    membership = rep_membership(user=request.user)
    team = chosen.get("team") or next((t for t in teams if membership and t.id == membership.team_id), teams[0])
    period = chosen.get("period", "month")
    team_ids = team_ids_with_descendants([team.id])
    goal = next((g for g in goals if period == f"goal-{g.id}"), None)
    kpi = goal.kpi if goal else chosen.get("kpi")
    if goal is not None:
        start, end = goal.start_date, goal.due_date
    else:
        start, end = selectors.period_bounds(period if period in selectors.PERIODS else "month", today)
    kpi = kpi or selectors.leaderboard_default_kpi(team_ids=team_ids)
    form = BoardForm(initial={"team": team.id, "period": period, "kpi": kpi and kpi.id}, teams=teams, goals=goals)
    context = {"form": form, "team": team, "kpi": kpi, "start": start, "end": end, "compact": compact}
    if kpi is not None:
        args = {"team": team, "start": start, "end": end, "viewer": request.user, "kpi": kpi, "team_ids": team_ids}
        context["board"] = selectors.leaderboard_for_team(**args)
        if compact:
            context["top"] = selectors.leaderboard_top(context["board"])
            # The full page opens on the same board the card shows.
            context["full_query"] = urlencode({"team": team.id, "period": period, "kpi": kpi.id})
        else:
            context["improved"] = selectors.most_improved_for_team(**args)
    return context


def _board_goals(user, teams) -> list[Goal]:
    """The team goals (of the boards' teams) a board can be ranked on, latest first. Queries: 1 (+ scope)."""
    recent = timezone.localdate() - datetime.timedelta(days=120)
    team_ids = team_ids_with_descendants([t.id for t in teams])
    return list(
        goal_list_for_user(user=user)
        .filter(Q(owner_team_id__in=team_ids), due_date__gte=recent)
        .exclude(status__in=[Goal.Status.DRAFT, Goal.Status.CANCELLED])
        .order_by("-start_date", "title")[:20]
    )


@login_required
def leaderboard(request):
    context = _board_context(request)
    if context is None:
        return render(request, "rewards/leaderboard.html", {"no_team": True})
    template = "rewards/leaderboard.html#boards" if request.htmx else "rewards/leaderboard.html"
    return render(request, template, context)


@manager_required
def leaderboard_card(request):
    """The dashboard's leaderboard card (an htmx fragment): the manager's first team, this month (or the dashboard's
    filters): its top 10, the viewer's own row when they are further down, and a link to the whole board."""
    return render(request, "rewards/leaderboard.html#card", _board_context(request, compact=True) or {})


# --- the admin -------------------------------------------------------------------------------------------------------


@admin_required
def tier_list(request):
    return render(request, "rewards/tier_list.html", {"tiers": selectors.tier_list()})


@admin_required
def tier_create(request):
    return _tier_form(request, None)


@admin_required
def tier_edit(request, tier_id):
    return _tier_form(request, selectors.tier_get(id=tier_id))


def _tier_form(request, tier):
    form = TierForm(request.POST or None, instance=tier)
    if request.method == "POST" and form.is_valid():
        try:
            if tier is None:
                tier = services.tier_create(created_by=request.user, **form.service_fields())
                messages.success(request, f"Tier “{tier.name}” created.")
            else:
                tier = services.tier_update(tier=tier, updated_by=request.user, **form.service_fields())
                messages.success(request, f"Tier “{tier.name}” saved. Awards already granted keep their figures.")
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("rewards:tier_list")
    awarded = tier.awards.count() if tier else 0
    return render(request, "rewards/tier_form.html", {"form": form, "tier": tier, "awarded": awarded})


@require_POST
@admin_required
def tier_toggle(request, tier_id):
    tier = selectors.tier_get(id=tier_id)
    tier = services.tier_set_active(tier=tier, active=not tier.is_active, changed_by=request.user)
    state = "active again" if tier.is_active else "deactivated: it grants nothing new, awards already granted stay"
    messages.success(request, f"Tier “{tier.name}” {state}.")
    return redirect("rewards:tier_list")


@require_POST
@admin_required
def tier_delete(request, tier_id):
    tier = selectors.tier_get(id=tier_id)
    try:
        services.tier_delete(tier=tier, deleted_by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Tier “{tier.name}” deleted.")
    return redirect("rewards:tier_list")


@admin_required
def payouts(request):
    awards = list(selectors.payable_awards())
    if request.method == "POST":
        ids = [int(i) for i in request.POST.getlist("award") if i.isdigit()]
        if not ids:
            messages.error(request, "Tick the bonuses that were paid.")
        else:
            try:
                count = services.award_mark_paid(
                    award_ids=ids, decided_by=request.user, reason=request.POST.get("reference", "")
                )
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, f"{count} bonus{'es' if count != 1 else ''} marked paid.")
                return redirect("rewards:payouts")
    return render(
        request,
        "rewards/payouts.html",
        {"awards": awards, "total": sum(a.amount for a in awards), "currency": settings.PACER["CURRENCY"]},
    )


def _cell(value):
    """A CSV cell a spreadsheet will not run as a formula (names are typed by people)."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


class _Echo:
    def write(self, value):
        return value


PAYOUT_HEADER = ["rep", "email", "tier", "goal", "attainment_percent", "amount", "currency", "granted_on",
                 "approved_on", "approved_by", "award_id"]  # fmt: skip


@admin_required
def payouts_csv(request):
    """The bonuses ready to pay as CSV, streamed row by row (one query, iterated in chunks)."""
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow(PAYOUT_HEADER)
        for award in selectors.payable_awards().iterator(chunk_size=500):
            yield writer.writerow(
                _cell(value)
                for value in [
                    award.user.get_full_name() or award.user.username,
                    award.user.email,
                    award.tier.name,
                    award.subject_label,
                    award.attainment if award.attainment is not None else "",
                    f"{award.amount:.2f}",
                    award.currency,
                    timezone.localtime(award.granted_at).date().isoformat(),
                    timezone.localtime(award.decided_at).date().isoformat() if award.decided_at else "",
                    str(award.decided_by) if award.decided_by else "",
                    award.id,
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="pacer-payouts-{timezone.localdate():%Y-%m-%d}.csv"'
    return response
