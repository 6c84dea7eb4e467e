from decimal import Decimal

import pytest
from django.template import Context, Template

from goals.models import Kpi

REVENUE = Kpi(name="Revenue", unit=Kpi.Unit.CURRENCY, currency_code="USD", decimal_places=2)
CALLS = Kpi(name="Calls", unit=Kpi.Unit.COUNT, decimal_places=0)
RATE = Kpi(name="Win rate", unit=Kpi.Unit.PERCENT, decimal_places=1)


@pytest.mark.parametrize(
    ("value", "kpi", "shown"),
    [
        (Decimal("12345.5"), REVENUE, "$12,345.50"),
        (Decimal("1234567"), CALLS, "1,234,567"),
        (Decimal("2.5"), CALLS, "3"),
        (Decimal("0"), CALLS, "0"),
        (Decimal("33.333"), RATE, "33.3%"),
        (None, CALLS, "—"),
    ],
)
def test_kpi_values_show_unit_decimals_and_thousands(value, kpi, shown):
    rendered = Template("{% load pacer %}{{ v|kpi_value:kpi }}").render(Context({"v": value, "kpi": kpi}))
    assert rendered == shown


def test_health_badge_always_carries_its_word():
    rendered = Template("{% load pacer %}{% health_badge h %}").render(Context({"h": "off_track"}))
    assert "Off track" in rendered and "text-bg-danger" in rendered
    assert "Not computed yet" in Template("{% load pacer %}{% health_badge '' %}").render(Context())


def test_percent_and_bar_width():
    rendered = Template("{% load pacer %}{{ a|percent }} {{ a|bar_width }} {{ b|bar_width }}").render(
        Context({"a": Decimal("137.6"), "b": Decimal("-5")})
    )
    assert rendered == "138% 100 0"
