# The project's commands. `make test` is what CI runs; every target bootstraps what it needs.

VENV        := .venv
PY          := $(VENV)/bin/python
STAMP       := $(VENV)/.installed
REQUIREMENTS := localstack/requirements.txt
export AWS_DEFAULT_REGION ?= us-east-1

# Every command builds the same selection as `cargo test --workspace` (bins and tests of the
# whole workspace) and runs the binaries from the target dir: cargo resolves features per
# selection, so `cargo run -p X` after `make test` (or the reverse) would rebuild shared
# dependencies. devstack's own build (localstack/devstack/src/cargo.rs) selects the same.
BUILD := cargo build --workspace --bins --tests --locked
BIN   := $(or $(CARGO_TARGET_DIR),target)/debug

.PHONY: help venv build run redrive load saga-express cost fuzz test fmt-check lint unit-and-integration template-check bench bench-startup bench-cold fmt lambdas sam-build openapi docs docs-check clean ci workflow-check deploy system-tests-stage deploy-function

help:
	@echo "make build      every binary and test, as make test builds them (make run and make test then rebuild nothing)"
	@echo "make run        the whole shop locally (devstack): API on :3000 (HTTPS :3443), AWS edge on :4566, seeded"
	@echo "make test       format check, clippy, every test (moto and devstack), template checks"
	@echo "make bench      criterion benchmarks of the request path"
	@echo "make bench-startup  devstack's time from launch to ready, binaries already built"
	@echo "make bench-cold  cold starts of release binaries (three functions and an echo floor) against moto: init, first response, AWS calls"
	@echo "make load       N orders against a running stack; saga throughput and p50/p95/p99"
	@echo "make saga-express  the saga suite on a devstack whose saga is an Express workflow"
	@echo "make cost       what a million orders cost on AWS (Standard and Express saga), from a load on a devstack of its own"
	@echo "make fuzz       schemathesis against the gateway's OpenAPI document on a devstack of its own: no 5xx, no undocumented answer"
	@echo "make redrive    send what waits in the running stack's failure queues back to its source"
	@echo "make lambdas    release builds of every function with cargo-lambda (arm64)"
	@echo "make sam-build  sam build of infra/template.yaml into target/sam-build, checked, with sizes (ARCH=arm64|x86_64)"
	@echo "make openapi    regenerate docs/api/*.openapi.json from the code (each service's and the merged shop.openapi.json)"
	@echo "make docs       regenerate docs/generated/ (landscape, events, dependencies, ports) from the template, schemas and devstack"
	@echo "make venv       the Python venv with moto, cfn-lint and the SAM translator"
	@echo "make deploy STAGE=dev   sam deploy of target/sam-build as the stack shop-<stage> (docs/deployment.md)"
	@echo "make system-tests-stage STAGE=dev   the system tests that can run against a deployed stage"
	@echo "make deploy-function FN=<LogicalId> STAGE=dev|local   one function's new code via cargo lambda deploy (drift; refused on prod)"

venv: $(STAMP)

$(STAMP): $(REQUIREMENTS)
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r $(REQUIREMENTS)
	touch $(STAMP)

build:
	$(BUILD)

run: venv build
	$(BIN)/devstack run --no-build $(ARGS)

test: fmt-check lint unit-and-integration template-check docs-check workflow-check

fmt-check:
	cargo fmt --all -- --check

lint:
	cargo clippy --workspace --all-targets --locked -- -D warnings

# The system tests run the functions built by this same command (DEVSTACK_NO_BUILD).
# Every stack the system tests boot records the metrics it receives; afterwards, each custom
# metric a dashboard or alarm of the template shows must be among them.
unit-and-integration: venv
	rm -rf target/devstack/metrics-seen
	DEVSTACK_NO_BUILD=1 cargo test --workspace --locked
	$(BIN)/devstack metrics-coverage target/devstack/metrics-seen tests/fixtures/metrics-not-exercised.txt

