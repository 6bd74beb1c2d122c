//! host-config's gate (issue #24 item 3): a break-glass or custodian CA reaches sshd only with
//! proof that its key was born inside a genuine hardware key, i.e. a valid attestation
//! ([`crate::attest::verify`], the same checks and policy as `breakglass ca verify`).
//!
//! Where a CA's attestation comes from: `--attestation CA.pub=FILE` for that CA file (CA.pub
//! exactly as given on the command line), else `CA.attest` beside `CA.pub` (init-ca's name).
//! `--roots DIR` and `--min-firmware` go to the verifier as they are. A CA without a valid one
//! is refused, naming the CA and the verifier's reason, unless `--allow-unattested`: then it is
//! let through with a warning in the plan. An attestation by breakglass's own simulated key
//! ([`Report::simulated`]) is genuine under its own root, but proves nothing about hardware: it
//! is refused the same way (`ca verify` accepts it, with a SIMULATED warning). CAs merged from the host's own `TrustedUserCAKeys`
//! cannot be attested (only their public key is on the host): they are exempt, and listed so.
//!
//! The verdict ([`Verdict`]) goes into the plan (text and `--json`) and, with `--out`, into
//! `breakglass_attestation/verdict.json` beside a copy of every attestation that was verified,
//! so that the host and deploy/ansible (which refuses an output that records no verified
//! attestation unless `breakglass_allow_unattested`) can see what was checked.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{CaKey, HostConfigError};
use crate::attest::{self, AttestError, Expect, Policy, Report, TrustStore, MAX_ATTESTATION_LEN};
use crate::ops::ca::verify::attestation_path_for;
use crate::ssh::keyfile::PivReference;

/// The directory of the verdict and the attestation copies, in `--out` and under `--etc`.
pub const ATTESTATION_DIR: &str = "breakglass_attestation";
/// The verdict's file name in [`ATTESTATION_DIR`].
pub const VERDICT_FILE: &str = "verdict.json";
/// The verdict's format name (deploy/ansible checks it).
pub const VERDICT_FORMAT: &str = "breakglass-host-attestation-v1";

/// `--attestation CA.pub=FILE`: the attestation of one CA file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestationArg {
    /// The CA file, as given on the command line.
    pub ca: PathBuf,
    /// Its attestation.
    pub file: PathBuf,
}

impl std::str::FromStr for AttestationArg {
    type Err = String;

    /// `CA.pub=FILE`, split at the first `=`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.split_once('=') {
            Some((ca, file)) if !ca.is_empty() && !file.is_empty() => Ok(AttestationArg {
                ca: ca.into(),
                file: file.into(),
            }),
            _ => Err(format!(
                "'{s}' is not CA.pub=FILE (the CA file as given, '=', its attestation)"
            )),
        }
    }
}

/// What the gate is told on the command line.
#[derive(Debug, Clone, Default)]
pub struct AttestationOptions {
    /// `--attestation CA.pub=FILE` (repeatable).
    pub files: Vec<AttestationArg>,
    /// `--roots DIR`: trust these certificates instead of Yubico's.
    pub roots: Option<PathBuf>,
    /// `--min-firmware X.Y.Z|none`; `None` = the EUCLEAK floor.
    pub min_firmware: Option<String>,
    /// `--allow-unattested`: let CAs without a valid attestation through, with a warning.
    pub allow_unattested: bool,
}

/// Which CAs a verdict is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// A break-glass CA of the command line.
    BreakGlass,
    /// A custodian CA of `--two-person`.
    Custodian,
    /// A CA merged from the host's own settings.
    Kept,
}

impl Role {
    /// "break-glass", "custodian", "kept".
    pub fn name(self) -> &'static str {
        match self {
            Role::BreakGlass => "break-glass",
            Role::Custodian => "custodian",
            Role::Kept => "kept",
        }
    }
}

/// What the gate decided for one CA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// A valid attestation, accepted by the policy.
    Verified,
    /// No valid attestation; trusted only because of `--allow-unattested`.
    Unattested,
    /// Merged from the host's own `TrustedUserCAKeys`: cannot be attested.
    Exempt,
}

/// One CA's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct CaVerdict {
    /// Which kind of CA.
    pub role: Role,
    /// Its SHA-256 fingerprint.
    pub fingerprint: String,
    /// The file it was read from, and the line.
    pub file: PathBuf,
    /// Its line in that file.
    pub line: usize,
    /// The decision.
    pub status: Status,
    /// The attestation file that was read (`None` when there was none).
    pub attestation: Option<PathBuf>,
    /// Its copy in `--out`, relative to it (verified CAs only).
    pub copy: Option<PathBuf>,
    /// Why it is not verified (the verifier's message), or why it is exempt.
    pub reason: Option<String>,
    /// What the attestation proves (verified CAs only).
    pub report: Option<Report>,
    /// The attestation's bytes (verified CAs only), for the copy in `--out`.
    #[serde(skip)]
    pub bytes: Vec<u8>,
}

