#!/usr/bin/env bash
# Side by side in one run: `breakglass revoke --spec` vs `ssh-keygen -k` on the same KRL spec
# files (release build): 100,000 random 64-bit serials (what mint's random serials look like),
# 100,000 consecutive serials, and 10,000 key ids. Median wall time of N runs (default 7), each
# writing a fresh KRL, and the KRL sizes; every KRL is then loaded by `ssh-keygen -Q` to show
# OpenSSH reads it. Usage: bench/krl.sh [N]
set -euo pipefail
N="${1:-7}"
cd "$(dirname "$0")/.."
cargo build --release --quiet
BIN="$PWD/target/release/breakglass"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
export BREAKGLASS_BACKEND=sim BREAKGLASS_SIM_DIR="$T/sim" BREAKGLASS_AUDIT_LOG="$T/audit.jsonl"
cd "$T"
ssh-keygen -q -t ed25519 -N '' -f ca

# The spec files (same bytes for both tools).
od -An -tu8 -N800000 -v /dev/urandom | tr -s ' ' '\n' | awk 'NF && $1 != 0 {print "serial: " $1}' | head -n 100000 > random.spec
seq 1 100000 | sed 's/^/serial: /' > consecutive.spec
seq 1 10000 | awk '{printf "id: breakglass operator%d@host 2026-11-27T08:00:00Z: INC-%d\n", $1, $1}' > ids.spec

ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
readable() { if ssh-keygen -Q -f "$1" ca.pub >/dev/null 2>&1; then echo yes; else echo "NO"; fi; }

printf '%-28s %8s %8s %6s %10s %10s %9s %9s\n' spec lines "bg ms" "kg ms" "bg bytes" "kg bytes" "bg reads" "kg reads"
for spec in random consecutive ids; do
  bg=(); kg=()
  for i in $(seq "$N"); do
    rm -f bg.krl kg.krl
    bg+=("$(ms "$BIN" revoke --krl bg.krl --ca ca.pub --spec "$spec.spec")")
    kg+=("$(ms ssh-keygen -q -k -f kg.krl -s ca.pub "$spec.spec")")
  done
  mb=$(printf '%s\n' "${bg[@]}" | median); mk=$(printf '%s\n' "${kg[@]}" | median)
  printf '%-28s %8s %8s %6s %10s %10s %9s %9s\n' "$spec.spec" "$(wc -l < "$spec.spec")" "$mb" "$mk" \
    "$(stat -c %s bg.krl)" "$(stat -c %s kg.krl)" "$(readable bg.krl)" "$(readable kg.krl)"
  awk -v a="$mb" -v b="$mk" -v s="$spec" 'BEGIN {printf "  ratio breakglass/ssh-keygen time for %s: %.2f\n", s, (b > 0 ? a/b : 0)}'
done
echo "runs: $N (median wall ms, including process start; breakglass also fsyncs the KRL and its audit entry)"
