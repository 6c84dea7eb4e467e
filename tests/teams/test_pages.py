import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_login_page_renders_and_logs_in(client, rep_a):
    page = client.get(reverse("login"))
    assert page.status_code == 200 and b"Log in to Pacer" in page.content
    response = client.post(reverse("login"), {"username": rep_a.username, "password": "pw"})
    assert response.status_code == 302
    assert client.get(reverse("team_list")).status_code == 200


def test_wrong_password_shows_error_in_page(client, rep_a):
    response = client.post(reverse("login"), {"username": rep_a.username, "password": "nope"})
    assert response.status_code == 200 and b"correct username and password" in response.content


def test_pages_need_login(client):
    response = client.get(reverse("team_list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_manager_sees_own_team_page_but_other_team_is_404(client, personas):
    client.force_login(personas.manager_a)
    assert client.get(reverse("team_detail", args=[personas.team_a.id])).status_code == 200
    assert client.get(reverse("team_detail", args=[personas.team_b.id])).status_code == 404


def test_team_page_query_count_does_not_grow_with_members(client, personas, django_assert_max_num_queries):
    from tests.factories import MembershipFactory

    client.force_login(personas.manager_a)
    url = reverse("team_detail", args=[personas.team_a.id])
    # session, user, visible teams (2), team, parents x3, members, weekdays, holidays, role, nav (2)
    with django_assert_max_num_queries(16):
        client.get(url)
    MembershipFactory.create_batch(30, team=personas.team_a)
    with django_assert_max_num_queries(16):
        assert client.get(url).status_code == 200
