//! One signing request, parsed once (as ripgrep's `HiArgs`): what the command line (or a request
//! message) asks to be signed, checked and typed before any work starts, then only read. `mint`
//! builds a [`SignSpec`] from its command line; `request` sends the [`Ask`] part of one (who,
//! when, why: all a requester may ask for); `approve` parses its own command line into an
//! [`ApproverSpec`] and, when the request arrives, [`ApproverSpec::grant`]s a [`SignSpec`] from
//! the request message narrowed by it. Nothing below re-parses a string the user typed: the
//! principals are a [`Principals`], the key id a [`KeyId`] (the one rule every key id passes),
//! `-O` a [`CertOptions`], `--backend` a [`TokenChoice`], read once.

use ssh_key::PublicKey;

use crate::delivery::messages::{CheckedRequest, Request};
use crate::ops::lifetime;
use crate::sanitize::is_dangerous;
use crate::ssh::cert::CertFields;
use crate::ssh::cert_options::CertOptions;
use crate::ssh::key_id::{KeyId, KeyIdFault};
use crate::ssh::principals::Principals;
use crate::ssh::summary;
use crate::ssh::validity::{self, Validity};
use crate::token::{self, Backend, BackendChoice, CaSigner, CaSource};
use crate::ui::Ui;
use crate::{Error, Result};

/// The default `-V`.
pub const DEFAULT_VALIDITY: &str = "-5m:+60m";
/// The default lifetime policy: 24 hours.
pub const DEFAULT_MAX_LIFETIME: u64 = 24 * 3600;

/// What a command line said about the certificate, as typed (the binary fills it from its
/// arguments; a constructor below turns it into a [`SignSpec`] or an [`ApproverSpec`]).
#[derive(Debug, Clone, Default)]
pub struct SignFlags {
    /// `-n`, as typed (comma separated).
    pub principals: Option<String>,
    /// `-V`, as typed.
    pub validity: Option<String>,
    /// `--reason`.
    pub reason: Option<String>,
    /// `-O`, in order.
    pub options: Vec<String>,
    /// `-I`.
    pub key_id: Option<String>,
    /// `-z`.
    pub serial: Option<u64>,
    /// `--host`: a host certificate.
    pub host: bool,
    /// `--backend` (this command's, else the one before it, else the environment's).
    pub backend: BackendChoice,
    /// `--device`.
    pub device: Option<String>,
}

/// One signing request: who may log in, when, why, and what only the CA's holder decides.
#[derive(Debug, Clone)]
pub struct SignSpec {
    /// Who, when, why.
    pub ask: Ask,
    /// Options, key id, serial, certificate type, token.
    pub ca: CaChoices,
    /// When it was made (seconds since the epoch): relative `-V` parts count from it, and the
    /// certificate is signed as of it.
    pub now: u64,
}

/// Who, when and why: everything a requester may ask for, and what a request message carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ask {
    /// `-n`.
    pub principals: Principals,
    /// `-V`.
    pub validity: Window,
    /// `--reason`, without control characters.
    pub reason: Option<String>,
}

/// A validity and the `-V` text it stands for (what messages quote).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// The interval.
    pub validity: Validity,
    /// `-V` as typed, or ssh-keygen's absolute form of a validity that arrived as numbers.
    pub text: String,
}

/// What only the CA's holder decides.
#[derive(Debug, Clone)]
pub struct CaChoices {
    /// `-O`, parsed (none at all for a host certificate).
    pub options: CertOptions,
    /// `-I`; `None`: a default id, made when signing ([`SignSpec::key_id_or`]).
    pub key_id: Option<KeyId>,
    /// `-z`; `None`: random and non-zero ([`CaChoices::serial`]).
    pub serial: Option<u64>,
    /// A host certificate (`--host`): the principals are host names.
    pub host: bool,
    /// Which token signs.
    pub token: TokenChoice,
}

/// Which token signs: `--backend` and `--device`, read once.
#[derive(Debug, Clone, Default)]
pub struct TokenChoice {
    /// The backend; `None` for the hardware that is present.
    pub backend: BackendChoice,
    /// Which key when several are connected.
    pub device: Option<String>,
}

