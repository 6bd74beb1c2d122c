//! `fleet-drill`: proves with one touch that every host of a fleet will open on the day. One
//! drill certificate (at most 10 minutes, key id `drill YYYY-MM-DD …`, forced command = the
//! probe with a fresh nonce, no pty, no forwarding) is minted through `mint` itself (same
//! token, same audit entry); then OpenSSH's `ssh` logs in to every host in parallel with that
//! certificate only, and the probe's answer is judged against what the fleet should have: the
//! break-glass CAs (`--ca`), the newest KRL (`--krl`), the alert rule (`--alert`), the
//! two-person account (`--two-person`). A host is ready only when the nonce came back (the
//! certificate itself opened the session) and every check passed.
//!
//! The same drill through Ansible (deploy/ansible/drill.yml) uses [`mint_drill`] on the
//! controller, the same probe on every host, and [`judge_raw`] to write the same report.

pub mod error;
pub mod hosts;
pub mod judge;
pub mod probe;
pub mod run;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use sha2::Digest;
use ssh_key::HashAlg;

pub use error::FleetDrillError;
pub use hosts::Destination;
pub use judge::{Expect, HostRow, Login};

use crate::delivery::release::Delivery;
use crate::ops::mint::{self, MintRequest};
use crate::ops::sign_spec::{LifetimePolicy, SignFlags, SignSpec};
use crate::ssh::keyfile::KeyType;
use crate::token::BackendChoice;
use crate::ui::Ui;
use crate::Result;

/// The drill certificate's validity: ten minutes, one of them before now for clock skew.
pub const VALIDITY: &str = "-1m:+9m";
/// Its lifetime policy: never more than ten minutes.
pub const MAX_LIFETIME: u64 = 600;
/// The default `--parallel`.
pub const DEFAULT_PARALLEL: usize = 32;
/// The default per-host timeout, seconds.
pub const DEFAULT_TIMEOUT: u64 = 20;

/// What the drill certificate is minted with.
#[derive(Debug, Clone, Default)]
pub struct DrillCert {
    /// `-n`: login names for destinations without one (the first) and extra principals.
    pub principals: Vec<String>,
    /// `--ca`: the CA files; the first signs, all are expected on every host.
    pub ca_files: Vec<PathBuf>,
    /// The FIDO2 application when there is no CA file.
    pub application: String,
    /// `--backend`.
    pub backend: BackendChoice,
    /// `--device`.
    pub device: Option<String>,
    /// `--from`: the certificate's source-address.
    pub from: Option<String>,
    /// `--reason`.
    pub reason: Option<String>,
    /// `--two-person NAME`: the probe asks whether the account exists.
    pub two_person: Option<String>,
}

/// The minted drill certificate and what the hosts are judged against.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Minted {
    /// The drill key (its certificate beside it, `KEY-cert.pub`).
    pub key: PathBuf,
    /// The nonce in the forced command.
    pub nonce: String,
    /// The certificate's key id.
    pub key_id: String,
    /// Its serial.
    #[serde(with = "crate::json_u64")]
    pub serial: u64,
    /// Its principals.
    pub principals: Vec<String>,
    /// What every host must show.
    pub expect: Expect,
    /// When it was minted (seconds since the epoch): when the drill started.
    #[serde(default, with = "crate::json_u64")]
    pub minted: u64,
}

/// The report: one row per host, in the hosts file's order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The drill certificate's key id.
    pub key_id: String,
    /// Its serial.
    #[serde(with = "crate::json_u64")]
    pub serial: u64,
    /// When the drill started, UTC (`YYYY-MM-DD HH:MM:SS`).
    pub started: String,
    /// Hosts ready.
    pub ready: usize,
    /// Hosts drilled.
    pub total: usize,
    /// Wall time of the fan-out, seconds.
    pub seconds: f64,
    /// One row per host.
    pub hosts: Vec<HostRow>,
}

/// Reads the hosts file (`-`: stdin), at most 16 MiB.
pub fn read_hosts(path: &Path) -> Result<Vec<Destination>> {
    let io = |source| FleetDrillError::HostsRead {
        path: path.to_path_buf(),
        source,
    };
    let mut text = String::new();
    if path == Path::new("-") {
        std::io::stdin()
            .take(16 << 20)
            .read_to_string(&mut text)
            .map_err(io)?;
    } else {
        std::fs::File::open(path)
            .and_then(|f| f.take(16 << 20).read_to_string(&mut text))
            .map_err(io)?;
    }
    let hosts = hosts::parse(&text).map_err(|f| FleetDrillError::HostsLine {
        path: path.to_path_buf(),
        line: f.line,
        why: f.why,
    })?;
    if hosts.is_empty() {
        return Err(FleetDrillError::NoHosts(path.to_path_buf()).into());
    }
    Ok(hosts)
}

