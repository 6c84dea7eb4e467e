"""The API's permission matrix: every endpoint × role × action, as ONE table.

Each row: an action on an object of team A (or the collection), and the status each role gets. Roles: anonymous,
rep A, rep B, manager A, manager B, admin. Another team's object is a 404 (never a 403 that would confirm it
exists); a write the role may not make on an object it sees is a 403; input naming what the role cannot see is a
400 (an unknown id). Every cell runs on a fresh database, so a write in one cell never changes another.
"""

import pytest

from tests.api.conftest import ROLES

pytestmark = pytest.mark.django_db

#            anonymous, rep_a, rep_b, manager_a, manager_b, admin
EVERYONE = (401, 200, 200, 200, 200, 200)
TEAM_A = (401, 200, 404, 200, 404, 200)  # readable by team A and admins; another team's object is a 404
MANAGERS_A = (401, 403, 404, 200, 404, 200)  # manager actions on a team A object
ADMIN_WRITE = (401, 403, 403, 403, 403, 201)
ADMIN_EDIT = (401, 403, 403, 403, 403, 200)
OWN_ONLY = (401, 200, 404, 404, 404, 404)  # rep A's notification: nobody else's, admins included
LOG_FOR_REP_A = (401, 201, 400, 201, 400, 201)  # rep A themself, their manager, admin; others: unknown person


def _entry(w, **extra):
    return {"user": w.a.rep.id, "kpi": w.kpi.id, "date": str(w.today), "value": "2", **extra}


