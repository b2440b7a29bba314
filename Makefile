# The two commands a newcomer needs:  make run  and  make test.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
# Line and branch coverage of the apps (migrations and tests left out) below which `make test`
# fails; set below the measured figure (97.44 % on 2026-11-30), so new code comes with tests. COVERAGE_FLOOR=0 to run a subset.
COVERAGE_FLOOR ?= 95

# Lock files pin every package with the hashes of its files; pip refuses anything else.
PIP_COMPILE := $(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links --no-emit-trusted-host

.PHONY: install install-dev lock run worker migrate embeddings sample chromium test lint deploy-check

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Stamp files so a second run installs nothing unless the lock files changed. torch is locked
# too: 2.13.0+cpu, the CPU build (any other torch would pull gigabytes of CUDA libraries).
$(VENV)/.installed: requirements.lock | $(VENV)/bin/activate
	$(PIP) install --require-hashes -r requirements.lock
	touch $@

$(VENV)/.installed-dev: requirements-dev.lock $(VENV)/.installed
	$(PIP) install --require-hashes -r requirements-dev.lock
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# After editing requirements*.txt: pin the newest allowed versions, with hashes, into the lock
# files (kept pins stay unless a range excludes them; delete a lock file to take every newer
# release). The dev lock is constrained to the app lock, so both install the same versions.
lock: install-dev
	$(PIP_COMPILE) --output-file=requirements.lock requirements.txt
	$(PIP_COMPILE) --constraint=requirements.lock --output-file=requirements-dev.lock requirements-dev.txt

# A local .env for development: debug on, a fresh random secret key.
.env:
	@echo "Creating .env for local use (DEBUG on, random SECRET_KEY); edit it to configure a chat model."
	@sed -e "s/^DEBUG=.*/DEBUG=true/" \
	     -e "s/^SECRET_KEY=.*/SECRET_KEY=$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')/" \
	     .env.example > .env

# The embedding model's ONNX export (EMBEDDING_BACKEND onnx, the default, and onnx-int8), made from
# the bundled weights in about a minute the first time; later runs find it up to date in seconds.
# DEBUG only spares it a SECRET_KEY: it touches no data.
embeddings: install
	DEBUG=true $(PY) manage.py embeddings_export

migrate: install .env embeddings
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable

sample: migrate
	$(PY) manage.py import_documents sample_docs --collection default

# Set up everything on a fresh machine, import the sample documents and serve the app, with a job
# worker beside it for uploads and imports (`manage.py serve`: if either stops, both stop, and it says so).
run: sample
	$(PY) manage.py ensure_login
	$(PY) manage.py collectstatic --noinput --verbosity 0
	@echo "ragchat is starting on http://$(HOST):$(PORT)/ with a job worker  (Ctrl+C stops both)"
	$(PY) manage.py serve --bind $(HOST):$(PORT)

# One more job worker, alone: beside `make run` on this machine, or on another one pointed at the
# same DATABASE_URL and storage (README, "Background jobs").
worker: migrate
	$(PY) manage.py procrastinate worker

# Debian's Chromium for the browser tests (installed as root; otherwise those tests are skipped).
chromium:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } \
	  || echo "Chromium is not installed and cannot be (not root): the browser tests will be skipped."

# Django's deployment checklist against production-like settings: any warning fails.
deploy-check: install
	DEBUG=false ALLOWED_HOSTS=chat.example.org CSRF_TRUSTED_ORIGINS=https://chat.example.org \
	  SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))') \
	  $(PY) manage.py check --deploy --fail-level WARNING

# Set up everything on a fresh machine and run the whole test suite.
test: install-dev chromium deploy-check embeddings
	$(VENV)/bin/ruff check .
	@# Production settings, except TLS redirects: the test servers speak plain HTTP on localhost.
	DEBUG=false SECRET_KEY=test-only-not-secret SECURE_SSL_REDIRECT=false \
	  $(PY) -m pytest --cov --cov-report=term --cov-fail-under=$(COVERAGE_FLOOR) $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
