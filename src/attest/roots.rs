//! The trust store: which roots and intermediates an attestation may chain to.
//!
//! The default is Yubico's, shipped in `src/attest/yubico/` with each certificate's SHA-256
//! pinned here (ATTESTATION.md §4; copies taken from `obelisk/sshcerts` 4ed2aa3, the same
//! certificates Yubico publishes at developers.yubico.com/PKI/). A certificate whose bytes do not
//! match its pin is left out, and a test checks that all nine load. `--roots DIR` replaces the
//! store with the certificates of a directory; the test root of the virtual keys
//! (`tests/fixtures/attest/roots/`) is trusted only that way, never by default.

use std::path::Path;

use super::error::AttestError;
use super::x509::{colon_hex, split_der, Attribute, Cert};

/// Yubico's attestation roots and intermediates: file, vendor, pinned SHA-256 of the DER.
const YUBICO: [(&str, &str); 9] = [
    (
        include_str!("yubico/yubico-u2f-root-ca-457200631.pem"),
        "0FA1386F80EB8713263AE5C1D84DEB455BDF08AEA50AB05503CEFEE82B092D42",
    ),
    (
        include_str!("yubico/yubico-piv-root-ca-263751.pem"),
        "63ECE914E54DD87915F34033C85AF4C0696BA1512F8ADD66CED738331207B546",
    ),
    (
        include_str!("yubico/yubico-attestation-root-1.pem"),
        "62760C6A6EF91679F454C8902B80FD009825B3F25DA90F1FBACE2EC6586CD5A8",
    ),
    (
        include_str!("yubico/yubico-attestation-intermediate-a-1.pem"),
        "4698A1D3389C3EC60016C216250F1D0439922832D65142327436376DC2942B55",
    ),
    (
        include_str!("yubico/yubico-attestation-intermediate-b-1.pem"),
        "D4CC3F456FDAF4E7812A21AAB1DFE9D8E27D24E2FD2D6F21C9940109F0DAA754",
    ),
    (
        include_str!("yubico/yubico-fido-attestation-a-1.pem"),
        "4EBABC9CBC964F722C985F3784D057E9EF5DCF454DCB4F767FCCCA58CF16A4E8",
    ),
    (
        include_str!("yubico/yubico-fido-attestation-b-1.pem"),
        "4EADDA86FF62CFF987E111A07910D8554DE42F71D5D6DA7744610E09012DD319",
    ),
    (
        include_str!("yubico/yubico-piv-attestation-a-1.pem"),
        "6DE693F05376F5D8CA29069261E1C8626C75D503BD2EDBFD75354CAD1F722870",
    ),
    (
        include_str!("yubico/yubico-piv-attestation-b-1.pem"),
        "2D55B7998F4E42569D6D8FA382B6DC77D1DACF07358B19701163892922B17052",
    ),
];

/// Bound on one file of a `--roots` directory.
const MAX_ROOT_FILE: u64 = 1 << 20;
/// Bound on the number of certificates a store holds.
const MAX_ROOTS: usize = 256;

/// One trusted certificate and the vendor it speaks for.
#[derive(Clone, Debug)]
pub(crate) struct Anchor {
    pub(crate) cert: Cert,
    pub(crate) vendor: String,
}

/// The certificates an attestation chain may end in (roots and the vendor's published
/// intermediates; ATTESTATION.md §4: devices never send the intermediates).
#[derive(Clone, Debug)]
pub struct TrustStore {
    anchors: Vec<Anchor>,
    origin: String,
}

impl TrustStore {
    /// Yubico's nine attestation roots and intermediates, each checked against its pinned
    /// SHA-256.
    pub fn yubico() -> TrustStore {
        let anchors = YUBICO
            .iter()
            .filter_map(|(pem, pin)| pinned(pem, pin, "Yubico"))
            .collect();
        TrustStore {
            anchors,
            origin: "Yubico attestation roots (built in)".into(),
        }
    }

    /// The certificates in `bytes` (PEM, one or several, or concatenated DER); `origin` says
    /// where they came from in reports. Each certificate's vendor is its subject's O (or CN).
    pub fn from_bytes(bytes: &[u8], origin: &str) -> Result<TrustStore, String> {
        let mut store = TrustStore {
            anchors: Vec::new(),
            origin: origin.into(),
        };
        store.add_bytes(bytes)?;
        if store.anchors.is_empty() {
            return Err("no certificate in it".into());
        }
        Ok(store)
    }