MATRIX = [
    # name, method, path, body, statuses by role
    ("me", "get", lambda w: "/api/v1/me/", None, EVERYONE),
    ("team list", "get", lambda w: "/api/v1/teams/", None, EVERYONE),
    ("team detail", "get", lambda w: f"/api/v1/teams/{w.team_a.id}/", None, TEAM_A),
    ("team members", "get", lambda w: f"/api/v1/teams/{w.team_a.id}/members/", None, TEAM_A),
    ("team create", "post", lambda w: "/api/v1/teams/", lambda w: {"name": "Team C"}, ADMIN_WRITE),
    ("team update", "put", lambda w: f"/api/v1/teams/{w.team_a.id}/", lambda w: {"name": "A2"}, ADMIN_EDIT),
    # teams: members
    (
        "member add (a newcomer, as a rep)",
        "post",
        lambda w: f"/api/v1/teams/{w.team_a.id}/members/",
        lambda w: {"user": w.newcomer.id},
        (401, 403, 404, 201, 404, 201),  # rep A sees the team but manages nothing; team B does not see it
    ),
    ("membership detail", "get", lambda w: f"/api/v1/memberships/{w.a.membership.id}/", None, TEAM_A),
    (
        "membership update",
        "patch",
        lambda w: f"/api/v1/memberships/{w.a.membership.id}/",
        lambda w: {"capacity": "0.5"},
        MANAGERS_A,  # rep A: nobody changes their own membership
    ),
    ("membership end", "post", lambda w: f"/api/v1/memberships/{w.a.membership.id}/end/", lambda w: {}, MANAGERS_A),
    ("kpi list", "get", lambda w: "/api/v1/kpis/", None, EVERYONE),
    ("kpi detail", "get", lambda w: f"/api/v1/kpis/{w.kpi.id}/", None, EVERYONE),
    ("kpi create", "post", lambda w: "/api/v1/kpis/", lambda w: {"name": "Calls"}, ADMIN_WRITE),
    ("kpi update", "patch", lambda w: f"/api/v1/kpis/{w.kpi.id}/", lambda w: {"description": "x"}, ADMIN_EDIT),
    ("goal list", "get", lambda w: "/api/v1/goals/", None, EVERYONE),
    ("team goal detail", "get", lambda w: f"/api/v1/goals/{w.a.team_goal.id}/", None, TEAM_A),
    ("rep goal detail", "get", lambda w: f"/api/v1/goals/{w.a.rep_goal.id}/", None, TEAM_A),
    (
        "goal create",
        "post",
        lambda w: "/api/v1/goals/",
        lambda w: {
            "title": "More",
            "kpi": w.kpi.id,
            "target_value": "30",
            "start_date": str(w.today),
            "due_date": str(w.a.team_goal.due_date),
            "owner_team": w.team_a.id,
        },
        (401, 403, 400, 201, 400, 201),  # reps may not set goals; team A is unknown to team B
    ),
    ("goal update", "patch", lambda w: f"/api/v1/goals/{w.a.team_goal.id}/", lambda w: {"title": "T"}, MANAGERS_A),
    (
        "goal activate (not a draft)",
        "post",
        lambda w: f"/api/v1/goals/{w.a.team_goal.id}/activate/",
        None,
        (401, 403, 404, 400, 404, 400),
    ),
    (
        "goal cancel",
        "post",
        lambda w: f"/api/v1/goals/{w.a.team_goal.id}/cancel/",
        lambda w: {"reason": "r"},
        MANAGERS_A,
    ),
    ("goal revisions", "get", lambda w: f"/api/v1/goals/{w.a.team_goal.id}/revisions/", None, TEAM_A),
    ("goal micro goals", "get", lambda w: f"/api/v1/goals/{w.a.rep_goal.id}/micro-goals/", None, TEAM_A),
    (
        "micro goals generate (preview)",
        "post",
        lambda w: f"/api/v1/goals/{w.a.team_goal.id}/micro-goals/",
        lambda w: {"cadence": "weekly", "preview": True},
        MANAGERS_A,
    ),
    (
        "goal replan",
        "post",
        lambda w: f"/api/v1/goals/{w.a.rep_goal.id}/replan/",
        lambda w: {"reason": "r"},
        MANAGERS_A,
    ),
    ("goal export", "get", lambda w: "/api/v1/goals/export/", None, EVERYONE),
    ("micro goal list", "get", lambda w: "/api/v1/micro-goals/", None, EVERYONE),
    ("micro goal detail", "get", lambda w: f"/api/v1/micro-goals/{w.a.micro.id}/", None, TEAM_A),
    ("entry list", "get", lambda w: "/api/v1/progress-entries/", None, EVERYONE),
    ("entry detail", "get", lambda w: f"/api/v1/progress-entries/{w.a.entry.id}/", None, TEAM_A),
    # goals: entry history
    ("entry history", "get", lambda w: f"/api/v1/progress-entries/{w.a.entry.id}/history/", None, TEAM_A),
    ("entry create", "post", lambda w: "/api/v1/progress-entries/", _entry, LOG_FOR_REP_A),
    ("entry update", "patch", lambda w: f"/api/v1/progress-entries/{w.a.entry.id}/", lambda w: {"value": "4"}, TEAM_A),
    (
        "entry void",
        "post",
        lambda w: f"/api/v1/progress-entries/{w.a.entry.id}/void/",
        lambda w: {"reason": "dup"},
        TEAM_A,
    ),
    (
        "entry bulk",
        "post",
        lambda w: "/api/v1/progress-entries/bulk/",
        lambda w: {"entries": [{**_entry(w), "user": w.a.rep.username, "kpi": w.kpi.name}]},
        LOG_FOR_REP_A,
    ),
    ("entry export", "get", lambda w: "/api/v1/progress-entries/export/", None, EVERYONE),
    ("notification list", "get", lambda w: "/api/v1/notifications/", None, EVERYONE),
    ("notification detail", "get", lambda w: f"/api/v1/notifications/{w.a.notification.id}/", None, OWN_ONLY),
    ("notification read", "post", lambda w: f"/api/v1/notifications/{w.a.notification.id}/read/", None, OWN_ONLY),
    ("notifications read all", "post", lambda w: "/api/v1/notifications/read-all/", None, EVERYONE),
    # rewards: tiers are read by everyone and written by admins; awards are rep A's (a pending bonus, a flagged
    # badge), decided by their managers (the rep themself: 403), paid by admins; boards of the teams one may see.
    ("reward tier list", "get", lambda w: "/api/v1/reward-tiers/", None, EVERYONE),
    ("reward tier detail", "get", lambda w: f"/api/v1/reward-tiers/{w.rewards.badge.id}/", None, EVERYONE),
    (
        "reward tier create",
        "post",
        lambda w: "/api/v1/reward-tiers/",
        lambda w: {"name": "Target", "threshold_percent": "100", "reward_kind": "points", "points": 50},
        ADMIN_WRITE,
    ),
    (
        "reward tier update",
        "patch",
        lambda w: f"/api/v1/reward-tiers/{w.rewards.badge.id}/",
        lambda w: {"description": "x"},
        ADMIN_EDIT,
    ),
    (
        "reward tier deactivate",
        "post",
        lambda w: f"/api/v1/reward-tiers/{w.rewards.badge.id}/deactivate/",
        None,
        ADMIN_EDIT,
    ),
    (
        "reward tier activate",
        "post",
        lambda w: f"/api/v1/reward-tiers/{w.rewards.badge.id}/activate/",
        None,
        ADMIN_EDIT,
    ),
    (
        "reward tier delete (never awarded)",
        "delete",
        lambda w: f"/api/v1/reward-tiers/{w.rewards.spare.id}/",
        None,
        (401, 403, 403, 403, 403, 204),
    ),
    (
        "reward tier delete (awarded: deactivate it)",
        "delete",
        lambda w: f"/api/v1/reward-tiers/{w.rewards.badge.id}/",
        None,
        (401, 403, 403, 403, 403, 400),
    ),
    ("award list", "get", lambda w: "/api/v1/awards/", None, EVERYONE),
    ("award detail", "get", lambda w: f"/api/v1/awards/{w.rewards.pending.id}/", None, TEAM_A),
    ("award approve", "post", lambda w: f"/api/v1/awards/{w.rewards.pending.id}/approve/", None, MANAGERS_A),
    (
        "award reject",
        "post",
        lambda w: f"/api/v1/awards/{w.rewards.pending.id}/reject/",
        lambda w: {"reason": "Not this quarter"},
        MANAGERS_A,
    ),
    (
        "award keep",
        "post",
        lambda w: f"/api/v1/awards/{w.rewards.flagged.id}/keep/",
        lambda w: {"reason": "A refund, not a lost deal"},
        MANAGERS_A,
    ),
    (
        "award revoke",
        "post",
        lambda w: f"/api/v1/awards/{w.rewards.flagged.id}/revoke/",
        lambda w: {"reason": "The deal fell through"},
        MANAGERS_A,
    ),
    (
        "award mark paid",
        "post",
        lambda w: "/api/v1/awards/mark-paid/",
        lambda w: {"award_ids": [w.rewards.pending.id], "reference": "March payroll"},
        ADMIN_EDIT,
    ),
    ("leaderboard", "get", lambda w: "/api/v1/leaderboards/", None, EVERYONE),
    (
        "leaderboard of team A",
        "get",
        lambda w: f"/api/v1/leaderboards/?team={w.team_a.id}&board=most_improved",
        None,
        (401, 200, 400, 200, 400, 200),
    ),  # another team's board: an unknown team (400)
    # feedback
    ("checkin list", "get", lambda w: "/api/v1/checkins/", None, EVERYONE),
    ("checkin detail", "get", lambda w: f"/api/v1/checkins/{w.a.checkin.id}/", None, TEAM_A),
    (
        "checkin submit",
        "post",
        lambda w: "/api/v1/checkins/",
        lambda w: {"goal": w.a.rep_goal.id, "confidence": 7},
        (401, 201, 400, 403, 400, 403),  # only the goal's rep checks in; team B cannot name the goal
    ),
    ("checkin replies", "get", lambda w: f"/api/v1/checkins/{w.a.checkin.id}/replies/", None, TEAM_A),
    (
        "checkin reply",
        "post",
        lambda w: f"/api/v1/checkins/{w.a.checkin.id}/replies/",
        lambda w: {"body": "Let's talk Friday."},
        (401, 201, 404, 201, 404, 201),
    ),
    ("feedback list", "get", lambda w: "/api/v1/feedback/", None, EVERYONE),
    ("feedback detail", "get", lambda w: f"/api/v1/feedback/{w.a.feedback.id}/", None, TEAM_A),
    (
        "feedback give",
        "post",
        lambda w: "/api/v1/feedback/",
        lambda w: {"recipient": w.a.rep.id, "kind": "praise", "body": "Great week!"},
        (401, 400, 400, 201, 400, 201),  # not to oneself; team B cannot name rep A
    ),
    (
        "feedback edit",
        "patch",
        lambda w: f"/api/v1/feedback/{w.a.feedback.id}/",
        lambda w: {"body": "Great calls this week."},
        (401, 403, 404, 200, 404, 403),  # its author only
    ),
    ("action item list", "get", lambda w: "/api/v1/action-items/", None, EVERYONE),
    ("action item detail", "get", lambda w: f"/api/v1/action-items/{w.a.action_item.id}/", None, TEAM_A),
    (
        "action item create",
        "post",
        lambda w: "/api/v1/action-items/",
        lambda w: {"goal": w.a.rep_goal.id, "title": "Role-play", "owner": w.a.rep.id, "due_date": str(w.today)},
        (401, 201, 400, 201, 400, 201),
    ),
    ("action item complete", "post", lambda w: f"/api/v1/action-items/{w.a.action_item.id}/complete/", None, TEAM_A),
    ("adjustment list", "get", lambda w: "/api/v1/adjustment-requests/", None, EVERYONE),
    ("adjustment detail", "get", lambda w: f"/api/v1/adjustment-requests/{w.a.adjustment.id}/", None, TEAM_A),
    (
        "adjustment create (team goal)",
        "post",
        lambda w: "/api/v1/adjustment-requests/",
        lambda w: {"goal": w.a.team_goal.id, "proposed_target": "90", "reason": "Two reps left."},
        (401, 403, 400, 201, 400, 201),  # a team goal: its managers ask, its reps may not
    ),
    (
        "adjustment preview",
        "get",
        lambda w: f"/api/v1/adjustment-requests/{w.a.adjustment.id}/preview/",
        None,
        (401, 403, 404, 200, 404, 200),  # for those who decide
    ),
    (
        "adjustment approve",
        "post",
        lambda w: f"/api/v1/adjustment-requests/{w.a.adjustment.id}/approve/",
        lambda w: {"response": "Fair."},
        MANAGERS_A,  # rep A asked: never decides their own request
    ),
    (
        "adjustment reject",
        "post",
        lambda w: f"/api/v1/adjustment-requests/{w.a.adjustment.id}/reject/",
        lambda w: {"response": "Not this quarter."},
        MANAGERS_A,
    ),
    (
        "adjustment withdraw",
        "post",
        lambda w: f"/api/v1/adjustment-requests/{w.a.adjustment.id}/withdraw/",
        None,
        (401, 200, 404, 403, 404, 403),  # the requester only
    ),
    # end feedback
]
READS = [row for row in MATRIX if row[1] == "get"]
WRITES = [(row, role, row[4][i]) for row in MATRIX if row[1] != "get" for i, role in enumerate(ROLES)]


