"""Teams pages: the hierarchy, team create/edit (admins), members and holidays (admins and the team's managers)."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from teams.models import Holiday, Membership, Team
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

YESTERDAY = timezone.localdate() - datetime.timedelta(days=1)


def checked_weekdays(html):
    return re.findall(r'name="working_weekdays" value="(\d)"\s+id="[^"]+" checked', html)


def membership_of(user, team):
    return Membership.objects.get(user=user, team=team, active_to__isnull=True)


# --- The hierarchy ---------------------------------------------------------------------------------------


def test_team_list_shows_org_region_team_as_nested_tree(client, admin_user):
    org = TeamFactory(name="Acme")
    region = TeamFactory(name="EMEA", parent=org)
    TeamFactory(name="London", parent=region)
    TeamFactory(name="Americas", parent=org)
    client.force_login(admin_user)
    html = client.get(reverse("team_list")).content.decode()
    # Acme's list holds Americas and EMEA (by name); London is nested one level deeper, inside EMEA's item.
    assert html.index("Acme") < html.index("Americas") < html.index("EMEA") < html.index("London")
    emea_item = html[html.index("EMEA") : html.index("London")]
    assert emea_item.count('<ul class="team-tree">') == 1
    assert "New team" in html


def test_manager_tree_starts_at_the_team_they_manage(client, personas):
    region = TeamFactory(name="Region of A")
    Team.objects.filter(id=personas.team_a.id).update(parent=region)
    client.force_login(personas.manager_a)
    html = client.get(reverse("team_list")).content.decode()
    assert "Team A" in html and "Region of A" not in html and "Team B" not in html
    assert "New team" not in html


def test_team_list_query_count_is_fixed(client, personas, django_assert_num_queries):
    for index in range(20):
        TeamFactory(name=f"Sub {index}", parent=personas.team_a)
    client.force_login(personas.admin)
    # session, user, every team with its parent (an admin sees all), nav: rep membership, unread badge
    with django_assert_num_queries(5):  # +1: nav unread badge
        assert client.get(reverse("team_list")).status_code == 200


# --- Team create and edit: admins only ---------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["manager_a", "rep_a"])
def test_only_admins_may_create_teams(client, personas, persona):
    client.force_login(getattr(personas, persona))
    assert client.get(reverse("team_create")).status_code == 403
    response = client.post(reverse("team_create"), {"name": "Sneaky", "working_weekdays": ["1"]})
    assert response.status_code == 403
    assert not Team.objects.filter(name="Sneaky").exists()


def test_admin_creates_team_under_a_parent_with_chosen_weekdays(client, personas):
    client.force_login(personas.admin)
    response = client.post(
        reverse("team_create"),
        {"name": "Dubai Sales", "parent": personas.team_a.id, "working_weekdays": ["7", "1", "2", "3", "4"]},
    )
    team = Team.objects.get(name="Dubai Sales")
    assert response.status_code == 302 and response["Location"] == reverse("team_detail", args=[team.id])
    assert (team.parent, team.working_weekdays, team.slug) == (personas.team_a, "12347", "dubai-sales")


def test_team_create_service_error_shows_on_the_name_and_keeps_the_input(client, personas):
    client.force_login(personas.admin)
    response = client.post(
        reverse("team_create"), {"name": "Team A", "parent": personas.team_b.id, "working_weekdays": ["1", "2"]}
    )
    html = response.content.decode()
    assert response.status_code == 200
    name_field = html[html.index('id="div_id_name"') : html.index('id="div_id_parent"')]
    assert "A team with the short name “team-a” already exists" in name_field  # the service's slug message
    assert 'value="Team A"' in html and f'<option value="{personas.team_b.id}" selected>' in html
    assert checked_weekdays(html) == ["1", "2"]
    assert Team.objects.count() == 2


def test_team_needs_at_least_one_working_weekday(client, personas):
    client.force_login(personas.admin)
    response = client.post(reverse("team_create"), {"name": "Lazy"})
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    assert not Team.objects.filter(name="Lazy").exists()


def test_manager_cannot_edit_own_team_and_other_team_is_404(client, personas):
    client.force_login(personas.manager_a)
    assert client.get(reverse("team_update", args=[personas.team_a.id])).status_code == 403
    assert client.get(reverse("team_update", args=[personas.team_b.id])).status_code == 404
    response = client.post(
        reverse("team_update", args=[personas.team_b.id]), {"name": "Hacked", "working_weekdays": ["1"]}
    )
    assert response.status_code == 404
    assert Team.objects.get(id=personas.team_b.id).name == "Team B"


def test_admin_edits_team_name_and_weekdays(client, personas):
    client.force_login(personas.admin)
    page = client.get(reverse("team_update", args=[personas.team_a.id])).content.decode()
    assert 'value="Team A"' in page and checked_weekdays(page) == ["1", "2", "3", "4", "5"]
    response = client.post(
        reverse("team_update", args=[personas.team_a.id]), {"name": "Team Alpha", "working_weekdays": ["6", "7"]}
    )
    assert response.status_code == 302
    team = Team.objects.get(id=personas.team_a.id)
    assert (team.name, team.working_weekdays) == ("Team Alpha", "67")


def test_team_cannot_move_under_its_own_sub_team_and_nothing_changes(client, personas):
    child = TeamFactory(name="Child", parent=personas.team_a)
    client.force_login(personas.admin)
    response = client.post(
        reverse("team_update", args=[personas.team_a.id]),
        {"name": "Renamed", "parent": child.id, "working_weekdays": ["1"]},
    )
    html = response.content.decode()
    assert response.status_code == 200 and "cannot be placed under itself" in html
    assert 'value="Renamed"' in html  # what the admin typed is still there
    team = Team.objects.get(id=personas.team_a.id)
    assert (team.name, team.parent_id, team.working_weekdays) == ("Team A", None, "12345")


# --- The team page --------------------------------------------------------------------------------------


def test_team_page_shows_members_capacity_holidays_and_weekdays(client, personas):
    org = TeamFactory(name="Acme")
    Team.objects.filter(id=personas.team_a.id).update(parent=org, working_weekdays="1234")
    Holiday.objects.create(team=org, date=datetime.date(2030, 12, 25), name="Christmas")
    Holiday.objects.create(team=personas.team_a, date=datetime.date(2030, 8, 1), name="Team day")
    Membership.objects.filter(user=personas.rep_a).update(capacity=Decimal("0.50"))
    client.force_login(personas.rep_a)
    html = client.get(reverse("team_detail", args=[personas.team_a.id])).content.decode()
    assert str(personas.rep_a) in html and str(personas.manager_a) in html
    assert '<td class="num">0.50</td>' in html
    assert "Christmas" in html and "from Acme" in html and "Team day" in html
    assert '<li class="weekday-on">Thu</li>' in html and "Fri (day off)" in html
    # A rep sees the page but none of the managing controls.
    assert "Add a member" not in html and "Add holiday" not in html and "Change" not in html


def test_former_members_are_listed_with_their_dates_in_a_collapsed_section(client, personas):
    leaver = UserFactory(first_name="Lee", last_name="Ver")
    MembershipFactory(
        user=leaver, team=personas.team_a, active_from=datetime.date(2024, 1, 1), active_to=datetime.date(2025, 3, 31)
    )
    client.force_login(personas.manager_a)
    html = client.get(reverse("team_detail", args=[personas.team_a.id])).content.decode()
    assert "<summary>Former members (1)</summary>" in html
    former = html[html.index("Former members") :]
    assert "Lee Ver" in former and "1 Jan 2024" in former and "31 Mar 2025" in former
    members_table = html[html.index('id="members"') : html.index("Former members")]
    assert "Lee Ver" not in members_table


def test_team_page_query_count_is_the_same_for_5_and_200_members(client, personas, django_assert_num_queries):
    """Pinned for an admin and for the team's manager, with former members and holidays present."""
    org = TeamFactory(name="Org")
    Team.objects.filter(id=personas.team_a.id).update(parent=org)
    Holiday.objects.create(team=org, date=datetime.date(2030, 1, 1))
    MembershipFactory.create_batch(3, team=personas.team_a, role=Membership.Role.MANAGER)  # 5 current members
    MembershipFactory(team=personas.team_a, active_to=datetime.date(2021, 1, 1))
    url = reverse("team_detail", args=[personas.team_a.id])

    def page_queries(user):
        client.force_login(user)
        # Admin: session, user, managed team ids (all ids), the team with its parent, team tree + current
        # members (2), former/upcoming members, holidays in force (tree + holidays = 2), people to add,
        # nav: rep membership.  = 11
        # Manager: managed team ids costs 2 (own manager memberships + tree), and the nav's is_manager asks
        # the same again (2).  = 14
        expected = 12 if user.is_staff else 15  # +1: nav unread badge
        with django_assert_num_queries(expected):
            assert client.get(url).status_code == 200

    for user in (personas.admin, personas.manager_a):
        page_queries(user)
    MembershipFactory.create_batch(195, team=personas.team_a)  # 200 current members
    MembershipFactory.create_batch(20, team=personas.team_a, active_to=datetime.date(2021, 1, 1))
    for user in (personas.admin, personas.manager_a):
        page_queries(user)


