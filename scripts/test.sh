#!/usr/bin/env bash
# The suite's one test command (the README's, and CI's via .ci/run): installs what the tests
# need, starts a throwaway PostgreSQL 15 on loopback, then checks formatting, lints and the
# Kubernetes manifests, and runs every Rust test (each against SQLite and PostgreSQL) and the
# Python tests (stock gRPC clients, the report files, the manifests run as processes), and the
# fuzz targets over their seeds.
set -euo pipefail
cd "$(dirname "$0")/.."

# One full run, not an edit loop: an incremental cache would only add gigabytes to the build's
# footprint (a CI machine's disk filled once). The disk is shown before and after for that reason.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
df -h . | tail -n 1 | awk '{print "disk before the run: " $4 " free of " $2}'

# Python packages for the stock-client tests, in a virtual environment of the project's own.
if [ ! -x target/py/bin/python ]; then
  python3 -m venv target/py
fi
target/py/bin/pip install -q --disable-pip-version-check -r tests/python/requirements.txt

# Chromium renders the HTML report in its test; under CI a missing browser is installed here.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the HTML report test"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; then
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
  fi
fi

# LibreOffice opens the Word report in its test (converted to PDF headless); installed likewise.
if ! command -v soffice >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's libreoffice-writer-nogui for the Word report test"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends libreoffice-writer-nogui >/dev/null; then
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends libreoffice-writer-nogui >/dev/null
  fi
fi

# PostgreSQL: every Rust test runs against it as well as SQLite; a failure to start is fatal.
eval "$(scripts/pg-test-cluster.sh start)"
trap 'scripts/pg-test-cluster.sh stop "$CSC_PG_DIR"' EXIT
export CSC_TEST_POSTGRES_URL
echo "PostgreSQL for tests: $CSC_TEST_POSTGRES_URL"

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# The Kubernetes manifests: rendered, validated against the API schema, and checkov-clean.
scripts/check-deploy.sh
# Dependencies (deny.toml): permissive licences only, no banned crates, crates.io only.
if ! cargo deny --version >/dev/null 2>&1; then
  cargo install --locked cargo-deny --version 0.20.2
fi
# Every platform's crates in the local cache first: on a fresh CARGO_HOME `--offline` alone fails.
cargo fetch --locked
cargo deny --offline check licenses bans sources
cargo test --workspace --locked
cargo build -p csc --locked
CSC_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/csc" target/py/bin/python -m pytest -q tests/python
# The import readers' fuzz targets build on nightly and pass over their seeds (docs/security.md).
scripts/fuzz.sh smoke
df -h . | tail -n 1 | awk '{print "disk after the run: " $4 " free of " $2}'
du -sh target fuzz/target 2>/dev/null || true
