from django.urls import path

from . import people_views, views

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
    path("people/", people_views.people_list, name="people_list"),
    path("people/invite/", people_views.person_invite, name="person_invite"),
    path("people/<int:person_id>/deactivate/", people_views.person_deactivate, name="person_deactivate"),
    path("people/<int:person_id>/reactivate/", people_views.person_reactivate, name="person_reactivate"),
    path("people/<int:person_id>/unlock/", people_views.person_unlock, name="person_unlock"),
    path("people/<int:person_id>/invitation/", people_views.person_invitation_resend, name="person_invitation_resend"),
    path("audit/", people_views.audit_log, name="audit_log"),
]
