"""The progress ledger over HTTP: list (cursor-paged), log (with Idempotency-Key), correct, void, each entry's
correction history, bulk sync, export.

Logging and bulk sync emit the "entry recorded" webhook event through `webhooks.services` (the API layer calls it;
the goals services never know about webhooks).
"""

import django_filters
from django.db import transaction
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from api import csv_io
from api.base import CsvRenderer, DecimalText, LedgerPagination, StrictSerializer
from api.errors import ConflictResponseSerializer
from api.services import idempotent_call, request_hash
from goals import selectors, services
from goals.models import ProgressEntry, ProgressEntryRevision
from teams.api import UserRefSerializer
from teams.selectors import active_memberships, team_ids_with_descendants
from webhooks.services import entries_recorded_emit

from .goals import AnyKpi, VisibleUser

MAX_BULK = 1000


class EntrySerializer(serializers.ModelSerializer):
    user = UserRefSerializer(read_only=True)

    class Meta:
        model = ProgressEntry
        fields = [
            "id",
            "user",
            "kpi",
            "date",
            "value",
            "note",
            "source",
            "external_id",
            "created_by",
            "created_at",
            "updated_at",
            "voided_at",
            "voided_by",
            "void_reason",
        ]


# The DRF fields that format an entry's date, value and instants, built once (entry_as_dict): the same formatting
# as EntrySerializer's, whose fields DRF builds anew for every instance.
_DATE = serializers.DateField()
_VALUE = serializers.DecimalField(**ProgressEntry._meta.get_field("value").deconstruct()[3])  # max_digits, places
_INSTANT = serializers.DateTimeField()


def entry_as_dict(entry: ProgressEntry) -> dict:
    """What EntrySerializer gives for `entry`, key for key and in its order, built by hand: the POST's answer.
    A ModelSerializer builds its fourteen fields and the nested user's on every call (a fifth of the API POST's
    CPU); tests/api/test_entry_response.py holds the two equal, so a field added to one fails until the other has it."""
    user = entry.user
    return {
        "id": entry.id,
        "user": {"id": user.id, "username": user.username, "name": str(user)},
        "kpi": entry.kpi_id,
        "date": _DATE.to_representation(entry.date),
        "value": _VALUE.to_representation(entry.value),
        "note": entry.note,
        "source": str(entry.source),
        "external_id": entry.external_id,
        "created_by": entry.created_by_id,
        "created_at": _instant(entry.created_at),
        "updated_at": _instant(entry.updated_at),
        "voided_at": _instant(entry.voided_at),
        "voided_by": entry.voided_by_id,
        "void_reason": entry.void_reason,
    }


def _instant(value):
    return None if value is None else _INSTANT.to_representation(value)


class EntryRevisionSerializer(serializers.ModelSerializer):
    changed_by = UserRefSerializer(read_only=True)

    class Meta:
        model = ProgressEntryRevision
        fields = [
            "id",
            "kind",
            "changed_by",
            "changed_at",
            "old_value",
            "new_value",
            "old_date",
            "new_date",
            "old_note",
            "new_note",
            "reason",
        ]
        extra_kwargs = {"reason": {"help_text": "Why it was voided (empty for an edit)."}}


class EntryInputSerializer(StrictSerializer):
    user = VisibleUser(required=False, help_text="Whose progress (default: you). Managers log for their reps.")
    kpi = AnyKpi()
    date = serializers.DateField(help_text="The person's local date; any past date is fine (CRM sync lag).")
    value = DecimalText()
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    external_id = serializers.CharField(
        required=False, allow_null=True, default=None, max_length=200, help_text="The CRM's id: counted once."
    )


class EntryUpdateSerializer(StrictSerializer):
    value = DecimalText(required=False)
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)
    date = serializers.DateField(required=False)


class VoidSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500)


class BulkRowSerializer(StrictSerializer):
    user = serializers.CharField(max_length=254, help_text="The person's id, username or email.")
    kpi = serializers.CharField(max_length=80, help_text="The KPI's id or name.")
    date = serializers.DateField()
    value = DecimalText()
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    external_id = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class BulkSerializer(StrictSerializer):
    entries = BulkRowSerializer(many=True, allow_empty=False, max_length=MAX_BULK)  # type: ignore[call-arg]


class BulkResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    unchanged = serializers.IntegerField(help_text="Rows whose external_id was already stored (skipped).")
    entry_ids = serializers.ListField(child=serializers.IntegerField())


class EntryFilter(django_filters.FilterSet):
    user = django_filters.NumberFilter(field_name="user_id")
    team = django_filters.NumberFilter(method="filter_team", label="Current members of this team and its sub-teams")
    kpi = django_filters.NumberFilter(field_name="kpi_id")
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte")
    source = django_filters.ChoiceFilter(choices=ProgressEntry.Source.choices)
    voided = django_filters.BooleanFilter(field_name="voided_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = ProgressEntry
        fields: list[str] = []

    def filter_team(self, queryset, name, value):
        members = active_memberships().filter(team_id__in=team_ids_with_descendants([value])).values("user_id")
        return queryset.filter(user_id__in=members)


IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Any unique string (e.g. a UUID): repeats of the request return the first response and create "
    "nothing; the same key with a different body is a 409.",
)


class ProgressEntryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The entries of the people you may see (a rep: their own), voided ones included (they are history)."""

    queryset = ProgressEntry.objects.none()  # for the schema; get_queryset() scopes every request
    lookup_value_regex = r"[0-9]+"
    serializer_class = EntrySerializer
    filterset_class = EntryFilter
    pagination_class = LedgerPagination
    ordering_fields = ["date", "id"]

    def get_queryset(self):
        return selectors.entry_list_for_user(user=self.request.user)

    def get_object(self):
        return selectors.entry_get_for_user(user=self.request.user, id=self.kwargs["pk"])

    @extend_schema(
        parameters=[IDEMPOTENCY_HEADER],
        request=EntryInputSerializer,
        responses={
            201: EntrySerializer,
            200: OpenApiResponse(EntrySerializer, description="An entry with this external_id already existed"),
            409: OpenApiResponse(ConflictResponseSerializer, description="Idempotency-Key reused with another body"),
        },
    )
    def create(self, request):
        def perform():
            data = EntryInputSerializer.validate_input(request.data, context={"request": request})
            external_id = (data["external_id"] or "").strip() or None
            source = ProgressEntry.Source.API
            known = external_id and ProgressEntry.objects.filter(source=source, external_id=external_id).exists()
            entry = services.progress_record(
                user=data.get("user", request.user),
                kpi=data["kpi"],
                date=data["date"],
                value=data["value"],
                note=data["note"],
                source=source,
                external_id=external_id,
                created_by=request.user,
            )
            if not known:
                entries_recorded_emit(entries=[entry])
            return (200 if known else 201), JSONRenderer().render(entry_as_dict(entry)).decode()

        key = request.headers.get("Idempotency-Key")
        if key is None:
            with transaction.atomic():  # the entry and its webhook deliveries commit together
                status, body = perform()
            return HttpResponse(body, status=status, content_type="application/json")
        fingerprint = request_hash(method="POST", path=request.path, body=request.data)
        status, body, replayed = idempotent_call(user=request.user, key=key, fingerprint=fingerprint, perform=perform)
        response = HttpResponse(body, status=status, content_type="application/json")
        response["Idempotent-Replayed"] = "true" if replayed else "false"
        return response

    @extend_schema(request=EntryUpdateSerializer, responses=EntrySerializer, summary="Correct an entry")
    def partial_update(self, request, pk=None):
        entry = self.get_object()
        data = EntryUpdateSerializer.validate_input(request.data, partial=True)
        entry = services.progress_update(
            entry=entry,
            value=data.get("value", entry.value),
            note=data.get("note", entry.note),
            date=data.get("date"),
            updated_by=request.user,
        )
        return Response(EntrySerializer(entry).data)

    @extend_schema(request=VoidSerializer, responses=EntrySerializer, summary="Void an entry (kept, never counted)")
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def void(self, request, pk=None):
        entry = self.get_object()
        data = VoidSerializer.validate_input(request.data)
        return Response(
            EntrySerializer(services.progress_void(entry=entry, reason=data["reason"], voided_by=request.user)).data
        )

    @extend_schema(
        responses=EntryRevisionSerializer(many=True),
        summary="The entry's corrections, oldest first: who, when, value, date and note before and after, void reason",
    )
    @action(detail=True, pagination_class=None, filter_backends=[])
    def history(self, request, pk=None):
        entry = self.get_object()
        return Response(EntryRevisionSerializer(selectors.revision_list_for_entry(entry=entry), many=True).data)

    @extend_schema(
        request=BulkSerializer,
        responses={201: BulkResultSerializer},
        summary="Log up to 1,000 entries at once: all or nothing, errors by row (entries.<index>.<field>)",
    )
    @action(detail=False, methods=["post"], pagination_class=None, filter_backends=[])
    def bulk(self, request):
        data = BulkSerializer.validate_input(request.data)
        rows = [services.ImportRow(line=i, **row) for i, row in enumerate(data["entries"])]
        try:
            with transaction.atomic():  # the entries and their webhook deliveries commit together
                result = services.progress_import(rows=rows, imported_by=request.user, source=ProgressEntry.Source.API)
                entries_recorded_emit(entry_ids=result.entry_ids)
        except services.ImportRejected as rejected:
            by_row = [{} for _ in rows]
            for error in rejected.errors:
                by_row[error.line].setdefault(error.field, []).append(error.message)
            raise serializers.ValidationError({"entries": by_row}) from None
        return Response(BulkResultSerializer(result).data, status=201)

    @extend_schema(
        responses={(200, "text/csv"): OpenApiTypes.STR},
        summary="The filtered entries as CSV (streamed; the same columns the import reads)",
    )
    @action(detail=False, pagination_class=None, renderer_classes=[JSONRenderer, CsvRenderer])
    def export(self, request):
        entries = self.filter_queryset(self.get_queryset())
        return csv_io.entries_csv_response(entries)
