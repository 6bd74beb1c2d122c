//! `breakglass host-config`: plans (the library), writes with `--out` (the library), and renders
//! the plan here: text, the `#cloud-config` document, the known_hosts lines, or one JSON document
//! with `--json`. Text from outside (key comments, paths, the host's settings) is sanitised once,
//! by the printer.

use serde::Serialize;

use crate::cli::HostConfigArgs;
use crate::error::Error;
use crate::output::{self, say};
use breakglass::ops::host_config::attestation::{AttestationOptions, CaVerdict, Status, Verdict};
use breakglass::ops::host_config::sshd_settings::Method;
use breakglass::ops::host_config::{self, CaKey, FileKind, HostConfigRequest, HostPlan, Written};

/// The `--json` document of a plan: the plan's fields, and `written` (what `--out` wrote, or
/// `null`).
#[derive(Serialize)]
struct PlanJson<'a> {
    #[serde(flatten)]
    plan: &'a HostPlan,
    written: Option<&'a Written>,
}

pub(super) fn run(a: HostConfigArgs, json: bool) -> Result<(), Error> {
    if let Some(pattern) = &a.known_hosts {
        let k = host_config::known_hosts(&a.cas, pattern)?;
        if json {
            return output::json(&k);
        }
        for l in &k.lines {
            say!("{l}");
        }
        return Ok(());
    }
    let req = HostConfigRequest {
        ca_files: a.cas,
        etc: a.etc,
        sshd_config: a.sshd_config,
        principals: a.principals,
        alert: a.alert,
        two_person: a.two_person,
        two_person_user: a.two_person_user,
        two_person_log_socket: a.two_person_log_socket,
        attestation: AttestationOptions {
            files: a.attestation,
            roots: a.roots,
            min_firmware: a.min_firmware,
            allow_unattested: a.allow_unattested,
        },
    };
    let plan = host_config::plan(&req)?;
    let written = match &a.out {
        Some(out) => Some(host_config::write(&plan, out, a.force)?),
        None => None,
    };
    if json {
        return output::json(&PlanJson {
            plan: &plan,
            written: written.as_ref(),
        });
    }
    if a.cloud_init {
        // The document goes to a file; the warnings (an unattested CA first) to the person.
        for w in &plan.warnings {
            output::warning(w);
        }
        say!("{}", plan.cloud_init.trim_end_matches('\n'));
        return Ok(());
    }
    output::out_lines(&render(&plan, written.as_ref()));
    Ok(())
}