    /// Every certificate in the `.pem`, `.crt`, `.cer` and `.der` files of `dir` (or in the one
    /// file `dir` names). Any such file that does not parse is an error, not skipped.
    pub fn load(dir: &Path) -> Result<TrustStore, AttestError> {
        let err = |path: &Path, reason: String| AttestError::Roots {
            path: path.to_path_buf(),
            reason,
        };
        let mut store = TrustStore {
            anchors: Vec::new(),
            origin: dir.display().to_string(),
        };
        let meta = std::fs::metadata(dir).map_err(|e| err(dir, e.to_string()))?;
        let files = if meta.is_dir() {
            let mut files: Vec<_> = std::fs::read_dir(dir)
                .map_err(|e| err(dir, e.to_string()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.extension()
                        .and_then(|x| x.to_str())
                        .is_some_and(|x| ["pem", "crt", "cer", "der"].contains(&x))
                })
                .collect();
            files.sort();
            files
        } else {
            vec![dir.to_path_buf()]
        };
        for file in files {
            let meta = std::fs::metadata(&file).map_err(|e| err(&file, e.to_string()))?;
            if !meta.is_file() {
                continue;
            }
            if meta.len() > MAX_ROOT_FILE {
                return Err(err(&file, format!("larger than {MAX_ROOT_FILE} bytes")));
            }
            let bytes = std::fs::read(&file).map_err(|e| err(&file, e.to_string()))?;
            store.add_bytes(&bytes).map_err(|r| err(&file, r))?;
        }
        if store.anchors.is_empty() {
            return Err(AttestError::NoRoots {
                path: dir.to_path_buf(),
            });
        }
        Ok(store)
    }

    fn add_bytes(&mut self, bytes: &[u8]) -> Result<(), String> {
        let ders = if looks_like_pem(bytes) {
            pem_certificates(bytes)?
        } else {
            split_der(bytes)?.into_iter().map(<[u8]>::to_vec).collect()
        };
        for der in ders {
            if self.anchors.len() >= MAX_ROOTS {
                return Err(format!("more than {MAX_ROOTS} certificates"));
            }
            let cert = Cert::from_der(&der)?;
            let vendor = cert
                .subject_attribute(Attribute::Organization)
                .or_else(|| cert.subject_attribute(Attribute::CommonName))
                .unwrap_or_else(|| "an unnamed vendor".into());
            self.anchors.push(Anchor { cert, vendor });
        }
        Ok(())
    }

    /// How many certificates it holds.
    pub fn len(&self) -> usize {
        self.anchors.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }

    /// Where the store came from ("Yubico attestation roots (built in)" or the directory).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// SHA-256 fingerprints (colon hex) and subjects of the certificates, in order.
    pub fn certificates(&self) -> Vec<(String, String)> {
        self.anchors
            .iter()
            .map(|a| (colon_hex(&a.cert.fingerprint()), a.cert.subject()))
            .collect()
    }

    pub(crate) fn anchors(&self) -> &[Anchor] {
        &self.anchors
    }
}

/// The one certificate of `pem` if its SHA-256 is `pin` (hex), else nothing.
fn pinned(pem: &str, pin: &str, vendor: &str) -> Option<Anchor> {
    let der = pem_certificates(pem.as_bytes()).ok()?.into_iter().next()?;
    let cert = Cert::from_der(&der).ok()?;
    (crate::hex::encode(&cert.fingerprint()) == pin.to_ascii_lowercase()).then(|| Anchor {
        cert,
        vendor: vendor.into(),
    })
}

fn looks_like_pem(b: &[u8]) -> bool {
    b.windows(11).any(|w| w == b"-----BEGIN ")
}

