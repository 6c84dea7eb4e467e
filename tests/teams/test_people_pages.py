"""People management (issue 9 §4) and the audit log page (§6): admin-only, through the real pages."""

import datetime
import re

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from goals.models import ProgressEntry
from teams import services
from teams.models import AuditEvent, Membership, User
from tests.factories import MembershipFactory, ProgressEntryFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

STRONG = "Quota-crusher-2027"
ADMIN_PAGES = ["people_list", "person_invite", "audit_log"]


def login_works(username, password):
    response = Client().post(reverse("login"), {"username": username, "password": password})
    return response.status_code == 302


def invite(client, **overrides):
    data = {"first_name": "Nia", "last_name": "Newcomer", "email": "Nia.Newcomer@Example.com",
            "timezone": "Europe/Berlin", "team": "", "role": "rep", **overrides}  # fmt: skip
    return client.post(reverse("person_invite"), data)


def link_in(message):
    return re.search(r"http://\S+/accounts/reset/\S+/", message.body).group(0)


# --- Invitations ------------------------------------------------------------------------------------------


def test_invited_person_sets_a_password_through_the_one_time_link_and_logs_in(
    client, personas, eager_celery, django_capture_on_commit_callbacks
):
    client.force_login(personas.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(client, team=personas.team_a.id)
    assert response.status_code == 302 and response["Location"] == reverse("people_list")
    person = User.objects.get(username="nia.newcomer@example.com")
    assert (person.email, person.timezone, person.has_usable_password()) == (person.username, "Europe/Berlin", False)
    assert Membership.objects.get(user=person, active_to__isnull=True).team == personas.team_a
    assert "Invited" in client.get(reverse("people_list")).content.decode()

    [email] = mail.outbox
    assert email.to == ["nia.newcomer@example.com"] and "set your password" in email.subject
    assert "your username: nia.newcomer@example.com" in email.body
    link = link_in(email).replace("http://127.0.0.1:8000", "")
    visitor = Client()
    form_page = visitor.get(link, follow=True)
    assert "Choose your password" in form_page.content.decode()
    set_url = form_page.redirect_chain[-1][0]
    weak = visitor.post(set_url, {"new_password1": "12345678", "new_password2": "12345678"})
    assert "too common" in weak.content.decode() and not login_works(person.username, "12345678")
    saved = visitor.post(set_url, {"new_password1": STRONG, "new_password2": STRONG}, follow=True)
    assert "Your password is saved" in saved.content.decode()
    assert login_works(person.username, STRONG)
    # One-time: the same link no longer works.
    assert "This link no longer works" in Client().get(link, follow=True).content.decode()
    event = AuditEvent.objects.get(kind="invitation")
    assert event.actor == personas.admin and event.subject_user == person and "to Team A as Rep" in event.summary
    assert "token" not in str(event.data) and "reset" not in str(event.data)


def test_invite_with_an_email_already_in_use_is_refused_on_the_field(client, personas):
    UserFactory(email="taken@example.com")
    client.force_login(personas.admin)
    response = invite(client, email="TAKEN@example.com")
    assert (
        response.status_code == 200 and "already has a Pacer login with taken@example.com" in response.content.decode()
    )
    assert User.objects.filter(email__iexact="taken@example.com").count() == 1


def test_invite_follows_the_membership_rules(personas):
    with pytest.raises(PermissionDenied):
        services.user_invite(invited_by=personas.manager_a, first_name="X", last_name="", email="x@example.com")
    assert not User.objects.filter(email="x@example.com").exists()


def test_admin_resends_an_invitation_until_the_person_joins(
    client, personas, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        person = services.user_invite(invited_by=personas.admin, first_name="Ola", last_name="",
                                      email="ola@example.com")  # fmt: skip
    client.force_login(personas.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("person_invitation_resend", args=[person.id]))
    assert response.status_code == 302 and len(mail.outbox) == 2
    person.set_password(STRONG)
    person.save()
    with django_capture_on_commit_callbacks(execute=True):
        refused = client.post(reverse("person_invitation_resend", args=[person.id]), follow=True)
    assert len(mail.outbox) == 2 and "already set a password" in refused.content.decode()


# --- Deactivation -----------------------------------------------------------------------------------------


def test_deactivated_person_cannot_log_in_and_keeps_history(client, personas):
    rep = personas.rep_a
    entry = ProgressEntryFactory(user=rep)
    assert login_works(rep.username, "pw")
    client.force_login(personas.admin)
    confirm = client.get(reverse("person_deactivate", args=[rep.id])).content.decode()
    assert "Their memberships end today: Rep of Team A" in confirm
    assert client.post(reverse("person_deactivate", args=[rep.id])).status_code == 302
    rep.refresh_from_db()
    assert not rep.is_active and not login_works(rep.username, "pw")
    assert ProgressEntry.objects.filter(id=entry.id, voided_at__isnull=True).exists()
    membership = Membership.objects.get(user=rep)
    assert membership.active_to == timezone.localdate()
    kinds = set(AuditEvent.objects.filter(subject_user=rep, actor=personas.admin).values_list("kind", flat=True))
    assert kinds == {"membership", "deactivation"}
    assert AuditEvent.objects.filter(kind="login_failed", subject_user=rep, data__reason="account deactivated")
    assert "Deactivated" in client.get(reverse("people_list") + "?status=deactivated").content.decode()


def test_open_session_of_a_deactivated_person_stops_working(client, personas):
    client.force_login(personas.rep_a)
    services.user_deactivate(user=personas.rep_a, deactivated_by=personas.admin)
    response = client.get(reverse("today"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_nobody_deactivates_themself_and_only_admins_deactivate(personas):
    with pytest.raises(PermissionDenied, match="yourself"):
        services.user_deactivate(user=personas.admin, deactivated_by=personas.admin)
    with pytest.raises(PermissionDenied):
        services.user_deactivate(user=personas.rep_a, deactivated_by=personas.manager_a)
    assert User.objects.filter(is_active=False).count() == 0


def test_reactivated_person_logs_in_again(client, personas):
    services.user_deactivate(user=personas.rep_b, deactivated_by=personas.admin)
    client.force_login(personas.admin)
    assert client.post(reverse("person_reactivate", args=[personas.rep_b.id])).status_code == 302
    assert login_works(personas.rep_b.username, "pw")
    personas.rep_b.refresh_from_db()
    with pytest.raises(ValidationError, match="already active"):
        services.user_reactivate(user=personas.rep_b, reactivated_by=personas.admin)


def test_deactivated_people_are_not_offered_in_the_member_picker(client, personas):
    gone = UserFactory()
    services.user_deactivate(user=gone, deactivated_by=personas.admin)
    client.force_login(personas.admin)
    html = client.get(reverse("team_detail", args=[personas.team_a.id])).content.decode()
    assert f'value="{gone.id}"' not in html


# --- Only admins ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["manager_a", "rep_a"])
def test_people_and_audit_pages_are_admin_only(client, personas, who):
    client.force_login(getattr(personas, who))
    for name in ADMIN_PAGES:
        assert client.get(reverse(name)).status_code == 403, name
    for name in ("person_deactivate", "person_reactivate", "person_unlock", "person_invitation_resend"):
        assert client.post(reverse(name, args=[personas.rep_b.id])).status_code == 403, name
    assert User.objects.filter(is_active=False).count() == 0
    assert invite(client).status_code == 403 and not User.objects.filter(first_name="Nia").exists()


def test_people_and_audit_pages_send_anonymous_visitors_to_login(client):
    for name in ADMIN_PAGES:
        response = client.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_nav_shows_people_and_audit_links_to_admins_only(client, personas):
    client.force_login(personas.admin)
    html = client.get(reverse("team_list")).content.decode()
    assert f'href="{reverse("people_list")}"' in html and f'href="{reverse("audit_log")}"' in html
    client.force_login(personas.manager_a)
    html = client.get(reverse("team_list")).content.decode()
    assert f'href="{reverse("people_list")}"' not in html and f'href="{reverse("audit_log")}"' not in html


def test_a_refused_request_is_one_audit_event(client, personas):
    client.force_login(personas.manager_a)
    client.get(reverse("audit_log"))
    [event] = AuditEvent.objects.filter(kind="permission_denied")
    assert event.actor == personas.manager_a and event.summary.endswith("was refused GET /audit/")
    assert event.data["path"] == "/audit/" and event.ip == "127.0.0.1"


# --- The audit log page -----------------------------------------------------------------------------------


def events_on_page(client, query=""):
    html = client.get(reverse("audit_log") + query).content.decode()
    return re.findall(r"<td>([^<]*(?:logged in|changed)[^<]*)</td>", html)


def test_audit_log_filters_by_person_kind_and_dates(client, personas):
    ada, rep = personas.admin, personas.rep_a
    client.force_login(ada)
    AuditEvent.objects.all().delete()  # the login's own event
    old = AuditEvent.objects.create(kind="login", actor=rep, subject_user=rep, summary="Ray logged in (old)",
                                    at=timezone.now() - datetime.timedelta(days=40))  # fmt: skip
    AuditEvent.objects.create(kind="login", actor=ada, subject_user=ada, summary="Ada logged in")
    AuditEvent.objects.create(kind="role", actor=ada, subject_user=rep, summary="Ada changed Ray: role")
    assert len(events_on_page(client)) == 3
    assert events_on_page(client, f"?person={rep.id}") == ["Ada changed Ray: role", "Ray logged in (old)"]
    assert events_on_page(client, "?kind=login") == ["Ada logged in", "Ray logged in (old)"]
    day = old.at.date().isoformat()
    assert events_on_page(client, f"?since={day}&until={day}") == ["Ray logged in (old)"]
    recent = (timezone.now() - datetime.timedelta(days=1)).date().isoformat()
    assert events_on_page(client, f"?kind=login&since={recent}") == ["Ada logged in"]
    bad = client.get(reverse("audit_log") + "?since=2026-05-02&until=2026-05-01&kind=nonsense")
    assert bad.status_code == 200 and "The end date is before the start date." in bad.content.decode()


def test_audit_log_paginates(client, personas):
    AuditEvent.objects.bulk_create(
        AuditEvent(kind="role", actor=personas.admin, summary=f"Ada changed Ray #{n}") for n in range(120)
    )
    client.force_login(personas.admin)
    html = client.get(reverse("audit_log") + "?kind=role&page=3").content.decode()
    assert "Page 3 of 3" in html and html.count("Ada changed Ray #") == 20
    assert "?kind=role&amp;page=2" in html


# --- Query counts: the same for 5 people (or events) as for 200 --------------------------------------------


def many_people(count):
    teams = [TeamFactory() for _ in range(3)]
    for n in range(count):
        MembershipFactory(team=teams[n % 3], role="manager" if n % 10 == 0 else "rep")
    UserFactory(is_active=False)
    User.objects.create_user(username="invited@example.com", email="invited@example.com")  # no password yet


@pytest.mark.parametrize("count", [5, 200])
def test_people_page_query_count_is_fixed(client, admin_user, django_assert_num_queries, count):
    many_people(count)
    client.force_login(admin_user)
    # session, user, count, page of people, their current memberships with teams, locked accounts (axes),
    # nav (manager memberships+tree… skipped for an admin; rep membership), unread badge
    with django_assert_num_queries(8):
        response = client.get(reverse("people_list"))
    assert response.status_code == 200


@pytest.mark.parametrize("count", [5, 200])
def test_audit_page_query_count_is_fixed(client, admin_user, django_assert_num_queries, count):
    people = [UserFactory() for _ in range(3)]
    AuditEvent.objects.bulk_create(
        AuditEvent(kind="login", actor=people[n % 3], subject_user=people[n % 3], summary=f"#{n}") for n in range(count)
    )
    client.force_login(admin_user)
    # session, user, the person filter's chosen person (validation) and its options, count, page of events with
    # actor and subject, nav (rep membership), unread badge
    with django_assert_num_queries(8):
        response = client.get(reverse("audit_log") + f"?person={people[0].id}&kind=login")
    assert response.status_code == 200