def test_other_team_page_is_404_for_manager_and_rep(client, personas):
    for user in (personas.manager_a, personas.rep_a):
        client.force_login(user)
        assert client.get(reverse("team_detail", args=[personas.team_b.id])).status_code == 404


# --- Members: add, change, remove ------------------------------------------------------------------------


def test_manager_adds_a_half_time_rep_to_their_team(client, personas):
    newcomer = UserFactory(first_name="Nia", last_name="New")
    client.force_login(personas.manager_a)
    response = client.post(
        reverse("member_add", args=[personas.team_a.id]),
        {"user": newcomer.id, "role": "rep", "capacity": "0.5", "active_from": "2026-02-01"},
    )
    assert response.status_code == 302
    membership = membership_of(newcomer, personas.team_a)
    assert (membership.role, membership.capacity, membership.active_from) == (
        "rep",
        Decimal("0.50"),
        datetime.date(2026, 2, 1),
    )


def test_add_member_form_offers_only_people_not_in_the_team(client, personas):
    outsider = UserFactory(first_name="Out", last_name="Sider")
    client.force_login(personas.manager_a)
    html = client.get(reverse("team_detail", args=[personas.team_a.id])).content.decode()
    form = html[html.index('id="add_member_user"') : html.index("</select>", html.index('id="add_member_user"'))]
    assert f'value="{outsider.id}"' in form and f'value="{personas.rep_a.id}"' not in form


