"""Action items (support steps on a goal) over HTTP: list, read, create, tick off (once: ticking off a completed
item is a 409)."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api.base import StrictSerializer
from teams.api import UserRefSerializer

from .. import selectors, services
from ..models import ActionItem
from .conflicts import conflict_response, conflicts_as_409
from .fields import Colleague, VisibleCheckIn, VisibleFeedback, VisibleGoal


class ActionItemSerializer(serializers.ModelSerializer):
    owner = UserRefSerializer(read_only=True)

    class Meta:
        model = ActionItem
        fields = [
            "id",
            "goal",
            "title",
            "link",
            "owner",
            "due_date",
            "checkin",
            "feedback",
            "created_by",
            "created_at",
            "done_at",
            "done_by",
        ]


class ActionItemInputSerializer(StrictSerializer):
    goal = VisibleGoal(help_text="An active goal: your own, or one you manage.")
    title = serializers.CharField(max_length=300, help_text="What is to be done.")
    owner = Colleague(required=False, help_text="Who does it: the goal's rep or one of their managers (default: you).")
    due_date = serializers.DateField()
    link = serializers.URLField(required=False, allow_blank=True, default="", max_length=500)
    checkin = VisibleCheckIn(required=False, allow_null=True, default=None, help_text="The check-in it comes from.")
    feedback = VisibleFeedback(required=False, allow_null=True, default=None, help_text="The coaching note it follows.")


class ActionItemFilter(django_filters.FilterSet):
    goal = django_filters.NumberFilter(field_name="goal_id")
    owner = django_filters.NumberFilter(field_name="owner_id")
    done = django_filters.BooleanFilter(field_name="done_at", lookup_expr="isnull", exclude=True)
    due_from = django_filters.DateFilter(field_name="due_date", lookup_expr="gte")
    due_to = django_filters.DateFilter(field_name="due_date", lookup_expr="lte")

    class Meta:
        model = ActionItem
        fields: list[str] = []


class ActionItemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Support steps on the goals you may see. The goal's rep and their managers plan them; the owner, the rep or
    a manager ticks them off."""

    queryset = ActionItem.objects.none()  # for the schema; get_queryset() scopes every request
    lookup_value_regex = r"[0-9]+"
    serializer_class = ActionItemSerializer
    filterset_class = ActionItemFilter
    ordering_fields = ["due_date", "created_at", "id"]
    ordering = ["due_date", "id"]

    def get_queryset(self):
        return selectors.action_item_list_for_user(user=self.request.user)

    def get_object(self):
        return selectors.action_item_get_for_user(user=self.request.user, id=self.kwargs["pk"])

    @extend_schema(request=ActionItemInputSerializer, responses={201: ActionItemSerializer})
    def create(self, request):
        data = dict(ActionItemInputSerializer.validate_input(request.data, context={"request": request}))
        owner = data.pop("owner", None) or request.user
        item = services.action_item_create(created_by=request.user, owner=owner, **data)
        return Response(ActionItemSerializer(item).data, status=201)

    @extend_schema(
        request=None,
        responses={200: ActionItemSerializer, 409: conflict_response("The action item is already completed.")},
        summary="Tick it off",
    )
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def complete(self, request, pk=None):
        item = self.get_object()
        done = conflicts_as_409(lambda: services.action_item_complete(action_item=item, completed_by=request.user))
        return Response(ActionItemSerializer(done).data)