/// The lifetime policy: `--max-lifetime` and `--allow-long`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LifetimePolicy {
    /// The longest lifetime, seconds.
    pub max: u64,
    /// `--allow-long`: no limit, open ends allowed.
    pub allow_long: bool,
}

/// What an approver typed: a narrower `-n` and `-V` (optional; for a bare public key, which asks
/// for nothing, `-n` is required and `-V` defaults to [`DEFAULT_VALIDITY`]), and the CA's
/// choices.
#[derive(Debug, Clone)]
pub struct ApproverSpec {
    /// `-n`: a subset of the principals asked for.
    pub principals: Option<Principals>,
    /// `-V` as typed (its grammar checked by [`ApproverSpec::parse`]): parsed again when the
    /// request arrives, so that its relative parts count from then, and cut to the validity
    /// asked for.
    pub validity: Option<String>,
    /// Options, key id, serial, token.
    pub ca: CaChoices,
}

fn principals(typed: &str) -> Result<Principals> {
    Principals::parse(typed).map_err(|e| Error::Principals(e.to_string()))
}

/// `--reason` may not carry control characters: it goes into the key id and the audit log.
fn reason(typed: Option<String>) -> Result<Option<String>> {
    match typed {
        Some(r) if r.chars().any(is_dangerous) => {
            Err(Error::ControlCharacters { what: "--reason" })
        }
        r => Ok(r),
    }
}

impl SignSpec {
    /// `mint`'s command line, checked in the order a user would fix it: `-n`, `-V` and the
    /// lifetime policy (a bare number of seconds giving a few minutes needs a yes through `ui`),
    /// `-O`, `--reason`, `-I`.
    pub fn for_mint(
        f: SignFlags,
        policy: &LifetimePolicy,
        now: u64,
        ui: &mut dyn Ui,
    ) -> Result<SignSpec> {
        let principals = principals(f.principals.as_deref().ok_or(Error::PrincipalsMissing)?)?;
        let validity = Window::parse(f.validity.as_deref().unwrap_or(DEFAULT_VALIDITY), now)?;
        policy.check_window(&validity, now)?;
        validity.confirm_bare_seconds(now, ui)?;
        let options = options(&f.options, f.host)?;
        let reason = reason(f.reason)?;
        let key_id = typed_key_id(f.key_id, Typist::Person)?;
        Ok(SignSpec {
            ask: Ask {
                principals,
                validity,
                reason,
            },
            ca: CaChoices {
                options,
                key_id,
                serial: f.serial,
                host: f.host,
                token: TokenChoice {
                    backend: f.backend,
                    device: f.device,
                },
            },
            now,
        })
    }

    /// [`SignSpec::for_mint`] for `fleet-drill`'s own certificate: its key id (which it builds,
    /// `drill YYYY-MM-DD …`) may start with [`crate::ssh::key_id::DRILL_PREFIX`], which the
    /// login alert pages as DRILL and a person's `-I` may not.
    pub fn for_fleet_drill(
        mut f: SignFlags,
        policy: &LifetimePolicy,
        now: u64,
        ui: &mut dyn Ui,
    ) -> Result<SignSpec> {
        let key_id = f.key_id.take();
        let mut spec = Self::for_mint(f, policy, now, ui)?;
        spec.ca.key_id = typed_key_id(key_id, Typist::FleetDrill)?;
        Ok(spec)
    }

    /// The key id to sign: `-I`, else the default, `fixed` (who, where, when, made by
    /// breakglass) and the reason, through the one key-id rule.
    pub fn key_id_or(&self, fixed: impl FnOnce() -> String) -> Result<KeyId> {
        match &self.ca.key_id {
            Some(id) => Ok(id.clone()),
            None => {
                KeyId::with_reason(fixed(), self.ask.reason.as_deref()).map_err(Error::DefaultKeyId)
            }
        }
    }

