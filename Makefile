# Two commands do all set-up: `make run` and `make test`. Everything else is a helper for them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Re-install only when the requirements change (stamp files record the last install).
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test lint migrate seed schedule clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(RUN_STAMP): requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(RUN_STAMP)

# make run: the embedded default (SQLite + filesystem broker) unless DATABASE_URL / CELERY_BROKER_URL are set.
run: export DEBUG ?= 1
run: $(RUN_STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py setup_schedule
	$(BIN)/python manage.py seed_demo
	@echo ""
	@echo "  Pacer is starting on http://127.0.0.1:8000  (Ctrl-C stops web, worker and beat)"
	@echo ""
	$(BIN)/honcho start

# The project's own packages (type-checked by mypy; layered by import-linter, see pyproject.toml).
APPS := teams notifications goals rewards feedback api webhooks config

test: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy $(APPS)
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# make bench: every benchmark in bench/ (not part of make test), on PostgreSQL and Redis only. Each prints
# a table and writes bench/results/<name>.json; docs/benchmarks.md records the figures. A dedicated
# database (its name must end in "bench": the benches TRUNCATE it) and broker db are used.
BENCH_DATABASE_URL ?= postgres://pacer:pacer@127.0.0.1:5432/pacer_bench
BENCH_BROKER_URL ?= redis://127.0.0.1:6379/15
BENCH_ENTRIES ?= 1000000
BENCH_REPS_PER_TEAM ?= 40
BENCH_ENV = DATABASE_URL=$(BENCH_DATABASE_URL) CELERY_BROKER_URL=$(BENCH_BROKER_URL)
BENCH_SCALE = --entries $(BENCH_ENTRIES) --reps-per-team $(BENCH_REPS_PER_TEAM)
bench: $(DEV_STAMP)
	$(BENCH_ENV) $(BIN)/python bench/setup_db.py
	$(BENCH_ENV) $(BIN)/python bench/recompute.py $(BENCH_SCALE)
	$(BENCH_ENV) $(BIN)/python bench/write_path.py $(BENCH_SCALE)
	$(BENCH_ENV) $(BIN)/python bench/burst.py $(BENCH_SCALE)
	$(BENCH_ENV) $(BIN)/python bench/log_form.py $(BENCH_SCALE)
	$(BENCH_ENV) $(BIN)/python bench/http_post.py $(BENCH_SCALE)
	$(BENCH_ENV) $(BIN)/python bench/import.py --rows 100000
	$(BENCH_ENV) $(BIN)/python bench/pages.py
	$(BENCH_ENV) $(BIN)/python bench/reminders.py

clean:
	rm -rf .data staticfiles
