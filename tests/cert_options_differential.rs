//! Differential tests: `CertOptions` against the real `ssh-keygen -s -O ...`
//! (OpenSSH 9.2). Each case signs a throwaway ed25519 user key with a
//! throwaway ed25519 CA and byte-compares the certificate's critical-options
//! and extensions sections with [`CertOptions::encode_section`].
//!
//! These tests need `ssh-keygen` (OpenSSH 9.2); they fail, rather than skip,
//! when it cannot be run.

use breakglass::ssh::cert_options::*;
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The ssh-keygen binary to compare with.
fn ssh_keygen() -> PathBuf {
    let usr = Path::new("/usr/bin/ssh-keygen");
    if usr.exists() {
        usr.to_path_buf()
    } else {
        PathBuf::from("ssh-keygen")
    }
}

/// A temporary directory holding a CA key and a user key.
struct Keys {
    dir: tempfile::TempDir,
}

/// What ssh-keygen did with a list of options.
#[derive(Debug)]
enum Outcome {
    /// Signed: (critical section body, extensions section body).
    Signed(Vec<u8>, Vec<u8>),
    /// Refused: exit status and stderr.
    Refused(Option<i32>, String),
}

impl Keys {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        for name in ["ca", "user"] {
            let status = Command::new(ssh_keygen())
                .args(["-q", "-t", "ed25519", "-N", "", "-C", "", "-f"])
                .arg(dir.path().join(name))
                .stdin(Stdio::null())
                .status()
                .expect("cannot run ssh-keygen (OpenSSH 9.2 is required for these tests)");
            assert!(status.success(), "ssh-keygen key generation failed");
        }
        Keys { dir }
    }

    /// Runs `ssh-keygen -q -s ca -I t -n u -O opt... user.pub`.
    fn sign(&self, opts: &[&str]) -> Outcome {
        let cert = self.dir.path().join("user-cert.pub");
        let _ = std::fs::remove_file(&cert);
        let mut cmd = Command::new(ssh_keygen());
        cmd.current_dir(self.dir.path())
            .args(["-q", "-s", "ca", "-I", "t", "-n", "u"])
            .stdin(Stdio::null());
        for o in opts {
            cmd.arg("-O").arg(o);
        }
        cmd.arg("user.pub");
        let out = cmd.output().expect("cannot run ssh-keygen");
        if !out.status.success() {
            return Outcome::Refused(
                out.status.code(),
                String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            );
        }
        let text = std::fs::read_to_string(&cert).expect("read user-cert.pub");
        let b64 = text
            .split_whitespace()
            .nth(1)
            .expect("cert line has base64");
        let blob = base64_decode(b64);
        let (critical, extensions) = cert_sections(&blob);
        Outcome::Signed(critical, extensions)
    }
}

/// Minimal standard base64 decoder (with padding), for `-cert.pub` files.
fn base64_decode(s: &str) -> Vec<u8> {
    const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in s.bytes().filter(|&c| c != b'=') {
        let v = ALPHA.iter().position(|&a| a == c).expect("base64 digit") as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// Reads SSH wire fields from a certificate blob.
struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        head
    }
    fn u32(&mut self) -> u32 {
        u32::from_be_bytes(self.take(4).try_into().unwrap())
    }
    fn u64(&mut self) -> u64 {
        u64::from_be_bytes(self.take(8).try_into().unwrap())
    }
    fn string(&mut self) -> &'a [u8] {
        let n = self.u32() as usize;
        self.take(n)
    }
}

/// Extracts the critical-options and extensions section bodies of an
/// `ssh-ed25519-cert-v01@openssh.com` certificate.
fn cert_sections(blob: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut r = Reader { buf: blob };
    assert_eq!(r.string(), b"ssh-ed25519-cert-v01@openssh.com");
    let _nonce = r.string();
    assert_eq!(r.string().len(), 32);
    let _serial = r.u64();
    assert_eq!(r.u32(), 1, "user certificate");
    assert_eq!(r.string(), b"t");
    let _principals = r.string();
    let _after = r.u64();
    let _before = r.u64();
    let critical = r.string().to_vec();
    let extensions = r.string().to_vec();
    (critical, extensions)
}

