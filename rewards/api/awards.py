"""Awards over HTTP: yours and those of the reps you manage (every award for an admin), with the decisions the
browser offers (approve or reject a pending bonus, keep or revoke a flagged award, revoke a held one) and the
payout (admins mark payable bonuses paid). A refused decision on an award you can see is a 403; an award you
cannot see is a 404."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api.base import StrictSerializer
from rewards import selectors, services
from rewards.models import Award, RewardTier
from teams.api import UserRefSerializer
from teams.selectors import active_memberships, team_ids_with_descendants


class TierRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = RewardTier
        fields = ["id", "name", "reward_kind"]


class AwardSerializer(serializers.ModelSerializer):
    user = UserRefSerializer(read_only=True)
    tier = TierRefSerializer(read_only=True)
    subject = serializers.CharField(source="subject_label", read_only=True, help_text="The goal, micro goal or streak")
    decided_by = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Award
        fields = [
            "id",
            "user",
            "tier",
            "subject",
            "goal",
            "micro_goal",
            "streak_day",
            "attainment",
            "threshold",
            "points",
            "amount",
            "currency",
            "status",
            "granted_at",
            "flagged_at",
            "flag_attainment",
            "decided_by",
            "decided_at",
            "decision_reason",
            "paid_at",
            "payout_reference",
        ]


class AwardFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Award.Status.choices)
    user = django_filters.NumberFilter(field_name="user_id", label="User id")
    team = django_filters.NumberFilter(method="filter_team", label="Current reps of this team (and its sub-teams)")
    tier = django_filters.NumberFilter(field_name="tier_id")
    goal = django_filters.NumberFilter(field_name="goal_id")
    granted_from = django_filters.DateFilter(field_name="granted_at", lookup_expr="date__gte")
    granted_to = django_filters.DateFilter(field_name="granted_at", lookup_expr="date__lte")
    payable = django_filters.BooleanFilter(method="filter_payable", label="Bonuses ready to pay (the payouts page)")

    class Meta:
        model = Award
        fields: list[str] = []

    def filter_team(self, queryset, name, value):
        members = active_memberships().filter(team_id__in=team_ids_with_descendants([value])).values("user_id")
        return queryset.filter(user_id__in=members)

    def filter_payable(self, queryset, name, value):
        payable = selectors.payable_awards().values("id")
        return queryset.filter(id__in=payable) if value else queryset.exclude(id__in=payable)


class AwardDecisionSerializer(StrictSerializer):
    reason = serializers.CharField(
        max_length=500,
        required=False,
        allow_blank=True,
        default="",
        help_text="Why (the rep sees it): required to reject, keep or revoke.",
    )


class MarkPaidSerializer(StrictSerializer):
    award_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=1000)
    reference = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", help_text="The payout's reference"
    )


class PaidCountSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many were marked (those no longer payable are left alone)")


class AwardViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your awards and those of the reps you manage, newest first."""

    queryset = Award.objects.none()  # for the schema; get_queryset() scopes every request
    lookup_value_regex = r"[0-9]+"
    serializer_class = AwardSerializer
    filterset_class = AwardFilter
    ordering_fields = ["granted_at", "amount", "points", "id"]
    ordering = ["-granted_at", "-id"]

    def get_queryset(self):
        return selectors.award_list_for_user(user=self.request.user, managed=True)

    def get_object(self):
        return selectors.award_get_for_user(user=self.request.user, id=self.kwargs["pk"])

    def _decide(self, request, service):
        award = self.get_object()
        data = AwardDecisionSerializer.validate_input(request.data)
        award = service(award=award, decided_by=request.user, reason=data["reason"])
        return Response(AwardSerializer(selectors.award_get_for_user(user=request.user, id=award.id)).data)

    @extend_schema(request=AwardDecisionSerializer, responses=AwardSerializer, summary="Approve a pending bonus")
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def approve(self, request, pk=None):
        return self._decide(request, services.award_approve)

    @extend_schema(
        request=AwardDecisionSerializer, responses=AwardSerializer, summary="Reject a pending bonus (reason)"
    )
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def reject(self, request, pk=None):
        return self._decide(request, services.award_reject)

    @extend_schema(request=AwardDecisionSerializer, responses=AwardSerializer, summary="Keep a flagged award (reason)")
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def keep(self, request, pk=None):
        return self._decide(request, services.award_keep)

    @extend_schema(
        request=AwardDecisionSerializer, responses=AwardSerializer, summary="Revoke an unpaid award (reason)"
    )
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def revoke(self, request, pk=None):
        return self._decide(request, services.award_revoke)

    @extend_schema(
        request=MarkPaidSerializer, responses=PaidCountSerializer, summary="Mark payable bonuses paid (admins)"
    )
    @action(detail=False, methods=["post"], url_path="mark-paid", pagination_class=None, filter_backends=[])
    def mark_paid(self, request):
        data = MarkPaidSerializer.validate_input(request.data)
        marked = services.award_mark_paid(
            award_ids=data["award_ids"], decided_by=request.user, reason=data["reference"]
        )
        return Response({"marked": marked})
