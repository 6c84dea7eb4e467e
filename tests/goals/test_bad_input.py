"""Bad input that used to break pages (issue 9 §7): every one gets a clear error that says what to fix, nothing is
stored, never a 500.

Everything happens on Wednesday 11 March 2026 (UTC, the personas' timezone)."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse

from goals import services
from goals.models import Goal, GoalRevision, ProgressEntry
from teams.models import Holiday, Membership
from teams.validators import parse_id
from tests.factories import GoalFactory, UserFactory
from tests.goals.test_manager_pages import goal_data

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("wednesday_11_march")]

HTMX = {"HTTP_HX_REQUEST": "true"}
TODAY = datetime.date(2026, 3, 11)


def owner(personas):
    return f"user:{personas.rep_a.id}"


# --- dates out of range ---------------------------------------------------------------------------------------

OUT_OF_RANGE = [
    ("due_date", "9999-12-31", "the latest date Pacer keeps"),
    ("start_date", "1900-01-01", "the earliest date Pacer keeps"),
    ("start_date", "0202-04-01", "the earliest date Pacer keeps"),
]


@pytest.mark.parametrize(("field", "value", "message"), OUT_OF_RANGE)
@pytest.mark.parametrize(
    ("url", "extra"),
    [
        ("goal_create", {"step": "preview"}),
        ("goal_create", {"step": "confirm"}),
        ("goal_create_preview", {}),
        ("goal_achievability", {}),
    ],
)
def test_out_of_range_dates_on_the_goal_form_are_form_errors(
    client, personas, deals, url, extra, field, value, message
):
    client.force_login(personas.manager_a)
    data = {**goal_data(owner(personas), deals, **{field: value}), **extra}
    response = client.post(reverse(url), data, **(HTMX if url != "goal_create" else {}))
    assert response.status_code == 200
    if url != "goal_achievability":  # the verdict fragment only goes quiet until the form is whole
        assert message in response.content.decode()
    assert not Goal.objects.exists()


@pytest.mark.parametrize(("field", "value", "message"), OUT_OF_RANGE)
def test_out_of_range_dates_on_bulk_targets_are_form_errors(client, personas, deals, field, value, message):
    client.force_login(personas.manager_a)
    data = {
        "team": personas.team_a.id, "kpi": deals.id, "title": "Q2", "start_date": "2026-04-01",
        "due_date": "2026-06-30", field: value, f"target_{personas.rep_a.id}": "10",
    }  # fmt: skip
    response = client.post(reverse("goal_bulk"), data)
    assert response.status_code == 200 and message in response.content.decode()
    assert not Goal.objects.exists()


def test_out_of_range_due_date_on_goal_edit_is_a_form_error(client, personas, deals):
    goal = GoalFactory(kpi=deals, owner_user=personas.rep_a, created_by=personas.manager_a)
    client.force_login(personas.manager_a)
    data = {**goal_data(owner(personas), deals, due_date="9999-12-31"), "reason": "longer"}
    response = client.post(reverse("goal_edit", args=[goal.id]), data)
    assert response.status_code == 200 and "the latest date Pacer keeps" in response.content.decode()
    goal.refresh_from_db()
    assert goal.due_date == datetime.date(2026, 3, 27)


def test_a_goal_window_longer_than_the_limit_is_refused(client, personas, deals):
    client.force_login(personas.manager_a)
    data = {**goal_data(owner(personas), deals, start_date="2026-01-01", due_date="2030-12-31"), "step": "preview"}
    response = client.post(reverse("goal_create"), data)
    assert "a goal spans at most 731 days" in response.content.decode()
    with pytest.raises(ValidationError, match="at most 731 days"):
        services.goal_create(
            title="Forever", kpi=deals, target_value="10", start_date=datetime.date(2026, 1, 1),
            due_date=datetime.date(2030, 12, 31), owner_user=personas.rep_a, created_by=personas.manager_a,
        )  # fmt: skip


@override_settings(PACER={**__import__("django.conf").conf.settings.PACER, "MAX_BREAKDOWN_PERIODS": 10})
def test_a_breakdown_with_too_many_periods_is_refused(personas, deals):
    goal = services.goal_create(
        title="Q2", kpi=deals, target_value="100", start_date=datetime.date(2026, 4, 1),
        due_date=datetime.date(2026, 6, 30), owner_user=personas.rep_a, created_by=personas.manager_a,
    )  # fmt: skip
    with pytest.raises(ValidationError, match="makes 91 periods; at most 10"):
        services.micro_goals_generate(goal=goal, cadence="daily", created_by=personas.manager_a)
    services.micro_goals_generate(goal=goal, cadence="biweekly", created_by=personas.manager_a)  # 7 periods: fine


def test_entries_before_the_floor_are_refused(personas, deals):
    with pytest.raises(ValidationError, match="earliest date Pacer keeps"):
        services.progress_record(
            user=personas.rep_a, kpi=deals, date=datetime.date(1999, 12, 31), value="1", created_by=personas.rep_a
        )
    assert not ProgressEntry.objects.exists()


def test_holidays_and_memberships_before_the_floor_are_refused(client, personas):
    client.force_login(personas.admin)
    response = client.post(reverse("holiday_add", args=[personas.team_a.id]), {"date": "1999-12-25"})
    assert "earliest date Pacer keeps" in response.content.decode() and not Holiday.objects.exists()
    newcomer = UserFactory()
    client.post(
        reverse("member_add", args=[personas.team_b.id]),
        {"user": newcomer.id, "role": "rep", "capacity": "1", "active_from": "1990-01-01"},
    )
    assert not Membership.objects.filter(user=newcomer).exists()
    with pytest.raises(ValidationError, match="earliest date Pacer keeps"):
        Membership(user=newcomer, team=personas.team_b, active_from=datetime.date(1990, 1, 1)).full_clean()


# --- ids --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["today", "my_goals"])
@pytest.mark.parametrize("rep", ["²", "١٢", "1e3", " 1", "-1", "99999999999999999999999"])
def test_a_non_ascii_or_malformed_rep_id_is_a_404(client, personas, name, rep):
    client.force_login(personas.manager_a)
    assert client.get(reverse(name), {"rep": rep}).status_code == 404


def test_a_malformed_rep_id_on_the_log_url_is_a_404(client, personas, deals):
    client.force_login(personas.manager_a)
    assert client.post(reverse("today_log") + "?rep=²", {"kpi": deals.id}).status_code == 404


def test_a_forged_owner_with_a_superscript_id_is_a_form_error(client, personas, deals):
    client.force_login(personas.manager_a)
    response = client.post(reverse("goal_create"), {**goal_data("user:²", deals), "step": "preview"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not Goal.objects.exists()


def test_parse_id_takes_only_ascii_digits():
    assert parse_id("12") == 12 and parse_id("²") is None and parse_id("١") is None and parse_id("") is None


# --- numbers ----------------------------------------------------------------------------------------------------


def test_minus_zero_baseline_writes_no_spurious_revision(client, personas, deals):
    goal = services.goal_create(
        title="Q2", kpi=deals, target_value="10", start_date=TODAY, due_date=datetime.date(2026, 6, 30),
        owner_user=personas.rep_a, created_by=personas.manager_a,
    )  # fmt: skip
    client.force_login(personas.manager_a)
    data = goal_data(owner(personas), deals, title="Q2", target_value="10", baseline_value="-0",
                     start_date=TODAY.isoformat(), due_date="2026-06-30")  # fmt: skip
    response = client.post(reverse("goal_edit", args=[goal.id]), data)
    assert response.status_code == 302
    assert list(goal.revisions.values_list("kind", flat=True)) == [GoalRevision.Kind.CREATED]
    services.goal_update(goal=goal, baseline_value=Decimal("-0"), changed_by=personas.manager_a)
    assert goal.revisions.count() == 1


ARABIC_123 = "\u0661\u0662\u0663"


def test_arabic_indic_digits_are_refused_on_every_number_and_date(client, personas, deals):
    client.force_login(personas.manager_a)
    for field in ("target_value", "baseline_value", "start_date"):
        value = ARABIC_123 if field != "start_date" else "\u0662\u0660\u0662\u0666-04-01"
        response = client.post(
            reverse("goal_create"), {**goal_data(owner(personas), deals, **{field: value}), "step": "preview"}
        )
        assert "Type numbers and dates with the digits 0–9" in response.content.decode(), field
    assert not Goal.objects.exists()
    with pytest.raises(ValidationError, match="digits 0–9"):
        services.progress_record(
            user=personas.rep_a, kpi=deals, date=TODAY, value=ARABIC_123, created_by=personas.rep_a
        )
    with pytest.raises(ValidationError, match="digits 0–9"):
        services.goal_create(
            title="Q2", kpi=deals, target_value=ARABIC_123, start_date=TODAY, due_date=datetime.date(2026, 6, 30),
            owner_user=personas.rep_a, created_by=personas.manager_a,
        )  # fmt: skip
    assert not ProgressEntry.objects.exists()


def test_arabic_indic_digits_on_the_log_form_are_refused(client, personas, deals):
    GoalFactory(kpi=deals, owner_user=personas.rep_a, created_by=personas.manager_a)
    client.force_login(personas.rep_a)
    response = client.post(
        reverse("today_log"),
        {
            "kpi": deals.id,
            "value": ARABIC_123,
            "date": TODAY.isoformat(),
            "token": "6f1c4d0e-1d59-4c0e-9a4e-0d5c0b1a2b3c",
        },
    )
    assert "digits 0–9" in response.content.decode() and not ProgressEntry.objects.exists()


# --- a GET on a POST-only address ---------------------------------------------------------------------------------


def test_a_get_on_a_post_only_url_gives_a_page_in_the_layout_that_links_back(client, personas, deals):
    goal = GoalFactory(kpi=deals, owner_user=personas.rep_a, created_by=personas.manager_a)
    client.force_login(personas.manager_a)
    response = client.get(reverse("goal_cancel", args=[goal.id]))
    html = response.content.decode()
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert "This address only takes a submitted form" in html and "Main navigation" in html
    assert f'href="{reverse("goal_detail", args=[goal.id])}"' in html
    assert client.get(reverse("today_log")).status_code == 405
    assert 'href="/"' in client.get("/accounts/logout/").content.decode()
