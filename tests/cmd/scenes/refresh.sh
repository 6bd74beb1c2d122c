#!/usr/bin/env bash
# Rebuilds the scenes the pinned CLI cases start from. A case names its scene with
#   fs.base = "../scenes/NAME.in"
# and runs in a sandbox copy of it (a case without fs.base starts in an empty directory).
# Run from the repository root after `cargo build`, then re-pin (new keys, new fingerprints):
#   bash tests/cmd/scenes/refresh.sh && TRYCMD=overwrite cargo test --test cmd
#
# ca:          a simulated key holding one CA (no PIN), sk-user-ca and sk-user-ca.pub, valid and
#              expired certificates (key, .pub and -cert.pub, valid at the cases' clock or a day before)
# ca-and-log:  ca, with the audit log of making it (audit.jsonl)
# wrong-kit:   ca, but sk-user-ca.pub holds a CA that is on no key (a kit for another key)
# other-ca:    ca, with other-ca.pub, a CA that is on no key the cases use
# public-key:  ca, with emergency.pub, a plain public key (where a certificate was meant)
# old-openssh: ca, with fake OpenSSH 8.1 programs in bin.keep/ and agent.keep/ (hand-written,
#              left alone: any path with .keep in it is)
# pin:         the ca key (sim/ only) with PIN 123456 set
# log:         the audit log of making ca (u64s written as JSON numbers, as before 0.2)
# bad-log:     an audit log whose second line is not JSON
# pin-blocked: pin, with no PIN tries left
# pin-auth-blocked: pin, after three wrong PINs in a row (needs a re-plug)
# sim-damaged: a simulated key whose state file is not JSON
# key-behind:  ca, with a log that records a signature counter above the key's
# bad-krl:     truncated.krl, a KRL cut after its header
# host:        sk-user-ca.pub, with hand-written sshd_config files in conf.keep/
# key-full:    the ca key with 25 resident credentials, as many as the simulated key holds
# sim-attested: a simulated key and the CA it attested at init-ca: sk-user-ca, .pub, .attest, and
#              the key's own attestation root, sim/attestation-root.pem
# fleet:       hand-written fleet-drill fixtures (hosts files, reports, an Ansible drill.json and
#              results.json), not rebuilt here
set -euo pipefail
shopt -s nullglob
B="$PWD/target/debug/breakglass"
S="$PWD/tests/cmd/scenes"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
NOW=1795000000 # 2026-11-18 11:06:40 UTC, the cases' BREAKGLASS_NOW (tests/cmd.rs)
export BREAKGLASS_BACKEND=sim BREAKGLASS_SIM_DIR=sim BREAKGLASS_AUDIT_LOG="$W/log/audit.jsonl" TZ=UTC USER=operator
unset BREAKGLASS_PIN BREAKGLASS_NEW_PIN BREAKGLASS_SIM_TOUCH
mkdir -p "$W/ca" "$W/pin" "$W/other" "$W/log" "$W/bad-log"
(
  cd "$W/ca"
  BREAKGLASS_NOW=$((NOW - 86400)) "$B" init-ca -C "fixture CA" >/dev/null 2>&1
  BREAKGLASS_NOW=$((NOW - 86400)) "$B" mint -n ubuntu -z 7 -I expired -f expired >/dev/null 2>&1
  BREAKGLASS_NOW=$((NOW - 600)) BREAKGLASS_SIM_TOUCH=deny "$B" mint -n ubuntu -z 8 -I denied -f denied >/dev/null 2>&1 || true
  BREAKGLASS_NOW=$((NOW - 300)) "$B" mint -n ubuntu,root -z 15729956150294075776 -I "fixture cert" -f valid --reason "fixture" >/dev/null 2>&1
  rm -f sim/lock
)
cp -r "$W/ca/sim" "$W/pin/"
(cd "$W/pin" && BREAKGLASS_NEW_PIN=123456 "$B" sim set-pin >/dev/null 2>&1 && rm -f sim/lock)
(
  cd "$W/other"
  BREAKGLASS_SIM_DIR=othersim BREAKGLASS_NOW=$NOW "$B" init-ca -C "other CA" -f other-ca >/dev/null 2>&1
)
# The host name of whoever ran this becomes "host"; the hash chain is rebuilt to match.
normalize_log() {
python3 - "$1" <<'PY'
import hashlib, json, sys
prev, out = "0" * 64, []
for line in open(sys.argv[1]).read().splitlines():
    e = json.loads(line)
    e["host"], e["prev"] = "host", prev
    line = json.dumps(e, separators=(",", ":"), ensure_ascii=False)
    prev = hashlib.sha256(line.encode()).hexdigest()
    out.append(line)
open(sys.argv[1], "w").write("\n".join(out) + "\n")
PY
}
normalize_log "$W/log/audit.jsonl"
printf '{"time":"2026-11-18T10:00:00Z","operator":"x","host":"h","action":"mint","result":"ok","prev":"%s"}\nnot json\n' "$(printf '0%.0s' {1..64})" >"$W/bad-log/audit.jsonl"

