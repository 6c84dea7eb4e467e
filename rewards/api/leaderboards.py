"""The leaderboards over HTTP: a team's board (ranked by attainment of each rep's own target) or its most improved
board, for a team the user may see (their rep team, the teams they manage; any for an admin), a KPI and this week,
month or quarter. The same selectors and the same name rule as the page: a rep who hides their name is "a teammate"
to peers, with no id or username to give them away. One query per board, as on the page."""

from decimal import ROUND_HALF_UP

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from goals.models import Kpi
from rewards import selectors
from teams.api import UserRefSerializer
from teams.selectors import rep_membership, team_ids_with_descendants

BOARDS = {"ranking": "Ranked by attainment", "most_improved": "Most improved against the previous period"}


def _number(decimal_places: int, **kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=None, decimal_places=decimal_places, rounding=ROUND_HALF_UP, allow_null=True, **kwargs
    )


class RefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class BoardQuerySerializer(serializers.Serializer):
    team = serializers.IntegerField(required=False, min_value=1, help_text="Default: your rep team, else the first")
    kpi = serializers.IntegerField(required=False, min_value=1, help_text="Default: the KPI the team uses most")
    period = serializers.ChoiceField(choices=list(selectors.PERIODS.items()), required=False, default="month")
    board = serializers.ChoiceField(choices=list(BOARDS.items()), required=False, default="ranking")


class BoardRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField(allow_null=True, help_text="Empty for a rep without a target in the period")
    name = serializers.CharField(help_text='What you see: a name, "You", or "a teammate"')
    user = UserRefSerializer(allow_null=True, help_text="Empty when the rep's name is hidden from you")
    is_viewer = serializers.BooleanField()
    team = RefSerializer()
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
    team = RefSerializer(allow_null=True, help_text="Empty when you may see no team's board")
    kpi = RefSerializer(allow_null=True, help_text="Empty when there is no active KPI")
    period = serializers.ChoiceField(choices=list(selectors.PERIODS.items()))
    start = serializers.DateField(allow_null=True)
    end = serializers.DateField(allow_null=True)
    previous_start = serializers.DateField(allow_null=True)
    previous_end = serializers.DateField(allow_null=True)
    rows = BoardRowSerializer(many=True)


class LeaderboardView(APIView):
    @extend_schema(parameters=[BoardQuerySerializer], responses=BoardSerializer, summary="A team's leaderboard")
    def get(self, request):
        query = BoardQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        choice = query.validated_data
        empty = {"board": choice["board"], "period": choice["period"], "team": None, "kpi": None, "rows": [],
                 "start": None, "end": None, "previous_start": None, "previous_end": None}  # fmt: skip
        teams = selectors.leaderboard_teams_for_user(user=request.user)
        if "team" in choice:
            team = next((t for t in teams if t.id == choice["team"]), None)
            if team is None:
                raise serializers.ValidationError({"team": ["No board of this team for you (unknown team)."]})
        elif teams:
            membership = rep_membership(user=request.user)
            team = next((t for t in teams if membership and t.id == membership.team_id), teams[0])
        else:
            return Response(BoardSerializer(empty).data)
        team_ids = team_ids_with_descendants([team.id])
        if "kpi" in choice:
            kpi = Kpi.objects.filter(is_active=True, id=choice["kpi"]).first()
            if kpi is None:
                raise serializers.ValidationError({"kpi": ["Unknown or archived KPI."]})
        else:
            kpi = selectors.leaderboard_default_kpi(team_ids=team_ids)
        start, end = selectors.period_bounds(choice["period"], request.user.local_today())
        if kpi is None:
            return Response(BoardSerializer({**empty, "team": team, "start": start, "end": end}).data)
        make = (
            selectors.most_improved_for_team if choice["board"] == "most_improved" else selectors.leaderboard_for_team
        )
        board = make(team=team, start=start, end=end, viewer=request.user, kpi=kpi, team_ids=team_ids)
        previous = board.previous or (None, None)
        found = {"team": team, "kpi": kpi, "start": start, "end": end, "rows": board.rows}
        found |= {"previous_start": previous[0], "previous_end": previous[1]}
        return Response(BoardSerializer({**empty, **found}).data)
