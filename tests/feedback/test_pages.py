"""The feedback pages in the browser's place (Django's test client): they open, forms show field errors in place
and keep what was typed, the goal page loads the combined timeline, and actions land where they should."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from feedback import services
from feedback.models import ActionItem, AdjustmentRequest, CheckIn, Feedback

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(personas, rep_goal):
    """A check-in with a reply, coaching, a pending request and an overdue action item on rep_a's goal."""
    checkin = services.checkin_submit(goal=rep_goal, rep=personas.rep_a, confidence=3, blockers="Pricing objections")
    services.checkin_reply(checkin=checkin, author=personas.manager_a, body="Let's role-play it")
    services.feedback_give(
        author=personas.manager_a, recipient=personas.rep_a, kind="coaching", body="Lead with value", goal=rep_goal
    )
    request = services.adjustment_request_create(
        goal=rep_goal, requested_by=personas.rep_a, proposed_target=Decimal(80), reason="Big deal slipped"
    )
    item = services.action_item_create(
        goal=rep_goal, title="Shadow Ben on two demos", owner=personas.rep_a, due_date=datetime.date(2026, 3, 10),
        created_by=personas.manager_a, checkin=checkin,
    )  # fmt: skip
    return checkin, request, item


def test_every_page_opens_for_the_rep_and_the_manager(client, personas, rep_goal, history):
    checkin, request, _item = history
    rep_pages = [
        reverse("feedback:received"),
        reverse("feedback:given"),
        reverse("feedback:give"),
        reverse("feedback:kudos"),
        reverse("feedback:action_items"),
        reverse("feedback:requests"),
        reverse("feedback:request_detail", args=[request.id]),
        reverse("feedback:checkins"),
        reverse("feedback:checkin", args=[rep_goal.id]),
        reverse("feedback:checkin_detail", args=[checkin.id]),
        reverse("feedback:goal_timeline", args=[rep_goal.id]),
        reverse("feedback:goal_checkin_button", args=[rep_goal.id]),
        reverse("feedback:action_item_create", args=[rep_goal.id]),
    ]
    client.force_login(personas.rep_a)
    for url in rep_pages:
        assert client.get(url).status_code == 200, url
    manager_pages = [
        reverse("feedback:agenda_list"),
        reverse("feedback:agenda", args=[personas.rep_a.id]),
        reverse("feedback:request_detail", args=[request.id]),
        reverse("feedback:checkins"),
        reverse("feedback:checkin_detail", args=[checkin.id]),
        reverse("feedback:goal_timeline", args=[rep_goal.id]),
    ]
    client.force_login(personas.manager_a)
    for url in manager_pages:
        assert client.get(url).status_code == 200, url


def test_the_timeline_shows_revisions_requests_checkins_and_feedback_in_one_history(
    client, personas, rep_goal, history
):
    client.force_login(personas.rep_a)
    html = client.get(reverse("feedback:goal_timeline", args=[rep_goal.id])).content.decode()
    for text in (
        "Created",
        "Adjustment requested",
        "Check-in: 3/10",
        "Coaching",
        "Lead with value",
        "Big deal slipped",
    ):
        assert text in html, text
    page = client.get(reverse("goal_detail", args=[rep_goal.id])).content.decode()
    assert reverse("feedback:goal_timeline", args=[rep_goal.id]) in page


