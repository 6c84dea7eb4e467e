from django.contrib import admin
from django.urls import include, path

from teams.auth import LoginView

from . import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/login/", LoginView.as_view(), name="login"),  # before auth.urls: throttled one at a time
    path("accounts/", include("django.contrib.auth.urls")),
    path("notifications/", include("notifications.urls")),
    path("", include("teams.urls")),
    path("", include("goals.urls")),
]
