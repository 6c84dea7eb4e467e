"""REST resources of the goals app (routed by config/api_urls.py): KPIs, goals with their figures, revisions and
micro goals, and the progress ledger (with Idempotency-Key, bulk sync and CSV export)."""

from .entries import ProgressEntryViewSet
from .goals import GoalViewSet, KpiViewSet, MicroGoalViewSet


def register(router):
    router.register("kpis", KpiViewSet, basename="kpi")
    router.register("goals", GoalViewSet, basename="goal")
    router.register("micro-goals", MicroGoalViewSet, basename="micro-goal")
    router.register("progress-entries", ProgressEntryViewSet, basename="progress-entry")


urls: list = []