/// Splits a section body into (name, data) pairs.
fn section_entries(mut body: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    while !body.is_empty() {
        let mut r = Reader { buf: body };
        let name = r.string().to_vec();
        let data = r.string().to_vec();
        body = r.buf;
        out.push((name, data));
    }
    out
}

/// Asserts that ssh-keygen and breakglass produce identical sections.
fn assert_same(keys: &Keys, opts: &[&str]) {
    let ours = CertOptions::from_ssh_keygen_options(opts)
        .unwrap_or_else(|e| panic!("breakglass refused {opts:?}: {e}"));
    match keys.sign(opts) {
        Outcome::Signed(critical, extensions) => {
            assert_eq!(
                CertOptions::encode_section(&ours.critical),
                critical,
                "critical options differ for {opts:?}"
            );
            assert_eq!(
                CertOptions::encode_section(&ours.extensions),
                extensions,
                "extensions differ for {opts:?}"
            );
        }
        Outcome::Refused(code, err) => {
            panic!("ssh-keygen refused {opts:?} ({code:?}): {err}")
        }
    }
}

/// Asserts that both ssh-keygen (exit 255) and breakglass refuse.
fn assert_both_refuse(keys: &Keys, opts: &[&str]) {
    let ours = CertOptions::from_ssh_keygen_options(opts);
    let err = match ours {
        Ok(o) => panic!("breakglass accepted {opts:?}: {o:?}"),
        Err(e) => e,
    };
    let msg = err.to_string();
    assert!(!msg.is_empty());
    match keys.sign(opts) {
        Outcome::Refused(code, _) => assert_eq!(code, Some(255), "ssh-keygen exit for {opts:?}"),
        Outcome::Signed(..) => panic!("ssh-keygen accepted {opts:?}, breakglass said: {msg}"),
    }
}

#[test]
fn accepted_option_lists_match_byte_for_byte() {
    let keys = Keys::new();
    let long_command = format!("force-command=echo {}", "x".repeat(1000));
    let cases: Vec<Vec<&str>> = vec![
        vec![],
        vec!["clear"],
        vec!["no-x11-forwarding"],
        vec!["no-agent-forwarding"],
        vec!["no-port-forwarding"],
        vec!["no-pty"],
        vec!["no-user-rc"],
        vec!["clear", "permit-x11-forwarding"],
        vec!["clear", "permit-agent-forwarding"],
        vec!["clear", "permit-port-forwarding"],
        vec!["clear", "permit-pty"],
        vec!["clear", "permit-user-rc"],
        vec!["no-touch-required"],
        vec!["no-touch-required", "touch-required"],
        vec!["touch-required"],
        vec!["verify-required"],
        vec!["verify-required", "no-verify-required"],
        vec!["no-verify-required"],
        vec!["force-command=/bin/true"],
        vec!["FORCE-COMMAND=echo hi; ls -l ,=:"],
        vec![&long_command],
        vec!["source-address=10.0.0.0/8,192.168.1.5,::1,fe80::/10"],
        vec!["Source-Address=10"],
        vec!["source-address=010.1,0.0.0.0/0,::ffff:1.2.3.4,1.2.65535"],
        vec!["extension:login@github.com=alice"],
        vec!["extension:flag@x"],
        vec!["critical:zz@x=1", "critical:aa@x"],
        vec!["Extension:Foo=Bar", "EXTENSION:foo=bar"],
        vec!["extension:a=b=c", "extension:a:b=c"],
        vec!["clear", "extension:permit-pty"],
        vec!["extension:permit-pty", "no-pty"],
        vec![
            "force-command=x",
            "source-address=::/0",
            "extension:z",
            "critical:c=1",
            "verify-required",
            "no-touch-required",
            "clear",
        ],
        vec![
            "CLEAR",
            "Permit-PTY",
            "VERIFY-REQUIRED",
            "No-Touch-Required",
            "extension:aa@x",
            "extension:zz@x=v",
            "critical:mid@x=m",
            "critical:Zed",
        ],
        vec!["permit-X11-FORWARDING", "no-AGENT-forwarding"],
        vec!["extension:permit-\u{e9}=\u{263a}", "extension:Z"],
        vec!["extension:x", "critical:x"],
        vec!["clear", "clear", "permit-pty", "no-pty", "permit-pty"],
        vec![
            "verify-required",
            "force-command=internal-sftp",
            "source-address=203.0.113.0/24",
        ],
    ];
    for opts in &cases {
        assert_same(&keys, opts);
    }
}