def test_the_check_in_form_shows_the_error_in_place_and_keeps_what_was_typed(client, personas, rep_goal):
    client.force_login(personas.rep_a)
    url = reverse("feedback:checkin", args=[rep_goal.id])
    response = client.post(url, {"blockers": "CRM is down", "note": "Busy week"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Tap how confident you are" in html and "CRM is down" in html and "Busy week" in html
    assert not CheckIn.objects.exists()
    response = client.post(url, {"confidence": "6", "blockers": "CRM is down"})
    assert response.status_code == 302
    assert CheckIn.objects.get().confidence == 6


def test_the_request_form_keeps_what_was_typed_and_puts_the_error_on_its_field(client, personas, rep_goal):
    client.force_login(personas.rep_a)
    url = reverse("feedback:request_create", args=[rep_goal.id])
    html = client.post(url, {"proposed_target": "100", "reason": "Please"}).content.decode()
    assert "That is already the target" in html and "Please" in html
    html = client.post(url, {"proposed_target": "", "reason": ""}).content.decode()
    assert "This field is required" in html
    response = client.post(url, {"proposed_target": "80", "reason": "Slipped"})
    assert response.status_code == 302
    assert AdjustmentRequest.objects.get().proposed_target == Decimal(80)


def test_the_manager_sees_the_preview_side_by_side_then_approves(client, personas, rep_goal, history):
    _checkin, request, _item = history
    client.force_login(personas.manager_a)
    html = client.get(reverse("feedback:request_detail", args=[request.id])).content.decode()
    assert (
        "What approval would do" in html and "Micro goals ahead today" in html and "Re-planned after approval" in html
    )
    # Today's micro goals ahead are the plan as it stands: their sum is not "the target less what was achieved"
    # (the rep may be ahead of or behind it), so only the re-plan says what was achieved before it.
    today_table, after_table = html.split("Re-planned after approval", 1)
    today_table = today_table.split("Micro goals ahead today", 1)[1]
    assert "on add up to" in today_table and "already achieved" not in today_table
    assert "add up to exactly" in after_table
    response = client.post(reverse("feedback:request_decide", args=[request.id, "approve"]), {"response": "OK"})
    assert response.status_code == 302
    request.refresh_from_db()
    rep_goal.refresh_from_db()
    assert request.status == "approved" and rep_goal.target_value == Decimal(80)
    # A second click on the stale page: refused with the reason, nothing changes.
    response = client.post(reverse("feedback:request_decide", args=[request.id, "reject"]), {"response": "No"})
    assert response.status_code == 400 and "a decided request is final" in response.content.decode()


def test_declining_without_an_answer_keeps_the_request_pending(client, personas, history):
    _checkin, request, _item = history
    client.force_login(personas.manager_a)
    response = client.post(reverse("feedback:request_decide", args=[request.id, "reject"]), {"response": ""})
    assert response.status_code == 400 and "cannot be empty" in response.content.decode()
    request.refresh_from_db()
    assert request.status == "pending"


def test_give_feedback_form_keeps_the_text_on_an_error(client, personas):
    client.force_login(personas.rep_a)
    response = client.post(
        reverse("feedback:give"), {"recipient": personas.manager_a.id, "kind": "praise", "body": "", "goal": ""}
    )
    assert "This field is required" in response.content.decode()
    response = client.post(
        reverse("feedback:give"),
        {"recipient": personas.manager_a.id, "kind": "praise", "body": "Thanks for the help", "goal": ""},
    )
    assert response.status_code == 302 and Feedback.objects.get().body == "Thanks for the help"


def test_action_items_are_ticked_off_and_the_overdue_show_on_the_agenda(client, personas, history):
    _checkin, _request, item = history
    client.force_login(personas.manager_a)
    html = client.get(reverse("feedback:agenda", args=[personas.rep_a.id])).content.decode()
    assert "overdue" in html and "Shadow Ben on two demos" in html and "low confidence" in html
    client.force_login(personas.rep_a)
    assert client.post(reverse("feedback:action_item_done", args=[item.id])).status_code == 302
    assert ActionItem.objects.get().done_by == personas.rep_a


def test_ticking_off_a_completed_action_item_again_says_so_on_the_page(client, personas, history):
    """A second tab, or a double click: the page shows the API's 409 message, nothing changes, no error page."""
    _checkin, _request, item = history
    client.force_login(personas.rep_a)
    done = reverse("feedback:action_item_done", args=[item.id])
    assert client.post(done).status_code == 302
    first = ActionItem.objects.get()
    client.force_login(personas.manager_a)
    response = client.post(done, follow=True)
    assert response.redirect_chain == [(reverse("feedback:action_items"), 302)]
    when = f"{timezone.localtime(first.done_at):%d %b %Y}"
    assert f"This action item is already completed (done on {when})." in response.content.decode()
    assert (ActionItem.objects.get().done_at, ActionItem.objects.get().done_by) == (first.done_at, personas.rep_a)