    /// The certificate's fields, with the key id and serial resolved.
    pub fn cert_fields(&self, key_id: KeyId, serial: u64, comment: String) -> CertFields {
        CertFields {
            serial,
            key_id,
            principals: self.ask.principals.clone(),
            validity: self.ask.validity.validity,
            options: self.ca.options.clone(),
            comment,
            host: self.ca.host,
        }
    }

    /// Warnings about what will be signed that are worth showing (a start in the future).
    pub fn warnings(&self) -> Vec<String> {
        let v = &self.ask.validity.validity;
        if v.valid_after > self.now {
            vec![format!(
                "the certificate is not valid before {}",
                validity::format_time_utc(v.valid_after)
            )]
        } else {
            Vec::new()
        }
    }
}

/// `-O`, or for a host certificate none at all (`-O` with `--host` is refused).
fn options(typed: &[String], host: bool) -> Result<CertOptions> {
    if host {
        if !typed.is_empty() {
            return Err(Error::HostCertOptions);
        }
        return Ok(CertOptions::default());
    }
    Ok(CertOptions::from_ssh_keygen_options(typed)?)
}

/// Who gave a key id.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Typist {
    /// A person (`mint -I`, `approve -I`): not a drill's id ([`KeyId::typed`]).
    Person,
    /// `fleet-drill`, for its own certificate.
    FleetDrill,
}

/// `-I` through the one key-id rule.
fn typed_key_id(typed: Option<String>, by: Typist) -> Result<Option<KeyId>> {
    typed
        .map(|id| {
            match by {
                Typist::Person => KeyId::typed(id),
                Typist::FleetDrill => KeyId::new(id),
            }
            .map_err(|f| match f {
                KeyIdFault::Empty => Error::EmptyKeyId,
                KeyIdFault::ControlCharacters => Error::ControlCharacters { what: "-I" },
                fault @ (KeyIdFault::TooLong(_) | KeyIdFault::DrillPrefix) => {
                    Error::KeyIdRule { what: "-I", fault }
                }
            })
        })
        .transpose()
}

impl Ask {
    /// `request`'s command line: `-n`, `-V` (which must not have ended), `--reason` (at most
    /// `max_reason` bytes: it travels in a message of bounded size).
    pub fn for_request(
        principals_typed: &str,
        validity_typed: &str,
        reason_typed: Option<String>,
        max_reason: usize,
        now: u64,
    ) -> Result<Ask> {
        let principals = principals(principals_typed)?;
        let validity = Window::parse(validity_typed, now)?;
        validity.check_not_past(now)?;
        let reason = reason(reason_typed)?;
        if reason.as_ref().is_some_and(|r| r.len() > max_reason) {
            return Err(Error::Policy(format!(
                "--reason is longer than {max_reason} bytes"
            )));
        }
        Ok(Ask {
            principals,
            validity,
            reason,
        })
    }

    /// What a checked request message asks for.
    pub fn from_request(r: &CheckedRequest) -> Ask {
        Ask {
            principals: r.principals.clone(),
            validity: Window::from_validity(r.validity),
            reason: r.reason.clone(),
        }
    }

    /// The request message that asks for this, for `public_key` (one OpenSSH line), from
    /// `requester` (`user@host`).
    pub fn to_request(&self, public_key: String, requester: String) -> Request {
        Request {
            public_key,
            principals: self.principals.to_vec(),
            valid_after: self.validity.validity.valid_after,
            valid_before: self.validity.validity.valid_before,
            reason: self.reason.clone(),
            requester,
        }
    }
}

impl Window {
    /// Parses `-V` (ssh-keygen's grammar) with relative parts counted from `now`.
    pub fn parse(text: &str, now: u64) -> Result<Window> {
        Ok(Window {
            validity: validity::parse_validity(text, now)?,
            text: text.to_string(),
        })
    }

    /// A validity that arrived as numbers, named by its absolute `-V` form.
    pub fn from_validity(v: Validity) -> Window {
        Window {
            validity: v,
            text: absolute_spec(&v),
        }
    }

