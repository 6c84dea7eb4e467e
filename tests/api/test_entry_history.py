"""An entry's edit history over the API: every correction (who, when, value, date and note before and after, the
void's reason), oldest first, for an entry the caller may see; the same few queries however long the history."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from goals.services import progress_update

pytestmark = pytest.mark.django_db


def _history(client, entry):
    return client.get(f"/api/v1/progress-entries/{entry.id}/history/")


def test_edits_and_the_void_are_listed_oldest_first(world, client_for):
    entry = world.a.entry
    manager = client_for("manager_a")
    old_date, new_date = entry.date, entry.date - datetime.timedelta(days=1)
    assert _history(manager, entry).json() == []
    body = {"value": "3", "date": str(new_date), "note": "the CRM had it a day late"}
    assert manager.patch(f"/api/v1/progress-entries/{entry.id}/", body, format="json").status_code == 200
    rep = client_for("rep_a")
    assert rep.post(f"/api/v1/progress-entries/{entry.id}/void/", {"reason": "dup"}, format="json").status_code == 200
    edited, voided = _history(rep, entry).json()
    assert edited["kind"] == "edited" and edited["changed_by"]["id"] == world.manager_a.id
    assert (edited["old_value"], edited["new_value"]) == ("1.0000", "3.0000")
    assert (edited["old_date"], edited["new_date"]) == (str(old_date), str(new_date))
    assert (edited["old_note"], edited["new_note"], edited["reason"]) == ("", "the CRM had it a day late", "")
    assert voided["kind"] == "voided" and voided["changed_by"]["id"] == world.rep_a.id
    assert (voided["old_value"], voided["new_value"], voided["reason"]) == ("3.0000", "3.0000", "dup")
    assert edited["changed_at"] <= voided["changed_at"]


def test_another_teams_entry_history_is_a_404(world, client_for):
    progress_update(entry=world.b.entry, value="5", note="", updated_by=world.manager_b)
    assert _history(client_for("manager_a"), world.b.entry).status_code == 404
    assert _history(client_for("rep_a"), world.a.entry).status_code == 200


def test_the_history_costs_the_same_queries_for_1_and_12_corrections(world, client_for):
    client = client_for("manager_a")
    client.get("/api/v1/me/")  # the token's first use records "last used"
    entry = world.a.entry

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert _history(client, entry).status_code == 200
        return len(queries)

    progress_update(entry=entry, value="2", note="first", updated_by=world.manager_a)
    one = count()
    for n in range(11):
        progress_update(entry=entry, value=str(3 + n), note=f"again {n}", updated_by=world.admin)
    assert len(_history(client, entry).json()) == 12
    assert count() == one
