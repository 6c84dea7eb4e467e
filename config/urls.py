from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include("config.api_urls")),
    path("", include("api.urls")),  # API tokens and CSV import/export pages
    path("notifications/", include("notifications.urls")),
    path("", include("teams.urls")),
    path("", include("goals.urls")),
]