    /// Refuses a window that has already ended: the certificate would be useless.
    pub fn check_not_past(&self, now: u64) -> Result<()> {
        if self.validity.valid_before <= now {
            return Err(Error::ValidityPast {
                spec: self.text.clone(),
                end: self.validity.valid_before,
            });
        }
        Ok(())
    }

    /// A bare number of seconds that leaves only a few minutes is surely a typo
    /// ([`lifetime::suspicious`]): it needs a yes through `ui`, and is refused without one.
    pub fn confirm_bare_seconds(&self, now: u64, ui: &mut dyn Ui) -> Result<()> {
        let Some(life) = lifetime::suspicious(&self.text, &self.validity, now) else {
            return Ok(());
        };
        let question = format!(
            "-V {} leaves only {} from now (a number without a unit is seconds). Mint it anyway? [y/N] ",
            self.text,
            lifetime::exact(life)
        );
        if ui.confirm(&question) != Some(true) {
            return Err(Error::BareSeconds {
                spec: self.text.clone(),
                lifetime: life,
            });
        }
        Ok(())
    }
}

/// A validity as ssh-keygen's absolute `-V` (UTC), for messages and the audit log.
pub fn absolute_spec(v: &Validity) -> String {
    let t = |s: u64| {
        chrono::DateTime::from_timestamp(s as i64, 0)
            .map(|d| d.format("%Y%m%d%H%M%SZ").to_string())
            .unwrap_or_else(|| s.to_string())
    };
    let a = if v.valid_after == 0 {
        "always".into()
    } else {
        t(v.valid_after)
    };
    let b = if v.valid_before == Validity::FOREVER {
        "forever".into()
    } else {
        t(v.valid_before)
    };
    format!("{a}:{b}")
}

impl LifetimePolicy {
    /// The policy for a `-V`: it must not have ended, then [`LifetimePolicy::check`].
    pub fn check_window(&self, w: &Window, now: u64) -> Result<()> {
        w.check_not_past(now)?;
        self.check(&w.validity, &format!("-V {}", w.text), now)
    }

    /// The policy for any validity (`subject` names it in the message): no open ends, at most
    /// `max` long, ending at most `max` from now, unless `allow_long`.
    pub fn check(&self, v: &Validity, subject: &str, now: u64) -> Result<()> {
        let max = self.max;
        if self.allow_long {
            return Ok(());
        }
        match v.lifetime() {
            _ if v.is_open_ended() => Err(Error::Policy(format!(
                "{subject} has no start or no end (always/forever); emergency certificates should expire"
            ))),
            // Exact, with the start ssh-keygen backdates to the minute: "1d" would hide the 40s
            // that make `-V +1d` longer than a --max-lifetime of 1d.
            Some(life) if life > max => Err(Error::Policy(format!(
                "{subject} gives a lifetime of {} (from {} to {}), above the --max-lifetime of {}",
                lifetime::exact(life),
                validity::format_time_utc(v.valid_after),
                validity::format_time_utc(v.valid_before),
                lifetime::exact(max)
            ))),
            // A short certificate that starts far in the future is a long-lived credential too.
            _ if v.valid_before.saturating_sub(now) > max => Err(Error::Policy(format!(
                "{subject} ends {} from now, beyond the --max-lifetime of {}",
                summary::human_duration(v.valid_before - now),
                summary::human_duration(max)
            ))),
            _ => Ok(()),
        }
    }
}

impl CaChoices {
    /// The serial to sign: `-z`, else random and non-zero. Serial 0 is allowed with a warning.
    pub fn serial(&self, warnings: &mut Vec<String>) -> Result<u64> {
        match self.serial {
            Some(0) => {
                warnings.push(
                    "serial 0 can never be revoked by serial in a KRL; revoke it by key id if needed"
                        .into(),
                );
                Ok(0)
            }
            Some(n) => Ok(n),
            None => loop {
                let mut b = [0u8; 8];
                getrandom::fill(&mut b).map_err(crate::error::randomness)?;
                let n = u64::from_be_bytes(b);
                if n != 0 {
                    return Ok(n);
                }
            },
        }
    }
}

