//! The probe: one read-only shell script (`deploy/probe/breakglass-probe.sh`, shipped inside the
//! binary and in the Ansible playbook's directory) that the drill certificate carries as its
//! forced command, and the strict reader of what it prints. A host's output is hostile: it is
//! read only up to [`MAX_OUTPUT`] bytes, every line must be one of the probe's own, and nothing
//! from it is printed unsanitised (the printer sanitises).

use serde::{Deserialize, Serialize};

/// The script, as shipped.
pub const SCRIPT: &str = include_str!("../../../deploy/probe/breakglass-probe.sh");
/// Most bytes of probe output read from one host.
pub const MAX_OUTPUT: usize = 64 * 1024;
/// Most CA lines kept.
const MAX_CAS: usize = 64;

/// The certificate's forced command: the nonce and the two-person account's name, then the
/// script without its comments and indentation (it travels in the certificate, and sshd logs it
/// with every drill login). `nonce` is hex; `two_person` a checked account name.
pub fn force_command(nonce: &str, two_person: Option<&str>) -> String {
    let mut c = format!(
        "BG_NONCE={nonce} BG_TWO_PERSON={}; export BG_NONCE BG_TWO_PERSON\n",
        two_person.unwrap_or("")
    );
    for line in SCRIPT.lines().map(str::trim_start) {
        if !line.is_empty() && !line.starts_with('#') {
            c.push_str(line);
            c.push('\n');
        }
    }
    c
}

/// A fresh nonce: 16 random bytes, hex.
pub fn nonce() -> crate::Result<String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(crate::error::randomness)?;
    Ok(crate::hex::encode(&b))
}

/// The keywords the probe reports when a Match block sets them.
pub const MATCH_KEYWORDS: &[&str] = &[
    "TrustedUserCAKeys",
    "RevokedKeys",
    "AuthorizedPrincipalsFile",
];

/// What the probe saw on one host.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeReport {
    /// The main sshd configuration it read.
    pub sshd_config: String,
    /// sshd's TrustedUserCAKeys (`none` when unset).
    pub trusted_user_ca_keys: String,
    /// The CA lines of that file, `TYPE BASE64`.
    pub cas: Vec<String>,
    /// The CA file could not be read.
    pub ca_unreadable: bool,
    /// sshd's RevokedKeys (`none` when unset).
    pub revoked_keys: String,
    /// The KRL's first 20 bytes (hex) and its SHA-256 (hex).
    pub krl: Option<(String, String)>,
    /// The KRL could not be read.
    pub krl_unreadable: bool,
    /// The CA fingerprints of each installed alert rule's script.
    pub alerts: Vec<Vec<String>>,
    /// Alert rules whose script cannot be run.
    pub alert_errors: Vec<String>,
    /// The two-person account, and whether it exists.
    pub two_person: Option<(String, bool)>,
    /// `BREAKGLASS_PROBE_ROOT` redirected the probe to this tree.
    pub probe_root: Option<String>,
    /// Settings the drill depends on made inside a Match block: the keyword
    /// (`TrustedUserCAKeys`, `RevokedKeys`, `AuthorizedPrincipalsFile`) and the block's criteria.
    pub match_settings: Vec<(String, String)>,
}

/// Why the output is not a probe report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeFault {
    /// The first line is not the probe's with this drill's nonce: the certificate's forced
    /// command did not run.
    NoNonce,
    /// The output stops before its `end` line.
    Truncated,
    /// A line the probe never prints (its number).
    Unexpected(usize),
}

