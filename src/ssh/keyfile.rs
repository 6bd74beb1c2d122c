//! OpenSSH key files: the key-handle private file of a resident sk CA (`PROTOCOL.u2f`,
//! `sshkey.c: sshkey_private_to_blob2`), public key lines, emergency private keys, and reading a
//! CA public key with errors that say what is wrong with it.

use std::path::{Path, PathBuf};

use ssh_key::private::{KeypairData, SkEcdsaSha2NistP256 as SkPrivate};
use ssh_key::public::KeyData;
use ssh_key::{Algorithm, LineEnding, PrivateKey, PublicKey};
use zeroize::Zeroizing;

use crate::{Error, Result};

/// The `openssh-key-v1` key-handle file for a resident CA (its `public` key and `credential_id`),
/// as `ssh-keygen -t ecdsa-sk -O resident` writes it (unencrypted, flags as given, 70-column
/// base64). The private key stays on the token; this file only names the credential.
pub fn key_handle_file(
    public: KeyData,
    credential_id: &[u8],
    flags: u8,
    comment: &str,
) -> Result<Zeroizing<String>> {
    let KeyData::SkEcdsaSha2NistP256(public) = public else {
        return Err(Error::Ssh(ssh_key::Error::AlgorithmUnknown));
    };
    let private = SkPrivate::new(public, flags, credential_id.to_vec())?;
    let key = PrivateKey::new(KeypairData::SkEcdsaSha2NistP256(private), comment)?;
    Ok(key.to_openssh(LineEnding::LF)?)
}

/// What a key-handle file names.
#[derive(Debug, Clone)]
pub struct KeyHandle {
    /// The CA public key.
    pub public: KeyData,
    /// Credential id.
    pub key_handle: Vec<u8>,
    /// Flags byte (0x01 touch, 0x04 verify-required, 0x20 resident).
    pub flags: u8,
}

/// Reads a key-handle file; `Ok(None)` when `path` does not exist.
pub fn read_key_handle(path: &Path) -> Result<Option<KeyHandle>> {
    let text = match crate::input::read_bounded(path, MAX_KEY_FILE) {
        Ok(t) => t,
        Err(crate::input::ReadError::NotFound) => return Ok(None),
        Err(e) => {
            return Err(Error::CaFile {
                path: path.to_path_buf(),
                reason: e.reason(),
            })
        }
    };
    let key = PrivateKey::from_openssh(&*text).map_err(|_| Error::CaFile {
        path: path.to_path_buf(),
        reason: "is not an OpenSSH key-handle file".into(),
    })?;
    match key.key_data() {
        KeypairData::SkEcdsaSha2NistP256(sk) => Ok(Some(KeyHandle {
            public: KeyData::SkEcdsaSha2NistP256(sk.public().clone()),
            key_handle: sk.key_handle().to_vec(),
            flags: sk.flags(),
        })),
        _ => Err(Error::CaFile { path: path.to_path_buf(), reason: "is a private key, not a security-key handle; a CA private key must never be on disk".into() }),
    }
}

/// The largest key, key-handle or CA file we read.
pub const MAX_KEY_FILE: u64 = 64 * 1024;

/// Reads a public key file (`KEY.pub`, any type OpenSSH knows, security keys included) to sign
/// it; the result keeps the file's comment.
pub fn read_public(path: &Path) -> Result<PublicKey> {
    let bad = |reason: String| Error::BadFile {
        path: path.to_path_buf(),
        reason,
    };
    let bytes = crate::input::read_bounded(path, MAX_KEY_FILE).map_err(|e| bad(e.reason()))?;
    let text = String::from_utf8_lossy(&bytes);
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or("");
    if line.starts_with("-----BEGIN") {
        return Err(bad(
            "is a private key; pass its public half (the .pub file)".into(),
        ));
    }
    if line
        .split_whitespace()
        .next()
        .is_some_and(|t| t.contains("-cert-v01@"))
    {
        return Err(bad(
            "is a certificate; pass the public key it certifies".into()
        ));
    }
    PublicKey::from_openssh(line).map_err(|_| bad("is not an OpenSSH public key".into()))
}

/// Where `ssh-keygen -s` puts the certificate of `KEY.pub`: `KEY-cert.pub`.
pub fn cert_path_for(pubkey: &Path) -> PathBuf {
    let s = pubkey.as_os_str().to_string_lossy();
    let base = s.strip_suffix(".pub").unwrap_or(&s);
    PathBuf::from(format!("{base}-cert.pub"))
}

/// A public key as one OpenSSH line (`type base64 comment\n`, the space kept for an empty comment).
pub fn public_line(key: &PublicKey) -> Result<String> {
    let mut line = key.to_openssh()?;
    if key.comment().is_empty() {
        line.push(' ');
    }
    line.push('\n');
    Ok(line)
}

/// The conventional key-handle path for a CA public key path (`x.pub` → `x`).
pub fn key_handle_path_for(ca_pub: &Path) -> Option<PathBuf> {
    let s = ca_pub.to_str()?;
    s.strip_suffix(".pub")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
}

