#!/usr/bin/env bash
# Median wall time of RUNS (default 5) request→certificate round trips on loopback through a
# local mailbox server (no transit relay is involved in request/approve), side by side:
#   breakglass request → breakglass approve --yes          (the public key travels, one touch)
#   breakglass mint --send → breakglass receive            (the old way: the private key travels)
#   ssh-keygen -t ecdsa + wormhole send --text → breakglass approve --text → wormhole receive
#                                                           (the Python fallback)
#   ssh-keygen -s with a file CA                            (local signing, no network: the floor)
# Each time runs from starting the first command until both sides have exited. The simulated
# key answers at once (no touch wait: BREAKGLASS_SIM_TOUCH_WAIT is 0), so the times exclude the
# touch. Python's receive runs with --no-listen (relay only, as breakglass always is).
# Goal (issue 21): request → certificate ≤ 0.1 s median; the load average is printed with it.
# Usage: bench/request.sh   (RUNS=N; the venv is target/wormhole-venv, made by the tests or .ci/run)
set -euo pipefail
. "$(dirname "$0")/wormhole-servers.sh"
mkdir -p "$WORK/ca"
(cd "$WORK/ca" && "$BG" init-ca >/dev/null 2>&1 && ssh-keygen -q -t ecdsa -N '' -f fileca)

now() { date +%s.%N; }
wait_code() { for _ in $(seq 1000); do grep -q "$2" "$1" 2>/dev/null && { sed -n "s/.*$2//p" "$1" | head -1; return; }; sleep 0.01; done; echo "no code in $1" >&2; cat "$1" >&2; exit 1; }

request_once() {
  local out="$WORK/rq-$1"; mkdir -p "$out"; : > "$WORK/code"
  local t0; t0=$(now)
  (cd "$out" && exec "$BG" request -n ubuntu) > "$WORK/code" 2>/dev/null & local rp=$!
  local code; code=$(wait_code "$WORK/code" "Wormhole code: ")
  (cd "$WORK/ca" && "$BG" approve "$code" --yes >/dev/null 2>&1)
  wait $rp
  local t1; t1=$(now)
  [ -s "$out/emergency-cert.pub" ] || { echo "request: no certificate" >&2; exit 1; }
  echo "$t1 - $t0" | bc
}

send_once() {
  local src="$WORK/ms-$1" out="$WORK/mr-$1"; mkdir -p "$src" "$out"; : > "$WORK/mcode"
  local t0; t0=$(now)
  (cd "$WORK/ca" && exec "$BG" mint -n ubuntu -f "$src/emergency" --send) > "$WORK/mcode" 2>/dev/null & local sp=$!
  local code; code=$(wait_code "$WORK/mcode" "Wormhole code: ")
  (cd "$out" && "$BG" receive "$code" >/dev/null 2>&1)
  wait $sp
  local t1; t1=$(now)
  [ -s "$out/emergency-cert.pub" ] || { echo "mint --send: no certificate" >&2; exit 1; }
  echo "$t1 - $t0" | bc
}

python_once() {
  local out="$WORK/py-$1"; mkdir -p "$out"; : > "$WORK/pycode"; : > "$WORK/acode"
  local t0; t0=$(now)
  ssh-keygen -q -t ecdsa -N '' -f "$out/id_ecdsa"
  "${PYW[@]}" send --text "$(cat "$out/id_ecdsa.pub")" 2> "$WORK/pycode" >/dev/null & local sp=$!
  local code; code=$(wait_code "$WORK/pycode" "Wormhole code is: ")
  (cd "$WORK/ca" && exec "$BG" approve --text "$code" -n ubuntu --yes) > "$WORK/acode" 2>/dev/null & local ap=$!
  local code2; code2=$(wait_code "$WORK/acode" "Wormhole code: ")
  (cd "$out" && "${PYW[@]}" receive --no-listen --accept-file --hide-progress "$code2" >/dev/null 2>&1)
  wait $sp; wait $ap
  local t1; t1=$(now)
  [ -s "$out/id_ecdsa-cert.pub" ] || { echo "python: no certificate" >&2; exit 1; }
  echo "$t1 - $t0" | bc
}

keygen_once() {
  local out="$WORK/kg-$1"; mkdir -p "$out"
  local t0; t0=$(now)
  ssh-keygen -q -t ecdsa -N '' -f "$out/id_ecdsa"
  ssh-keygen -q -s "$WORK/ca/fileca" -I bench -n ubuntu -V -5m:+60m "$out/id_ecdsa.pub"
  local t1; t1=$(now)
  echo "$t1 - $t0" | bc
}

. "$HERE/bench/lib.sh"
R=(); M=(); P=(); K=()
for i in $(seq "$RUNS"); do
  R+=("$(request_once "$i")"); M+=("$(send_once "$i")"); P+=("$(python_once "$i")"); K+=("$(keygen_once "$i")")
done
echo "request/approve      runs (s): ${R[*]}"
echo "mint --send/receive  runs (s): ${M[*]}"
echo "python text fallback runs (s): ${P[*]}"
echo "ssh-keygen local     runs (s): ${K[*]}"
printf 'median request/approve      %.3f s\n' "$(printf '%s\n' "${R[@]}" | median)"
printf 'median mint --send/receive  %.3f s\n' "$(printf '%s\n' "${M[@]}" | median)"
printf 'median python text fallback %.3f s\n' "$(printf '%s\n' "${P[@]}" | median)"
printf 'median ssh-keygen local     %.3f s\n' "$(printf '%s\n' "${K[@]}" | median)"
echo "$(loadavg)"
mr=$(printf '%s\n' "${R[@]}" | median); mpy=$(printf '%s\n' "${P[@]}" | median)
row "request → certificate on loopback, no touch wait (request + approve --yes; anchor: Python text fallback)" \
  "$(printf '%.3f s' "$mr")" "$(printf '%.3f s' "$mpy")" "$(printf '%.2f' "$(echo "$mr / $mpy" | bc -l)")" "0.100 s" \
  "$(awk -v m="$mr" 'BEGIN {print (m <= 0.1) ? "yes" : "no"}')"
