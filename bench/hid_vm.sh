#!/usr/bin/env bash
# Side-by-side timings inside one qemu guest (tests/vm/run-in-guest.sh, TCG, one CPU): breakglass
# init-ca and mint through the HID stack (--backend fido2 -> ctap-hid-fido2 -> hidraw -> uhid ->
# breakglass-sim-hid) against the simulated key directly (--backend sim), the same for
# ssh-keygen -s through libfido2, and the CTAPHID messages one mint takes. Release builds.
# Medians of N runs (default 5); the touch delay of the virtual key is set to 0.
# Usage: bench/hid_vm.sh [N]
set -euo pipefail
N="${1:-5}"
cd "$(dirname "$0")/.."
cargo build --release --quiet -p breakglass -p breakglass-sim-hid
REL="$PWD/target/release"
# The traffic log exists only in debug builds: one debug mint counts the messages.
cargo build --quiet -p breakglass-sim-hid
DBG="$PWD/target/debug"
JOB="$(mktemp -d)"; trap 'rm -rf "$JOB"' EXIT
cat > "$JOB/job.sh" <<JOB
set -eu
N=$N; BG=$REL/breakglass; HID=$REL/breakglass-sim-hid; HIDDBG=$DBG/breakglass-sim-hid
PIN=bench-pin-1
export TZ=UTC BREAKGLASS_AUDIT_LOG=\$PWD/audit.jsonl BREAKGLASS_PIN=\$PIN
printf '#!/bin/sh\necho bench-pin-1\n' > askpass; chmod +x askpass
export SSH_ASKPASS=\$PWD/askpass SSH_ASKPASS_REQUIRE=force DISPLAY=:0
ms() { s=\$(date +%s%N); "\$@" >/dev/null 2>&1; e=\$(date +%s%N); echo \$(( (e - s) / 1000000 )); }
median() { sort -n | awk '{a[NR]=\$1} END {print a[int((NR+1)/2)]}'; }
start_key() {
  rm -f hidraw.txt
  "\$1" --touch-delay-ms 0 > hidraw.txt 2>> hid.log & KEY=\$!
  while [ ! -s hidraw.txt ]; do sleep 0.05; done
  DEV=\$(cat hidraw.txt)
}
# The simulated key directly.
export BREAKGLASS_SIM_DIR=\$PWD/sim-direct
BREAKGLASS_NEW_PIN=\$PIN \$BG --backend sim sim set-pin >/dev/null
si=""; sm=""
for i in \$(seq \$N); do
  si="\$si \$(ms \$BG --backend sim init-ca -f sim-ca\$i --application ssh:s\$i)"
done
for i in \$(seq \$N); do sm="\$sm \$(ms \$BG --backend sim mint --ca sim-ca1.pub -n root -f sim-em\$i)"; done
# The same through the HID stack.
export BREAKGLASS_SIM_DIR=\$PWD/sim-hid
start_key \$HID
printf '%s\n%s\n' \$PIN \$PIN | fido2-token -S \$DEV >/dev/null 2>&1
hi=""; hm=""; ks=""
for i in \$(seq \$N); do
  hi="\$hi \$(ms \$BG --backend fido2 init-ca -f hid-ca\$i --application ssh:h\$i)"
done
for i in \$(seq \$N); do hm="\$hm \$(ms \$BG --backend fido2 mint --ca hid-ca1.pub -n root -f hid-em\$i)"; done
ssh-keygen -q -t ed25519 -N '' -f user
for i in \$(seq \$N); do ks="\$ks \$(ms ssh-keygen -s hid-ca1 -I u\$i -n root user.pub)"; done
kill \$KEY; wait \$KEY || true
# Messages per mint, from the debug build's traffic log.
export BREAKGLASS_SIM_HID_TRACE=1
: > hid.log
start_key \$HIDDBG
echo "@@@ mint" >> hid.log
\$BG --backend fido2 mint --ca hid-ca1.pub -n root -f count-em >/dev/null 2>&1
echo "@@@ sign" >> hid.log
ssh-keygen -s hid-ca1 -I count -n root user.pub >/dev/null 2>&1
echo "@@@ end" >> hid.log
kill \$KEY; wait \$KEY || true
count() { awk -v s="@@@ \$1" '\$0==s {f=1; next} /^@@@ / {f=0} f && /^ctaphid > / {n++} f && /KEEPALIVE/ {k++} END {printf "%d requests, %d keep-alives", n, k}' hid.log; }
echo "runs: \$N (median, milliseconds, guest under TCG)"
echo "init-ca --backend sim:            \$(echo \$si | tr ' ' '\n' | median)"
echo "init-ca --backend fido2 (HID):    \$(echo \$hi | tr ' ' '\n' | median)"
echo "mint --backend sim:               \$(echo \$sm | tr ' ' '\n' | median)"
echo "mint --backend fido2 (HID):       \$(echo \$hm | tr ' ' '\n' | median)"
echo "ssh-keygen -s via libfido2 (HID): \$(echo \$ks | tr ' ' '\n' | median)"
echo "CTAPHID per mint (ctap-hid-fido2): \$(count mint)"
echo "CTAPHID per ssh-keygen -s (libfido2): \$(count sign)"
JOB
s=$(date +%s%N)
tests/vm/run-in-guest.sh -t 900 "$JOB" || { echo "guest failed:"; cat "$JOB/out"; exit 1; }
e=$(date +%s%N)
cat "$JOB/out"
echo "guest boot-to-result (whole bench): $(( (e - s) / 1000000 )) ms"
