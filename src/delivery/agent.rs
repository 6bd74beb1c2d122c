//! A small synchronous ssh-agent client.
//!
//! breakglass hands a freshly minted certificate, together with the private key it certifies,
//! to the user's running ssh-agent. OpenSSH 9.2's `ssh-add` cannot make the agent forget the
//! identity exactly when the certificate expires (it neither caps `-t` at the certificate's
//! `valid_before` nor lets a caller compute it), so this module speaks the agent protocol
//! directly and sends `SSH_AGENTC_ADD_ID_CONSTRAINED` with a `LIFETIME` constraint equal to the
//! certificate's remaining validity.
//!
//! Protocol references: OpenSSH `PROTOCOL.agent` and `draft-miller-ssh-agent` (section numbers
//! below refer to draft-miller-ssh-agent-04). Every message on the socket is
//! `uint32 length ‖ byte type ‖ payload`, where `length` counts the type byte and the payload.
//!
//! Only the two emergency key types are supported: ECDSA P-256 and Ed25519. Every buffer that
//! holds private key bytes is a [`Zeroizing`] buffer, allocated once with enough capacity so that
//! no copy is left behind by a reallocation.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use ssh_key::encoding::{Encode, Mpint};
use ssh_key::private::{EcdsaKeypair, KeypairData};
use ssh_key::{Certificate, PrivateKey};
use zeroize::Zeroizing;

use crate::diagnostic::{Diagnostic, FAILURE};

/// Largest message accepted from (or sent to) the agent: OpenSSH's `AGENT_MAX_LEN`, 256 KiB.
const MAX_MESSAGE_LEN: usize = 256 * 1024;

/// Read and write timeout on the agent socket.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// `SSH_AGENT_FAILURE` (draft-miller-ssh-agent §5.1).
const SSH_AGENT_FAILURE: u8 = 5;
/// `SSH_AGENT_SUCCESS` (draft-miller-ssh-agent §5.1).
const SSH_AGENT_SUCCESS: u8 = 6;
/// `SSH_AGENTC_REQUEST_IDENTITIES` (draft-miller-ssh-agent §5.1).
const SSH_AGENTC_REQUEST_IDENTITIES: u8 = 11;
/// `SSH_AGENT_IDENTITIES_ANSWER` (draft-miller-ssh-agent §5.1).
const SSH_AGENT_IDENTITIES_ANSWER: u8 = 12;
/// `SSH_AGENTC_REMOVE_IDENTITY` (draft-miller-ssh-agent §5.1).
const SSH_AGENTC_REMOVE_IDENTITY: u8 = 18;
/// `SSH_AGENTC_ADD_ID_CONSTRAINED` (draft-miller-ssh-agent §5.1).
const SSH_AGENTC_ADD_ID_CONSTRAINED: u8 = 25;
/// Legacy failure codes that OpenSSH's `authfd.c` (`agent_failed`) also treats as failure:
/// `SSH_COM_AGENT2_FAILURE` and `SSH2_AGENT_FAILURE`.
const LEGACY_FAILURES: [u8; 2] = [102, 30];

/// `SSH_AGENT_CONSTRAIN_LIFETIME` (draft-miller-ssh-agent §5.1, §4.2.6.1).
const SSH_AGENT_CONSTRAIN_LIFETIME: u8 = 1;
/// `SSH_AGENT_CONSTRAIN_CONFIRM` (draft-miller-ssh-agent §5.1, §4.2.6.2).
const SSH_AGENT_CONSTRAIN_CONFIRM: u8 = 2;

/// Key type name of an ECDSA P-256 certificate identity (`PROTOCOL.certkeys`).
const ECDSA_P256_CERT: &str = "ecdsa-sha2-nistp256-cert-v01@openssh.com";
/// Key type name of an Ed25519 certificate identity (`PROTOCOL.certkeys`).
const ED25519_CERT: &str = "ssh-ed25519-cert-v01@openssh.com";

