#!/usr/bin/env bash
# Median wall time of RUNS (default 5) hand-offs of a real emergency key + certificate on
# loopback through a local mailbox server and transit relay (relay only), side by side:
#   breakglass send → breakglass receive
#   wormhole send DIR → wormhole receive --accept-file   (Python, the same three files)
# Each time runs from starting the sender until both sides have exited.
# Usage: bench/wormhole.sh   (RUNS=N; the venv is target/wormhole-venv, made by the tests or .ci/run)
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
VENV=${BREAKGLASS_WORMHOLE_VENV:-$HERE/target/wormhole-venv}
RUNS=${RUNS:-5}
[ -x "$VENV/bin/twist" ] || { echo "no venv at $VENV: run the tests once, or: python3 -m venv $VENV && $VENV/bin/pip install magic-wormhole magic-wormhole-mailbox-server magic-wormhole-transit-relay" >&2; exit 1; }
cargo build -q --release --manifest-path "$HERE/Cargo.toml"
BG="$HERE/target/release/breakglass"

WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
port() { "$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
MP=$(port); RP=$(port)
(cd "$WORK" && exec "$VENV/bin/twist" wormhole-mailbox --port=tcp:$MP:interface=127.0.0.1 --channel-db=:memory: >mailbox.log 2>&1) & PIDS+=($!)
(cd "$WORK" && exec "$VENV/bin/twist" transitrelay --port=tcp:$RP:interface=127.0.0.1 >relay.log 2>&1) & PIDS+=($!)
for p in $MP $RP; do for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && break; sleep 0.1; done; done

export BREAKGLASS_BACKEND=sim BREAKGLASS_SIM_DIR="$WORK/sim" BREAKGLASS_AUDIT_LOG="$WORK/audit.jsonl"
export BREAKGLASS_MAILBOX_URL="ws://127.0.0.1:$MP/v1" BREAKGLASS_RELAY_URL="tcp://127.0.0.1:$RP"
PYW=("$VENV/bin/wormhole" --relay-url "ws://127.0.0.1:$MP/v1" --transit-helper "tcp:127.0.0.1:$RP")
mkdir -p "$WORK/src/emergency"
(cd "$WORK/src" && "$BG" init-ca >/dev/null 2>&1 && "$BG" mint -n ubuntu -f emergency/emergency >/dev/null 2>&1)
echo "payload: $(cat "$WORK"/src/emergency/* | wc -c) bytes in 3 files" >&2

now() { date +%s.%N; }
wait_code() { for _ in $(seq 500); do grep -q "$2" "$1" 2>/dev/null && { sed -n "s/.*$2//p" "$1" | head -1; return; }; sleep 0.01; done; echo "no code in $1" >&2; cat "$1" >&2; exit 1; }

bg_once() {
  local out="$WORK/rx-$1"; mkdir -p "$out"; : > "$WORK/code"
  local t0; t0=$(now)
  (cd "$WORK/src" && exec "$BG" send emergency/emergency) > "$WORK/code" 2>/dev/null & local sp=$!
  local code; code=$(wait_code "$WORK/code" "Wormhole code: ")
  (cd "$out" && "$BG" receive "$code" >/dev/null 2>&1)
  wait $sp
  local t1; t1=$(now)
  [ "$(stat -c %a "$out/emergency")" = 600 ] || { echo "breakglass: mode lost" >&2; exit 1; }
  echo "$t1 - $t0" | bc
}

python_once() {
  local out="$WORK/pyrx-$1"; mkdir -p "$out"; : > "$WORK/pycode"
  local t0; t0=$(now)
  (cd "$WORK/src" && exec "${PYW[@]}" send --no-qr --hide-progress emergency) 2> "$WORK/pycode" >/dev/null & local sp=$!
  local code; code=$(wait_code "$WORK/pycode" "Wormhole code is: ")
  "${PYW[@]}" receive --accept-file --hide-progress -o "$out" "$code" >/dev/null 2>&1
  wait $sp
  local t1; t1=$(now)
  [ "$(stat -c %a "$out/emergency/emergency")" = 600 ] || { echo "python: mode lost" >&2; exit 1; }
  echo "$t1 - $t0" | bc
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
B=(); P=()
for i in $(seq "$RUNS"); do B+=("$(bg_once "$i")"); P+=("$(python_once "$i")"); done
mb=$(printf '%s\n' "${B[@]}" | median); mp=$(printf '%s\n' "${P[@]}" | median)
echo "breakglass runs (s): ${B[*]}"
echo "python     runs (s): ${P[*]}"
printf 'median breakglass %.3f s\nmedian python     %.3f s\nratio python/breakglass %.1f\n' "$mb" "$mp" "$(echo "$mp / $mb" | bc -l)"
