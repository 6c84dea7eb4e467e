"""Every write and business rule of the goals app. Import from here: `from goals import services`.

Split by subject so each file stays small:
- goals.py      KPIs and hard goals: create, update (with revisions), cancel, achievability
- breakdown.py  micro goals: generate (with preview), re-plan
- progress.py   the ledger and the engine: record, update, void, recompute, close due goals
"""

from .kpis import kpi_create, kpi_update

__all__ = ["kpi_create", "kpi_update"]