/// Errors talking to the ssh-agent.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// `SSH_AUTH_SOCK` is unset or empty.
    #[error("no ssh-agent is running (SSH_AUTH_SOCK is not set)")]
    NoAgent,
    /// Connecting to the agent's socket failed.
    #[error("cannot reach the ssh-agent at {path}: {source}")]
    Connect {
        /// The socket path that was tried.
        path: String,
        /// Why the connection failed.
        #[source]
        source: std::io::Error,
    },
    /// The agent answered `SSH_AGENT_FAILURE`.
    #[error("the ssh-agent refused the key")]
    Refused,
    /// Reading, writing or parsing an agent message failed, or the agent answered something
    /// unexpected. Also used for a request that cannot be sent at all (for example a lifetime of
    /// zero, which the agent would read as "no lifetime").
    #[error("talking to the ssh-agent failed: {0}")]
    Protocol(String),
    /// The key is not an ECDSA P-256 or Ed25519 key (or is still encrypted).
    #[error("key type not supported for the agent: {0}")]
    Unsupported(String),
    /// The certificate certifies a different public key than the private key given.
    #[error("the certificate does not belong to this key")]
    Mismatch,
}

impl Diagnostic for AgentError {
    /// What the user can do about this error.
    fn hint(&self) -> String {
        match self {
            AgentError::NoAgent => {
                "Start one with `eval \"$(ssh-agent)\"` and run again, or write the key to a file \
                 without --agent."
                    .to_string()
            }
            AgentError::Connect { .. } => {
                "SSH_AUTH_SOCK points to an agent that is gone; start a new one with \
                 `eval \"$(ssh-agent)\"`, or write the key to a file without --agent."
                    .to_string()
            }
            AgentError::Refused => {
                "Some agents (e.g. desktop keyrings) refuse certificates or key constraints; \
                 use OpenSSH's ssh-agent, or write the key to a file without --agent."
                    .to_string()
            }
            AgentError::Protocol(_) => {
                "Check that SSH_AUTH_SOCK points to a working ssh-agent, or write the key to a \
                 file without --agent."
                    .to_string()
            }
            AgentError::Unsupported(_) => {
                "Only ECDSA P-256 and Ed25519 keys can be added to the agent.".to_string()
            }
            AgentError::Mismatch => {
                "This is a bug in breakglass; please report it with the command you ran."
                    .to_string()
            }
        }
    }

    /// Always [`FAILURE`]: the agent, never the command line.
    fn exit_code(&self) -> u8 {
        match self {
            AgentError::NoAgent
            | AgentError::Connect { .. }
            | AgentError::Refused
            | AgentError::Protocol(_)
            | AgentError::Unsupported(_)
            | AgentError::Mismatch => FAILURE,
        }
    }

    /// Always "agent": the message says what the agent did.
    fn kind(&self) -> &'static str {
        match self {
            AgentError::NoAgent
            | AgentError::Connect { .. }
            | AgentError::Refused
            | AgentError::Protocol(_)
            | AgentError::Unsupported(_)
            | AgentError::Mismatch => "agent",
        }
    }
}

/// A connection to an ssh-agent over its Unix domain socket.
#[derive(Debug)]
pub struct AgentClient {
    stream: UnixStream,
}

impl AgentClient {
    /// Connects to the agent named by the `SSH_AUTH_SOCK` environment variable.
    ///
    /// Returns [`AgentError::NoAgent`] if the variable is unset or empty.
    pub fn from_env() -> Result<Self, AgentError> {
        let path = socket_path_from_var(std::env::var_os("SSH_AUTH_SOCK"))?;
        Self::connect(Path::new(&path))
    }

    /// Connects to the agent listening on the Unix socket at `path`.
    ///
    /// Reads and writes on the connection time out after 10 seconds.
    pub fn connect(path: &Path) -> Result<Self, AgentError> {
        let connect_err = |source| AgentError::Connect {
            path: path.display().to_string(),
            source,
        };
        let stream = UnixStream::connect(path).map_err(connect_err)?;
        stream
            .set_read_timeout(Some(IO_TIMEOUT))
            .map_err(connect_err)?;
        stream
            .set_write_timeout(Some(IO_TIMEOUT))
            .map_err(connect_err)?;
        Ok(Self { stream })
    }

