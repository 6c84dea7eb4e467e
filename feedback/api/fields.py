"""References the feedback resources accept, each scoped to what the requesting user may see: anything else is a
400 naming the field ("does not exist"), by api.base.VisiblePrimaryKeyRelatedField as everywhere in the API."""

from django.db.models import Q

from api.base import VisiblePrimaryKeyRelatedField
from goals.api.goals import VisibleGoal
from goals.selectors import micro_goal_list_for_user
from teams.models import User

from .. import selectors

VisibleMicroGoal = VisiblePrimaryKeyRelatedField.of(lambda user: micro_goal_list_for_user(user=user))
VisibleCheckIn = VisiblePrimaryKeyRelatedField.of(lambda user: selectors.checkin_list_for_user(user=user))
VisibleFeedback = VisiblePrimaryKeyRelatedField.of(lambda user: selectors.feedback_list_for_user(user=user))
# Whom feedback may go to: feedback_recipients_for (the people you manage, your teammates, your managers).
Recipient = VisiblePrimaryKeyRelatedField.of(lambda user: selectors.feedback_recipients_for(user=user))
# Who may own a support step: you, or someone you may give feedback to; the service narrows it to the goal's
# rep and their managers.
Colleague = VisiblePrimaryKeyRelatedField.of(
    lambda user: User.objects.filter(
        Q(id=user.id) | Q(id__in=selectors.feedback_recipients_for(user=user).values("id"))
    )
)

__all__ = ["Colleague", "Recipient", "VisibleCheckIn", "VisibleFeedback", "VisibleGoal", "VisibleMicroGoal"]
