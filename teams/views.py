from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from . import selectors


@login_required
def home(request):
    """Everyone lands on the page their role works from."""
    return redirect("team_list")


@login_required
def team_list(request):
    teams = selectors.team_list_for_user(user=request.user)
    return render(request, "teams/team_list.html", {"teams": teams})


@login_required
def team_detail(request, team_id):
    team = selectors.team_get_for_user(user=request.user, id=team_id)
    members = selectors.team_members(team=team)
    calendar = selectors.calendar_for_team(team=team)
    return render(
        request,
        "teams/team_detail.html",
        {
            "team": team,
            "members": members,
            "holidays": sorted(calendar.holidays),
            "role": selectors.role_in_team(user=request.user, team=team),
        },
    )
