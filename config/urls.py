from django.contrib import admin
from django.contrib.auth.views import LoginView
from django.urls import include, path

from teams.auth import attempts_one_at_a_time

from . import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    # Pages without Pacer's <link rel="icon"> (the Django admin, a JSON error) make browsers ask for this.
    path("favicon.ico", views.favicon),
    # Both login pages take attempts per account and address one at a time (teams/auth.py says why).
    path("admin/login/", attempts_one_at_a_time(admin.site.login)),
    path("admin/", admin.site.urls),
    path("accounts/login/", attempts_one_at_a_time(LoginView.as_view()), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("notifications/", include("notifications.urls")),
    path("rewards/", include("rewards.urls")),
    path("", include("teams.urls")),
    path("", include("goals.urls")),
    path("", include("feedback.urls")),  # /feedback/…, /checkins/… and /one-on-one/…
]
