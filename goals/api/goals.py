"""KPIs, goals (with figures, revisions, micro goals, breakdown and re-plan) and micro goals over HTTP."""

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from api import csv_io
from api.base import AdminWritesOnly, CsvRenderer, DecimalText, StrictSerializer, VisiblePrimaryKeyRelatedField
from goals import selectors, services
from goals.models import Goal, GoalRevision, Health, Kpi, MicroGoal
from teams.api import UserRefSerializer
from teams.calendar import org_today
from teams.models import User
from teams.selectors import team_list_for_user, user_ids_visible_to


def decimal_field(**kwargs) -> serializers.DecimalField:
    """An output value as stored (18 digits, 4 of them decimals), rendered as a string."""
    return serializers.DecimalField(max_digits=18, decimal_places=4, **kwargs)


# --- KPIs -------------------------------------------------------------------------------------------------------


class KpiSerializer(serializers.ModelSerializer):
    class Meta:
        model = Kpi
        fields = [
            "id",
            "name",
            "description",
            "unit",
            "currency_code",
            "decimal_places",
            "aggregation",
            "direction",
            "is_active",
        ]


class KpiInputSerializer(StrictSerializer):
    name = serializers.CharField(max_length=80)
    description = serializers.CharField(required=False, allow_blank=True)
    unit = serializers.ChoiceField(choices=Kpi.Unit.choices, required=False)
    currency_code = serializers.CharField(max_length=3, required=False, allow_blank=True)
    decimal_places = serializers.IntegerField(min_value=0, max_value=4, required=False)
    aggregation = serializers.ChoiceField(choices=Kpi.Aggregation.choices, required=False)
    direction = serializers.ChoiceField(choices=Kpi.Direction.choices, required=False)
    is_active = serializers.BooleanField(required=False)


class KpiViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """KPIs are organisation-wide: everyone reads them (archived ones with ?is_active=false); admins configure them."""

    queryset = Kpi.objects.none()  # for the schema; get_queryset() scopes every request
    lookup_value_regex = r"[0-9]+"
    serializer_class = KpiSerializer
    permission_classes = [AdminWritesOnly]
    filterset_fields = ["is_active", "unit"]
    ordering_fields = ["name", "id"]
    ordering = ["name"]

    def get_queryset(self):
        return selectors.kpi_list(active_only=False)

    def get_object(self):
        return selectors.kpi_get(id=self.kwargs["pk"])

    @extend_schema(request=KpiInputSerializer, responses={201: KpiSerializer})
    def create(self, request):
        data = dict(KpiInputSerializer.validate_input(request.data))
        data.pop("is_active", None)  # a new KPI is active
        return Response(KpiSerializer(services.kpi_create(**data)).data, status=201)

    @extend_schema(request=KpiInputSerializer(partial=True), responses=KpiSerializer)
    def partial_update(self, request, pk=None):
        kpi = self.get_object()
        data = KpiInputSerializer.validate_input(request.data, partial=True)
        return Response(KpiSerializer(services.kpi_update(kpi=kpi, **data)).data)


# --- Goals ------------------------------------------------------------------------------------------------------


class TeamRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


@extend_schema_field({"type": "string", "format": "decimal", "example": "1250.5"})
class ExactDecimal(serializers.CharField):
    """A figure as the exact decimal string GoalFigures.as_dict() gives: never a float, never rounded here."""


def _exact(help_text: str, **kwargs) -> ExactDecimal:
    return ExactDecimal(help_text=help_text, **kwargs)


