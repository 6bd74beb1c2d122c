#!/usr/bin/env bash
# The fleet drill against N loopback sshds (default 200), one run each, same hosts, same
# parallelism P (default 32):
#   - `breakglass fleet-drill` (mint with one touch on the simulated key, log in with the drill
#     certificate only, run the probe, judge: every host must come back ready);
#   - the bare OpenSSH fan-out it is measured against: `xargs -P P ssh … true` with an ordinary
#     break-glass certificate and the same client options (no probe, no judging);
#   - `ansible-playbook deploy/ansible/drill.yml` with -f P (wall time only; no goal).
# Goal: fleet-drill / bare fan-out ≤ 1.5.
# Each host: ROOT/etc/ssh/sshd_config (Including sshd_config.d/*.conf first), configured by
# `breakglass host-config --alert` (the one call is host_config below), the sshd started with
# `SetEnv BREAKGLASS_PROBE_ROOT=ROOT` so the probe reads ROOT's files.
# Needs sshd, ssh, python3; the Ansible row needs ansible-playbook ($BREAKGLASS_WORMHOLE_VENV/bin
# or PATH) and is skipped (said so) without it. BREAKGLASS_BIN=PATH uses that binary instead of a
# release build.
# Usage: bench/fleet_drill.sh [N] [P]
set -euo pipefail
N="${1:-200}"
P="${2:-32}"
cd "$(dirname "$0")/.."
REPO="$PWD"
. bench/lib.sh
if [ -n "${BREAKGLASS_BIN:-}" ]; then
  BIN="$BREAKGLASS_BIN"
else
  cargo build --release --quiet 2>/dev/null || cargo build --release --quiet
  BIN="$REPO/target/release/breakglass"
