"""KPI admin pages: list, create, edit. Admins only (403 for everyone else)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render

from goals import services
from goals.forms import KpiForm
from goals.models import Kpi
from teams.forms import add_service_errors
from teams.views import admin_required


@admin_required
def kpi_list(request):
    return render(request, "goals/kpi_list.html", {"kpis": Kpi.objects.order_by("-is_active", "name")})


@admin_required
def kpi_create(request):
    form = KpiForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            kpi = services.kpi_create(**form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"KPI “{kpi.name}” created.")
            return redirect("kpi_list")
    return render(request, "goals/kpi_form.html", {"form": form, "kpi": None})


@admin_required
def kpi_update(request, kpi_id):
    kpi = get_object_or_404(Kpi, id=kpi_id)
    form = KpiForm(request.POST or None, kpi=kpi)
    if request.method == "POST" and form.is_valid():
        try:
            kpi = services.kpi_update(kpi=kpi, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"KPI “{kpi.name}” saved.")
            return redirect("kpi_list")
    return render(request, "goals/kpi_form.html", {"form": form, "kpi": kpi})