class FiguresSerializer(serializers.Serializer):
    """Documents goals.figures.GoalFigures.as_dict(), which the API returns as is: the same figures, by the same
    definitions (goals/pace.py), as the goal page, Today, the dashboard and the emails. Percentages are unrounded:
    round them to display. tests/api/test_goal_figures.py keeps this list and the dataclass's fields the same."""

    current = _exact("The value so far (the engine's, from the ledger).")
    target = _exact("The target value.")
    baseline = _exact("Where the goal started (0 for a micro goal).")
    expected = _exact("Where the value should be by today at an even pace over the working days.")
    forecast = _exact("The likely value at the due date.")
    forecast_low = _exact("The forecast's likely range, low end (P10); null until computed.", allow_null=True)
    forecast_high = _exact("The forecast's likely range, high end (P90); null until computed.", allow_null=True)
    chance = serializers.IntegerField(
        min_value=0, max_value=100, allow_null=True, help_text="Chance of reaching the target, whole percent."
    )
    health = serializers.ChoiceField(choices=[*Health.choices, ("", "Not computed yet")])
    attainment = _exact("Percent of the way from baseline to target (100 = reached).")
    expected_attainment = _exact("Where today's pace marker sits, on the same scale.")
    days_left = serializers.IntegerField(help_text="Working days left, today included when it is one.")
    remaining = _exact("Still to do in the KPI's good direction; on a budget, still allowed.")
    per_day = _exact(
        "Still needed per working day (rounded up; down on a budget); null for a level KPI or no day left.",
        allow_null=True,
    )
    pace_gap = _exact("Current minus expected in the KPI's good direction: positive = ahead.")
    state = serializers.ChoiceField(choices=["upcoming", "open", "done", "over"])
    is_budget = serializers.BooleanField(help_text="A lower-is-better sum: the target is a ceiling.")
    is_level = serializers.BooleanField(help_text='A "last value" KPI: no per-day figure.')


class GoalSerializer(serializers.ModelSerializer):
    owner_user = UserRefSerializer(read_only=True, allow_null=True)
    owner_team = TeamRefSerializer(read_only=True, allow_null=True)
    figures = serializers.SerializerMethodField()

    class Meta:
        model = Goal
        fields = [
            "id",
            "title",
            "description",
            "kpi",
            "target_value",
            "baseline_value",
            "start_date",
            "due_date",
            "owner_user",
            "owner_team",
            "parent",
            "rationale",
            "status",
            "achievability",
            "required_daily_rate",
            "historical_daily_rate",
            "created_by",
            "created_at",
            "updated_at",
            "closed_at",
            "computed_at",
            "figures",
        ]

    @extend_schema_field(FiguresSerializer)
    def get_figures(self, goal) -> dict:
        return goal.figures.as_dict()  # attached by the view (goal_figures_attach): one definition of each


class GoalFilter(django_filters.FilterSet):
    team = django_filters.NumberFilter(field_name="owner_team_id", label="Owner team id")
    user = django_filters.NumberFilter(field_name="owner_user_id", label="Owner user id")
    kpi = django_filters.NumberFilter(field_name="kpi_id")
    status = django_filters.MultipleChoiceFilter(choices=Goal.Status.choices)
    health = django_filters.MultipleChoiceFilter(choices=Health.choices)
    due_from = django_filters.DateFilter(field_name="due_date", lookup_expr="gte")
    due_to = django_filters.DateFilter(field_name="due_date", lookup_expr="lte")
    active_on = django_filters.DateFilter(method="filter_active_on", label="Goals whose window contains this date")

    class Meta:
        model = Goal
        fields: list[str] = []

    def filter_active_on(self, queryset, name, value):
        return queryset.filter(start_date__lte=value, due_date__gte=value)


# References a goal or micro goal input accepts: what the requesting user may see, else "does not exist" (a 400).
VisibleUser = VisiblePrimaryKeyRelatedField.of(lambda user: User.objects.filter(id__in=user_ids_visible_to(user=user)))
VisibleTeam = VisiblePrimaryKeyRelatedField.of(lambda user: team_list_for_user(user=user))
VisibleGoal = VisiblePrimaryKeyRelatedField.of(lambda user: selectors.goal_list_for_user(user=user))
AnyKpi = VisiblePrimaryKeyRelatedField.of(lambda user: Kpi.objects.all())


class GoalInputSerializer(StrictSerializer):
    title = serializers.CharField(max_length=140)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    kpi = AnyKpi()
    target_value = DecimalText()
    baseline_value = DecimalText(required=False, default="0")
    start_date = serializers.DateField()
    due_date = serializers.DateField()
    owner_user = VisibleUser(required=False, allow_null=True, default=None)
    owner_team = VisibleTeam(required=False, allow_null=True, default=None)
    parent = VisibleGoal(required=False, allow_null=True, default=None)  # type: ignore[assignment]
    rationale = serializers.CharField(required=False, allow_blank=True, default="")
    draft = serializers.BooleanField(required=False, default=False, help_text="Save as a draft (activate it later).")


