//! The simulated key as a USB FIDO2 HID device (`breakglass-sim-hid` on `/dev/uhid`) inside a
//! qemu guest: the real kernel hidraw driver, real libfido2 (OpenSSH's `ssh-keygen`,
//! `fido2-token`) and breakglass's own fido2 backend (ctap-hid-fido2 over hidapi). Each test boots
//! one guest (about 10 s under TCG) and runs one shell script there; the files it leaves in the
//! job directory are checked here. Skips with one line (`hid-guest`, tests/common/skip.rs) where
//! qemu, a kernel or busybox is missing.

mod common;
#[path = "vm/mod.rs"]
mod vm;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::bin;

/// Prints why the guest cannot run and returns true, so the test can return early. Only a
/// missing qemu, kernel or busybox skips (`hid-guest`): whether the host itself has /dev/uhid
/// does not matter here, the guest always has one (see tests/sim_hid.rs for the other direction).
#[track_caller]
fn skip() -> bool {
    common::skip::unless(&common::skip::HID_GUEST, vm::missing())
}

const PIN: &str = "vm-pin-4711";

/// Shell functions every guest job starts with:
/// * `step NAME CMD…` runs CMD with NAME.out, NAME.err and NAME.rc in the job directory;
/// * `start_key [ARGS]` starts the virtual key (touch from $TOUCH) and sets $DEV;
/// * `stop_key` sends it SIGTERM and waits;
/// * `mark TEXT` writes a marker into the key's traffic log (hid.log).
fn preamble(job: &vm::Job) -> String {
    format!(
        r##"set -u
BG={bg}
HID={hid}
PIN='{PIN}'
export BREAKGLASS_SIM_DIR=$PWD/sim BREAKGLASS_AUDIT_LOG=$PWD/audit.jsonl TZ=UTC
export BREAKGLASS_SIM_HID_TRACE=1
printf '#!/bin/sh\necho "$ASKPASS_PIN"\n' > askpass; chmod +x askpass
export SSH_ASKPASS=$PWD/askpass SSH_ASKPASS_REQUIRE=force DISPLAY=:0 ASKPASS_PIN=$PIN
step() {{ n=$1; shift; "$@" > "$n.out" 2> "$n.err"; echo $? > "$n.rc"; }}
mark() {{ echo "@@@ $*" >> hid.log; }}
start_key() {{
  rm -f hidraw.txt
  BREAKGLASS_SIM_TOUCH=${{TOUCH:-approve}} $HID --touch-delay-ms 200 "$@" > hidraw.txt 2>> hid.log &
  KEY=$!
  i=0; while [ ! -s hidraw.txt ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
  DEV=$(cat hidraw.txt)
}}
stop_key() {{ kill $KEY; wait $KEY; }}
"##,
        bg = job.carry(&bin()).display(),
        hid = job.carry(&common::built::sim_hid_program()).display(),
    )
}

/// Boots a guest, runs the preamble and `body`, and returns the job (its files) and the run.
fn guest(body: &str) -> (vm::Job, vm::GuestRun) {
    guest_with(&[], body)
}

/// [`guest`], with more programs for the job as shell variables (`NAME=path`), carried into the
/// job directory where the guest could not see them (see [`vm::Job::carry`]).
fn guest_with(programs: &[(&str, PathBuf)], body: &str) -> (vm::Job, vm::GuestRun) {
    let job = vm::Job::new();
    let mut script = preamble(&job);
    for (name, path) in programs {
        script.push_str(&format!("{name}={}\n", job.carry(path).display()));
    }
    let run = job.run(&format!("{script}{body}"), Duration::from_secs(420));
    eprintln!(
        "guest boot-to-result: {:.1} s; output:\n{}",
        run.elapsed.as_secs_f64(),
        run.output
    );
    assert_eq!(run.code, 0, "guest job failed; console:\n{}", run.console);
    (job, run)
}

fn read(job: &vm::Job, name: &str) -> String {
    std::fs::read_to_string(job.path().join(name)).unwrap_or_default()
}

/// A step's exit code, stdout and stderr.
fn step(job: &vm::Job, name: &str) -> (i32, String, String) {
    let rc = read(job, &format!("{name}.rc"));
    (
        rc.trim().parse().unwrap_or(-1),
        read(job, &format!("{name}.out")),
        read(job, &format!("{name}.err")),
    )
}

/// The `TYPE BASE64` part of a public key file.
fn key_part(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

fn fingerprint(path: &Path) -> String {
    let o = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .nth(1)
        .unwrap_or("?")
        .to_string()
}

/// The CTAPHID messages the key logged between `@@@ NAME` and the next marker.
fn traffic(job: &vm::Job, name: &str) -> Vec<String> {
    let log = read(job, "hid.log");
    let start = format!("@@@ {name}");
    log.lines()
        .skip_while(|l| *l != start)
        .skip(1)
        .take_while(|l| !l.starts_with("@@@ "))
        .filter(|l| l.starts_with("ctaphid "))
        .map(str::to_string)
        .collect()
}

#[test]
fn guest_runs_a_script_with_uhid_and_returns_its_output_and_exit_code() {
    if skip() {
        return;
    }
    let job = vm::Job::new();
    let run = job.run(
        "test -c /dev/uhid && echo uhid-present\necho kept > written.txt\nexit 7\n",
        Duration::from_secs(180),
    );
    eprintln!("guest boot-to-result: {:.1} s", run.elapsed.as_secs_f64());
    assert_eq!(
        run.code, 7,
        "output: {}\nconsole: {}",
        run.output, run.console
    );
    assert_eq!(run.output, "uhid-present\n");
    assert_eq!(read(&job, "written.txt"), "kept\n");
}

#[test]
fn a_guest_boots_from_xz_and_zstd_compressed_modules() {
    if skip() {
        return;
    }
    // A copy of the modules the guest needs, compressed as distributions ship them (every
    // other one with xz, the rest with zstd), with their own modules.dep.
    let version = vm::kernel_version().unwrap();
    let tree = tempfile::tempdir().unwrap();
    let made = Command::new("sh")
        .arg("-c")
        .arg(
            r#"set -eu
v=$1; r=$2; export PATH="$PATH:/usr/sbin:/sbin"
mkdir -p "$r/lib/modules/$v"
cp /lib/modules/"$v"/modules.builtin* /lib/modules/"$v"/modules.order "$r/lib/modules/$v/"
for m in virtio_pci 9pnet_virtio 9p uhid hid-generic; do
  modprobe -S "$v" --show-depends "$m"
done | awk '$1 == "insmod" { print $2 }' | sort -u > "$r/list"
i=0
while read -r p; do
  mkdir -p "$r$(dirname "$p")"
  i=$((i + 1))
  case $p in
    *.ko) if [ $((i % 2)) = 0 ]; then xz -c "$p" > "$r$p.xz"; else zstd -qc "$p" > "$r$p.zst"; fi ;;
    *) cp "$p" "$r$p" ;;
  esac
done < "$r/list"
depmod -b "$r" "$v"
find "$r" -name '*.ko.xz' -o -name '*.ko.zst' | sed 's/.*\.//' | sort | uniq -c"#,
        )
        .arg("sh")
        .arg(&version)
        .arg(tree.path())
        .output()
        .expect("sh runs");
    let kinds = String::from_utf8_lossy(&made.stdout);
    assert!(
        made.status.success(),
        "building the module tree (needs xz-utils, zstd, kmod): {}",
        String::from_utf8_lossy(&made.stderr)
    );
    assert!(kinds.contains(" xz") && kinds.contains(" zst"), "{kinds}");
    // Its own initramfs cache: not the one built from the host's modules.
    let cache = tempfile::tempdir().unwrap();
    let job = vm::Job::new();
    let run = job.run_with(
        "test -c /dev/uhid && echo uhid-present\n",
        Duration::from_secs(180),
        &[
            ("BREAKGLASS_VM_MODULES_ROOT", tree.path()),
            ("BREAKGLASS_VM_CACHE", cache.path()),
        ],
    );
    eprintln!("guest boot-to-result: {:.1} s", run.elapsed.as_secs_f64());
    assert_eq!(
        (run.code, run.output.as_str()),
        (0, "uhid-present\n"),
        "console: {}",
        run.console
    );
}

