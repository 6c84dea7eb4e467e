"""REST resources of the notifications app: your own notifications (list, mark read). Nobody sees anyone else's."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from notifications import selectors, services
from notifications.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "url", "created_at", "read_at"]


class NotificationFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=Notification.Kind.choices)
    unread = django_filters.BooleanFilter(field_name="read_at", lookup_expr="isnull")

    class Meta:
        model = Notification
        fields: list[str] = []


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField()


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your notifications, unread first, then newest first."""

    queryset = Notification.objects.none()  # for the schema; get_queryset() scopes every request
    lookup_value_regex = r"[0-9]+"
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    ordering_fields = ["created_at", "id"]

    def get_queryset(self):
        return selectors.notification_list_for_user(user=self.request.user)

    def get_object(self):
        return selectors.notification_get_for_user(user=self.request.user, id=self.kwargs["pk"])

    @extend_schema(request=None, responses=NotificationSerializer, summary="Mark one notification read")
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def read(self, request, pk=None):
        notification = services.notification_mark_read(user=request.user, notification_id=self.get_object().id)
        return Response(NotificationSerializer(notification).data)

    @extend_schema(request=None, responses=MarkedSerializer, summary="Mark all your notifications read")
    @action(detail=False, methods=["post"], url_path="read-all", pagination_class=None, filter_backends=[])
    def read_all(self, request):
        return Response({"marked": services.notifications_mark_all_read(user=request.user)})


def register(router):
    router.register("notifications", NotificationViewSet, basename="notification")


urls: list = []
