"""The REST API: /api/v1/ with every app's resources, the OpenAPI schema and its offline docs.

Each app registers its viewsets in its own `api` module (`register(router)`, plus plain `urls`); add an app's
module to APPS to publish it.
"""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

import feedback.api
import goals.api
import notifications.api
import rewards.api
import teams.api

APPS = [teams.api, goals.api, notifications.api, rewards.api, feedback.api]

router = DefaultRouter(trailing_slash=True)
extra = []
for module in APPS:
    module.register(router)
    extra += [path(route, view, name=name) for route, view, name in module.urls]

v1 = [*extra, *router.urls]

urlpatterns = [
    path("v1/", include((v1, "api"), namespace="v1")),
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    # The split view serves Swagger UI's init script as a file, so the page needs no inline script (CSP).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api_schema"), name="api_docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api_schema"), name="api_redoc"),
]
