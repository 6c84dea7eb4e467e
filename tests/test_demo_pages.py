"""Every page the demo logins reach from their navigation opens on the real demo data (what `make run` shows)."""

import re

import pytest
from django.core.management import call_command

from teams.models import User

LINK = re.compile(r'href="(/[^"#?]*)"')
SKIP = ("/admin/", "/static/", "/accounts/logout")


def _links(html: str) -> list[str]:
    return [url for url in dict.fromkeys(LINK.findall(html)) if not url.startswith(SKIP)]


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    yield
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["admin", "manager1", "rep1"])
def test_demo_login_pages_reached_from_the_navigation_all_open(client, demo, username):
    client.force_login(User.objects.get(username=username))
    home = client.get("/", follow=True)
    assert home.status_code == 200
    nav = home.content.decode().split('id="nav-main"', 1)[1].split("</nav>", 1)[0]
    pages = _links(nav)
    assert len(pages) >= 3, pages
    # The navigation's pages, and every page one click further inside them.
    for url in list(pages):
        response = client.get(url)
        assert response.status_code == 200, url
        pages += [link for link in _links(response.content.decode()) if link not in pages]
    for url in pages[:80]:
        assert client.get(url).status_code in (200, 302), url


@pytest.mark.django_db
def test_the_demo_shows_the_dashboards_paged_rep_table(client, demo):
    """The admin manages every demo team: their reps (24 and more) fill two pages of the dashboard's rep table."""
    client.force_login(User.objects.get(username="admin"))
    body = client.get("/dashboard/").content.decode()
    total = int(re.search(r"Reps 1–20 of (\d+)", body).group(1))
    assert 20 < total <= 40 and f"{total} reps" in body and 'rel="next"' in body
    assert f"Reps 21–{total} of {total}" in client.get("/dashboard/", {"page": 2}).content.decode()