# checkov in a venv of its own: its dependencies are pinned apart from cfn-lint's and moto's.
CHECKOV_VENV  := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

$(CHECKOV_STAMP): infra/checkov-requirements.txt
	python3 -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/pip install --quiet -r infra/checkov-requirements.txt
	touch $(CHECKOV_STAMP)

template-check: venv $(CHECKOV_STAMP)
	$(VENV)/bin/cfn-lint infra/template.yaml infra/bootstrap/github-oidc.yaml
	$(PY) infra/validate_template.py infra/template.yaml
	$(PY) infra/check_runbook.py infra/template.yaml docs/runbook.md
	$(CHECKOV_VENV)/bin/checkov -f infra/template.yaml -f infra/bootstrap/github-oidc.yaml --config-file infra/checkov.yaml

bench:
	cargo bench --workspace

# Needs a running stack (`make run` in another terminal). QUEUES="OrdersSagaStarterFailedEvents ..."
# limits it to those queues.
redrive: build
	$(BIN)/devstack redrive $(QUEUES)

# The saga suite (tests/tests/saga.rs, cancellation.rs) on a devstack of its own whose
# place-order saga is an Express workflow (SagaWorkflowType=EXPRESS); make test runs it on the
# default, Standard. Express keeps no execution history and deduplicates no execution names:
# the suite reads runs from the saga's log and the starter's claims keep one saga per order.
saga-express: venv
	SHOP_SAGA_WORKFLOW=EXPRESS cargo test --workspace --locked --test saga --test cancellation

# Needs a running stack (`make run` in another terminal).
load: build
	$(BIN)/saga-load $(ARGS)

# What a million orders cost on AWS at list prices, Standard and Express saga: boots a devstack
# of its own per workflow type, places ARGS="--orders N --concurrency N" (200, 10) and prices
# what devstack counted (docs/cost.md). Not part of make test: a few minutes per type.
cost: venv build
	DEVSTACK_NO_BUILD=1 $(BIN)/cost $(ARGS)

# Boots its own devstack on free ports (nothing needs to run); ARGS="--max-examples N --seed N".
fuzz: venv build
	$(BIN)/fuzz $(ARGS)

bench-startup: venv
	localstack/bench-startup.sh

fmt:
	cargo fmt --all

# The architecture pages in docs/generated/, from infra/template.yaml, events/schemas/ and
# devstack's sources (infra/docgen/). docs-check (part of make test, seconds) fails when the
# committed pages differ from fresh ones, or an event is consumed but nobody may publish it.
# -B: no __pycache__ left beside the scripts.
docs: venv
	$(PY) -B infra/docgen/generate.py

docs-check: venv
	$(PY) -B -m unittest discover -q -s infra/docgen -p 'test_*.py'
	$(PY) -B infra/docgen/generate.py --check

openapi:
	UPDATE_OPENAPI=1 cargo test --workspace openapi_document

# Needs `pip install cargo-lambda ziglang` and `rustup target add aarch64-unknown-linux-gnu`.
lambdas:
	cargo lambda build --release --arm64

# Not part of `make test`: one release build per function, about 50 min here from an empty
# target/sam-cargo (docs/deployment.md). SAM CLI, cargo-lambda and zig in a
# venv of their own (SAM CLI pins its own translator and cfn-lint). ARCH=arm64|x86_64, by default
# arm64 when the rustup target aarch64-unknown-linux-gnu is installed, else x86_64;
# FUNCTIONS="LogicalId ..." builds only those. What it does and why: infra/sam-build.sh.
SAM_VENV  := .venv-sam
SAM_STAMP := $(SAM_VENV)/.installed

$(SAM_STAMP): infra/sam-requirements.txt
	python3 -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/pip install --quiet -r infra/sam-requirements.txt
	touch $(SAM_STAMP)

sam-build: $(SAM_STAMP)
	infra/sam-build.sh "$(ARCH)" $(FUNCTIONS)

