"""The demo organisation: 2 regions, 4 teams, 4 managers, 24 reps and an admin; an invited person, a former rep."""

import datetime
import functools
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from . import services
from .audit import audit_record
from .models import AuditEvent, Holiday, Membership, Team, User

DEMO_PASSWORD = "pacer-demo"  # noqa: S105 - demo logins only, printed by `make run`

REGIONS = {
    "EMEA": [("London", "Europe/London"), ("Berlin", "Europe/Berlin")],
    "Americas": [("New York", "America/New_York"), ("San Francisco", "America/Los_Angeles")],
}
FIRST_NAMES = [
    "Ava", "Ben", "Chloe", "Dev", "Elena", "Finn", "Grace", "Hugo", "Isla", "Jonah", "Kira", "Leo",
    "Maya", "Noah", "Olivia", "Priya", "Quinn", "Ravi", "Sofia", "Theo", "Uma", "Victor", "Wen", "Yara",
]  # fmt: skip
LAST_NAMES = ["Adams", "Brooks", "Costa", "Diaz", "Evans", "Fischer", "Garcia", "Hughes"]
MANAGERS = [("Morgan", "Reid"), ("Sam", "Okafor"), ("Alex", "Kim"), ("Jordan", "Blake")]


@dataclass
class DemoOrg:
    org: Team
    teams: list[Team] = field(default_factory=list)
    reps: list[User] = field(default_factory=list)
    managers: list[User] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)


@functools.cache
def _demo_password_hash():
    return make_password(DEMO_PASSWORD)  # hashed once: 29 separate hashes would take most of the seed's time


def _user(username, first, last, tz, *, staff=False, reminder_hour=16):
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "first_name": first,
            "last_name": last,
            "email": f"{username}@example.com",
            "timezone": tz,
            "reminder_hour": reminder_hour,
        },
    )
    if created:
        user.is_staff = user.is_superuser = staff
        user.password = _demo_password_hash()
        user.save()
    return user


def _team(name, parent, slug):
    team, _ = Team.objects.get_or_create(slug=slug, defaults={"name": name, "parent": parent})
    return team


def _member(user, team, role, capacity, since):
    Membership.objects.get_or_create(
        user=user,
        team=team,
        active_to=None,
        defaults={"role": role, "capacity": capacity, "active_from": since},
    )


def seed_org(*, progress=lambda it, **kw: it) -> DemoOrg:
    since = timezone.localdate() - datetime.timedelta(days=200)
    org = _team("Acme Sales", None, "acme")
    demo = DemoOrg(org=org)
    admin = _user("admin", "Ada", "Admin", "UTC", staff=True)
    demo.logins.append(("admin", admin.username))
    Holiday.objects.get_or_create(team=org, date=datetime.date(timezone.localdate().year, 12, 25),
                                  defaults={"name": "Christmas Day"})  # fmt: skip
    rep_no = 0
    team_specs = [(region, city, tz) for region, cities in REGIONS.items() for city, tz in cities]
    for index, (region_name, city, tz) in enumerate(progress(team_specs, desc="teams", leave=False)):
        region = _team(region_name, org, region_name.lower())
        team = _team(f"{city} Sales", region, city.lower().replace(" ", "-"))
        demo.teams.append(team)
        first, last = MANAGERS[index]
        manager = _user(f"manager{index + 1}", first, last, tz)
        _member(manager, team, Membership.Role.MANAGER, Decimal("1.00"), since)
        demo.managers.append(manager)
        for _ in range(6):
            first, last = FIRST_NAMES[rep_no], LAST_NAMES[rep_no % len(LAST_NAMES)]
            # The first demo rep asks for check-in reminders from midnight, so `make run` shows one being
            # delivered on any working day (history stops yesterday: nobody has logged today yet).
            rep = _user(f"rep{rep_no + 1}", first, last, tz, reminder_hour=0 if rep_no == 0 else 16)
            capacity = Decimal("0.50") if rep_no % 6 == 5 else Decimal("1.00")  # one part-timer per team
            _member(rep, team, Membership.Role.REP, capacity, since)
            demo.reps.append(rep)
            rep_no += 1
    demo.logins += [("manager", demo.managers[0].username), ("rep", demo.reps[0].username)]
    seed_people(demo)
    return demo


def seed_people(demo: DemoOrg) -> None:
    """The People page's cases: an invited person who has not set a password yet, a deactivated former rep, and a
    few days of audit events (logins, a failed login, a lockout, a refused page). Only what is missing is made."""
    admin = User.objects.get(username="admin")
    if not User.objects.filter(username="nia.newcomer@example.com").exists():
        # No team yet: the demo's goals are planned for the reps already at work (an admin adds her on arrival).
        services.user_invite(invited_by=admin, first_name="Nia", last_name="Newcomer",
                             email="nia.newcomer@example.com", timezone="Europe/London")  # fmt: skip
    former = _user("zoe.former", "Zoe", "Former", "Europe/Berlin")
    if former.is_active and not former.memberships.exists():
        berlin = next(team for team in demo.teams if team.slug == "berlin")
        _member(
            former, berlin, Membership.Role.REP, Decimal("1.00"), timezone.localdate() - datetime.timedelta(days=90)
        )
        services.user_deactivate(user=former, deactivated_by=admin)
    if AuditEvent.objects.filter(data__demo=True).exists():
        return
    now, Kind = timezone.now(), AuditEvent.Kind
    rep, manager = demo.reps[0], demo.managers[0]
    samples: list[tuple[int, str, User | None, User | None, str, str, dict[str, object]]] = [
        (3, Kind.LOGIN, manager, manager, f"{manager} logged in", "192.0.2.14", {}),
        (2, Kind.LOGIN_FAILED, None, rep, f"Failed login as “{rep.username}”: wrong username or password",
         "198.51.100.23", {"username": rep.username, "reason": "wrong username or password"}),
        (2, Kind.LOGIN, rep, rep, f"{rep} logged in", "198.51.100.23", {}),
        (1, Kind.LOCKOUT, None, None, "Locked out after 5 failed logins as “root” from 203.0.113.66", "203.0.113.66",
         {"username": "root", "failures": 5}),
        (1, Kind.PERMISSION_DENIED, rep, None, f"{rep} was refused GET /people/", "198.51.100.23",
         {"method": "GET", "path": "/people/", "reason": ""}),
        (0, Kind.LOGIN, admin, admin, f"{admin} logged in", "192.0.2.10", {}),
    ]  # fmt: skip
    for days_ago, kind, actor, subject, summary, ip, data in samples:
        event = audit_record(kind=kind, actor=actor, subject_user=subject, summary=summary, ip=ip,
                             data={**data, "demo": True})  # fmt: skip
        event.at = now - datetime.timedelta(days=days_ago, hours=2)
        event.save(update_fields=["at"])