/// `BREAKGLASS_FLEET_TEST_ROOTS=1`: the drill runs against a test fleet whose sshds point the
/// probe at their own trees (`SetEnv BREAKGLASS_PROBE_ROOT`); without it, a host whose probe was
/// redirected is never ready (a user's environment could point it at a fake tree).
pub const TEST_ROOTS_ENV: &str = "BREAKGLASS_FLEET_TEST_ROOTS";

fn test_roots() -> bool {
    std::env::var_os(TEST_ROOTS_ENV).is_some_and(|v| v == "1")
}

/// The fingerprints of the `--ca` files (one key each) and the `--krl` file's version and
/// digest.
pub fn expectations(
    ca_files: &[PathBuf],
    krl: Option<&Path>,
    alert: bool,
    two_person: Option<&str>,
) -> Result<Expect> {
    let mut cas = Vec::new();
    for f in ca_files {
        let bad = |why: String| FleetDrillError::Ca {
            path: f.clone(),
            why,
        };
        let keys = crate::ops::host_config::read_ca_file(f).map_err(|e| bad(e.to_string()))?;
        match keys.as_slice() {
            [k] => cas.push(k.key.fingerprint(HashAlg::Sha256).to_string()),
            _ => {
                return Err(bad(format!(
                    "{} holds {} keys, not one",
                    f.display(),
                    keys.len()
                ))
                .into())
            }
        }
    }
    let krl = match krl {
        None => None,
        Some(p) => {
            // One bounded read: the version and the digest are of the same bytes.
            let k = crate::ops::revoke::read_krl_file(p)?
                .ok_or_else(|| FleetDrillError::KrlMissing(p.to_path_buf()))?;
            Some(judge::KrlExpect {
                version: k.krl_version,
                sha256: crate::hex::encode(&sha2::Sha256::digest(k.bytes())),
            })
        }
    };
    Ok(Expect {
        cas,
        krl,
        alert,
        two_person: two_person.map(str::to_string),
        test_roots: test_roots(),
    })
}

/// The login names the certificate needs: `-n`, then every name the hosts file uses.
fn principals(hosts: &[Destination], n: &[String], file: &Path) -> Result<Vec<String>> {
    let mut p: Vec<String> = n.to_vec();
    for d in hosts {
        match &d.user {
            Some(u) if !p.contains(u) => p.push(u.clone()),
            Some(_) => {}
            None if n.is_empty() => {
                return Err(FleetDrillError::NoUser {
                    path: file.to_path_buf(),
                    line: d.line,
                }
                .into())
            }
            None => {}
        }
    }
    Ok(p)
}