fi
T="$(mktemp -d)"
cleanup() {
  for p in "$T"/h*/etc/ssh/sshd.pid; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
# BREAKGLASS_FLEET_TEST_ROOTS=1: a loopback test fleet, whose sshds redirect the probe (a real
# drill never sets it; a redirected probe then makes a host not ready).
export BREAKGLASS_BACKEND=sim BREAKGLASS_SIM_DIR="$T/sim" BREAKGLASS_AUDIT_LOG="$T/audit.jsonl" ANSIBLE_NOCOLOR=1
export BREAKGLASS_FLEET_TEST_ROOTS=1
[ "$(id -u)" = 0 ] && mkdir -p /run/sshd
U="$(id -un)"
cd "$T"
"$BIN" init-ca >/dev/null 2>&1

# host_config OUT ETC: the one place this benchmark runs host-config for a host. The CA is
# simulated: --allow-unattested, on purpose (a benchmark of the drill, not of the gate).
host_config() {
  "$BIN" host-config --allow-unattested --out "$1" --etc "$2" --sshd-config "$2/sshd_config" --alert /bin/true "$T/sk-user-ca.pub" >/dev/null
}

# N free ports on 127.0.0.1, all different.
"$(command -v /usr/bin/python3 || command -v python3)" -c "
import socket
s = [socket.socket() for _ in range($N)]
for x in s: x.bind(('127.0.0.1', 0))
print('\n'.join(str(x.getsockname()[1]) for x in s))" > ports
: > hosts; : > known_hosts
printf '{"breakglass_hosts": {"hosts": {' > inventory.json
i=0
while read -r port; do
  i=$((i + 1)); r="$T/h$i"; e="$r/etc/ssh"
  mkdir -p "$e/sshd_config.d" "$r/etc/rsyslog.d" "$r/build"
  ssh-keygen -q -t ed25519 -N '' -f "$e/ssh_host_ed25519_key"
  cat > "$e/sshd_config" <<CFG
Include $e/sshd_config.d/*.conf
Port $port
ListenAddress 127.0.0.1
HostKey $e/ssh_host_ed25519_key
PidFile $e/sshd.pid
SetEnv BREAKGLASS_PROBE_ROOT=$r
AuthorizedKeysFile none
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
CFG
  host_config "$r/build" "$e"
  mv "$r/build/rsyslog.d/"* "$r/etc/rsyslog.d/"; rmdir "$r/build/rsyslog.d"
  cp -r "$r/build/." "$e/"
  /usr/sbin/sshd -f "$e/sshd_config" -E "$r/sshd.log"
  echo "$U@127.0.0.1:$port" >> hosts
  echo "[127.0.0.1]:$port $(cat "$e/ssh_host_ed25519_key.pub")" >> known_hosts
  [ "$i" = 1 ] || printf ', ' >> inventory.json
  printf '"h%s": {"ansible_host": "127.0.0.1", "ansible_port": %s, "ansible_user": "%s"}' "$i" "$port" "$U" >> inventory.json
done < ports
printf '}}}\n' >> inventory.json
for p in $(seq "$N"); do
  until [ -s "$T/h$p/etc/ssh/sshd.pid" ]; do sleep 0.05; done
done
sleep 1

ms() { echo $(( ($2 - $1) / 1000000 )); }

# The bare fan-out's certificate: an ordinary break-glass one.
"$BIN" mint -n "$U" -f plain >/dev/null 2>&1
s=$(date +%s%N)
"$BIN" fleet-drill hosts --ca sk-user-ca.pub --alert --known-hosts known_hosts --parallel "$P" --timeout 120 > drill.out || { cat drill.out; exit 1; }
e=$(date +%s%N); drill=$(ms "$s" "$e")
grep -q "^$N of $N hosts ready" drill.out || { cat drill.out; exit 1; }

s=$(date +%s%N)
sed 's/.*://' hosts | xargs -P "$P" -I{} ssh -F none -o IdentitiesOnly=yes -o IdentityAgent=none \
  -o ControlMaster=no -o ControlPath=none -o PreferredAuthentications=publickey \
  -o GSSAPIAuthentication=no -o BatchMode=yes -o StrictHostKeyChecking=yes \
  -o UserKnownHostsFile="$T/known_hosts" -o GlobalKnownHostsFile=none -o LogLevel=ERROR -o ConnectTimeout=120 \
  -i "$T/plain" -p {} -l "$U" 127.0.0.1 true
e=$(date +%s%N); bare=$(ms "$s" "$e")

ratio=$(awk -v a="$drill" -v b="$bare" 'BEGIN {printf "%.2f", a / b}')
echo "hosts: $N, parallel: $P ($(loadavg))"
echo "breakglass fleet-drill (mint + login + probe + judge): $drill ms"
echo "xargs -P $P ssh … true (login only):                 $bare ms"
echo "ratio: $ratio (goal ≤ 1.5)"
row "fleet-drill, $N loopback sshds, -P $P, vs xargs -P $P ssh … true" "$drill ms" "$bare ms" "$ratio" 1.5

AP="${BREAKGLASS_WORMHOLE_VENV:+$BREAKGLASS_WORMHOLE_VENV/bin/}ansible-playbook"
if command -v "$AP" >/dev/null; then
  cat > vars.json <<JSON
{"breakglass_bin": "$BIN", "breakglass_drill_dir": "$T/ansible-drill", "breakglass_drill_known_hosts": "$T/known_hosts", "breakglass_drill_timeout": 120,
 "breakglass_drill_mint_args": ["-n", "$U", "--ca", "$T/sk-user-ca.pub", "--alert"]}
JSON
  s=$(date +%s%N)
  (cd "$REPO/deploy/ansible" && "$AP" -i "$T/inventory.json" -f "$P" -e "@$T/vars.json" drill.yml) > ansible.out 2>&1 || { tail -30 ansible.out; exit 1; }
  e=$(date +%s%N); ans=$(ms "$s" "$e")
  grep -q "$N of $N hosts ready" ansible.out || { tail -30 ansible.out; exit 1; }
  echo "ansible-playbook drill.yml -f $P:                        $ans ms"
  row "ansible-playbook deploy/ansible/drill.yml, $N loopback sshds, -f $P" "$ans ms" "—" "—" -
else
  echo "ansible-playbook drill.yml: skipped (ansible-playbook not found; set BREAKGLASS_WORMHOLE_VENV)"
fi
