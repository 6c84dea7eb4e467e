from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    # Pages without Pacer's <link rel="icon"> (the Django admin, a JSON error) make browsers ask for this.
    path("favicon.ico", views.favicon),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("notifications/", include("notifications.urls")),
    path("", include("teams.urls")),
    path("", include("goals.urls")),
]