    /// Adds `key` together with its certificate `cert` as one identity
    /// (`SSH_AGENTC_ADD_ID_CONSTRAINED`, draft-miller-ssh-agent §4.2 and §4.2.6; certificate
    /// identities per `PROTOCOL.agent`), constrained to a lifetime of `lifetime_secs` seconds and,
    /// if `confirm` is set, to ask for confirmation on every use.
    ///
    /// `lifetime_secs` must be at least 1 (a zero lifetime would mean "forever" to the agent);
    /// see [`remaining_lifetime`]. The certificate's public key must equal the key's public key,
    /// otherwise [`AgentError::Mismatch`] is returned and nothing is sent.
    pub fn add_certificate(
        &mut self,
        key: &PrivateKey,
        cert: &Certificate,
        comment: &str,
        lifetime_secs: u32,
        confirm: bool,
    ) -> Result<(), AgentError> {
        let message = encode_add_certificate(key, cert, comment, lifetime_secs, confirm)?;
        let answer = self.request(&message)?;
        expect_success(&answer)
    }

    /// Lists the agent's identities as `(key blob, comment)` pairs
    /// (`SSH_AGENTC_REQUEST_IDENTITIES`, draft-miller-ssh-agent §4.4).
    ///
    /// For a certificate identity the key blob is the whole certificate.
    pub fn identities(&mut self) -> Result<Vec<(Vec<u8>, String)>, AgentError> {
        let message = frame(SSH_AGENTC_REQUEST_IDENTITIES, |_| Ok(()))?;
        let answer = self.request(&message)?;
        parse_identities(&answer)
    }

    /// Removes the identity whose key blob is `key_blob` (`SSH_AGENTC_REMOVE_IDENTITY`,
    /// draft-miller-ssh-agent §4.3). Returns [`AgentError::Refused`] if the agent does not hold
    /// it.
    pub fn remove(&mut self, key_blob: &[u8]) -> Result<(), AgentError> {
        let message = frame(SSH_AGENTC_REMOVE_IDENTITY, |w| {
            key_blob.encode(w).map_err(encoding_error)
        })?;
        let answer = self.request(&message)?;
        expect_success(&answer)
    }

    /// Sends one framed message and reads one framed answer; returns the answer without its
    /// length prefix (type byte first, never empty).
    fn request(&mut self, message: &[u8]) -> Result<Vec<u8>, AgentError> {
        self.stream
            .write_all(message)
            .and_then(|()| self.stream.flush())
            .map_err(|e| AgentError::Protocol(format!("cannot send request: {e}")))?;
        read_message(&mut self.stream)
    }
}

/// Seconds the certificate has left at unix time `now` (`valid_before - now`), capped at
/// `u32::MAX`; `None` if it has expired or is not yet valid.
///
/// A certificate is valid for `valid_after <= now < valid_before`, as in OpenSSH
/// (`sshkey_cert_check_authority`), so a `Some` value is always at least 1.
pub fn remaining_lifetime(cert: &Certificate, now: u64) -> Option<u32> {
    if now < cert.valid_after() || now >= cert.valid_before() {
        return None;
    }
    let left = cert.valid_before() - now;
    Some(u32::try_from(left).unwrap_or(u32::MAX))
}

/// The socket path from the value of `SSH_AUTH_SOCK`; unset or empty means no agent.
fn socket_path_from_var(
    value: Option<std::ffi::OsString>,
) -> Result<std::ffi::OsString, AgentError> {
    match value {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(AgentError::NoAgent),
    }
}

fn encoding_error(e: ssh_key::encoding::Error) -> AgentError {
    AgentError::Protocol(format!("cannot encode request: {e}"))
}

/// Builds a complete framed message (`uint32 length ‖ byte type ‖ payload`) whose payload is
/// written by `body`. The buffer is zeroized on drop.
fn frame(
    msg_type: u8,
    body: impl FnOnce(&mut Vec<u8>) -> Result<(), AgentError>,
) -> Result<Zeroizing<Vec<u8>>, AgentError> {
    frame_with_capacity(msg_type, 64, body)
}