#[test]
fn invalid_option_lists_are_refused_by_both() {
    let keys = Keys::new();
    let cases: &[&[&str]] = &[
        &["foo"],
        &[""],
        &["force-command"],
        &["force-command="],
        &["source-address"],
        &["source-address="],
        &["force-command=a", "force-command=b"],
        &["force-command=a", "Force-Command=a"],
        &["source-address=1.2.3.4", "source-address=1.2.3.4"],
        &["source-address=1.2.3.4", "source-address=bogus"],
        &["source-address=10.0.0.0/33"],
        &["source-address=10.0.0.1/8"],
        &["source-address=1.2.3.4,"],
        &["source-address=,1.2.3.4"],
        &["source-address=1.2.3.4,,5.6.7.8"],
        &["source-address=1.2.3.4/"],
        &["source-address=1::2::3"],
        &["source-address=a.b"],
        &["source-address=localhost"],
        &["source-address=1.2.3.4 "],
        &["source-address=*"],
        &["source-address=!1.2.3.4"],
        &["permit-pty=yes"],
        &["no-permit-pty"],
        &["permit-x11-forwarding "],
        &["extension"],
        &["critical"],
        &["clear", "bogus", "permit-pty"],
        &["x-forwarding"],
    ];
    for opts in cases {
        assert_both_refuse(&keys, opts);
    }
}

/// Cases ssh-keygen 9.2 accepts but breakglass refuses on purpose. Checks
/// that ssh-keygen really writes what a `BTreeMap<String, String>` cannot
/// express (or an empty name), so the refusal stays justified.
#[test]
fn documented_deviations() {
    let keys = Keys::new();
    let duplicates: &[(&[&str], bool, &str)] = &[
        (&["extension:permit-pty"], false, "permit-pty"),
        (&["extension:foo", "extension:foo"], false, "foo"),
        (&["extension:foo=1", "extension:foo=2"], false, "foo"),
        (
            &["critical:force-command=x", "force-command=y"],
            true,
            "force-command",
        ),
        (
            &["critical:verify-required", "verify-required"],
            true,
            "verify-required",
        ),
        (
            &["critical:source-address=1.2.3.4", "source-address=::1"],
            true,
            "source-address",
        ),
    ];
    for (opts, critical, name) in duplicates {
        let err = CertOptions::from_ssh_keygen_options(opts).unwrap_err();
        assert!(
            matches!(&err, OptionError::DuplicateName { name: n, .. } if n == name),
            "{opts:?}: {err:?}"
        );
        let Outcome::Signed(c, e) = keys.sign(opts) else {
            panic!("ssh-keygen refused {opts:?}; the deviation is obsolete");
        };
        let body = if *critical { c } else { e };
        let count = section_entries(&body)
            .iter()
            .filter(|(n, _)| n == name.as_bytes())
            .count();
        assert_eq!(count, 2, "ssh-keygen writes {name:?} twice for {opts:?}");
    }

    // `extension:foo=` is data string(""), unlike the flag `extension:foo`.
    let err = CertOptions::from_ssh_keygen_options(&["extension:foo="]).unwrap_err();
    assert!(matches!(err, OptionError::EmptyValue { .. }), "{err:?}");
    let Outcome::Signed(_, e) = keys.sign(&["extension:foo="]) else {
        panic!("ssh-keygen refused extension:foo=");
    };
    let entries = section_entries(&e);
    assert_eq!(entries[0], (b"foo".to_vec(), vec![0, 0, 0, 0]));
    let Outcome::Signed(_, e) = keys.sign(&["extension:foo"]) else {
        panic!("ssh-keygen refused extension:foo");
    };
    assert_eq!(section_entries(&e)[0], (b"foo".to_vec(), vec![]));

    for opts in [&["extension:"][..], &["critical:=x"], &["extension:=x"]] {
        let err = CertOptions::from_ssh_keygen_options(opts).unwrap_err();
        assert!(matches!(err, OptionError::EmptyName { .. }), "{err:?}");
        let Outcome::Signed(c, e) = keys.sign(opts) else {
            panic!("ssh-keygen refused {opts:?}");
        };
        let all: Vec<_> = section_entries(&c)
            .into_iter()
            .chain(section_entries(&e))
            .collect();
        assert!(all.iter().any(|(n, _)| n.is_empty()), "{opts:?}");
    }
}