#[test]
fn openssh_enrols_a_resident_ca_on_the_virtual_key_and_breakglass_lists_and_mints_with_it() {
    if skip() {
        return;
    }
    let (job, _) = guest(
        r#"
start_key
step tokens fido2-token -L
step info fido2-token -I "$DEV"
printf '%s\n%s\n' "$PIN" "$PIN" | fido2-token -S "$DEV" > setpin.out 2>&1; echo $? > setpin.rc
mark enrol
printf 'breakglass vm enrolment challenge' > chal
step enrol ssh-keygen -t ecdsa-sk -O resident -O challenge=chal -O write-attestation=ca.att -f ca -N '' -C vm-ca
step team ssh-keygen -t ecdsa-sk -O resident -O application=ssh:team -f team -N '' -C team-ca
mkdir dl
mark download
(cd dl && step ../download ssh-keygen -K -N '')
mark list
step list env BREAKGLASS_PIN="$PIN" $BG --backend fido2 list
mark mint
step mint $BG --backend fido2 mint --ca ca.pub -n root -f em --reason vm-test
mark end
ssh-keygen -q -t ed25519 -f hostkey -N ''
cat > sshd_config <<CFG
Port 2222
ListenAddress 127.0.0.1
HostKey $PWD/hostkey
PidFile none
AuthorizedKeysFile none
TrustedUserCAKeys $PWD/ca.pub
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
CFG
/usr/sbin/sshd -f $PWD/sshd_config -D -e 2> sshd.log &
SSHD=$!
i=0; while ! grep -q 'Server listening' sshd.log && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
step login ssh -i em -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no \
  -o UserKnownHostsFile=/dev/null -p 2222 root@127.0.0.1 'echo logged-in-as-$(id -un)'
kill $SSHD
stop_key
"#,
    );
    let dev = read(&job, "hidraw.txt").trim().to_string();
    assert!(dev.starts_with("/dev/hidraw"), "{dev:?}");
    let (rc, out, _) = step(&job, "tokens");
    assert_eq!(rc, 0);
    assert!(
        out.contains(&format!("{dev}: vendor=0x1209, product=0x0001")),
        "{out}"
    );
    let (rc, out, _) = step(&job, "info");
    assert_eq!(rc, 0);
    assert!(out.contains("version strings: FIDO_2_0, FIDO_2_1"), "{out}");
    assert!(out.contains("pin protocols: 2, 1"), "{out}");
    assert!(out.contains("credMgmt"), "{out}");
    assert_eq!(
        read(&job, "setpin.rc").trim(),
        "0",
        "{}",
        read(&job, "setpin.out")
    );

    let (rc, _, err) = step(&job, "enrol");
    assert_eq!(rc, 0, "{err}");
    let ca = job.path().join("ca.pub");
    assert!(key_part(&ca).starts_with("sk-ecdsa-sha2-nistp256@openssh.com "));
    // OpenSSH's own attestation file (libfido2 checked the batch signature at enrolment):
    // breakglass verifies it with the challenge and the test root; one flipped challenge byte
    // fails (#24 item 5).
    let roots = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/attest/roots");
    let verify = |challenge: &str| {
        Command::new(bin())
            .args([
                "ca",
                "verify",
                "ca.pub",
                "--attestation",
                "ca.att",
                "--challenge",
            ])
            .arg(challenge)
            .args(["--roots", roots])
            .current_dir(job.path())
            .output()
            .unwrap()
    };
    let o = verify("chal");
    let out = String::from_utf8_lossy(&o.stdout);
    eprintln!("{out}");
    assert_eq!(o.status.code(), Some(0), "{}", common::err(&o));
    assert!(
        out.starts_with("ca.att: VALID attestation of the CA ca.pub\n"),
        "{out}"
    );
    assert!(
        out.contains("ssh-keygen attestation (ssh-sk-attest-v01)"),
        "{out}"
    );
    let mut flipped = std::fs::read(job.path().join("chal")).unwrap();
    flipped[0] ^= 1;
    std::fs::write(job.path().join("flipped"), flipped).unwrap();
    let o = verify("flipped");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        common::err(&o).contains("does not verify with this challenge"),
        "{}",
        common::err(&o)
    );
    let (rc, out, err) = step(&job, "download");
    assert_eq!(rc, 0, "{out}{err}");
    assert_eq!(
        key_part(&job.path().join("dl/id_ecdsa_sk_rk.pub")),
        key_part(&ca),
        "ssh-keygen -K downloads the credential ssh-keygen enrolled"
    );

    let fp = fingerprint(&ca);
    let (rc, out, err) = step(&job, "list");
    assert_eq!(rc, 0, "{err}");
    assert!(out.contains("(SIMULATED)"), "{out}");
    assert!(out.contains(&format!("ECDSA-SK {fp}")), "{out}");
    assert!(out.contains("PIN tries left 8"), "{out}");
    // Every ssh: CA on the key, as ssh-keygen -K finds them (credentialManagement
    // enumerateRPs through ctap-hid-fido2), not only the default application's.
    let (rc, _, err) = step(&job, "team");
    assert_eq!(rc, 0, "{err}");
    let team = fingerprint(&job.path().join("team.pub"));
    assert!(out.contains(&format!("    ssh:  ECDSA-SK {fp}")), "{out}");
    assert!(
        out.contains(&format!(
            "    ssh:team  ECDSA-SK {team}  (not ./sk-user-ca.pub)  no attestation at hand"
        )) || out.contains(&format!(
            "    ssh:team  ECDSA-SK {team}  no attestation at hand"
        )),
        "{out}"
    );

    let (rc, out, err) = step(&job, "mint");
    assert_eq!(rc, 0, "{err}");
    assert!(out.contains("Minted em-cert.pub"), "{out}");
    let l = Command::new("ssh-keygen")
        .arg("-Lf")
        .arg(job.path().join("em-cert.pub"))
        .output()
        .unwrap();
    let l = String::from_utf8_lossy(&l.stdout);
    assert!(l.contains(&format!("Signing CA: ECDSA-SK {fp}")), "{l}");
    let (rc, out, err) = step(&job, "login");
    assert_eq!(
        (rc, out.trim()),
        (0, "logged-in-as-root"),
        "{err}\n{}",
        read(&job, "sshd.log")
    );

    let mint = traffic(&job, "mint");
    let requests = mint.iter().filter(|l| l.starts_with("ctaphid > ")).count();
    let keepalives = mint.iter().filter(|l| l.contains("KEEPALIVE")).count();
    eprintln!("CTAPHID per mint (ctap-hid-fido2): {requests} requests, {keepalives} keep-alives");
    eprintln!("{}", mint.join("\n"));
    assert!(keepalives >= 1, "the touch wait sent keep-alives");
    for step in ["enrol", "download", "list"] {
        eprintln!("--- {step}\n{}", traffic(&job, step).join("\n"));
    }
}

