//! `host-config --cloud-init`: the same files as a `#cloud-config` document for new VMs:
//! `write_files` (text as block scalars, anything else base64), then `runcmd` creates the
//! `--two-person` account if there is one, checks the configuration with `sshd -t` and reloads
//! sshd (and restarts rsyslog for `--alert`).
//!
//! cloud-init's `write_files` replaces a file that exists; on a new VM nothing is there yet, which
//! is what this document is for. Existing hosts get the files through deploy/ansible, which
//! never replaces a KRL.

use super::attestation::{Status, Verdict};
use super::{FileKind, HostFile};

/// A YAML double-quoted scalar (JSON strings are valid YAML).
fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn is_plain_text(b: &[u8]) -> bool {
    std::str::from_utf8(b).is_ok_and(|s| {
        s.ends_with('\n')
            && s.chars().all(|c| c == '\n' || !c.is_control())
            && !s.contains("\n\n\n")
    })
}

/// The `#cloud-config` document that writes `files` (and creates the two-person account). Its
/// header says what the attestation gate decided (`verdict`), one comment line per CA; the
/// verdict itself is among the files (`breakglass_attestation/verdict.json`).
pub fn render(files: &[HostFile], two_person_user: Option<&str>, verdict: &Verdict) -> String {
    use base64ct::Encoding;
    let mut y = String::from(
        "#cloud-config\n# Written by breakglass host-config: trust the break-glass CAs on a new VM.\n",
    );
    for c in &verdict.cas {
        // Fingerprints and roles only: nothing from outside goes into a comment line.
        let what = match c.status {
            Status::Verified => "attestation verified",
            Status::Unattested => {
                "WARNING: NOT ATTESTED, trusted only because of --allow-unattested"
            }
            Status::Exempt => "exempt (merged from the host's TrustedUserCAKeys)",
        };
        y.push_str(&format!(
            "# {} CA {}: {what}\n",
            c.role.name(),
            c.fingerprint
        ));
    }
    y.push_str("write_files:\n");
    for f in files {
        y.push_str(&format!(
            "  - path: {}\n",
            quoted(&f.install.display().to_string())
        ));
        y.push_str("    owner: \"root:root\"\n");
        y.push_str(&format!("    permissions: \"0{:o}\"\n", f.mode));
        if is_plain_text(&f.bytes) {
            y.push_str("    content: |\n");
            for l in String::from_utf8_lossy(&f.bytes).lines() {
                if l.is_empty() {
                    y.push('\n');
                } else {
                    y.push_str(&format!("      {l}\n"));
                }
            }
        } else {
            y.push_str("    encoding: b64\n");
            y.push_str(&format!(
                "    content: {}\n",
                quoted(&base64ct::Base64::encode_string(&f.bytes))
            ));
        }
    }
    y.push_str("runcmd:\n");
    if let Some(user) = two_person_user {
        // The two-person account (a plain name, checked by two_person::check_user). Its password
        // is '*', not the locked '!': with UsePAM no, sshd refuses accounts whose password is
        // locked, even for public keys.
        y.push_str(&format!(
            "  - [sh, -c, {}]\n",
            quoted(&format!(
                "id -u {user} >/dev/null 2>&1 || useradd -m -s /bin/bash -p '*' {user}"
            ))
        ));
    }
    y.push_str(&format!(
        "  - [sh, -c, {}]\n",
        quoted("/usr/sbin/sshd -t && { systemctl reload ssh.service || systemctl reload sshd.service; }")
    ));
    if files.iter().any(|f| f.kind == FileKind::AlertRule) {
        y.push_str("  - [systemctl, restart, rsyslog.service]\n");
    }
    y
}
