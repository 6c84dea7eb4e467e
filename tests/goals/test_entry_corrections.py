"""Corrections leave a trace (issue 9 §5, issue 10 §7): every edit and void of an entry records who, when and the
old and new value, date and note; the goal's log history shows them and offers edit and void to whoever may; a rep
cannot rewrite what someone else logged for them or what was imported.

Everything happens on Wednesday 11 March 2026 (UTC, the personas' timezone)."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from goals import services
from goals.models import ProgressEntry, ProgressEntryRevision
from teams.models import AuditEvent
from tests.factories import GoalFactory, ProgressEntryFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("wednesday_11_march")]

TODAY = datetime.date(2026, 3, 11)
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def goal(personas, deals):
    return GoalFactory(title="March deals", kpi=deals, owner_user=personas.rep_a, created_by=personas.manager_a)


def own_entry(personas, deals, **kwargs):
    return services.progress_record(
        user=personas.rep_a, kpi=deals, date=TODAY, value="13", note="first", created_by=personas.rep_a, **kwargs
    )


# --- the service ----------------------------------------------------------------------------------------------


def test_an_edit_records_who_when_and_the_old_and_new_value_date_and_note(personas, deals):
    entry = own_entry(personas, deals)
    services.progress_update(
        entry=entry, value="90", note="typo", date=datetime.date(2026, 3, 10), updated_by=personas.rep_a
    )
    revision = ProgressEntryRevision.objects.get(entry=entry)
    assert revision.kind == ProgressEntryRevision.Kind.EDITED and revision.changed_by == personas.rep_a
    assert (revision.old_value, revision.new_value) == (Decimal(13), Decimal(90))
    assert (revision.old_date, revision.new_date) == (TODAY, datetime.date(2026, 3, 10))
    assert (revision.old_note, revision.new_note) == ("first", "typo")
    assert revision.changed_at is not None
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.ENTRY_EDIT)
    assert event.actor == personas.rep_a and event.subject_user == personas.rep_a
    assert event.data["old"] == {"value": "13", "date": "2026-03-11", "note": "first"}
    assert event.data["new"]["value"] == "90" and "13 → 90" in event.summary


def test_an_edit_that_changes_nothing_writes_nothing(personas, deals):
    entry = own_entry(personas, deals)
    services.progress_update(entry=entry, value="13", note=" first ", updated_by=personas.rep_a)
    assert not ProgressEntryRevision.objects.exists() and not AuditEvent.objects.exists()


def test_a_void_records_who_when_and_why(personas, deals):
    entry = own_entry(personas, deals)
    services.progress_void(entry=entry, reason="Logged twice", voided_by=personas.manager_a)
    revision = ProgressEntryRevision.objects.get(entry=entry)
    assert revision.kind == ProgressEntryRevision.Kind.VOIDED and revision.reason == "Logged twice"
    assert revision.changed_by == personas.manager_a and revision.old_value == revision.new_value == Decimal(13)
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.ENTRY_VOID)
    assert event.actor == personas.manager_a and event.subject_user == personas.rep_a
    assert event.data["reason"] == "Logged twice"


@pytest.mark.parametrize("how", ["logged by the manager", "imported"])
def test_a_rep_cannot_rewrite_an_entry_someone_else_logged_or_that_was_imported(personas, deals, how):
    if how == "imported":
        entry = services.progress_record(
            user=personas.rep_a, kpi=deals, date=TODAY, value="13", source=ProgressEntry.Source.IMPORT,
            external_id="crm-1", created_by=personas.rep_a,
        )  # fmt: skip
    else:
        entry = services.progress_record(
            user=personas.rep_a, kpi=deals, date=TODAY, value="13", created_by=personas.manager_a
        )
    with pytest.raises(PermissionDenied, match="void it with a reason"):
        services.progress_update(entry=entry, value="90", note="", updated_by=personas.rep_a)
    entry.refresh_from_db()
    assert entry.value == 13 and not ProgressEntryRevision.objects.exists()
    # …they void it with a reason (and log a new one); their manager can edit it.
    services.progress_update(entry=entry, value="12", note="corrected", updated_by=personas.manager_a)
    services.progress_void(entry=entry, reason="Wrong deal", voided_by=personas.rep_a)
    assert list(entry.revisions.values_list("kind", flat=True)) == ["edited", "voided"]


def test_editing_the_note_never_rechecks_an_unchanged_date_against_a_new_timezone(personas, deals):
    entry = own_entry(personas, deals)
    personas.rep_a.timezone = "Pacific/Pago_Pago"  # UTC-11: at 10:00 UTC it is still 10 March there
    personas.rep_a.save()
    assert personas.rep_a.local_today() < entry.date
    services.progress_update(entry=entry, value="13", note="from the road", updated_by=personas.rep_a)
    entry.refresh_from_db()
    assert entry.note == "from the road" and entry.date == TODAY


def test_a_note_edit_from_the_page_after_moving_to_pago_pago_is_accepted(client, personas, deals):
    entry = own_entry(personas, deals)
    personas.rep_a.timezone = "Pacific/Pago_Pago"
    personas.rep_a.save()
    client.force_login(personas.rep_a)
    data = {"value": "13", "date": TODAY.isoformat(), "note": "from the road"}
    response = client.post(reverse("entry_edit", args=[entry.id]), data)
    assert response.status_code == 302, response.content.decode()
    entry.refresh_from_db()
    assert entry.note == "from the road"


def test_moving_an_entry_to_a_future_date_is_still_refused(personas, deals):
    from django.core.exceptions import ValidationError

    entry = own_entry(personas, deals)
    with pytest.raises(ValidationError, match="in the future"):
        services.progress_update(
            entry=entry, value="13", note="", date=datetime.date(2026, 3, 12), updated_by=personas.rep_a
        )


# --- the log history --------------------------------------------------------------------------------------------


def test_log_history_shows_the_trail_under_the_entry(client, personas, deals, goal):
    entry = own_entry(personas, deals)
    services.progress_update(entry=entry, value="90", note="typo fixed", updated_by=personas.rep_a)
    services.progress_void(entry=entry, reason="Belongs to April", voided_by=personas.manager_a)
    client.force_login(personas.rep_a)
    page = client.get(reverse("goal_entries", args=[goal.id])).content.decode()
    assert "Corrections" in page and "13" in page and "90" in page
    assert "“first” → “typo fixed”" in page
    assert "voided it: Belongs to April" in page and str(personas.manager_a) in page


def test_log_history_offers_edit_and_void_only_for_what_the_viewer_may_change(client, personas, deals, goal):
    mine = own_entry(personas, deals)
    by_manager = services.progress_record(
        user=personas.rep_a, kpi=deals, date=TODAY, value="2", created_by=personas.manager_a
    )
    url = reverse("goal_entries", args=[goal.id])
    client.force_login(personas.rep_a)
    page = client.get(url).content.decode()
    assert reverse("entry_edit", args=[mine.id]) in page and reverse("entry_void", args=[mine.id]) in page
    assert reverse("entry_edit", args=[by_manager.id]) not in page  # the rep voids it instead
    assert reverse("entry_void", args=[by_manager.id]) in page
    client.force_login(personas.manager_a)
    page = client.get(url).content.decode()
    assert reverse("entry_edit", args=[by_manager.id]) in page and reverse("entry_edit", args=[mine.id]) in page


def test_a_correction_from_the_log_history_goes_back_to_it(client, personas, deals, goal):
    entry = own_entry(personas, deals)
    history = reverse("goal_entries", args=[goal.id])
    client.force_login(personas.rep_a)
    form = client.get(reverse("entry_edit", args=[entry.id]) + f"?next={history}").content.decode()
    assert f'name="next" value="{history}"' in form
    response = client.post(
        reverse("entry_edit", args=[entry.id]),
        {"value": "14", "date": TODAY.isoformat(), "note": "first", "next": history},
    )
    assert response.status_code == 302 and response["Location"] == history
    response = client.post(reverse("entry_void", args=[entry.id]), {"reason": "dup", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == reverse("today")  # never off-site


def test_today_offers_no_edit_of_an_entry_the_manager_logged_for_the_rep(client, personas, deals, goal):
    by_manager = services.progress_record(
        user=personas.rep_a, kpi=deals, date=TODAY, value="2", created_by=personas.manager_a
    )
    client.force_login(personas.rep_a)
    page = client.get(reverse("today")).content.decode()
    assert reverse("entry_void", args=[by_manager.id]) in page
    assert reverse("entry_edit", args=[by_manager.id]) not in page
    client.force_login(personas.manager_a)
    page = client.get(reverse("today") + f"?rep={personas.rep_a.id}").content.decode()
    assert reverse("entry_edit", args=[by_manager.id]) in page


def test_the_rep_is_told_why_an_imported_entry_cannot_be_rewritten(client, personas, deals, goal):
    entry = services.progress_record(
        user=personas.rep_a, kpi=deals, date=TODAY, value="13", source=ProgressEntry.Source.IMPORT,
        external_id="crm-9", created_by=personas.rep_a,
    )  # fmt: skip
    client.force_login(personas.rep_a)
    page = client.get(reverse("entry_edit", args=[entry.id])).content.decode()
    assert "was imported, so you cannot rewrite it" in page and reverse("entry_void", args=[entry.id]) in page
    forged = client.post(reverse("entry_edit", args=[entry.id]), {"value": "90", "date": TODAY.isoformat()})
    assert forged.status_code == 200 and "void it with a reason" in forged.content.decode()
    entry.refresh_from_db()
    assert entry.value == 13


def test_after_an_inline_void_the_row_takes_the_focus(client, personas, deals, goal):
    entry = own_entry(personas, deals)
    client.force_login(personas.rep_a)
    response = client.post(reverse("entry_void", args=[entry.id]), {"reason": "dup"}, **HTMX)
    html = response.content.decode()
    assert f'id="entry-{entry.id}" tabindex="-1" autofocus' in html  # htmx focuses [autofocus] after the swap


@pytest.mark.parametrize("size", [5, 200])
def test_log_history_with_corrections_costs_the_same_for_5_and_200_entries(
    client, personas, deals, goal, size, django_assert_num_queries
):
    entries = [ProgressEntryFactory(user=personas.rep_a, kpi=deals, date=TODAY) for _ in range(size)]
    for entry in entries[-25:]:  # the newest: the first page
        services.progress_update(entry=entry, value="2", note="fixed", updated_by=personas.manager_a)
    client.force_login(personas.manager_a)
    # session, user, the goal's scope (managed memberships, team tree) + goal, the entries' scope (3 for a
    # manager), count, page, the page's corrections with who made them (one prefetch), whom the viewer may
    # correct for (3).
    with django_assert_num_queries(14):
        response = client.get(reverse("goal_entries", args=[goal.id]), **HTMX)
    assert response.content.decode().count("entry-revision") == min(size, 25)