fn frame_with_capacity(
    msg_type: u8,
    capacity: usize,
    body: impl FnOnce(&mut Vec<u8>) -> Result<(), AgentError>,
) -> Result<Zeroizing<Vec<u8>>, AgentError> {
    let mut buf = Zeroizing::new(Vec::with_capacity(capacity.saturating_add(5)));
    buf.extend_from_slice(&[0, 0, 0, 0, msg_type]);
    body(&mut buf)?;
    let len = buf.len() - 4;
    if len > MAX_MESSAGE_LEN {
        return Err(AgentError::Protocol(format!(
            "request of {len} bytes exceeds the agent's limit of {MAX_MESSAGE_LEN} bytes"
        )));
    }
    let len = u32::try_from(len).map_err(|_| AgentError::Protocol("request too long".into()))?;
    buf[..4].copy_from_slice(&len.to_be_bytes());
    Ok(buf)
}

/// Encodes `SSH_AGENTC_ADD_ID_CONSTRAINED` for a certificate identity, framed.
///
/// Layout (`PROTOCOL.agent`, OpenSSH `sshkey_private_serialize`):
///
/// ```text
/// byte    25
/// ECDSA:   string "ecdsa-sha2-nistp256-cert-v01@openssh.com", string cert, mpint d
/// Ed25519: string "ssh-ed25519-cert-v01@openssh.com", string cert, string pk(32),
///          string sk(64 = seed ‖ pk)
/// string  comment
/// byte    1 (LIFETIME)  uint32 seconds
/// [byte   2 (CONFIRM)]
/// ```
fn encode_add_certificate(
    key: &PrivateKey,
    cert: &Certificate,
    comment: &str,
    lifetime_secs: u32,
    confirm: bool,
) -> Result<Zeroizing<Vec<u8>>, AgentError> {
    if lifetime_secs == 0 {
        return Err(AgentError::Protocol(
            "refusing to add a key with a lifetime of 0 seconds (the agent would keep it forever)"
                .into(),
        ));
    }
    if cert.public_key() != key.public_key().key_data() {
        return Err(AgentError::Mismatch);
    }
    let cert_blob = cert
        .to_bytes()
        .map_err(|e| AgentError::Protocol(format!("cannot encode the certificate: {e}")))?;

    // Upper bound of the private fields: ECDSA mpint d is at most 4 + 33 bytes; Ed25519 is
    // 4 + 32 + 4 + 64 bytes. Reserve once so no reallocation leaves private bytes behind.
    let capacity = 4
        + ECDSA_P256_CERT.len()
        + 4
        + cert_blob.len()
        + 4
        + 32
        + 4
        + 64
        + 4
        + comment.len()
        + 5
        + 1;

    let message = frame_with_capacity(SSH_AGENTC_ADD_ID_CONSTRAINED, capacity, |w| {
        match key.key_data() {
            KeypairData::Ecdsa(EcdsaKeypair::NistP256 { private, .. }) => {
                ECDSA_P256_CERT.encode(w).map_err(encoding_error)?;
                cert_blob.as_slice().encode(w).map_err(encoding_error)?;
                let d = Zeroizing::new(Mpint::from_positive_bytes(private.as_slice()));
                d.encode(w).map_err(encoding_error)?;
            }
            KeypairData::Ed25519(pair) => {
                ED25519_CERT.encode(w).map_err(encoding_error)?;
                cert_blob.as_slice().encode(w).map_err(encoding_error)?;
                // `[u8; 32]` encodes raw; `[u8]` encodes as a length-prefixed string.
                pair.public
                    .as_ref()
                    .as_slice()
                    .encode(w)
                    .map_err(encoding_error)?;
                // string sk: seed ‖ pk, written piecewise so no stack copy of the 64 bytes exists.
                let private: &[u8; 32] = pair.private.as_ref();
                let public: &[u8; 32] = pair.public.as_ref();
                64u32.encode(w).map_err(encoding_error)?;
                w.extend_from_slice(private);
                w.extend_from_slice(public);
            }
            KeypairData::Encrypted(_) => {
                return Err(AgentError::Unsupported(
                    "the private key is still encrypted".into(),
                ))
            }
            other => {
                let name = other
                    .algorithm()
                    .map(|a| a.as_str().to_string())
                    .unwrap_or_else(|_| "unknown".to_string());
                return Err(AgentError::Unsupported(name));
            }
        }
        comment.encode(w).map_err(encoding_error)?;
        SSH_AGENT_CONSTRAIN_LIFETIME
            .encode(w)
            .map_err(encoding_error)?;
        lifetime_secs.encode(w).map_err(encoding_error)?;
        if confirm {
            SSH_AGENT_CONSTRAIN_CONFIRM
                .encode(w)
                .map_err(encoding_error)?;
        }
        Ok(())
    })?;
    // The buffer never grew past its first allocation (no stale copy of the private key).
    debug_assert!(message.len() <= capacity + 5);
    Ok(message)
}

