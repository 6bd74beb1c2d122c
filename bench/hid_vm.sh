#!/usr/bin/env bash
# Side-by-side timings inside one qemu guest (tests/vm/run-in-guest.sh, TCG, one CPU), on the same
# virtual key (breakglass-sim-hid on /dev/uhid), in the same run:
#   - breakglass init-ca and mint through the HID stack (--backend fido2 -> ctap-hid-fido2 ->
#     hidraw -> uhid -> breakglass-sim-hid) and against the simulated key directly (--backend sim);
#   - like with like against OpenSSH through libfido2:
#       mint (key pair, certificate, three files, audit entry)
#         vs ssh-keygen -t ecdsa + ssh-keygen -s with the key's CA (key pair and certificate);
#       sign only: mint --pubkey (certificate of an existing key, audit entry)
#         vs ssh-keygen -s alone;
#     each round runs the four back to back (the order rotating);
#   - the CTAPHID requests (and keep-alives) one mint, one mint --pubkey and one ssh-keygen -s take.
# Release builds. Medians of N rounds (default 5); the touch delay of the virtual key is 0.
# Usage: bench/hid_vm.sh [N]. BENCH_ROWS=FILE appends the rows for bench/all.sh (no goal is set
# for the guest: the rows are shown for information).
set -euo pipefail
N="${1:-5}"
cd "$(dirname "$0")/.."
. bench/lib.sh
# (the builds' warnings are kept out of the numbers; a failed build shows its errors)
build() { cargo build --quiet "$@" 2>/dev/null || cargo build "$@"; }
build --release -p breakglass -p breakglass-sim-hid
REL="$PWD/target/release"
# The traffic log exists only in debug builds: one debug mint counts the messages.
build -p breakglass-sim-hid
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
hi=""
for i in \$(seq \$N); do
  hi="\$hi \$(ms \$BG --backend fido2 init-ca -f hid-ca\$i --application ssh:h\$i)"
done
ssh-keygen -q -t ed25519 -N '' -f user
kpair() { ssh-keygen -q -t ecdsa -N '' -f kp\$1 && ssh-keygen -q -s hid-ca1 -I kp\$1 -n root kp\$1.pub; }
hm=""; kp=""; bs=""; ks=""
for i in \$(seq \$N); do
  cp user.pub bs\$i.pub; cp user.pub ks\$i.pub
  for j in 0 1 2 3; do
    case \$(( (i + j) % 4 )) in
      0) hm="\$hm \$(ms \$BG --backend fido2 mint --ca hid-ca1.pub -n root -f hid-em\$i)" ;;
      1) kp="\$kp \$(ms kpair \$i)" ;;
      2) bs="\$bs \$(ms \$BG --backend fido2 mint --ca hid-ca1.pub -n root --pubkey bs\$i.pub)" ;;
      3) ks="\$ks \$(ms ssh-keygen -s hid-ca1 -I u\$i -n root ks\$i.pub)" ;;
    esac
  done
done
[ -s hid-em1-cert.pub ] && [ -s kp1-cert.pub ] && [ -s bs1-cert.pub ] && [ -s ks1-cert.pub ] || { echo "a run wrote no certificate"; ls; exit 1; }
kill \$KEY; wait \$KEY || true
# Messages per operation, from the debug build's traffic log.
export BREAKGLASS_SIM_HID_TRACE=1
: > hid.log
start_key \$HIDDBG
cp user.pub count-bs.pub; cp user.pub count-ks.pub
echo "@@@ mint" >> hid.log
\$BG --backend fido2 mint --ca hid-ca1.pub -n root -f count-em >/dev/null 2>&1
echo "@@@ pubkey" >> hid.log
\$BG --backend fido2 mint --ca hid-ca1.pub -n root --pubkey count-bs.pub >/dev/null 2>&1
echo "@@@ sign" >> hid.log
ssh-keygen -s hid-ca1 -I count -n root count-ks.pub >/dev/null 2>&1
echo "@@@ end" >> hid.log
kill \$KEY; wait \$KEY || true
count() { awk -v s="@@@ \$1" '\$0==s {f=1; next} /^@@@ / {f=0} f && /^ctaphid > / {n++} f && /KEEPALIVE/ {k++} END {printf "%d %d", n, k}' hid.log; }
med() { echo \$1 | tr ' ' '\n' | median; }
echo "@@ rounds \$N"
echo "@@ init-sim \$(med "\$si")"
echo "@@ init-hid \$(med "\$hi")"
echo "@@ mint-sim \$(med "\$sm")"
echo "@@ mint-hid \$(med "\$hm")"
echo "@@ pair-hid \$(med "\$kp")"
echo "@@ pubkey-hid \$(med "\$bs")"
echo "@@ sign-hid \$(med "\$ks")"
echo "@@ ctaphid-mint \$(count mint)"
echo "@@ ctaphid-pubkey \$(count pubkey)"
echo "@@ ctaphid-sign \$(count sign)"
JOB
s=$(date +%s%N)
tests/vm/run-in-guest.sh -t 900 "$JOB" || { echo "guest failed:"; cat "$JOB/out"; exit 1; }
e=$(date +%s%N)
v() { awk -v k="$1" -v f="${2:-3}" '$1 == "@@" && $2 == k {print $f}' "$JOB/out"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
echo "rounds: $(v rounds) (median, milliseconds, guest under TCG, one CPU; host $(loadavg))"
echo "init-ca --backend sim:                                   $(v init-sim)"
echo "init-ca --backend fido2 (HID):                           $(v init-hid)"
echo "mint --backend sim:                                      $(v mint-sim)"
echo "like with like, through HID on the same virtual key:"
echo "  mint --backend fido2 (key pair, cert, 3 files, audit): $(v mint-hid)"
echo "  ssh-keygen -t ecdsa + ssh-keygen -s via libfido2:      $(v pair-hid)   ratio $(ratio "$(v mint-hid)" "$(v pair-hid)")"
echo "  sign only: mint --pubkey (cert, audit):                $(v pubkey-hid)"
echo "  sign only: ssh-keygen -s via libfido2:                 $(v sign-hid)   ratio $(ratio "$(v pubkey-hid)" "$(v sign-hid)")"
echo "CTAPHID requests (keep-alives) per mint:                 $(v ctaphid-mint) ($(v ctaphid-mint 4))"
echo "CTAPHID requests (keep-alives) per mint --pubkey:        $(v ctaphid-pubkey) ($(v ctaphid-pubkey 4))"
echo "CTAPHID requests (keep-alives) per ssh-keygen -s:        $(v ctaphid-sign) ($(v ctaphid-sign 4))"
echo "guest boot-to-result (whole bench): $(( (e - s) / 1000000 )) ms"

row "HID guest (TCG): mint over HID vs ssh-keygen -t ecdsa + ssh-keygen -s via libfido2, same virtual key" \
  "$(v mint-hid) ms" "$(v pair-hid) ms" "$(ratio "$(v mint-hid)" "$(v pair-hid)")" -
row "HID guest (TCG), sign only: mint --pubkey over HID vs ssh-keygen -s via libfido2" \
  "$(v pubkey-hid) ms" "$(v sign-hid) ms" "$(ratio "$(v pubkey-hid)" "$(v sign-hid)")" -
row "HID guest: CTAPHID requests per mint (anchor: per ssh-keygen -s)" \
  "$(v ctaphid-mint)" "$(v ctaphid-sign)" "$(ratio "$(v ctaphid-mint)" "$(v ctaphid-sign)")" -
