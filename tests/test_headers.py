"""Headers and proxies (issue 9 §8): a Content-Security-Policy without 'unsafe-inline' or 'unsafe-eval' on every
page, templates that need neither, and X-Forwarded-Proto trusted only when BEHIND_PROXY says so.

The browser tests (tests/e2e) prove the pages really satisfy the policy: a violation is a console error there."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from tests.test_config import _settings_subprocess

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# Emails are read in mail clients, which never see the page's policy and need inline styles.
PAGE_TEMPLATES = [p for p in TEMPLATES.rglob("*.html") if "emails" not in p.parts]


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/today/", "/dashboard/", "/no-such-page/"])
def test_every_page_carries_a_strict_policy(client, personas, path):
    client.force_login(personas.manager_a)
    response = client.get(path)
    assert "{#" not in response.content.decode()  # a template comment that leaked into the page
    policy = _policy(response)
    for directive in ("script-src", "style-src"):
        assert policy[directive] == ["'self'"], directive
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in str(policy) and "'unsafe-eval'" not in str(policy)


@pytest.mark.django_db
def test_htmx_fragments_carry_it_too(client, personas):
    client.force_login(personas.rep_a)
    response = client.get(reverse("today"), HTTP_HX_REQUEST="true")
    assert "script-src 'self'" in response["Content-Security-Policy"]


@pytest.mark.parametrize("template", PAGE_TEMPLATES, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_templates_have_no_inline_scripts_styles_or_handlers(template):
    text = template.read_text()
    assert not re.search(r"\sstyle\s*=", text), "a style attribute: use a class from static/css/pacer.css"
    assert not re.search(r"<style[\s>]", text), "a <style> block: move it to static/css/pacer.css"
    assert not re.search(r"\son[a-z]+\s*=", text), "an on*= handler: bind it from static/js"
    assert not re.search(r"\shx-on[:-]", text), "hx-on needs eval"
    for tag in re.findall(r"<script\b[^>]*>", text):
        assert "src=" in tag or "application/json" in tag, f"an inline script: {tag}"


def test_htmx_is_configured_for_the_policy():
    base = (TEMPLATES / "base.html").read_text()
    assert '"includeIndicatorStyles": false' in base and '"allowEval": false' in base
    assert '"attributesToSettle": ["class", "width", "height"]' in base  # no setAttribute("style") on a swap


def test_x_forwarded_proto_is_trusted_only_behind_a_proxy():
    code = "from django.conf import settings as s; print(s.SECURE_PROXY_SSL_HEADER)"
    assert _settings_subprocess({"DEBUG": "1"}, code).stdout.strip() == "None"
    behind = _settings_subprocess({"DEBUG": "1", "BEHIND_PROXY": "1"}, code).stdout.strip()
    assert behind == "('HTTP_X_FORWARDED_PROTO', 'https')"


@pytest.mark.django_db
def test_a_forged_forwarded_proto_is_not_a_secure_request(client, settings):
    from django.http import HttpRequest

    request = HttpRequest()
    request.META = {"HTTP_X_FORWARDED_PROTO": "https", "SERVER_NAME": "x", "SERVER_PORT": "80"}
    assert settings.SECURE_PROXY_SSL_HEADER is None and not request.is_secure()
