"""The project's URLs plus /bench/json/: the smallest Django JSON view, the HTTP bench's baseline."""

from django.http import JsonResponse
from django.urls import path

from config.urls import urlpatterns as project_urls


def minimal_json(request):
    return JsonResponse({"ok": True})


urlpatterns = [path("bench/json/", minimal_json), *project_urls]
