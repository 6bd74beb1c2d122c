//! The files of a plan: what each holds, where it goes on the host, its mode; one function per
//! file, from the plan's facts.

use std::path::{Path, PathBuf};

use serde::ser::{Serialize, SerializeStruct, Serializer};

use super::attestation::{Verdict, ATTESTATION_DIR, VERDICT_FILE};
use super::ca_key::{key_line, CaKey};
use super::principals::PrincipalsPlan;
use super::trusted_file::KEPT_MARKER;
use super::{
    alert, two_person, HostConfigError, InstallPaths, CA_FILE, DROP_IN, KRL_FILE, PRINCIPALS_DIR,
};

/// What a file is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    /// `breakglass_user_ca.pub`: every CA the host trusts for user certificates.
    CaKeys,
    /// `breakglass_revoked.krl`: an empty KRL, installed only where none exists.
    Krl,
    /// A user's principals file under `breakglass_principals/` (the two-person account's too).
    Principals,
    /// `breakglass_custodian_ca.pub`: the custodian CAs of `--two-person`.
    CustodianCas,
    /// The two-person gate, sshd's `ForceCommand` for that account.
    TwoPersonGate,
    /// `sshd_config.d/00-breakglass.conf`.
    DropIn,
    /// The `--alert` script rsyslog runs.
    AlertScript,
    /// The `--alert` rsyslog rule.
    AlertRule,
    /// `breakglass_attestation/verdict.json`: what the attestation gate decided for each CA.
    AttestationVerdict,
    /// A copy of a verified CA's attestation under `breakglass_attestation/`.
    Attestation,
}

/// One file host-config produces.
#[derive(Debug, Clone)]
pub struct HostFile {
    /// What it is for.
    pub kind: FileKind,
    /// Path relative to `--out`.
    pub rel: PathBuf,
    /// Where it goes on the host.
    pub install: PathBuf,
    /// Content.
    pub bytes: Vec<u8>,
    /// Mode.
    pub mode: u32,
    /// Never replaced once it exists (the KRL: it may hold revocations by now).
    pub keep_existing: bool,
}

impl HostFile {
    fn text(kind: FileKind, rel: impl Into<PathBuf>, install: PathBuf, text: String) -> HostFile {
        let mode = match kind {
            FileKind::TwoPersonGate | FileKind::AlertScript => 0o755,
            _ => 0o644,
        };
        HostFile {
            kind,
            rel: rel.into(),
            install,
            bytes: text.into_bytes(),
            mode,
            keep_existing: false,
        }
    }
}

/// `{kind, path, install, mode: "0644", keep_existing, encoding: "text"|"base64", content}`.
impl Serialize for HostFile {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use base64ct::Encoding;
        let mut st = s.serialize_struct("HostFile", 7)?;
        st.serialize_field("kind", &self.kind)?;
        st.serialize_field("path", &self.rel)?;
        st.serialize_field("install", &self.install)?;
        st.serialize_field("mode", &format!("0{:o}", self.mode))?;
        st.serialize_field("keep_existing", &self.keep_existing)?;
        // Text when it is text (a KRL never is: it holds NUL bytes).
        let text = std::str::from_utf8(&self.bytes)
            .ok()
            .filter(|t| !t.chars().any(|c| c.is_control() && c != '\n'));
        match text {
            Some(text) => {
                st.serialize_field("encoding", "text")?;
                st.serialize_field("content", text)?;
            }
            None => {
                st.serialize_field("encoding", "base64")?;
                st.serialize_field("content", &base64ct::Base64::encode_string(&self.bytes))?;
            }
        }
        st.end()
    }
}

/// The bytes of an empty KRL, as the KRL module writes every KRL (`PROTOCOL.krl`,
/// `krl.c: ssh_krl_to_blob`; REFERENCE.md §8.1): magic, format version 1, KRL version 0, the
/// generated date, flags 0, empty reserved and comment strings, no sections. sshd and
/// `ssh-keygen -Q` read it as "nothing revoked"; `revoke` extends it.
pub fn empty_krl(generated: u64) -> Vec<u8> {
    let mut krl = crate::ssh::krl::Krl::new();
    krl.generated_date = generated;
    krl.encode()
}

/// `breakglass_user_ca.pub`: the break-glass CAs, then (after [`KEPT_MARKER`]) the CAs the host
/// already trusted.
pub(super) fn ca_keys(
    paths: &InstallPaths,
    breakglass: &[CaKey],
    kept: &[CaKey],
) -> Result<HostFile, HostConfigError> {
    let mut text = String::from(
        "# Written by breakglass host-config: the CAs this host trusts for user certificates.\n# Break-glass CAs:\n",
    );
    for k in breakglass {
        text.push_str(&key_line(k)?);
    }
    if !kept.is_empty() {
        text.push_str(KEPT_MARKER);
        text.push_str(" (kept by host-config):\n");
        for k in kept {
            text.push_str(&key_line(k)?);
        }
    }
    Ok(HostFile::text(
        FileKind::CaKeys,
        CA_FILE,
        paths.ca.clone(),
        text,
    ))
}

/// `breakglass_revoked.krl`: an empty KRL dated `now`, never replacing one that exists.
pub(super) fn krl(paths: &InstallPaths, now: u64) -> HostFile {
    HostFile {
        kind: FileKind::Krl,
        rel: KRL_FILE.into(),
        install: paths.krl.clone(),
        bytes: empty_krl(now),
        mode: 0o644,
        keep_existing: true,
    }
}

