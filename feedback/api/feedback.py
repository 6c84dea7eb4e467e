"""Feedback over HTTP: read what you may see, give it to those you may (feedback_recipients_for), reword your own
within 15 minutes of giving it (earlier wordings kept). Never deleted."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.response import Response

from api.base import StrictSerializer
from teams.api import UserRefSerializer

from .. import selectors, services
from ..models import Feedback
from .fields import Recipient, VisibleGoal, VisibleMicroGoal

KINDS = Feedback.Kind.choices  # named FeedbackKindEnum in the schema (settings.SPECTACULAR_SETTINGS)


class FeedbackSerializer(serializers.ModelSerializer):
    author = UserRefSerializer(read_only=True)
    recipient = UserRefSerializer(read_only=True)
    history = serializers.ListField(child=serializers.DictField(), help_text="Earlier wordings, oldest first.")

    class Meta:
        model = Feedback
        fields = [
            "id",
            "author",
            "recipient",
            "goal",
            "micro_goal",
            "kind",
            "body",
            "visibility",
            "created_at",
            "edited_at",
            "history",
        ]


class FeedbackInputSerializer(StrictSerializer):
    recipient = Recipient(help_text="Someone you manage, a teammate or one of your managers (anyone for an admin).")
    kind = serializers.ChoiceField(choices=Feedback.Kind.choices)
    body = serializers.CharField(max_length=4000)
    visibility = serializers.ChoiceField(
        choices=Feedback.Visibility.choices,
        required=False,
        allow_null=True,
        default=None,
        help_text="Default: praise goes on the team's kudos feed, the rest stays between the two of you.",
    )
    goal = VisibleGoal(required=False, allow_null=True, default=None, help_text="One of the recipient's goals.")
    micro_goal = VisibleMicroGoal(required=False, allow_null=True, default=None)


class FeedbackEditSerializer(StrictSerializer):
    body = serializers.CharField(max_length=4000, required=False)
    kind = serializers.ChoiceField(choices=Feedback.Kind.choices, required=False)


class FeedbackFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=Feedback.Kind.choices)
    author = django_filters.NumberFilter(field_name="author_id")
    recipient = django_filters.NumberFilter(field_name="recipient_id")
    goal = django_filters.NumberFilter(field_name="goal_id")
    given_from = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte")
    given_to = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte")

    class Meta:
        model = Feedback
        fields: list[str] = []


class FeedbackViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Feedback you may read: yours (given or received), about the people you manage when shared with managers,
    and praise on your team's kudos feed."""

    queryset = Feedback.objects.none()  # for the schema; get_queryset() scopes every request
    lookup_value_regex = r"[0-9]+"
    serializer_class = FeedbackSerializer
    filterset_class = FeedbackFilter
    ordering_fields = ["created_at", "id"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return selectors.feedback_list_for_user(user=self.request.user)

    def get_object(self):
        return selectors.feedback_get_for_user(user=self.request.user, id=self.kwargs["pk"])

    @extend_schema(request=FeedbackInputSerializer, responses={201: FeedbackSerializer})
    def create(self, request):
        data = FeedbackInputSerializer.validate_input(request.data, context={"request": request})
        feedback = services.feedback_give(author=request.user, **data)
        return Response(FeedbackSerializer(feedback).data, status=201)

    @extend_schema(
        request=FeedbackEditSerializer,
        responses=FeedbackSerializer,
        summary="Reword your feedback (within 15 minutes of giving it; the earlier wording is kept)",
    )
    def partial_update(self, request, pk=None):
        feedback = self.get_object()
        data = FeedbackEditSerializer.validate_input(request.data, partial=True)
        feedback = services.feedback_edit(
            feedback=feedback, edited_by=request.user, body=data.get("body", feedback.body), kind=data.get("kind")
        )
        return Response(FeedbackSerializer(feedback).data)
