#!/usr/bin/env bash
# Release binary size with every feature, without the wormhole hand-off, and without any
# optional backend. Usage: bench/size.sh. BENCH_ROWS=FILE appends a row for bench/all.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
# One build at a time, each removed once measured (a release target directory is over 1 GB).
size() {
  cargo build -q --release --target-dir "$T/$1" "${@:2}" 2>/dev/null || cargo build -q --release --target-dir "$T/$1" "${@:2}"
  stat -c %s "$T/$1/release/breakglass"
  rm -rf "${T:?}/$1"
}
all=$(size all)
echo "default (fido2 + piv + wormhole): $all bytes"
echo "without wormhole (fido2 + piv):   $(size nowh --no-default-features --features fido2,piv) bytes"
echo "no optional features:             $(size none --no-default-features) bytes"
row "release binary size, default features" "$all bytes" "—" "—" -
