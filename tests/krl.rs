//! `breakglass revoke` against the real OpenSSH 9.2: KRLs written from the same spec by
//! breakglass and by `ssh-keygen -k` (and each extended by the other) are judged by
//! `ssh-keygen -Q` on certificates on both sides of every revoked serial, range edge and key id;
//! a real sshd with our KRL refuses the revoked certificate and accepts another; `--sign` verifies
//! with `ssh-keygen -Y verify`; bad inputs fail with the exact message and write nothing.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use breakglass::ssh::krl::base64_unpadded;
use common::*;
use ssh_key::certificate::{Builder, CertType};
use ssh_key::encoding::Encode;
use ssh_key::{Algorithm, HashAlg, PrivateKey};

fn rng() -> ssh_key::rand_core::UnwrapErr<ssh_key::getrandom::SysRng> {
    ssh_key::rand_core::UnwrapErr(ssh_key::getrandom::SysRng)
}

fn key() -> PrivateKey {
    PrivateKey::random(&mut rng(), Algorithm::Ed25519).unwrap()
}

fn pub_line(k: &PrivateKey) -> String {
    let mut p = k.public_key().clone();
    p.set_comment("");
    p.to_openssh().unwrap()
}

/// A tiny independent model of what a spec revokes (REFERENCE.md §8.2).
#[derive(Default, Clone)]
struct Model {
    serials: BTreeMap<Option<usize>, Vec<(u64, u64)>>, // CA index (None = any CA) -> ranges
    ids: BTreeMap<Option<usize>, BTreeSet<String>>,
    keys: BTreeSet<Vec<u8>>, // plain subject blobs revoked by key:, sha1:, sha256:, hash:, bare key
}

impl Model {
    fn revoked(&self, c: &Probe) -> bool {
        if self.keys.contains(&c.subject) {
            return true;
        }
        [Some(c.ca), None].iter().any(|scope| {
            self.ids.get(scope).is_some_and(|s| s.contains(&c.id))
                || (c.serial != 0
                    && self.serials.get(scope).is_some_and(|v| {
                        v.iter().any(|&(lo, hi)| lo <= c.serial && c.serial <= hi)
                    }))
        })
    }
}

/// A certificate to ask `ssh-keygen -Q` about.
#[derive(Clone)]
struct Probe {
    ca: usize,
    serial: u64,
    id: String,
    subject: Vec<u8>,
}