class GoalUpdateSerializer(StrictSerializer):
    title = serializers.CharField(max_length=140, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    target_value = DecimalText(required=False)
    baseline_value = DecimalText(required=False)
    start_date = serializers.DateField(required=False)
    due_date = serializers.DateField(required=False)
    owner_user = VisibleUser(required=False, allow_null=True)
    owner_team = VisibleTeam(required=False, allow_null=True)
    parent = VisibleGoal(required=False, allow_null=True)  # type: ignore[assignment]
    rationale = serializers.CharField(required=False, allow_blank=True)
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Why (required once active for target/dates/owner)."
    )


class ReasonSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=2000)


class RevisionSerializer(serializers.ModelSerializer):
    changed_by = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = GoalRevision
        fields = ["id", "kind", "changed_by", "changed_at", "reason", "changes"]


class MicroGoalSerializer(serializers.ModelSerializer):
    assignee = UserRefSerializer(read_only=True)
    figures = serializers.SerializerMethodField()

    class Meta:
        model = MicroGoal
        fields = [
            "id",
            "goal",
            "assignee",
            "kpi",
            "target_value",
            "start_date",
            "due_date",
            "status",
            "current_value",
            "expected_value",
            "forecast_value",
            "health",
            "computed_at",
            "figures",
        ]

    @extend_schema_field(FiguresSerializer)
    def get_figures(self, micro_goal) -> dict:
        return micro_goal.figures.as_dict()  # attached by the view (micro_goal_figures_attach)


class GenerateSerializer(StrictSerializer):
    cadence = serializers.ChoiceField(choices=["daily", "weekly", "biweekly"])
    assignees = VisibleUser(many=True, required=False, help_text="Reps to plan for (default: all the owner's reps).")
    kpi = AnyKpi(required=False, allow_null=True, default=None, help_text="A leading indicator (default: the goal's)")
    leading_target = DecimalText(required=False, allow_null=True, default=None)
    preview = serializers.BooleanField(required=False, default=False, help_text="Show the plan, write nothing.")


