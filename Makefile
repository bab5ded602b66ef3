# dojo-hook — the two commands a fresh machine needs are `make demo` and `make test`.

CARGO ?= cargo
BIN := target/release/dojo-hook

.PHONY: all build release demo test lint deps fmt bench

# s3s-fs: a real S3-compatible server (SigV4 checked) for the object-storage
# tests (tests/it/s3.rs), `cargo install`ed on first use; the version is
# pinned (and --locked) so that every machine builds the same server.
S3S_FS_VERSION := 0.14.1
TOOLS := $(CURDIR)/target/tools
S3S_FS ?= $(TOOLS)/bin/s3s-fs
export S3S_FS

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
	$(MAKE) --no-print-directory chroot-test

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

fmt:
	$(CARGO) fmt

# /usr/bin/time (Debian package `time`) measures peak memory in the tests;
# s3s-fs takes about 2.5 minutes to build on 2 cores, once.
deps:
	@command -v /usr/bin/time >/dev/null 2>&1 || { \
		echo "installing the Debian package 'time' (peak-memory checks)"; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends time; }
	@test -x "$(S3S_FS)" || { \
		echo "installing s3s-fs $(S3S_FS_VERSION) into $(TOOLS) (real-S3 tests; first time only)"; \
		$(CARGO) install s3s-fs@$(S3S_FS_VERSION) --locked --features binary --root "$(TOOLS)"; }

# ---- container image (see Dockerfile) ----
.PHONY: static image chroot-test

# The scratch image's binary: glibc linked statically (name resolution from
# /etc/hosts and DNS included). --target keeps build scripts dynamic.
TARGET := x86_64-unknown-linux-gnu
STATIC_BIN := target/$(TARGET)/release/dojo-hook
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
IMAGE ?= localhost/dojo-hook:$(VERSION)
BUILD_EPOCH := $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

static:
	RUSTFLAGS='-C target-feature=+crt-static' $(CARGO) build --release --target $(TARGET)

# FROM scratch + the static binary; buildah from Debian, no daemon needed.
# Dated to the last commit, so the same commit gives the same image.
image: static
	buildah bud --storage-driver vfs --timestamp $(BUILD_EPOCH) -t $(IMAGE) .

# The static binary in an empty root reaches the fakes by /etc/hosts names
# (needs root for chroot; the script says so and skips otherwise).
chroot-test:
	@if [ "$$(id -u)" = 0 ]; then \
		$(MAKE) --no-print-directory static && $(CARGO) build --example fakes; fi
	bash scripts/chroot-dns-test.sh $(STATIC_BIN)
