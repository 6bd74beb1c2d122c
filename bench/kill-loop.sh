#!/usr/bin/env bash
# Kill loop: N mints (with --force over the previous set) each SIGKILLed after a random delay,
# then one recovering mint; counts what a crash could leave behind. Usage: bench/kill-loop.sh [N]
# Prints: kills, certificates on disk with no audit entry, debris (hidden temporary files) after
# the next command, sets whose key and certificate do not match. BENCH_ROWS=FILE appends a row
# for bench/all.sh (goal: 0 of each).
set -euo pipefail
N="${1:-400}"
cd "$(dirname "$0")/.."
. bench/lib.sh
cargo build --quiet 2>/dev/null
BIN="$PWD/target/debug/breakglass"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
export BREAKGLASS_BACKEND=sim BREAKGLASS_SIM_DIR="$T/sim" BREAKGLASS_AUDIT_LOG="$T/audit.jsonl"
cd "$T"
"$BIN" init-ca >/dev/null 2>&1
"$BIN" mint -n u >/dev/null 2>&1
# The mint's own time, to spread the kills over it.
s=$(date +%s%N); "$BIN" mint -n u --force >/dev/null 2>&1; e=$(date +%s%N)
span_us=$(( (e - s) / 1000 ))
unaudited=0; debris=0; mismatched=0
for i in $(seq "$N"); do
  "$BIN" mint -n u --force >/dev/null 2>&1 &
  pid=$!
  sleep "0.$(printf '%06d' $(( RANDOM * 32768 % (span_us + 1) )))"
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  # The next command in the directory recovers it.
  "$BIN" mint -n u -f other --force >/dev/null 2>&1
  left=$(find . -maxdepth 1 -name '.*' ! -name . | wc -l)
  debris=$(( debris + left ))
  if [ -f emergency-cert.pub ]; then
    serial=$(ssh-keygen -L -f emergency-cert.pub | awk '/Serial:/ {print $2}')
    grep -q "\"serial\":\"$serial\"" audit.jsonl || unaudited=$(( unaudited + 1 ))
    k=$(ssh-keygen -y -f emergency | awk '{print $2}')
    c=$(ssh-keygen -L -f emergency-cert.pub | awk '/Public key:/ {print $4}')
    kf=$(printf 'ssh-x %s\n' "$k" >/dev/null; ssh-keygen -lf emergency.pub | awk '{print $2}')
    [ "$c" = "$kf" ] && [ "$(awk '{print $2}' emergency.pub)" = "$k" ] || mismatched=$(( mismatched + 1 ))
  fi
done
echo "kills: $N (random points over a ${span_us} us mint)"
echo "certificates without an audit entry: $unaudited"
echo "debris after the next command: $debris"
echo "key/certificate sets that do not match: $mismatched"
met=no; [ $(( unaudited + debris + mismatched )) -eq 0 ] && met=yes
row "kill loop, $N random SIGKILLs of mint --force: unaudited certificates / debris / mismatched sets" \
  "$unaudited / $debris / $mismatched" "—" "—" "0 each" "$met"
