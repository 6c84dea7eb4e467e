"""Display rules shared by every page and email: one filter per figure.

- `kpi_value`: a KPI's value (current, target, expected, forecast and its range, still needed per day) with
  its unit and decimals, by Babel in settings.PACER_LOCALE ("$12,345.50", "1,234", "33.3%", "7.5 h").
- `percent`: attainment and chance, whole percent unless told ("67%").
- `days_left`: "12 working days left" (today included when it is a working day).
- `pace_gap`: the gap to pace in words ("3 ahead of pace", "2 behind pace", "on pace").
- `day`: a date, with the year only when it is not this year ("1 Dec", "1 Jan 1999").
- `health_badge`: the health word on its colour.
Numbers are rounded half up to the KPI's step first (Babel alone would round half to even), so a figure
reads the same everywhere.
"""

import datetime
import functools
import re
from decimal import ROUND_HALF_UP, Decimal

from babel import Locale
from babel.numbers import format_currency, format_decimal, format_percent
from django import template
from django.conf import settings
from django.utils import timezone

from goals.models import Health, Kpi
from teams.calendar import format_day

register = template.Library()

# Colour AND word: the badge text always names the state (never colour alone). Classes meet AA contrast.
HEALTH_CLASSES = {
    Health.ACHIEVED: "text-bg-primary",
    Health.ON_TRACK: "text-bg-success",
    Health.AT_RISK: "text-bg-warning",
    Health.OFF_TRACK: "text-bg-danger",
}


def _pattern(places: int) -> str:
    return "#,##0" + ("." + "0" * places if places else "")


def _locale_pattern(kind: str, places: int) -> str:
    return _cached_pattern(settings.PACER_LOCALE, kind, places)


@functools.cache
def _cached_pattern(locale_name: str, kind: str, places: int) -> str:
    """The locale's own currency or percent pattern (symbol position, spacing) with `places` decimals."""
    locale = Locale.parse(locale_name)
    pattern = (locale.currency_formats["standard"] if kind == "currency" else locale.percent_formats[None]).pattern
    return re.sub(r"#,##0(\.0+)?", _pattern(places), pattern)


def format_number(amount: Decimal, places: int) -> str:
    """A plain number in the configured locale, rounded half up to `places` decimals."""
    amount = Decimal(amount).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP) + 0
    return format_decimal(amount, format=_pattern(places), locale=settings.PACER_LOCALE, decimal_quantization=True)


@register.filter
def kpi_value(value, kpi: Kpi):
    """12345.5 on a USD KPI with 2 decimals → "$12,345.50"; on a count KPI → "12,346"."""
    if value is None or value == "":
        return "—"
    places = kpi.decimal_places
    amount = Decimal(value).quantize(kpi.quantum, rounding=ROUND_HALF_UP) + 0
    if kpi.unit == Kpi.Unit.CURRENCY and kpi.currency_code:
        return format_currency(
            amount,
            kpi.currency_code,
            format=_locale_pattern("currency", places),
            locale=settings.PACER_LOCALE,
            currency_digits=False,
        )
    text = format_number(amount, places)
    if kpi.unit == Kpi.Unit.PERCENT:
        return format_percent(amount / 100, format=_locale_pattern("percent", places), locale=settings.PACER_LOCALE)
    if kpi.unit == Kpi.Unit.HOURS:
        return f"{text} h"
    return text


@register.filter
def percent(value, places=0):
    """A ratio already in percent (attainment 87.5, chance 64) → "88%"."""
    if value is None or value == "":
        return "—"
    places = int(places)
    amount = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP) + 0
    return format_percent(amount / 100, format=_locale_pattern("percent", places), locale=settings.PACER_LOCALE)


@register.filter
def pace_gap(figures):
    """A GoalFigures' gap to pace: "3 ahead of pace", "$120.00 behind pace", "on pace"."""
    gap = figures.pace_gap.quantize(figures.kpi.quantum, rounding=ROUND_HALF_UP)
    if not gap:
        return "on pace"
    return f"{kpi_value(abs(gap), figures.kpi)} {'ahead of' if gap > 0 else 'behind'} pace"


@register.filter
def days_left(n) -> str:
    """Working days left, today included when it is one: "1 working day left", "12 working days left"."""
    return f"{n} working day{'' if n == 1 else 's'} left"


@register.filter
def day(value, style=""):
    """One date format everywhere: "1 Dec" this year, "1 Jan 1999" otherwise; `|day:"weekday"` → "Fri 1 Jan 1999";
    `|day:"time"` on a datetime → "1 Dec, 09:03" (in the active timezone)."""
    if not value:
        return "—"
    moment = None
    if isinstance(value, datetime.datetime):
        moment = timezone.localtime(value) if timezone.is_aware(value) else value
        value = moment.date()
    text = format_day(value, weekday=style == "weekday", today=timezone.localdate())
    if style == "time" and moment is not None:
        text += f", {moment:%H:%M}"
    return text


@register.inclusion_tag("goals/_health_badge.html")
def health_badge(health):
    if not health:
        return {"label": "Not computed yet", "css": "text-bg-secondary"}
    return {"label": Health(health).label, "css": HEALTH_CLASSES[health]}


@register.simple_tag
def health_label(health):
    """The health word in lower case ("on track"), for counts such as "2 on track"."""
    return Health(health).label.lower() if health else "not computed yet"


@register.filter
def bar_width(value):
    """Progress-bar width in percent, clamped to 0–100 (the label still shows the true figure)."""
    if value is None:
        return 0
    return max(0, min(100, int(Decimal(value))))