/// Source-address lists ssh-keygen accepts or refuses, beyond the unit tests.
#[test]
fn source_address_lists_agree() {
    let keys = Keys::new();
    let lists = [
        "10.0.0.0/8",
        "10",
        "10.1",
        "1.2.65535",
        "1.16777215",
        "4294967295",
        "4294967296",
        "010.0.0.0/8",
        "08.0.0.0",
        "0377.1.1.1",
        "0400.1.1.1",
        "017777777777",
        "020000000000",
        "00000000000000000000001",
        "00000000000000000000000000000000000000000000000001",
        "0.0.0.0/0",
        "1.2.3.4/0",
        "1.2.3.0/024",
        "1.2.3.4/08",
        "128.0.0.0/1",
        "1.0.0.0/1",
        "1.2.3.4/32/1",
        "256.0.0.0",
        "1.",
        ".1",
        "1..2",
        "1.2.3.4.5",
        "::",
        ":::",
        "::/0",
        "::1/128",
        "::1/129",
        "::1/127",
        "fe80::/10",
        "FE80::/10",
        "fe80::1/10",
        "::ffff:1.2.3.4",
        "::ffff:1.2.3.04",
        "::ffff:1.2.3",
        "::1.2.3.4",
        "1:2:3:4:5:6:1.2.3.4",
        "1:2:3:4:5:6:7:1.2.3.4",
        "1:2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7",
        ":1::2",
        "1::2:",
        "12345::1",
        "0000:0000::1",
        "00000::1",
        "::0:0:0:0:0:0:0",
        "0:0:0:0:0:0:0::",
        "::0:0:0:0:0:0:0:0",
        "0:0:0:0::0:0:0:0",
        "1::/16",
        "1::/15",
        "0x1",
        "1.2.3.4/99999999999999999999999",
        "1.2.3.4/4294967328",
        "1111:2222:3333:4444:5555:6666:7777:8888/128",
        "1111:2222:3333:4444:5555:6666:7777:8888/1280",
        "fe80::1%1",
        "/8",
        "abc",
        "1.2.3.4,5.6.7.8,::/0",
    ];
    for list in lists {
        let opt = format!("source-address={list}");
        compare_acceptance(&keys, &[&opt]);
    }
}

/// Checks that ssh-keygen and breakglass agree; where ssh-keygen accepts and
/// breakglass refuses, the refusal must be one of the documented deviations.
fn compare_acceptance(keys: &Keys, opts: &[&str]) {
    let ours = CertOptions::from_ssh_keygen_options(opts);
    match (keys.sign(opts), ours) {
        (Outcome::Signed(c, e), Ok(o)) => {
            assert_eq!(CertOptions::encode_section(&o.critical), c, "{opts:?}");
            assert_eq!(CertOptions::encode_section(&o.extensions), e, "{opts:?}");
        }
        (Outcome::Refused(code, _), Err(_)) => {
            assert_eq!(code, Some(255), "{opts:?}")
        }
        (Outcome::Signed(c, e), Err(err)) => {
            let entries: Vec<_> = section_entries(&c)
                .into_iter()
                .chain(section_entries(&e))
                .collect();
            let justified = match &err {
                OptionError::DuplicateName { name, section, .. } => {
                    let body = if *section == "extensions" { &e } else { &c };
                    section_entries(body)
                        .iter()
                        .filter(|(n, _)| n == name.as_bytes())
                        .count()
                        > 1
                }
                OptionError::EmptyValue { .. } => entries.iter().any(|(_, d)| d == &[0, 0, 0, 0]),
                OptionError::EmptyName { .. } => entries.iter().any(|(n, _)| n.is_empty()),
                _ => false,
            };
            assert!(
                justified,
                "ssh-keygen accepted {opts:?}, breakglass refused: {err}"
            );
        }
        (Outcome::Refused(_, msg), Ok(o)) => {
            panic!("ssh-keygen refused {opts:?} ({msg}), breakglass accepted {o:?}")
        }
    }
}