/// Sets the PIN with libfido2's `fido2-token -S` (the tool reads it from stdin without a tty).
const SET_PIN: &str = r#"printf '%s\n%s\n' "$PIN" "$PIN" | fido2-token -S "$DEV" > setpin.out 2>&1; echo $? > setpin.rc
"#;

#[test]
fn breakglass_init_ca_over_hid_then_ssh_keygen_signs_with_it_and_inspect_verifies() {
    if skip() {
        return;
    }
    let (job, _) = guest(&format!(
        r#"
start_key
step nopin $BG --backend fido2 init-ca -f early-ca
{SET_PIN}
mark initca
step initca env BREAKGLASS_PIN="$PIN" $BG --backend fido2 init-ca -f sk-user-ca -C vm-ca
mark end
ssh-keygen -q -t ed25519 -f user -N ''
mark sign
step sign ssh-keygen -s sk-user-ca -I vm-user -n root -V -5m:+1h user.pub
mark end
step inspect $BG inspect --ca sk-user-ca.pub user-cert.pub
stop_key
"#
    ));
    let (rc, _, err) = step(&job, "nopin");
    assert_eq!(rc, 1);
    assert_eq!(
        err,
        "breakglass: the key has no PIN set.\nSet a PIN on the key first.\n"
    );
    assert!(!job.path().join("early-ca").exists() && !job.path().join("early-ca.pub").exists());
    assert_eq!(
        read(&job, "setpin.rc").trim(),
        "0",
        "{}",
        read(&job, "setpin.out")
    );
    let (rc, out, err) = step(&job, "initca");
    assert_eq!(rc, 0, "{err}");
    assert!(
        out.contains("Created SSH user CA on breakglass virtual FIDO2 key"),
        "{out}"
    );
    let ca = job.path().join("sk-user-ca.pub");
    let fp = fingerprint(&ca);
    assert!(out.contains(&format!("fingerprint: {fp}")), "{out}");
    // The makeCredential attestation came through ctap-hid-fido2 whole (x5c, sig, authData)
    // and is kept with its challenge as sk-user-ca.attest: valid under the test root only.
    assert!(
        out.contains("  attestation: sk-user-ca.attest (FIDO2, breakglass test (not a built-in vendor root): breakglass simulated key (SIMULATED), firmware 5.7.4 (from"),
        "{out}"
    );
    let roots = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/attest/roots");
    let verify = |extra: &[&str]| {
        std::process::Command::new(bin())
            .arg("ca")
            .arg("verify")
            .arg(&ca)
            .args(extra)
            .output()
            .unwrap()
    };
    let o = verify(&["--roots", roots]);
    let said = String::from_utf8_lossy(&o.stdout);
    eprintln!("{said}");
    assert!(
        o.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(said.contains("VALID attestation of the CA"), "{said}");
    assert!(
        said.contains("firmware        5.7.4 (from the attestation certificate"),
        "{said}"
    );
    let o = verify(&[]);
    assert_eq!(o.status.code(), Some(1));
    let (rc, _, err) = step(&job, "sign");
    assert_eq!(rc, 0, "ssh-keygen -s through libfido2: {err}");
    assert!(err.contains("Signed user key user-cert.pub"), "{err}");
    let (rc, out, err) = step(&job, "inspect");
    assert_eq!(rc, 0, "{out}{err}");
    assert!(out.contains(&format!("ECDSA-SK {fp}")), "{out}");
    assert!(out.contains("vm-user"), "{out}");
    // What each stack sent for its signature: ssh-keygen -s is libfido2, init-ca is
    // ctap-hid-fido2.
    for s in ["initca", "sign"] {
        eprintln!("--- {s}\n{}", traffic(&job, s).join("\n"));
    }
}

#[test]
fn wrong_pins_count_down_through_both_stacks_and_block_until_the_virtual_key_is_replugged() {
    if skip() {
        return;
    }
    let (job, _) = guest(&format!(
        r#"
start_key
{SET_PIN}
step initca env BREAKGLASS_PIN="$PIN" $BG --backend fido2 init-ca -f sk-user-ca
step wrong1 env BREAKGLASS_PIN=wrong-pin-1 $BG --backend fido2 list
ASKPASS_PIN=wrong-pin-2 step wrong2 ssh-keygen -K
step wrong3 env BREAKGLASS_PIN=wrong-pin-3 $BG --backend fido2 list
step blocked env BREAKGLASS_PIN="$PIN" $BG --backend fido2 list
echo "$PIN" | fido2-token -I -c "$DEV" > blocked_fido2.out 2>&1; echo $? > blocked_fido2.rc
stop_key
start_key
step replugged env BREAKGLASS_PIN="$PIN" $BG --backend fido2 list
step vr env BREAKGLASS_PIN="$PIN" $BG --backend fido2 init-ca -f vr-ca --verify-required --application ssh:vr
step vr_nopin $BG --backend fido2 mint --ca vr-ca.pub -n root -f nopin-em
step vr_wrong env BREAKGLASS_PIN=wrong-pin-4 $BG --backend fido2 mint --ca vr-ca.pub -n root -f wrong-em
step vr_mint env BREAKGLASS_PIN="$PIN" $BG --backend fido2 mint --ca vr-ca.pub -n root -f vr-em
ssh-keygen -q -t ed25519 -f user -N ''
step vr_sign ssh-keygen -s vr-ca -I vr-user -n root user.pub
step inspect $BG inspect --ca vr-ca.pub vr-em-cert.pub user-cert.pub
stop_key
ls > files.txt
"#
    ));
    assert_eq!(step(&job, "initca").0, 0, "{}", step(&job, "initca").2);
    let key = "breakglass virtual FIDO2 key";
    let (rc, out, err) = step(&job, "wrong1");
    assert_eq!(rc, 0, "list reports per key and goes on");
    assert!(
        out.contains(key) && out.contains("PIN tries left 8"),
        "{out}"
    );
    assert!(
        err.contains("cannot list its CAs: wrong PIN; 7 tries left before the key locks its PIN"),
        "{err}"
    );
    let (rc, _, err) = step(&job, "wrong2");
    assert_ne!(rc, 0);
    assert!(
        err.contains("incorrect passphrase supplied"),
        "libfido2 saw PIN_INVALID: {err}"
    );
    let (_, out, err) = step(&job, "wrong3");
    assert!(out.contains("PIN tries left 6"), "{out}");
    let blocked = "cannot list its CAs: three wrong PINs in a row; the key accepts no more PIN \
                   attempts until it is re-inserted";
    assert!(err.contains(blocked), "{err}");
    let (_, _, err) = step(&job, "blocked");
    assert!(err.contains(blocked), "even the right PIN: {err}");
    assert_eq!(read(&job, "blocked_fido2.rc").trim(), "1");
    assert!(
        read(&job, "blocked_fido2.out").contains("FIDO_ERR_PIN_AUTH_BLOCKED"),
        "{}",
        read(&job, "blocked_fido2.out")
    );
    let (rc, out, err) = step(&job, "replugged");
    assert_eq!(rc, 0, "{err}");
    assert!(out.contains("PIN tries left 5"), "{out}");
    let fp = fingerprint(&job.path().join("sk-user-ca.pub"));
    assert!(out.contains(&format!("ECDSA-SK {fp}")), "{out}");
    assert!(!err.contains("cannot list"), "{err}");

    assert_eq!(step(&job, "vr").0, 0, "{}", step(&job, "vr").2);
    let (rc, _, err) = step(&job, "vr_nopin");
    assert_eq!(rc, 1);
    assert_eq!(
        err,
        "breakglass: the key needs its PIN, and there is no terminal to ask for it.\nRun the \
         command in a terminal to type the PIN, or set BREAKGLASS_PIN for unattended use.\n"
    );
    let (rc, _, err) = step(&job, "vr_wrong");
    assert_eq!(rc, 1);
    assert!(
        // The PIN is checked (and refused) before any touch is asked for.
        err.starts_with("breakglass: wrong PIN; 7 tries left before the key locks its PIN.\n"),
        "{err}"
    );
    let files = read(&job, "files.txt");
    assert!(
        !files.contains("nopin-em") && !files.contains("wrong-em"),
        "{files}"
    );
    let (rc, _, err) = step(&job, "vr_mint");
    assert_eq!(rc, 0, "{err}");
    let (rc, _, err) = step(&job, "vr_sign");
    assert_eq!(
        rc, 0,
        "ssh-keygen -s with a verify-required key (PIN via askpass): {err}"
    );
    let (rc, out, err) = step(&job, "inspect");
    assert_eq!(rc, 0, "{out}{err}");
}

#[test]
fn denied_and_timed_out_touches_and_a_removed_key_leave_no_files() {
    if skip() {
        return;
    }
    let (job, _) = guest(&format!(
        r#"
start_key
{SET_PIN}
step initca env BREAKGLASS_PIN="$PIN" $BG --backend fido2 init-ca -f sk-user-ca
stop_key
TOUCH=deny start_key
mark deny_mint
step deny_mint $BG --backend fido2 mint --ca sk-user-ca.pub -n root -f d-em
mark deny_enrol
step deny_enrol ssh-keygen -t ecdsa-sk -f d-key -N ''
mark end
stop_key
TOUCH=timeout start_key --touch-timeout-ms 3000
mark timeout_mint
step timeout_mint $BG --backend fido2 mint --ca sk-user-ca.pub -n root -f t-em
mark timeout_enrol
step timeout_enrol ssh-keygen -t ecdsa-sk -f t-key -N ''
mark end
stop_key
TOUCH=timeout start_key --touch-timeout-ms 120000
$BG --backend fido2 mint --ca sk-user-ca.pub -n root -f k-em > killed.out 2> killed.err &
M=$!
sleep 4; kill $KEY; wait $KEY; wait $M; echo $? > killed.rc
ls > files.txt
"#
    ));
    assert_eq!(step(&job, "initca").0, 0, "{}", step(&job, "initca").2);
    let (rc, _, err) = step(&job, "deny_mint");
    assert_eq!(rc, 1);
    assert!(
        err.contains("\nbreakglass: the key refused the operation (touch declined).\n"),
        "{err}"
    );
    let (rc, _, err) = step(&job, "deny_enrol");
    assert_ne!(rc, 0);
    // OpenSSH maps OPERATION_DENIED to "PIN required" (sk-usbhid.c fidoerr_to_skerr), as it
    // does for a real key.
    assert!(err.contains("PIN incorrect"), "{err}");
    let (rc, _, err) = step(&job, "timeout_mint");
    assert_eq!(rc, 1);
    assert!(
        err.contains("\nbreakglass: the key was not touched in time.\n"),
        "{err}"
    );
    let (rc, _, err) = step(&job, "timeout_enrol");
    assert_ne!(rc, 0);
    assert!(err.contains("Key enrollment failed"), "{err}");
    for (name, min) in [
        ("deny_mint", 1),
        ("deny_enrol", 1),
        ("timeout_mint", 20),
        ("timeout_enrol", 20),
    ] {
        let t = traffic(&job, name);
        let keepalives = t
            .iter()
            .filter(|l| l.contains("KEEPALIVE 1 bytes 2"))
            .count();
        assert!(
            keepalives >= min,
            "{name}: {keepalives} UPNEEDED keep-alives\n{}",
            t.join("\n")
        );
    }
    let (rc, _, err) = (
        read(&job, "killed.rc").trim().parse::<i32>().unwrap_or(-1),
        (),
        read(&job, "killed.err"),
    );
    eprintln!("key removed mid-mint: rc {rc}\n{err}");
    assert_eq!(rc, 1, "{err}");
    assert!(
        err.contains(
            "\nbreakglass: no FIDO2 key found.\nThe key stopped answering (read err = 0xFE). \
             Re-insert it and run the command again.\n"
        ),
        "{err}"
    );
    let files = read(&job, "files.txt");
    for f in ["d-em", "d-key", "t-em", "t-key", "k-em"] {
        assert!(
            !files.lines().any(|l| l.starts_with(f)),
            "{f}* must not exist: {files}"
        );
    }
}

/// The `hw` test binary (hw-tests/hw.rs), built on demand; its path from cargo's JSON messages.
fn hw_test_binary() -> PathBuf {
    let o = Command::new(env!("CARGO"))
        .args(["test", "--test", "hw", "--no-run", "--message-format=json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo test --no-run");
    assert!(o.status.success(), "building the hw test failed");
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["target"]["name"] == "hw")
        .find_map(|v| v["executable"].as_str().map(PathBuf::from))
        .expect("cargo names the hw test executable")
}

#[test]
fn hw_tests_pass_unchanged_against_the_virtual_key() {
    if skip() {
        return;
    }
    let hw = hw_test_binary();
    let (job, _) = guest_with(
        &[("HW", hw)],
        &format!(
            r#"
start_key
{SET_PIN}
step hw env BREAKGLASS_HW=1 BREAKGLASS_PIN="$PIN" $HW
stop_key
"#
        ),
    );
    let (rc, out, err) = step(&job, "hw");
    assert_eq!(rc, 0, "{out}\n{err}");
    assert!(
        out.starts_with("ok: hardware test passed on breakglass virtual FIDO2 key"),
        "{out}"
    );
    assert!(err.contains("fido2-token lists it too"), "{err}");
}

#[test]
fn sim_hid_serves_until_sigterm_and_the_drill_runs_through_a_virtual_key_it_unplugs() {
    if skip() {
        return;
    }
    let (job, _) = guest(
        r#"
$BG sim hid --touch-delay-ms 100 > simhid.out 2> simhid.err &
P=$!
i=0; while [ ! -s simhid.out ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
step tokens fido2-token -L
kill -TERM $P; wait $P; echo $? > simhid.rc
ls /sys/class/hidraw > after_simhid.txt
step drill $BG drill --backend fido2-virtual
ls /sys/class/hidraw > after_drill.txt
step denied setpriv --reuid=65534 --regid=65534 --clear-groups $BG drill --backend fido2-virtual
"#,
    );
    // `sim hid`: the pid the script holds is the key; SIGTERM unplugs it cleanly.
    let dev = read(&job, "simhid.out").trim().to_string();
    assert!(dev.starts_with("/dev/hidraw"), "{dev:?}");
    let (rc, out, err) = step(&job, "tokens");
    assert_eq!(rc, 0, "{err}");
    assert!(
        out.contains(&format!("{dev}: vendor=0x1209, product=0x0001")),
        "{out}"
    );
    assert_eq!(read(&job, "simhid.rc").trim(), "0");
    assert!(
        read(&job, "simhid.err").contains("virtual FIDO2 key removed; "),
        "{}",
        read(&job, "simhid.err")
    );
    assert_eq!(read(&job, "after_simhid.txt"), "", "the device is gone");

    let (rc, out, err) = step(&job, "drill");
    eprintln!("{out}");
    assert_eq!(rc, 0, "{out}\n{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].contains("--backend fido2") && lines[0].contains("SIMULATED"),
        "{out}"
    );
    let passed = |name: &str| {
        lines
            .iter()
            .find(|l| l.contains("[PASS]") && l.contains(name))
            .copied()
            .unwrap_or_else(|| panic!("no PASS step {name:?}:\n{out}"))
    };
    let plug = passed("plug in a virtual FIDO2 key (SIMULATED)");
    assert!(
        plug.contains("SIM-") && plug.contains(" on /dev/hidraw"),
        "{plug}"
    );
    assert!(passed("init-ca on the virtual key via /dev/hidraw").contains("Created SSH user CA"));
    passed("mint a 10-minute certificate for root");
    passed("inspect: CA signature verified");
    passed("ssh-keygen -L parses it (sk CA)");
    passed("start a throwaway sshd on 127.0.0.1");
    passed("ssh -i emergency root@127.0.0.1");
    passed("a wrong principal is refused");
    let unplug = passed("unplug the virtual FIDO2 key");
    let requests: u32 = unplug
        .split_whitespace()
        .zip(unplug.split_whitespace().skip(1))
        .find(|(_, w)| w.starts_with("requests"))
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or(0);
    eprintln!("drill over HID: {unplug}");
    assert!(
        requests >= 6,
        "init-ca and two mints went to the key: {unplug}"
    );
    assert!(lines.last().unwrap().starts_with("PASS in "), "{out}");
    assert!(!out.contains("FAIL") && !out.contains("SKIP"), "{out}");
    assert_eq!(
        read(&job, "after_drill.txt"),
        "",
        "the drill unplugged its key"
    );

    // A user who may not open /dev/uhid (the guest has no udev rule for it) is told so.
    let (rc, out, err) = step(&job, "denied");
    assert_eq!((rc, out.as_str()), (1, ""), "{err}");
    assert_eq!(
        err,
        "breakglass: /dev/uhid exists but this user may not open it, so the drill cannot plug in \
         a virtual FIDO2 key.\nRun the drill as root (sudo), or give your user read and write \
         access to /dev/uhid with a udev rule.\n"
    );
}