/// Mints the drill certificate into `dir` (`dir/drill`, `drill.pub`, `drill-cert.pub`, 0600)
/// with one touch, through `mint` (audit entry first). `expect` gets the signing CA when no
/// `--ca` was given.
pub fn mint_drill(
    c: &DrillCert,
    mut expect: Expect,
    dir: &Path,
    now: u64,
    ui: &mut dyn Ui,
) -> Result<Minted> {
    if let Some(name) = &c.two_person {
        // It goes into the certificate's forced command: host-config's own rule for the
        // account, checked on the whole name (no `#` comment or newline is dropped first).
        if crate::ops::host_config::two_person::check_user(name).is_err() {
            return Err(FleetDrillError::TwoPersonName(name.clone()).into());
        }
    }
    if let Some(list) = &c.from {
        crate::ssh::cert_options::check_source_address(list).map_err(|(entry, reason)| {
            FleetDrillError::From {
                list: list.clone(),
                entry: entry.to_string(),
                reason,
            }
        })?;
    }
    let nonce = probe::nonce()?;
    let mut options = vec![
        "clear".to_string(),
        format!(
            "force-command={}",
            probe::force_command(&nonce, c.two_person.as_deref())
        ),
    ];
    if let Some(from) = &c.from {
        options.push(format!("source-address={from}"));
    }
    let date = chrono::DateTime::from_timestamp(now as i64, 0)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    let mut key_id = format!(
        "drill {date} {}@{} {}",
        crate::paths::operator(),
        crate::paths::hostname(),
        &nonce[..8]
    );
    if c.backend.0 == Some(crate::token::Backend::Sim) {
        key_id.push_str(" SIMULATED");
    }
    let key_id: String = key_id
        .chars()
        .take(crate::ssh::key_id::MAX_KEY_ID)
        .collect();
    let spec = SignSpec::for_fleet_drill(
        SignFlags {
            principals: (!c.principals.is_empty()).then(|| c.principals.join(",")),
            validity: Some(VALIDITY.into()),
            reason: c.reason.clone(),
            options,
            key_id: Some(key_id),
            serial: None,
            host: false,
            backend: c.backend,
            device: c.device.clone(),
        },
        &LifetimePolicy {
            max: MAX_LIFETIME,
            allow_long: false,
        },
        now,
        ui,
    )?;
    let key = dir.join("drill");
    let req = MintRequest {
        spec,
        ca: c.ca_files.first().cloned(),
        application: c.application.clone(),
        key_type: KeyType::Ed25519,
        delivery: Delivery::Files {
            out: key.clone(),
            force: false,
        },
        pubkey: None,
    };
    let o = mint::mint(&req, ui)?;
    if expect.cas.is_empty() {
        expect.cas.push(o.certificate.ca_fingerprint.clone());
    }
    Ok(Minted {
        key,
        nonce,
        key_id: o.certificate.key_id.clone(),
        serial: o.certificate.serial,
        principals: o.certificate.principals.clone(),
        expect,
        minted: now,
    })
}

/// How the fan-out runs.
#[derive(Debug, Clone)]
pub struct FanOut {
    /// `--parallel`.
    pub parallel: usize,
    /// `--timeout`, seconds per host.
    pub timeout: u64,
    /// `--known-hosts`.
    pub known_hosts: Option<PathBuf>,
    /// `--ssh-config`.
    pub ssh_config: Option<PathBuf>,
}

/// `ssh` on PATH.
pub fn find_ssh() -> Result<PathBuf> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join("ssh"))
        .find(|p| p.is_file())
        .ok_or_else(|| FleetDrillError::SshMissing.into())
}

/// The whole drill: reads `hosts_file`, mints, logs in everywhere, judges.
pub fn fleet_drill(
    hosts_file: &Path,
    cert: &DrillCert,
    expect: Expect,
    fan: &FanOut,
    now: u64,
    ui: &mut dyn Ui,
) -> Result<Report> {
    let hosts = read_hosts(hosts_file)?;
    let ssh = find_ssh()?;
    let mut cert = cert.clone();
    cert.principals = principals(&hosts, &cert.principals, hosts_file)?;
    let dir = tempfile::Builder::new()
        .prefix("breakglass-fleet-drill")
        .tempdir()
        .map_err(|e| crate::Error::io("create", &std::env::temp_dir(), e))?;
    let m = mint_drill(&cert, expect, dir.path(), now, ui)?;
    let settings = run::SshSettings {
        key: m.key.clone(),
        known_hosts: fan.known_hosts.clone(),
        ssh_config: fan.ssh_config.clone(),
        timeout: fan.timeout,
        default_user: cert.principals.first().cloned().unwrap_or_default(),
    };
    let start = Instant::now();
    let rows = run::fan_out(&hosts, fan.parallel, |d| {
        let t = Instant::now();
        let login = run::login(&ssh, d, &settings);
        judge::judge(
            d.to_string(),
            &login,
            &m.nonce,
            &m.expect,
            t.elapsed().as_secs_f64(),
        )
    });
    Ok(report(&m, rows, now, start.elapsed().as_secs_f64()))
}

/// The report of `rows`.
pub fn report(m: &Minted, rows: Vec<HostRow>, now: u64, seconds: f64) -> Report {
    Report {
        key_id: m.key_id.clone(),
        serial: m.serial,
        started: crate::ssh::validity::format_time_utc(now),
        ready: rows.iter().filter(|r| r.ready).count(),
        total: rows.len(),
        seconds: (seconds * 100.0).round() / 100.0,
        hosts: rows,
    }
}

