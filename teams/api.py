"""REST resources of the teams app: me, teams (read; admin write), their members and memberships.

Members are added with `POST /teams/{id}/members/`; one membership is read, changed (role, capacity) with
`PATCH /memberships/{id}/` and ended with `POST /memberships/{id}/end/` (never deleted: it decides whose entries
counted for the team on which day). Who may do what is the services' rule (SECURITY.md): an admin, or for reps of
the teams they manage a manager; the team's or membership's visibility decides 404 before that.
"""

from decimal import Decimal

from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, permissions, serializers, viewsets
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


@extend_schema_field(OpenApiTypes.INT)
class AddablePerson(serializers.PrimaryKeyRelatedField):
    """A person by id, among those the caller may name for the team (context "team"): anyone for an admin; for a
    manager the people they may add (in no team yet) and those they already see, whose refusal the service words.
    Anyone else is "does not exist": another team's person stays unknown."""

    def get_queryset(self):
        user, team = self.context["request"].user, self.context["team"]
        if user.is_staff:
            return User.objects.all()
        addable = selectors.users_addable_by(user=user, team=team).values("id")
        return User.objects.filter(Q(id__in=addable) | Q(id__in=selectors.user_ids_visible_to(user=user)))


def capacity_field(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=3,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=Decimal("1"),
        help_text="1.00 = full time; a team target is split across reps in proportion to it.",
        **kwargs,
    )


class MemberAddSerializer(StrictSerializer):
    user = AddablePerson()
    role = serializers.ChoiceField(choices=Membership.Role.choices, default=Membership.Role.REP)
    capacity = capacity_field(default=Decimal("1.00"))
    active_from = serializers.DateField(required=False, allow_null=True, default=None, help_text="Default: today.")
    transfer = serializers.BooleanField(
        default=False, help_text="Admins: a current rep of another team leaves it the day before."
    )


class MemberUpdateSerializer(StrictSerializer):
    role = serializers.ChoiceField(choices=Membership.Role.choices, required=False, help_text="Admins only.")
    capacity = capacity_field(required=False)


class MemberEndSerializer(StrictSerializer):
    active_to = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="The last day in the team (default: today)."
    )


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

    @extend_schema(
        methods=["get"],
        responses=MembershipSerializer(many=True),
        summary="Current members of the team and its sub-teams",
    )
    @extend_schema(
        methods=["post"],
        request=MemberAddSerializer,
        responses={201: MembershipSerializer},
        summary="Add a person to the team (admins; a manager: a person in no team yet, as a rep)",
    )
    # Not AdminWritesOnly: the membership services let a team's managers add reps, and they decide.
    @action(
        detail=True,
        methods=["get", "post"],
        pagination_class=None,
        filter_backends=[],
        permission_classes=[permissions.IsAuthenticated],
    )
    def members(self, request, pk=None):
        if request.method == "GET":
            team = self.get_object()
            return Response(MembershipSerializer(selectors.team_members(team=team), many=True).data)
        # As the browser: 404 for a team the caller cannot see, 403 for one they see but do not manage.
        team = selectors.team_get_managed_by(user=request.user, id=int(pk))
        data = MemberAddSerializer.validate_input(request.data, context={"request": request, "team": team})
        membership = services.member_add(added_by=request.user, team=team, **data)
        return Response(MembershipSerializer(membership).data, status=201)


class MembershipViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """One membership of a team you may see (current, upcoming or ended). Admins change and end any but their own;
    a manager those of reps of the teams they manage. Ended memberships are history: they are never deleted."""

    queryset = Membership.objects.none()  # for the schema; get_object() scopes every request
    lookup_value_regex = r"[0-9]+"
    serializer_class = MembershipSerializer

    def get_object(self):
        return selectors.membership_get_for_user(user=self.request.user, id=self.kwargs["pk"])

    @extend_schema(request=MemberUpdateSerializer, responses=MembershipSerializer, summary="Change role or capacity")
    def partial_update(self, request, pk=None):
        membership = self.get_object()
        data = MemberUpdateSerializer.validate_input(request.data, partial=True)
        membership = services.member_update(
            changed_by=request.user,
            membership=membership,
            role=data.get("role", membership.role),
            capacity=data.get("capacity", membership.capacity),
        )
        return Response(MembershipSerializer(membership).data)

    @extend_schema(request=MemberEndSerializer, responses=MembershipSerializer, summary="End the membership (kept)")
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def end(self, request, pk=None):
        membership = self.get_object()
        data = MemberEndSerializer.validate_input(request.data)
        membership = services.member_remove(removed_by=request.user, membership=membership, active_to=data["active_to"])
        return Response(MembershipSerializer(membership).data)


def register(router):
    router.register("teams", TeamViewSet, basename="team")
    router.register("memberships", MembershipViewSet, basename="membership")


urls = [("me/", MeView.as_view(), "me")]
