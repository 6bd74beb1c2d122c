//! `breakglass ca verify` beyond its pinned case files (tests/cmd/ca/): the `--json` document
//! as a program reads it.

mod common;

use std::path::Path;
use std::process::{Command, Output};

const FILES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cmd/ca/files");

fn ca_verify(dir: &Path, args: &[&str]) -> Output {
    let o = Command::new(common::bin())
        .args(["ca", "verify"])
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    eprintln!(
        "$ breakglass ca verify {}\n{}{}exit {:?}",
        args.join(" "),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
        o.status.code()
    );
    o
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).expect("one JSON document on stdout")
}

#[test]
fn the_json_document_says_the_verdict_and_what_the_attestation_states() {
    let dir = Path::new(FILES);
    let o = ca_verify(dir, &["ca.pub", "--roots", "roots", "--json"]);
    assert_eq!(o.status.code(), Some(0));
    let v = json(&o);
    assert_eq!(v["verdict"], "valid");
    assert_eq!(v["ca"], "ca.pub");
    assert_eq!(v["attestation"], serde_json::json!(["ca.attest"]));
    assert_eq!(v["report"]["kind"], "fido2");
    assert_eq!(v["report"]["key"]["matches_ca"], true);
    assert_eq!(v["report"]["firmware"]["version"], "5.7.4");
    assert_eq!(v["report"]["firmware"]["source"], "fido-certificate");
    assert_eq!(v["report"]["floor"], "5.7.0");
    assert!(v.get("error").is_none());

    // Refused by the floor: the error, and still what the attestation says.
    let o = ca_verify(
        dir,
        &[
            "piv-5ci-fw5.2.4.pub",
            "--attestation",
            "piv-5ci-fw5.2.4-slot93.der",
            "--attestation",
            "piv-5ci-fw5.2.4-f9.der",
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    assert_eq!(v["verdict"], "refused");
    assert_eq!(v["error"]["kind"], "attestation-firmware-below-floor");
    assert!(v["error"]["message"].as_str().unwrap().contains("EUCLEAK"));
    assert_eq!(v["report"]["serial"], 11778047);
    assert_eq!(v["report"]["piv"]["slot"], "93");
    assert_eq!(v["report"]["vendor"], "Yubico");

    // Not genuine: no report at all.
    let o = ca_verify(
        dir,
        &[
            "ca.pub",
            "--attestation",
            "self.attest",
            "--roots",
            "roots",
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    assert_eq!(v["error"]["kind"], "attestation-self");
    assert!(v["report"].is_null());

    // A mistyped floor is a usage error (exit 2), as one error document.
    let o = ca_verify(dir, &["ca.pub", "--min-firmware", "latest", "--json"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(json(&o)["error"]["kind"], "attestation-bad-floor");
}
