"""Every write and business rule of the goals app. Import from here: `from goals import services`.

Split by subject so each file stays small:
- goals.py      KPIs and hard goals: create, update (with revisions), cancel, achievability
- breakdown.py  micro goals: generate (with preview), re-plan
- progress.py   the ledger: record, update, void (each with its rollup and stale marks)
- engine.py     the engine: recompute, preview, close due goals (sums.py: what counts; history.py: the forecast's history)
- progress_import.py  many entries at once (CRM bulk sync, CSV): validate every row set-based, then bulk insert
- rollups.py    the daily rollup (ProgressDay) every entry write keeps in step; its check and repair
- recompute_queue.py  coalesced recompute: stale marks, the single-flight pass over every stale goal
- reminders.py  deadline and check-in reminders, the weekly manager digest: who is due, delivered in bulk
"""

from .breakdown import (
    PlanCheck,
    PlanRow,
    Replan,
    goal_replan,
    micro_goals_generate,
    micro_goals_out_of_date,
    plan_check,
)
from .engine import goals_close_due, progress_preview, progress_recompute
from .goals import (
    Achievability,
    achievability_assess,
    goal_activate,
    goal_cancel,
    goal_create,
    goal_update,
    goal_value_errors,
)
from .kpis import kpi_create, kpi_update
from .progress import progress_record, progress_update, progress_void
from .progress_import import ImportRejected, ImportResult, ImportRow, RowError, progress_import, progress_import_check
from .recompute_queue import (
    progress_recompute_stale,
    recompute_flight_cancel_request,
    recompute_flight_request,
    stale_target_ids,
)
from .reminders import (
    checkin_reminders_due_ids,
    checkin_reminders_send,
    deadline_reminders_due_ids,
    deadline_reminders_send,
    manager_digests_due_ids,
    manager_digests_send,
    org_today,
    reminder_message,
    reminder_notify,
)
from .rollups import progress_days, rollups_verify

__all__ = [
    "Achievability",
    "ImportRejected",
    "ImportResult",
    "ImportRow",
    "PlanCheck",
    "PlanRow",
    "Replan",
    "RowError",
    "achievability_assess",
    "checkin_reminders_due_ids",
    "checkin_reminders_send",
    "deadline_reminders_due_ids",
    "deadline_reminders_send",
    "goal_activate",
    "goal_cancel",
    "goal_create",
    "goal_replan",
    "goal_update",
    "goal_value_errors",
    "goals_close_due",
    "kpi_create",
    "kpi_update",
    "manager_digests_due_ids",
    "manager_digests_send",
    "micro_goals_generate",
    "micro_goals_out_of_date",
    "org_today",
    "plan_check",
    "progress_days",
    "progress_import",
    "progress_import_check",
    "progress_preview",
    "progress_recompute",
    "progress_recompute_stale",
    "progress_record",
    "progress_update",
    "progress_void",
    "recompute_flight_cancel_request",
    "recompute_flight_request",
    "reminder_message",
    "reminder_notify",
    "rollups_verify",
    "stale_target_ids",
]
