"""KPI admin pages: list, create, edit. Admins only."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from goals.models import Kpi, ProgressEntry

pytestmark = pytest.mark.django_db

VALID = {
    "name": "Revenue",
    "unit": "currency",
    "currency_code": "eur",
    "decimal_places": "2",
    "aggregation": "sum",
    "direction": "higher",
    "description": "Closed-won deal value.",
}


def field_block(html, field):
    """The crispy-rendered block of one form field: its input, help text and errors."""
    start = html.index(f'id="div_id_{field}"')
    end = html.find('id="div_id_', start + 1)
    return html[start : end if end != -1 else len(html)]


@pytest.fixture
def calls(db):
    return Kpi.objects.create(name="Calls", unit="count")


@pytest.mark.parametrize("persona", ["manager_a", "rep_a"])
def test_only_admins_reach_kpi_pages(client, personas, calls, persona):
    client.force_login(getattr(personas, persona))
    for url in (reverse("kpi_list"), reverse("kpi_create"), reverse("kpi_update", args=[calls.id])):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("kpi_create"), VALID).status_code == 403
    assert client.post(reverse("kpi_update", args=[calls.id]), {**VALID, "name": "Hacked"}).status_code == 403
    assert list(Kpi.objects.values_list("name", flat=True)) == ["Calls"]


def test_kpi_pages_need_login(client):
    response = client.get(reverse("kpi_list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_admin_creates_a_currency_kpi(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("kpi_create"), VALID)
    assert response.status_code == 302 and response["Location"] == reverse("kpi_list")
    kpi = Kpi.objects.get(name="Revenue")
    assert (kpi.unit, kpi.currency_code, kpi.decimal_places, kpi.is_active) == ("currency", "EUR", 2, True)
    listing = client.get(reverse("kpi_list")).content.decode()
    assert "Revenue" in listing and "(EUR)" in listing and "2 decimals · Sum of entries" in listing


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": "calls"}, "name", "A KPI called “calls” already exists"),
        ({"currency_code": ""}, "currency_code", "needs its ISO 4217 currency code"),
        ({"currency_code": "dollars"}, "currency_code", "“DOLLARS” is not an ISO 4217 currency code"),
        ({"currency_code": "DOL"}, "currency_code", "“DOL” is not an ISO 4217 currency code"),
        ({"decimal_places": "5"}, "decimal_places", "less than or equal to 4"),
        ({"aggregation": "avg"}, "aggregation", "Select a valid choice"),
    ],
)
def test_kpi_create_errors_show_on_their_field_and_keep_the_input(client, admin_user, calls, changes, field, message):
    client.force_login(admin_user)
    response = client.post(reverse("kpi_create"), {**VALID, **changes})
    html = response.content.decode()
    assert response.status_code == 200
    assert message in field_block(html, field)
    assert "Closed-won deal value." in html  # what the admin typed is kept
    assert Kpi.objects.count() == 1


def test_admin_edits_a_kpi_and_deactivates_it(client, admin_user, calls):
    client.force_login(admin_user)
    page = client.get(reverse("kpi_update", args=[calls.id])).content.decode()
    assert 'value="Calls"' in page and "checked" in page  # current values, active ticked
    response = client.post(
        reverse("kpi_update", args=[calls.id]),
        {"name": "Calls made", "unit": "count", "decimal_places": "0", "aggregation": "sum", "direction": "higher"},
    )
    assert response.status_code == 302
    calls.refresh_from_db()
    assert (calls.name, calls.is_active) == ("Calls made", False)


def test_aggregation_is_frozen_once_progress_exists_and_the_error_shows_on_it(client, admin_user, rep_a, calls):
    ProgressEntry.objects.create(
        user=rep_a, kpi=calls, date=datetime.date(2026, 1, 5), value=Decimal(3), created_by=rep_a
    )
    client.force_login(admin_user)
    data = {"name": "Calls", "unit": "count", "decimal_places": "0", "aggregation": "last", "direction": "higher"}
    html = client.post(reverse("kpi_update", args=[calls.id]), {**data, "is_active": "on"}).content.decode()
    field_html = field_block(html, "aggregation")
    assert "cannot change once progress has been logged" in field_html
    assert '<option value="last" selected>' in field_html
    calls.refresh_from_db()
    assert calls.aggregation == "sum"


def test_missing_kpi_is_404(client, admin_user):
    client.force_login(admin_user)
    assert client.get(reverse("kpi_update", args=[999])).status_code == 404


def test_kpi_list_query_count_is_fixed(client, admin_user, django_assert_num_queries):
    for index in range(30):
        Kpi.objects.create(name=f"KPI {index}")
    client.force_login(admin_user)
    # session, user, the KPIs, nav: rep membership
    with django_assert_num_queries(5):  # +1: nav unread badge
        assert client.get(reverse("kpi_list")).status_code == 200
