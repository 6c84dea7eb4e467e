"""Input rules shared by every app (teams is the base layer, so goals and the API reuse them from here).

- Dates: every stored date (goal windows, entries, holidays, memberships) lies in
  [settings.PACER["MIN_DATE"], settings.PACER["MAX_DATE"]]. Before the floor is a typo (1900, 0202); past the
  ceiling the date arithmetic of pace and calendars would overflow (9999-12-31 + 1 day is an OverflowError).
  The check is a model-field validator, so every service's full_clean() applies it, and the form fields below
  apply it before a preview or an achievability check that saves nothing.
- Numbers and dates are typed with the ASCII digits 0–9. Python's Decimal() and int() silently accept any
  Unicode digit (Arabic-Indic "١٢٣" becomes 123, a superscript "²" passes str.isdigit() and then breaks int()),
  so text with other digits is refused with a message that says so, everywhere a number or id is parsed.
- Ids in URLs and query strings are strict ASCII digits; anything else is "no such object" (a 404).
"""

import datetime
import re
from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

_ASCII_ID = re.compile(r"[0-9]{1,18}")
NON_ASCII_DIGITS_MESSAGE = "Type numbers and dates with the digits 0–9 (“{text}” has other digits)."


def date_bounds() -> tuple[datetime.date, datetime.date]:
    return settings.PACER["MIN_DATE"], settings.PACER["MAX_DATE"]


def validate_pacer_date(value: datetime.date) -> None:
    """A model-field and form-field validator: the date lies in the range Pacer stores."""
    low, high = date_bounds()
    if value < low:
        raise ValidationError(
            f"{value.isoformat()} is before {low:%d %b %Y}, the earliest date Pacer keeps; check the year.",
            code="date_too_early",
        )
    if value > high:
        raise ValidationError(
            f"{value.isoformat()} is after {high:%d %b %Y}, the latest date Pacer keeps; check the year.",
            code="date_too_late",
        )


def has_non_ascii_digits(text: str) -> bool:
    return any(char.isdigit() and not char.isascii() for char in text)


def refuse_non_ascii_digits(value) -> None:
    """Raise a ValidationError when text holds a digit other than 0–9 (a no-op for non-strings)."""
    if isinstance(value, str) and has_non_ascii_digits(value):
        raise ValidationError(NON_ASCII_DIGITS_MESSAGE.format(text=value.strip()), code="non_ascii_digits")


def parse_id(text) -> int | None:
    """A database id from a URL or query string, or None when it is not strictly 1–18 ASCII digits."""
    text = str(text)
    return int(text) if _ASCII_ID.fullmatch(text) else None


def normal_decimal(number: Decimal) -> Decimal:
    """-0 (or -0.00) as 0: a typed "-0" must compare and print like 0, never as a change."""
    return number + 0 if number.is_zero() else number


class PacerDateField(forms.DateField):
    """A date typed with ASCII digits, inside the stored range."""

    default_validators = [validate_pacer_date]

    def to_python(self, value):
        refuse_non_ascii_digits(value)
        return super().to_python(value)


class PacerDecimalField(forms.DecimalField):
    """A number typed with ASCII digits; -0 comes out as 0."""

    def to_python(self, value):
        refuse_non_ascii_digits(value)
        number = super().to_python(value)
        return normal_decimal(number) if isinstance(number, Decimal) and number.is_finite() else number