@pytest.mark.parametrize(
    ("capacity", "message"),
    [("0", "greater than or equal to 0.01"), ("1.5", "less than or equal to 1.00"), ("", "This field is required")],
)
def test_capacity_outside_0_01_to_1_is_refused_in_place(client, personas, capacity, message):
    newcomer = UserFactory()
    client.force_login(personas.manager_a)
    response = client.post(
        reverse("member_add", args=[personas.team_a.id]),
        {"user": newcomer.id, "role": "rep", "capacity": capacity, "active_from": "2026-02-01"},
    )
    html = response.content.decode()
    assert response.status_code == 200 and message in html
    assert f'<option value="{newcomer.id}" selected>' in html and 'value="2026-02-01"' in html  # input kept
    assert not Membership.objects.filter(user=newcomer).exists()


def test_service_refusal_shows_on_the_person_field(client, personas):
    client.force_login(personas.admin)
    response = client.post(
        reverse("member_add", args=[personas.team_b.id]),
        {"user": personas.rep_a.id, "role": "rep", "capacity": "1", "active_from": "2026-02-01"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    person_field = html[html.index('id="div_add_member_user"') : html.index('id="div_add_member_role"')]
    assert "already a rep of Team A" in person_field
    assert not Membership.objects.filter(user=personas.rep_a, team=personas.team_b).exists()


def test_forged_user_ids_are_refused(client, personas):
    client.force_login(personas.manager_a)
    for forged in (personas.rep_a.id, 999_999):  # already a member; no such user
        response = client.post(
            reverse("member_add", args=[personas.team_a.id]),
            {"user": forged, "role": "rep", "capacity": "1", "active_from": "2026-02-01"},
        )
        assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert Membership.objects.filter(team=personas.team_a).count() == 2


def test_rep_cannot_manage_members_or_holidays_of_own_team(client, personas):
    client.force_login(personas.rep_a)
    team = personas.team_a
    rep_membership = membership_of(personas.rep_a, team)
    newcomer = UserFactory()
    posts = {
        reverse("member_add", args=[team.id]): {"user": newcomer.id, "role": "rep", "capacity": "1"},
        reverse("member_update", args=[team.id, rep_membership.id]): {"role": "manager", "capacity": "1"},
        reverse("member_remove", args=[team.id, rep_membership.id]): {"active_to": "2026-01-01"},
        reverse("holiday_add", args=[team.id]): {"date": "2030-01-01"},
    }
    for url, data in posts.items():
        assert client.post(url, data).status_code == 403, url
    assert client.get(reverse("member_update", args=[team.id, rep_membership.id])).status_code == 403
    rep_membership.refresh_from_db()
    assert (rep_membership.role, rep_membership.active_to) == ("rep", None)
    assert not Membership.objects.filter(user=newcomer).exists() and not Holiday.objects.exists()


def test_manager_a_cannot_touch_team_b_or_its_members(client, personas):
    team_b, rep_b = personas.team_b, membership_of(personas.rep_b, personas.team_b)
    holiday = Holiday.objects.create(team=team_b, date=datetime.date(2030, 5, 1))
    client.force_login(personas.manager_a)
    requests = [
        ("post", reverse("member_add", args=[team_b.id]), {"user": UserFactory().id, "role": "rep", "capacity": "1"}),
        ("get", reverse("member_update", args=[team_b.id, rep_b.id]), {}),
        ("post", reverse("member_update", args=[team_b.id, rep_b.id]), {"role": "manager", "capacity": "0.1"}),
        ("post", reverse("member_remove", args=[team_b.id, rep_b.id]), {"active_to": "2026-01-01"}),
        ("post", reverse("holiday_add", args=[team_b.id]), {"date": "2030-01-01"}),
        ("post", reverse("holiday_remove", args=[team_b.id, holiday.id]), {}),
        # Forged ids: team B's membership and holiday through team A's URLs.
        ("post", reverse("member_update", args=[personas.team_a.id, rep_b.id]), {"role": "manager", "capacity": "1"}),
        ("post", reverse("member_remove", args=[personas.team_a.id, rep_b.id]), {"active_to": "2026-01-01"}),
        ("post", reverse("holiday_remove", args=[personas.team_a.id, holiday.id]), {}),
    ]
    for method, url, data in requests:
        assert getattr(client, method)(url, data).status_code == 404, (method, url)
    rep_b.refresh_from_db()
    assert (rep_b.role, rep_b.capacity, rep_b.active_to) == ("rep", Decimal("1.00"), None)
    assert list(Holiday.objects.values_list("id", flat=True)) == [holiday.id]
    assert Membership.objects.filter(team=team_b).count() == 2


def test_write_endpoints_refuse_get(client, personas):
    client.force_login(personas.admin)
    membership = membership_of(personas.rep_a, personas.team_a)
    for url in (
        reverse("member_add", args=[personas.team_a.id]),
        reverse("member_remove", args=[personas.team_a.id, membership.id]),
        reverse("holiday_add", args=[personas.team_a.id]),
    ):
        assert client.get(url).status_code == 405, url


def test_anonymous_writes_go_to_login_and_change_nothing(client, personas):
    response = client.post(reverse("holiday_add", args=[personas.team_a.id]), {"date": "2030-01-01"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert not Holiday.objects.exists()


def test_manager_changes_role_and_capacity_inline_with_htmx(client, personas):
    membership = membership_of(personas.rep_a, personas.team_a)
    url = reverse("member_update", args=[personas.team_a.id, membership.id])
    client.force_login(personas.manager_a)
    edit_row = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert edit_row.strip().startswith(f'<tr id="member-{membership.id}"') and "<html" not in edit_row
    response = client.post(url, {"role": "rep", "capacity": "0.5"}, headers={"HX-Request": "true"})
    row = response.content.decode()
    assert row.strip().startswith(f'<tr id="member-{membership.id}"') and '<td class="num">0.50</td>' in row
    membership.refresh_from_db()
    assert membership.capacity == Decimal("0.50")


def test_member_change_errors_show_in_place_and_change_nothing(client, personas):
    membership = membership_of(personas.rep_a, personas.team_a)
    url = reverse("member_update", args=[personas.team_a.id, membership.id])
    client.force_login(personas.manager_a)
    row = client.post(url, {"role": "boss", "capacity": "2"}, headers={"HX-Request": "true"}).content.decode()
    assert "Select a valid choice" in row and "less than or equal to 1.00" in row and 'value="2"' in row
    page = client.post(url, {"role": "rep", "capacity": "0"}).content.decode()  # without htmx: the full page
    assert "<html" in page and "greater than or equal to 0.01" in page
    membership.refresh_from_db()
    assert (membership.role, membership.capacity) == ("rep", Decimal("1.00"))


def test_removing_a_member_keeps_their_history(client, personas):
    membership = membership_of(personas.rep_a, personas.team_a)
    client.force_login(personas.manager_a)
    response = client.post(
        reverse("member_remove", args=[personas.team_a.id, membership.id]), {"active_to": YESTERDAY.isoformat()}
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.active_to == YESTERDAY
    html = client.get(reverse("team_detail", args=[personas.team_a.id])).content.decode()
    assert str(personas.rep_a) in html[html.index("Former members") :]


def test_remove_before_membership_started_is_refused_in_place(client, personas):
    membership = membership_of(personas.rep_a, personas.team_a)  # started 1 Jan 2020
    client.force_login(personas.manager_a)
    response = client.post(
        reverse("member_remove", args=[personas.team_a.id, membership.id]), {"active_to": "2019-12-31"}
    )
    html = response.content.decode()
    assert response.status_code == 200 and "cannot be before the membership started" in html
    assert 'value="2019-12-31"' in html
    membership.refresh_from_db()
    assert membership.active_to is None


def test_member_edit_page_query_count_is_fixed(client, personas, django_assert_num_queries):
    membership = membership_of(personas.rep_a, personas.team_a)
    client.force_login(personas.manager_a)
    # session, user, managed team ids (manager memberships + tree), the team, the membership,
    # nav (is_manager: manager memberships + tree; is_rep: rep membership)
    with django_assert_num_queries(10):  # +1: nav unread badge
        client.get(reverse("member_update", args=[personas.team_a.id, membership.id]))


# --- Holidays ---------------------------------------------------------------------------------------------


def test_manager_adds_and_removes_a_holiday_with_htmx(client, personas):
    client.force_login(personas.manager_a)
    add_url = reverse("holiday_add", args=[personas.team_a.id])
    card = client.post(add_url, {"date": "2030-07-14", "name": "Summer party"}, headers={"HX-Request": "true"})
    html = card.content.decode()
    assert html.strip().startswith('<section class="card mb-4" id="holidays"') and "Summer party" in html
    holiday = Holiday.objects.get(team=personas.team_a)
    remove_url = reverse("holiday_remove", args=[personas.team_a.id, holiday.id])
    html = client.post(remove_url, headers={"HX-Request": "true"}).content.decode()
    assert "No holidays." in html and not Holiday.objects.exists()


def test_duplicate_holiday_is_refused_in_place(client, personas):
    Holiday.objects.create(team=personas.team_a, date=datetime.date(2030, 7, 14), name="First")
    client.force_login(personas.manager_a)
    response = client.post(reverse("holiday_add", args=[personas.team_a.id]), {"date": "2030-07-14", "name": "Second"})
    html = response.content.decode()
    assert response.status_code == 200 and "is already a holiday of Team A" in html and 'value="Second"' in html
    assert Holiday.objects.count() == 1


def test_inherited_holiday_cannot_be_removed_from_the_sub_team(client, personas):
    org = TeamFactory(name="Org")
    Team.objects.filter(id=personas.team_a.id).update(parent=org)
    holiday = Holiday.objects.create(team=org, date=datetime.date(2030, 12, 25))
    client.force_login(personas.manager_a)
    html = client.get(reverse("team_detail", args=[personas.team_a.id])).content.decode()
    assert reverse("holiday_remove", args=[personas.team_a.id, holiday.id]) not in html
    assert client.post(reverse("holiday_remove", args=[personas.team_a.id, holiday.id])).status_code == 404
    assert Holiday.objects.count() == 1


# --- Navigation -------------------------------------------------------------------------------------------


def test_navigation_shows_kpis_to_admins_only_and_marks_the_current_section(client, personas):
    client.force_login(personas.admin)
    html = client.get(reverse("kpi_list")).content.decode()
    assert f'<a class="nav-link active" aria-current="page" href="{reverse("kpi_list")}">KPIs</a>' in html
    assert f'<a class="nav-link" href="{reverse("team_list")}">Teams</a>' in html
    for persona in (personas.manager_a, personas.rep_a):
        client.force_login(persona)
        html = client.get(reverse("team_detail", args=[personas.team_a.id])).content.decode()
        assert f'<a class="nav-link active" aria-current="page" href="{reverse("team_list")}">Teams</a>' in html
        assert reverse("kpi_list") not in html
