"""Coaching and praise: who gives what to whom, the 15-minute edit window, and who reads it (kudos feed)."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from feedback import selectors, services
from feedback.models import Feedback
from notifications.models import Notification
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

Kind, Visibility = Feedback.Kind, Feedback.Visibility


@pytest.fixture
def teammate(personas):
    return MembershipFactory(user=UserFactory(username="tess_teammate"), team=personas.team_a).user


def test_a_manager_coaches_their_rep_and_the_rep_is_notified(personas, rep_goal):
    feedback = services.feedback_give(
        author=personas.manager_a,
        recipient=personas.rep_a,
        kind=Kind.COACHING,
        body="Try multi-threading",
        goal=rep_goal,
    )
    assert feedback.visibility == Visibility.PRIVATE
    note = Notification.objects.get(user=personas.rep_a, key=f"feedback:{feedback.id}")
    assert note.kind == Notification.Kind.FEEDBACK_RECEIVED and "Try multi-threading" in note.body


def test_praise_to_a_teammate_goes_on_the_kudos_feed(personas, teammate):
    praise = services.feedback_give(author=personas.rep_a, recipient=teammate, kind=Kind.PRAISE, body="Great demo!")
    assert praise.visibility == Visibility.TEAM
    assert selectors.kudos_feed(team=personas.team_a) == [praise]
    assert selectors.kudos_feed(team=personas.team_b) == []
    # The team reads it; another team does not.
    assert selectors.feedback_list_for_user(user=personas.manager_a).filter(id=praise.id).exists()
    assert not selectors.feedback_list_for_user(user=personas.rep_b).filter(id=praise.id).exists()


def test_a_rep_gives_teammates_praise_only_and_nothing_to_another_team(personas, teammate):
    with pytest.raises(ValidationError, match=r"give .* praise"):
        services.feedback_give(author=personas.rep_a, recipient=teammate, kind=Kind.CONCERN, body="Late again")
    with pytest.raises(PermissionDenied):
        services.feedback_give(author=personas.rep_a, recipient=personas.rep_b, kind=Kind.PRAISE, body="Hi")
    with pytest.raises(ValidationError, match="someone else"):
        services.feedback_give(author=personas.rep_a, recipient=personas.rep_a, kind=Kind.PRAISE, body="Me")
    assert not Feedback.objects.exists()


def test_a_rep_gives_feedback_to_their_manager(personas):
    concern = services.feedback_give(
        author=personas.rep_a, recipient=personas.manager_a, kind=Kind.CONCERN, body="Too many meetings"
    )
    assert concern.recipient == personas.manager_a


def test_private_coaching_is_read_by_the_two_of_them_only(personas, teammate):
    coaching = services.feedback_give(
        author=personas.manager_a, recipient=personas.rep_a, kind=Kind.COACHING, body="Between us"
    )
    readers = {u.id for u in (personas.manager_a, personas.rep_a, personas.admin)}
    for user in (personas.manager_a, personas.rep_a, personas.admin, teammate, personas.manager_b, personas.rep_b):
        assert selectors.feedback_list_for_user(user=user).filter(id=coaching.id).exists() == (user.id in readers)


def test_only_praise_can_go_on_the_kudos_feed(personas):
    with pytest.raises(ValidationError, match="Only praise"):
        services.feedback_give(
            author=personas.manager_a, recipient=personas.rep_a, kind=Kind.CONCERN, body="x", visibility="team"
        )


def test_a_goal_of_someone_else_is_refused(personas, rep_b_goal):
    with pytest.raises(ValidationError) as refused:
        services.feedback_give(
            author=personas.admin, recipient=personas.rep_a, kind=Kind.COACHING, body="x", goal=rep_b_goal
        )
    assert "goal" in refused.value.message_dict


def test_the_author_edits_within_15_minutes_and_the_earlier_wording_is_kept(personas, time_machine):
    time_machine.move_to(datetime.datetime(2026, 3, 11, 10, 0, tzinfo=datetime.UTC), tick=False)
    feedback = services.feedback_give(
        author=personas.manager_a, recipient=personas.rep_a, kind=Kind.COACHING, body="v1"
    )
    time_machine.move_to(datetime.datetime(2026, 3, 11, 10, 14, 59, tzinfo=datetime.UTC), tick=False)
    services.feedback_edit(feedback=feedback, edited_by=personas.manager_a, body="v2")
    feedback.refresh_from_db()
    assert feedback.body == "v2" and [h["body"] for h in feedback.history] == ["v1"]
    with pytest.raises(PermissionDenied):
        services.feedback_edit(feedback=feedback, edited_by=personas.rep_a, body="hacked")
    time_machine.move_to(datetime.datetime(2026, 3, 11, 10, 15, 1, tzinfo=datetime.UTC), tick=False)
    with pytest.raises(ValidationError, match="15 minutes"):
        services.feedback_edit(feedback=feedback, edited_by=personas.manager_a, body="v3")
    feedback.refresh_from_db()
    assert feedback.body == "v2"