/// The gate's verdict on every CA the plan trusts: what `breakglass_attestation/verdict.json`
/// holds.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// [`VERDICT_FORMAT`].
    pub format: &'static str,
    /// True when every break-glass and custodian CA has a verified attestation.
    pub verified: bool,
    /// `--allow-unattested` was given.
    pub allow_unattested: bool,
    /// The trust store ("Yubico (built in)" or the `--roots` directory).
    pub trusted_roots: String,
    /// The firmware floor ("5.7.0", "none").
    pub min_firmware: String,
    /// One entry per CA: break-glass, custodian, then the exempt kept ones.
    pub cas: Vec<CaVerdict>,
}

impl Verdict {
    /// The verdict once the kept CAs are known: they are exempt.
    pub(super) fn new(gate: GateResult, kept: &[CaKey]) -> Verdict {
        let mut cas = gate.cas;
        // The copies in --out: ATTESTATION_DIR/break-glass-1.attest, custodian-1.attest, ...
        for role in [Role::BreakGlass, Role::Custodian] {
            let verified = cas
                .iter_mut()
                .filter(|c| c.role == role && c.status == Status::Verified);
            for (i, c) in verified.enumerate() {
                c.copy = Some(Path::new(ATTESTATION_DIR).join(format!(
                    "{}-{}.attest",
                    role.name(),
                    i + 1
                )));
            }
        }
        cas.extend(kept.iter().map(|k| CaVerdict {
            role: Role::Kept,
            fingerprint: k.fingerprint(),
            file: k.file.clone(),
            line: k.line,
            status: Status::Exempt,
            attestation: None,
            copy: None,
            reason: Some(
                "merged from the host's TrustedUserCAKeys: a CA the host already trusted, which cannot be attested"
                    .into(),
            ),
            report: None,
            bytes: Vec::new(),
        }));
        Verdict {
            format: VERDICT_FORMAT,
            verified: cas.iter().all(|c| c.status != Status::Unattested),
            allow_unattested: gate.allow_unattested,
            trusted_roots: gate.trusted_roots,
            min_firmware: gate.min_firmware,
            cas,
        }
    }

    /// The warnings the plan carries: each CA let through by `--allow-unattested`, then what
    /// the verifier warned about a verified one (PIN policy never, old firmware under
    /// `--min-firmware none`).
    pub(super) fn warnings(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .cas
            .iter()
            .filter(|c| c.status == Status::Unattested)
            .map(|c| {
                format!(
                    "{}: the {} CA {} is NOT attested ({}); it is trusted only because of --allow-unattested: nothing proves its key cannot be copied (for practice, never for production hosts)",
                    c.file.display(),
                    c.role.name(),
                    c.fingerprint,
                    c.reason.as_deref().unwrap_or("no reason given")
                )
            })
            .collect();
        for c in &self.cas {
            for w in c.report.iter().flat_map(|r| &r.warnings) {
                out.push(format!(
                    "{}: the {} CA {} is attested, but: {w}",
                    c.file.display(),
                    c.role.name(),
                    c.fingerprint
                ));
            }
        }
        out
    }
}

/// What [`Gate::check`] found for the command line's CAs (the kept ones come later).
#[derive(Debug, Clone, Default)]
pub struct GateResult {
    cas: Vec<CaVerdict>,
    allow_unattested: bool,
    trusted_roots: String,
    min_firmware: String,
}

/// The verifier, set up once from the command line.
pub(super) struct Gate<'a> {
    opts: &'a AttestationOptions,
    trust: TrustStore,
    policy: Policy,
    result: GateResult,
}

