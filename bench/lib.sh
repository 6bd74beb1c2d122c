# Sourced by the benchmarks: medians, the load average, and the goal rows bench/all.sh collects.

# The median of the numbers on stdin, one a line (the upper middle one for an even count).
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# "load 1.23 0.98 0.50" (1, 5 and 15 minutes), for every printed result.
loadavg() { echo "load $(cut -d' ' -f1-3 /proc/loadavg)"; }

# Microseconds as milliseconds with one decimal and the unit.
ms_of() { awk -v u="$1" 'BEGIN {printf "%.1f ms", u / 1000}'; }

# row WHAT OURS ANCHOR RATIO GOAL [MET]: one goal row for bench/all.sh, appended to $BENCH_ROWS
# when it is set (tab-separated, in that order, then the load average when the row was made).
# MET defaults to "yes" when RATIO <= GOAL (both numbers), else "no". GOAL "-": no goal (a
# measurement shown for information; goal and met are "—").
row() {
  local met="${6:-}" goal="≤ $5"
  if [ "$5" = - ]; then
    goal="—"; met="—"
  elif [ -z "$met" ]; then
    met=$(awk -v r="$4" -v g="$5" 'BEGIN {print (r + 0 <= g + 0) ? "yes" : "no"}')
  fi
  [ -n "${BENCH_ROWS:-}" ] || return 0
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$goal" "$met" "$(cut -d' ' -f1 /proc/loadavg)" >> "$BENCH_ROWS"
}
