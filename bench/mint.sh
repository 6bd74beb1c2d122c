#!/usr/bin/env bash
# Side-by-side timings, one run: breakglass mint on the simulated key vs the manual
# ssh-keygen -t ecdsa + ssh-keygen -s (software ecdsa CA) doing the same work; --help startup;
# release binary size; drill wall time. Medians of N runs (default 21). Usage: bench/mint.sh [N]
set -euo pipefail
N="${1:-21}"
cd "$(dirname "$0")/.."
cargo build --release --quiet 2>/dev/null
BIN="$PWD/target/release/breakglass"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
export BREAKGLASS_BACKEND=sim BREAKGLASS_SIM_DIR="$T/sim" BREAKGLASS_AUDIT_LOG="$T/audit.jsonl"
cd "$T"
"$BIN" init-ca -f sk-user-ca >/dev/null 2>&1
ssh-keygen -q -t ecdsa -N '' -f refca

# Microseconds of one run, read from bash's own clock (no `date` process inside the interval).
ms() { local s e; s=${EPOCHREALTIME/./}; "$@" >/dev/null 2>&1; e=${EPOCHREALTIME/./}; echo $(( e - s )); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

bg=(); bu=(); kg=(); hp=()
for i in $(seq "$N"); do
  bg+=("$(ms "$BIN" mint -n ubuntu -f "b$i")")
  # USER and LOGNAME unset in the measuring shell itself: no `env` process in the interval.
  bu+=("$(unset USER LOGNAME; ms "$BIN" mint -n ubuntu -f "u$i")")
  kg+=("$(ms bash -c "ssh-keygen -q -t ecdsa -N '' -f k$i && ssh-keygen -q -s refca -I test-key -n ubuntu -V -5m:+60m k$i.pub")")
  hp+=("$(ms "$BIN" --help)")
done
mb=$(printf '%s\n' "${bg[@]}" | median); mu=$(printf '%s\n' "${bu[@]}" | median); mk=$(printf '%s\n' "${kg[@]}" | median); mh=$(printf '%s\n' "${hp[@]}" | median)
echo "runs: $N (median, microseconds)"
echo "breakglass mint (sim, incl. audit fsync): $mb"
echo "ssh-keygen -t ecdsa + ssh-keygen -s:     $mk"
awk -v a="$mb" -v b="$mk" 'BEGIN {printf "ratio breakglass/ssh-keygen:              %.2f\n", a/b}'
echo "breakglass mint, USER and LOGNAME unset:  $mu"
awk -v a="$mu" -v b="$mk" 'BEGIN {printf "ratio (USER unset)/ssh-keygen:           %.2f\n", a/b}'
echo "breakglass --help:                       $mh"
echo "release binary size (bytes):             $(stat -c %s "$BIN")"
s=$(date +%s%N); "$BIN" drill >/dev/null; e=$(date +%s%N)
echo "drill wall time (ms):                    $(( (e - s) / 1000000 ))"
