"""Reward tiers over HTTP: everyone signed in reads the active tiers (what can be earned); admins read every tier
and create, change, deactivate, reactivate and delete them (a tier nobody received yet) through the services."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api.base import AdminWritesOnly, StrictSerializer
from goals.models import Kpi
from rewards import selectors, services
from rewards.models import RewardTier


class RewardTierSerializer(serializers.ModelSerializer):
    awarded = serializers.IntegerField(read_only=True, help_text="How many awards it granted (any status).")

    class Meta:
        model = RewardTier
        fields = ["id", *services.TIER_FIELDS, "is_active", "awarded", "created_at", "updated_at"]


class RewardTierInputSerializer(StrictSerializer):
    """What tier_create and tier_update accept (services.TIER_FIELDS); the service checks the rules between them
    (a streak needs streak_days, a bonus an amount…) and answers with field errors."""

    name = serializers.CharField(max_length=80)
    description = serializers.CharField(max_length=300, required=False, allow_blank=True)
    applies_to = serializers.ChoiceField(choices=RewardTier.AppliesTo.choices, required=False)
    threshold_percent = serializers.DecimalField(max_digits=9, decimal_places=2, required=False, allow_null=True)
    streak_days = serializers.IntegerField(min_value=0, max_value=366, required=False, allow_null=True)
    kpi = serializers.PrimaryKeyRelatedField(
        queryset=Kpi.objects.filter(is_active=True), required=False, allow_null=True, help_text="Empty: every KPI."
    )
    owner_kind = serializers.ChoiceField(choices=RewardTier.OwnerKind.choices, required=False)
    team_recipients = serializers.ChoiceField(choices=RewardTier.TeamRecipients.choices, required=False)
    reward_kind = serializers.ChoiceField(choices=RewardTier.RewardKind.choices, required=False)
    points = serializers.IntegerField(min_value=0, max_value=2_000_000_000, required=False)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, required=False)
    needs_approval = serializers.BooleanField(required=False)


class RewardTierViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Reward tiers: the active ones for everyone, every tier for admins (filter with ?is_active=false)."""

    queryset = RewardTier.objects.none()  # for the schema; get_queryset() scopes every request
    lookup_value_regex = r"[0-9]+"
    serializer_class = RewardTierSerializer
    permission_classes = [AdminWritesOnly]
    filterset_fields = ["is_active", "applies_to", "reward_kind"]
    ordering_fields = ["name", "threshold_percent", "streak_days", "id"]

    def get_queryset(self):
        return selectors.tier_list_for_user(user=self.request.user)

    def get_object(self):
        return selectors.tier_get_for_user(user=self.request.user, id=self.kwargs["pk"])

    def _tier_response(self, tier, status=200):
        return Response(RewardTierSerializer(selectors.tier_get_for_user(user=self.request.user, id=tier.id)).data,
                        status=status)  # fmt: skip

    @extend_schema(request=RewardTierInputSerializer, responses={201: RewardTierSerializer})
    def create(self, request):
        data = RewardTierInputSerializer.validate_input(request.data)
        return self._tier_response(services.tier_create(created_by=request.user, **data), status=201)

    @extend_schema(request=RewardTierInputSerializer(partial=True), responses=RewardTierSerializer)
    def partial_update(self, request, pk=None):
        tier = self.get_object()
        data = RewardTierInputSerializer.validate_input(request.data, partial=True)
        return self._tier_response(services.tier_update(tier=tier, updated_by=request.user, **data))

    @extend_schema(responses={204: None}, summary="Delete a tier nobody has received (else: deactivate it)")
    def destroy(self, request, pk=None):
        services.tier_delete(tier=self.get_object(), deleted_by=request.user)
        return Response(status=204)

    @extend_schema(request=None, responses=RewardTierSerializer, summary="Reactivate a tier")
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def activate(self, request, pk=None):
        return self._set_active(request, True)

    @extend_schema(request=None, responses=RewardTierSerializer, summary="Deactivate (no new awards; granted stay)")
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def deactivate(self, request, pk=None):
        return self._set_active(request, False)

    def _set_active(self, request, active: bool):
        tier = services.tier_set_active(tier=self.get_object(), active=active, changed_by=request.user)
        return self._tier_response(tier)