/// The plan as text, one entry per line: what was read, what was merged, each file and where it
/// goes. `written` is what `--out` did.
fn render(plan: &HostPlan, written: Option<&Written>) -> Vec<String> {
    let mut s = Vec::new();
    let cfg = plan.sshd.config.display();
    s.push(match written {
        Some(w) => format!("Wrote the host configuration to {}.", w.out.display()),
        None => "Plan (nothing written; --out DIR writes these files):".into(),
    });
    s.push(String::new());
    s.push(match &plan.sshd.method {
        Method::SshdT => format!("The host's sshd today: sshd -T -f {cfg}"),
        Method::Files(why) => {
            format!("The host's sshd today: read from {cfg} and its Includes ({why})")
        }
        Method::NoConfig => format!(
            "The host's sshd today: {cfg} does not exist here, so nothing was merged; on the host, its sshd_config must Include sshd_config.d/*.conf before setting these keywords"
        ),
    });
    if plan.sshd.method != Method::NoConfig {
        for (kw, set) in [
            ("TrustedUserCAKeys", &plan.sshd.trusted_user_ca_keys),
            ("RevokedKeys", &plan.sshd.revoked_keys),
            (
                "AuthorizedPrincipalsFile",
                &plan.sshd.authorized_principals_file,
            ),
        ] {
            s.push(format!(
                "  {kw:<25}{}",
                set.value.as_deref().unwrap_or("none")
            ));
        }
    }
    s.push(String::new());
    s.push("Merged:".into());
    if plan.merged.is_empty() {
        s.push("  nothing: the host set none of these keywords".into());
    }
    for m in plan.merged.iter().chain(&plan.sshd.notes) {
        s.push(format!("  - {m}"));
    }
    s.push(String::new());
    s.push("Trusted CAs:".into());
    for (role, cas) in [
        ("break-glass", &plan.breakglass_cas),
        ("kept", &plan.kept_cas),
        ("custodian", &plan.custodian_cas),
    ] {
        for k in cas {
            s.push(format!("  {role:<13}{}", describe(k)));
        }
    }
    s.extend(attestation(&plan.attestation));
    s.push(String::new());
    s.push("Files:".into());
    for f in &plan.files {
        let kept = written.is_some_and(|w| w.kept.contains(&w.out.join(&f.rel)));
        s.push(format!(
            "  {}{} -> {} (0{:o})",
            f.rel.display(),
            if kept { " (exists, kept)" } else { "" },
            f.install.display(),
            f.mode
        ));
        let summary = match f.kind {
            FileKind::Krl => Some(format!(
                "an empty KRL ({} bytes); installed only where none exists",
                f.bytes.len()
            )),
            FileKind::TwoPersonGate => {
                Some("the two-person gate (sshd ForceCommand): two custodians or nothing".into())
            }
            FileKind::AlertScript => {
                Some("runs the --alert program for each break-glass login (rsyslog omprog)".into())
            }
            FileKind::AttestationVerdict => Some(
                "what was verified, for the host and deploy/ansible (JSON: --json shows it as \"attestation\")"
                    .into(),
            ),
            FileKind::Attestation => Some(format!(
                "the attestation it was verified with ({} bytes)",
                f.bytes.len()
            )),
            _ => None,
        };
        if let Some(summary) = summary {
            s.push(format!("      {summary}"));
            continue;
        }
        for l in String::from_utf8_lossy(&f.bytes).lines() {
            // Comments are for the host's admin; of the rsyslog rule only its condition.
            if l.starts_with('#') || f.kind == FileKind::AlertRule && !l.starts_with("if ") {
                continue;
            }
            s.push(format!("      {l}"));
        }
    }
    if !plan.warnings.is_empty() {
        s.push(String::new());
        s.push("Warnings:".into());
        for w in &plan.warnings {
            s.push(format!("  ! {w}"));
        }
    }
    s.push(String::new());
    s.push(format!(
        "On the host: install the files, then `sshd -t` and reload sshd (deploy/ansible does both){}.",
        if plan.file(FileKind::AlertRule).is_some() {
            ", and restart rsyslog"
        } else {
            ""
        }
    ));
    s
}

/// The attestation section: the trust store and floor, then each CA's verdict.
fn attestation(v: &Verdict) -> Vec<String> {
    let mut s = vec![
        String::new(),
        format!(
            "Attestation (trusted roots: {}; firmware floor {}):",
            v.trusted_roots, v.min_firmware
        ),
    ];
    for c in &v.cas {
        s.push(format!(
            "  {:<13}{} {}",
            c.role.name(),
            c.fingerprint,
            verdict_text(c)
        ));
    }
    s
}

/// `VERIFIED: vendor, model, firmware (file)`, `NOT ATTESTED …: reason`, or `exempt: reason`.
fn verdict_text(c: &CaVerdict) -> String {
    let reason = c.reason.as_deref().unwrap_or("");
    match (c.status, &c.report) {
        (Status::Verified, Some(r)) => format!(
            "VERIFIED: {}, {}, {}, firmware {} ({})",
            r.kind.name(),
            r.vendor,
            r.model.as_deref().unwrap_or("model unknown"),
            r.firmware
                .as_ref()
                .map_or("unknown", |f| f.version.as_str()),
            c.attestation
                .as_deref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        ),
        (Status::Verified, None) => "VERIFIED".into(),
        (Status::Unattested, _) => {
            format!("NOT ATTESTED, trusted only because of --allow-unattested: {reason}")
        }
        (Status::Exempt, _) => format!("exempt: {reason}"),
    }
}

/// `TYPE SHA256:… comment`. Trailing spaces go, as before sanitising did; a trailing control
/// character stays, for the printer to show.
fn describe(k: &CaKey) -> String {
    format!(
        "{} {} {}",
        k.key.algorithm().as_str(),
        k.fingerprint(),
        k.comment()
    )
    .trim_end_matches(|c: char| c.is_whitespace() && !breakglass::sanitize::is_dangerous(c))
    .to_string()
}
