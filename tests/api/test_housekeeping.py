"""The daily purge forgets week-old Idempotency-Keys, day-old unconfirmed uploads and expired API tokens, and nothing
newer."""

import datetime

import pytest
from django.utils import timezone

from api.models import ApiToken, IdempotencyKey, PendingImport
from api.services import api_token_create
from api.tasks import purge_exchange_records

pytestmark = pytest.mark.django_db


def test_the_daily_purge_forgets_only_old_records(rep_a):
    now = timezone.now()
    for key, age in (("old", 8), ("recent", 6)):
        record = IdempotencyKey.objects.create(
            user=rep_a, key=key, request_hash="h", status_code=201, response_body="{}"
        )
        IdempotencyKey.objects.filter(pk=record.pk).update(created_at=now - datetime.timedelta(days=age))
    for name, hours in (("old.csv", 25), ("new.csv", 2)):
        upload = PendingImport.objects.create(user=rep_a, filename=name, content="user,kpi,date,value\n")
        PendingImport.objects.filter(pk=upload.pk).update(created_at=now - datetime.timedelta(hours=hours))
    assert purge_exchange_records() == 2
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["recent"]
    assert list(PendingImport.objects.values_list("filename", flat=True)) == ["new.csv"]


def test_the_daily_purge_deletes_expired_tokens_and_keeps_live_ones(rep_a):
    """Authentication refuses an expired token without reading the owner's other tokens: the purge removes them."""
    expired, _ = api_token_create(user=rep_a, name="old sync", expires_in_days=1)
    ApiToken.objects.filter(pk=expired.pk).update(expiry=timezone.now() - datetime.timedelta(minutes=1))
    api_token_create(user=rep_a, name="live sync", expires_in_days=30)
    api_token_create(user=rep_a, name="forever")
    assert purge_exchange_records() == 1
    assert sorted(ApiToken.objects.values_list("name", flat=True)) == ["forever", "live sync"]