/// Reads the CA public key at `path`, with a precise reason when it is not one.
pub fn read_ca_public(path: &Path) -> Result<PublicKey> {
    let key = read_public_key(path)?;
    match key.algorithm() {
        Algorithm::SkEcdsaSha2NistP256 => Ok(key),
        Algorithm::Ecdsa { curve: ssh_key::EcdsaCurve::NistP256 } => Ok(key),
        other => Err(Error::CaFile {
            path: path.to_path_buf(),
            reason: format!(
                "holds a {} key; a breakglass CA is sk-ecdsa-sha2-nistp256@openssh.com (FIDO2) or ecdsa-sha2-nistp256 (PIV)",
                other.as_str()
            ),
        }),
    }
}

/// Reads an OpenSSH public key of any algorithm at `path` (`ca verify` names what an attested
/// key of another kind is, rather than refusing the file).
pub fn read_public_key(path: &Path) -> Result<PublicKey> {
    let err = |reason: &str| Error::CaFile {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let text = crate::input::read_bounded(path, MAX_KEY_FILE).map_err(|e| err(&e.reason()))?;
    let text = String::from_utf8_lossy(&text);
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or("");
    if line.is_empty() {
        return Err(err("is empty"));
    }
    if line.starts_with("-----BEGIN") {
        return Err(err(
            "is a private key file; pass the CA's public key (the .pub file)",
        ));
    }
    if line.contains("-cert-v01@openssh.com") {
        return Err(err("is a certificate, not a CA public key"));
    }
    PublicKey::from_openssh(line).map_err(|_| err("is not an OpenSSH public key"))
}

/// The three files of a minted key: `OUT`, `OUT.pub`, `OUT-cert.pub` (ssh-keygen's names, so
/// `ssh -i OUT` finds the certificate by itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFiles {
    /// The private key, `OUT`.
    pub key: PathBuf,
    /// The public key, `OUT.pub`.
    pub public: PathBuf,
    /// The certificate, `OUT-cert.pub`.
    pub cert: PathBuf,
}

impl KeyFiles {
    /// The files for `-f OUT`.
    pub fn new(out: &Path) -> Self {
        let mut public = out.as_os_str().to_owned();
        public.push(".pub");
        let mut cert = out.as_os_str().to_owned();
        cert.push("-cert.pub");
        KeyFiles {
            key: out.to_path_buf(),
            public: public.into(),
            cert: cert.into(),
        }
    }
}

/// Emergency key types (`-t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyType {
    /// ecdsa-sha2-nistp256 (ssh-keygen's default ECDSA size).
    Ecdsa,
    /// ssh-ed25519.
    Ed25519,
}

impl std::str::FromStr for KeyType {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "ecdsa" => Ok(KeyType::Ecdsa),
            "ed25519" => Ok(KeyType::Ed25519),
            other => Err(format!(
                "key type {:?} is not supported: choose ecdsa or ed25519",
                crate::sanitize::sanitize(other)
            )),
        }
    }
}

/// A fresh emergency key pair, in memory only (zeroized on drop by ssh-key).
pub fn generate(key_type: KeyType, comment: &str) -> Result<PrivateKey> {
    use ssh_key::getrandom::SysRng;
    use ssh_key::rand_core::UnwrapErr;
    let mut rng = UnwrapErr(SysRng);
    let alg = match key_type {
        KeyType::Ecdsa => Algorithm::Ecdsa {
            curve: ssh_key::EcdsaCurve::NistP256,
        },
        KeyType::Ed25519 => Algorithm::Ed25519,
    };
    let mut key = PrivateKey::random(&mut rng, alg)?;
    key.set_comment(comment);
    Ok(key)
}

/// The CA file of a PIV CA: which YubiKey and slot hold the key (no secret in it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PivReference {
    /// YubiKey serial.
    pub serial: u32,
    /// PIV slot, e.g. 0x82.
    pub slot: u8,
}

const PIV_REFERENCE_MAGIC: &str = "breakglass-piv-ca-v1";

impl PivReference {
    /// The file text.
    pub fn to_text(&self) -> String {
        format!(
            "# breakglass PIV CA reference: the private key never leaves the YubiKey.\n{PIV_REFERENCE_MAGIC}\nserial {}\nslot {:02x}\n",
            self.serial, self.slot
        )
    }

    /// Parses the file text; `None` when it is not a PIV reference.
    pub fn parse(text: &str) -> Option<Self> {
        let mut lines = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'));
        if lines.next()? != PIV_REFERENCE_MAGIC {
            return None;
        }
        let serial = lines.next()?.strip_prefix("serial ")?.parse().ok()?;
        let slot = u8::from_str_radix(lines.next()?.strip_prefix("slot ")?, 16).ok()?;
        Some(PivReference { serial, slot })
    }

    /// Reads the reference file beside a CA `.pub`, if there is one.
    pub fn beside(ca_pub: &Path) -> Option<Self> {
        let p = key_handle_path_for(ca_pub)?;
        let bytes = crate::input::read_bounded(&p, MAX_KEY_FILE).ok()?;
        let text = std::str::from_utf8(&bytes).ok()?;
        Self::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::PivReference;

    #[test]
    fn piv_reference_round_trips_and_rejects_other_text() {
        let r = PivReference {
            serial: 1234567,
            slot: 0x82,
        };
        assert_eq!(PivReference::parse(&r.to_text()), Some(r));
        assert_eq!(
            PivReference::parse("-----BEGIN OPENSSH PRIVATE KEY-----"),
            None
        );
        assert_eq!(
            PivReference::parse("breakglass-piv-ca-v1\nserial x\nslot 82"),
            None
        );
        assert_eq!(PivReference::parse(""), None);
    }
}
