# neural-trader-secrets — the two set-up commands are `make plan` and `make test`.
# Everything is installed from requirements.lock (hash-pinned) into .venv; only python3 is needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STACK ?= dev

.PHONY: venv plan plan-prod test lint typecheck pytest lock bench clean

venv: $(VENV)/.installed

# The project's own packages are byte-compiled at install: pip compiles what it installs, but an
# editable checkout would otherwise be compiled at every run wherever bytecode is not written
# (PYTHONDONTWRITEBYTECODE, a read-only checkout): ~0.3 s of every plan (issue 15).
# Each step says what it does first: on a fresh clone the locked install is minutes of silence
# otherwise (issue 23).
$(VENV)/.installed: requirements.lock pyproject.toml
	@test -x $(BIN)/python || { echo "make venv: creating $(VENV) with $(PYTHON)" && $(PYTHON) -m venv $(VENV); }
	# pip < 24 rejects a hash-pinned lock where a dependency asks for an extra of a package pinned
	# below its newest release (google-cloud-secret-manager -> google-api-core[grpc]).
	@echo "make venv: pinning pip 25.1 (older pips refuse this hash-pinned lock)"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "pip==25.1"
	@echo "make venv: installing $$(grep -c '==' requirements.lock) pinned packages from requirements.lock (hash-checked)" \
		"into $(VENV); on a fresh clone this takes 2-3 minutes (less with pip's cache), once"
	@date +%s > $(VENV)/.started
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	@echo "make venv: installing this project (editable) and byte-compiling infra, nt_secrets, policies"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/python -m compileall -q -j 0 infra nt_secrets policies
	@echo "make venv: $(VENV) ready in $$(( $$(date +%s) - $$(cat $(VENV)/.started) )) s"
	@rm -f $(VENV)/.started
	@touch $@

plan: venv
	@echo "make plan: evaluating stack $(STACK) offline (the Pulumi SDK's mock engine; nothing is deployed)"
	$(BIN)/nt-secrets plan --stack $(STACK)

plan-prod: venv
	$(BIN)/nt-secrets plan --stack prod

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/actionlint .github/workflows/*.yml
	$(BIN)/shellcheck .ci/run .ci/publish-policy-pack
	$(BIN)/zizmor --offline --no-progress .github/
	$(BIN)/python scripts/check_secrets_baseline.py

typecheck: venv
	$(BIN)/mypy

pytest: venv
	$(BIN)/pytest -n 2 -q

test: lint typecheck pytest

# Regenerate the lock after changing dependencies in pyproject.toml.
lock: venv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --universal \
		--generate-hashes -q -o requirements.lock --custom-compile-command "make lock"

bench: venv
	$(BIN)/python benchmarks/plan_bench.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build *.egg-info
	rm -rf "$${NT_SECRETS_BUILD_DIR:-$${XDG_CACHE_HOME:-$$HOME/.cache}/neural-trader-secrets}"
