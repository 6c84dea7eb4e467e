"""Mounted at the site root by config/urls.py: the feedback pages under /feedback/, check-ins under /checkins/, the
manager's 1:1 agendas under /one-on-one/ (their own nav item)."""

from django.urls import path

from . import views

app_name = "feedback"

urlpatterns = [
    path("feedback/", views.feedback_received, name="received"),
    path("feedback/given/", views.feedback_given, name="given"),
    path("feedback/new/", views.feedback_give, name="give"),
    path("feedback/<int:feedback_id>/edit/", views.feedback_edit, name="edit"),
    path("feedback/kudos/", views.kudos, name="kudos"),
    path("feedback/action-items/", views.action_items, name="action_items"),
    path("feedback/action-items/<int:item_id>/done/", views.action_item_done, name="action_item_done"),
    path("feedback/goals/<int:goal_id>/action-items/new/", views.action_item_create, name="action_item_create"),
    path("feedback/goals/<int:goal_id>/timeline/", views.goal_timeline, name="goal_timeline"),
    path("feedback/goals/<int:goal_id>/adjust/", views.request_create, name="request_create"),
    path("feedback/requests/", views.requests, name="requests"),
    path("feedback/requests/<int:request_id>/", views.request_detail, name="request_detail"),
    path(
        "feedback/requests/<int:request_id>/<str:decision>/",
        views.request_decide,
        name="request_decide",
    ),
    path("one-on-one/", views.agenda_list, name="agenda_list"),
    path("one-on-one/<int:user_id>/", views.agenda, name="agenda"),
    path("checkins/", views.checkins, name="checkins"),
    path("checkins/goals/<int:goal_id>/", views.checkin, name="checkin"),
    path("checkins/goals/<int:goal_id>/button/", views.goal_checkin_button, name="goal_checkin_button"),
    path("checkins/<int:checkin_id>/", views.checkin_detail, name="checkin_detail"),
]