/// One host's raw result from another engine (Ansible): the probe's output, ssh's exit status
/// and error text.
#[derive(Debug, Clone, Deserialize)]
pub struct RawResult {
    /// The destination.
    pub destination: String,
    /// ssh's exit status (255: ssh itself failed; `null`: unreachable before ssh ran).
    pub rc: Option<i32>,
    /// What the host printed.
    #[serde(default)]
    pub stdout: String,
    /// ssh's error text.
    #[serde(default)]
    pub stderr: String,
    /// Whether the engine marked the host unreachable.
    #[serde(default)]
    pub unreachable: bool,
    /// Seconds the host took.
    #[serde(default)]
    pub seconds: f64,
}

/// Judges raw results against a minted drill (the Ansible path's last step).
pub fn judge_raw(m: &Minted, raw: &[RawResult], now: u64, seconds: f64) -> Report {
    let rows = raw
        .iter()
        .map(|r| {
            let code = if r.unreachable {
                255
            } else {
                r.rc.unwrap_or(255)
            };
            let stdout: Vec<u8> = r.stdout.bytes().take(probe::MAX_OUTPUT).collect();
            // Ansible puts its own words before ssh's.
            let stderr: String = r
                .stderr
                .lines()
                .map(|l| l.rsplit_once("to the host via ssh: ").map_or(l, |(_, s)| s))
                .collect::<Vec<_>>()
                .join("\n");
            let login = run::classify(code, stdout, &stderr);
            judge::judge(
                r.destination.clone(),
                &login,
                &m.nonce,
                &m.expect,
                r.seconds,
            )
        })
        .collect();
    report(m, rows, now, seconds)
}

/// Reads a report (`--report FILE.json`), bounded.
pub fn read_report(path: &Path) -> Result<Report> {
    let bad = |why: String| FleetDrillError::Report {
        path: path.to_path_buf(),
        why,
    };
    let bytes = crate::input::read_bounded(path, 64 << 20).map_err(|e| bad(e.reason()))?;
    serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()).into())
}

/// The name of the drill's state file in `--mint-only DIR`.
pub const STATE_FILE: &str = "drill.json";

/// `--mint-only DIR` (the Ansible path's first step): mints into `DIR` (made 0700 when missing)
/// and writes `DIR/drill.json`, what [`judge_file`] judges against.
pub fn mint_only(
    c: &DrillCert,
    expect: Expect,
    dir: &Path,
    now: u64,
    ui: &mut dyn Ui,
) -> Result<Minted> {
    use std::os::unix::fs::DirBuilderExt;
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(dir)
            .map_err(|e| crate::Error::io("create", dir, e))?;
    }
    let state = dir.join(STATE_FILE);
    if state.exists() {
        return Err(crate::delivery::atomic::AtomicError::FileExists(state).into());
    }
    let m = mint_drill(c, expect, dir, now, ui)?;
    let text = serde_json::to_string_pretty(&m)?;
    // Atomic, 0600 from the first byte: a crash leaves no half-written state file.
    crate::delivery::atomic::write_all(
        &[crate::delivery::atomic::PlannedFile::private(
            state,
            text.into_bytes(),
        )],
        false,
    )?;
    Ok(m)
}

/// The raw results another engine collected: `{"seconds": S, "hosts": [RawResult…]}`.
#[derive(Debug, Clone, Deserialize)]
pub struct RawResults {
    /// Wall time of the whole fan-out, seconds.
    #[serde(default)]
    pub seconds: f64,
    /// One entry per host.
    pub hosts: Vec<RawResult>,
}

/// `--judge RESULTS.json`: the raw results judged against `state` (`drill.json`); the report
/// starts when the certificate was minted (`now` for a state file without that time).
pub fn judge_file(raw: &Path, state: &Path, now: u64) -> Result<Report> {
    let read = |p: &Path| -> Result<Vec<u8>> {
        crate::input::read_bounded(p, 64 << 20)
            .map(|b| b.to_vec())
            .map_err(|e| {
                FleetDrillError::Report {
                    path: p.to_path_buf(),
                    why: e.reason(),
                }
                .into()
            })
    };
    let bad = |p: &Path, e: serde_json::Error| FleetDrillError::Report {
        path: p.to_path_buf(),
        why: e.to_string(),
    };
    let m: Minted = serde_json::from_slice(&read(state)?).map_err(|e| bad(state, e))?;
    let r: RawResults = serde_json::from_slice(&read(raw)?).map_err(|e| bad(raw, e))?;
    let started = if m.minted == 0 { now } else { m.minted };
    Ok(judge_raw(&m, &r.hosts, started, r.seconds))
}