class ReplanSerializer(StrictSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class PlanRowSerializer(serializers.Serializer):
    micro_goal = serializers.IntegerField(source="micro_goal.id", allow_null=True, default=None)
    assignee = UserRefSerializer()
    kpi = serializers.IntegerField(source="kpi.id")
    start = serializers.DateField()
    end = serializers.DateField()
    working_days = serializers.IntegerField()
    capacity = serializers.DecimalField(max_digits=3, decimal_places=2)
    weight = serializers.DecimalField(max_digits=18, decimal_places=4)
    target = decimal_field()


class GoalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Goals you may see (yours, your teams', and for a manager those of the teams you manage), each with its
    figures. Admins and managers of the owner set, change, activate and cancel them; reps read."""

    queryset = Goal.objects.none()  # for the schema; get_queryset() scopes every request
    lookup_value_regex = r"[0-9]+"
    serializer_class = GoalSerializer
    filterset_class = GoalFilter
    ordering_fields = ["due_date", "start_date", "title", "id", "current_value"]
    ordering = ["due_date", "id"]

    def get_queryset(self):
        return selectors.goal_list_for_user(user=self.request.user)

    def get_object(self):
        return selectors.goal_get_for_user(user=self.request.user, id=self.kwargs["pk"])

    def get_serializer(self, instance=None, *args, **kwargs):
        if instance is not None:  # the figures of every goal shown, counted on the organisation's date
            selectors.goal_figures_attach(instance if kwargs.get("many") else [instance], today=org_today())
        return super().get_serializer(instance, *args, **kwargs)

    def _goal_response(self, goal, status=200):
        return Response(self.get_serializer(goal).data, status=status)

    @extend_schema(request=GoalInputSerializer, responses={201: GoalSerializer})
    def create(self, request):
        data = dict(GoalInputSerializer.validate_input(request.data, context={"request": request}))
        draft = data.pop("draft")
        goal = services.goal_create(
            **data, status=Goal.Status.DRAFT if draft else Goal.Status.ACTIVE, created_by=request.user
        )
        return self._goal_response(goal, status=201)

    @extend_schema(request=GoalUpdateSerializer, responses=GoalSerializer)
    def partial_update(self, request, pk=None):
        goal = self.get_object()
        data = dict(GoalUpdateSerializer.validate_input(request.data, context={"request": request}, partial=True))
        reason = data.pop("reason", "")
        goal = services.goal_update(goal=goal, changed_by=request.user, reason=reason, **data)
        return self._goal_response(selectors.goal_get_for_user(user=request.user, id=goal.id))

    @extend_schema(request=None, responses=GoalSerializer, summary="Activate a draft")
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def activate(self, request, pk=None):
        goal = services.goal_activate(goal=self.get_object(), activated_by=request.user)
        return self._goal_response(selectors.goal_get_for_user(user=request.user, id=goal.id))

    @extend_schema(request=ReasonSerializer, responses=GoalSerializer, summary="Cancel (kept as history)")
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def cancel(self, request, pk=None):
        goal = self.get_object()
        data = ReasonSerializer.validate_input(request.data)
        goal = services.goal_cancel(goal=goal, cancelled_by=request.user, reason=data["reason"])
        return self._goal_response(selectors.goal_get_for_user(user=request.user, id=goal.id))

    @extend_schema(responses=RevisionSerializer(many=True), summary="The goal's history, newest first")
    @action(detail=True, pagination_class=None, filter_backends=[])
    def revisions(self, request, pk=None):
        revisions, _ = selectors.revision_list_for_goal(goal=self.get_object())
        return Response(RevisionSerializer(revisions, many=True).data)

    @extend_schema(methods=["get"], responses=MicroGoalSerializer(many=True), summary="The goal's micro goals")
    @extend_schema(
        methods=["post"],
        request=GenerateSerializer,
        responses={200: PlanRowSerializer(many=True), 201: PlanRowSerializer(many=True)},
        summary="Break the goal into micro goals (preview=true writes nothing)",
    )
    @action(detail=True, methods=["get", "post"], url_path="micro-goals", pagination_class=None, filter_backends=[])
    def micro_goals(self, request, pk=None):
        goal = self.get_object()
        if request.method == "GET":
            micro_goals = list(selectors.micro_goal_list_for_goal(goal=goal))
            selectors.micro_goal_figures_attach(micro_goals, today=org_today())
            return Response(MicroGoalSerializer(micro_goals, many=True).data)
        data = dict(GenerateSerializer.validate_input(request.data, context={"request": request}))
        rows = services.micro_goals_generate(goal=goal, created_by=request.user, **data)
        return Response(PlanRowSerializer(rows, many=True).data, status=200 if data["preview"] else 201)

    @extend_schema(
        responses={(200, "text/csv"): OpenApiTypes.STR},
        summary="The filtered goals with their figures as CSV (streamed)",
    )
    @action(detail=False, pagination_class=None, renderer_classes=[JSONRenderer, CsvRenderer])
    def export(self, request):
        return csv_io.goals_csv_response(self.filter_queryset(self.get_queryset()))

    @extend_schema(request=ReplanSerializer, responses=PlanRowSerializer(many=True), summary="Re-plan what is left")
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def replan(self, request, pk=None):
        goal = self.get_object()
        data = ReplanSerializer.validate_input(request.data)
        rows = services.goal_replan(goal=goal, replanned_by=request.user, reason=data["reason"])
        return Response(PlanRowSerializer(rows, many=True).data)


class MicroGoalFilter(django_filters.FilterSet):
    user = django_filters.NumberFilter(field_name="assignee_id", label="Assignee user id")
    goal = django_filters.NumberFilter(field_name="goal_id")
    kpi = django_filters.NumberFilter(field_name="kpi_id")
    status = django_filters.MultipleChoiceFilter(choices=MicroGoal.Status.choices)
    health = django_filters.MultipleChoiceFilter(choices=Health.choices)
    active_on = django_filters.DateFilter(
        method="filter_active_on", label="Micro goals whose window contains this date"
    )

    class Meta:
        model = MicroGoal
        fields: list[str] = []

    def filter_active_on(self, queryset, name, value):
        return queryset.filter(start_date__lte=value, due_date__gte=value)


class MicroGoalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Micro goals of the people you may see (a rep: their own)."""

    queryset = MicroGoal.objects.none()  # for the schema; get_queryset() scopes every request
    lookup_value_regex = r"[0-9]+"
    serializer_class = MicroGoalSerializer
    filterset_class = MicroGoalFilter
    ordering_fields = ["start_date", "due_date", "id"]
    ordering = ["start_date", "id"]

    def get_queryset(self):
        return selectors.micro_goal_list_for_user(user=self.request.user)

    def get_serializer(self, instance=None, *args, **kwargs):
        if instance is not None:  # counted on the organisation's date, on each assignee's calendar
            selectors.micro_goal_figures_attach(instance if kwargs.get("many") else [instance], today=org_today())
        return super().get_serializer(instance, *args, **kwargs)
