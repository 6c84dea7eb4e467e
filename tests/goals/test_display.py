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


def test_one_date_format_with_the_year_only_when_it_is_not_this_year(time_machine):
    import datetime

    time_machine.move_to(datetime.datetime(2026, 12, 1, 12, tzinfo=datetime.UTC), tick=False)
    template = Template('{% load pacer %}{{ a|day }} | {{ b|day }} | {{ b|day:"weekday" }} | {{ c|day:"time" }}')
    context = Context(
        {
            "a": datetime.date(2026, 12, 1),
            "b": datetime.date(1999, 1, 1),
            "c": datetime.datetime(2026, 3, 5, 9, 3, tzinfo=datetime.UTC),
        }
    )
    assert template.render(context) == "1 Dec | 1 Jan 1999 | Fri 1 Jan 1999 | 5 Mar, 09:03"


@pytest.mark.parametrize(
    ("value", "kpi", "shown"),
    [
        (Decimal("1200"), Kpi(unit=Kpi.Unit.CURRENCY, currency_code="USD", decimal_places=2), "$1,200.00"),
        (Decimal("1200.5"), Kpi(unit=Kpi.Unit.CURRENCY, currency_code="JPY", decimal_places=0), "¥1,201"),
        (Decimal("0.125"), Kpi(unit=Kpi.Unit.CURRENCY, currency_code="EUR", decimal_places=2), "€0.13"),  # half up
        (Decimal("7.5"), Kpi(unit=Kpi.Unit.HOURS, decimal_places=1), "7.5 h"),
    ],
)
def test_amounts_are_formatted_by_babel_in_the_configured_locale_rounded_half_up(value, kpi, shown):
    assert Template("{% load pacer %}{{ v|kpi_value:kpi }}").render(Context({"v": value, "kpi": kpi})) == shown


def test_the_locale_setting_changes_every_number(settings):
    settings.PACER_LOCALE = "de_DE"
    kpi = Kpi(unit=Kpi.Unit.CURRENCY, currency_code="EUR", decimal_places=2)
    rendered = Template("{% load pacer %}{{ v|kpi_value:kpi }} {{ p|percent }}").render(
        Context({"v": Decimal("1234.5"), "kpi": kpi, "p": Decimal("66.6")})
    )
    assert rendered == "1.234,50\xa0€ 67\xa0%"
