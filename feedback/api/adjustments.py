"""Adjustment requests over HTTP: list, read, ask (a new target and/or due date), and decide: approve, reject (a
response is required), withdraw (the requester). A preview shows what approval would do, writing nothing.

Status codes: an invisible request (or goal) is a 404; a visible one you may not decide is a 403; a request that is
no longer pending (decided or withdrawn), or a second request while one is pending, is a 409 (the service's
"conflict" code): the client should re-read the request rather than retry.
"""

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from drf_standardized_errors.openapi_serializers import ErrorResponse403Serializer, ValidationErrorResponseSerializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api.base import StrictSerializer
from goals.api.goals import PlanRowSerializer, decimal_field
from teams.api import UserRefSerializer

from .. import selectors, services
from ..models import AdjustmentRequest
from .conflicts import conflict_response, conflicts_as_409
from .fields import VisibleGoal

CONFLICT_RESPONSE = conflict_response(
    "The request is no longer pending (decided or withdrawn), or another request on the goal is."
)


class AdjustmentRequestSerializer(serializers.ModelSerializer):
    requested_by = UserRefSerializer(read_only=True)
    decided_by = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = AdjustmentRequest
        fields = [
            "id",
            "goal",
            "requested_by",
            "current_target",
            "proposed_target",
            "current_due_date",
            "proposed_due_date",
            "reason",
            "status",
            "created_at",
            "decided_by",
            "decided_at",
            "response",
            "revision",
        ]


class AdjustmentInputSerializer(StrictSerializer):
    goal = VisibleGoal(help_text="Your own goal (managers: a goal of a team they manage).")
    proposed_target = serializers.DecimalField(
        max_digits=18, decimal_places=4, required=False, allow_null=True, default=None, coerce_to_string=True
    )
    proposed_due_date = serializers.DateField(required=False, allow_null=True, default=None)
    reason = serializers.CharField(max_length=4000, help_text="Why: the decider reads it; it stays in the history.")


class DecisionSerializer(StrictSerializer):
    response = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=4000, help_text="Your answer to the requester."
    )


class RejectionSerializer(StrictSerializer):
    response = serializers.CharField(max_length=4000, help_text="Why it is declined (the requester reads it).")


class FiguresPreviewSerializer(serializers.Serializer):
    target = decimal_field()
    due_date = serializers.DateField()
    attainment = serializers.DecimalField(max_digits=None, decimal_places=2)
    expected = decimal_field()
    forecast = decimal_field()
    health = serializers.CharField(allow_blank=True)
    achievability = serializers.CharField(allow_blank=True)
    required_daily_rate = decimal_field(allow_null=True)


class PreviewSerializer(serializers.Serializer):
    before = FiguresPreviewSerializer()
    after = FiguresPreviewSerializer()
    micro_goals_after = PlanRowSerializer(many=True, help_text="The re-planned micro goals (none if none to re-plan).")


class AdjustmentRequestFilter(django_filters.FilterSet):
    goal = django_filters.NumberFilter(field_name="goal_id")
    status = django_filters.MultipleChoiceFilter(choices=AdjustmentRequest.Status.choices)
    requested_by = django_filters.NumberFilter(field_name="requested_by_id")

    class Meta:
        model = AdjustmentRequest
        fields: list[str] = []


class AdjustmentRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Adjustment requests on the goals you may see. The goal's rep (a manager, for a team goal) asks; an admin or a
    manager of the goal other than the requester decides (a manager's request for their team: a manager above)."""

    queryset = AdjustmentRequest.objects.none()  # for the schema; get_queryset() scopes every request
    lookup_value_regex = r"[0-9]+"
    serializer_class = AdjustmentRequestSerializer
    filterset_class = AdjustmentRequestFilter
    ordering_fields = ["created_at", "decided_at", "id"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return selectors.adjustment_request_list_for_user(user=self.request.user)

    def get_object(self):
        return selectors.adjustment_request_get_for_user(user=self.request.user, id=self.kwargs["pk"])

    def _answer(self, request, status=200):
        fresh = selectors.adjustment_request_get_for_user(user=self.request.user, id=request.id)
        return Response(AdjustmentRequestSerializer(fresh).data, status=status)

    @extend_schema(
        request=AdjustmentInputSerializer, responses={201: AdjustmentRequestSerializer, 409: CONFLICT_RESPONSE}
    )
    def create(self, request):
        data = AdjustmentInputSerializer.validate_input(request.data, context={"request": request})
        created = conflicts_as_409(lambda: services.adjustment_request_create(requested_by=request.user, **data))
        return self._answer(created, status=201)

    @extend_schema(
        request=DecisionSerializer,
        responses={200: AdjustmentRequestSerializer, 409: CONFLICT_RESPONSE},
        summary="Approve: the goal gets the new target and/or due date, its micro goals are re-planned",
    )
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def approve(self, request, pk=None):
        adjustment = self.get_object()
        data = DecisionSerializer.validate_input(request.data)
        decided = conflicts_as_409(
            lambda: services.adjustment_request_approve(
                request=adjustment, decided_by=request.user, response=data["response"]
            )
        )
        return self._answer(decided)

    @extend_schema(
        request=RejectionSerializer,
        responses={200: AdjustmentRequestSerializer, 409: CONFLICT_RESPONSE},
        summary="Reject, saying why",
    )
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def reject(self, request, pk=None):
        adjustment = self.get_object()
        data = RejectionSerializer.validate_input(request.data)
        decided = conflicts_as_409(
            lambda: services.adjustment_request_reject(
                request=adjustment, decided_by=request.user, response=data["response"]
            )
        )
        return self._answer(decided)

    @extend_schema(
        request=None,
        responses={200: AdjustmentRequestSerializer, 409: CONFLICT_RESPONSE},
        summary="Withdraw your own pending request",
    )
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def withdraw(self, request, pk=None):
        adjustment = self.get_object()
        withdrawn = conflicts_as_409(
            lambda: services.adjustment_request_withdraw(request=adjustment, withdrawn_by=request.user)
        )
        return self._answer(withdrawn)

    @extend_schema(
        responses={
            200: PreviewSerializer,
            400: OpenApiResponse(ValidationErrorResponseSerializer, description="Approval would be refused."),
            403: OpenApiResponse(ErrorResponse403Serializer, description="You may not decide this request."),
            409: CONFLICT_RESPONSE,
        },
        summary="What approval would do (for those who decide; nothing is written)",
    )
    @action(detail=True, pagination_class=None, filter_backends=[])
    def preview(self, request, pk=None):
        adjustment = self.get_object()
        before = selectors.goal_figures(adjustment.goal)
        after, rows = conflicts_as_409(
            lambda: services.adjustment_request_preview(request=adjustment, decided_by=request.user)
        )
        return Response(
            PreviewSerializer(
                {"before": before, "after": selectors.goal_figures(after), "micro_goals_after": rows}
            ).data
        )
