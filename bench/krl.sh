#!/usr/bin/env bash
# Side by side in one run, PAIRED: `breakglass revoke --spec` vs `ssh-keygen -k` (the anchor) on
# the same KRL spec files (release build): 100,000 random 64-bit serials (what mint's random
# serials look like), 100,000 consecutive serials, and 10,000 key ids. Each of N rounds (default
# 11) writes a fresh KRL with each tool, back to back, the order alternating; reported: the
# median wall times, the median of the per-round ratios, CPU time (user+sys) beside them, the
# KRL sizes, and whether `ssh-keygen -Q` gives the same verdict on both KRLs for certificates
# that are revoked (first and last entry of the spec) and that are not.
# Wall time includes breakglass's barriers (temp KRL, directory, audit log), which ssh-keygen
# does not do. Usage: bench/krl.sh [N]. BENCH_ROWS=FILE appends the goal rows for bench/all.sh.
set -euo pipefail
N="${1:-11}"
cd "$(dirname "$0")/.."
. bench/lib.sh
cargo build --release --quiet 2>/dev/null
BIN="$PWD/target/release/breakglass"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
export BREAKGLASS_BACKEND=sim BREAKGLASS_SIM_DIR="$T/sim" BREAKGLASS_AUDIT_LOG="$T/audit.jsonl"
cd "$T"
ssh-keygen -q -t ed25519 -N '' -f ca
ssh-keygen -q -t ed25519 -N '' -f user

# The spec files (same bytes for both tools).
od -An -tu8 -N800000 -v /dev/urandom | tr -s ' ' '\n' | awk 'NF && $1 != 0 {print "serial: " $1}' | head -n 100000 > random.spec
seq 1 100000 | sed 's/^/serial: /' > consecutive.spec
seq 1 10000 | awk '{printf "id: breakglass operator%d@host 2026-11-27T08:00:00Z: INC-%d\n", $1, $1}' > ids.spec

# Certificates to ask both KRLs about: "serial S" or "id TEXT", revoked or not.
cert() { # NAME serial|id VALUE
  cp user.pub "$1.pub"
  if [ "$2" = serial ]; then ssh-keygen -q -s ca -I probe -z "$3" -n u "$1.pub"
  else ssh-keygen -q -s ca -I "$3" -n u "$1.pub"; fi
}
first() { head -1 "$1.spec" | cut -d' ' -f2-; }
last() { tail -1 "$1.spec" | cut -d' ' -f2-; }
absent_serial() { local s; while :; do s=$(od -An -tu8 -N8 /dev/urandom | tr -d ' '); grep -qx "serial: $s" random.spec || { echo "$s"; return; }; done; }
cert random-1 serial "$(first random)"; cert random-2 serial "$(last random)"; cert random-3 serial "$(absent_serial)"
cert consecutive-1 serial 1; cert consecutive-2 serial 100000; cert consecutive-3 serial 100001
cert ids-1 id "$(first ids)"; cert ids-2 id "$(last ids)"; cert ids-3 id "breakglass operator10001@host 2026-11-27T08:00:00Z: INC-10001"
# "REVOKED" or "ok" for each probe certificate of SPEC against KRL.
verdicts() { local c; for c in "$2"-[123]-cert.pub; do if ssh-keygen -Q -f "$1" "$c" >/dev/null 2>&1; then printf 'ok '; else printf 'REVOKED '; fi; done; }

# "wall_us cpu_ms" of one run.
run() {
  local TIMEFORMAT='%3U %3S' s e t
  s=${EPOCHREALTIME/./}
  t=$( { time "$@" >/dev/null 2>&1; } 2>&1 )
  e=${EPOCHREALTIME/./}
  awk -v w=$(( e - s )) -v t="$t" 'BEGIN {split(t, a, " "); printf "%d %d\n", w, (a[1] + a[2]) * 1000}'
}
ours() { rm -f bg.krl; "$BIN" revoke --krl bg.krl --ca ca.pub --spec "$1.spec"; }
anchor() { rm -f kg.krl; ssh-keygen -q -k -f kg.krl -s ca.pub "$1.spec"; }

echo "rounds: $N (paired, order alternating; medians; $(loadavg))"
printf '%-17s %7s %10s %10s %7s %9s %9s %9s %9s %s\n' spec lines "bg wall ms" "kg wall ms" ratio "bg cpu ms" "kg cpu ms" "bg bytes" "kg bytes" "ssh-keygen -Q on bg / kg KRL"
for spec in random consecutive ids; do
  bg=(); kg=()
  for i in $(seq "$N"); do
    if (( i % 2 )); then b=$(run ours "$spec"); k=$(run anchor "$spec")
    else k=$(run anchor "$spec"); b=$(run ours "$spec"); fi
    bg+=("$b"); kg+=("$k")
  done
  col() { local f=$1; shift; printf '%s\n' "$@" | cut -d' ' -f"$f"; }
  wb=$(col 1 "${bg[@]}" | median); wk=$(col 1 "${kg[@]}" | median)
  cb=$(col 2 "${bg[@]}" | median); ck=$(col 2 "${kg[@]}" | median)
  pr=$(paste -d' ' <(col 1 "${bg[@]}") <(col 1 "${kg[@]}") | awk '{print $1 / $2}' | median)
  pr=$(awk -v r="$pr" 'BEGIN {printf "%.2f", r}')
  sb=$(stat -c %s bg.krl); sk=$(stat -c %s kg.krl)
  vb=$(verdicts bg.krl "$spec"); vk=$(verdicts kg.krl "$spec")
  agree=no; [ "$vb" = "$vk" ] && [ "$vb" = "REVOKED REVOKED ok " ] && agree=yes
  printf '%-17s %7s %10s %10s %7s %9s %9s %9s %9s %s/ %s(%s)\n' "$spec.spec" "$(wc -l < "$spec.spec")" \
    "$(ms_of "$wb" | cut -d' ' -f1)" "$(ms_of "$wk" | cut -d' ' -f1)" "$pr" "$cb" "$ck" "$sb" "$sk" "$vb" "$vk" "agree: $agree"
  met=$(awk -v r="$pr" 'BEGIN {print (r <= 0.5) ? "yes" : "no"}')
  { [ "$sb" -le "$sk" ] && [ "$agree" = yes ]; } || met=no
  row "KRL, $(wc -l < "$spec.spec") ${spec} entries: revoke --spec vs ssh-keygen -k (size $sb vs $sk bytes, -Q agrees: $agree)" \
    "$(ms_of "$wb")" "$(ms_of "$wk")" "$pr" 0.5 "$met"
done
echo "wall includes process start and, for breakglass, its barriers (KRL, directory, audit log)"
