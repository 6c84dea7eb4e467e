"""Display rules shared by every page: KPI values with their unit and decimals, health badges, attainment."""

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils.formats import number_format

from goals.models import Health, Kpi

register = template.Library()

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}
# Colour AND word: the badge text always names the state (never colour alone). Classes meet AA contrast.
HEALTH_CLASSES = {
    Health.ACHIEVED: "text-bg-primary",
    Health.ON_TRACK: "text-bg-success",
    Health.AT_RISK: "text-bg-warning",
    Health.OFF_TRACK: "text-bg-danger",
}


@register.filter
def kpi_value(value, kpi: Kpi):
    """12345.5 on a USD KPI with 2 decimals → "$12,345.50"; on a count KPI → "12,346"."""
    if value is None or value == "":
        return "—"
    amount = Decimal(value).quantize(kpi.quantum, rounding=ROUND_HALF_UP)
    text = number_format(amount, decimal_pos=kpi.decimal_places, use_l10n=True, force_grouping=True)
    if kpi.unit == Kpi.Unit.CURRENCY:
        symbol = CURRENCY_SYMBOLS.get(kpi.currency_code)
        return f"{symbol}{text}" if symbol else f"{text} {kpi.currency_code}"
    if kpi.unit == Kpi.Unit.PERCENT:
        return f"{text} %"
    if kpi.unit == Kpi.Unit.HOURS:
        return f"{text} h"
    return text


@register.filter
def percent(value, places=0):
    """An attainment ratio already in percent (e.g. 87.5) → "88 %"."""
    if value is None:
        return "—"
    amount = Decimal(value).quantize(Decimal(1).scaleb(-int(places)), rounding=ROUND_HALF_UP)
    return f"{number_format(amount, decimal_pos=int(places), force_grouping=True)} %"


@register.inclusion_tag("goals/_health_badge.html")
def health_badge(health):
    if not health:
        return {"label": "Not computed yet", "css": "text-bg-secondary"}
    return {"label": Health(health).label, "css": HEALTH_CLASSES[health]}


@register.filter
def bar_width(value):
    """Progress-bar width in percent, clamped to 0–100 (the label still shows the true figure)."""
    if value is None:
        return 0
    return max(0, min(100, int(Decimal(value))))
