//! `status` shows a two-person pair: two valid certificates, for two keys, from two custodians'
//! CAs, sharing the account — and no pair for two certificates from one custodian.

mod common;

use common::*;

#[test]
fn status_shows_the_pair_from_two_custodians_and_not_one_from_a_single_custodian() {
    let w = World::new();
    let custodian2 = w.other_sim("custodian2");
    let c2 = [("BREAKGLASS_SIM_DIR", custodian2.to_str().unwrap())];
    w.ok(&["init-ca", "-f", "ca1"]);
    let o = w.run_env(&["init-ca", "-f", "ca2"], &c2);
    assert!(o.status.success(), "{}", err(&o));
    for k in ["k1", "k2", "k3"] {
        assert!(
            ssh_keygen(&["-t", "ed25519", "-f", k, "-N", "", "-q"], &w.work)
                .status
                .success()
        );
    }
    // Custodian 1 certifies k1, custodian 2 certifies k2 (shorter), for the same account.
    w.ok(&[
        "mint",
        "--ca",
        "ca1.pub",
        "--pubkey",
        "k1.pub",
        "-n",
        "breakglass",
        "-V",
        "-5m:+60m",
    ]);
    let o = w.run_env(
        &[
            "mint",
            "--ca",
            "ca2.pub",
            "--pubkey",
            "k2.pub",
            "-n",
            "breakglass",
            "-V",
            "-5m:+30m",
        ],
        &c2,
    );
    assert!(o.status.success(), "{}", err(&o));
    let text = w.ok(&["status"]);
    let pair: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("two-person pair"))
        .collect();
    assert_eq!(pair.len(), 1, "{text}");
    assert!(
        pair[0].starts_with(
            "two-person pair for breakglass: k1-cert.pub + k2-cert.pub (two custodian CAs), "
        ),
        "{text}"
    );
    // The pair lasts as long as its shorter certificate.
    // (30 minutes, or 29m and some seconds when a second has passed since the mint.)
    let left = pair[0].rsplit_once("CAs), ").map(|(_, l)| l).unwrap_or("");
    assert!(
        left.ends_with(" left") && (left.starts_with("30m") || left.starts_with("29m")),
        "{text}"
    );
    let j: serde_json::Value = serde_json::from_str(&w.ok(&["status", "--json"])).unwrap();
    assert_eq!(j["pairs"].as_array().unwrap().len(), 1, "{j}");

    // A third certificate from custodian 1 pairs with k2 (two CAs) but never with k1 (one CA).
    std::fs::remove_file(w.path("k2-cert.pub")).unwrap();
    w.ok(&[
        "mint",
        "--ca",
        "ca1.pub",
        "--pubkey",
        "k3.pub",
        "-n",
        "breakglass",
    ]);
    let text = w.ok(&["status"]);
    assert!(!text.contains("two-person pair"), "{text}");
}
