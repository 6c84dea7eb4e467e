"""REST resources of the rewards app (routed by config/api_urls.py): reward tiers (everyone reads the active ones,
admins configure them), awards (yours, and those of the reps you manage, with their decisions and payouts) and the
leaderboards. Thin: rewards/selectors.py scopes every read, rewards/services.py decides every write."""

from .awards import AwardViewSet
from .leaderboards import LeaderboardView
from .tiers import RewardTierViewSet


def register(router):
    router.register("reward-tiers", RewardTierViewSet, basename="reward-tier")
    router.register("awards", AwardViewSet, basename="award")


urls = [("leaderboards/", LeaderboardView.as_view(), "leaderboards")]