/// The drop-in, from its text.
pub(super) fn drop_in(paths: &InstallPaths, text: String) -> HostFile {
    HostFile::text(FileKind::DropIn, DROP_IN, paths.drop_in.clone(), text)
}

/// A `--principals` user's file: what was kept, then what was added.
pub(super) fn principals(paths: &InstallPaths, p: &PrincipalsPlan) -> HostFile {
    let mut text = String::from("# Written by breakglass host-config.\n");
    for l in p.kept.iter().chain(p.added.iter()) {
        text.push_str(l);
        text.push('\n');
    }
    HostFile::text(
        FileKind::Principals,
        Path::new(PRINCIPALS_DIR).join(&p.user),
        paths.principals_dir.join(&p.user),
        text,
    )
}

/// `--two-person`: the account's principals file (just its name), the custodian CAs' file and
/// the gate. `log_socket` is for tests (see [`two_person::gate_script`]).
pub(super) fn two_person(
    paths: &InstallPaths,
    user: &str,
    custodians: &[CaKey],
    log_socket: Option<&Path>,
) -> Result<[HostFile; 3], HostConfigError> {
    let mut cas = format!(
        "# Written by breakglass host-config --two-person: the custodian CAs, trusted only for\n# {user} and only two together (the gate checks that).\n",
    );
    for k in custodians {
        cas.push_str(&key_line(k)?);
    }
    let fps: Vec<String> = custodians.iter().map(CaKey::fingerprint).collect();
    Ok([
        HostFile::text(
            FileKind::Principals,
            Path::new(PRINCIPALS_DIR).join(user),
            paths.principals_dir.join(user),
            format!("# Written by breakglass host-config --two-person: custodian certificates must name the account.\n{user}\n"),
        ),
        HostFile::text(
            FileKind::CustodianCas,
            two_person::CUSTODIAN_CA_FILE,
            paths.custodian_ca.clone(),
            cas,
        ),
        HostFile::text(
            FileKind::TwoPersonGate,
            two_person::GATE_NAME,
            paths.gate.clone(),
            two_person::gate_script(&fps, log_socket),
        ),
    ])
}

/// `--alert PROGRAM`: the script and the rsyslog rule, for logins by certificates from `cas`
/// (the break-glass CAs and the custodians': sshd's Accepted line for the second custodian, and
/// the gate's line naming both, page too).
pub(super) fn alert(
    paths: &InstallPaths,
    program: &str,
    cas: &[&CaKey],
) -> Result<[HostFile; 2], HostConfigError> {
    alert::check_program(program).map_err(HostConfigError::Alert)?;
    let fps: Vec<String> = cas.iter().map(|k| k.fingerprint()).collect();
    Ok([
        HostFile::text(
            FileKind::AlertScript,
            alert::SCRIPT_NAME,
            paths.alert_script.clone(),
            alert::script(program, &fps),
        ),
        HostFile::text(
            FileKind::AlertRule,
            alert::RULE_NAME,
            Path::new(alert::RULE_INSTALL_DIR).join("30-breakglass-alert.conf"),
            alert::rsyslog_rule(&paths.alert_script, &fps),
        ),
    ])
}

/// `breakglass_attestation/`: the verdict (JSON), then a copy of each verified attestation, so
/// that the host and deploy/ansible can see what was verified.
pub(super) fn attestation(
    paths: &InstallPaths,
    verdict: &Verdict,
) -> Result<Vec<HostFile>, HostConfigError> {
    let mut json = serde_json::to_string_pretty(verdict)
        .map_err(|e| HostConfigError::Unsupported(format!("cannot encode the verdict: {e}")))?;
    json.push('\n');
    let mut out = vec![HostFile::text(
        FileKind::AttestationVerdict,
        Path::new(ATTESTATION_DIR).join(VERDICT_FILE),
        paths.attestation_dir.join(VERDICT_FILE),
        json,
    )];
    for c in &verdict.cas {
        let Some(copy) = &c.copy else { continue };
        out.push(HostFile {
            kind: FileKind::Attestation,
            rel: copy.clone(),
            install: paths
                .attestation_dir
                .join(copy.file_name().unwrap_or_default()),
            bytes: c.bytes.clone(),
            mode: 0o644,
            keep_existing: false,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_krl_is_the_44_bytes_of_protocol_krl() {
        let k = empty_krl(0x0102030405060708);
        assert_eq!(k.len(), 44);
        assert_eq!(&k[..8], b"SSHKRL\n\0");
        assert_eq!(&k[8..12], &[0, 0, 0, 1]);
        assert_eq!(&k[20..28], &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert!(k[28..].iter().all(|b| *b == 0));
    }

    #[test]
    fn a_file_serialises_as_text_or_base64_with_an_octal_mode() {
        let f = HostFile::text(
            FileKind::TwoPersonGate,
            "g.sh",
            "/etc/ssh/g.sh".into(),
            "#!/bin/sh\n".into(),
        );
        let v = serde_json::to_value(&f).unwrap();
        assert_eq!(v["kind"], "two-person-gate");
        assert_eq!(v["mode"], "0755");
        assert_eq!(
            (v["encoding"].as_str(), v["content"].as_str()),
            (Some("text"), Some("#!/bin/sh\n"))
        );
        let krl = HostFile {
            bytes: vec![b'S', 0],
            ..f
        };
        let v = serde_json::to_value(&krl).unwrap();
        assert_eq!(
            (v["encoding"].as_str(), v["content"].as_str()),
            (Some("base64"), Some("UwA="))
        );
    }
}
