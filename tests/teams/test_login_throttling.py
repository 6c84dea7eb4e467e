"""Login throttling with django-axes (issue 9 §3) and the login audit trail (§6).

Every attempt goes through the real login page. Limits come from settings (AXES_FAILURE_LIMIT = 5 failures,
AXES_COOLOFF_TIME = 15 minutes by default).
"""

import datetime
import threading

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.db import connection
from django.db.models import Sum
from django.http import HttpRequest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from teams.models import AuditEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIMIT = settings.AXES_FAILURE_LIMIT


def attempt(client, username, password, ip="10.0.0.1"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def logged_in(client):
    return "_auth_user_id" in client.session


def test_account_locks_after_the_limit_whatever_the_address(client, rep_a):
    for n in range(LIMIT):
        response = attempt(client, rep_a.username, "wrong", ip=f"10.0.1.{n}")  # a new address each time
    assert response.status_code == 429
    locked = attempt(client, rep_a.username, "pw", ip="10.0.2.1")  # the right password, from elsewhere
    html = locked.content.decode()
    assert locked.status_code == 429 and not logged_in(client)
    assert "Too many failed logins" in html and "15 minutes" in html and "ask an admin to unlock" in html
    # Someone else can still log in from those addresses.
    other = UserFactory()
    assert attempt(client, other.username, "pw", ip="10.0.1.0").status_code == 302


def test_below_the_limit_the_right_password_works_and_resets_the_count(client, rep_a):
    for _ in range(LIMIT - 1):
        assert attempt(client, rep_a.username, "wrong").status_code == 200
    assert attempt(client, rep_a.username, "pw").status_code == 302 and logged_in(client)
    assert not AccessAttempt.objects.filter(username=rep_a.username).exists()


def test_address_locks_after_the_limit_whatever_the_account(client, rep_a):
    for n in range(LIMIT):
        attempt(client, f"guess{n}", "wrong", ip="203.0.113.9")
    assert attempt(client, rep_a.username, "pw", ip="203.0.113.9").status_code == 429
    assert not logged_in(client)
    assert attempt(client, rep_a.username, "pw", ip="203.0.113.10").status_code == 302


def test_lock_ends_after_the_cool_off(client, rep_a, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    for _ in range(LIMIT):
        attempt(client, rep_a.username, "wrong")
    time_machine.shift(settings.AXES_COOLOFF_TIME - datetime.timedelta(seconds=1))
    assert attempt(client, rep_a.username, "pw").status_code == 429
    time_machine.shift(datetime.timedelta(seconds=2))
    assert attempt(client, rep_a.username, "pw").status_code == 302


def test_admin_unlocks_an_account_on_the_people_page(client, personas):
    rep = personas.rep_a
    for n in range(LIMIT):
        attempt(Client(), rep.username, "wrong", ip=f"10.0.3.{n}")
    client.force_login(personas.admin)
    page = client.get(reverse("people_list")).content.decode()
    assert "Locked" in page and reverse("person_unlock", args=[rep.id]) in page
    assert client.post(reverse("person_unlock", args=[rep.id])).status_code == 302
    assert attempt(Client(), rep.username, "pw", ip="10.0.3.0").status_code == 302
    event = AuditEvent.objects.filter(kind="lockout", actor=personas.admin).get()
    assert event.subject_user == rep and "unlocked" in event.summary


def test_only_admins_unlock(client, personas):
    for n in range(LIMIT):
        attempt(Client(), personas.rep_a.username, "wrong", ip=f"10.0.4.{n}")
    client.force_login(personas.manager_a)
    assert client.post(reverse("person_unlock", args=[personas.rep_a.id])).status_code == 403
    assert AccessAttempt.objects.filter(username=personas.rep_a.username).exists()


def test_logins_failures_and_lockouts_are_audited_with_address_and_no_secrets(client, rep_a):
    attempt(client, rep_a.username, "pw", ip="198.51.100.7")
    client.logout()
    for _ in range(LIMIT):
        attempt(client, rep_a.username, "s3cret-guess", ip="198.51.100.8")
    attempt(client, rep_a.username, "s3cret-guess", ip="198.51.100.8")  # refused while locked: not a new lockout
    events = list(AuditEvent.objects.order_by("id"))
    kinds = [e.kind for e in events]
    # django-axes reports the lockout while it records the failure that reaches the limit, just before it.
    assert kinds == ["login"] + ["login_failed"] * (LIMIT - 1) + ["lockout", "login_failed", "login_failed"]
    assert (events[0].actor, events[0].ip) == (rep_a, "198.51.100.7")
    failed = events[1]
    assert failed.actor is None and failed.subject_user == rep_a and failed.ip == "198.51.100.8"
    assert failed.data == {"username": rep_a.username, "reason": "wrong username or password"}
    assert events[-1].data["reason"] == "refused while locked out"
    assert events[-3].data == {"username": rep_a.username, "failures": LIMIT}
    assert events[-3].subject_user == rep_a and events[-3].ip == "198.51.100.8"
    dumped = str(list(AuditEvent.objects.values()))
    assert "s3cret" not in dumped and "pw'" not in dumped and "sessionid" not in dumped


def test_client_ip_trusts_forwarded_for_only_behind_configured_proxies(client, rep_a, settings):
    forged = {"HTTP_X_FORWARDED_FOR": "1.2.3.4, 192.0.2.50"}
    client.post(reverse("login"), {"username": rep_a.username, "password": "x"}, REMOTE_ADDR="10.9.9.9", **forged)
    settings.PROXY_COUNT = 1
    client.post(reverse("login"), {"username": rep_a.username, "password": "x"}, REMOTE_ADDR="10.9.9.9", **forged)
    assert list(AuditEvent.objects.order_by("id").values_list("ip", flat=True)) == ["10.9.9.9", "192.0.2.50"]


def test_password_validators_stay_on():
    names = {v["NAME"].rsplit(".", 1)[-1] for v in settings.AUTH_PASSWORD_VALIDATORS}
    assert {"MinimumLengthValidator", "CommonPasswordValidator", "NumericPasswordValidator"} <= names


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "target",
    ["one-account-one-address", "one-account-many-addresses", "many-accounts-one-address", "admin-site"],
)
def test_a_burst_of_concurrent_guesses_gets_exactly_the_limit_of_password_checks(target):
    """30 wrong passwords at once, from threads: exactly AXES_FAILURE_LIMIT are checked (and counted, none lost
    to a race), every other one is refused as locked without a password check, and the lock holds after."""
    user = UserFactory()
    threads_count = 30
    barrier, statuses = threading.Barrier(threads_count), []

    def guess(n):
        username = f"guess{n}" if target == "many-accounts-one-address" else user.username
        ip = f"10.7.1.{n}" if target == "one-account-many-addresses" else "10.7.0.1"
        try:
            barrier.wait()
            url = "/admin/login/" if target == "admin-site" else reverse("login")
            data = {"username": username, "password": f"wrong{n}"}
            statuses.append(Client().post(url, data, REMOTE_ADDR=ip).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    checked = AuditEvent.objects.filter(kind="login_failed", data__reason="wrong username or password").count()
    refused = AuditEvent.objects.filter(kind="login_failed", data__reason="refused while locked out").count()
    counted = AccessAttempt.objects.aggregate(n=Sum("failures_since_start"))["n"]
    assert (checked, counted, refused) == (LIMIT, LIMIT, threads_count - LIMIT)
    assert sorted(statuses) == [200] * (LIMIT - 1) + [429] * (threads_count - LIMIT + 1)
    locked_ip = "10.7.2.1" if target == "one-account-many-addresses" else "10.7.0.1"
    assert attempt(Client(), user.username, "pw", ip=locked_ip).status_code == 429


def test_test_client_login_needs_a_request_with_axes(client, rep_a):
    """django-axes checks every authenticate() call, so the test client's login() must pass a request (or use
    force_login, which skips authentication)."""
    assert client.login(request=HttpRequest(), username=rep_a.username, password="pw")
    assert client.get(reverse("today")).status_code == 200
