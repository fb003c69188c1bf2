# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
export DATABASE_URL ?= sqlite:///$(CURDIR)/var/audit.db
export LEDGER_SIGNING_KEY ?= $(CURDIR)/var/ledger-signing.key
export LEDGER_ORIGIN ?= strike-audit.local/ledger

.PHONY: run test install migrate seed demo reports clean openapi bench

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed

var:
	mkdir -p var

# The same three commands run in docker-compose's `migrate` service.
migrate: install var
	$(BIN)/alembic upgrade head
	$(BIN)/flask --app service policies load

run: migrate
	$(BIN)/gunicorn --config service/gunicorn_conf.py --bind 127.0.0.1:$(PORT) service.wsgi:app

# One worker per core, each taking whole test files (module fixtures stay in one process): the e2e
# tests mostly wait on their processes, so two cores nearly halve the suite (14.4 -> 8 min here).
test: install
	$(BIN)/pytest -n auto --dist loadfile $(PYTEST_ARGS)

openapi: install
	$(BIN)/flask --app service openapi write --format=yaml openapi.yaml

# Loads 600 synthetic reports into the server `make run` started. The demo reporter's key is
# minted once and kept (mode 0600) so that re-running finds its reports as duplicates.
DEMO_KEY_FILE := var/demo-reporter.key
demo: migrate
	@test -s $(DEMO_KEY_FILE) || (umask 077 && $(BIN)/flask --app service keys create --name demo-reporter \
		--role reporter | tail -1 > $(DEMO_KEY_FILE))
	$(BIN)/python -m demo --url http://127.0.0.1:$(PORT) --key "$$(cat $(DEMO_KEY_FILE))"

# After `make demo`: the weekly and monthly reports before AT (default: the demo's Kharkiv summer),
# stored, in the ledger, and written as JSON, CSV and HTML to var/reports/; a period stored before
# gets its next revision (<label>-r2.*, …) when its events arrived, were corrected or were reviewed since.
AT ?= 2024-07-01
reports: install
	$(BIN)/flask --app service reports generate --period weekly --at $(AT) --out var/reports
	$(BIN)/flask --app service reports generate --period monthly --at $(AT) --out var/reports

# Throughput, latency and memory against the performance targets (docs/performance.md): writes
# bench/results/latest.json and prints a table. Needs a PostgreSQL role that may create databases;
# it creates and drops only databases named bench_*, and keeps a loaded template between runs.
BENCH_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/
bench: install
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) var
