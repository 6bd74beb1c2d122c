#!/usr/bin/env bash
# Median wall time of RUNS (default 5) hand-offs of a real emergency key + certificate on
# loopback through a local mailbox server and transit relay, side by side, both relay only:
#   breakglass send → breakglass receive          (breakglass dials only its relay, always)
#   wormhole send --no-listen DIR → wormhole receive --no-listen --accept-file
#                                   (Python, the same three files; --no-listen on both sides:
#                                    no listening socket, so no direct loopback connection)
# Each time runs from starting the sender until both sides have exited; the runs alternate.
# Usage: bench/wormhole.sh   (RUNS=N; the venv is target/wormhole-venv, made by the tests or .ci/run)
set -euo pipefail
. "$(dirname "$0")/wormhole-servers.sh"
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
  (cd "$WORK/src" && exec "${PYW[@]}" send --no-listen --no-qr --hide-progress emergency) 2> "$WORK/pycode" >/dev/null & local sp=$!
  local code; code=$(wait_code "$WORK/pycode" "Wormhole code is: ")
  "${PYW[@]}" receive --no-listen --accept-file --hide-progress -o "$out" "$code" >/dev/null 2>&1
  wait $sp
  local t1; t1=$(now)
  [ "$(stat -c %a "$out/emergency/emergency")" = 600 ] || { echo "python: mode lost" >&2; exit 1; }
  echo "$t1 - $t0" | bc
}

. "$HERE/bench/lib.sh"
B=(); P=()
for i in $(seq "$RUNS"); do B+=("$(bg_once "$i")"); P+=("$(python_once "$i")"); done
mb=$(printf '%s\n' "${B[@]}" | median); mp=$(printf '%s\n' "${P[@]}" | median)
echo "breakglass runs (s): ${B[*]}"
echo "python     runs (s): ${P[*]}"
printf 'median breakglass %.3f s\nmedian python     %.3f s\nratio breakglass/python %.2f (%s)\n' "$mb" "$mp" "$(echo "$mb / $mp" | bc -l)" "$(loadavg)"
row "hand-off of key + certificate on loopback, relay only: breakglass send/receive vs Python wormhole (--no-listen)" \
  "$(printf '%.3f s' "$mb")" "$(printf '%.3f s' "$mp")" "$(printf '%.2f' "$(echo "$mb / $mp" | bc -l)")" -