impl TokenChoice {
    /// The simulated key was asked for (default key ids then say SIMULATED).
    pub fn simulated(&self) -> bool {
        self.backend.0 == Some(Backend::Sim)
    }

    /// The backend as the audit log names it (`auto` when none was chosen).
    pub fn name(&self) -> String {
        self.backend
            .0
            .map(|b| b.to_string())
            .unwrap_or_else(|| "auto".into())
    }

    /// Opens the token and finds the CA on it: the signer, before any touch.
    pub fn find_ca(
        &self,
        source: &CaSource,
        expected: Option<&PublicKey>,
        ui: &mut dyn Ui,
    ) -> Result<Box<dyn CaSigner>> {
        let token = token::open(
            self.backend,
            self.device.as_deref(),
            match (source, expected) {
                (CaSource::File(p), Some(k)) => Some((p.as_path(), k)),
                _ => None,
            },
        )?;
        token.find_ca(source, expected, ui)
    }
}

/// A bare public key says nothing about who may log in: the approver must.
fn bare_key_needs_n() -> Error {
    Error::Principals(
        "approve --text needs -n: a bare public key says nothing about the login names".into(),
    )
}

impl ApproverSpec {
    /// `approve`'s command line, checked before anything is received: `-n` (required for a
    /// `bare_key`), `-V`, `-O`, `-I`.
    pub fn parse(f: SignFlags, bare_key: bool, now: u64) -> Result<ApproverSpec> {
        let principals = match f.principals.as_deref() {
            Some(p) => Some(principals(p)?),
            None if bare_key => return Err(bare_key_needs_n()),
            None => None,
        };
        if let Some(v) = f.validity.as_deref() {
            // Parsed again when the request arrives; this catches typing errors now.
            Window::parse(v, now)?;
        }
        let options = options(&f.options, false)?;
        let key_id = typed_key_id(f.key_id, Typist::Person)?;
        Ok(ApproverSpec {
            principals,
            validity: f.validity,
            ca: CaChoices {
                options,
                key_id,
                serial: f.serial,
                host: false,
                token: TokenChoice {
                    backend: f.backend,
                    device: f.device,
                },
            },
        })
    }

    /// What a bare public key "asks" for, once it arrived at `now`: the approver's `-n` and `-V`
    /// (by default [`DEFAULT_VALIDITY`]) counted from `now`, which then narrow nothing further.
    pub fn bare_key_ask(&mut self, now: u64) -> Result<Ask> {
        let principals = self.principals.take().ok_or_else(bare_key_needs_n)?;
        let typed = self.validity.take();
        let validity = Window::parse(typed.as_deref().unwrap_or(DEFAULT_VALIDITY), now)?;
        Ok(Ask {
            principals,
            // Named by its absolute form, as a validity from a request message is.
            validity: Window::from_validity(validity.validity),
            reason: None,
        })
    }

