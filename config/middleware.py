"""Site-wide response mending that no single view can do."""

from django.http import HttpResponseNotAllowed
from django.shortcuts import render
from django.urls import Resolver404, resolve


class MethodNotAllowedPageMiddleware:
    """A GET on a POST-only address (a reload after a failed cancel, a bookmarked form action) answers Django's
    bare, empty 405. Give it a page in the site's layout that says what happened and links to where the action
    lives: the address one level up (/goals/7/cancel/ → /goals/7/) when that is a page, else home. The status
    and the Allow header stay, so API clients and tests still see a 405."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not isinstance(response, HttpResponseNotAllowed) or response.content or request.headers.get("HX-Request"):
            return response
        page = render(request, "405.html", {"back_url": _parent_page(request.path)}, status=405)
        page["Allow"] = response["Allow"]
        return page


def _parent_page(path: str) -> str:
    parent = path.rstrip("/").rsplit("/", 1)[0] + "/"
    try:
        resolve(parent)
    except Resolver404:
        return "/"
    return parent
