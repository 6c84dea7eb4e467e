"""CRM ingestion over the API: Idempotency-Key (sequential and concurrent), external ids, bulk all-or-nothing, strict
input, backdated entries recomputing their goals."""

import datetime
import json

import pytest
from rest_framework.test import APIClient

from api.models import IdempotencyKey
from api.services import api_token_create
from goals.models import Goal, ProgressEntry
from tests.concurrency import run_in_threads

pytestmark = pytest.mark.django_db

ENTRIES = "/api/v1/progress-entries/"
BULK = "/api/v1/progress-entries/bulk/"


def _body(w, **extra):
    return {"user": w.a.rep.id, "kpi": w.kpi.id, "date": str(w.today), "value": "3", **extra}


def test_the_same_idempotency_key_ten_times_creates_one_entry_and_the_same_response(world, client_for):
    client = client_for("manager_a")
    before = ProgressEntry.objects.count()
    responses = [client.post(ENTRIES, _body(world), format="json", HTTP_IDEMPOTENCY_KEY="crm-42") for _ in range(10)]
    assert ProgressEntry.objects.count() == before + 1
    assert {r.status_code for r in responses} == {201}
    assert len({r.content for r in responses}) == 1  # byte for byte
    assert [r["Idempotent-Replayed"] for r in responses] == ["false"] + ["true"] * 9
    entry = ProgressEntry.objects.get(id=json.loads(responses[0].content)["id"])
    assert (entry.source, entry.created_by, entry.user) == ("api", world.manager_a, world.a.rep)


def test_the_same_key_with_another_body_is_a_409_that_says_so(world, client_for):
    client = client_for("manager_a")
    client.post(ENTRIES, _body(world), format="json", HTTP_IDEMPOTENCY_KEY="crm-43")
    response = client.post(ENTRIES, _body(world, value="4"), format="json", HTTP_IDEMPOTENCY_KEY="crm-43")
    assert response.status_code == 409
    error = response.json()["errors"][0]
    assert error["code"] == "conflict" and "different request" in error["detail"]
    assert ProgressEntry.objects.filter(source="api").count() == 1


