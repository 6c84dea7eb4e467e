"""Weekly check-ins over HTTP: list, read, submit (one per goal per ISO week: a second submit that week replaces
it and keeps what it replaced) and the reply thread."""

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api.base import StrictSerializer
from teams.api import UserRefSerializer

from .. import selectors, services
from ..models import CheckIn, CheckInReply
from .fields import VisibleGoal


class CheckInReplySerializer(serializers.ModelSerializer):
    author = UserRefSerializer(read_only=True)

    class Meta:
        model = CheckInReply
        fields = ["id", "checkin", "author", "body", "created_at"]


class CheckInSerializer(serializers.ModelSerializer):
    rep = UserRefSerializer(read_only=True)
    goal_title = serializers.CharField(source="goal.title", read_only=True)
    snapshot = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        help_text="The goal's figures when checked in (current, target, expected, forecast, attainment, health).",
    )
    history = serializers.ListField(
        child=serializers.DictField(), help_text="What each re-submit that week replaced, oldest first."
    )

    class Meta:
        model = CheckIn
        fields = [
            "id",
            "goal",
            "goal_title",
            "rep",
            "week_start",
            "confidence",
            "blockers",
            "note",
            "snapshot",
            "submitted_at",
            "created_at",
            "history",
        ]


class CheckInInputSerializer(StrictSerializer):
    goal = VisibleGoal(help_text="One of your own active goals.")
    confidence = serializers.IntegerField(min_value=0, max_value=10, help_text="0 (not at all) to 10 (certain).")
    blockers = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ReplyInputSerializer(StrictSerializer):
    body = serializers.CharField(max_length=4000)


class CheckInFilter(django_filters.FilterSet):
    goal = django_filters.NumberFilter(field_name="goal_id")
    user = django_filters.NumberFilter(field_name="rep_id", label="Rep user id")
    week_from = django_filters.DateFilter(field_name="week_start", lookup_expr="gte", label="Weeks starting from")
    week_to = django_filters.DateFilter(field_name="week_start", lookup_expr="lte", label="Weeks starting until")

    class Meta:
        model = CheckIn
        fields: list[str] = []


class CheckInViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Check-ins on the goals you may see. A rep submits them on their own active goals; the rep and their managers
    reply in the thread."""

    queryset = CheckIn.objects.none()  # for the schema; get_queryset() scopes every request
    lookup_value_regex = r"[0-9]+"
    serializer_class = CheckInSerializer
    filterset_class = CheckInFilter
    ordering_fields = ["week_start", "submitted_at", "id"]
    ordering = ["-week_start", "-id"]

    def get_queryset(self):
        return selectors.checkin_list_for_user(user=self.request.user)

    def get_object(self):
        return selectors.checkin_get_for_user(user=self.request.user, id=self.kwargs["pk"])

    @extend_schema(
        request=CheckInInputSerializer,
        responses={
            201: CheckInSerializer,
            200: OpenApiResponse(CheckInSerializer, description="This week's check-in replaced (see its history)"),
        },
        summary="Check in on your goal this week (again: replaces it, keeping what it replaced)",
    )
    def create(self, request):
        data = CheckInInputSerializer.validate_input(request.data, context={"request": request})
        checkin = services.checkin_submit(rep=request.user, **data)
        checkin = selectors.checkin_get_for_user(user=request.user, id=checkin.id)
        return Response(CheckInSerializer(checkin).data, status=200 if checkin.history else 201)

    @extend_schema(methods=["get"], responses=CheckInReplySerializer(many=True), summary="The thread, oldest first")
    @extend_schema(
        methods=["post"], request=ReplyInputSerializer, responses={201: CheckInReplySerializer}, summary="Reply"
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def replies(self, request, pk=None):
        checkin = self.get_object()
        if request.method == "GET":
            replies = checkin.replies.select_related("author").order_by("created_at", "id")
            return Response(CheckInReplySerializer(replies, many=True).data)
        data = ReplyInputSerializer.validate_input(request.data)
        reply = services.checkin_reply(checkin=checkin, author=request.user, body=data["body"])
        return Response(CheckInReplySerializer(reply).data, status=201)
