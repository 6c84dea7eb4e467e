"""KPIs: what can be measured. Admins configure them."""

from babel.numbers import list_currencies
from django.core.exceptions import ValidationError
from django.db import transaction

from goals.models import Kpi, ProgressEntry


@transaction.atomic
def kpi_create(
    *,
    name: str,
    unit: str = Kpi.Unit.COUNT,
    decimal_places: int = 0,
    aggregation: str = Kpi.Aggregation.SUM,
    direction: str = Kpi.Direction.HIGHER,
    description: str = "",
    currency_code: str = "",
) -> Kpi:
    if Kpi.objects.filter(name__iexact=name.strip()).exists():
        raise ValidationError({"name": f"A KPI called “{name.strip()}” already exists."})
    kpi = Kpi(
        name=name.strip(),
        unit=unit,
        decimal_places=decimal_places,
        aggregation=aggregation,
        direction=direction,
        description=description,
        currency_code=currency_code.upper(),
    )
    _validate(kpi)
    kpi.save()
    return kpi


@transaction.atomic
def kpi_update(*, kpi: Kpi, **fields) -> Kpi:
    """Change a KPI. Its aggregation and decimals shape every stored number, so they are frozen once entries exist."""
    kpi = Kpi.objects.select_for_update().get(pk=kpi.pk)
    has_entries = ProgressEntry.objects.filter(kpi=kpi).exists()
    for frozen in ("aggregation", "decimal_places", "direction"):
        if has_entries and frozen in fields and fields[frozen] != getattr(kpi, frozen):
            label = Kpi._meta.get_field(frozen).verbose_name
            raise ValidationError({frozen: f"The {label} cannot change once progress has been logged on this KPI."})
    if "name" in fields:
        fields["name"] = fields["name"].strip()
        if Kpi.objects.filter(name__iexact=fields["name"]).exclude(pk=kpi.pk).exists():
            raise ValidationError({"name": f"A KPI called “{fields['name']}” already exists."})
    for field, value in fields.items():
        setattr(kpi, field, value)
    _validate(kpi)
    kpi.save()
    return kpi


def currency_code_error(code: str) -> str | None:
    """Why `code` is not an ISO 4217 currency code (Babel's list), or None when it is one."""
    if code.upper() in list_currencies():
        return None
    return f"“{code}” is not an ISO 4217 currency code: use three letters such as USD, EUR or GBP."


def _validate(kpi: Kpi) -> None:
    if kpi.unit == Kpi.Unit.CURRENCY:
        if not kpi.currency_code:
            raise ValidationError({"currency_code": "A currency KPI needs its ISO 4217 currency code, e.g. USD."})
        if error := currency_code_error(kpi.currency_code):
            raise ValidationError({"currency_code": error})
    kpi.full_clean()
