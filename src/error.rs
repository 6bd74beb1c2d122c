//! The library's error: its own variants, one per situation, beside one variant per room's
//! error (the token's, a file set's, a transfer's, the agent's, host-config's, a KRL's), which
//! it asks. Through [`Diagnostic`] each says what happened (its message: one sentence, no final
//! full stop, the printer adds it), what to do next (`hint`), its exit code (2 only for what the
//! user typed wrong on the command line) and its kind. Nothing here ever contains a PIN or key
//! material. Text from outside is kept raw; the binary sanitises it once, where it is printed.

use std::path::{Path, PathBuf};

use crate::delivery::agent::AgentError;
use crate::delivery::atomic::AtomicError;
#[cfg(feature = "wormhole")]
use crate::delivery::transfer::TransferError;
use crate::diagnostic::{Diagnostic, FAILURE, USAGE};
use crate::ssh::cert_options::OptionError;
use crate::ssh::key_id::KeyIdFault;
use crate::ssh::validity::{self, ValidityError};
use crate::token::TokenError;

/// Everything that can go wrong, phrased for the person at the keyboard.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    // --- The command line (exit 2) ---
    /// `-n` is empty, has an empty or blank name, or too many names.
    #[error("{0}")]
    Principals(String),

    /// A value typed on the command line holds control characters.
    #[error("{what} must not contain control characters")]
    ControlCharacters {
        /// Which value, e.g. "-I".
        what: &'static str,
    },

    /// `-I ''`.
    #[error("-I must not be empty")]
    EmptyKeyId,

    /// A key id typed on the command line (`-I`) breaks the key-id rule (too long).
    #[error("{what}: the key id {fault}")]
    KeyIdRule {
        /// Which option, e.g. "-I".
        what: &'static str,
        /// What is wrong with it (its hint is the fix).
        fault: KeyIdFault,
    },

    /// `-V` did not parse; the message is ssh-keygen 9.2's own.
    #[error("invalid -V: {0}")]
    Validity(#[from] ValidityError),

    /// `-V` ends in the past.
    #[error("-V {spec} ends at {}, which is already past; the certificate would be useless", validity::format_time_utc(*.end))]
    ValidityPast {
        /// The spec as typed.
        spec: String,
        /// Its end, seconds since the epoch.
        end: u64,
    },

    /// `-O` did not parse.
    #[error("invalid -O: {0}")]
    CertOption(#[from] OptionError),

    /// `--application` does not start with `ssh:`.
    #[error("the application must start with \"ssh:\" (got {0})")]
    Application(String),

    /// `--device` for PIV is not a serial number.
    #[error("--device {0} is not a YubiKey serial number")]
    DeviceNotSerial(String),

    /// FIDO2-only options given for a PIV CA.
    #[error("--verify-required and --application apply to FIDO2 CAs; a PIV CA always needs its PIN (policy once) and a touch (policy always)")]
    FidoOnlyOptions,

    /// `revoke` with nothing to revoke.
    #[error("nothing to revoke: give --serial, --key-id, --spec or certificate/key FILEs")]
    NothingToRevoke,

    /// `revoke --serial`/`--key-id` without `--ca`.
    #[error("a KRL revokes {what} per CA, so they need --ca CA.pub")]
    RevokeNeedsCa {
        /// "serials" or "key ids".
        what: &'static str,
    },

    /// `--spec -` given twice.
    #[error("--spec - (standard input) can be given once")]
    StdinTwice,

    /// A `--serial` that is not a serial or range.
    #[error("--serial {value}: {reason}")]
    BadSerial {
        /// As typed.
        value: String,
        /// What is wrong.
        reason: String,
    },

    /// `-O` given with `--host`.
    #[error("-O applies to user certificates; a host certificate carries no options")]
    HostCertOptions,

    /// `--backend piv` without a CA file.
    #[error("with --backend piv, the CA must be named by its file")]
    PivNeedsCaFile,

    /// `mint` without `-n`.
    #[error("-n PRINCIPALS is required (the login name on the host, e.g. -n ubuntu)")]
    PrincipalsMissing,

    /// `sim piv-card --firmware` is not a version.
    #[error("--firmware {0} is not MAJOR.MINOR.PATCH")]
    Firmware(String),

    /// `-V` with a bare number (seconds) giving a lifetime under five minutes: surely a typo.
    #[error("-V {spec} leaves only {} from now: a number without a unit is seconds", crate::ops::lifetime::exact(*.lifetime))]
    BareSeconds {
        /// The spec as typed.
        spec: String,
        /// The lifetime it gives, seconds.
        lifetime: u64,
    },

    // --- The operation (exit 1) ---
    /// The requested lifetime exceeds the policy.
    #[error("{0}")]
    Policy(String),

    /// The default key id (made from the login name, the host name and the reason) breaks the
    /// key-id rule.
    #[error("the default key id {0}")]
    DefaultKeyId(KeyIdFault),

    /// `revoke --sign` would write the signature where a directory is (`FILE.sig`).
    #[error("{} is a directory, and revoke --sign writes the KRL's signature there", .0.display())]
    SignatureIsDirectory(PathBuf),

    /// The default key id `approve` makes for a peer's request (from the requester's name and
    /// reason) breaks the key-id rule: the same words, a hint for the approver.
    #[error("the default key id {0}")]
    PeerDefaultKeyId(KeyIdFault),

    /// A directory the command must write to refuses a new file.
    #[error("cannot write in directory {}: {source}", .dir.display())]
    DirNotWritable {
        /// The directory.
        dir: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },

    /// A filesystem operation failed.
    #[error("could not {action} {}: {source}", .path.display())]
    Io {
        /// What we tried, e.g. "read".
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },

    /// A CA public key file is missing, unreadable or not a usable CA key.
    #[error("{}: {reason}", .path.display())]
    CaFile {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },

    /// An input file is not what the command needs (inspect, keys).
    #[error("{}: {reason}", .path.display())]
    BadFile {
        /// The file (or a label such as "received certificate").
        path: PathBuf,
        /// Why.
        reason: String,
    },

    /// The token answered with an error.
    #[error(transparent)]
    Token(#[from] TokenError),

    /// A file set could not be written (it exists, the directory is missing, …).
    #[error(transparent)]
    Atomic(#[from] AtomicError),

    /// No resident CA on the token for this application.
    #[error("the {backend} key holds no SSH CA for application {application}")]
    NoCa {
        /// "simulated" or "security".
        backend: String,
        /// The application (rp id).
        application: String,
    },

    /// Several resident CAs on the token and no `--ca` to choose.
    #[error("the key holds {} SSH CAs for application {application}: {}", .fingerprints.len(), .fingerprints.join(", "))]
    SeveralCas {
        /// The application (rp id).
        application: String,
        /// Their fingerprints.
        fingerprints: Vec<String>,
    },

    /// The token's credential does not match the CA public key we were told to use.
    #[error("the CA in {} ({expected}) is not on this key", .path.display())]
    CaNotOnToken {
        /// The CA file.
        path: PathBuf,
        /// Its fingerprint.
        expected: String,
    },

    /// init-ca would replace an existing resident CA.
    #[error("the key already holds an SSH CA for application {application} ({fingerprint}); creating a new one would destroy it")]
    CaExists {
        /// The application (rp id).
        application: String,
        /// The existing CA's fingerprint.
        fingerprint: String,
    },

    /// The CA signature lacks the user-presence flag.
    #[error(
        "the key signed without user presence (flags {flags:#04x}); the certificate was not issued"
    )]
    NoUserPresence {
        /// The flags byte of the signature.
        flags: u8,
    },

    /// The CA signature lacks user verification although the CA requires it.
    #[error("the key signed without user verification (flags {flags:#04x}) but this CA requires it; the certificate was not issued")]
    NoUserVerification {
        /// The flags byte of the signature.
        flags: u8,
    },

    /// The signature the token returned does not verify under the CA key.
    #[error("the certificate's CA signature does not verify; nothing was written")]
    SignatureInvalid,

    /// A certificate has expired.
    #[error("the certificate expired at {}", validity::format_time_utc(*.valid_before))]
    CertExpired {
        /// Its end.
        valid_before: u64,
    },

    /// A certificate is not valid yet.
    #[error("the certificate is not valid before {}", validity::format_time_utc(*.valid_after))]
    CertNotYetValid {
        /// Its start.
        valid_after: u64,
    },

    /// Writing the audit log failed; nothing was released.
    #[error("could not write the audit log {}: {source}", .path.display())]
    Audit {
        /// The log.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },

    /// The audit log's hash chain or a line is broken.
    #[error("audit log {} is damaged at line {line}: {reason}", .path.display())]
    AuditDamaged {
        /// The log.
        path: PathBuf,
        /// The first bad line (1-based).
        line: usize,
        /// What is wrong with it.
        reason: String,
    },

    /// The security key has signed more than the audit log records.
    #[error("the key's signature counter is {key}, but the audit log's last entry records {}: the key has signed more than the log shows (the log's end was cut, or the key signed outside breakglass)", .logged.map_or("no counter".to_string(), |l| l.to_string()))]
    CounterAhead {
        /// The last counter in the log.
        logged: Option<u64>,
        /// The key's counter now.
        key: u64,
    },

    /// The audit log records a counter the key never reached.
    #[error("the audit log records signature counter {logged}, but the key's counter is only {key}: the log was written for another key, or rewritten")]
    CounterBehind {
        /// The highest counter in the log.
        logged: u64,
        /// The key's counter now.
        key: u64,
    },

    /// Encoding or decoding an SSH structure failed (should not happen with our own data).
    #[error("SSH encoding failed: {0}")]
    Ssh(#[from] ssh_key::Error),

    /// Encoding JSON output failed (should not happen).
    #[error("could not encode JSON: {0}")]
    Json(#[from] serde_json::Error),

    /// The operating system's random number generator failed.
    #[error("the system's random number generator failed: {0}")]
    Randomness(String),

    /// A program breakglass runs is not installed.
    #[error("{program} is not installed")]
    ProgramMissing {
        /// The program, e.g. "sshd".
        program: &'static str,
        /// The Debian package that has it.
        package: &'static str,
    },

    /// A program breakglass runs failed.
    #[error("{program} failed: {reason}")]
    ProgramFailed {
        /// The program.
        program: String,
        /// What happened.
        reason: String,
    },

    /// A file that ships beside the binary is missing.
    #[error("{name} was not found beside breakglass")]
    CompanionMissing {
        /// Its file name.
        name: &'static str,
        /// The cargo package that builds it.
        package: &'static str,
    },

    /// `inspect` found files that are not valid certificates (the details were printed).
    #[error("{0}")]
    CertificatesInvalid(String),

    /// `inspect`: a certificate file has expired.
    #[error("{file} expired {} ago, at {}", crate::ssh::summary::human_duration(*.ago), validity::format_time_utc(*.valid_before))]
    InspectExpired {
        /// The file.
        file: String,
        /// Seconds since it expired.
        ago: u64,
        /// Its end.
        valid_before: u64,
    },

    /// `inspect`: a certificate file is not valid yet.
    #[error("{file} is not valid for another {}, until {}", crate::ssh::summary::human_duration(*.wait), validity::format_time_utc(*.valid_after))]
    InspectNotYetValid {
        /// The file.
        file: String,
        /// Seconds until it starts.
        wait: u64,
        /// Its start.
        valid_after: u64,
    },

    /// `inspect` was given a public key where the certificate was meant.
    #[error("{} is a public key, not a certificate", .path.display())]
    NotACertificate {
        /// The file given.
        path: PathBuf,
        /// The certificate beside it.
        cert: PathBuf,
    },

    /// The new PIN and its confirmation differ (the binary asks for them; `sim set-pin` takes
    /// them through its callback).
    #[error("the two PINs differ")]
    PinsDiffer,

    /// `sim piv-card` found no `vpiv-card` program beside breakglass.
    #[error("the virtual PIV card program {} is missing", .0.display())]
    CardProgramMissing(PathBuf),

    /// `sim hid` or `drill --backend fido2-virtual` found no `breakglass-sim-hid` program beside
    /// breakglass.
    #[error("the virtual FIDO2 key program {} is missing", .0.display())]
    SimHidProgramMissing(PathBuf),

    /// `drill --backend fido2-virtual` on a machine without the kernel's uhid device.
    #[error("there is no {} here, so the drill cannot plug in a virtual FIDO2 key", .0.display())]
    UhidMissing(PathBuf),

    /// `drill --backend fido2-virtual` may not open the kernel's uhid device.
    #[error("{} exists but this user may not open it, so the drill cannot plug in a virtual FIDO2 key", .0.display())]
    UhidDenied(PathBuf),

    /// The wormhole transfer failed.
    #[cfg(feature = "wormhole")]
    #[error(transparent)]
    Transfer(#[from] TransferError),

    /// A KRL (or a spec feeding one) could not be read or changed.
    #[error("{}", krl_message(.path, .error))]
    Krl {
        path: PathBuf,
        #[source]
        error: crate::ssh::krl::KrlError,
    },

    /// ssh-agent refused or is missing.
    #[error(transparent)]
    Agent(#[from] AgentError),

    /// `host-config` failed.
    #[error(transparent)]
    HostConfig(#[from] crate::ops::host_config::HostConfigError),

    /// `fleet-drill` could not start, or a report cannot be read.
    #[error(transparent)]
    FleetDrill(#[from] crate::ops::fleet_drill::error::FleetDrillError),

    /// `kit` or `kit --verify` failed.
    #[error(transparent)]
    Kit(#[from] crate::ops::kit::KitError),

    /// A CA attestation is not valid, or not accepted by the policy (`ca verify`).
    #[error("{}", attestation_message(.file.as_deref(), .error))]
    Attestation {
        /// The attestation file the error is about (none for `--roots` and `--min-firmware`).
        file: Option<PathBuf>,
        /// What is wrong.
        #[source]
        error: crate::attest::AttestError,
    },

    /// `ca verify CA.pub` without `--attestation`, and no attestation beside the CA.
    #[error("there is no attestation beside {}: {} does not exist", .ca.display(), .expected.display())]
    AttestationMissing {
        /// The CA public key.
        ca: PathBuf,
        /// Where the attestation was looked for.
        expected: PathBuf,
    },

    /// `ca attest` on a FIDO2 CA: a FIDO2 key attests a credential only when it makes it.
    #[error("{} is a FIDO2 CA: a FIDO2 key attests a credential only when it creates it, so its attestation cannot be made again", .0.display())]
    AttestOnlyAtEnrolment(PathBuf),

    /// `request`: the approver refused to sign (policy, or declined); the reason is theirs.
    #[error("the approver refused the request: {0}")]
    RequestRefused(String),

    /// `request`: the certificate that came back failed a check; nothing was written.
    #[error("refused the certificate the approver sent: {0}; nothing was written")]
    ReplyRefused(String),

    /// `approve`: the request is malformed or asks for something no certificate may hold.
    #[error("the request cannot be signed: {0}")]
    RequestInvalid(String),

    /// `approve`: the request fails the lifetime or principal policy.
    #[error("the request fails the policy: {0}")]
    RequestPolicy(String),

    /// `approve`: the approver's -n or -V would widen what was asked for.
    #[error("{0}")]
    RequestWidened(String),

    /// `approve`: the approver answered no.
    #[error("the request was declined; the requester was told")]
    RequestDeclined,

    /// `request`/`approve`: the other side reported that the exchange broke.
    #[error("the other side stopped the exchange: {0}")]
    PeerFailed(String),
}

/// An attestation error, after the file it is about.
fn attestation_message(file: Option<&Path>, e: &crate::attest::AttestError) -> String {
    match file {
        Some(f) => format!("{}: {e}", f.display()),
        None => e.to_string(),
    }
}

/// A KRL error with its file: spec errors name their own source and line.
fn krl_message(path: &Path, e: &crate::ssh::krl::KrlError) -> String {
    use crate::ssh::krl::KrlError as K;
    match e {
        K::Spec { .. } | K::SpecNeedsCa { .. } | K::SpecRead { .. } => e.to_string(),
        _ => format!("{} {e}", path.display()),
    }
}

impl Diagnostic for Error {
    fn hint(&self) -> String {
        match self {
            Error::Principals(_) => "-n takes the login names on the host, separated by commas, e.g. -n ubuntu or -n ubuntu,root.".into(),
            Error::ControlCharacters { what } => format!("Type {what} again without control characters."),
            Error::EmptyKeyId => "Leave out -I to get the default key id, or give it a value.".into(),
            Error::KeyIdRule { fault, .. } => fault.hint().into(),
            Error::Validity(_) => {
                "-V takes ssh-keygen's forms, e.g. -5m:+60m, +1h, 20261122:20261123, always:+1h."
                    .into()
            }
            Error::ValidityPast { .. } => "Give a -V that ends in the future, e.g. -V -5m:+60m.".into(),
            Error::CertOption(_) => "-O takes ssh-keygen's certificate options: clear, force-command=CMD, source-address=CIDR[,CIDR…], no-pty, permit-pty, no-port-forwarding, verify-required, extension:NAME[=VALUE], critical:NAME[=VALUE], …".into(),
            Error::Application(_) => "Use --application ssh: (OpenSSH's default) or ssh:NAME.".into(),
            Error::DeviceNotSerial(_) => "Give the serial number `breakglass list` shows for the YubiKey.".into(),
            Error::FidoOnlyOptions => "Leave out --verify-required and --application with --backend piv.".into(),
            Error::HostCertOptions => "Leave out -O with --host.".into(),
            Error::NothingToRevoke => "Name what to revoke, e.g. --ca sk-user-ca.pub --serial 42, or a -cert.pub file.".into(),
            Error::RevokeNeedsCa { .. } => "Add --ca CA.pub (the CA that signed them).".into(),
            Error::StdinTwice => "Give --spec - once; put the other specs in files.".into(),
            Error::BadSerial { .. } => "Give a serial (N, 0x hex, 0 octal, not 0) or a range A-B.".into(),
            Error::PivNeedsCaFile => "Name the CA with --ca CA.pub (the file init-ca wrote).".into(),
            Error::PrincipalsMissing => "Name the login, e.g. `breakglass mint -n ubuntu`; `breakglass mint --help` shows the rest.".into(),
            Error::Firmware(_) => "Give a firmware version such as --firmware 5.4.3.".into(),
            Error::BareSeconds { spec, .. } => format!(
                "Write the unit: -V {} for minutes, or -V {} if you meant seconds.",
                crate::ops::lifetime::with_unit(spec, 'm'),
                crate::ops::lifetime::with_unit(spec, 's')
            ),
            Error::Policy(_) => "Shorten -V, or pass --allow-long (and say why with --reason).".into(),
            Error::DefaultKeyId(_) => "It is made from your login name ($USER) and this host's name; give a key id with -I.".into(),
            Error::SignatureIsDirectory(_) => "Move that directory out of the way (the signature is always the KRL's path with .sig added), then run the command again; nothing was signed.".into(),
            Error::PeerDefaultKeyId(_) => "It is made from the requester's name and reason: ask them to send a shorter --reason, or approve with a key id of your own (-I).".into(),
            Error::DirNotWritable { .. } => "Pick a directory you can write to (-f DIR/emergency, or cd there), or fix its permissions; nothing was signed.".into(),
            Error::Io { .. } => "Check the path and its permissions, then run the command again.".into(),
            Error::CaFile { .. } => "Pass the CA's public key (the .pub file init-ca wrote) with --ca, or run init-ca first.".into(),
            Error::BadFile { .. } => "Check that the file is the one you meant.".into(),
            Error::Token(t) => t.hint(),
            Error::Atomic(a) => a.hint(),
            Error::NoCa { .. } => "Insert the key that holds the CA, or create one with `breakglass init-ca`.".into(),
            Error::SeveralCas { .. } => "Choose one with --ca CA.pub.".into(),
            Error::CaNotOnToken { expected, .. } => format!("Insert the key that holds the CA ({expected}) and run again, or pass the right --ca."),
            Error::CaExists { .. } => "Keep it (mint with it), or pass --force if you really mean to destroy it; hosts trusting the old CA will then refuse new certificates.".into(),
            Error::NoUserPresence { .. } | Error::NoUserVerification { .. } | Error::SignatureInvalid => "Check that the key is genuine and touch it when it blinks; do not trust certificates from this key until you know why.".into(),
            Error::CertExpired { .. } => "Mint a new one.".into(),
            Error::CertNotYetValid { .. } => "Mint one that is valid now, or check this machine's clock.".into(),
            Error::Audit { .. } => "Make the audit log writable (or set BREAKGLASS_AUDIT_LOG to a writable file) and run again.".into(),
            Error::AuditDamaged { .. } => "Keep a copy of the log as evidence and investigate; do not edit it.".into(),
            Error::CounterBehind { .. } => "Check that this is the key the log belongs to (--ca); if it is, keep the log as evidence and investigate.".into(),
            Error::CounterAhead { .. } => "Keep the log and the key as evidence and compare with the hosts' sshd logs; if this key also signs for other services, run with --shared-key.".into(),
            Error::Ssh(_) | Error::Json(_) => "This is a bug in breakglass; please report it with the command you ran.".into(),
            Error::Randomness(_) => "Check the system (getrandom failed), then run the command again.".into(),
            Error::ProgramMissing { package, .. } => format!("Install it (apt install {package}) and run again."),
            Error::ProgramFailed { .. } => "The lines above say why; fix that and run again.".into(),
            Error::CompanionMissing { package, .. } => format!("Build it beside breakglass with `cargo build --release -p {package}`."),
            Error::CertificatesInvalid(_) => "Check each file named: mint a new certificate where one expired, and pass the right --ca where another CA signed.".into(),
            Error::InspectExpired { .. } => "Mint a new one with `breakglass mint -n LOGIN`.".into(),
            Error::InspectNotYetValid { .. } => "Check this machine's clock (a wrong clock makes a new certificate look not yet valid, and sshd then says only \"Permission denied\"), or mint one that is valid now.".into(),
            Error::NotACertificate { cert, .. } => format!("Inspect the certificate beside it: breakglass inspect {}.", crate::shell::word(&cert.display().to_string())),
            Error::PinsDiffer => "Run the command again and type the same PIN twice.".into(),
            Error::SimHidProgramMissing(_) => "Install it beside breakglass with `cargo install --path vfido-hid --locked` (or build both with `cargo build --workspace`), then run the command again.".into(),
            Error::UhidMissing(_) => "Run it on Linux with the uhid module loaded (sudo modprobe uhid), or practise on the simulated key without HID: breakglass drill.".into(),
            Error::UhidDenied(p) => format!("Run the drill as root (sudo), or give your user read and write access to {} with a udev rule.", p.display()),
            Error::CardProgramMissing(_) => "Build it beside breakglass with `cargo build --workspace` (it is the vpiv-card crate of this repository), then run the command again.".into(),
            #[cfg(feature = "wormhole")]
            Error::Transfer(t) => t.hint(),
            Error::Agent(a) => a.hint(),
            Error::HostConfig(h) => h.hint(),
            Error::FleetDrill(f) => f.hint(),
            Error::Kit(k) => k.hint(),
            Error::Attestation { error, .. } => error.hint(),
            Error::AttestOnlyAtEnrolment(_) => "Its attestation is the CA.attest init-ca wrote beside it; if that is lost, only a new CA (`breakglass init-ca`, then roll it out) can be proven again.".into(),
            Error::AttestationMissing { .. } => "Pass it with --attestation FILE (an ssh-keygen -O write-attestation file also needs --challenge FILE); init-ca writes it as CA.attest beside CA.pub.".into(),
            Error::Krl { error, .. } => error.hint(),
            Error::RequestRefused(_) => "Ask the approver why; if -n or -V was the problem, run breakglass request again with what they will sign.".into(),
            Error::ReplyRefused(_) => "Tell the approver what was refused and start a new request; do not use anything from this exchange.".into(),
            Error::RequestInvalid(_) => "Nothing was signed and the requester was told why; they can run breakglass request again.".into(),
            Error::RequestPolicy(_) => "Nothing was signed and the requester was told why; sign a narrower -V, or pass --allow-long (and say why with --reason) if the request is right.".into(),
            Error::RequestWidened(_) => "An approver may only narrow a request: give -n a subset of the principals asked for and a -V inside the validity asked for. The requester was told; they can send a new request.".into(),
            Error::RequestDeclined => "Nothing was signed. If that was a mistake, ask the requester for a new code.".into(),
            Error::PeerFailed(_) => "Start again with a new code; check that both sides run a breakglass that speaks the same protocol version.".into(),
        }
    }

    /// [`USAGE`] for what was typed wrong on the command line, [`FAILURE`] for everything else;
    /// the composed errors decide for themselves.
    fn exit_code(&self) -> u8 {
        match self {
            Error::Principals(_)
            | Error::ControlCharacters { .. }
            | Error::EmptyKeyId
            | Error::KeyIdRule { .. }
            | Error::Validity(_)
            | Error::ValidityPast { .. }
            | Error::CertOption(_)
            | Error::Application(_)
            | Error::DeviceNotSerial(_)
            | Error::FidoOnlyOptions
            | Error::PivNeedsCaFile
            | Error::HostCertOptions
            | Error::NothingToRevoke
            | Error::RevokeNeedsCa { .. }
            | Error::StdinTwice
            | Error::BadSerial { .. }
            | Error::Firmware(_)
            | Error::PrincipalsMissing
            | Error::BareSeconds { .. } => USAGE,
            Error::Policy(_)
            | Error::DefaultKeyId(_)
            | Error::PeerDefaultKeyId(_)
            | Error::SignatureIsDirectory(_)
            | Error::DirNotWritable { .. }
            | Error::Io { .. }
            | Error::CaFile { .. }
            | Error::BadFile { .. }
            | Error::NoCa { .. }
            | Error::SeveralCas { .. }
            | Error::CaNotOnToken { .. }
            | Error::CaExists { .. }
            | Error::NoUserPresence { .. }
            | Error::NoUserVerification { .. }
            | Error::SignatureInvalid
            | Error::CertExpired { .. }
            | Error::CertNotYetValid { .. }
            | Error::Audit { .. }
            | Error::AuditDamaged { .. }
            | Error::CounterAhead { .. }
            | Error::CounterBehind { .. }
            | Error::Ssh(_)
            | Error::Json(_)
            | Error::Randomness(_)
            | Error::ProgramMissing { .. }
            | Error::ProgramFailed { .. }
            | Error::CompanionMissing { .. }
            | Error::CertificatesInvalid(_)
            | Error::InspectExpired { .. }
            | Error::InspectNotYetValid { .. }
            | Error::NotACertificate { .. }
            | Error::PinsDiffer
            | Error::CardProgramMissing(_)
            | Error::SimHidProgramMissing(_)
            | Error::UhidMissing(_)
            | Error::UhidDenied(_)
            | Error::RequestRefused(_)
            | Error::ReplyRefused(_)
            | Error::RequestInvalid(_)
            | Error::RequestPolicy(_)
            | Error::RequestWidened(_)
            | Error::RequestDeclined
            | Error::AttestationMissing { .. }
            | Error::AttestOnlyAtEnrolment(_)
            | Error::PeerFailed(_) => FAILURE,
            Error::Token(e) => e.exit_code(),
            Error::Atomic(e) => e.exit_code(),
            #[cfg(feature = "wormhole")]
            Error::Transfer(e) => e.exit_code(),
            Error::Agent(e) => e.exit_code(),
            Error::HostConfig(e) => e.exit_code(),
            Error::FleetDrill(e) => e.exit_code(),
            Error::Krl { error, .. } => error.exit_code(),
            Error::Kit(e) => e.exit_code(),
            Error::Attestation { error, .. } => Diagnostic::exit_code(error),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Error::Principals(_) => "principals",
            Error::ControlCharacters { .. } => "control-characters",
            Error::EmptyKeyId => "empty-key-id",
            Error::KeyIdRule { .. } => "key-id-rule",
            Error::Validity(_) => "validity",
            Error::ValidityPast { .. } => "validity-past",
            Error::CertOption(_) => "cert-option",
            Error::Application(_) => "application",
            Error::DeviceNotSerial(_) => "device",
            Error::FidoOnlyOptions => "fido-only-options",
            Error::PivNeedsCaFile => "piv-needs-ca-file",
            Error::HostCertOptions => "host-cert-options",
            Error::NothingToRevoke => "nothing-to-revoke",
            Error::RevokeNeedsCa { .. } => "revoke-needs-ca",
            Error::StdinTwice => "stdin-twice",
            Error::BadSerial { .. } => "bad-serial",
            Error::Firmware(_) => "firmware",
            Error::PrincipalsMissing => "principals-missing",
            Error::BareSeconds { .. } => "bare-seconds",
            Error::Policy(_) => "policy",
            Error::DefaultKeyId(_) | Error::PeerDefaultKeyId(_) => "default-key-id",
            Error::SignatureIsDirectory(_) => "signature-is-directory",
            Error::DirNotWritable { .. } => "dir-not-writable",
            Error::Io { .. } => "io",
            Error::CaFile { .. } => "ca-file",
            Error::BadFile { .. } => "bad-file",
            Error::Token(t) => t.kind(),
            Error::Atomic(a) => a.kind(),
            Error::NoCa { .. } => "no-ca",
            Error::SeveralCas { .. } => "several-cas",
            Error::CaNotOnToken { .. } => "ca-not-on-token",
            Error::CaExists { .. } => "ca-exists",
            Error::NoUserPresence { .. } => "no-user-presence",
            Error::NoUserVerification { .. } => "no-user-verification",
            Error::SignatureInvalid => "signature-invalid",
            Error::CertExpired { .. } => "expired",
            Error::CertNotYetValid { .. } => "not-yet-valid",
            Error::Audit { .. } => "audit",
            Error::AuditDamaged { .. } => "audit-damaged",
            Error::CounterAhead { .. } => "counter-ahead",
            Error::CounterBehind { .. } => "counter-behind",
            Error::Ssh(_) => "ssh-encoding",
            Error::Json(_) => "json",
            Error::Randomness(_) => "randomness",
            Error::ProgramMissing { .. } => "program-missing",
            Error::ProgramFailed { .. } => "program-failed",
            Error::CompanionMissing { .. } => "companion-missing",
            Error::CertificatesInvalid(_) => "inspect",
            Error::InspectExpired { .. } => "expired",
            Error::InspectNotYetValid { .. } => "not-yet-valid",
            Error::NotACertificate { .. } => "not-a-certificate",
            Error::PinsDiffer => "pins-differ",
            Error::CardProgramMissing(_) => "card-program-missing",
            Error::SimHidProgramMissing(_) => "sim-hid-program-missing",
            Error::UhidMissing(_) => "uhid-missing",
            Error::UhidDenied(_) => "uhid-denied",
            #[cfg(feature = "wormhole")]
            Error::Transfer(t) => t.kind(),
            Error::Agent(a) => a.kind(),
            Error::HostConfig(h) => h.kind(),
            Error::FleetDrill(f) => f.kind(),
            Error::Kit(k) => k.kind(),
            Error::Attestation { error, .. } => error.kind(),
            Error::AttestationMissing { .. } => "attestation-missing",
            Error::AttestOnlyAtEnrolment(_) => "attest-only-at-enrolment",
            Error::Krl { error, .. } => error.kind(),
            Error::RequestRefused(_) => "request-refused",
            Error::ReplyRefused(_) => "reply-refused",
            Error::RequestInvalid(_) => "request-invalid",
            Error::RequestPolicy(_) => "request-policy",
            Error::RequestWidened(_) => "request-widened",
            Error::RequestDeclined => "request-declined",
            Error::PeerFailed(_) => "peer-failed",
        }
    }
}

impl Error {
    /// Builds an [`Error::Io`].
    pub fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }

    /// The error for a certificate that is not valid at `now`, or `None` when it is.
    pub fn unless_valid(valid_after: u64, valid_before: u64, now: u64) -> Option<Self> {
        if now >= valid_before {
            Some(Error::CertExpired { valid_before })
        } else if now < valid_after {
            Some(Error::CertNotYetValid { valid_after })
        } else {
            None
        }
    }
}

/// `getrandom` failures, as an [`Error`].
pub(crate) fn randomness(e: getrandom::Error) -> Error {
    Error::Randomness(e.to_string())
}