impl<'a> Gate<'a> {
    /// Reads `--roots` and `--min-firmware` and checks that every `--attestation` names one of
    /// the CA files given (`ca_files`: the arguments and `--two-person`'s).
    pub(super) fn new(
        opts: &'a AttestationOptions,
        ca_files: &[&Path],
    ) -> Result<Gate<'a>, HostConfigError> {
        for (i, a) in opts.files.iter().enumerate() {
            if !ca_files.contains(&a.ca.as_path()) {
                return Err(HostConfigError::AttestationArg(format!(
                    "--attestation names {}, which is not one of the CA files given",
                    a.ca.display()
                )));
            }
            if opts.files[..i].iter().any(|b| b.ca == a.ca) {
                return Err(HostConfigError::AttestationArg(format!(
                    "--attestation gives {} twice",
                    a.ca.display()
                )));
            }
        }
        let (trust, policy) =
            attest::trust_and_policy(opts.roots.as_deref(), opts.min_firmware.as_deref())
                .map_err(HostConfigError::Attestation)?;
        let result = GateResult {
            cas: Vec::new(),
            allow_unattested: opts.allow_unattested,
            trusted_roots: trust.origin().to_string(),
            min_firmware: policy.floor_text(),
        };
        Ok(Gate {
            opts,
            trust,
            policy,
            result,
        })
    }

    /// Verifies each CA's attestation: an error for the first CA without a valid one, unless
    /// `--allow-unattested` (then it is recorded as unattested).
    pub(super) fn check(&mut self, role: Role, cas: &[CaKey]) -> Result<(), HostConfigError> {
        for ca in cas {
            let mut v = CaVerdict {
                role,
                fingerprint: ca.fingerprint(),
                file: ca.file.clone(),
                line: ca.line,
                status: Status::Verified,
                attestation: None,
                copy: None,
                reason: None,
                report: None,
                bytes: Vec::new(),
            };
            match self.verify(ca, &mut v) {
                Ok(()) => {}
                Err(refusal) if self.opts.allow_unattested => {
                    v.status = Status::Unattested;
                    v.reason = Some(refusal.reason);
                    v.report = None;
                    v.bytes.clear();
                }
                Err(refusal) => {
                    return Err(HostConfigError::Unattested {
                        ca: ca.file.clone(),
                        role: role.name(),
                        fingerprint: v.fingerprint,
                        reason: refusal.reason,
                        hint: refusal.hint,
                    })
                }
            }
            self.result.cas.push(v);
        }
        Ok(())
    }

    /// The verdicts so far.
    pub(super) fn finish(self) -> GateResult {
        self.result
    }

    /// One CA: the attestation file, read and verified.
    fn verify(&self, ca: &CaKey, v: &mut CaVerdict) -> Result<(), Refusal> {
        let explicit = self.opts.files.iter().find(|a| a.ca == ca.file);
        let file = match explicit {
            Some(a) => a.file.clone(),
            None => attestation_path_for(&ca.file),
        };
        let bytes = match crate::input::read_bounded(&file, MAX_ATTESTATION_LEN as u64) {
            Ok(b) => b,
            Err(crate::input::ReadError::NotFound) if explicit.is_none() => {
                return Err(Refusal {
                    reason: format!(
                        "there is no attestation beside it: {} does not exist",
                        file.display()
                    ),
                    hint: None,
                })
            }
            Err(e) => {
                return Err(Refusal {
                    reason: format!("{}: {}", file.display(), e.reason()),
                    hint: None,
                })
            }
        };
        v.attestation = Some(file.clone());
        let expect = Expect {
            ca: Some(&ca.key),
            challenge: None,
            piv_slot: PivReference::beside(&ca.file).map(|r| r.slot),
        };
        let about = |e: AttestError| Refusal {
            reason: format!("{}: {e}", file.display()),
            hint: Some(e.hint()),
        };
        let report = attest::verify(&expect, &bytes, &self.trust, &self.policy).map_err(about)?;
        // Genuine under a root the user named, but made by a software key: no better than none.
        if report.simulated() {
            return Err(Refusal {
                reason: format!(
                    "{} is attested only by breakglass's simulated key, which proves nothing about hardware",
                    file.display()
                ),
                hint: Some("Make the CA on a hardware key (a YubiKey 5 with firmware 5.7.0 or later) for a real host.".into()),
            });
        }
        v.report = Some(report);
        v.bytes = bytes.to_vec();
        Ok(())
    }
}

/// Why one CA has no valid attestation.
struct Refusal {
    /// The verifier's message (with the attestation file), or what is missing.
    reason: String,
    /// The verifier's next step, when it gave one.
    hint: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILES: &str = "tests/cmd/ca/files";
    /// host-config's cases: `ca.pub` attested as a YubiKey 5 NFC under the test root (in
    /// [`FILES`], the same CA is attested as the simulated key).
    const HOST_FILES: &str = "tests/cmd/host-config/files";

    fn ca(name: &str) -> Vec<CaKey> {
        super::super::read_ca_file(&Path::new(FILES).join(name)).unwrap()
    }

    fn opts(allow: bool) -> AttestationOptions {
        AttestationOptions {
            roots: Some(Path::new(FILES).join("roots")),
            allow_unattested: allow,
            ..AttestationOptions::default()
        }
    }