/// Reads the probe's output strictly.
pub fn parse(out: &[u8], nonce: &str) -> Result<ProbeReport, ProbeFault> {
    let text = String::from_utf8_lossy(&out[..out.len().min(MAX_OUTPUT)]);
    let mut lines = text.lines().map(|l| l.strip_suffix('\r').unwrap_or(l));
    if lines.next() != Some(&format!("breakglass-probe 1 {nonce}")) {
        return Err(ProbeFault::NoNonce);
    }
    let mut r = ProbeReport::default();
    let end = format!("end {nonce}");
    for (i, l) in lines.enumerate() {
        if l == end {
            return Ok(r);
        }
        let bad = || ProbeFault::Unexpected(i + 2);
        let (key, rest) = l.split_once(' ').unwrap_or((l, ""));
        match key {
            "sshd_config" => r.sshd_config = rest.into(),
            "probe_root" => r.probe_root = Some(rest.into()),
            "match_setting" => {
                let (kw, criteria) = rest.split_once(' ').unwrap_or((rest, ""));
                if !MATCH_KEYWORDS.contains(&kw) {
                    return Err(bad());
                }
                if r.match_settings.len() < 16 {
                    r.match_settings.push((kw.into(), criteria.into()));
                }
            }
            "trusted_user_ca_keys" => r.trusted_user_ca_keys = rest.into(),
            "ca" if r.cas.len() < MAX_CAS => r.cas.push(rest.into()),
            "ca" => {}
            "ca_error" => r.ca_unreadable = true,
            "revoked_keys" => r.revoked_keys = rest.into(),
            "krl" => {
                let (h, d) = rest.split_once(' ').ok_or_else(bad)?;
                if !is_hex(h, 40) || !is_hex(d, 64) {
                    return Err(bad());
                }
                r.krl = Some((h.into(), d.into()));
            }
            "krl_error" => r.krl_unreadable = true,
            "alert" if r.alerts.len() < 16 => r.alerts.push(
                rest.split_whitespace()
                    .take(MAX_CAS)
                    .map(str::to_string)
                    .collect(),
            ),
            "alert_error" if r.alert_errors.len() < 16 => r.alert_errors.push(rest.into()),
            "alert" | "alert_error" => {}
            "two_person" => {
                let (name, yes) = rest.rsplit_once(' ').ok_or_else(bad)?;
                let found = match yes {
                    "yes" => true,
                    "no" => false,
                    _ => return Err(bad()),
                };
                r.two_person = Some((name.into(), found));
            }
            _ => return Err(bad()),
        }
    }
    Err(ProbeFault::Truncated)
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A KRL header (`od` of the first 20 bytes): its version, when the magic and format are
/// OpenSSH's (`SSHKRL\n\0`, format 1).
pub fn krl_version(header_hex: &str) -> Option<u64> {
    if !header_hex.starts_with("5353484b524c0a0000000001") || header_hex.len() != 40 {
        return None;
    }
    u64::from_str_radix(&header_hex[24..40], 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const N: &str = "00112233445566778899aabbccddeeff";

    #[test]
    fn a_full_report_reads_back() {
        let out = format!(
            "breakglass-probe 1 {N}\nsshd_config /etc/ssh/sshd_config\ntrusted_user_ca_keys /etc/ssh/ca.pub\nca ssh-ed25519 AAAA\nrevoked_keys /etc/ssh/k.krl\nkrl 5353484b524c0a00000000010000000000000003 {}\nalert SHA256:a SHA256:b\ntwo_person breakglass yes\nend {N}\n",
            "ab".repeat(32)
        );
        let r = parse(out.as_bytes(), N).unwrap();
        assert_eq!(r.cas, ["ssh-ed25519 AAAA"]);
        assert_eq!(krl_version(&r.krl.as_ref().unwrap().0), Some(3));
        assert_eq!(r.alerts, [vec!["SHA256:a".to_string(), "SHA256:b".into()]]);
        assert_eq!(r.two_person, Some(("breakglass".into(), true)));
    }

    #[test]
    fn hostile_or_partial_output_is_refused() {
        assert_eq!(parse(b"hello\n", N), Err(ProbeFault::NoNonce));
        assert_eq!(
            parse(format!("breakglass-probe 1 {N}x\n").as_bytes(), N),
            Err(ProbeFault::NoNonce)
        );
        assert_eq!(
            parse(format!("breakglass-probe 1 {N}\nca a b\n").as_bytes(), N),
            Err(ProbeFault::Truncated)
        );
        assert_eq!(
            parse(
                format!("breakglass-probe 1 {N}\n\x1b[2Jrm -rf\nend {N}\n").as_bytes(),
                N
            ),
            Err(ProbeFault::Unexpected(2))
        );
        assert_eq!(
            parse(
                format!("breakglass-probe 1 {N}\nkrl zz zz\nend {N}\n").as_bytes(),
                N
            ),
            Err(ProbeFault::Unexpected(2))
        );
        let mut long = format!("breakglass-probe 1 {N}\n").into_bytes();
        for _ in 0..MAX_OUTPUT {
            long.extend(b"ca a b\n");
        }
        long.extend(format!("end {N}\n").as_bytes());
        assert_eq!(parse(&long, N), Err(ProbeFault::Truncated));
        assert_eq!(krl_version("00"), None);
    }

    /// The probe, as the certificate carries it (compacted) and as shipped, reads sshd's first
    /// value outside Match blocks through Includes (relative, globbed, `Keyword=value`, quoted,
    /// CRLF), the CA lines, the KRL's header and digest, and the alert rule's CAs.
    #[test]
    fn the_probe_reads_what_sshd_would_use() {
        use std::process::Command;
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        let ssh = r.join("etc/ssh");
        std::fs::create_dir_all(ssh.join("sshd_config.d")).unwrap();
        std::fs::create_dir_all(r.join("etc/rsyslog.d")).unwrap();
        let p = |n: &str| r.join(n).display().to_string();
        std::fs::write(
            ssh.join("sshd_config"),
            format!(
                "# main\r\nInclude sshd_config.d/*.conf\r\nTrustedUserCAKeys {}\nRevokedKeys=/nowhere\n",
                p("late.pub")
            ),
        )
        .unwrap();
        std::fs::write(
            ssh.join("sshd_config.d/10-match.conf"),
            format!("Match User x\n  TrustedUserCAKeys {}\n", p("match.pub")),
        )
        .unwrap();
        std::fs::write(
            ssh.join("sshd_config.d/20-ca.conf"),
            format!(
                "trustedusercakeys = \"{}\"\nrevokedkeys {}\n",
                p("ca file.pub"),
                p("k.krl")
            ),
        )
        .unwrap();
        std::fs::write(
            r.join("ca file.pub"),
            "# CAs\nssh-ed25519 AAAA one\r\n\nssh-rsa BBBB\n",
        )
        .unwrap();
        let mut krl = b"SSHKRL\n\0\0\0\0\x01\0\0\0\0\0\0\0\x07".to_vec();
        krl.extend_from_slice(&[0; 20]);
        std::fs::write(r.join("k.krl"), &krl).unwrap();
        let script = r.join("alert.sh");
        std::fs::write(&script, "#!/bin/sh\nCA_FINGERPRINTS='SHA256:a SHA256:b'\n").unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        std::fs::write(
            r.join("etc/rsyslog.d/30-breakglass-alert.conf"),
            format!(
                "  action(type=\"omprog\" name=\"breakglass_alert\" binary=\"{}\" template=\"x\")\n",
                script.display()
            ),
        )
        .unwrap();
        // A FIFO where a rule would be: skipped, never waited on (`timeout` ends a probe that
        // would block on it).
        let fifo = r.join("etc/rsyslog.d/40-fifo.conf");
        assert!(Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let run = |args: &[&str]| {
            let o = Command::new("timeout")
                .arg("20")
                .arg("sh")
                .args(args)
                .env("BREAKGLASS_PROBE_ROOT", r)
                .env("BG_NONCE", "n1")
                .env("BG_TWO_PERSON", "")
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            o.stdout
        };
        let full = run(&["-c", SCRIPT]);
        let compact = run(&["-c", &force_command("n1", None)]);
        assert_eq!(
            String::from_utf8_lossy(&full),
            String::from_utf8_lossy(&compact)
        );
        let rep = parse(&compact, "n1").unwrap();
        assert_eq!(rep.trusted_user_ca_keys, p("ca file.pub"));
        assert_eq!(rep.cas, ["ssh-ed25519 AAAA", "ssh-rsa BBBB"]);
        assert_eq!(rep.revoked_keys, p("k.krl"));
        assert_eq!(krl_version(&rep.krl.as_ref().unwrap().0), Some(7));
        assert_eq!(
            rep.alerts,
            [vec!["SHA256:a".to_string(), "SHA256:b".into()]]
        );
        assert!(force_command("n1", None).len() < SCRIPT.len());
        // What it cannot follow it reports: the Match block's setting and the redirection.
        assert_eq!(
            rep.match_settings,
            [("TrustedUserCAKeys".to_string(), "User x".to_string())]
        );
        assert_eq!(rep.probe_root.as_deref(), Some(r.to_str().unwrap()));
    }
}
