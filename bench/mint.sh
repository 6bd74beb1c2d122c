#!/usr/bin/env bash
# Side by side, one run, PAIRED: `breakglass mint` on the simulated key against the manual
# equivalent, `ssh-keygen -t ecdsa` + `ssh-keygen -s` with a software ecdsa CA (the anchor).
# Each round runs the anchor, the mint with USER set, and the mint with USER and LOGNAME unset,
# back to back (the order rotates from round to round, so neither side always runs first on a
# warm cache); N rounds (default 21, at least 20). Reported: the median of the per-round ratios
# (the robust figure on a busy machine: both sides of a round see the same load) and the ratio
# of the medians.
#
# Both sides are timed the same way: from the measuring shell, with bash's own clock
# (EPOCHREALTIME, no `date` process in the interval); the anchor's two ssh-keygen commands run
# one after the other from that shell (a function, no `bash -c`): two fork+execs against our one.
# CPU time (user+sys of the children, from getrusage through `times`) is summed per side.
# Also: --help start-up, release binary size, drill wall time (information, no goal).
#
# Usage: bench/mint.sh [N]. With BENCH_ROWS=FILE, appends the goal rows for bench/all.sh
# (what, ours, anchor, ratio, goal, met; tab-separated).
set -euo pipefail
N="${1:-21}"
cd "$(dirname "$0")/.."
. bench/lib.sh
cargo build --release --quiet 2>/dev/null
BIN="$PWD/target/release/breakglass"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
export BREAKGLASS_BACKEND=sim BREAKGLASS_SIM_DIR="$T/sim" BREAKGLASS_AUDIT_LOG="$T/audit.jsonl"
cd "$T"
"$BIN" init-ca -f sk-user-ca >/dev/null 2>&1
ssh-keygen -q -t ecdsa -N '' -f refca

# "wall_us cpu_us" of one run: wall from EPOCHREALTIME, CPU from the children's rusage of this
# subshell (`times`' second line: children's user and system time).
run() {
  local s e
  s=${EPOCHREALTIME/./}
  "$@" >/dev/null 2>&1
  e=${EPOCHREALTIME/./}
  times > "$T/times"
  local c; { read -r _; read -r c; } < "$T/times"
  awk -v w=$(( e - s )) -v c="$c" 'BEGIN {
    n = split(c, a, " "); t = 0
    for (i = 1; i <= n; i++) { split(a[i], p, "m"); sub("s", "", p[2]); t += p[1] * 60 + p[2] }
    printf "%d %d\n", w, t * 1000000 }'
}
anchor() {
  ssh-keygen -q -t ecdsa -N '' -f "k$1" &&
    ssh-keygen -q -s refca -I test-key -n ubuntu -V -5m:+60m "k$1.pub"
}
ours() { "$BIN" mint -n ubuntu -f "$1"; }

# USER and LOGNAME unset in the measuring subshell itself: no `env` process in the interval.
ours_nouser() { unset USER LOGNAME; run ours "$1"; }
# Warm-up (page cache, first-run effects), not counted.
anchor w >/dev/null 2>&1; ours w0 >/dev/null 2>&1
kg=(); bg=(); bu=()
for i in $(seq "$N"); do
  case $(( i % 3 )) in
    0) k=$(run anchor "$i"); b=$(run ours "b$i"); u=$(ours_nouser "u$i") ;;
    1) b=$(run ours "b$i"); u=$(ours_nouser "u$i"); k=$(run anchor "$i") ;;
    2) u=$(ours_nouser "u$i"); k=$(run anchor "$i"); b=$(run ours "b$i") ;;
  esac
  kg+=("$k"); bg+=("$b"); bu+=("$u")
done
hp=(); for i in $(seq "$N"); do hp+=("$(run "$BIN" --help | cut -d' ' -f1)"); done
[ -s b1-cert.pub ] && [ -s u1-cert.pub ] && [ -s k1-cert.pub ] || { echo "a run wrote no certificate" >&2; exit 1; }

col() { local f=$1; shift; printf '%s\n' "$@" | cut -d' ' -f"$f"; }
sum() { awk '{s += $1} END {print s}'; }
# Median of per-round ratios a[i]/b[i].
pair_ratio() { paste -d' ' <(col 1 "${@:2:$1}") <(col 1 "${@:$(( $1 + 2 ))}") | awk '{print $1 / $2}' | median; }
mk=$(col 1 "${kg[@]}" | median); mb=$(col 1 "${bg[@]}" | median); mu=$(col 1 "${bu[@]}" | median)
ck=$(col 2 "${kg[@]}" | sum); cb=$(col 2 "${bg[@]}" | sum); cu=$(col 2 "${bu[@]}" | sum)
pb=$(pair_ratio "$N" "${bg[@]}" "${kg[@]}"); pu=$(pair_ratio "$N" "${bu[@]}" "${kg[@]}")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

echo "rounds: $N (anchor, mint, mint with USER unset; microseconds; $(loadavg))"
printf '%-46s %9s %9s\n' "" "median" "cpu/run"
printf '%-46s %9s %9s\n' "ssh-keygen -t ecdsa + ssh-keygen -s (anchor)" "$mk" "$(( ck / N ))"
printf '%-46s %9s %9s\n' "breakglass mint (sim)" "$mb" "$(( cb / N ))"
printf '%-46s %9s %9s\n' "breakglass mint (sim), USER and LOGNAME unset" "$mu" "$(( cu / N ))"
echo "ratio mint/anchor:       median of per-round ratios $(ratio "$pb" 1), ratio of medians $(ratio "$mb" "$mk"), cpu $(ratio "$cb" "$ck")"
echo "ratio (USER unset):      median of per-round ratios $(ratio "$pu" 1), ratio of medians $(ratio "$mu" "$mk"), cpu $(ratio "$cu" "$ck")"
echo "breakglass --help:       $(printf '%s\n' "${hp[@]}" | median) us"
echo "release binary size:     $(stat -c %s "$BIN") bytes"
s=${EPOCHREALTIME/./}; "$BIN" drill >/dev/null; e=${EPOCHREALTIME/./}
echo "drill wall time:         $(( (e - s) / 1000 )) ms"

row "sim mint vs ssh-keygen -t ecdsa + -s (paired, median of $N per-round ratios; ratio of medians $(ratio "$mb" "$mk"))" \
  "$(ms_of "$mb")" "$(ms_of "$mk")" "$(ratio "$pb" 1)" 0.45
row "the same, USER and LOGNAME unset (ratio of medians $(ratio "$mu" "$mk"))" \
  "$(ms_of "$mu")" "$(ms_of "$mk")" "$(ratio "$pu" 1)" 0.45