/// Reads one framed message; returns it without the length prefix (type byte first).
fn read_message(r: &mut impl Read) -> Result<Vec<u8>, AgentError> {
    let io_err = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            AgentError::Protocol("the agent closed the connection".into())
        } else {
            AgentError::Protocol(format!("cannot read the answer: {e}"))
        }
    };
    let mut len = [0u8; 4];
    r.read_exact(&mut len).map_err(io_err)?;
    let len = u32::from_be_bytes(len) as usize;
    if len == 0 {
        return Err(AgentError::Protocol("empty answer".into()));
    }
    if len > MAX_MESSAGE_LEN {
        return Err(AgentError::Protocol(format!(
            "answer of {len} bytes exceeds the limit of {MAX_MESSAGE_LEN} bytes"
        )));
    }
    let mut buf = vec![0u8; len];
    r.read_exact(&mut buf).map_err(io_err)?;
    Ok(buf)
}

/// Maps a SUCCESS / FAILURE answer.
fn expect_success(answer: &[u8]) -> Result<(), AgentError> {
    match answer.first().copied() {
        Some(SSH_AGENT_SUCCESS) => Ok(()),
        Some(t) if t == SSH_AGENT_FAILURE || LEGACY_FAILURES.contains(&t) => {
            Err(AgentError::Refused)
        }
        Some(t) => Err(AgentError::Protocol(format!(
            "unexpected answer type {t} (expected SUCCESS or FAILURE)"
        ))),
        None => Err(AgentError::Protocol("empty answer".into())),
    }
}

/// Bounds-checked reader over an answer.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], AgentError> {
        if n > self.0.len() {
            return Err(AgentError::Protocol("truncated answer".into()));
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    fn u32(&mut self) -> Result<u32, AgentError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn string(&mut self) -> Result<&'a [u8], AgentError> {
        let n = self.u32()? as usize;
        self.take(n)
    }
}

