"""Decimal rules shared by the services and the engine: measured values are Decimals end to end."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError

from goals.models import VALUE
from teams.validators import NON_ASCII_DIGITS_MESSAGE, has_non_ascii_digits, normal_decimal

# The smallest step a stored value can take (4 decimals).
STORAGE_QUANTUM = Decimal(1).scaleb(-VALUE["decimal_places"])


def exact_sum(number, quantum: Decimal = STORAGE_QUANTUM) -> Decimal | None:
    """A database SUM as an exact Decimal (None stays None).

    PostgreSQL returns exact numerics. SQLite sums numeric columns as floats; every stored value is a
    whole number of `quantum` steps, so snapping the float back to that step restores the exact total
    for any realistic sum (the same precision Django's own Sum has)."""
    if number is None or isinstance(number, Decimal):
        return number
    return Decimal(str(number)).quantize(quantum, rounding=ROUND_HALF_UP)


def decimal_argument(value, field: str) -> Decimal:
    """A service argument as a finite Decimal: a Decimal, an int or a numeric string.

    A float is a programming error (floats are inexact); anything else that is not a number is the
    user's error, reported on `field`: also text with digits other than 0–9 (teams.validators). "-0" is 0, so a
    typed "-0" never reads as a change."""
    if isinstance(value, float):
        raise TypeError(f"{field} must be a Decimal (or a string), never a float.")
    if isinstance(value, str) and has_non_ascii_digits(value):
        raise ValidationError({field: NON_ASCII_DIGITS_MESSAGE.format(text=value.strip())})
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite():
        raise ValidationError({field: f"“{value}” is not a number."})
    return normal_decimal(number)


def too_many_decimals(kpi, value) -> str:
    """The one message for a value finer than the KPI's step, wherever a value is typed (an entry, a target)."""
    allowed = "whole numbers only" if kpi.decimal_places == 0 else f"at most {kpi.decimal_places} decimals"
    return f"{kpi} takes {allowed}; {value} has more."
