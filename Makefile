# orggate: `make dev` runs the demo locally; `make test` runs every test. Both install what is missing.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
WORKER_BUILD_VERSION := 0.8.7
WASM_BINDGEN_VERSION := $(shell grep -A1 '^name = "wasm-bindgen"$$' Cargo.lock | sed -n 's/version = "\(.*\)"/\1/p')
export PATH := $(HOME)/.cargo/bin:$(PATH)
BUILD_ENV := WASM_BINDGEN_BIN=$(HOME)/.cargo/bin/wasm-bindgen WASM_OPT_BIN=./node_modules/.bin/wasm-opt ESBUILD_BIN=./node_modules/.bin/esbuild
MAX_GZIP_BYTES := 1048576

.PHONY: setup setup-rust setup-node setup-browser build size dev dev-smoke deploy-check test test-rust test-wasm test-e2e lint fmt validate schema fuzz clean

setup: setup-rust setup-node

setup-rust:
	@rustup target list --installed | grep -q wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@command -v worker-build >/dev/null && worker-build --version 2>/dev/null | grep -q "$(WORKER_BUILD_VERSION)" \
	  || cargo install worker-build --version $(WORKER_BUILD_VERSION) --locked
	@command -v wasm-bindgen >/dev/null && wasm-bindgen --version | grep -q "$(WASM_BINDGEN_VERSION)" \
	  || cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION)

setup-node:
	@if [ ! -x node_modules/.bin/wrangler ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then npm ci --no-audit --no-fund; fi

setup-browser:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# worker-build with our own entry module (scripts/build-worker.sh): build/worker/{shim.mjs,index.wasm}.
build: setup
	$(BUILD_ENV) scripts/build-worker.sh
	@$(MAKE) --no-print-directory size

size:
	@raw=$$(cat build/worker/index.wasm build/worker/shim.mjs 2>/dev/null | wc -c); \
	 gz=$$(cat build/worker/index.wasm build/worker/shim.mjs | gzip -9 | wc -c); \
	 echo "worker bundle: $$raw bytes raw, $$gz bytes gzip (limit $(MAX_GZIP_BYTES))"; \
	 [ $$gz -le $(MAX_GZIP_BYTES) ] || { echo "bundle too large"; exit 1; }

# The config's JSON Schema, generated from the config types (a test checks the file is current).
schema:
	cargo run -q --bin orggate -- schema > schema/orggate-config.schema.json

validate:
	cargo run -q --bin orggate -- validate dev/kv/settings.json dev/kv/org_*.json

dev: build
	@scripts/dev.sh

# Starts what `make dev` starts, checks it answers, stops it (used by `make test`).
dev-smoke: build
	@DEV_SMOKE=1 scripts/dev.sh 2>&1 | tail -n 20

# Each fuzz target for FUZZ_SECONDS (nightly + cargo-fuzz; installed when missing).
FUZZ_SECONDS ?= 30
fuzz:
	@command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
	cd fuzz && for t in $$(cargo +nightly fuzz list); do mkdir -p ../target/fuzz-corpus/$$t; \
	  CARGO_TARGET_DIR=../target/fuzz cargo +nightly fuzz run $$t ../target/fuzz-corpus/$$t corpus/$$t \
	    -- -max_total_time=$(FUZZ_SECONDS) || exit 1; done

lint:
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
	cargo clippy --lib --target wasm32-unknown-unknown -- -D warnings

fmt:
	cargo fmt

test-rust:
	cargo test --quiet 2>&1 | tee .test-rust.log

test-wasm:
	CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner WASM_BINDGEN_USE_JS_SYS=1 \
	  cargo test --target wasm32-unknown-unknown --test wasm_core 2>&1 | tee .test-wasm.log

test-e2e:
	node --test --test-concurrency=1 --test-timeout=120000 tests/e2e/ 2>&1 | tee .test-e2e.log

test: setup setup-browser
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory test-rust
	$(MAKE) --no-print-directory test-wasm
	$(MAKE) --no-print-directory build
	$(MAKE) --no-print-directory validate
	$(MAKE) --no-print-directory deploy-check
	$(MAKE) --no-print-directory test-e2e
	$(MAKE) --no-print-directory dev-smoke
	$(if $(wildcard bench/Makefile.inc),$(MAKE) --no-print-directory bench-smoke,)
	@scripts/summary.sh

# The bundle deploys as configured (wrangler validates wrangler.toml, the Durable Object class
# and the bindings; --dry-run needs no network and no account).
deploy-check: build
	@mkdir -p target
	@WRANGLER_SEND_METRICS=false npx wrangler deploy --dry-run --outdir target/deploy-dry-run \
	  > target/deploy-dry-run.log 2>&1 || { cat target/deploy-dry-run.log; exit 1; }
	@grep -E "Total Upload|Durable Object|KV Namespace|dry-run" target/deploy-dry-run.log

clean:
	rm -rf build target .wrangler

-include bench/Makefile.inc