    #[test]
    fn a_ca_is_verified_refused_or_let_through_with_a_warning() {
        let good = super::super::read_ca_file(&Path::new(HOST_FILES).join("ca.pub")).unwrap();
        let other = ca("other-ca.pub");
        let o = opts(false);
        let mut gate = Gate::new(&o, &[]).unwrap();
        gate.check(Role::BreakGlass, &good).unwrap();
        let e = gate.check(Role::Custodian, &other).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{FILES}/other-ca.pub: the custodian CA {} is not attested: there is no attestation beside it: {FILES}/other-ca.attest does not exist",
                other[0].fingerprint()
            )
        );
        let v = Verdict::new(gate.finish(), &[]);
        assert!(v.verified && v.warnings().is_empty());
        assert_eq!(v.cas[0].status, Status::Verified);
        assert_eq!(
            v.cas[0].copy.as_deref(),
            Some(Path::new("breakglass_attestation/break-glass-1.attest"))
        );
        assert_eq!(
            v.cas[0].bytes,
            std::fs::read(Path::new(HOST_FILES).join("ca.attest")).unwrap()
        );
        // --allow-unattested: through, recorded, and warned about.
        let o = opts(true);
        let mut gate = Gate::new(&o, &[]).unwrap();
        gate.check(Role::BreakGlass, &other).unwrap();
        let v = Verdict::new(gate.finish(), &good);
        assert!(!v.verified && v.allow_unattested);
        assert_eq!(
            (v.cas[0].status, v.cas[0].copy.as_ref()),
            (Status::Unattested, None)
        );
        assert_eq!(
            (v.cas[1].role, v.cas[1].status),
            (Role::Kept, Status::Exempt)
        );
        let w = v.warnings();
        assert_eq!(w.len(), 1);
        assert!(
            w[0].contains(" is NOT attested (there is no attestation beside it: "),
            "{}",
            w[0]
        );
    }

    #[test]
    fn a_simulated_attestation_is_refused_like_none_even_under_its_own_root() {
        // Genuine under the root named (ca verify says VALID, SIMULATED), but made by the
        // simulated key: refused, and only --allow-unattested lets it through, as unattested.
        let sim = ca("ca.pub");
        let o = AttestationOptions {
            min_firmware: Some("none".into()),
            ..opts(false)
        };
        let mut gate = Gate::new(&o, &[]).unwrap();
        let e = gate.check(Role::BreakGlass, &sim).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{FILES}/ca.pub: the break-glass CA {} is not attested: {FILES}/ca.attest is attested only by breakglass's simulated key, which proves nothing about hardware",
                sim[0].fingerprint()
            )
        );
        let o = AttestationOptions {
            min_firmware: Some("none".into()),
            ..opts(true)
        };
        let mut gate = Gate::new(&o, &[]).unwrap();
        gate.check(Role::BreakGlass, &sim).unwrap();
        let v = Verdict::new(gate.finish(), &[]);
        assert!(!v.verified);
        assert_eq!(
            (
                v.cas[0].status,
                v.cas[0].copy.as_ref(),
                v.cas[0].report.as_ref()
            ),
            (Status::Unattested, None, None)
        );
        let w = v.warnings();
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains(" is NOT attested ("), "{}", w[0]);
        assert!(
            w[0].contains("simulated key, which proves nothing about hardware"),
            "{}",
            w[0]
        );
    }

    #[test]
    fn an_attestation_for_another_key_is_the_verifiers_refusal() {
        let o = AttestationOptions {
            files: vec![AttestationArg {
                ca: Path::new(FILES).join("other-ca.pub"),
                file: Path::new(FILES).join("ca.attest"),
            }],
            ..opts(false)
        };
        let other = ca("other-ca.pub");
        let given = [o.files[0].ca.as_path()];
        let mut gate = Gate::new(&o, &given).unwrap();
        let e = gate.check(Role::BreakGlass, &other).unwrap_err();
        let HostConfigError::Unattested { reason, hint, .. } = &e else {
            panic!("{e:?}")
        };
        assert!(
            reason.starts_with(&format!("{FILES}/ca.attest: ")),
            "{reason}"
        );
        assert!(hint.is_some());
    }

    #[test]
    fn attestation_arguments_pair_with_a_ca_given() {
        let a: AttestationArg = "ca.pub=x=y.attest".parse().unwrap();
        assert_eq!(
            (a.ca.to_str(), a.file.to_str()),
            (Some("ca.pub"), Some("x=y.attest"))
        );
        assert!("ca.pub".parse::<AttestationArg>().is_err());
        assert!("=f".parse::<AttestationArg>().is_err());
        let o = AttestationOptions {
            files: vec![a.clone()],
            ..AttestationOptions::default()
        };
        let e = Gate::new(&o, &[Path::new("other.pub")]).err().unwrap();
        assert_eq!(
            e.to_string(),
            "--attestation names ca.pub, which is not one of the CA files given"
        );
        let o = AttestationOptions {
            files: vec![a.clone(), a],
            ..AttestationOptions::default()
        };
        let e = Gate::new(&o, &[Path::new("ca.pub")]).err().unwrap();
        assert_eq!(e.to_string(), "--attestation gives ca.pub twice");
    }
}