/// One spec item: how it is written, and what it revokes.
#[derive(Clone)]
enum Item {
    Serial(u64),
    Range(u64, u64),
    Text(String, u64, u64), // a serial in another notation (hex, octal, spaces)
    Id(String),
    IdAs(String, String), // a key id line as written, and the id ssh-keygen reads from it
    Cert(u64, &'static str), // a certificate (by our CA) with this serial and key id, as a bare line
    Key(&'static str),       // "key:", "sha1:", "sha256:", "hash:" or "" (bare) + a fresh key
    Raw(String),             // comments, blank lines
}

struct Fixture {
    dir: PathBuf,
    cas: Vec<PrivateKey>,
    ca_files: Vec<PathBuf>,
    subject: PrivateKey,
    n: std::cell::Cell<usize>,
}

impl Fixture {
    fn new(dir: &Path) -> Fixture {
        let cas = vec![key(), key()];
        let mut ca_files = Vec::new();
        for (i, k) in cas.iter().enumerate() {
            let p = dir.join(format!("ca{i}.pub"));
            std::fs::write(&p, format!("{}\n", pub_line(k))).unwrap();
            ca_files.push(p);
        }
        Fixture {
            dir: dir.to_path_buf(),
            cas,
            ca_files,
            subject: key(),
            n: std::cell::Cell::new(0),
        }
    }

    fn cert_line(&self, ca: usize, serial: u64, id: &str, subject: &PrivateKey) -> String {
        let mut b =
            Builder::new_with_random_nonce(&mut rng(), subject.public_key(), 0, u64::MAX).unwrap();
        b.serial(serial).unwrap();
        b.key_id(id).unwrap();
        b.cert_type(CertType::User).unwrap();
        b.valid_principal("u").unwrap();
        b.sign(&self.cas[ca]).unwrap().to_openssh().unwrap()
    }

    fn write_probe(&self, p: &Probe) -> PathBuf {
        let i = self.n.get();
        self.n.set(i + 1);
        let path = self.dir.join(format!("p{i}-cert.pub"));
        assert_eq!(
            p.subject,
            blob(&self.subject),
            "probes use the shared subject key"
        );
        std::fs::write(
            &path,
            self.cert_line(p.ca, p.serial, &p.id, &self.subject) + "\n",
        )
        .unwrap();
        path
    }

    /// Spec text for `items` under CA `ca`, updating `model`; extra probe files (certificates with
    /// their own keys, plain keys) are returned with whether they must be revoked.
    fn spec(
        &self,
        items: &[Item],
        ca: Option<usize>,
        model: &mut Model,
        extra: &mut Vec<(PathBuf, bool)>,
    ) -> String {
        let mut s = String::new();
        for it in items {
            match it {
                Item::Serial(n) => {
                    s += &format!("serial: {n}\n");
                    model.serials.entry(ca).or_default().push((*n, *n));
                }
                Item::Range(a, b) => {
                    s += &format!("serial: {a}-{b}\n");
                    model.serials.entry(ca).or_default().push((*a, *b));
                }
                Item::Text(t, a, b) => {
                    s += &format!("{t}\n");
                    model.serials.entry(ca).or_default().push((*a, *b));
                }
                Item::Id(id) => {
                    s += &format!("id: {id}\n");
                    model.ids.entry(ca).or_default().insert(id.clone());
                }
                Item::IdAs(line, id) => {
                    s += &format!("{line}\n");
                    model.ids.entry(ca).or_default().insert(id.clone());
                }
                Item::Cert(serial, id) => {
                    // A certificate with its own key, so only its serial or id can revoke it.
                    let own = key();
                    let line = self.cert_line(0, *serial, id, &own);
                    s += &line;
                    s += "\n";
                    if *serial == 0 {
                        model.ids.entry(Some(0)).or_default().insert(id.to_string());
                    } else {
                        model
                            .serials
                            .entry(Some(0))
                            .or_default()
                            .push((*serial, *serial));
                    }
                    let i = self.n.get();
                    self.n.set(i + 1);
                    let p = self.dir.join(format!("x{i}-cert.pub"));
                    std::fs::write(&p, line + "\n").unwrap();
                    extra.push((p, true));
                }
                Item::Key(kind) => {
                    let k = key();
                    let line = pub_line(&k);
                    let b = blob(&k);
                    s += &match *kind {
                        "hash:" => format!("hash: SHA256:{}\n", base64_unpadded(&sha2_256(&b))),
                        "" => format!("{line}\n"),
                        kw => format!("{kw} {line}\n"),
                    };
                    model.keys.insert(b);
                    let i = self.n.get();
                    self.n.set(i + 1);
                    let p = self.dir.join(format!("k{i}.pub"));
                    std::fs::write(&p, format!("{line}\n")).unwrap();
                    extra.push((p.clone(), true));
                    // A certificate for the revoked key is revoked too, whatever its serial.
                    let c = self.dir.join(format!("k{i}-cert.pub"));
                    std::fs::write(&c, self.cert_line(1, 999_999, "unrelated", &k) + "\n").unwrap();
                    extra.push((c, true));
                }
                Item::Raw(t) => s += &format!("{t}\n"),
            }
        }
        s
    }
}

fn blob(k: &PrivateKey) -> Vec<u8> {
    k.public_key().key_data().encode_vec().unwrap()
}

fn sha2_256(b: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(b).into()
}

/// Serials worth asking about: both edges of every range and their neighbours.
fn probe_serials(model: &Model) -> BTreeSet<(usize, u64)> {
    let mut set = BTreeSet::new();
    for (scope, ranges) in &model.serials {
        for &(lo, hi) in ranges.iter().take(60) {
            for s in [
                lo.wrapping_sub(1),
                lo,
                lo.saturating_add(1),
                hi.wrapping_sub(1),
                hi,
                hi.wrapping_add(1),
            ] {
                for ca in [0usize, 1] {
                    if scope.is_none() || *scope == Some(ca) {
                        set.insert((ca, s));
                    }
                }
                set.insert((1 - scope.unwrap_or(0), s)); // the same serial from the other CA
            }
        }
    }
    for s in [0u64, 1, 2, 41, 42, 43, 1 << 32, u64::MAX] {
        set.insert((0, s));
    }
    set
}

/// `ssh-keygen -Q -f KRL FILES`: REVOKED or ok per file; `Err` with stderr when the KRL does not load.
fn query(krl: &Path, files: &[PathBuf]) -> Result<Vec<bool>, String> {
    let mut v = Vec::new();
    for chunk in files.chunks(500) {
        let o = Command::new("ssh-keygen")
            .arg("-Q")
            .arg("-f")
            .arg(krl)
            .args(chunk)
            .output()
            .unwrap();
        let text = out(&o);
        if o.status.code() != Some(0) && o.status.code() != Some(1)
            || text.lines().count() != chunk.len()
        {
            return Err(format!("status {:?}: {}{}", o.status.code(), text, err(&o)));
        }
        for (line, f) in text.lines().zip(chunk) {
            assert!(line.starts_with(&f.display().to_string()), "{line}");
            v.push(match line.rsplit(": ").next() {
                Some("REVOKED") => true,
                Some("ok") => false,
                other => panic!("unexpected ssh-keygen -Q line {line:?} ({other:?})"),
            });
        }
    }
    Ok(v)
}

#[derive(Clone, Copy, PartialEq)]
enum Tool {
    Bg,
    Kg,
}

struct Case {
    name: &'static str,
    /// Steps: (tool for "ours", CA index or None = any CA (ssh-keygen -s none), items).
    steps: Vec<(Tool, Option<usize>, Vec<Item>)>,
    /// ssh-keygen 9.2 writes a bitmap longer than its own reader takes for this spec.
    kg_unreadable: bool,
}

fn case(name: &'static str, items: Vec<Item>) -> Case {
    Case {
        name,
        steps: vec![(Tool::Bg, Some(0), items)],
        kg_unreadable: false,
    }
}

fn seeded(seed: &mut u64) -> u64 {
    // xorshift64*: reproducible "random" serials without another dependency.
    *seed ^= *seed >> 12;
    *seed ^= *seed << 25;
    *seed ^= *seed >> 27;
    seed.wrapping_mul(0x2545F4914F6CDD1D)
}

fn cases() -> Vec<Case> {
    use Item::*;
    let mut seed = 0x9E3779B97F4A7C15u64;
    let sparse: Vec<Item> = (0..3000).map(|_| Serial(seeded(&mut seed) | 1)).collect();
    let clustered: Vec<Item> = (0..3000)
        .map(|_| seeded(&mut seed) % 6000 + 1)
        .map(Serial)
        .collect();
    let dense: Vec<Item> = (0..20_000u64).map(|i| Serial(1 + 2 * i)).collect();
    let many_ids: Vec<Item> = (0..10_000)
        .map(|i| Id(format!("breakglass op{i}@host 2026-11-27")))
        .collect();
    let max = u64::MAX;
    let mut v = vec![
        case("one serial", vec![Serial(42)]),
        case(
            "adjacent serials merge",
            vec![Serial(1), Serial(2), Serial(3), Serial(5)],
        ),
        case("a range", vec![Range(100, 199)]),
        case(
            "overlapping ranges",
            vec![Range(100, 200), Range(150, 250), Range(240, 300)],
        ),
        case(
            "touching ranges",
            vec![Range(10, 19), Range(20, 29), Range(31, 40)],
        ),
        case(
            "a range inside a range",
            vec![Range(1000, 5000), Range(2000, 3000), Serial(4000)],
        ),
        case(
            "the reference example",
            vec![Serial(42), Range(100, 102), Id("bad-key".into())],
        ),
        case(
            "hex, octal and blanks as strtoull reads them",
            vec![
                Text("serial: 0x2a".into(), 42, 42),
                Text("serial: 010".into(), 8, 8),
                Text("  SERIAL:\t0X10-0x20  # hex range".into(), 16, 32),
                Text("Serial:0777-01000".into(), 511, 512),
                Text("serial: 70-  80".into(), 70, 80),
            ],
        ),
        case(
            "the largest serials",
            vec![Serial(max), Range(max - 20, max - 10), Serial(1)],
        ),
        case("a range to the top", vec![Range(1 << 63, max)]),
        case("big sparse set", sparse),
        case("clustered set (bitmaps and lists)", clustered),
        case(
            "list and bitmap transitions",
            vec![
                Serial(1),
                Serial(3),
                Serial(5),
                Range(100, 102),
                Serial(1000),
                Serial(1072),
                Serial(1145),
                Range(5000, 5063),
            ],
        ),
        case(
            "key ids",
            vec![
                Id("alice".into()),
                Id("bob smith".into()),
                Id("ключ".into()),
                Id("x".repeat(300)),
            ],
        ),
        case("an empty key id", vec![Id(String::new())]),
        case(
            "serials and ids",
            vec![Serial(7), Id("seven".into()), Range(70, 77), Id("z".into())],
        ),
        case(
            "certificate lines",
            vec![Cert(4242, "leaked"), Cert(4243, "leaked too")],
        ),
        case(
            "a certificate with serial 0 is revoked by key id",
            vec![Cert(0, "serial-zero-cert")],
        ),
        case("plain keys", vec![Key(""), Key("")]),
        case("key: lines", vec![Key("key:")]),
        case("sha256: lines", vec![Key("sha256:")]),
        case("sha1: lines", vec![Key("sha1:")]),
        case("hash: SHA256 fingerprints", vec![Key("hash:")]),
        case(
            "comments and blank lines",
            vec![
                Raw("# revoked on 2026-11-27".into()),
                Raw(String::new()),
                Raw("   \t".into()),
                Serial(9),
                Raw("  # indented".into()),
                IdAs("ID:\t after # a comment".into(), "after".into()),
            ],
        ),
        case(
            "duplicates",
            vec![
                Serial(5),
                Serial(5),
                Range(5, 6),
                Id("d".into()),
                Id("d".into()),
            ],
        ),
        case(
            "a range swallowing singles",
            vec![Serial(10), Serial(12), Serial(14), Range(9, 15)],
        ),
        case(
            "a million-wide range with singles inside",
            vec![
                Range(1, 1_000_000),
                Serial(500),
                Serial(1_000_001),
                Serial(1_000_003),
            ],
        ),
        case("10,000 key ids", many_ids),
        Case {
            name: "dense set past ssh-keygen's bitmap limit",
            steps: vec![(Tool::Bg, Some(0), dense)],
            kg_unreadable: true,
        },
        Case {
            name: "created then extended by breakglass",
            steps: vec![
                (Tool::Bg, Some(0), vec![Range(10, 20), Id("a".into())]),
                (
                    Tool::Bg,
                    Some(0),
                    vec![Range(15, 30), Serial(40), Id("b".into()), Key("")],
                ),
            ],
            kg_unreadable: false,
        },
        Case {
            name: "ssh-keygen's KRL extended by breakglass",
            steps: vec![
                (
                    Tool::Kg,
                    Some(0),
                    vec![
                        Serial(42),
                        Range(100, 102),
                        Id("old".into()),
                        Key("sha256:"),
                    ],
                ),
                (
                    Tool::Bg,
                    Some(0),
                    vec![Serial(43), Range(103, 200), Id("new".into())],
                ),
            ],
            kg_unreadable: false,
        },
        Case {
            name: "breakglass's KRL extended by ssh-keygen -u",
            steps: vec![
                (
                    Tool::Bg,
                    Some(0),
                    vec![Serial(42), Range(100, 102), Id("old".into()), Key("key:")],
                ),
                (
                    Tool::Kg,
                    Some(0),
                    vec![Serial(41), Range(50, 60), Id("new".into()), Key("sha1:")],
                ),
            ],
            kg_unreadable: false,
        },
        Case {
            name: "two CAs, one section each",
            steps: vec![
                (Tool::Bg, Some(0), vec![Serial(1), Id("one".into())]),
                (
                    Tool::Bg,
                    Some(1),
                    vec![Serial(2), Range(1, 3), Id("two".into())],
                ),
            ],
            kg_unreadable: false,
        },
        Case {
            name: "an any-CA KRL from ssh-keygen -s none extended by breakglass",
            steps: vec![
                (Tool::Kg, None, vec![Serial(77), Id("anyone".into())]),
                (Tool::Bg, Some(1), vec![Serial(78)]),
                (Tool::Kg, None, vec![Serial(79)]),
            ],
            kg_unreadable: false,
        },
    ];
    v.retain(|c| !c.steps.is_empty());
    v
}

fn run_bg(w: &World, krl: &Path, ca: &Path, spec: &Path) {
    let o = w.run(&[
        "revoke",
        "--krl",
        krl.to_str().unwrap(),
        "--ca",
        ca.to_str().unwrap(),
        "--spec",
        spec.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "breakglass revoke failed: {}", err(&o));
}

fn run_kg(krl: &Path, ca: Option<&Path>, spec: &Path, update: bool) {
    let mut c = Command::new("ssh-keygen");
    c.arg("-q").arg("-k").arg("-f").arg(krl);
    if update {
        c.arg("-u");
    }
    match ca {
        Some(p) => c.arg("-s").arg(p),
        None => c.arg("-s").arg("none"),
    };
    let o = c.arg(spec).output().unwrap();
    assert!(o.status.success(), "ssh-keygen -k failed: {}", err(&o));
}

/// The sections, without krl_version and generated_date (which differ by design).
fn body(k: &[u8]) -> Vec<u8> {
    let mut v = k[..12].to_vec();
    v.extend_from_slice(&k[28..]);
    v
}

#[test]
fn krls_agree_with_ssh_keygen_on_every_spec() {
    let w = World::new();
    let fx = Fixture::new(&w.work);
    let cases = cases();
    assert!(cases.len() >= 30, "{} cases", cases.len());
    let mut report = Vec::new();
    for (ci, c) in cases.iter().enumerate() {
        let ours = w.work.join(format!("ours{ci}.krl"));
        let theirs = w.work.join(format!("theirs{ci}.krl"));
        let mut model = Model::default();
        let mut extra = Vec::new();
        for (si, (tool, ca, items)) in c.steps.iter().enumerate() {
            let spec_text = fx.spec(items, *ca, &mut model, &mut extra);
            let spec = w.work.join(format!("spec{ci}-{si}.txt"));
            std::fs::write(&spec, &spec_text).unwrap();
            let ca_file = ca.map(|i| fx.ca_files[i].as_path());
            match tool {
                Tool::Bg => run_bg(&w, &ours, ca_file.expect("breakglass takes a CA"), &spec),
                Tool::Kg => run_kg(&ours, ca_file, &spec, si > 0),
            }
            run_kg(&theirs, ca_file, &spec, si > 0);
        }
        // Probes: certificates on both sides of every edge, from both CAs, and every key id.
        let mut probes: Vec<Probe> = probe_serials(&model)
            .into_iter()
            .map(|(ca, serial)| Probe {
                ca,
                serial,
                id: "nobody".into(),
                subject: blob(&fx.subject),
            })
            .collect();
        for ids in model.ids.values() {
            for id in ids.iter().take(50) {
                for (ca, serial) in [(0, 0), (1, 0), (0, 31337)] {
                    probes.push(Probe {
                        ca,
                        serial,
                        id: id.clone(),
                        subject: blob(&fx.subject),
                    });
                }
            }
        }
        probes.push(Probe {
            ca: 0,
            serial: 0,
            id: "unrevoked".into(),
            subject: blob(&fx.subject),
        });
        let mut files: Vec<PathBuf> = probes.iter().map(|p| fx.write_probe(p)).collect();
        let mut expected: Vec<bool> = probes.iter().map(|p| model.revoked(p)).collect();
        for (f, e) in &extra {
            files.push(f.clone());
            expected.push(*e);
        }
        assert!(
            expected.iter().any(|e| *e) && expected.iter().any(|e| !*e),
            "{}: probes must cover both",
            c.name
        );

        let got = query(&ours, &files)
            .unwrap_or_else(|e| panic!("{}: ssh-keygen -Q cannot read our KRL: {e}", c.name));
        for (i, f) in files.iter().enumerate() {
            assert_eq!(
                got[i],
                expected[i],
                "{}: ssh-keygen -Q on our KRL says {} for {}",
                c.name,
                if got[i] { "REVOKED" } else { "ok" },
                f.display()
            );
        }
        let ours_bytes = std::fs::read(&ours).unwrap();
        let theirs_bytes = std::fs::read(&theirs).unwrap();
        if c.kg_unreadable {
            let e = query(&theirs, &files[..1]).unwrap_err();
            assert!(e.contains("bignum is too large"), "{e}");
        } else {
            assert_eq!(
                query(&theirs, &files).unwrap(),
                expected,
                "{}: ssh-keygen's own KRL",
                c.name
            );
            assert_eq!(
                body(&ours_bytes),
                body(&theirs_bytes),
                "{}: sections differ from ssh-keygen's",
                c.name
            );
        }
        // --list shows every range and id the model holds (the model may hold overlapping ranges;
        // compare as sets of serials on the probes instead of text).
        let listing: serde_json::Value =
            serde_json::from_str(&w.ok(&["revoke", "--list", ours.to_str().unwrap(), "--json"]))
                .unwrap();
        check_listing(c.name, &listing, &model, &fx);
        report.push((
            c.name,
            ours_bytes.len(),
            theirs_bytes.len(),
            c.kg_unreadable,
        ));
    }
    eprintln!("{:<55} {:>9} {:>11}", "case", "ours (B)", "ssh-keygen");
    for (name, a, b, bad) in &report {
        eprintln!(
            "{name:<55} {a:>9} {b:>11}{}",
            if *bad {
                "  (unreadable by OpenSSH 9.2)"
            } else {
                ""
            }
        );
        if !bad {
            assert!(a <= b, "{name}: our KRL is larger than ssh-keygen's");
        }
    }
}

/// Ranges as a KRL holds them: sorted, overlapping and touching ones merged.
fn merged(ranges: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let mut v = ranges.to_vec();
    v.sort();
    let mut out: Vec<(u64, u64)> = Vec::new();
    for (lo, hi) in v {
        match out.last_mut() {
            Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

fn check_listing(name: &str, l: &serde_json::Value, model: &Model, fx: &Fixture) {
    let fp = |i: usize| {
        format!(
            "ED25519 {}",
            fx.cas[i].public_key().fingerprint(HashAlg::Sha256)
        )
    };
    let cas = l["cas"].as_array().unwrap();
    for (scope, ranges) in &model.serials {
        let label = scope.map(fp).unwrap_or_else(|| "any".into());
        let entry = cas
            .iter()
            .find(|c| c["ca"] == label.as_str())
            .unwrap_or_else(|| panic!("{name}: --list has no {label}"));
        let listed: Vec<(u64, u64)> = entry["serials"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["from"].as_str().unwrap().parse().unwrap(),
                    r["to"].as_str().unwrap().parse().unwrap(),
                )
            })
            .collect();
        assert_eq!(listed, merged(ranges), "{name}: --list serials of {label}");
    }
    for (scope, ids) in &model.ids {
        let label = scope.map(fp).unwrap_or_else(|| "any".into());
        let entry = cas.iter().find(|c| c["ca"] == label.as_str()).unwrap();
        let listed: BTreeSet<String> = entry["key_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        assert_eq!(&listed, ids, "{name}: key ids");
    }
    let n_keys = l["keys"].as_array().unwrap().len()
        + l["sha256"].as_array().unwrap().len()
        + l["sha1"].as_array().unwrap().len();
    assert_eq!(n_keys, model.keys.len(), "{name}: keys and fingerprints");
    assert!(
        l["krl_version"].is_string() && l["generated_date"].is_string(),
        "u64s are JSON strings"
    );
}

/// sshd's log of its last connection says it refused the certificate of the key `public` as
/// revoked by `krl` (auth.c, auth_key_is_revoked), and no login was accepted.
fn assert_refused_as_revoked(sshd: &breakglass::ops::sshd::TestSshd, public: &Path, krl: &Path) {
    let log = sshd.log();
    let last = &log[log.rfind("Connection from ").unwrap()..];
    let line = format!(
        "Authentication key ECDSA-CERT {} revoked by file {}",
        fingerprint(public),
        krl.display()
    );
    assert!(
        last.lines().any(|l| l.trim_end() == line),
        "want {line:?} in:\n{last}"
    );
    assert!(!last.contains("Accepted publickey"), "{last}");
}

#[test]
fn sshd_refuses_the_revoked_certificate_and_accepts_another_from_the_same_ca() {
    let Some(_) = breakglass::ops::sshd::sshd_path() else {
        return skip::skip(&skip::SSHD, "no sshd is installed");
    };
    let w = World::new();
    let ca = w.init_ca();
    let u = breakglass::operator();
    w.ok(&["mint", "-n", &u, "-z", "1001", "-f", "leaked"]);
    w.ok(&["mint", "-n", &u, "-z", "1002", "-f", "good"]);
    w.ok(&[
        "mint",
        "-n",
        &u,
        "-z",
        "0",
        "-I",
        "zero-serial",
        "-f",
        "zero",
    ]);
    let sshd =
        breakglass::ops::sshd::TestSshd::start(&w.tmp.path().join("sshd"), &ca, &[]).unwrap();
    let krl = sshd.dir.join("revoked_keys"); // what the throwaway sshd's RevokedKeys names
    std::fs::remove_file(&krl).unwrap();
    let o = w.run(&[
        "revoke",
        "--krl",
        krl.to_str().unwrap(),
        "leaked-cert.pub",
        "zero-cert.pub",
    ]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("serial 1001"), "{}", out(&o));
    assert!(out(&o).contains("key id \"zero-serial\""), "{}", out(&o));

    let no = sshd.ssh(&w.path("leaked"), &u, "true").unwrap();
    assert!(!no.status.success(), "sshd accepted a revoked certificate");
    assert_refused_as_revoked(&sshd, &w.path("leaked.pub"), &krl);
    let no = sshd.ssh(&w.path("zero"), &u, "true").unwrap();
    assert!(
        !no.status.success(),
        "sshd accepted a certificate revoked by key id"
    );
    assert_refused_as_revoked(&sshd, &w.path("zero.pub"), &krl);
    let ok = sshd.ssh(&w.path("good"), &u, "echo in").unwrap();
    assert!(
        ok.status.success(),
        "sshd refused an unrevoked certificate: {}",
        sshd.log()
    );
    assert_eq!(out(&ok).trim(), "in");

    // Extending by serial under the CA: now the good one is refused too.
    let o = w.run(&[
        "revoke",
        "--krl",
        krl.to_str().unwrap(),
        "--ca",
        "sk-user-ca.pub",
        "--serial",
        "1002",
    ]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(!sshd
        .ssh(&w.path("good"), &u, "true")
        .unwrap()
        .status
        .success());
    assert_refused_as_revoked(&sshd, &w.path("good.pub"), &krl);
    let q = ssh_keygen(
        &[
            "-Q",
            "-f",
            krl.to_str().unwrap(),
            "good-cert.pub",
            "leaked-cert.pub",
            "zero-cert.pub",
        ],
        &w.work,
    );
    assert_eq!(out(&q).matches(": REVOKED").count(), 3, "{}", out(&q));
}

#[test]
fn sign_writes_a_signature_ssh_keygen_verifies_and_a_tampered_krl_fails() {
    let w = World::new();
    let ca = w.init_ca();
    w.ok(&["mint", "-n", "u", "-z", "5", "-f", "e"]);
    let o = w.run(&["revoke", "--krl", "r.krl", "e-cert.pub", "--sign", "--json"]);
    assert!(o.status.success(), "{}", err(&o));
    let v: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(v["signature"], "r.krl.sig");
    assert_eq!(v["krl_version"], "1");
    let sig = std::fs::read_to_string(w.path("r.krl.sig")).unwrap();
    assert!(sig.starts_with("-----BEGIN SSH SIGNATURE-----\n"), "{sig}");
    std::fs::write(w.path("allowed_signers"), format!("ca {ca}")).unwrap();
    let verify = |krl: &str| {
        Command::new("ssh-keygen")
            .args([
                "-Y",
                "verify",
                "-n",
                "breakglass-krl",
                "-f",
                "allowed_signers",
                "-I",
                "ca",
                "-s",
                "r.krl.sig",
            ])
            .current_dir(&w.work)
            .stdin(std::fs::File::open(w.path(krl)).unwrap())
            .output()
            .unwrap()
    };
    let good = verify("r.krl");
    assert!(good.status.success(), "{}", err(&good));
    assert!(
        out(&good).contains("Good \"breakglass-krl\" signature for ca"),
        "{}",
        out(&good)
    );
    // Another namespace is refused.
    let other = Command::new("ssh-keygen")
        .args([
            "-Y",
            "verify",
            "-n",
            "file",
            "-f",
            "allowed_signers",
            "-I",
            "ca",
            "-s",
            "r.krl.sig",
        ])
        .current_dir(&w.work)
        .stdin(std::fs::File::open(w.path("r.krl")).unwrap())
        .output()
        .unwrap();
    assert!(!other.status.success());
    let mut bytes = std::fs::read(w.path("r.krl")).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1; // the last byte of the last serial
    std::fs::write(w.path("tampered.krl"), &bytes).unwrap();
    let bad = verify("tampered.krl");
    assert!(!bad.status.success(), "a tampered KRL verified");
    // Extending replaces the signature with one of the new content; the audit log has both.
    w.ok(&[
        "revoke",
        "--krl",
        "r.krl",
        "--ca",
        "sk-user-ca.pub",
        "--serial",
        "6",
        "--sign",
    ]);
    assert!(verify("r.krl").status.success());
    let log = std::fs::read_to_string(&w.audit).unwrap();
    assert_eq!(
        log.lines()
            .filter(|l| l.contains("\"action\":\"revoke\"") && l.contains("signed"))
            .count(),
        2,
        "{log}"
    );
    // A touch that is denied writes nothing.
    let before = snapshot(&w.work);
    let o = w.run_env(
        &[
            "revoke",
            "--krl",
            "r.krl",
            "--ca",
            "sk-user-ca.pub",
            "--serial",
            "7",
            "--sign",
        ],
        &[("BREAKGLASS_SIM_TOUCH", "deny")],
    );
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert_eq!(snapshot(&w.work), before);
}

#[test]
fn updating_keeps_everything_and_bumps_the_version() {
    let w = World::new();
    let fx = Fixture::new(&w.work);
    let ca = fx.ca_files[0].to_str().unwrap();
    std::fs::write(w.path("s"), "serial: 5\nid: kept\n").unwrap();
    run_kg(&w.path("r.krl"), Some(&fx.ca_files[1]), &w.path("s"), false);
    let o = w.run(&[
        "revoke", "--krl", "r.krl", "--ca", ca, "--serial", "6", "--json",
    ]);
    assert!(o.status.success(), "{}", err(&o));
    let v: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(v["created"], false);
    assert_eq!(v["krl_version"], "1");
    assert_eq!(v["new"], "1");
    let o = w.run(&["revoke", "--krl", "r.krl", "--ca", ca, "--serial", "6"]);
    assert!(
        out(&o).contains("KRL version 2")
            && out(&o).contains("0 new of 1")
            && out(&o).contains("(already revoked)"),
        "{}",
        out(&o)
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(w.path("r.krl"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o644
    );
    let l = w.ok(&["revoke", "--list", "r.krl"]);
    assert!(l.contains("version 2"), "{l}");
    assert!(l.contains("  serial 5\n  key id \"kept\"\n"), "{l}");
    assert!(l.contains("  serial 6\n"), "{l}");
    assert_eq!(l.matches("CA ED25519 SHA256:").count(), 2, "{l}");
}

#[test]
fn spec_from_standard_input() {
    let w = World::new();
    let fx = Fixture::new(&w.work);
    let mut c = w.cmd(&[
        "revoke",
        "--krl",
        "r.krl",
        "--ca",
        fx.ca_files[0].to_str().unwrap(),
        "--spec",
        "-",
    ]);
    c.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"serial: 1-9\nid: from stdin\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", err(&o));
    let l = w.ok(&["revoke", "--list", "r.krl"]);
    assert!(
        l.contains("serials 1-9") && l.contains("key id \"from stdin\""),
        "{l}"
    );
}

struct Bad {
    args: Vec<String>,
    code: i32,
    stderr: String,
}

fn bad(args: &[&str], code: i32, stderr: &str) -> Bad {
    Bad {
        args: args.iter().map(|s| s.to_string()).collect(),
        code,
        stderr: stderr.to_string(),
    }
}

#[test]
fn bad_inputs_fail_with_the_exact_error_and_write_nothing() {
    let w = World::new();
    let fx = Fixture::new(&w.work);
    std::fs::copy(&fx.ca_files[0], w.path("ca.pub")).unwrap();
    std::fs::write(
        w.path("not-a-krl"),
        "ssh-ed25519 AAAA this is a key list, not a KRL\n",
    )
    .unwrap();
    let k = key();
    std::fs::write(
        w.path("private"),
        k.to_openssh(ssh_key::LineEnding::LF).unwrap().as_bytes(),
    )
    .unwrap();
    std::fs::write(w.path("garbage.pub"), "hello\n").unwrap();
    // A directory where revoke --sign would write the signature.
    std::fs::create_dir(w.path("dir.krl.sig")).unwrap();
    std::fs::write(w.path("dir.krl.sig/keep"), "").unwrap();
    std::fs::write(w.path("spec"), "serial: 1\n# fine\nserial: 12abc\n").unwrap();
    std::fs::write(w.path("spec-no-ca"), "\nid: x\n").unwrap();
    std::fs::write(w.path("signed.krl"), {
        let mut b = b"SSHKRL\n\0\0\0\0\x01".to_vec();
        b.extend_from_slice(&[0; 24]);
        b.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
        b.extend_from_slice(&[4, 0, 0, 0, 0]);
        b
    })
    .unwrap();
    // An empty KRL at the largest version: a change must not wrap it to 0.
    std::fs::write(w.path("max.krl"), {
        let mut b = b"SSHKRL\n\0\0\0\0\x01".to_vec();
        b.extend_from_slice(&u64::MAX.to_be_bytes());
        b.extend_from_slice(&[0; 24]);
        b
    })
    .unwrap();
    let cases = [
        bad(&["revoke", "--krl", "max.krl", "--ca", "ca.pub", "--serial", "1"], 1,
            "breakglass: max.krl is at KRL version 18446744073709551615, the largest a KRL can have, so no change can bump it.\nWrite a new KRL with everything this one revokes (breakglass revoke --list shows it) and roll it out once with breakglass_krl_allow_older=true: hosts install only greater versions.\n"),
        bad(&["revoke", "--krl", "not-a-krl", "--ca", "ca.pub", "--serial", "1"], 1,
            "breakglass: not-a-krl is not an OpenSSH KRL (it does not start with the KRL magic \"SSHKRL\").\nPoint --krl at a KRL file (ssh-keygen -k or breakglass revoke writes them), or at a path where none exists yet to create one.\n"),
        bad(&["revoke", "--krl", "signed.krl", "--ca", "ca.pub", "--serial", "1"], 1,
            "breakglass: signed.krl is a KRL with an embedded signature (section 0x04), which OpenSSH 9.4 and later refuse and which any change would invalidate.\nRebuild the KRL without a signature (ssh-keygen -k from its spec), and sign it with breakglass revoke --sign, which writes a detached FILE.sig.\n"),
        bad(&["revoke", "--krl", "new.krl", "--ca", "ca.pub", "--serial", "0"], 2,
            "breakglass: --serial 0: serial 0 cannot be revoked: OpenSSH never matches serial 0; revoke that certificate by key id instead.\nGive a serial (N, 0x hex, 0 octal, not 0) or a range A-B.\n"),
        bad(&["revoke", "--krl", "new.krl", "--ca", "ca.pub", "--serial", "0-5"], 2,
            "breakglass: --serial 0-5: serial 0 cannot be revoked: OpenSSH never matches serial 0; revoke that certificate by key id instead.\nGive a serial (N, 0x hex, 0 octal, not 0) or a range A-B.\n"),
        bad(&["revoke", "--krl", "new.krl", "--ca", "ca.pub", "--serial", "9-3"], 2,
            "breakglass: --serial 9-3: the serial range 9-3 is empty: its end must be above its start.\nGive a serial (N, 0x hex, 0 octal, not 0) or a range A-B.\n"),
        bad(&["revoke", "--krl", "new.krl", "--serial", "5"], 2,
            "breakglass: a KRL revokes serials per CA, so they need --ca CA.pub.\nAdd --ca CA.pub (the CA that signed them).\n"),
        bad(&["revoke", "--krl", "new.krl", "--key-id", "x"], 2,
            "breakglass: a KRL revokes key ids per CA, so they need --ca CA.pub.\nAdd --ca CA.pub (the CA that signed them).\n"),
        bad(&["revoke", "--krl", "new.krl"], 2,
            "breakglass: nothing to revoke: give --serial, --key-id, --spec or certificate/key FILEs.\nName what to revoke, e.g. --ca sk-user-ca.pub --serial 42, or a -cert.pub file.\n"),
        bad(&["revoke", "--krl", "new.krl", "--ca", "private", "--serial", "5"], 1,
            "breakglass: private: is a private key file; pass the CA's public key (the .pub file).\nPass the CA's public key (the .pub file init-ca wrote) with --ca, or run init-ca first.\n"),
        bad(&["revoke", "--krl", "new.krl", "--ca", "garbage.pub", "--serial", "5"], 1,
            "breakglass: garbage.pub: is not an OpenSSH public key.\nPass the CA's public key (the .pub file init-ca wrote) with --ca, or run init-ca first.\n"),
        bad(&["revoke", "--krl", "new.krl", "--ca", "ca.pub", "--spec", "spec"], 1,
            "breakglass: spec line 3: \"12abc\" is not a serial number or range (N or A-B; decimal, 0x… hex, or 0… octal).\nFix that line: serial: N, serial: A-B, id: KEY_ID, key:/sha1:/sha256: followed by a public key, hash: SHA256:…, or a bare public key or certificate line.\n"),
        bad(&["revoke", "--krl", "new.krl", "--spec", "spec-no-ca"], 2,
            "breakglass: spec-no-ca line 2 revokes by key id, which needs --ca CA.pub: a KRL revokes serials and key ids per CA.\nPass the CA that signed those certificates with --ca CA.pub.\n"),
        bad(&["revoke", "--krl", "new.krl", "garbage.pub"], 1,
            "breakglass: garbage.pub line 1: not a public key or certificate line (expected TYPE BASE64 [COMMENT]).\nFix that line: serial: N, serial: A-B, id: KEY_ID, key:/sha1:/sha256: followed by a public key, hash: SHA256:…, or a bare public key or certificate line.\n"),
        bad(
            &["revoke", "--krl", "new.krl", "--ca", "ca.pub", "--spec", "missing.txt"],
            1,
            "breakglass: could not read missing.txt: no such file.\nCheck the path and its permissions, then run again.\n",
        ),
        bad(&["revoke", "--krl", "/proc/breakglass-test.krl", "--ca", "ca.pub", "--serial", "5"], 1,
            ""),
        bad(&["revoke", "--krl", "dir.krl", "--ca", "ca.pub", "--serial", "1", "--sign"], 1,
            "breakglass: dir.krl.sig is a directory, and revoke --sign writes the KRL's signature there.\nMove that directory out of the way (the signature is always the KRL's path with .sig added), then run the command again; nothing was signed.\n"),
        bad(&["revoke", "--list", "not-a-krl"], 1,
            "breakglass: not-a-krl is not an OpenSSH KRL (it does not start with the KRL magic \"SSHKRL\").\nPoint --krl at a KRL file (ssh-keygen -k or breakglass revoke writes them), or at a path where none exists yet to create one.\n"),
    ];
    for c in &cases {
        let before = snapshot(&w.work);
        let audit_before = std::fs::read(&w.audit).ok();
        let args: Vec<&str> = c.args.iter().map(String::as_str).collect();
        let o = w.run(&args);
        assert_eq!(o.status.code(), Some(c.code), "{args:?}: {}", err(&o));
        if c.stderr.is_empty() {
            assert!(
                err(&o).starts_with("breakglass: could not create a file in /proc"),
                "{args:?}: {}",
                err(&o)
            );
        } else {
            assert_eq!(err(&o), c.stderr, "{args:?}");
        }
        assert_eq!(out(&o), "", "{args:?}");
        assert_eq!(snapshot(&w.work), before, "{args:?} wrote something");
        assert_eq!(
            std::fs::read(&w.audit).ok(),
            audit_before,
            "{args:?} wrote to the audit log"
        );
    }
    // A KRL above the size this reads (sparse: no 32 MiB written), after the loop so that its
    // snapshots do not read it.
    std::fs::File::create(w.path("big.krl"))
        .unwrap()
        .set_len(32 * 1024 * 1024 + 1)
        .unwrap();
    let o = w.run(&["revoke", "--list", "big.krl"]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert_eq!(
        err(&o),
        "breakglass: big.krl is 33554433 bytes, more than the 32 MiB a KRL may be here.\nSplit the revocations by CA, or revoke ranges (serial: A-B) instead of single serials.\n"
    );
}

#[test]
fn an_unwritable_directory_fails_and_keeps_the_old_krl() {
    let w = World::new();
    let fx = Fixture::new(&w.work);
    let dir = w.path("ro");
    std::fs::create_dir(&dir).unwrap();
    let krl = dir.join("r.krl");
    // Root writes into a 0555 directory anyway: as root, revoke runs as nobody (common::unprivileged).
    let user = Unprivileged::new(&w);
    let revoke = |serial: &str| {
        user.run(
            &w,
            &[
                "revoke",
                "--krl",
                krl.to_str().unwrap(),
                "--ca",
                fx.ca_files[0].to_str().unwrap(),
                "--serial",
                serial,
            ],
        )
    };
    let o = revoke("1");
    assert!(o.status.success(), "{}", err(&o));
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    let before = snapshot(&dir);
    let o = revoke("2");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(
        err(&o).contains("could not create a file in"),
        "{}",
        err(&o)
    );
    assert_eq!(snapshot(&dir), before);
}