def test_keys_belong_to_their_user(world, client_for):
    """Another user's identical key is theirs: it creates their own entry, not a replay of someone else's."""
    client_for("manager_a").post(ENTRIES, _body(world), format="json", HTTP_IDEMPOTENCY_KEY="k")
    response = client_for("rep_a").post(ENTRIES, _body(world), format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 201 and response["Idempotent-Replayed"] == "false"
    assert ProgressEntry.objects.filter(source="api").count() == 2


def test_a_refused_request_keeps_no_key_so_a_fixed_retry_succeeds(world, client_for):
    client = client_for("rep_a")
    future = str(world.today + datetime.timedelta(days=3))
    assert client.post(ENTRIES, _body(world, date=future), format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 400
    assert not IdempotencyKey.objects.exists()
    assert client.post(ENTRIES, _body(world), format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 201


def test_the_same_external_id_counts_once(world, client_for):
    client = client_for("manager_a")
    first = client.post(ENTRIES, _body(world, external_id="deal-1"), format="json")
    again = client.post(ENTRIES, _body(world, external_id="deal-1"), format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    other = client.post(
        ENTRIES, _body(world, external_id="deal-1", kpi=world.kpi.id, user=world.manager_a.id), format="json"
    )
    assert other.status_code == 400 and "already used" in other.json()["errors"][0]["detail"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_create_one_entry_and_answer_alike(world):
    _, token = api_token_create(user=world.manager_a, name="crm")
    body = _body(world)

    def send():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        response = client.post(ENTRIES, body, format="json", HTTP_IDEMPOTENCY_KEY="race")
        return response.status_code, response.content

    results, errors = run_in_threads(send, count=10)
    assert errors == []
    assert ProgressEntry.objects.filter(source="api").count() == 1
    assert {status for status, _ in results} == {201}
    assert len({content for _, content in results}) == 1


def test_unknown_and_read_only_fields_are_refused_never_applied(world, client_for):
    client = client_for("manager_a")
    goal = world.a.team_goal
    for field, value in [("status", "achieved"), ("current_value", "99"), ("created_by", world.rep_a.id),
                         ("figures", {}), ("kpi", world.kpi.id)]:  # fmt: skip
        response = client.patch(f"/api/v1/goals/{goal.id}/", {field: value}, format="json")
        assert response.status_code == 400, field
        assert f"“{field}” cannot be set here" in response.json()["errors"][0]["detail"]
    goal.refresh_from_db()
    assert (goal.status, goal.current_value) == ("active", 0)
    response = client.post(ENTRIES, _body(world, created_by=world.rep_b.id, source="import"), format="json")
    assert response.status_code == 400
    details = " ".join(e["detail"] for e in response.json()["errors"])
    assert "“created_by” cannot be set here" in details and "“source” cannot be set here" in details
    assert client_for("admin").post("/api/v1/teams/", {"name": "X", "is_staff": True}, format="json").status_code == 400


def test_service_errors_are_400s_with_the_field_and_the_message(world, client_for):
    response = client_for("rep_a").post(ENTRIES, _body(world, value="2.5"), format="json")
    assert response.status_code == 400
    assert response.json() == {
        "type": "validation_error",
        "errors": [{"code": "invalid", "detail": "Deals won takes whole numbers only; 2.5 has more.", "attr": "value"}],
    }


def test_bulk_is_all_or_nothing_with_errors_by_row(world, client_for):
    rows = [
        {"user": world.a.rep.username, "kpi": "deals won", "date": str(world.today), "value": "1", "external_id": "b1"},
        {"user": "nobody@example.com", "kpi": "Calls", "date": str(world.today), "value": "1"},
        {"user": world.a.rep.email, "kpi": str(world.kpi.id), "date": str(world.today), "value": "1.5"},
        {"user": str(world.b.rep.id), "kpi": world.kpi.name, "date": str(world.today), "value": "1"},
    ]
    response = client_for("manager_a").post(BULK, {"entries": rows}, format="json")
    assert response.status_code == 400
    errors = {(e["attr"]) for e in response.json()["errors"]}
    assert errors == {"entries.1.user", "entries.1.kpi", "entries.2.value", "entries.3.user"}
    assert not ProgressEntry.objects.filter(external_id="b1").exists()


def test_bulk_takes_people_by_id_username_or_email_and_skips_known_external_ids(world, client_for):
    client = client_for("manager_a")
    rep = world.a.rep
    rows = [
        {"user": ref, "kpi": world.kpi.name, "date": str(world.today - datetime.timedelta(days=n)), "value": "1",
         "external_id": f"bulk-{n}"}
        for n, ref in enumerate([str(rep.id), rep.username, rep.email.upper()])
    ]  # fmt: skip
    first = client.post(BULK, {"entries": rows}, format="json")
    assert first.status_code == 201 and first.json()["created"] == 3
    again = client.post(BULK, {"entries": rows}, format="json")
    assert again.json() == {"created": 0, "unchanged": 3, "entry_ids": []}
    assert ProgressEntry.objects.filter(user=rep, source="api").count() == 3


def test_bulk_refuses_more_than_1000_rows(world, client_for):
    row = {"user": world.a.rep.username, "kpi": world.kpi.name, "date": str(world.today), "value": "1"}
    response = client_for("admin").post(BULK, {"entries": [row] * 1001}, format="json")
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["attr"].startswith("entries") and "1000" in error["detail"]


def test_a_backdated_entry_recomputes_the_goals_it_touches(
    world, client_for, eager_celery, django_capture_on_commit_callbacks
):
    goal = world.a.rep_goal
    backdated = str(goal.start_date + datetime.timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for("manager_a").post(ENTRIES, _body(world, date=backdated, value="7"), format="json")
    assert response.status_code == 201
    goal.refresh_from_db()
    assert goal.current_value == 9  # the two seeded entries (1 each) and this one
    assert Goal.objects.get(id=world.a.team_goal.id).current_value == 9


def test_renaming_a_team_keeps_its_parent_and_calendar(world, client_for):
    from teams.models import Team

    parent = Team.objects.create(name="EMEA", slug="emea")
    Team.objects.filter(id=world.team_a.id).update(parent=parent, working_weekdays="1234")
    response = client_for("admin").put(f"/api/v1/teams/{world.team_a.id}/", {"name": "Team A+"}, format="json")
    assert response.status_code == 200
    assert response.json() | {} == {
        **response.json(),
        "name": "Team A+",
        "parent": parent.id,
        "working_weekdays": "1234",
    }
