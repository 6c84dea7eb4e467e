"""REST resources of the teams app: me, teams (read; admin write) and their members (read).

Member writes are left to the browser for now: the membership services are being changed to take the acting user.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from api.base import AdminWritesOnly, StrictSerializer
from teams import selectors, services
from teams.models import Membership, Team, User


class UserRefSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "name"]


class MembershipSerializer(serializers.ModelSerializer):
    user = UserRefSerializer(read_only=True)
    team: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "team", "role", "capacity", "active_from", "active_to"]


class MeSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True)
    memberships = MembershipSerializer(many=True, read_only=True, source="current_memberships")

    class Meta:
        model = User
        fields = ["id", "username", "name", "email", "timezone", "is_staff", "memberships"]


class MeView(APIView):
    @extend_schema(responses=MeSerializer, summary="The signed-in user, with their current teams and roles")
    def get(self, request):
        user = request.user
        user.current_memberships = list(
            selectors.active_memberships().filter(user=user).select_related("user").order_by("team_id")
        )
        return Response(MeSerializer(user).data)


class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name", "slug", "parent", "working_weekdays"]


class TeamInputSerializer(StrictSerializer):
    name = serializers.CharField(max_length=120)
    slug = serializers.SlugField(max_length=120, required=False, allow_blank=True)
    parent = serializers.IntegerField(required=False, allow_null=True, min_value=1)  # type: ignore[assignment]
    working_weekdays = serializers.CharField(max_length=7, required=False, default="12345")


class TeamViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Teams you may see: those you manage (with sub-teams) and those you belong to; every team for an admin.
    Admins create and edit teams."""

    queryset = Team.objects.none()  # for the schema; get_queryset() scopes every request
    lookup_value_regex = r"[0-9]+"
    serializer_class = TeamSerializer
    permission_classes = [AdminWritesOnly]
    filterset_fields = ["parent"]
    ordering_fields = ["name", "id"]
    ordering = ["name"]

    def get_queryset(self):
        return selectors.team_list_for_user(user=self.request.user).order_by("name")

    def get_object(self):
        return selectors.team_get_for_user(user=self.request.user, id=self.kwargs["pk"])

    def _parent(self, data):
        parent_id = data.get("parent")
        return None if parent_id is None else selectors.team_get_for_user(user=self.request.user, id=parent_id)

    @extend_schema(request=TeamInputSerializer, responses={201: TeamSerializer})
    def create(self, request):
        data = TeamInputSerializer.validate_input(request.data)
        team = services.team_create(
            name=data["name"],
            slug=data.get("slug", ""),
            parent=self._parent(data),
            working_weekdays=data["working_weekdays"],
        )
        return Response(TeamSerializer(team).data, status=201)

    @extend_schema(request=TeamInputSerializer, responses=TeamSerializer)
    def update(self, request, pk=None):
        team = self.get_object()
        data = TeamInputSerializer.validate_input(request.data, partial=False)
        # A key left out keeps its value: a rename must not move the team to the top or reset its calendar.
        team = services.team_update(
            team=team,
            name=data["name"],
            parent=self._parent(data) if "parent" in request.data else team.parent,
            working_weekdays=data["working_weekdays"] if "working_weekdays" in request.data else team.working_weekdays,
        )
        return Response(TeamSerializer(team).data)

    @extend_schema(responses=MembershipSerializer(many=True), summary="Current members of the team and its sub-teams")
    @action(detail=True, pagination_class=None, filter_backends=[])
    def members(self, request, pk=None):
        team = self.get_object()
        return Response(MembershipSerializer(selectors.team_members(team=team), many=True).data)


def register(router):
    router.register("teams", TeamViewSet, basename="team")


urls = [("me/", MeView.as_view(), "me")]
