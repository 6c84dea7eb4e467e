from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("teams/", views.team_list, name="team_list"),
    path("teams/new/", views.team_create, name="team_create"),
    path("teams/<int:team_id>/", views.team_detail, name="team_detail"),
    path("teams/<int:team_id>/edit/", views.team_update, name="team_update"),
    path("teams/<int:team_id>/members/add/", views.member_add, name="member_add"),
    path("teams/<int:team_id>/members/<int:membership_id>/edit/", views.member_update, name="member_update"),
    path("teams/<int:team_id>/members/<int:membership_id>/remove/", views.member_remove, name="member_remove"),
    path("teams/<int:team_id>/holidays/add/", views.holiday_add, name="holiday_add"),
    path("teams/<int:team_id>/holidays/<int:holiday_id>/remove/", views.holiday_remove, name="holiday_remove"),
]
