//! What the drill expects of every host (`--ca`, `--krl`, `--alert`, `--two-person`) and the
//! verdict on one host: each column of the table and the one reason it is not ready.

use serde::{Deserialize, Serialize};
use ssh_key::{HashAlg, PublicKey};

use super::probe::{self, ProbeFault, ProbeReport};

/// What every host must show.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expect {
    /// The break-glass CAs' fingerprints (`--ca`, the signing CA first).
    pub cas: Vec<String>,
    /// `--krl`: the newest KRL.
    pub krl: Option<KrlExpect>,
    /// `--alert`: the alert rule for the CAs must be installed.
    pub alert: bool,
    /// `--two-person NAME`: the two-person account must exist.
    pub two_person: Option<String>,
    /// The drill runs against a test fleet (`BREAKGLASS_FLEET_TEST_ROOTS=1`): a probe redirected
    /// by `BREAKGLASS_PROBE_ROOT` may still show a host ready.
    #[serde(default)]
    pub test_roots: bool,
}

/// The newest KRL (`--krl`): every host must have exactly it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KrlExpect {
    /// Its version.
    #[serde(with = "crate::json_u64")]
    pub version: u64,
    /// Its SHA-256, hex.
    pub sha256: String,
}

/// How the login went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    /// The forced command ran and the probe answered.
    Probed(Vec<u8>),
    /// ssh could not connect (its last error line).
    Unreachable(String),
    /// The host key did not match (or is not known).
    HostKey(String),
    /// sshd refused the drill certificate.
    Refused,
    /// No answer within the timeout.
    Timeout(u64),
    /// ssh failed otherwise (its exit status, its last error line).
    Failed(i32, String),
}

/// One row of the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostRow {
    /// The destination, as the hosts file named it.
    pub destination: String,
    /// Every check passed.
    pub ready: bool,
    /// `ok`, `refused`, `down`, `host key`, `timeout`, `no nonce`, `error`.
    pub login: String,
    /// Expected CAs the host trusts, `N/M` (`-` when not probed).
    pub cas: String,
    /// The KRL: `vN` (`-` when not probed, `none`).
    pub krl: String,
    /// The alert rule: `ok`, `missing` (`-` when not probed or not expected).
    pub alert: String,
    /// The two-person account: `ok`, `missing`, or `-`.
    pub two_person: String,
    /// Wall time of the login and probe, seconds.
    pub seconds: f64,
    /// Why the host is not ready (`null` when it is).
    pub reason: Option<String>,
}

/// The verdict on one host.
pub fn judge(destination: String, login: &Login, nonce: &str, e: &Expect, seconds: f64) -> HostRow {
    let mut row = HostRow {
        destination,
        ready: false,
        login: String::new(),
        cas: "-".into(),
        krl: "-".into(),
        alert: "-".into(),
        two_person: "-".into(),
        seconds: (seconds * 100.0).round() / 100.0,
        reason: None,
    };
    let (login_col, reason) = match login {
        Login::Probed(out) => match probe::parse(out, nonce) {
            Ok(p) => {
                row.login = "ok".into();
                row.reason = checks(&mut row, &p, e);
                row.ready = row.reason.is_none();
                return row;
            }
            Err(ProbeFault::NoNonce) => ("no nonce", "the session did not run the drill certificate's forced command (the nonce did not come back): something other than the certificate let the login in, or a ForceCommand overrides it".to_string()),
            Err(ProbeFault::Truncated) => ("error", "the probe's output stopped before its end line".into()),
            Err(ProbeFault::Unexpected(n)) => ("error", format!("the probe's output has a line it never prints (line {n})")),
        },
        Login::Unreachable(why) => ("down", format!("cannot connect: {why}")),
        Login::HostKey(why) => ("host key", format!("the host key was not accepted: {why}")),
        Login::Refused => ("refused", "sshd refused the drill certificate: the host does not trust the CA, the login name is not an allowed principal, or its KRL revokes the certificate".into()),
        Login::Timeout(s) => ("timeout", format!("no answer within {s} seconds")),
        Login::Failed(code, why) => ("error", format!("ssh failed (exit {code}): {why}")),
    };
    row.login = login_col.into();
    row.reason = Some(reason);
    row
}

/// The fingerprint of a `TYPE BASE64` line, if it is a key.
fn fingerprint(line: &str) -> Option<String> {
    PublicKey::from_openssh(line)
        .ok()
        .map(|k| k.fingerprint(HashAlg::Sha256).to_string())
}

