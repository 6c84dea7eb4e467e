"""KPI admin pages: list, create, edit. Admins only (403 for everyone else)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from goals import selectors, services
from goals.forms import KpiForm
from teams.web import add_service_errors, admin_required


@admin_required
def kpi_list(request):
    kpis = selectors.kpi_list(active_only=False).order_by("-is_active", "name")
    return render(request, "goals/kpi_list.html", {"kpis": kpis})


@admin_required
def kpi_create(request):
    return _kpi_form_page(request, kpi=None)


@admin_required
def kpi_update(request, kpi_id):
    return _kpi_form_page(request, kpi=selectors.kpi_get(id=kpi_id))


def _kpi_form_page(request, *, kpi):
    """The KPI form: a new KPI when `kpi` is None, else that KPI's settings."""
    form = KpiForm(request.POST or None, kpi=kpi)
    if request.method == "POST" and form.is_valid():
        try:
            if kpi is None:
                saved = services.kpi_create(**form.cleaned_data)
            else:
                saved = services.kpi_update(kpi=kpi, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"KPI “{saved.name}” {'created' if kpi is None else 'saved'}.")
            return redirect("kpi_list")
    return render(request, "goals/kpi_form.html", {"form": form, "kpi": kpi})