# scene NAME PARTS...: the scene is the union of the parts (directories of $W, copied in order).
scene() {
  local dir="$S/$1.in"
  shift
  mkdir -p "$dir"
  find "$dir" -mindepth 1 ! -path '*.keep*' -delete
  for part in "$@"; do cp -r "$part/." "$dir/"; done
}
mkdir -p "$W/with-log" "$W/with-other" "$W/with-pubkey" "$W/other-kit"
cp "$W/log/audit.jsonl" "$W/with-log/"
cp "$W/other/other-ca.pub" "$W/with-other/"
cp "$W/ca/valid.pub" "$W/with-pubkey/emergency.pub"
cp "$W/other/other-ca.pub" "$W/other-kit/sk-user-ca.pub"
scene ca "$W/ca"
scene ca-and-log "$W/ca" "$W/with-log"
scene wrong-kit "$W/ca" "$W/other-kit"
scene other-ca "$W/ca" "$W/with-other"
scene public-key "$W/ca" "$W/with-pubkey"
scene old-openssh "$W/ca"
scene pin "$W/pin"
scene log "$W/log"
scene bad-log "$W/bad-log"

# Scenes derived from those.
json_set() { sed -i "s/\"$2\": [0-9]*/\"$2\": $3/" "$S/$1.in/sim/token.json"; }
scene pin-blocked "$W/pin" && json_set pin-blocked retries 0
scene pin-auth-blocked "$W/pin" && json_set pin-auth-blocked consecutive_wrong 3
# key-behind: the log goes on to a mint the key (its state from before that mint) never made.
mkdir -p "$W/ahead-log"
cp -r "$W/ca/." "$W/with-log/." "$W/ahead-log/"
(cd "$W/ahead-log" && BREAKGLASS_NOW=$NOW BREAKGLASS_AUDIT_LOG=audit.jsonl "$B" mint -n ubuntu -z 9 -I signed-elsewhere -f m >/dev/null 2>&1)
normalize_log "$W/ahead-log/audit.jsonl"
mkdir -p "$W/behind-log" && cp "$W/ahead-log/audit.jsonl" "$W/behind-log/"
scene key-behind "$W/ca" "$W/behind-log"
mkdir -p "$W/sim-damaged/sim" "$W/bad-krl" "$W/ca-pub"
cp "$W/ca/sk-user-ca.pub" "$W/ca-pub/"
scene host "$W/ca-pub"
printf 'not json\n' >"$W/sim-damaged/sim/token.json"
printf 'SSHKRL\n\0\0\0\0\1\0' >"$W/bad-krl/truncated.krl"
scene sim-damaged "$W/sim-damaged"
scene bad-krl "$W/bad-krl"
mkdir -p "$W/key-full/sim"
python3 - "$W/ca/sim/token.json" "$W/key-full/sim/token.json" <<'PY'
import hashlib, json, sys
st = json.load(open(sys.argv[1]))
base = st["credentials"][0]
for i in range(1, 25):  # MAX_RESIDENT in src/token/sim.rs
    c = dict(base)
    c["rp_id"] = f"ssh:full-{i}"
    c["credential_id"] = hashlib.sha256(f"full-{i}".encode()).hexdigest()
    st["credentials"].append(c)
open(sys.argv[2], "w").write(json.dumps(st, indent=2) + "\n")
PY
scene key-full "$W/key-full"
mkdir -p "$W/attested" "$W/attested-log"
(
  cd "$W/attested"
  BREAKGLASS_AUDIT_LOG="$W/attested-log/audit.jsonl" BREAKGLASS_NOW=$((NOW - 86400)) "$B" init-ca -C "attested CA" >/dev/null 2>&1
  rm -f sim/lock
)
scene sim-attested "$W/attested"
