"""The leaderboards over HTTP: a team's board (ranked by attainment of each rep's own target) or its most improved
board, for a team the user may see (their rep team, the teams they manage; any for an admin), a KPI and this week,
month or quarter, or a team goal's KPI and window. The same selectors and the same name rule as the page: a rep who hides their name is "a teammate"
to peers, with no id or username to give them away. One query per board, as on the page."""

from decimal import ROUND_HALF_UP

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from api.base import VisiblePrimaryKeyRelatedField
from goals.models import Kpi
from goals.selectors import goal_list_for_user
from rewards import selectors
from teams.api import UserRefSerializer
from teams.models import Team
from teams.selectors import rep_membership, team_ids_with_descendants

BOARDS = {"ranking": "Ranked by attainment", "most_improved": "Most improved against the previous period"}


def _number(decimal_places: int, **kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=None, decimal_places=decimal_places, rounding=ROUND_HALF_UP, allow_null=True, **kwargs
    )


class BoardRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


@extend_schema_field({"type": "integer", "minimum": 1})
class BoardReference(VisiblePrimaryKeyRelatedField):
    """A team or goal id among those the user may see (`visible`); any other is a 400 on the parameter saying
    `unknown`. Parsed as a positive integer first, so a malformed one is refused with the integer's own message."""

    def __init__(self, *, visible, unknown: str, **kwargs):
        messages = {"does_not_exist": unknown, "incorrect_type": unknown}
        pk_field = serializers.IntegerField(min_value=1)
        super().__init__(visible=visible, required=False, pk_field=pk_field, error_messages=messages, **kwargs)


class BoardQuerySerializer(serializers.Serializer):
    team = BoardReference(
        visible=lambda user: selectors.leaderboard_team_list_for_user(user=user),
        unknown="No board of this team for you (unknown team).",
        help_text="Default: your rep team, else the first",
    )
    kpi = serializers.IntegerField(required=False, min_value=1, help_text="Default: the KPI the team uses most")
    period = serializers.ChoiceField(choices=list(selectors.PERIODS.items()), required=False, default="month")
    board = serializers.ChoiceField(choices=list(BOARDS.items()), required=False, default="ranking")
    goal = BoardReference(
        visible=lambda user: goal_list_for_user(user=user).filter(owner_team__isnull=False).select_related("kpi"),
        unknown="Unknown team goal.",
        help_text="A team goal: its team's board on its KPI over its window (as period)",
    )


class BoardRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField(allow_null=True, help_text="Empty for a rep without a target in the period")
    name = serializers.CharField(help_text='What you see: a name, "You", or "a teammate"')
    user = UserRefSerializer(allow_null=True, help_text="Empty when the rep's name is hidden from you")
    is_viewer = serializers.BooleanField()
    team = BoardRefSerializer()
    target = _number(4)
    current = _number(4)
    attainment = _number(2, help_text="% of the rep's own target")
    on_pace = _number(2, help_text="% of what the pace expects by now")
    previous_on_pace = _number(2)
    improvement = _number(2, help_text="Points of on-pace attainment gained (most improved board)")
    points = serializers.IntegerField()
    badges = serializers.IntegerField()

    def to_representation(self, row):
        data = super().to_representation(row)
        if row.name == selectors.HIDDEN_NAME:
            data["user"] = None
        return data


class BoardSerializer(serializers.Serializer):
    board = serializers.ChoiceField(choices=list(BOARDS.items()))
    team = BoardRefSerializer(allow_null=True, help_text="Empty when you may see no team's board")
    kpi = BoardRefSerializer(allow_null=True, help_text="Empty when there is no active KPI")
    period = serializers.ChoiceField(choices=list(selectors.PERIODS.items()))
    start = serializers.DateField(allow_null=True)
    end = serializers.DateField(allow_null=True)
    previous_start = serializers.DateField(allow_null=True)
    previous_end = serializers.DateField(allow_null=True)
    rows = BoardRowSerializer(many=True)


class LeaderboardView(APIView):
    @extend_schema(parameters=[BoardQuerySerializer], responses=BoardSerializer, summary="A team's leaderboard")
    def get(self, request):
        query = BoardQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        choice, user = query.validated_data, request.user
        data = {"board": choice["board"], "period": choice["period"], "team": None, "kpi": None, "rows": [],
                "start": None, "end": None, "previous_start": None, "previous_end": None}  # fmt: skip
        goal = choice.get("goal")
        team = choice.get("team") or _team(user, goal.owner_team_id if goal else None)
        if team is None:  # the user may see no team's board
            return Response(BoardSerializer(data).data)
        team_ids = team_ids_with_descendants([team.id])
        kpi = goal.kpi if goal else _kpi(choice.get("kpi"), team_ids)
        if goal:
            start, end = goal.start_date, goal.due_date
        else:
            start, end = selectors.period_bounds(choice["period"], user.local_today())
        data |= {"team": team, "kpi": kpi, "start": start, "end": end}
        if kpi is not None:
            improved = choice["board"] == "most_improved"
            make = selectors.most_improved_for_team if improved else selectors.leaderboard_for_team
            board = make(team=team, start=start, end=end, viewer=user, kpi=kpi, team_ids=team_ids)
            previous = board.previous or (None, None)
            data |= {"rows": board.rows, "previous_start": previous[0], "previous_end": previous[1]}
        return Response(BoardSerializer(data).data)


def _team(user, team_id: int | None) -> Team | None:
    """The board's team among those the user may see (the goal's, else their rep team, else the first)."""
    teams = selectors.leaderboard_teams_for_user(user=user)
    if team_id is not None:
        team = next((t for t in teams if t.id == team_id), None)
        if team is None:
            raise serializers.ValidationError({"team": ["No board of this team for you (unknown team)."]})
        return team
    if not teams:
        return None
    membership = rep_membership(user=user)
    return next((t for t in teams if membership and t.id == membership.team_id), teams[0])


def _kpi(kpi_id: int | None, team_ids) -> Kpi | None:
    """The active KPI asked for, else the one the teams use most."""
    if kpi_id is None:
        return selectors.leaderboard_default_kpi(team_ids=team_ids)
    kpi = Kpi.objects.filter(is_active=True, id=kpi_id).first()
    if kpi is None:
        raise serializers.ValidationError({"kpi": ["Unknown or archived KPI."]})
    return kpi
