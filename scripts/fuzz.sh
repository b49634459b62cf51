#!/usr/bin/env bash
# The import readers' fuzz targets (fuzz/, docs/security.md), with cargo-fuzz on nightly.
#   scripts/fuzz.sh smoke         build every target and run it over its seeds (CI does this)
#   scripts/fuzz.sh run [SECS]    fuzz every target for SECS seconds each (default 600), two at
#                                 a time; figures in target/fuzz-logs/, for docs/security.md
set -euo pipefail
cd "$(dirname "$0")/.."

TARGETS=(cin_xml ssda903_xml ssda903_csv local_csv period auth_request)

# A fresh machine has only the stable toolchain: install nightly (minimal profile) for cargo-fuzz.
if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz: installing the nightly toolchain (rustup toolchain install nightly --profile minimal)"
  rustup toolchain install nightly --profile minimal
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  cargo install --locked cargo-fuzz --version 0.13.2
fi

case "${1:-smoke}" in
  smoke)
    cargo +nightly fuzz build -O
    for t in "${TARGETS[@]}"; do
      # -runs=0: every seed once, then stop; a crash or a failed assertion fails the run.
      cargo +nightly fuzz run -O "$t" "fuzz/seeds/$t" -- -runs=0 2>&1 | tail -n 1
    done
    ;;
  run)
    secs="${2:-600}"
    mkdir -p target/fuzz-logs
    run() {
      mkdir -p "fuzz/corpus/$1"
      cargo +nightly fuzz run -O "$1" "fuzz/corpus/$1" "fuzz/seeds/$1" -- \
        -max_total_time="$secs" -max_len=16384 -rss_limit_mb=2048 -print_final_stats=1 \
        > "target/fuzz-logs/$1.log" 2>&1
    }
    for ((i = 0; i < ${#TARGETS[@]}; i += 2)); do
      run "${TARGETS[i]}" &
      if ((i + 1 < ${#TARGETS[@]})); then run "${TARGETS[i + 1]}" & fi
      wait
    done
    grep -H -E "^stat::number_of_executed_units|^stat::peak_rss_mb|^Done" target/fuzz-logs/*.log
    ;;
  *)
    echo "usage: scripts/fuzz.sh smoke | run [SECS]" >&2
    exit 2
    ;;
esac
