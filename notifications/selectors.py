"""Reads: a user's notifications (only ever their own) and what their preferences say."""

import datetime

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.shortcuts import get_object_or_404

from .models import Notification


def notification_list_for_user(*, user) -> QuerySet[Notification]:
    """The user's notifications, unread first, then newest first."""
    unread_first = Case(When(read_at__isnull=True, then=Value(0)), default=Value(1), output_field=IntegerField())
    return Notification.objects.filter(user=user).order_by(unread_first, "-created_at", "-id")


def notification_get_for_user(*, user, id: int) -> Notification:
    """404 alike for a missing notification and someone else's."""
    return get_object_or_404(Notification, user=user, id=id)


def unread_count(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notification_channel(*, user, kind: str) -> str:
    """How `kind` reaches the user: in_app | email | off. Missing (or garbled in the admin) means email."""
    channel = (user.notification_prefs or {}).get(kind, Notification.Channel.EMAIL)
    return channel if channel in Notification.Channel.values else Notification.Channel.EMAIL


def in_quiet_hours(*, user, at: datetime.datetime) -> bool:
    """Is `at` inside the user's local [quiet_hours_start, quiet_hours_end)? The window may wrap past midnight."""
    start, end = user.quiet_hours_start, user.quiet_hours_end
    if start is None or end is None or start == end:
        return False
    local = at.astimezone(user.zone).time()
    if start < end:
        return start <= local < end
    return local >= start or local < end


def notification_keys_delivered(*, pairs) -> set[tuple[int, str]]:
    """Which (user id, key) pairs already have a notification (one query): a job that finds the same people
    again can skip them (notify() would ignore them anyway; this only saves its queries)."""
    pairs = list(pairs)
    if not pairs:
        return set()
    user_ids, keys = {user_id for user_id, _ in pairs}, {key for _, key in pairs}
    return set(Notification.objects.filter(user_id__in=user_ids, key__in=keys).order_by().values_list("user_id", "key"))
