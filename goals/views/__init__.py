"""Browser pages of the goals app, one module per subject (kpis.py, …); goals/urls.py routes to them."""