/// Random CIDR-ish entries: structured IPv4/IPv6 with random prefix lengths
/// (sometimes with host bits cleared) and raw character soup.
fn cidr_entry() -> impl Strategy<Value = String> {
    prop_oneof![
        (any::<u32>(), 0u32..=34, any::<bool>()).prop_map(|(a, len, clean)| {
            let a = if clean && len <= 32 {
                a & u32::MAX.checked_shl(32 - len).unwrap_or(0)
            } else {
                a
            };
            format!("{}/{len}", std::net::Ipv4Addr::from(a))
        }),
        (any::<u128>(), 0u32..=130, any::<bool>(), any::<bool>()).prop_map(
            |(a, len, clean, sparse)| {
                let a = if sparse {
                    a & 0xffff_0000_0000_0000_0000_0000_0000_ffff
                } else {
                    a
                };
                let a = if clean && len <= 128 {
                    a & u128::MAX.checked_shl(128 - len).unwrap_or(0)
                } else {
                    a
                };
                format!("{}/{len}", std::net::Ipv6Addr::from(a))
            }
        ),
        "[0-9]{1,4}(\\.[0-9]{1,4}){0,4}(/[0-9]{1,3})?",
        "0[0-7]{0,11}(\\.0?[0-9]{1,3}){0,3}",
        "[0-9a-fA-F:]{0,14}(\\.[0-9]{1,3}){0,4}(/[0-9]{1,3})?",
        "[0-9a-fA-F.:/]{0,12}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn random_source_addresses_agree(entries in proptest::collection::vec(cidr_entry(), 1..3)) {
        thread_local! { static KEYS: Keys = Keys::new(); }
        let opt = format!("source-address={}", entries.join(","));
        KEYS.with(|keys| compare_acceptance(keys, &[&opt]));
    }

    #[test]
    fn random_option_lists_agree(
        opts in proptest::collection::vec(
            prop_oneof![
                (
                    proptest::sample::select(vec![
                        "clear", "no-x11-forwarding", "permit-x11-forwarding",
                        "no-agent-forwarding", "permit-agent-forwarding",
                        "no-port-forwarding", "permit-port-forwarding", "no-pty",
                        "permit-pty", "no-user-rc", "permit-user-rc",
                        "touch-required", "no-touch-required", "verify-required",
                        "no-verify-required", "pty", "permit-X11-forwarding",
                    ]),
                    any::<u32>(),
                )
                    .prop_map(|(kw, mask)| kw
                        .chars()
                        .enumerate()
                        .map(|(i, c)| if mask >> (i % 32) & 1 == 1 {
                            c.to_ascii_uppercase()
                        } else {
                            c
                        })
                        .collect::<String>()),
                "(?i)force-command=[a-z ]{0,3}",
                "(?i)source-address=(10\\.0\\.0\\.0/8|::1|1\\.2\\.3\\.4/24|)",
                "(?i)(extension|critical):(permit-pty|foo|[a-z]{0,2})(=[a-z=]{0,2})?",
                "[a-z:=-]{0,8}",
            ],
            0..5,
        )
    ) {
        thread_local! { static KEYS: Keys = Keys::new(); }
        let refs: Vec<&str> = opts.iter().map(String::as_str).collect();
        KEYS.with(|keys| compare_acceptance(keys, &refs));
    }
}