def _request(world, client, row):
    _, method, path, body, _ = row
    kwargs = {"format": "json"} if body is None else {"data": body(world), "format": "json"}
    return getattr(client, method)(path(world), **kwargs)


@pytest.mark.parametrize("row", READS, ids=[r[0] for r in READS])
def test_permission_matrix_reads(row, world, client_for):
    """Reads change nothing: one world serves the six roles of a row."""
    got = tuple(_request(world, client_for(role), row).status_code for role in ROLES)
    assert dict(zip(ROLES, got, strict=True)) == dict(zip(ROLES, row[4], strict=True))


@pytest.mark.parametrize(("row", "role", "expected"), WRITES, ids=[f"{r[0]}-{role}" for r, role, _ in WRITES])
def test_permission_matrix_writes(row, role, expected, world, client_for):
    """Each write cell on a fresh database, so one role's successful write never changes another's answer."""
    response = _request(world, client_for(role), row)
    assert response.status_code == expected, getattr(response, "content", b"<streamed>")[:500]


def test_matrix_covers_every_operation_in_the_schema(client):
    """A new endpoint must get a row here: every (path, method) of the schema appears in the matrix."""
    schema = client.get("/api/schema/?format=json").json()
    operations = {(p, m) for p, ops in schema["paths"].items() for m in ops if m in {"get", "post", "put", "patch"}}
    covered = {(_template(row[2]), row[1]) for row in MATRIX}
    assert operations - covered == set()


def _template(path) -> str:
    """The schema path a row's URL builder stands for ({id} in place of the object id)."""
    from types import SimpleNamespace

    obj = SimpleNamespace(id="{id}", team_goal=None, rep_goal=None)
    side = SimpleNamespace(team_goal=obj, rep_goal=obj, micro=obj, entry=obj, notification=obj, rep=obj, membership=obj)
    side.__dict__.update(checkin=obj, feedback=obj, action_item=obj, adjustment=obj)
    rewards = SimpleNamespace(badge=obj, spare=obj, pending=obj, flagged=obj)
    return path(SimpleNamespace(a=side, team_a=obj, kpi=obj, today=None, rewards=rewards)).split("?")[0]
