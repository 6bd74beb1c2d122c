#!/usr/bin/env bash
# Side by side in one run: `breakglass revoke --spec` vs `ssh-keygen -k` on the same KRL spec
# files (release build): 100,000 random 64-bit serials (what mint's random serials look like),
# 100,000 consecutive serials, and 10,000 key ids. Median wall time of N runs (default 7), each
# writing a fresh KRL, and the KRL sizes; every KRL is then loaded by `ssh-keygen -Q` to show
# OpenSSH reads it. Wall time includes breakglass's fsyncs (temp KRL, directory, audit log),
# which ssh-keygen does not do, so CPU time (user+sys) is shown beside it. Usage: bench/krl.sh [N]
set -euo pipefail
N="${1:-7}"
cd "$(dirname "$0")/.."
cargo build --release --quiet 2>/dev/null
BIN="$PWD/target/release/breakglass"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
export BREAKGLASS_BACKEND=sim BREAKGLASS_SIM_DIR="$T/sim" BREAKGLASS_AUDIT_LOG="$T/audit.jsonl"
cd "$T"
ssh-keygen -q -t ed25519 -N '' -f ca

# The spec files (same bytes for both tools).
od -An -tu8 -N800000 -v /dev/urandom | tr -s ' ' '\n' | awk 'NF && $1 != 0 {print "serial: " $1}' | head -n 100000 > random.spec
seq 1 100000 | sed 's/^/serial: /' > consecutive.spec
seq 1 10000 | awk '{printf "id: breakglass operator%d@host 2026-11-27T08:00:00Z: INC-%d\n", $1, $1}' > ids.spec

# "wall_ms cpu_ms" of one run.
ms() {
  local TIMEFORMAT='%3R %3U %3S' t
  t=$( { time "$@" >/dev/null 2>&1; } 2>&1 )
  awk -v t="$t" 'BEGIN {split(t, a, " "); printf "%d %d\n", a[1] * 1000, (a[2] + a[3]) * 1000}'
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
readable() { if ssh-keygen -Q -f "$1" ca.pub >/dev/null 2>&1; then echo yes; else echo "NO"; fi; }

printf '%-20s %7s %11s %11s %11s %11s %9s %9s %6s %6s\n' spec lines "bg wall ms" "kg wall ms" "bg cpu ms" "kg cpu ms" "bg bytes" "kg bytes" "bg ok" "kg ok"
for spec in random consecutive ids; do
  bg=(); kg=()
  for i in $(seq "$N"); do
    rm -f bg.krl kg.krl
    bg+=("$(ms "$BIN" revoke --krl bg.krl --ca ca.pub --spec "$spec.spec")")
    kg+=("$(ms ssh-keygen -q -k -f kg.krl -s ca.pub "$spec.spec")")
  done
  wb=$(printf '%s\n' "${bg[@]}" | cut -d' ' -f1 | median); wk=$(printf '%s\n' "${kg[@]}" | cut -d' ' -f1 | median)
  cb=$(printf '%s\n' "${bg[@]}" | cut -d' ' -f2 | median); ck=$(printf '%s\n' "${kg[@]}" | cut -d' ' -f2 | median)
  printf '%-20s %7s %11s %11s %11s %11s %9s %9s %6s %6s\n' "$spec.spec" "$(wc -l < "$spec.spec")" "$wb" "$wk" "$cb" "$ck" \
    "$(stat -c %s bg.krl)" "$(stat -c %s kg.krl)" "$(readable bg.krl)" "$(readable kg.krl)"
done
echo "runs: $N, medians; wall includes process start and, for breakglass, 3 fsyncs (KRL, directory, audit log)"