/// The DER of every `CERTIFICATE` block of a PEM text; other blocks (keys) are ignored.
pub(crate) fn pem_certificates(pem: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let text = std::str::from_utf8(pem).map_err(|_| "PEM text that is not UTF-8".to_string())?;
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let block = &rest[start..];
        let label_end = block[11..]
            .find("-----")
            .ok_or("a PEM header without its end")?
            + 11;
        let label = &block[11..label_end];
        let end_marker = format!("-----END {label}-----");
        let end = block
            .find(&end_marker)
            .ok_or("a PEM block without its END line")?
            + end_marker.len();
        if label == "CERTIFICATE" {
            let (_, der) = der::pem::decode_vec(&block.as_bytes()[..end])
                .map_err(|e| format!("bad PEM: {e}"))?;
            out.push(der);
        }
        rest = &block[end..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ATTESTATION.md §4, copied as printed there (openssl's colon form).
    const ATTESTATION_MD_TABLE: [(&str, &str); 9] = [
        ("CN=Yubico U2F Root CA Serial 457200631", "0F:A1:38:6F:80:EB:87:13:26:3A:E5:C1:D8:4D:EB:45:5B:DF:08:AE:A5:0A:B0:55:03:CE:FE:E8:2B:09:2D:42"),
        ("CN=Yubico PIV Root CA Serial 263751", "63:EC:E9:14:E5:4D:D8:79:15:F3:40:33:C8:5A:F4:C0:69:6B:A1:51:2F:8A:DD:66:CE:D7:38:33:12:07:B5:46"),
        ("CN=Yubico Attestation Root 1", "62:76:0C:6A:6E:F9:16:79:F4:54:C8:90:2B:80:FD:00:98:25:B3:F2:5D:A9:0F:1F:BA:CE:2E:C6:58:6C:D5:A8"),
        ("CN=Yubico Attestation Intermediate A 1", "46:98:A1:D3:38:9C:3E:C6:00:16:C2:16:25:0F:1D:04:39:92:28:32:D6:51:42:32:74:36:37:6D:C2:94:2B:55"),
        ("CN=Yubico Attestation Intermediate B 1", "D4:CC:3F:45:6F:DA:F4:E7:81:2A:21:AA:B1:DF:E9:D8:E2:7D:24:E2:FD:2D:6F:21:C9:94:01:09:F0:DA:A7:54"),
        ("CN=Yubico FIDO Attestation A 1", "4E:BA:BC:9C:BC:96:4F:72:2C:98:5F:37:84:D0:57:E9:EF:5D:CF:45:4D:CB:4F:76:7F:CC:CA:58:CF:16:A4:E8"),
        ("CN=Yubico FIDO Attestation B 1", "4E:AD:DA:86:FF:62:CF:F9:87:E1:11:A0:79:10:D8:55:4D:E4:2F:71:D5:D6:DA:77:44:61:0E:09:01:2D:D3:19"),
        ("CN=Yubico PIV Attestation A 1", "6D:E6:93:F0:53:76:F5:D8:CA:29:06:92:61:E1:C8:62:6C:75:D5:03:BD:2E:DB:FD:75:35:4C:AD:1F:72:28:70"),
        ("CN=Yubico PIV Attestation B 1", "2D:55:B7:99:8F:4E:42:56:9D:6D:8F:A3:82:B6:DC:77:D1:DA:CF:07:35:8B:19:70:11:63:89:29:22:B1:70:52"),
    ];

    #[test]
    fn every_yubico_certificate_matches_attestation_md_section_4() {
        let store = TrustStore::yubico();
        assert_eq!(
            store.certificates().len(),
            9,
            "a shipped root does not match its pin"
        );
        for (subject, fingerprint) in ATTESTATION_MD_TABLE {
            assert!(
                store
                    .certificates()
                    .contains(&(fingerprint.to_string(), subject.to_string())),
                "{subject} {fingerprint} is not in the store: {:?}",
                store.certificates()
            );
        }
        assert!(store.anchors().iter().all(|a| a.vendor == "Yubico"));
    }

    #[test]
    fn a_certificate_that_does_not_match_its_pin_is_left_out() {
        let (pem, pin) = YUBICO[0];
        assert!(pinned(pem, pin, "Yubico").is_some());
        let wrong = format!("{}0", &pin[..63]);
        assert!(pinned(pem, &wrong, "Yubico").is_none());
        let (other_pem, _) = YUBICO[1];
        assert!(pinned(other_pem, pin, "Yubico").is_none());
    }

    #[test]
    fn pem_blocks_other_than_certificates_are_ignored() {
        let (pem, _) = YUBICO[0];
        let text = format!("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n{pem}");
        assert_eq!(pem_certificates(text.as_bytes()).unwrap().len(), 1);
        assert!(pem_certificates(b"-----BEGIN CERTIFICATE-----\nAAAA").is_err());
    }
}
