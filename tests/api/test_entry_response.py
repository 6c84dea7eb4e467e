"""The API POST answers with `entry_as_dict`, built by hand for speed; EntrySerializer documents it (the schema) and
answers every other entry endpoint. These tests hold the two equal, field by field and byte for byte, so neither can
drift: a field added to EntrySerializer fails here until entry_as_dict has it too."""

import datetime
import zoneinfo
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from goals import services
from goals.api.entries import EntrySerializer, entry_as_dict
from goals.models import ProgressEntry
from tests.factories import KpiFactory, ProgressEntryFactory, UserFactory

pytestmark = pytest.mark.django_db


def _entries(personas):
    kpi = KpiFactory(name="Revenue")
    nameless = UserFactory(first_name="", last_name="")  # str(user) falls back to the username
    plain = ProgressEntryFactory(user=personas.rep_a, kpi=kpi, value=Decimal("3"), created_by=personas.manager_a)
    noted = ProgressEntryFactory(
        user=nameless, kpi=kpi, value=Decimal("1250.5"), note="Big deal", source="api", external_id="crm-7"
    )
    voided = ProgressEntryFactory(user=personas.rep_b, kpi=kpi, value=Decimal("-2.25"), source="import")
    ProgressEntry.objects.filter(pk=voided.pk).update(
        voided_at=timezone.now(), voided_by=personas.manager_b, void_reason="Typo"
    )
    read_back = list(ProgressEntry.objects.filter(pk__in=[plain.pk, noted.pk, voided.pk]).select_related("user"))
    return [plain, noted, *read_back]  # in memory as written, and as read from the database (voided_at set)


@pytest.mark.parametrize("zone", [None, "America/New_York", "Asia/Kolkata"])
def test_entry_as_dict_is_what_the_serializer_gives_field_by_field(personas, zone):
    entries = _entries(personas)
    with timezone.override(zoneinfo.ZoneInfo(zone) if zone else None):  # instants follow the active timezone
        for entry in entries:
            by_hand, serialized = entry_as_dict(entry), EntrySerializer(entry).data
            assert list(by_hand) == list(serialized)  # the same keys in the same order
            for field in serialized:
                assert by_hand[field] == serialized[field], field
                assert type(by_hand[field]) is type(serialized[field]) or field == "user", field
            assert JSONRenderer().render(by_hand) == JSONRenderer().render(serialized)
    assert any(e.voided_at for e in entries) and any(e.external_id for e in entries)


def test_the_post_answers_what_the_entry_endpoint_shows(world, client_for):
    """The POST renders the entry as written (its value as sent); GET renders it read back: the same JSON."""
    client = client_for("rep_a")
    body = {"kpi": world.kpi.id, "date": str(world.today), "value": "3", "note": "Call", "external_id": "crm-1"}
    posted = client.post("/api/v1/progress-entries/", body, HTTP_IDEMPOTENCY_KEY="first")
    assert posted.status_code == 201
    shown = client.get(f"/api/v1/progress-entries/{posted.json()['id']}/")
    assert posted.content == shown.content
    replayed = client.post("/api/v1/progress-entries/", body, HTTP_IDEMPOTENCY_KEY="first")
    assert replayed.content == posted.content and replayed["Idempotent-Replayed"] == "true"


def test_a_known_external_id_answers_200_with_the_stored_entry(world, client_for, personas):
    entry = services.progress_record(
        user=personas.rep_a, kpi=world.kpi, date=world.today - datetime.timedelta(days=1), value="2",
        source=ProgressEntry.Source.API, external_id="crm-9", created_by=personas.rep_a,
    )  # fmt: skip
    client = client_for("rep_a")
    body = {
        "kpi": world.kpi.id,
        "date": str(world.today - datetime.timedelta(days=1)),
        "value": "2",
        "external_id": "crm-9",
    }
    posted = client.post("/api/v1/progress-entries/", body, HTTP_IDEMPOTENCY_KEY="again")
    assert posted.status_code == 200
    assert posted.json() == EntrySerializer(ProgressEntry.objects.select_related("user").get(pk=entry.pk)).data
