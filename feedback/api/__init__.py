"""REST resources of the feedback app (routed by config/api_urls.py): check-ins and their replies, feedback, action
items and adjustment requests (approve / reject / withdraw, with a preview of what approval would do). Thin over
feedback/services.py and feedback/selectors.py: every rule is theirs."""

from .adjustments import AdjustmentRequestViewSet
from .checkins import CheckInViewSet
from .feedback import FeedbackViewSet
from .support import ActionItemViewSet


def register(router):
    router.register("checkins", CheckInViewSet, basename="checkin")
    router.register("feedback", FeedbackViewSet, basename="feedback")
    router.register("action-items", ActionItemViewSet, basename="action-item")
    router.register("adjustment-requests", AdjustmentRequestViewSet, basename="adjustment-request")


urls: list = []
