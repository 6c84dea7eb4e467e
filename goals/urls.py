from django.urls import path

from goals.views import goal_page, kpis, manager, rep

urlpatterns = [
    path("kpis/", kpis.kpi_list, name="kpi_list"),
    path("kpis/new/", kpis.kpi_create, name="kpi_create"),
    path("kpis/<int:kpi_id>/edit/", kpis.kpi_update, name="kpi_update"),
    # Manager pages and the goal page (goals/views/manager.py, goals/views/goal_page.py)
    path("dashboard/", manager.dashboard, name="dashboard"),
    path("goals/new/", manager.goal_create, name="goal_create"),
    path("goals/new/achievability/", manager.goal_achievability, name="goal_achievability"),
    path("goals/new/preview/", manager.goal_create_preview, name="goal_create_preview"),
    path("goals/bulk/", manager.goal_bulk, name="goal_bulk"),
    path("teams/<int:team_id>/plans-affected/", manager.team_plans_affected, name="team_plans_affected"),
    path("goals/<int:goal_id>/", goal_page.goal_detail, name="goal_detail"),
    path("goals/<int:goal_id>/edit/", goal_page.goal_edit, name="goal_edit"),
    path("goals/<int:goal_id>/replan/", goal_page.goal_replan, name="goal_replan"),
    path("goals/<int:goal_id>/cancel/", goal_page.goal_cancel, name="goal_cancel"),
    # Rep pages (goals/views/rep.py): Today, My goals, a goal's log history, inline entry edit and void
    path("today/", rep.today, name="today"),
    path("today/log/", rep.today_log, name="today_log"),
    path("today/entries/", rep.today_entries, name="today_entries"),
    path("today/goals/", rep.today_goals, name="today_goals"),
    path("entries/<int:entry_id>/edit/", rep.entry_edit, name="entry_edit"),
    path("entries/<int:entry_id>/void/", rep.entry_void, name="entry_void"),
    path("my-goals/", rep.my_goals, name="my_goals"),
    path("goals/<int:goal_id>/entries/", rep.goal_entries, name="goal_entries"),
]
