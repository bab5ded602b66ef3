# dojo-hook — the two commands a fresh machine needs are `make demo` and `make test`.

CARGO ?= cargo
BIN := target/release/dojo-hook

.PHONY: all build release demo test lint deps fmt bench

all: build

build:
	$(CARGO) build

release:
	$(CARGO) build --release

# Starts the bundled fake DefectDojo and object store on loopback and runs a
# real import (and sync back) against them.
demo: release
	$(CARGO) build --release --example fakes
	bash scripts/demo.sh

# Measures dojo-hook against the fakes (N = 10,000 / 100,000 / 1,000,000 findings, about
# 10 minutes; BENCH_SIZES=10000,100000 is quicker) and writes the table into README.md's
# "## Performance" section. Needs python3; installs curl (the raw-upload baseline).
bench: deps release
	$(CARGO) build --release --example fakes --example convert --example ignored_any
	@command -v curl >/dev/null 2>&1 || { \
		echo "installing curl (the raw-upload baseline)"; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends curl; }
	python3 scripts/bench.py

# Installs what the tests need when it is missing, then runs the whole suite.
test: deps
	$(CARGO) test --all-targets
	$(CARGO) test --doc

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

fmt:
	$(CARGO) fmt

# /usr/bin/time (Debian package `time`) measures peak memory in the tests.
deps:
	@command -v /usr/bin/time >/dev/null 2>&1 || { \
		echo "installing the Debian package 'time' (peak-memory checks)"; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends time; }
