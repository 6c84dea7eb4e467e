from django.urls import path
from django.views.generic import RedirectView

from . import views

app_name = "rewards"

urlpatterns = [
    # Each page has its own prefix, so the navigation highlights one link at a time.
    path("", RedirectView.as_view(pattern_name="rewards:my_rewards"), name="index"),
    path("mine/", views.my_rewards, name="my_rewards"),
    path("preferences/", views.preference_update, name="preference_update"),
    path("streak-badge/", views.streak_badge, name="streak_badge"),
    path("awards/<int:award_id>/", views.award_detail, name="award_detail"),
    path("leaderboard/", views.leaderboard, name="leaderboard"),
    path("leaderboard/card/", views.leaderboard_card, name="leaderboard_card"),
    path("review/", views.review, name="review"),
    path("tiers/", views.tier_list, name="tier_list"),
    path("tiers/new/", views.tier_create, name="tier_create"),
    path("tiers/<int:tier_id>/edit/", views.tier_edit, name="tier_edit"),
    path("tiers/<int:tier_id>/toggle/", views.tier_toggle, name="tier_toggle"),
    path("tiers/<int:tier_id>/delete/", views.tier_delete, name="tier_delete"),
    path("payouts/", views.payouts, name="payouts"),
    path("payouts.csv", views.payouts_csv, name="payouts_csv"),
]