/// Parses `SSH_AGENT_IDENTITIES_ANSWER` (draft-miller-ssh-agent §4.4):
/// `byte 12, uint32 nkeys, nkeys × (string key blob, string comment)`.
fn parse_identities(answer: &[u8]) -> Result<Vec<(Vec<u8>, String)>, AgentError> {
    let mut c = Cursor(answer);
    let t = c.take(1)?[0];
    if t != SSH_AGENT_IDENTITIES_ANSWER {
        if t == SSH_AGENT_FAILURE || LEGACY_FAILURES.contains(&t) {
            return Err(AgentError::Refused);
        }
        return Err(AgentError::Protocol(format!(
            "unexpected answer type {t} (expected IDENTITIES_ANSWER)"
        )));
    }
    let n = c.u32()? as usize;
    // Each entry takes at least 8 bytes; don't trust `n` for the allocation.
    if n > c.0.len() / 8 {
        return Err(AgentError::Protocol(format!(
            "answer claims {n} identities but is too short"
        )));
    }
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let blob = c.string()?.to_vec();
        let comment = String::from_utf8_lossy(c.string()?).into_owned();
        out.push((blob, comment));
    }
    if !c.0.is_empty() {
        return Err(AgentError::Protocol(
            "trailing bytes after the identities".into(),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ssh_key::certificate::{Builder, CertType};
    use ssh_key::private::Ed25519Keypair;
    use ssh_key::Algorithm;

    fn ed25519_key(seed: u8) -> PrivateKey {
        let pair = Ed25519Keypair::from_seed(&[seed; 32]);
        PrivateKey::new(KeypairData::Ed25519(pair), "k").expect("key")
    }

    fn cert_for(key: &PrivateKey, ca: &PrivateKey) -> Certificate {
        let mut b = Builder::new([7u8; 16], key.public_key().key_data().clone(), 1000, 5000)
            .expect("builder");
        b.cert_type(CertType::User).expect("type");
        b.key_id("test").expect("id");
        b.valid_principal("root").expect("principal");
        b.sign(ca).expect("sign")
    }

    fn string(v: &[u8]) -> Vec<u8> {
        let mut out = (v.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(v);
        out
    }

    #[test]
    fn ed25519_cert_message_exact_bytes() {
        let key = ed25519_key(1);
        let ca = ed25519_key(2);
        let cert = cert_for(&key, &ca);
        let msg = encode_add_certificate(&key, &cert, "my comment", 0x0102_0304, true).unwrap();

        let pair = Ed25519Keypair::from_seed(&[1u8; 32]);
        let pk: [u8; 32] = *pair.public.as_ref();
        let mut sk = vec![1u8; 32];
        sk.extend_from_slice(&pk);

        let mut body = vec![25u8];
        body.extend(string(b"ssh-ed25519-cert-v01@openssh.com"));
        body.extend(string(&cert.to_bytes().unwrap()));
        body.extend(string(&pk));
        body.extend(string(&sk));
        body.extend(string(b"my comment"));
        body.extend([1, 1, 2, 3, 4]);
        body.push(2);
        let mut expected = (body.len() as u32).to_be_bytes().to_vec();
        expected.extend(body);
        assert_eq!(msg.as_slice(), expected.as_slice());
        // The tail is exactly LIFETIME(0x01020304) then CONFIRM.
        assert_eq!(&msg[msg.len() - 6..], &[1, 1, 2, 3, 4, 2]);
    }

    #[test]
    fn without_confirm_ends_with_lifetime() {
        let key = ed25519_key(1);
        let cert = cert_for(&key, &ed25519_key(2));
        let msg = encode_add_certificate(&key, &cert, "", 30, false).unwrap();
        assert_eq!(&msg[msg.len() - 9..], &[0, 0, 0, 0, 1, 0, 0, 0, 30]);
        assert_eq!(msg[4], 25);
        let len = u32::from_be_bytes([msg[0], msg[1], msg[2], msg[3]]) as usize;
        assert_eq!(len, msg.len() - 4);
    }

    #[test]
    fn ecdsa_cert_message_layout() {
        let mut rng = ssh_key::rand_core::UnwrapErr(ssh_key::getrandom::SysRng);
        let key = PrivateKey::random(
            &mut rng,
            Algorithm::Ecdsa {
                curve: ssh_key::EcdsaCurve::NistP256,
            },
        )
        .unwrap();
        let cert = cert_for(&key, &ed25519_key(2));
        let msg = encode_add_certificate(&key, &cert, "c", 60, false).unwrap();
        let d = match key.key_data() {
            KeypairData::Ecdsa(EcdsaKeypair::NistP256 { private, .. }) => private.as_slice(),
            _ => unreachable!(),
        };
        let mut body = vec![25u8];
        body.extend(string(b"ecdsa-sha2-nistp256-cert-v01@openssh.com"));
        body.extend(string(&cert.to_bytes().unwrap()));
        // mpint: strip leading zeros, add one if the top bit is set.
        let mut stripped: Vec<u8> = d.iter().copied().skip_while(|&b| b == 0).collect();
        if stripped.first().is_some_and(|&b| b >= 0x80) {
            stripped.insert(0, 0);
        }
        body.extend(string(&stripped));
        body.extend(string(b"c"));
        body.extend([1, 0, 0, 0, 60]);
        let mut expected = (body.len() as u32).to_be_bytes().to_vec();
        expected.extend(body);
        assert_eq!(msg.as_slice(), expected.as_slice());
    }

    #[test]
    fn mismatch_and_zero_lifetime_are_rejected() {
        let key = ed25519_key(1);
        let other = ed25519_key(3);
        let cert = cert_for(&other, &ed25519_key(2));
        assert!(matches!(
            encode_add_certificate(&key, &cert, "", 30, false),
            Err(AgentError::Mismatch)
        ));
        let cert = cert_for(&key, &ed25519_key(2));
        assert!(matches!(
            encode_add_certificate(&key, &cert, "", 0, false),
            Err(AgentError::Protocol(_))
        ));
    }

    #[test]
    fn socket_path_from_var_logic() {
        assert!(matches!(
            socket_path_from_var(None),
            Err(AgentError::NoAgent)
        ));
        assert!(matches!(
            socket_path_from_var(Some("".into())),
            Err(AgentError::NoAgent)
        ));
        assert_eq!(
            socket_path_from_var(Some("/tmp/x".into())).unwrap(),
            std::ffi::OsString::from("/tmp/x")
        );
        assert!(AgentError::NoAgent.hint().contains("eval \"$(ssh-agent)\""));
    }

    #[test]
    fn remaining_lifetime_bounds() {
        let key = ed25519_key(1);
        let cert = cert_for(&key, &ed25519_key(2)); // valid [1000, 5000)
        assert_eq!(remaining_lifetime(&cert, 999), None);
        assert_eq!(remaining_lifetime(&cert, 1000), Some(4000));
        assert_eq!(remaining_lifetime(&cert, 4999), Some(1));
        assert_eq!(remaining_lifetime(&cert, 5000), None);
        let mut b =
            Builder::new([7u8; 16], key.public_key().key_data().clone(), 0, u64::MAX).unwrap();
        b.valid_principal("root").unwrap();
        let forever = b.sign(&ed25519_key(2)).unwrap();
        assert_eq!(remaining_lifetime(&forever, 10), Some(u32::MAX));
    }

    #[test]
    fn read_message_rejects_hostile_lengths() {
        let mut huge: &[u8] = &[0x7f, 0xff, 0xff, 0xff, 6];
        assert!(matches!(
            read_message(&mut huge),
            Err(AgentError::Protocol(_))
        ));
        let mut zero: &[u8] = &[0, 0, 0, 0];
        assert!(read_message(&mut zero).is_err());
        let mut short: &[u8] = &[0, 0, 0, 5, 6];
        assert!(read_message(&mut short).is_err());
        let mut ok: &[u8] = &[0, 0, 0, 1, 6];
        assert_eq!(read_message(&mut ok).unwrap(), vec![6]);
    }

    /// A reader that hands out one byte at a time (short reads).
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() || buf.is_empty() {
                return Ok(0);
            }
            buf[0] = self.0[0];
            self.0 = &self.0[1..];
            Ok(1)
        }
    }

    #[test]
    fn read_message_handles_short_reads() {
        let mut r = Trickle(&[0, 0, 0, 3, 12, 0, 0]);
        assert_eq!(read_message(&mut r).unwrap(), vec![12, 0, 0]);
    }

    #[test]
    fn parse_identities_is_robust() {
        let mut good = vec![12, 0, 0, 0, 1];
        good.extend(string(b"blob"));
        good.extend(string(b"comment"));
        assert_eq!(
            parse_identities(&good).unwrap(),
            vec![(b"blob".to_vec(), "comment".to_string())]
        );
        assert!(parse_identities(&[12, 0, 0, 0, 0]).unwrap().is_empty());
        // Claims many identities, has none.
        assert!(parse_identities(&[12, 0xff, 0xff, 0xff, 0xff]).is_err());
        // String length past the end.
        assert!(parse_identities(&[12, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]).is_err());
        assert!(matches!(parse_identities(&[5]), Err(AgentError::Refused)));
        assert!(parse_identities(&[]).is_err());
        assert!(parse_identities(&[99]).is_err());
        // Every truncation of a valid answer fails without panicking.
        for i in 0..good.len() {
            assert!(parse_identities(&good[..i]).is_err());
        }
    }

    #[test]
    fn expect_success_mapping() {
        assert!(expect_success(&[6]).is_ok());
        assert!(matches!(expect_success(&[5]), Err(AgentError::Refused)));
        assert!(matches!(expect_success(&[30]), Err(AgentError::Refused)));
        assert!(matches!(
            expect_success(&[12]),
            Err(AgentError::Protocol(_))
        ));
        assert!(matches!(expect_success(&[]), Err(AgentError::Protocol(_))));
    }
}