    /// The spec to sign at `now`: `asked` narrowed by this approver (a subset of the principals,
    /// the validity, its relative parts counted from `now`, cut to the one asked for; anything
    /// wider is [`Error::RequestWidened`]), then the lifetime policy ([`Error::RequestPolicy`]).
    pub fn grant(&self, asked: &Ask, policy: &LifetimePolicy, now: u64) -> Result<SignSpec> {
        let principals = match &self.principals {
            Some(mine) => {
                if let Some(p) = mine.first_not_in(&asked.principals) {
                    return Err(Error::RequestWidened(format!(
                        "-n names '{p}', which the request did not ask for (it asked for {})",
                        asked.principals.join(", ")
                    )));
                }
                mine.clone()
            }
            None => asked.principals.clone(),
        };
        // The approver's -V is cut to the window asked for: it can shorten it, never extend it
        // (a relative -V typed a few seconds after the request would otherwise end a little
        // later).
        let validity = match &self.validity {
            Some(typed) => {
                let w = Window::parse(typed, now)?;
                let (v, a) = (&w.validity, &asked.validity.validity);
                let cut = Validity {
                    valid_after: v.valid_after.max(a.valid_after),
                    valid_before: v.valid_before.min(a.valid_before),
                };
                if cut.valid_after >= cut.valid_before {
                    return Err(Error::RequestWidened(format!(
                        "-V {} ({}) does not overlap the validity asked for ({})",
                        w.text,
                        absolute_spec(v),
                        absolute_spec(a)
                    )));
                }
                Window {
                    validity: cut,
                    text: w.text,
                }
            }
            None => asked.validity.clone(),
        };
        policy.check_window(&validity, now).map_err(|e| match e {
            Error::ValidityPast { .. } | Error::Policy(_) => Error::RequestPolicy(e.to_string()),
            e => e,
        })?;
        Ok(SignSpec {
            ask: Ask {
                principals,
                validity,
                reason: asked.reason.clone(),
            },
            ca: self.ca.clone(),
            now,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(a: u64, b: u64) -> Validity {
        Validity {
            valid_after: a,
            valid_before: b,
        }
    }

    fn policy(allow_long: bool) -> LifetimePolicy {
        LifetimePolicy {
            max: DEFAULT_MAX_LIFETIME,
            allow_long,
        }
    }

    fn window(a: u64, b: u64) -> Window {
        Window {
            validity: v(a, b),
            text: "x".into(),
        }
    }

    #[test]
    fn policy_refuses_long_and_open_ended_lifetimes() {
        let now = 1_000_000;
        let p = policy(false);
        assert!(p.check_window(&window(now - 300, now + 3600), now).is_ok());
        assert!(matches!(
            p.check_window(&window(now, now + 90000), now),
            Err(Error::Policy(_))
        ));
        assert!(matches!(
            p.check_window(&window(0, now + 60), now),
            Err(Error::Policy(_))
        ));
        assert!(matches!(
            p.check_window(&window(now, u64::MAX), now),
            Err(Error::Policy(_))
        ));
        assert!(policy(true)
            .check_window(&window(now, u64::MAX), now)
            .is_ok());
        assert!(matches!(
            policy(true).check_window(&window(1, 2), now),
            Err(Error::ValidityPast { .. })
        ));
        // One hour long, but starting in 300 days: still beyond the policy.
        let later = now + 300 * 86400;
        assert!(matches!(
            p.check_window(&window(later, later + 3600), now),
            Err(Error::Policy(_))
        ));
        assert!(policy(true)
            .check_window(&window(later, later + 3600), now)
            .is_ok());
    }

    fn flags(n: &str) -> SignFlags {
        SignFlags {
            principals: Some(n.into()),
            validity: Some(DEFAULT_VALIDITY.into()),
            ..SignFlags::default()
        }
    }

    fn mint_spec(f: SignFlags) -> Result<SignSpec> {
        let mut ui = crate::ui::ScriptedUi::default();
        SignSpec::for_mint(f, &policy(false), 1_800_000_000, &mut ui)
    }

    #[test]
    fn mint_flags_become_one_typed_spec() {
        let mut f = flags("ubuntu,root");
        f.reason = Some("INC-1".into());
        f.key_id = Some("incident 1".into());
        f.serial = Some(7);
        let s = mint_spec(f).unwrap();
        assert_eq!(&*s.ask.principals, ["ubuntu", "root"]);
        assert_eq!(
            s.ask.validity.validity,
            v(1_800_000_000 - 300, 1_800_000_000 + 3600)
        );
        assert_eq!(s.ask.validity.text, DEFAULT_VALIDITY);
        assert_eq!(s.ca.key_id.as_ref().unwrap().as_str(), "incident 1");
        assert_eq!(s.ca.serial(&mut Vec::new()).unwrap(), 7);
        assert_eq!(s.ca.options, CertOptions::user_default());
        assert_eq!(
            s.key_id_or(|| unreachable!("-I was given"))
                .unwrap()
                .as_str(),
            "incident 1"
        );
    }

    #[test]
    fn only_fleet_drill_may_sign_a_key_id_the_alert_pages_as_drill() {
        let drill = || {
            let mut f = flags("u");
            f.key_id = Some("drill 2026-12-08 real incident".into());
            f
        };
        // mint -I and approve -I: a usage error (exit 2), naming the reserved prefix.
        let e = mint_spec(drill()).unwrap_err();
        assert!(
            matches!(
                e,
                Error::KeyIdRule {
                    what: "-I",
                    fault: KeyIdFault::DrillPrefix
                }
            ),
            "{e:?}"
        );
        assert!(
            e.to_string()
                .starts_with("-I: the key id starts with \"drill \""),
            "{e}"
        );
        assert!(matches!(
            ApproverSpec::parse(drill(), false, 1_800_000_000),
            Err(Error::KeyIdRule {
                fault: KeyIdFault::DrillPrefix,
                ..
            })
        ));
        // fleet-drill's own certificate keeps its id.
        let mut ui = crate::ui::ScriptedUi::default();
        let s = SignSpec::for_fleet_drill(drill(), &policy(false), 1_800_000_000, &mut ui).unwrap();
        assert_eq!(
            s.ca.key_id.unwrap().as_str(),
            "drill 2026-12-08 real incident"
        );
        // ... through the rest of the rule all the same.
        let mut f = flags("u");
        f.key_id = Some("drill \x07".into());
        assert!(matches!(
            SignSpec::for_fleet_drill(f, &policy(false), 1_800_000_000, &mut ui),
            Err(Error::ControlCharacters { what: "-I" })
        ));
    }

    #[test]
    fn mint_flags_are_refused_with_the_messages_mint_has_always_printed() {
        let refused = |f: SignFlags| mint_spec(f).unwrap_err();
        assert!(matches!(
            refused(SignFlags::default()),
            Error::PrincipalsMissing
        ));
        assert!(matches!(refused(flags("a,,b")), Error::Principals(_)));
        let mut f = flags("u");
        f.key_id = Some(String::new());
        assert!(matches!(refused(f), Error::EmptyKeyId));
        let mut f = flags("u");
        f.key_id = Some("a\x1bb".into());
        assert!(matches!(
            refused(f),
            Error::ControlCharacters { what: "-I" }
        ));
        let mut f = flags("u");
        f.reason = Some("a\nb".into());
        assert!(matches!(
            refused(f),
            Error::ControlCharacters { what: "--reason" }
        ));
        let mut f = flags("u");
        f.host = true;
        f.options = vec!["no-pty".into()];
        assert!(matches!(refused(f), Error::HostCertOptions));
        let mut f = flags("u");
        f.validity = Some("+60".into());
        assert!(matches!(refused(f), Error::BareSeconds { .. }));
        // The order a user fixes them in: -n before -V before -I.
        let mut f = flags("");
        f.validity = Some("nonsense".into());
        f.key_id = Some(String::new());
        assert!(matches!(refused(f), Error::Principals(_)));
    }

    #[test]
    fn a_default_key_id_passes_the_rule_too() {
        let mut f = flags("u");
        f.reason = Some("db down".into());
        let s = mint_spec(f).unwrap();
        assert_eq!(
            s.key_id_or(|| "breakglass op@host".into())
                .unwrap()
                .as_str(),
            "breakglass op@host: db down"
        );
        assert!(matches!(
            s.key_id_or(|| "breakglass op\x1b@host".into()),
            Err(Error::DefaultKeyId(KeyIdFault::ControlCharacters))
        ));
    }

    #[test]
    fn serial_zero_warns_and_no_serial_is_random() {
        let mut s = mint_spec(flags("u")).unwrap();
        let mut w = Vec::new();
        assert_ne!(s.ca.serial(&mut w).unwrap(), 0);
        assert!(w.is_empty());
        s.ca.serial = Some(0);
        assert_eq!(s.ca.serial(&mut w).unwrap(), 0);
        assert_eq!(w.len(), 1);
    }

    fn asked() -> Ask {
        Ask {
            principals: Principals::parse("alice,bob").unwrap(),
            validity: Window::from_validity(v(1_000, 4_600)),
            reason: Some("db down".into()),
        }
    }

    fn approver(n: Option<&str>, v: Option<&str>) -> ApproverSpec {
        ApproverSpec::parse(
            SignFlags {
                principals: n.map(Into::into),
                validity: v.map(Into::into),
                ..SignFlags::default()
            },
            false,
            2_000,
        )
        .unwrap()
    }

    #[test]
    fn an_approver_may_only_narrow() {
        let p = policy(false);
        let g = approver(None, None).grant(&asked(), &p, 2_000).unwrap();
        assert_eq!(g.ask, asked());
        let g = approver(Some("bob"), Some("-0:+10m"))
            .grant(&asked(), &p, 2_000)
            .unwrap();
        assert_eq!(&*g.ask.principals, ["bob"]);
        assert_eq!(g.ask.validity.validity, v(2_000, 2_600));
        assert_eq!(g.ask.validity.text, "-0:+10m");
        assert_eq!(g.ask.reason.as_deref(), Some("db down"));
        // A relative -V counts from when the request arrives, not from when approve started.
        let g = approver(None, Some("-0:+10m"))
            .grant(&asked(), &p, 2_100)
            .unwrap();
        assert_eq!(g.ask.validity.validity, v(2_100, 2_700));
        // Cut to what was asked: the end never moves later.
        let g = approver(None, Some("-0:+2h"))
            .grant(&asked(), &p, 2_000)
            .unwrap();
        assert_eq!(g.ask.validity.validity, v(2_000, 4_600));
        let e = approver(Some("root"), None)
            .grant(&asked(), &p, 2_000)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "-n names 'root', which the request did not ask for (it asked for alice, bob)"
        );
        let e = approver(None, Some("+2h:+3h"))
            .grant(&asked(), &p, 2_000)
            .unwrap_err();
        assert!(matches!(e, Error::RequestWidened(_)), "{e}");
        let mut long = asked();
        long.validity = Window::from_validity(v(1_000, 1_000 + 2 * 86400));
        let e = approver(None, None).grant(&long, &p, 2_000).unwrap_err();
        assert!(matches!(e, Error::RequestPolicy(_)), "{e}");
    }

    #[test]
    fn a_bare_key_asks_for_the_approvers_own_flags() {
        let e = ApproverSpec::parse(SignFlags::default(), true, 2_000).unwrap_err();
        assert!(e.to_string().starts_with("approve --text needs -n"), "{e}");
        let mut a = ApproverSpec::parse(
            SignFlags {
                principals: Some("alice".into()),
                ..SignFlags::default()
            },
            true,
            2_000,
        )
        .unwrap();
        // Counted from when the key arrived, not from when approve started.
        let ask = a.bare_key_ask(9_999).unwrap();
        assert_eq!(&*ask.principals, ["alice"]);
        assert_eq!(ask.validity.validity, v(9_699, 13_599));
        assert_eq!(ask.validity.text, absolute_spec(&v(9_699, 13_599)));
        assert!(a.principals.is_none() && a.validity.is_none());
        assert!(a.bare_key_ask(2_000).is_err(), "asked twice");
    }

    #[test]
    fn request_flags() {
        let a = Ask::for_request("alice", "-5m:+60m", Some("why".into()), 1024, 2_000).unwrap();
        assert_eq!(
            a.to_request("KEY".into(), "alice@laptop".into())
                .valid_before,
            5_600
        );
        assert!(matches!(
            Ask::for_request("alice", "-2h:-1h", None, 1024, 20_000),
            Err(Error::ValidityPast { .. })
        ));
        assert!(matches!(
            Ask::for_request("alice", "+1h", Some("x".repeat(1025)), 1024, 2_000),
            Err(Error::Policy(_))
        ));
        assert_eq!(absolute_spec(&v(0, Validity::FOREVER)), "always:forever");
        assert_eq!(
            absolute_spec(&v(1_800_000_000, 1_800_003_600)),
            "20270115080000Z:20270115090000Z"
        );
    }
}