# Cold starts (issue 14): release builds of the measured functions and the echo floor with
# cargo-lambda for this machine's architecture (they run here), at nice 19 in a cargo target dir
# of their own (about 0.8 GB; deleting it costs the next run a full release build), then
# localstack/cold-start starts each as Lambda would against moto, 20 runs each, and prints the
# table of docs/performance.md#cold-starts. ARGS="--runs N --env NAME=VALUE ...". Not part of
# make test. After $(SAM_STAMP), which it needs for cargo-lambda and zig.
BENCH_CARGO_TARGET_DIR ?= target/bench-cargo
BENCH_FUNCTIONS := echo-floor catalog-http orders-http catalog-publisher
BENCH_ARCH := $(if $(filter aarch64 arm64,$(shell uname -m)),--arm64,--x86-64)

bench-cold: venv build $(SAM_STAMP)
	nice -n 19 env CARGO_TARGET_DIR="$(abspath $(BENCH_CARGO_TARGET_DIR))" PATH="$(abspath $(SAM_VENV))/bin:$$PATH" \
		cargo lambda build --release $(BENCH_ARCH) --locked $(addprefix --bin ,$(BENCH_FUNCTIONS))
	$(BIN)/cold-start --binaries $(BENCH_CARGO_TARGET_DIR)/lambda $(ARGS)

# What the GitHub workflow's test job runs: the same entry point as every CI (prerequisites,
# then make test), so the workflow re-implements none of it.
ci:
	.ci/run

# The workflows' own checks: actionlint, every `run:` step one make call of a target defined
# here (.github/check_workflows.py and its tests), and tests/stage-tests.txt naming only tests
# that exist (tests/stage.py and its tests). actionlint and PyYAML in a venv of their own.
ACTIONLINT_VENV  := .venv-actionlint
ACTIONLINT_STAMP := $(ACTIONLINT_VENV)/.installed

$(ACTIONLINT_STAMP): .github/lint-requirements.txt
	python3 -m venv $(ACTIONLINT_VENV)
	$(ACTIONLINT_VENV)/bin/pip install --quiet --upgrade pip
	$(ACTIONLINT_VENV)/bin/pip install --quiet -r .github/lint-requirements.txt
	touch $(ACTIONLINT_STAMP)

workflow-check: $(ACTIONLINT_STAMP)
	$(ACTIONLINT_VENV)/bin/actionlint
	$(ACTIONLINT_VENV)/bin/python .github/check_workflows.py
	$(ACTIONLINT_VENV)/bin/python -m unittest discover --quiet -s .github -p 'test_*.py'
	$(ACTIONLINT_VENV)/bin/python -m unittest discover --quiet -s tests -p 'test_*.py'
	$(ACTIONLINT_VENV)/bin/python tests/stage.py check

# sam deploy of target/sam-build (make sam-build) as the stack shop-$(STAGE); it builds nothing.
# SAM_ARTIFACTS_BUCKET and CFN_EXECUTION_ROLE_ARN from the environment (infra/bootstrap/
# github-oidc.yaml's outputs), PARAMETERS="Key=Value ..." adds template parameters.
deploy: $(SAM_STAMP)
	infra/sam-deploy.sh "$(STAGE)" $(PARAMETERS)

# One function's new code on a running stage through `cargo lambda deploy` (its version moves
# the function's alias at once: drift until the next make deploy; refused on prod). STAGE=local
# is the running devstack. What it does: infra/deploy-function.sh.
deploy-function: venv $(if $(filter local,$(STAGE)),,$(SAM_STAMP))
	infra/deploy-function.sh "$(FN)" "$(STAGE)" "$(or $(ARCH),arm64)"

# The system tests that can run against a deployed stage (tests/stage-tests.txt), with the
# environment's AWS credentials and region; what it prepares on the stage: tests/stage.py.
system-tests-stage: venv
	$(PY) tests/stage.py run --stage "$(STAGE)"

clean:
	cargo clean
	rm -rf $(VENV) $(CHECKOV_VENV) $(SAM_VENV) $(ACTIONLINT_VENV)
