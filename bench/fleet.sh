#!/usr/bin/env bash
# Host-side timings, one run: `breakglass host-config` (plan, and --out DIR) for two CAs on a
# Debian-shaped host config, beside the manual equivalent with OpenSSH's own tools (ssh-keygen -l
# to validate each CA, ssh-keygen -k for an empty KRL, cat into the CA file); then the Ansible
# role (deploy/ansible) against one local target under a temp dir: a first run that installs and
# a second run that changes nothing. Medians of N runs (default 21) for host-config; the role
# runs are timed once each per round, R rounds (default 3).
# Needs ansible-playbook: $BREAKGLASS_WORMHOLE_VENV/bin (as .ci/run makes it) or PATH.
# Usage: bench/fleet.sh [N] [R]
# BENCH_ROWS=FILE appends rows for bench/all.sh (no goal is set for these: information).
set -euo pipefail
N="${1:-21}"
R="${2:-3}"
cd "$(dirname "$0")/.."
REPO="$PWD"
. bench/lib.sh
cargo build --release --quiet 2>/dev/null || cargo build --release --quiet
BIN="$REPO/target/release/breakglass"
AP="${BREAKGLASS_WORMHOLE_VENV:+$BREAKGLASS_WORMHOLE_VENV/bin/}ansible-playbook"
command -v "$AP" >/dev/null || { echo "ansible-playbook not found (set BREAKGLASS_WORMHOLE_VENV)"; exit 1; }
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
export BREAKGLASS_BACKEND=sim BREAKGLASS_AUDIT_LOG="$T/audit.jsonl" ANSIBLE_NOCOLOR=1
cd "$T"
BREAKGLASS_SIM_DIR="$T/sim1" "$BIN" init-ca -f primary >/dev/null 2>&1
BREAKGLASS_SIM_DIR="$T/sim2" "$BIN" init-ca -f backup >/dev/null 2>&1
mkdir -p etc/sshd_config.d
ssh-keygen -q -t ed25519 -N '' -f etc/ssh_host_ed25519_key
ssh-keygen -q -t ed25519 -N '' -C online-ca -f etc/online_ca
cat > etc/sshd_config <<CFG
Include $T/etc/sshd_config.d/*.conf
HostKey $T/etc/ssh_host_ed25519_key
PidFile none
TrustedUserCAKeys $T/etc/online_ca.pub
UsePAM no
CFG
# Simulated CAs prove nothing about hardware: trusted on purpose (--allow-unattested, and
# breakglass_allow_unattested for the role below), as in practice.
HC=("$BIN" host-config --allow-unattested --etc "$T/etc" --sshd-config "$T/etc/sshd_config" primary.pub backup.pub)

ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(( (e - s) / 1000 )); }
manual() {
  ssh-keygen -l -f primary.pub && ssh-keygen -l -f backup.pub &&
  cat primary.pub backup.pub etc/online_ca.pub > "$1/breakglass_user_ca.pub" &&
  ssh-keygen -q -k -f "$1/breakglass_revoked.krl" /dev/null &&
  mkdir -p "$1/sshd_config.d" &&
  printf 'TrustedUserCAKeys %s\nRevokedKeys %s\n' "$T/etc/breakglass_user_ca.pub" "$T/etc/breakglass_revoked.krl" > "$1/sshd_config.d/00-breakglass.conf"
}
plan=(); outrun=(); man=()
for i in $(seq "$N"); do
  plan+=("$(ms "${HC[@]}")")
  mkdir "o$i" "m$i"
  outrun+=("$(ms "${HC[@]}" --out "o$i")")
  man+=("$(ms manual "m$i")")
done
test -f o1/sshd_config.d/00-breakglass.conf
mo=$(printf '%s\n' "${outrun[@]}" | median); mm=$(printf '%s\n' "${man[@]}" | median)
echo "runs: $N (median, microseconds; $(loadavg))"
echo "host-config, plan (sshd -T + files, 2 CAs):   $(printf '%s\n' "${plan[@]}" | median)"
echo "host-config --out DIR:                        $mo"
echo "manual: ssh-keygen -l x2, cat, ssh-keygen -k: $mm"
row "host-config --out DIR (2 CAs) vs the manual ssh-keygen -l ×2, cat, ssh-keygen -k" \
  "$(ms_of "$mo")" "$(ms_of "$mm")" "$(awk -v a="$mo" -v b="$mm" 'BEGIN {printf "%.2f", a / b}')" -

# The role, against a fresh local target each round.
first=(); second=()
for r in $(seq "$R"); do
  tgt="$T/target$r"; mkdir -p "$tgt/sshd_config.d"
  cp etc/ssh_host_ed25519_key etc/online_ca.pub "$tgt/"
  sed "s|$T/etc|$tgt|g" etc/sshd_config > "$tgt/sshd_config"
  mkdir "$T/build$r"
  "$BIN" host-config --allow-unattested --out "$T/build$r" --etc "$tgt" --sshd-config "$tgt/sshd_config" primary.pub backup.pub >/dev/null
  cat > "$T/vars$r.json" <<JSON
{"breakglass_target": "localhost", "breakglass_become": false,
 "ansible_python_interpreter": "{{ ansible_playbook_python }}",
 "breakglass_src": "$T/build$r", "breakglass_etc": "$tgt", "breakglass_allow_unattested": true,
 "breakglass_owner": "", "breakglass_group": "", "breakglass_reload_command": ["true"]}
JSON
  run() { (cd "$REPO/deploy/ansible" && "$AP" -i localhost, -c local -e "@$T/vars$r.json" playbook.yml); }
  s=$(date +%s%N); run > "$T/run1.log"; e=$(date +%s%N); first+=($(( (e - s) / 1000000 )))
  s=$(date +%s%N); run > "$T/run2.log"; e=$(date +%s%N); second+=($(( (e - s) / 1000000 )))
  grep -q 'changed=0 ' "$T/run2.log" || { echo "second run changed something"; cat "$T/run2.log"; exit 1; }
done
r1=$(printf '%s\n' "${first[@]}" | median); r2=$(printf '%s\n' "${second[@]}" | median)
echo "ansible role, one local target (median of $R, ms): first run $r1, second run (no change) $r2"
row "ansible role, one local target: first run (second run, no change: $r2 ms)" "$r1 ms" "—" "—" -
