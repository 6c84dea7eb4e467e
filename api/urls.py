from django.urls import path

from api import views

urlpatterns = [
    path("settings/api-tokens/", views.token_list, name="api_tokens"),
    path("settings/api-tokens/<str:token_key>/revoke/", views.token_revoke, name="api_token_revoke"),
    path("import/progress/", views.progress_import_page, name="progress_import"),
    path("export/entries.csv", views.entries_export, name="entries_export"),
    path("export/goals.csv", views.goals_export, name="goals_export"),
]
