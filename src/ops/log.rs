//! `log --verify`: the hash chain, and the chain's end checked against something outside the
//! file, the security key's signature counter.
//!
//! What it detects: any changed, inserted or removed line before the last (the chain); a cut
//! end, or entries rewritten from some line on with a recomputed chain, as soon as the key has
//! signed after the cut (its counter is ahead of the last one logged) — exactly on a key used
//! only for break-glass, as a warning with `--shared-key` (a YubiKey's counter is global across
//! its credentials); a fragment from a crash or a full disk (reported, not an error).
//! What it cannot detect: a cut end when the key is not at hand, or on a PIV CA (PIV signatures
//! carry no counter); a log replaced whole together with every copy of its head (write the head
//! hash and count down; the hosts' sshd logs hold the head in each default key id).

use std::path::PathBuf;

use serde::Serialize;

use crate::delivery::audit::{self, AuditEntry, Verified};
use crate::token::{self, BackendChoice, CaSource};
use crate::ui::Ui;
use crate::{Error, Result};

/// What `log --verify` asks for.
#[derive(Debug, Clone)]
pub struct VerifyRequest {
    /// The log.
    pub path: PathBuf,
    /// The CA whose key's counter to compare (`--ca`, else `./sk-user-ca.pub`).
    pub ca: Option<PathBuf>,
    /// Token choice.
    pub backend: BackendChoice,
    /// Which key, when several are connected.
    pub device: Option<String>,
    /// The key also signs for other services: a counter ahead is a warning, not a failure.
    pub shared_key: bool,
}

/// How the key's counter compares with the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum CounterCheck {
    /// The key's counter follows the last logged one.
    Matches {
        /// The key's counter now (the check itself was logged with it).
        #[serde(with = "crate::json_u64")]
        key: u64,
    },
    /// The key has signed more than the log records (only with `shared_key`; otherwise an error).
    KeyAhead {
        /// Last counter in the log.
        #[serde(with = "crate::json_u64::option")]
        logged: Option<u64>,
        /// The key's counter now.
        #[serde(with = "crate::json_u64")]
        key: u64,
    },
    /// Not checked, and why (no CA file here, no key at hand, a PIV CA).
    NotChecked {
        /// Why.
        reason: String,
    },
}

/// What `log --verify` found.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// The log.
    pub path: PathBuf,
    /// The chain.
    #[serde(flatten)]
    pub chain: Verified,
    /// The counter anchor.
    pub counter: CounterCheck,
}

/// Verifies the chain, then compares the key's signature counter with the last one logged,
/// recording the check (with the counter it read) in the log.
pub fn verify(req: &VerifyRequest, ui: &mut dyn Ui) -> Result<VerifyReport> {
    let chain = audit::verify(&req.path)?;
    let counter = match read_counter(req, ui) {
        Err(reason) => CounterCheck::NotChecked { reason },
        Ok(None) => CounterCheck::NotChecked {
            reason: "a PIV CA's signatures carry no counter".into(),
        },
        Ok(Some((key, fingerprint))) => {
            // The check's own assertion advanced the counter by one (or not, on some keys).
            // Only this CA's entries count: another key (the backup, or a lost key that signed
            // more often than its replacement) has a counter of its own.
            let logged = audit::last_counter_of(&req.path, &fingerprint)?;
            // An empty log on a key that has signed (beyond the check itself) was cut too.
            let expected_max = logged.map_or(1, |l| l + 1);
            // A failed check is recorded without the counter field, so it never becomes the
            // new anchor: the finding stands until the key signs again through breakglass.
            let mut entry = AuditEntry::new("counter-check");
            entry.ca_fingerprint = Some(fingerprint);
            let finding = format!(
                "the key's counter is {key}, the log's last is {}",
                logged.map_or("none".into(), |l| l.to_string())
            );
            if logged.is_some_and(|l| key < l) {
                entry.result = "failed: key-behind".into();
                entry.detail = Some(finding);
                audit::append(&req.path, &entry)?;
                return Err(Error::CounterBehind {
                    logged: logged.unwrap_or_default(),
                    key,
                });
            }
            if key > expected_max {
                entry.result = "failed: key-ahead".into();
                entry.detail = Some(finding);
                audit::append(&req.path, &entry)?;
                if !req.shared_key {
                    return Err(Error::CounterAhead { logged, key });
                }
                CounterCheck::KeyAhead { logged, key }
            } else {
                entry.counter = Some(key);
                audit::append(&req.path, &entry)?;
                CounterCheck::Matches { key }
            }
        }
    };
    let chain = if matches!(counter, CounterCheck::NotChecked { .. }) {
        chain
    } else {
        audit::verify(&req.path)? // the check added an entry: report the new head
    };
    Ok(VerifyReport {
        path: req.path.clone(),
        chain,
        counter,
    })
}

/// The key's counter through the CA, with the CA's fingerprint; `Err(reason)` when it cannot be
/// read here.
fn read_counter(
    req: &VerifyRequest,
    ui: &mut dyn Ui,
) -> std::result::Result<Option<(u64, String)>, String> {
    let source = CaSource::choose(req.ca.as_deref(), "ssh:");
    let CaSource::File(path) = &source else {
        return Err(
            "no CA file (pass --ca CA.pub, or run in the directory of sk-user-ca.pub)".into(),
        );
    };
    let expected = source
        .expected()
        .map_err(|e| e.to_string())?
        .ok_or("the CA file could not be read")?;
    let token = token::open(req.backend, req.device.as_deref(), Some((path, &expected)))
        .map_err(|e| format!("the key is not at hand ({e})"))?;
    let fingerprint = expected.fingerprint(ssh_key::HashAlg::Sha256).to_string();
    token
        .signature_counter(&source, Some(&expected), ui)
        .map(|c| c.map(|c| (c, fingerprint)))
        .map_err(|e| format!("the key's counter could not be read ({e})"))
}