/// Fills the probe's columns; the first failing check is the reason.
fn checks(row: &mut HostRow, p: &ProbeReport, e: &Expect) -> Option<String> {
    let mut reasons = Vec::new();
    // What the probe read is not what sshd uses: the probe was pointed at another tree, or a
    // Match block may replace what it read.
    if let Some(root) = &p.probe_root {
        if !e.test_roots {
            reasons.push(format!(
                "the probe was redirected by BREAKGLASS_PROBE_ROOT to {root} (set in the session's environment)"
            ));
        }
    }
    let two_person = [
        e.two_person.as_deref(),
        Some(crate::ops::host_config::two_person::DEFAULT_USER),
    ];
    for (kw, criteria) in &p.match_settings {
        // host-config's own two-person block gives that account its own CAs and principals.
        let own = kw != "RevokedKeys"
            && two_person
                .iter()
                .flatten()
                .any(|u| criteria == &format!("User {u}"));
        if !own {
            reasons.push(format!(
                "a Match block (Match {criteria}) sets {kw}: check with `sshd -T -C user=LOGIN,addr=ADDR,host=HOST` what applies to the drill's login"
            ));
            break;
        }
    }
    // CAs.
    let trusted: Vec<String> = p.cas.iter().filter_map(|l| fingerprint(l)).collect();
    let missing: Vec<&String> = e.cas.iter().filter(|f| !trusted.contains(f)).collect();
    row.cas = format!("{}/{}", e.cas.len() - missing.len(), e.cas.len());
    if p.ca_unreadable {
        reasons.push(format!(
            "its TrustedUserCAKeys file {} cannot be read by the drill's login",
            p.trusted_user_ca_keys
        ));
    } else if let Some(f) = missing.first() {
        reasons.push(format!("it does not trust the CA {f}"));
    }
    // KRL.
    match (&p.krl, p.krl_unreadable) {
        (_, true) => {
            row.krl = "unreadable".into();
            reasons.push(format!(
                "its KRL {} cannot be read by the drill's login",
                p.revoked_keys
            ));
        }
        (None, false) => {
            row.krl = "none".into();
            if e.krl.is_some() {
                reasons.push("it has no RevokedKeys".into());
            }
        }
        (Some((header, digest)), false) => match probe::krl_version(header) {
            None => {
                row.krl = "not a KRL".into();
                reasons.push(format!(
                    "its RevokedKeys {} is not an OpenSSH KRL",
                    p.revoked_keys
                ));
            }
            Some(v) => {
                row.krl = format!("v{v}");
                if let Some(KrlExpect {
                    version: want,
                    sha256: want_digest,
                }) = &e.krl
                {
                    if v < *want {
                        reasons.push(format!(
                            "its KRL is version {v}, older than version {want} (--krl)"
                        ));
                    } else if v > *want {
                        reasons.push(format!("its KRL is version {v}, newer than version {want} (--krl): find out which is current"));
                    } else if !digest.eq_ignore_ascii_case(want_digest) {
                        reasons.push(format!(
                            "its KRL is version {v} like --krl but its contents differ"
                        ));
                    }
                }
            }
        },
    }
    // Alert rule.
    if e.alert {
        let ok = p
            .alerts
            .iter()
            .any(|fps| e.cas.iter().all(|c| fps.contains(c)));
        row.alert = if ok { "ok" } else { "missing" }.into();
        if !ok {
            reasons.push(match p.alert_errors.first() {
                Some(s) => format!("its alert rule's script {s} cannot be run"),
                None => "no alert rule pages for the CA (host-config --alert)".into(),
            });
        }
    }
    // Two-person account.
    if let Some(name) = &e.two_person {
        let ok = p.two_person.as_ref().is_some_and(|(n, y)| n == name && *y);
        row.two_person = if ok { "ok" } else { "missing" }.into();
        if !ok {
            reasons.push(format!("the two-person account {name} does not exist"));
        }
    }
    reasons.into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    const N: &str = "0123456789abcdef0123456789abcdef";

    fn probed(body: &str) -> Login {
        Login::Probed(format!("breakglass-probe 1 {N}\n{body}end {N}\n").into_bytes())
    }

    #[test]
    fn an_older_krl_and_a_missing_alert_are_named() {
        let ca = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ3lb1V0VdSCdtXGz8C1JDFg7q8l52PrJvB6mU7o4v9A";
        let fp = fingerprint(ca).unwrap();
        let e = Expect {
            cas: vec![fp],
            krl: Some(KrlExpect {
                version: 3,
                sha256: "aa".repeat(32),
            }),
            alert: true,
            two_person: None,
            test_roots: false,
        };
        let good = format!(
            "ca {ca}\nkrl 5353484b524c0a00000000010000000000000003 {}\nalert {}\n",
            "aa".repeat(32),
            e.cas[0]
        );
        let r = judge("h".into(), &probed(&good), N, &e, 0.123);
        assert!(r.ready, "{r:?}");
        assert_eq!(
            (r.cas.as_str(), r.krl.as_str(), r.alert.as_str()),
            ("1/1", "v3", "ok")
        );
        assert_eq!(r.seconds, 0.12);
        let old = good.replace("0000000003 ", "0000000002 ");
        let r = judge("h".into(), &probed(&old), N, &e, 0.1);
        assert_eq!(
            r.reason.as_deref(),
            Some("its KRL is version 2, older than version 3 (--krl)")
        );
        let no_alert = good
            .lines()
            .filter(|l| !l.starts_with("alert"))
            .map(|l| format!("{l}\n"))
            .collect::<String>();
        let r = judge("h".into(), &probed(&no_alert), N, &e, 0.1);
        assert_eq!(r.alert, "missing");
        assert!(!r.ready);
        let r = judge("h".into(), &Login::Probed(b"in\n".to_vec()), N, &e, 0.1);
        assert_eq!(r.login, "no nonce");
    }

    /// A probe pointed elsewhere by the session's environment, or a Match block that may
    /// replace what the probe read, keeps the host from being ready; host-config's own
    /// two-person block does not.
    #[test]
    fn a_redirected_probe_or_a_match_setting_is_not_ready() {
        let ca = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ3lb1V0VdSCdtXGz8C1JDFg7q8l52PrJvB6mU7o4v9A";
        let mut e = Expect {
            cas: vec![fingerprint(ca).unwrap()],
            two_person: Some("custody".into()),
            ..Expect::default()
        };
        let good = format!(
            "ca {ca}
two_person custody yes
"
        );
        assert!(judge("h".into(), &probed(&good), N, &e, 0.0).ready);
        let redirected = format!(
            "probe_root /tmp/fake
{good}"
        );
        let r = judge("h".into(), &probed(&redirected), N, &e, 0.0);
        assert_eq!(
            r.reason.as_deref(),
            Some("the probe was redirected by BREAKGLASS_PROBE_ROOT to /tmp/fake (set in the session's environment)")
        );
        e.test_roots = true;
        assert!(judge("h".into(), &probed(&redirected), N, &e, 0.0).ready);
        let matched = format!(
            "match_setting RevokedKeys User root
{good}"
        );
        let r = judge("h".into(), &probed(&matched), N, &e, 0.0);
        assert!(!r.ready);
        assert!(
            r.reason.as_deref().unwrap().starts_with(
                "a Match block (Match User root) sets RevokedKeys: check with `sshd -T -C user="
            ),
            "{r:?}"
        );
        for own in ["custody", "breakglass"] {
            let two = format!(
                "match_setting TrustedUserCAKeys User {own}
match_setting AuthorizedPrincipalsFile User {own}
{good}"
            );
            assert!(judge("h".into(), &probed(&two), N, &e, 0.0).ready, "{own}");
            let krl = format!(
                "match_setting RevokedKeys User {own}
{good}"
            );
            assert!(!judge("h".into(), &probed(&krl), N, &e, 0.0).ready, "{own}");
        }
    }

    /// Hostile host output: a valid report with bytes flipped, cut, or repeated, and random
    /// bytes, never panics the reader or the judge, and a host that sent it is never ready
    /// unless its output still carried every line the drill expects.
    #[test]
    fn mangled_probe_output_never_panics() {
        let ca = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ3lb1V0VdSCdtXGz8C1JDFg7q8l52PrJvB6mU7o4v9A";
        let e = Expect {
            cas: vec![fingerprint(ca).unwrap()],
            krl: Some(KrlExpect {
                version: 3,
                sha256: "aa".repeat(32),
            }),
            alert: true,
            two_person: Some("breakglass".into()),
            test_roots: false,
        };
        let good = format!(
            "breakglass-probe 1 {N}\nca {ca}\nkrl 5353484b524c0a00000000010000000000000003 {}\nalert {}\ntwo_person breakglass yes\nend {N}\n",
            "aa".repeat(32),
            e.cas[0]
        );
        assert!(
            judge(
                "h".into(),
                &Login::Probed(good.clone().into_bytes()),
                N,
                &e,
                0.0
            )
            .ready
        );
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..20_000 {
            let mut b = good.clone().into_bytes();
            match round % 4 {
                0 => {
                    let i = (next() as usize) % b.len();
                    b[i] = next() as u8;
                }
                1 => b.truncate((next() as usize) % b.len()),
                2 => {
                    let i = (next() as usize) % b.len();
                    let tail = b[i..].to_vec();
                    b.extend_from_slice(&tail);
                }
                _ => b = (0..(next() % 300)).map(|_| next() as u8).collect(),
            }
            let r = judge("h".into(), &Login::Probed(b.clone()), N, &e, 0.0);
            if r.ready {
                let text = String::from_utf8_lossy(&b);
                for want in [
                    "\nca ",
                    "\nkrl 5353484b524c0a000000000100000000000000",
                    "\nalert ",
                    "\ntwo_person breakglass yes\n",
                ] {
                    assert!(text.contains(want), "ready without {want:?}: {text:?}");
                }
            }
            let _ = super::super::hosts::parse(&String::from_utf8_lossy(&b));
        }
    }
}
