//! `breakglass host-config` through the built binary, checked by the real programs that read its
//! output: `sshd -t` and a real sshd on 127.0.0.1 (certificates from either break-glass CA and
//! from the host's pre-existing online CA log in), `sshd -T` (the `00-` ordering),
//! `cloud-init schema`, and a real `rsyslogd -n` running the `--alert` rule on a real sshd's log
//! lines.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::rsyslog::{
    accepted_line, port_of, start_rsyslogd, wait_for_pages, write_recording_pager,
};
use common::*;

/// A host under a temp dir: `etc/` holds a host key, an online CA (the CA the host trusts before
/// breakglass), an authorized_keys file and a Debian-shaped `sshd_config` that Includes
/// `etc/sshd_config.d/*.conf` first and trusts the online CA.
struct Host {
    etc: PathBuf,
    config: PathBuf,
    port: u16,
}

impl Host {
    fn new(w: &World) -> Host {
        let etc = w.tmp.path().join("etc");
        let (config, port) = write_sshd_etc(
            &etc,
            &[
                "AuthorizedKeysFile {etc}/authorized_keys",
                "TrustedUserCAKeys {etc}/online_ca.pub",
            ],
        );
        make_online_ca(&etc);
        Host { etc, config, port }
    }

    fn etc_str(&self) -> &str {
        self.etc.to_str().unwrap()
    }

    fn config_str(&self) -> &str {
        self.config.to_str().unwrap()
    }

    /// `sshd -t -f sshd_config`.
    fn sshd_t(&self) -> std::process::Output {
        Command::new("/usr/sbin/sshd")
            .args(["-t", "-f", self.config_str()])
            .output()
            .unwrap()
    }

    /// `sshd -T -f sshd_config [-C user=U,host=h,addr=127.0.0.1]`, the value of `keyword`.
    fn sshd_big_t(&self, keyword: &str, user: Option<&str>) -> String {
        let mut c = Command::new("/usr/sbin/sshd");
        c.args(["-T", "-f", self.config_str()]);
        if let Some(u) = user {
            c.arg("-C")
                .arg(format!("user={u},host=localhost,addr=127.0.0.1"));
        }
        let o = c.output().unwrap();
        assert!(o.status.success(), "sshd -T: {}", err(&o));
        out(&o)
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{keyword} ")).map(str::to_string))
            .unwrap_or_default()
    }

    fn start(&self) -> HostSshd {
        HostSshd::start(&self.config, self.port, self.etc.join("sshd.log"))
    }
}

/// Skips (one line) unless sshd can run here.
fn sshd_usable() -> bool {
    if !Path::new("/usr/sbin/sshd").exists() {
        skip::skip(&skip::SSHD, "/usr/sbin/sshd is not installed");
        return false;
    }
    true
}

/// Two simulated keys, each with its own CA: `sk-user-ca.pub` and `backup-ca.pub` in work/,
/// each with its attestation under the TEST root beside it (`sk-user-ca.attest`,
/// `backup-ca.attest`): host-config verifies them with `--roots` [`test_roots`].
fn two_cas(w: &World) -> (String, String) {
    let primary = w.init_ca();
    let o = w.run_env(
        &["init-ca", "-f", "backup-ca"],
        &[("BREAKGLASS_SIM_DIR", w.other_sim("sim2").to_str().unwrap())],
    );
    assert!(o.status.success(), "{}", err(&o));
    attest_beside(&w.path("sk-user-ca.pub"));
    attest_beside(&w.path("backup-ca.pub"));
    (
        primary,
        fs::read_to_string(w.path("backup-ca.pub")).unwrap(),
    )
}

/// A certificate from the online CA (ssh-keygen -s) for `principal`, with key id `id`.
fn online_cert(h: &Host, w: &World, name: &str, principal: &str, id: &str) -> PathBuf {
    let o = ssh_keygen(&["-q", "-t", "ed25519", "-N", "", "-f", name], &w.work);
    assert!(o.status.success(), "{}", err(&o));
    let ca = h.etc.join("online_ca");
    let o = ssh_keygen(
        &[
            "-q",
            "-s",
            ca.to_str().unwrap(),
            "-I",
            id,
            "-n",
            principal,
            "-z",
            "77",
            "-V",
            "-5m:+1h",
            &format!("{name}.pub"),
        ],
        &w.work,
    );
    assert!(o.status.success(), "{}", err(&o));
    w.path(name)
}

#[test]
fn sshd_accepts_both_break_glass_cas_and_still_the_online_ca_it_merged() {
    if !sshd_usable() {
        return;
    }
    let w = World::new();
    two_cas(&w);
    let h = Host::new(&w);
    let u = user();
    let bg = format!("bg-{u}");
    let o = w.run(&[
        "host-config",
        "--roots",
        TEST_ROOTS,
        "--out",
        h.etc_str(),
        "--etc",
        h.etc_str(),
        "--sshd-config",
        h.config_str(),
        "--principals",
        &format!("{u}={bg}"),
        "sk-user-ca.pub",
        "backup-ca.pub",
    ]);
    assert!(o.status.success(), "{}", err(&o));
    let text = out(&o);
    assert!(
        text.contains(&format!(
            "TrustedUserCAKeys {}/online_ca.pub (set in {} line 7): 1 CA key already trusted, kept in breakglass_user_ca.pub",
            h.etc_str(),
            h.config_str()
        )),
        "{text}"
    );
    let t = h.sshd_t();
    assert!(t.status.success(), "sshd -t refused: {}", err(&t));
    // sshd now reads our drop-in first.
    assert_eq!(
        h.sshd_big_t("trustedusercakeys", None),
        format!("{}/breakglass_user_ca.pub", h.etc_str())
    );
    assert_eq!(
        h.sshd_big_t("revokedkeys", None),
        format!("{}/breakglass_revoked.krl", h.etc_str())
    );

    // A break-glass certificate from each key, carrying the mapped principal.
    w.ok(&["mint", "-n", &bg, "-f", "primary"]);
    let o = w.run_env(
        &["mint", "--ca", "backup-ca.pub", "-n", &bg, "-f", "backup"],
        &[("BREAKGLASS_SIM_DIR", w.other_sim("sim2").to_str().unwrap())],
    );
    assert!(o.status.success(), "{}", err(&o));
    // The online CA's certificate names the login itself, as it did before.
    let online = online_cert(&h, &w, "online", &u, "online-user");
    // A certificate from an unrelated CA, and a break-glass one without the mapped principal.
    fs::create_dir_all(w.tmp.path().join("rogue")).unwrap();
    let o = ssh_keygen(
        &["-q", "-t", "ed25519", "-N", "", "-f", "rogue_ca"],
        &w.work,
    );
    assert!(o.status.success());
    let o = ssh_keygen(&["-q", "-t", "ed25519", "-N", "", "-f", "rogue"], &w.work);
    assert!(o.status.success());
    let o = ssh_keygen(
        &["-q", "-s", "rogue_ca", "-I", "rogue", "-n", &u, "rogue.pub"],
        &w.work,
    );
    assert!(o.status.success());
    w.ok(&["mint", "-n", "someone-else", "-f", "unmapped"]);

    let sshd = h.start();
    assert!(
        sshd.login(&w.path("primary"), &u),
        "primary CA refused:\n{}",
        sshd.log()
    );
    assert!(
        sshd.login(&w.path("backup"), &u),
        "backup CA refused:\n{}",
        sshd.log()
    );
    assert!(
        sshd.login(&online, &u),
        "online CA refused:\n{}",
        sshd.log()
    );
    assert!(!sshd.login(&w.path("rogue"), &u), "rogue CA accepted");
    assert!(
        !sshd.login(&w.path("unmapped"), &u),
        "unmapped principal accepted"
    );
    let log = sshd.log();
    assert_eq!(log.matches("Accepted publickey for").count(), 3, "{log}");
    assert!(
        log.contains("Certificate does not contain an authorized principal"),
        "{log}"
    );
}

#[test]
fn the_00_drop_in_wins_over_later_drop_ins_and_a_late_name_would_lose() {
    if !sshd_usable() {
        return;
    }
    let w = World::new();
    two_cas(&w);
    let h = Host::new(&w);
    // Another drop-in (a cloud image's, say) sets TrustedUserCAKeys too.
    let other = h.etc.join("other_ca.pub");
    let o = ssh_keygen(
        &[
            "-q", "-t", "ed25519", "-N", "", "-C", "other", "-f", "other_ca",
        ],
        &h.etc,
    );
    assert!(o.status.success());
    fs::write(
        h.etc.join("sshd_config.d/50-cloud.conf"),
        format!("TrustedUserCAKeys {}\n", other.display()),
    )
    .unwrap();
    let o = w.run(&[
        "host-config",
        "--roots",
        TEST_ROOTS,
        "--out",
        h.etc_str(),
        "--etc",
        h.etc_str(),
        "--sshd-config",
        h.config_str(),
        "sk-user-ca.pub",
    ]);
    assert!(o.status.success(), "{}", err(&o));
    // The effective value before was 50-cloud.conf's: its CA is the one carried over.
    let ca_file = fs::read_to_string(h.etc.join("breakglass_user_ca.pub")).unwrap();
    let other_line = fs::read_to_string(&other).unwrap();
    assert!(ca_file.contains(other_line.trim()), "{ca_file}");
    let online_line = fs::read_to_string(h.etc.join("online_ca.pub")).unwrap();
    assert!(!ca_file.contains(online_line.trim()), "{ca_file}");
    let ours = format!("{}/breakglass_user_ca.pub", h.etc_str());
    assert_eq!(h.sshd_big_t("trustedusercakeys", None), ours);
    // Named so that it sorts after 50-cloud.conf, the same drop-in is silently ignored.
    fs::rename(
        h.etc.join("sshd_config.d/00-breakglass.conf"),
        h.etc.join("sshd_config.d/breakglass.conf"),
    )
    .unwrap();
    assert_eq!(
        h.sshd_big_t("trustedusercakeys", None),
        other.display().to_string()
    );
}

#[test]
fn a_main_config_that_sets_the_keyword_before_its_include_or_never_includes_is_refused() {
    let w = World::new();
    w.init_ca();
    let h = Host::new(&w);
    let e = h.etc_str();
    let cfg = fs::read_to_string(&h.config).unwrap();
    let before = format!("TrustedUserCAKeys {e}/online_ca.pub\n{cfg}");
    fs::write(&h.config, &before).unwrap();
    let args = [
        "host-config",
        // A simulated CA with no attestation: trusted on purpose.
        "--allow-unattested",
        "--out",
        e,
        "--etc",
        e,
        "--sshd-config",
        h.config_str(),
        "sk-user-ca.pub",
    ];
    let snap = snapshot(&h.etc);
    let o = w.run(&args);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        err(&o),
        format!(
            "breakglass: {} line 1 sets TrustedUserCAKeys before {e}/sshd_config.d/00-breakglass.conf is read, so sshd would ignore the drop-in's value.\n\
             Move the Include of sshd_config.d/*.conf above that line, or delete the line: host-config carries its CAs and KRL over into the drop-in.\n",
            h.config_str()
        )
    );
    assert_eq!(snapshot(&h.etc), snap, "files changed");
    let without: String = cfg.lines().skip(1).map(|l| format!("{l}\n")).collect();
    fs::write(&h.config, without).unwrap();
    let snap = snapshot(&h.etc);
    let o = w.run(&args);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        err(&o),
        format!(
            "breakglass: {} does not Include {e}/sshd_config.d/00-breakglass.conf, so sshd would never read it.\n\
             Add `Include /etc/ssh/sshd_config.d/*.conf` (with your --etc) at the top of sshd_config, as Debian does, or pass the right --sshd-config / --etc.\n",
            h.config_str()
        )
    );
    assert_eq!(snapshot(&h.etc), snap, "files changed");
}

/// Two CAs in the world, and a host that already has an (empty) KRL and a principals file for
/// alice, both named in its sshd settings: what the plan must read and merge.
fn host_with_krl_and_principals(w: &World) -> Host {
    two_cas(w);
    let h = Host::new(w);
    let e = h.etc_str();
    fs::write(h.etc.join("revoked.krl"), "").unwrap();
    let pdir = h.etc.join("principals");
    fs::create_dir(&pdir).unwrap();
    fs::write(pdir.join("alice"), "alice\nfrom=\"10.0.0.0/8\" oncall\n").unwrap();
    let cfg = fs::read_to_string(&h.config).unwrap();
    fs::write(
        &h.config,
        format!("{cfg}RevokedKeys {e}/revoked.krl\nAuthorizedPrincipalsFile {e}/principals/%u\n"),
    )
    .unwrap();
    h
}

#[test]
fn the_plan_shows_what_was_read_merged_and_would_be_written() {
    let w = World::new();
    let h = host_with_krl_and_principals(&w);
    let e = h.etc_str();
    let snap = snapshot(&h.etc);
    let o = w.run(&[
        "host-config",
        "--roots",
        TEST_ROOTS,
        "--etc",
        e,
        "--sshd-config",
        h.config_str(),
        "--principals",
        "alice=bg-alice,oncall",
        "sk-user-ca.pub",
        "backup-ca.pub",
    ]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(snapshot(&h.etc), snap, "the plan wrote something");
    let text = out(&o);
    let line = |p: &str| fs::read_to_string(w.path(p)).unwrap().trim().to_string();
    let online = fs::read_to_string(h.etc.join("online_ca.pub")).unwrap();
    let c = h.config_str();
    let fp1 = fingerprint(&w.path("sk-user-ca.pub"));
    let fp2 = fingerprint(&w.path("backup-ca.pub"));
    let fpo = fingerprint(&h.etc.join("online_ca.pub"));
    let comment1 = line("sk-user-ca.pub")
        .splitn(3, ' ')
        .nth(2)
        .unwrap()
        .to_string();
    let comment2 = line("backup-ca.pub")
        .splitn(3, ' ')
        .nth(2)
        .unwrap()
        .to_string();
    // How the settings were read depends on whether sshd -T can run here.
    let (how, rest) = text
        .split_once('\n')
        .and_then(|(a, r)| r.split_once('\n').map(|(_, r)| (a, r)))
        .unwrap();
    assert_eq!(how, "Plan (nothing written; --out DIR writes these files):");
    let rest = rest.split_once('\n').unwrap();
    assert!(
        rest.0 == format!("The host's sshd today: sshd -T -f {c}")
            || rest.0.starts_with(&format!(
                "The host's sshd today: read from {c} and its Includes ("
            )),
        "{}",
        rest.0
    );
    let expected = format!(
        "  TrustedUserCAKeys        {e}/online_ca.pub
  RevokedKeys              {e}/revoked.krl
  AuthorizedPrincipalsFile {e}/principals/%u

Merged:
  - TrustedUserCAKeys {e}/online_ca.pub (set in {c} line 7): 1 CA key already trusted, kept in breakglass_user_ca.pub
  - RevokedKeys {e}/revoked.krl (set in {c} line 12): stays the RevokedKeys file (breakglass revoke --krl {e}/revoked.krl adds to it); no new KRL
  - AuthorizedPrincipalsFile {e}/principals/%u (set in {c} line 13): 2 lines of {e}/principals/alice kept in breakglass_principals/alice

Trusted CAs:
  break-glass  sk-ecdsa-sha2-nistp256@openssh.com {fp1} {comment1}
  break-glass  sk-ecdsa-sha2-nistp256@openssh.com {fp2} {comment2}
  kept         ssh-ed25519 {fpo} online-ca

Attestation (trusted roots: {TEST_ROOTS}; firmware floor 5.7.0):
  break-glass  {fp1} VERIFIED: FIDO2, breakglass test, YubiKey 5 NFC or 5C NFC, firmware 5.7.4 (sk-user-ca.attest)
  break-glass  {fp2} VERIFIED: FIDO2, breakglass test, YubiKey 5 NFC or 5C NFC, firmware 5.7.4 (backup-ca.attest)
  kept         {fpo} exempt: merged from the host's TrustedUserCAKeys: a CA the host already trusted, which cannot be attested

Files:
  breakglass_user_ca.pub -> {e}/breakglass_user_ca.pub (0644)
      {l1}
      {l2}
      {lo}
  sshd_config.d/00-breakglass.conf -> {e}/sshd_config.d/00-breakglass.conf (0644)
      TrustedUserCAKeys {e}/breakglass_user_ca.pub
      RevokedKeys {e}/revoked.krl
      Match User alice
          AuthorizedPrincipalsFile {e}/breakglass_principals/%u
  breakglass_principals/alice -> {e}/breakglass_principals/alice (0644)
      alice
      from=\"10.0.0.0/8\" oncall
      bg-alice
  breakglass_attestation/verdict.json -> {e}/breakglass_attestation/verdict.json (0644)
      what was verified, for the host and deploy/ansible (JSON: --json shows it as \"attestation\")
  breakglass_attestation/break-glass-1.attest -> {e}/breakglass_attestation/break-glass-1.attest (0644)
      the attestation it was verified with ({n1} bytes)
  breakglass_attestation/break-glass-2.attest -> {e}/breakglass_attestation/break-glass-2.attest (0644)
      the attestation it was verified with ({n2} bytes)

On the host: install the files, then `sshd -t` and reload sshd (deploy/ansible does both).
",
        n1 = fs::metadata(w.path("sk-user-ca.attest")).unwrap().len(),
        n2 = fs::metadata(w.path("backup-ca.attest")).unwrap().len(),
        l1 = line("sk-user-ca.pub"),
        l2 = line("backup-ca.pub"),
        lo = online.trim(),
    );
    assert_eq!(rest.1, expected);
}

/// Parses stdout as exactly one JSON document.
fn json_doc(o: &std::process::Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", err(o));
    serde_json::from_str(&out(o))
        .unwrap_or_else(|e| panic!("not one JSON document ({e}): {}", out(o)))
}

/// The `files` entry of `kind` (there is exactly one).
fn file_of<'a>(doc: &'a serde_json::Value, kind: &str) -> &'a serde_json::Value {
    let all: Vec<&serde_json::Value> = doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == kind)
        .collect();
    assert_eq!(all.len(), 1, "{kind}: {doc:#}");
    all[0]
}

#[test]
fn json_plan_is_one_document_with_the_cas_what_was_merged_and_the_files() {
    let w = World::new();
    let h = host_with_krl_and_principals(&w);
    let e = h.etc_str();
    let snap = snapshot(&h.etc);
    let o = w.run(&[
        "--json",
        "host-config",
        "--roots",
        TEST_ROOTS,
        "--etc",
        e,
        "--sshd-config",
        h.config_str(),
        "--principals",
        "alice=bg-alice,oncall",
        "sk-user-ca.pub",
        "backup-ca.pub",
    ]);
    let doc = json_doc(&o);
    assert_eq!(err(&o), "");
    assert_eq!(snapshot(&h.etc), snap, "the plan wrote something");
    assert_eq!(doc["written"], serde_json::Value::Null);
    assert_eq!(doc["etc"], e);
    assert_eq!(doc["sshd"]["config"], h.config_str());
    assert_eq!(
        doc["sshd"]["trusted_user_ca_keys"]["value"],
        format!("{e}/online_ca.pub")
    );
    // The CAs: fingerprints as ssh-keygen -l prints them, comments, the public key lines.
    let fps = |list: &str| -> Vec<String> {
        doc[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["fingerprint"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        fps("breakglass_cas"),
        [
            fingerprint(&w.path("sk-user-ca.pub")),
            fingerprint(&w.path("backup-ca.pub"))
        ]
    );
    let primary = fs::read_to_string(w.path("sk-user-ca.pub")).unwrap();
    assert_eq!(doc["breakglass_cas"][0]["public_key"], primary.trim());
    assert_eq!(
        doc["breakglass_cas"][0]["algorithm"],
        "sk-ecdsa-sha2-nistp256@openssh.com"
    );
    assert_eq!(
        doc["breakglass_cas"][0]["comment"],
        primary.trim().splitn(3, ' ').nth(2).unwrap()
    );
    // The online CA the host already trusted is merged, and so are its KRL and principals.
    assert_eq!(fps("kept_cas"), [fingerprint(&h.etc.join("online_ca.pub"))]);
    assert_eq!(doc["kept_cas"][0]["comment"], "online-ca");
    assert_eq!(doc["custodian_cas"], serde_json::json!([]));
    assert_eq!(doc["revoked_keys"], format!("{e}/revoked.krl"));
    assert_eq!(doc["krl_kept"], true);
    assert_eq!(doc["merged"].as_array().unwrap().len(), 3, "{doc:#}");
    assert_eq!(doc["warnings"], serde_json::json!([]));
    assert_eq!(
        doc["principals"],
        serde_json::json!([{
            "user": "alice",
            "kept": ["alice", "from=\"10.0.0.0/8\" oncall"],
            "kept_from": format!("{e}/principals/alice"),
            "added": ["bg-alice"],
        }])
    );
    // The files: no KRL of ours (the host keeps its own), the drop-in's exact text.
    let kinds: Vec<&str> = doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "ca-keys",
            "drop-in",
            "principals",
            "attestation-verdict",
            "attestation",
            "attestation"
        ]
    );
    // The attestation gate: both break-glass CAs verified under the test root, the online CA
    // exempt; the verdict file holds the same document.
    let a = &doc["attestation"];
    assert_eq!(a["format"], "breakglass-host-attestation-v1");
    assert_eq!(
        (a["verified"].as_bool(), a["allow_unattested"].as_bool()),
        (Some(true), Some(false))
    );
    assert_eq!(a["trusted_roots"], TEST_ROOTS);
    assert_eq!(a["min_firmware"], "5.7.0");
    let entries: Vec<(&str, &str, &str)> = a["cas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["role"].as_str().unwrap(),
                c["status"].as_str().unwrap(),
                c["fingerprint"].as_str().unwrap(),
            )
        })
        .collect();
    let (fp1, fp2) = (
        fingerprint(&w.path("sk-user-ca.pub")),
        fingerprint(&w.path("backup-ca.pub")),
    );
    let fpo = fingerprint(&h.etc.join("online_ca.pub"));
    assert_eq!(
        entries,
        [
            ("break-glass", "verified", fp1.as_str()),
            ("break-glass", "verified", fp2.as_str()),
            ("kept", "exempt", fpo.as_str()),
        ]
    );
    assert_eq!(a["cas"][0]["attestation"], "sk-user-ca.attest");
    assert_eq!(
        a["cas"][0]["copy"],
        "breakglass_attestation/break-glass-1.attest"
    );
    assert_eq!(a["cas"][0]["report"]["vendor"], "breakglass test");
    assert_eq!(a["cas"][0]["report"]["key"]["matches_ca"], true);
    assert_eq!(a["cas"][2]["report"], serde_json::Value::Null);
    let verdict = file_of(&doc, "attestation-verdict");
    assert_eq!(verdict["path"], "breakglass_attestation/verdict.json");
    assert_eq!(
        verdict["install"],
        format!("{e}/breakglass_attestation/verdict.json")
    );
    let on_file: serde_json::Value =
        serde_json::from_str(verdict["content"].as_str().unwrap()).unwrap();
    assert_eq!(&on_file, a);
    let drop_in = file_of(&doc, "drop-in");
    assert_eq!(drop_in["path"], "sshd_config.d/00-breakglass.conf");
    assert_eq!(
        drop_in["install"],
        format!("{e}/sshd_config.d/00-breakglass.conf")
    );
    assert_eq!(drop_in["mode"], "0644");
    let text = drop_in["content"].as_str().unwrap();
    let settings: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        settings,
        [
            format!("TrustedUserCAKeys {e}/breakglass_user_ca.pub"),
            format!("RevokedKeys {e}/revoked.krl"),
            "Match User alice".to_string(),
            format!("    AuthorizedPrincipalsFile {e}/breakglass_principals/%u"),
        ]
    );
    assert!(doc["cloud_init"]
        .as_str()
        .unwrap()
        .starts_with("#cloud-config\n"));
}

#[test]
fn json_out_reports_each_file_it_wrote_with_its_exact_content() {
    use base64ct::Encoding;
    let w = World::new();
    two_cas(&w);
    let h = Host::new(&w);
    let outdir = w.tmp.path().join("out");
    fs::create_dir(&outdir).unwrap();
    let o = outdir.to_str().unwrap();
    let args = [
        "--json",
        "host-config",
        "--roots",
        TEST_ROOTS,
        "--out",
        o,
        "--etc",
        h.etc_str(),
        "--sshd-config",
        h.config_str(),
        "--alert",
        "/usr/local/bin/page-oncall",
        "sk-user-ca.pub",
    ];
    let doc = json_doc(&w.run(&args));
    assert_eq!(doc["written"]["out"], o);
    assert_eq!(doc["alert"], "/usr/local/bin/page-oncall");
    let files = doc["files"].as_array().unwrap();
    let written: Vec<String> = doc["written"]["written"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    assert_eq!(written.len(), files.len());
    for f in files {
        let path = outdir.join(f["path"].as_str().unwrap());
        assert!(written.contains(&path.display().to_string()), "{path:?}");
        let on_disk = fs::read(&path).unwrap();
        let content = f["content"].as_str().unwrap();
        let bytes = match f["encoding"].as_str().unwrap() {
            "text" => content.as_bytes().to_vec(),
            "base64" => base64ct::Base64::decode_vec(content).unwrap(),
            other => panic!("encoding {other}"),
        };
        assert_eq!(bytes, on_disk, "{path:?}");
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(f["mode"], format!("0{mode:o}"), "{path:?}");
    }
    // The new KRL is binary, so base64; the alert script is executable.
    assert_eq!(file_of(&doc, "krl")["encoding"], "base64");
    assert_eq!(file_of(&doc, "krl")["keep_existing"], true);
    assert_eq!(file_of(&doc, "alert-script")["mode"], "0755");
    assert!(file_of(&doc, "alert-rule")["content"]
        .as_str()
        .unwrap()
        .contains(&fingerprint(&w.path("sk-user-ca.pub"))));
    // Again with --force: the KRL that exists now is kept, and said so.
    let mut forced = args.to_vec();
    forced.push("--force");
    let doc = json_doc(&w.run(&forced));
    assert_eq!(
        doc["written"]["kept"],
        serde_json::json!([outdir.join("breakglass_revoked.krl")])
    );
    // --known-hosts is one document too; an error is the usual error document.
    let doc = json_doc(&w.run(&[
        "--json",
        "host-config",
        "--known-hosts",
        "*.example.com",
        "sk-user-ca.pub",
    ]));
    let primary = fs::read_to_string(w.path("sk-user-ca.pub")).unwrap();
    assert_eq!(
        doc["lines"],
        serde_json::json!([format!("@cert-authority *.example.com {}", primary.trim())])
    );
    assert_eq!(
        doc["cas"][0]["fingerprint"],
        fingerprint(&w.path("sk-user-ca.pub"))
    );
    let e = w.run(&["--json", "host-config", "--etc", "rel", "sk-user-ca.pub"]);
    assert_eq!(
        e.status.code(),
        Some(2),
        "--etc rel is a mistyped command line"
    );
    let doc: serde_json::Value = serde_json::from_str(&out(&e)).unwrap();
    assert_eq!(doc["error"]["kind"], "bad-etc");
}

#[test]
fn known_hosts_prints_a_cert_authority_line_per_ca() {
    let w = World::new();
    let (p, b) = two_cas(&w);
    let o = w.run(&[
        "host-config",
        "--known-hosts",
        "*.example.com",
        "sk-user-ca.pub",
        "backup-ca.pub",
    ]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(
        out(&o),
        format!(
            "@cert-authority *.example.com {}\n@cert-authority *.example.com {}\n",
            p.trim(),
            b.trim()
        )
    );
}

#[test]
fn cloud_init_output_passes_cloud_init_schema() {
    if !have("cloud-init") {
        return skip::skip(&skip::CLOUD_INIT, "cloud-init is not installed");
    }
    let w = World::new();
    two_cas(&w);
    let h = Host::new(&w);
    let o = w.run(&[
        "host-config",
        "--roots",
        TEST_ROOTS,
        "--cloud-init",
        "--etc",
        h.etc_str(),
        "--sshd-config",
        h.config_str(),
        "--principals",
        &format!("{}=bg", user()),
        "--alert",
        "/usr/local/bin/page-oncall",
        "sk-user-ca.pub",
        "backup-ca.pub",
    ]);
    assert!(o.status.success(), "{}", err(&o));
    let doc = out(&o);
    assert!(doc.starts_with("#cloud-config\n"), "{doc}");
    assert!(doc.contains("encoding: b64"), "{doc}");
    assert!(
        doc.contains("runcmd:\n  - [sh, -c, \"/usr/sbin/sshd -t && "),
        "{doc}"
    );
    let file = w.tmp.path().join("cloud.yaml");
    fs::write(&file, &doc).unwrap();
    let s = Command::new("cloud-init")
        .args(["schema", "--config-file", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(s.status.success(), "{}\n{}\n{doc}", out(&s), err(&s));
    assert!(out(&s).contains("Valid cloud-config"), "{}", out(&s));
    // And a broken document is refused by the same check (the check can fail).
    fs::write(&file, doc.replace("write_files:", "write_files: 7\nx:")).unwrap();
    let s = Command::new("cloud-init")
        .args(["schema", "--config-file", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!s.status.success());
}

/// Runs one bad-input case: exact stderr, exit 1, and `dir` unchanged.
fn refused(w: &World, args: &[&str], dir: &Path, stderr: &str) {
    let snap = snapshot(dir);
    let o = w.run(args);
    assert_eq!(o.status.code(), Some(1), "{args:?}: {}", err(&o));
    assert_eq!(err(&o), stderr, "{args:?}");
    assert_eq!(out(&o), "");
    assert_eq!(snapshot(dir), snap, "{args:?}: files changed");
}

#[test]
fn bad_inputs_are_refused_with_exact_errors_and_nothing_written() {
    let w = World::new();
    w.init_ca();
    let h = Host::new(&w);
    let outdir = w.tmp.path().join("out");
    fs::create_dir(&outdir).unwrap();
    let o = outdir.to_str().unwrap();
    let base = |ca: &str| -> Vec<String> {
        [
            "host-config",
            "--out",
            o,
            "--etc",
            h.etc_str(),
            "--sshd-config",
            h.config_str(),
            ca,
            // A simulated CA with no attestation: trusted on purpose.
            "--allow-unattested",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let run = |args: &[String], stderr: &str| {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        refused(&w, &a, &outdir, stderr);
    };
    let hint = "Pass the CAs' public keys (the .pub files init-ca wrote), one key per line.";
    // A private key where a CA public key belongs.
    fs::copy(h.etc.join("online_ca"), w.path("private")).unwrap();
    run(
        &base("private"),
        &format!("breakglass: private: is a private key file; pass the CA's public key (the .pub file).\n{hint}\n"),
    );
    // Garbage after a good key: nothing unvalidated is ever written.
    let good = fs::read_to_string(w.path("sk-user-ca.pub")).unwrap();
    fs::write(
        w.path("garbage.pub"),
        format!("{good}# fine\nnot a key at all\n"),
    )
    .unwrap();
    run(
        &base("garbage.pub"),
        &format!("breakglass: garbage.pub: line 3 is not an OpenSSH public key.\n{hint}\n"),
    );
    fs::write(w.path("empty.pub"), "# nothing\n\n").unwrap();
    run(
        &base("empty.pub"),
        &format!("breakglass: empty.pub: holds no public key.\n{hint}\n"),
    );
    // A certificate is not a CA key.
    w.ok(&["mint", "-n", "x", "-f", "em"]);
    run(
        &base("em-cert.pub"),
        &format!(
            "breakglass: em-cert.pub: line 1 is a certificate, not a CA public key.\n{hint}\n"
        ),
    );
    // A file already there, without --force.
    fs::write(outdir.join("breakglass_user_ca.pub"), "old\n").unwrap();
    run(
        &base("sk-user-ca.pub"),
        &format!(
            "breakglass: {o}/breakglass_user_ca.pub already exists.\nPass --force to replace it, or pick another --out.\n"
        ),
    );
    fs::remove_file(outdir.join("breakglass_user_ca.pub")).unwrap();
    // --out that does not exist, and an --out that cannot be written.
    let mut a = base("sk-user-ca.pub");
    a[2] = format!("{o}/missing");
    run(
        &a,
        &format!("breakglass: --out {o}/missing does not exist.\nCreate the directory first, or pick another --out.\n"),
    );
    if is_root() {
        // Root may write anywhere a mode allows; sysfs refuses new files even to root.
        let a: Vec<String> = [
            "host-config",
            // A simulated CA with no attestation: trusted on purpose.
            "--allow-unattested",
            "--out",
            "/sys",
            "--etc",
            h.etc_str(),
            "--sshd-config",
            h.config_str(),
            "sk-user-ca.pub",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let o2 = w.run(&a.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(o2.status.code(), Some(1));
        let e2 = err(&o2);
        assert!(
            e2.starts_with("breakglass: could not create the directory /sys/sshd_config.d: ")
                && e2.ends_with(
                    ".\nCheck the path and its permissions, then run the command again.\n"
                ),
            "{e2}"
        );
        assert!(!Path::new("/sys/breakglass_user_ca.pub").exists());
        assert!(!Path::new("/sys/sshd_config.d").exists());
    } else {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&outdir, fs::Permissions::from_mode(0o555)).unwrap();
        run(
            &base("sk-user-ca.pub"),
            &format!("breakglass: could not create the directory {o}/sshd_config.d: Permission denied (os error 13).\nCheck the path and its permissions, then run the command again.\n"),
        );
        fs::set_permissions(&outdir, fs::Permissions::from_mode(0o755)).unwrap();
    }
    // An --sshd-config that is not there.
    let mut a = base("sk-user-ca.pub");
    a[6] = format!("{o}/no_config");
    run(
        &a,
        &format!("breakglass: cannot read the sshd configuration {o}/no_config: no such file.\nPoint --sshd-config at the host's sshd_config (run as a user who can read it).\n"),
    );
    // A mistyped --principals is a usage error (exit 2).
    let o3 = w.run(&["host-config", "--principals", "root", "sk-user-ca.pub"]);
    assert_eq!(o3.status.code(), Some(2));
    assert!(
        err(&o3).contains("'root' is not USER=NAME[,NAME…]"),
        "{}",
        err(&o3)
    );
    assert!(fs::read_dir(&outdir).unwrap().next().is_none());
}

#[test]
fn force_replaces_the_files_but_never_an_existing_krl() {
    let w = World::new();
    w.init_ca();
    let h = Host::new(&w);
    let outdir = w.tmp.path().join("out");
    fs::create_dir(&outdir).unwrap();
    let args = [
        "host-config",
        // A simulated CA with no attestation: trusted on purpose.
        "--allow-unattested",
        "--out",
        outdir.to_str().unwrap(),
        "--sshd-config",
        h.config_str(),
        "sk-user-ca.pub",
    ];
    let first = w.run(&args);
    // The default --etc is /etc/ssh, which this host's sshd_config does not include.
    assert_eq!(first.status.code(), Some(1), "{}", err(&first));
    let args = [
        "host-config",
        // A simulated CA with no attestation: trusted on purpose.
        "--allow-unattested",
        "--out",
        outdir.to_str().unwrap(),
        "--etc",
        h.etc_str(),
        "--sshd-config",
        h.config_str(),
        "sk-user-ca.pub",
    ];
    w.ok(&args);
    let krl = outdir.join("breakglass_revoked.krl");
    let q = ssh_keygen(
        &["-Q", "-f", krl.to_str().unwrap(), "sk-user-ca.pub"],
        &w.work,
    );
    assert!(
        q.status.success(),
        "ssh-keygen -Q on the empty KRL: {}",
        err(&q)
    );
    assert!(out(&q).ends_with(": ok\n"), "{}", out(&q));
    fs::write(&krl, b"a KRL with revocations by now").unwrap();
    let mut forced = args.to_vec();
    forced.push("--force");
    let text = w.ok(&forced);
    assert!(
        text.contains("breakglass_revoked.krl (exists, kept)"),
        "{text}"
    );
    assert_eq!(fs::read(&krl).unwrap(), b"a KRL with revocations by now");
}

// ---- --alert: a real sshd's log lines through a real rsyslogd running the generated rule ----

/// `host-config --alert PAGER` into the host's `etc/`, the pager (`pager` in the world's temp
/// dir) recording its calls in `calls`.
fn alert_config(w: &World, h: &Host, pager: &str, calls: &Path) {
    let pager = w.tmp.path().join(pager);
    write_recording_pager(&pager, calls);
    let o = w.run(&[
        "host-config",
        // A simulated CA with no attestation: trusted on purpose.
        "--allow-unattested",
        "--out",
        h.etc_str(),
        "--etc",
        h.etc_str(),
        "--sshd-config",
        h.config_str(),
        "--alert",
        pager.to_str().unwrap(),
        "sk-user-ca.pub",
    ]);
    assert!(o.status.success(), "{}", err(&o));
}

#[test]
fn alert_fires_once_for_the_break_glass_login_only_and_never_runs_log_text() {
    if !sshd_usable() {
        return;
    }
    for p in ["rsyslogd", "logger"] {
        if !have(p) {
            return skip::skip(&skip::RSYSLOG, &format!("{p} is not installed"));
        }
    }
    let w = World::new();
    w.init_ca();
    let h = Host::new(&w);
    let u = user();
    let calls = w.tmp.path().join("calls");
    let pwned = w.tmp.path().join("pwned");
    alert_config(&w, &h, "page-oncall", &calls);
    let fp = fingerprint(&w.path("sk-user-ca.pub"));

    // Three real logins: a plain key (authorized_keys), an online-CA certificate whose key id
    // imitates a break-glass line, and a break-glass certificate with a hostile key id.
    let o = ssh_keygen(&["-q", "-t", "ed25519", "-N", "", "-f", "plain"], &w.work);
    assert!(o.status.success());
    fs::copy(w.path("plain.pub"), h.etc.join("authorized_keys")).unwrap();
    let spoof_id = format!("x (serial 5) CA ECDSA-SK {fp}");
    let online = online_cert(&h, &w, "online", &u, &spoof_id);
    let hostile = format!("inc $(touch {}) \"q\" 'x' `id` ;", pwned.display());
    w.ok(&["mint", "-n", &u, "-I", &hostile, "-z", "4242", "-f", "bg"]);
    let sshd = h.start();
    assert!(sshd.login(&w.path("plain"), &u), "{}", sshd.log());
    assert!(sshd.login(&online, &u), "{}", sshd.log());
    assert!(sshd.login(&w.path("bg"), &u), "{}", sshd.log());
    let log = sshd.log();
    let accepted: Vec<String> = log
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| l.starts_with("Accepted publickey for "))
        .map(str::to_string)
        .collect();
    assert_eq!(accepted.len(), 3, "{log}");
    assert!(
        accepted[2].ends_with(&format!("ID {hostile} (serial 4242) CA ECDSA-SK {fp}")),
        "{}",
        accepted[2]
    );

    // Fed, in order, to rsyslogd as sshd's syslog messages, with the generated rule in force.
    let rs_dir = w.tmp.path().join("rsyslog");
    fs::create_dir(&rs_dir).unwrap();
    let rsyslogd = start_rsyslogd(
        &rs_dir,
        "",
        &h.etc.join("rsyslog.d/30-breakglass-alert.conf"),
    );
    for line in &accepted {
        let s = Command::new("logger")
            .arg("-u")
            .arg(&rsyslogd.socket)
            .args(["-t", "sshd[4711]", "-p", "auth.info", "--"])
            .arg(line)
            .status()
            .unwrap();
        assert!(s.success());
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    while fs::read_to_string(&calls).unwrap_or_default().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the alert never fired; rsyslogd said: {}",
            fs::read_to_string(rs_dir.join("rsyslogd.err")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(1));
    drop(rsyslogd);
    assert_eq!(
        fs::read_to_string(&calls).unwrap(),
        format!(
            "CALL [{u}] [127.0.0.1] [{port}] [{hostile}] [4242] [{fp}]\n",
            port = port_of(&accepted[2])
        ),
    );
    assert!(!pwned.exists(), "the key id was executed");
}

/// Runs the generated alert script on `lines` (as omprog would feed them) and returns the calls.
fn run_alert_script(w: &World, h: &Host, lines: &[String], expect: usize) -> String {
    let calls = w.tmp.path().join("script-calls");
    let _ = fs::remove_file(&calls);
    alert_config(w, h, "script-pager", &calls);
    let mut input = String::new();
    for l in lines {
        input.push_str(l);
        input.push('\n');
    }
    let mut child = Command::new(h.etc.join("breakglass_alert.sh"))
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    // The pager runs in the background: wait for the calls expected, then a little longer so
    // that one too many would show.
    let deadline = Instant::now() + Duration::from_secs(15);
    while fs::read_to_string(&calls)
        .unwrap_or_default()
        .lines()
        .count()
        < expect
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    fs::read_to_string(&calls).unwrap_or_default()
}

#[test]
fn the_alert_script_reads_ca_serial_and_key_id_from_the_end_of_the_line() {
    let w = World::new();
    w.init_ca();
    let h = Host::new(&w);
    let fp = fingerprint(&w.path("sk-user-ca.pub"));
    let other = "SHA256:Y5H/rKB/wiHSjulEK+TzasaLvZ5Qg8nxuKeOoWZYXAk";
    let head = "Accepted publickey for root from 192.0.2.7 port 50022 ssh2: ECDSA-CERT SHA256:kkkk";
    let lines = vec![
        // Not ours: plain key, another CA (even with our line inside the key id), a failure.
        "Accepted publickey for root from 192.0.2.7 port 50022 ssh2: ED25519 SHA256:kkkk".to_string(),
        format!("{head} ID a (serial 1) CA ECDSA-SK {fp} (serial 2) CA ED25519 {other}"),
        format!("Failed publickey for root from 192.0.2.7 port 50022 ssh2: ECDSA-CERT SHA256:kkkk ID x (serial 3) CA ECDSA-SK {fp}"),
        format!("Accepted certificate ID \"x\" (serial 4) signed by ECDSA-SK CA {fp} via /etc/ssh/ca.pub"),
        // Ours: an empty key id, one that imitates another CA first, one with leading spaces.
        format!(" {head} ID  (serial 5) CA ECDSA-SK {fp}"),
        format!("{head} ID y (serial 9) CA ED25519 {other} (serial 6) CA ECDSA-SK {fp}"),
        format!("{head} ID   two  spaces  (serial 7) CA ECDSA-SK {fp}"),
    ];
    let calls = run_alert_script(&w, &h, &lines, 3);
    let mut got: Vec<&str> = calls.lines().collect();
    got.sort();
    let mut want = vec![
        format!("CALL [root] [192.0.2.7] [50022] [] [5] [{fp}]"),
        format!("CALL [root] [192.0.2.7] [50022] [y (serial 9) CA ED25519 {other}] [6] [{fp}]"),
        format!("CALL [root] [192.0.2.7] [50022] [  two  spaces ] [7] [{fp}]"),
    ];
    want.sort();
    assert_eq!(got, want);
}

/// A certificate `name-cert.pub` for `principal` made by plain `ssh-keygen -s CA -I ID -z SERIAL`
/// (for the key `name`, made first unless it exists).
fn plain_cert(
    w: &World,
    ca: &Path,
    name: &str,
    principal: &str,
    id: &str,
    serial: &str,
) -> PathBuf {
    if !w.path(name).exists() {
        ssh_keygen_ok(&["-q", "-t", "ed25519", "-N", "", "-f", name], &w.work);
    }
    let pubkey = format!("{name}.pub");
    let ca = ca.to_str().unwrap();
    let args = [
        "-q", "-s", ca, "-I", id, "-n", principal, "-z", serial, "-V", "-5m:+1h", &pubkey,
    ];
    ssh_keygen_ok(&args, &w.work);
    w.path(name)
}

#[test]
fn alert_pages_a_cut_log_line_as_unverified_and_other_cas_short_lines_stay_silent() {
    if !sshd_usable() {
        return;
    }
    for p in ["rsyslogd", "logger"] {
        if !have(p) {
            return skip::skip(&skip::RSYSLOG, &format!("{p} is not installed"));
        }
    }
    if !is_root() {
        return skip::skip(
            &skip::ROOT,
            "needs root (sshd logs to a syslog socket of the test's in its own mount namespace)",
        );
    }
    let w = World::new();
    let h = Host::new(&w);
    let u = user();
    // A break-glass CA plain ssh-keygen can sign with; the host also trusts its online CA.
    ssh_keygen_ok(&["-q", "-t", "ed25519", "-N", "", "-f", "bgca"], &w.work);
    let bgca = w.path("bgca");
    let online_ca = h.etc.join("online_ca");
    let fp = fingerprint(&w.path("bgca.pub"));
    let calls = w.tmp.path().join("calls");
    let pager = w.tmp.path().join("page-oncall");
    write_recording_pager(&pager, &calls);
    let o = w.run(&[
        "host-config",
        // A simulated CA with no attestation: trusted on purpose.
        "--allow-unattested",
        "--out",
        h.etc_str(),
        "--etc",
        h.etc_str(),
        "--sshd-config",
        h.config_str(),
        "--alert",
        pager.to_str().unwrap(),
        "bgca.pub",
    ]);
    assert!(o.status.success(), "{}", err(&o));

    // rsyslogd with the generated rule, and every sshd line to sshd.log.
    let rs_dir = w.tmp.path().join("rsyslog");
    fs::create_dir(&rs_dir).unwrap();
    let sshd_log = rs_dir.join("sshd.log");
    let rsyslogd = start_rsyslogd(
        &rs_dir,
        &format!(
            "template(name=\"sshd_line\" type=\"string\" string=\"%msg%\\n\")\n\
             if $programname == \"sshd\" then action(type=\"omfile\" file=\"{}\" template=\"sshd_line\")\n",
            sshd_log.display()
        ),
        &h.etc.join("rsyslog.d/30-breakglass-alert.conf"),
    );
    let sshd = HostSshd::start_syslog(
        &h.config,
        h.port,
        &w.tmp.path().join("dev"),
        &rsyslogd.socket,
        sshd_log.clone(),
    );

    // 1. The break-glass CA, a 460-byte key id: sshd's line is cut before "(serial 11) CA …".
    let long_id = format!("INC-1 {}", "k".repeat(454));
    let k1 = plain_cert(&w, &bgca, "k1", &u, &long_id, "11");
    // 2. The online CA, a short key id: not a break-glass login.
    let k2 = plain_cert(&w, &online_ca, "k2", &u, "online", "12");
    // 3. The online CA, a key id that ends in a forged break-glass tail exactly where sshd cuts.
    ssh_keygen_ok(&["-q", "-t", "ed25519", "-N", "", "-f", "k3"], &w.work);
    let head = format!(
        "Accepted publickey for {u} from 127.0.0.1 port 12345 ssh2: ED25519-CERT {} ID ",
        fingerprint(&w.path("k3.pub"))
    );
    let tail = format!(" (serial 5) CA ED25519 {fp}");
    let forged = format!("{}{tail}", "p".repeat(500 - head.len() - tail.len()));
    let k3 = plain_cert(&w, &online_ca, "k3", &u, &forged, "13");
    // 4. The break-glass CA, a short key id: an ordinary page.
    let k4 = plain_cert(&w, &bgca, "k4", &u, "INC-4 short", "14");
    for k in [&k1, &k2, &k3, &k4] {
        assert!(sshd.login(k, &u), "{}", sshd.log());
    }
    // 5. A network peer's user name imitating the line: sshd logs it as "Invalid user …".
    let probe = format!("Accepted publickey for x from 1 port 1 ssh2: A-CERT SHA256:{fp}");
    assert!(!sshd.login(&k4, &probe));
    sshd.wait_for("Accepted publickey for ", 4);
    sshd.wait_for("Invalid user Accepted publickey", 1);

    let accepted: Vec<String> = sshd
        .log()
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with("Accepted publickey for "))
        .map(str::to_string)
        .collect();
    assert_eq!(accepted.len(), 4, "{}", sshd.log());
    // sshd cut 1 and 3 at 500 characters; 3 now ends in the forged tail.
    assert_eq!(accepted[0].len(), 500, "{}", accepted[0]);
    assert!(!accepted[0].contains("(serial 11)"), "{}", accepted[0]);
    assert_eq!(accepted[2].len(), 500, "{}", accepted[2]);
    assert!(accepted[2].ends_with(&tail), "{}", accepted[2]);
    assert!(accepted[3].ends_with(&format!("ID INC-4 short (serial 14) CA ED25519 {fp}")));

    let unverified = |line: &str| {
        format!(
            "CALL [{u}] [127.0.0.1] [{}] [{}] [unverified] [unverified: the log line may be cut]",
            port_of(line),
            line.split_once(" ID ").unwrap().1
        )
    };
    let mut want = vec![
        unverified(&accepted[0]),
        unverified(&accepted[2]),
        format!(
            "CALL [{u}] [127.0.0.1] [{}] [INC-4 short] [14] [{fp}]",
            port_of(&accepted[3])
        ),
    ];
    want.sort();
    let deadline = Instant::now() + Duration::from_secs(15);
    while fs::read_to_string(&calls)
        .unwrap_or_default()
        .lines()
        .count()
        < want.len()
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500)); // one page too many would show
    drop(sshd);
    drop(rsyslogd);
    let text = fs::read_to_string(&calls).unwrap_or_default();
    let mut got: Vec<&str> = text.lines().collect();
    got.sort();
    assert_eq!(
        got,
        want,
        "rsyslogd said: {}",
        fs::read_to_string(rs_dir.join("rsyslogd.err")).unwrap_or_default()
    );
}

#[test]
fn the_alert_script_pages_499_characters_as_read_and_500_as_unverified() {
    let w = World::new();
    w.init_ca();
    let h = Host::new(&w);
    let fp = fingerprint(&w.path("sk-user-ca.pub"));
    let other = "SHA256:Y5H/rKB/wiHSjulEK+TzasaLvZ5Qg8nxuKeOoWZYXAk";
    let head =
        "Accepted publickey for root from 192.0.2.7 port 50022 ssh2: ECDSA-CERT SHA256:kkkk ID ";
    // A complete line of `len` characters under CA `ca`, serial `serial`.
    let line = |len: usize, serial: u32, ca: &str| {
        let tail = format!(" (serial {serial}) CA ECDSA-SK {ca}");
        format!("{head}{}{tail}", "i".repeat(len - head.len() - tail.len()))
    };
    let l499 = line(499, 1, &fp);
    let l500 = line(500, 2, &fp);
    let other500 = line(500, 3, other);
    let other499 = line(499, 4, other);
    let lines = vec![
        l499.clone(),
        l500.clone(),
        other500.clone(),
        other499,
        // A certificate line without the tail, short: not sshd's format.
        format!("{head}abc"),
        // A gate line that does not parse.
        "ACCEPTED two-person login for bg from 192.0.2.9 port 4000: serial x".to_string(),
        // Not certificate logins, or not accepted: silent.
        "Accepted publickey for root from 192.0.2.7 port 50022 ssh2: ED25519 SHA256:kkkk".to_string(),
        format!("Failed publickey for root from 192.0.2.7 port 50022 ssh2: ECDSA-CERT SHA256:kkkk ID {}", "x".repeat(500)),
    ];
    let calls = run_alert_script(&w, &h, &lines, 5);
    let mut got: Vec<&str> = calls.lines().collect();
    got.sort();
    let at = "CALL [root] [192.0.2.7] [50022]";
    let mut want = vec![
        format!("{at} [{}] [1] [{fp}]", &l499[head.len()..l499.len() - format!(" (serial 1) CA ECDSA-SK {fp}").len()]),
        format!("{at} [{}] [unverified] [unverified: the log line may be cut]", &l500[head.len()..]),
        format!("{at} [{}] [unverified] [unverified: the log line may be cut]", &other500[head.len()..]),
        format!("{at} [abc] [unverified] [unverified: the log line is not in the expected format]"),
        "CALL [bg] [192.0.2.9] [4000] [ACCEPTED two-person login for bg from 192.0.2.9 port 4000: serial x] [unverified] [unverified: the log line is not in the expected format]".to_string(),
    ];
    want.sort();
    assert_eq!(got, want);
}

/// sshd's escaping of its log message (`strnvis`, VIS_CSTYLE|VIS_OCTAL) for printable text.
fn sshd_escaped(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'\\' => "\\\\".to_string(),
            0x80.. => format!("\\{b:03o}"),
            b => (b as char).to_string(),
        })
        .collect()
}

#[test]
fn the_longest_key_id_mint_allows_keeps_the_serial_and_ca_in_sshds_line_and_the_page() {
    if !sshd_usable() {
        return;
    }
    for p in ["rsyslogd", "logger"] {
        if !have(p) {
            return skip::skip(&skip::RSYSLOG, &format!("{p} is not installed"));
        }
    }
    if !is_root() {
        return skip::skip(
            &skip::ROOT,
            "needs root (sshd logs to a syslog socket of the test's in its own mount namespace)",
        );
    }
    let w = World::new();
    w.init_ca();
    let h = Host::new(&w);
    let u = user();
    let fp = fingerprint(&w.path("sk-user-ca.pub"));
    let calls = w.tmp.path().join("calls");
    let pager = w.tmp.path().join("page-oncall");
    write_recording_pager(&pager, &calls);
    let o = w.run(&[
        "host-config",
        // A simulated CA with no attestation: trusted on purpose.
        "--allow-unattested",
        "--out",
        h.etc_str(),
        "--etc",
        h.etc_str(),
        "--sshd-config",
        h.config_str(),
        "--alert",
        pager.to_str().unwrap(),
        "sk-user-ca.pub",
    ]);
    assert!(o.status.success(), "{}", err(&o));
    // 160 characters as sshd logs it: 8 for "INC-9 \", 8 for each "é" (two bytes, \303\251).
    let id = format!("INC-9 \\{}", "é".repeat(19));
    assert_eq!(sshd_escaped(&id).len(), 160);
    let too_long = format!("{id}x");
    let o = w.run(&["mint", "-n", &u, "-z", "21", "-I", &too_long, "-f", "over"]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    w.ok(&["mint", "-n", &u, "-z", "21", "-I", &id]);

    let rs_dir = w.tmp.path().join("rsyslog");
    fs::create_dir(&rs_dir).unwrap();
    let sshd_log = rs_dir.join("sshd.log");
    let rsyslogd = start_rsyslogd(
        &rs_dir,
        &format!(
            "template(name=\"sshd_line\" type=\"string\" string=\"%msg%\\n\")\n\
             if $programname == \"sshd\" then action(type=\"omfile\" file=\"{}\" template=\"sshd_line\")\n",
            sshd_log.display()
        ),
        &h.etc.join("rsyslog.d/30-breakglass-alert.conf"),
    );
    let sshd = HostSshd::start_syslog(
        &h.config,
        h.port,
        &w.tmp.path().join("dev"),
        &rsyslogd.socket,
        sshd_log.clone(),
    );
    assert!(sshd.login(&w.path("emergency"), &u), "{}", sshd.log());
    sshd.wait_for("Accepted publickey for ", 1);
    let line = accepted_line(&sshd.log());
    let escaped = sshd_escaped(&id);
    assert!(
        line.ends_with(&format!(" ID {escaped} (serial 21) CA ECDSA-SK {fp}")),
        "{line}"
    );
    assert!(line.len() < 500, "{line}");
    let want = format!(
        "CALL [{u}] [127.0.0.1] [{}] [{escaped}] [21] [{fp}]",
        port_of(&line)
    );
    wait_for_pages(&calls);
    drop(sshd);
    drop(rsyslogd);
    let text = fs::read_to_string(&calls).unwrap_or_default();
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        [want.as_str()],
        "rsyslogd said: {}",
        fs::read_to_string(rs_dir.join("rsyslogd.err")).unwrap_or_default()
    );
}

// ---- The attestation gate (issue #24 item 3) ----

#[test]
fn an_unattested_ca_is_refused_naming_it_and_the_reason_and_nothing_is_written() {
    let w = World::new();
    two_cas(&w);
    let h = Host::new(&w);
    let outdir = w.tmp.path().join("out");
    fs::create_dir(&outdir).unwrap();
    let o = outdir.to_str().unwrap();
    let fp1 = fingerprint(&w.path("sk-user-ca.pub"));
    let fp2 = fingerprint(&w.path("backup-ca.pub"));
    let args = |extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = [
            "host-config",
            "--out",
            o,
            "--etc",
            h.etc_str(),
            "--sshd-config",
            h.config_str(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let run = |a: Vec<String>, stderr: &str| {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        refused(&w, &a, &outdir, stderr);
    };
    // 1. The attestation is there, but the default trust store (Yubico's) does not know the
    // test root: the verifier's reason and next step.
    run(
        args(&["sk-user-ca.pub"]),
        &format!(
            "breakglass: sk-user-ca.pub: the break-glass CA {fp1} is not attested: sk-user-ca.attest: the attestation chains to \"CN=breakglass TEST FIDO attestation CA - NOT A VENDOR,O=breakglass test\", which is not a trusted root.\n\
             If you trust that vendor, pass its root and intermediate certificates with --roots DIR; otherwise make the CA on a YubiKey. To trust it all the same (for practice only), pass --allow-unattested.\n"
        ),
    );
    // 2. No attestation beside the second CA: the first passes, the second is named.
    fs::remove_file(w.path("backup-ca.attest")).unwrap();
    run(
        args(&["--roots", TEST_ROOTS, "sk-user-ca.pub", "backup-ca.pub"]),
        &format!(
            "breakglass: backup-ca.pub: the break-glass CA {fp2} is not attested: there is no attestation beside it: backup-ca.attest does not exist.\n\
             Put the CA.attest that init-ca wrote beside CA.pub, or pass --attestation CA.pub=FILE; to trust it all the same (for practice only), pass --allow-unattested.\n"
        ),
    );
    // 3. --attestation pairs a file with one CA: the primary's attestation is not the backup's.
    run(
        args(&[
            "--roots",
            TEST_ROOTS,
            "--attestation",
            "backup-ca.pub=sk-user-ca.attest",
            "sk-user-ca.pub",
            "backup-ca.pub",
        ]),
        &format!(
            "breakglass: backup-ca.pub: the break-glass CA {fp2} is not attested: sk-user-ca.attest: the attestation is for another key ({fp1}), not the CA {fp2}.\n\
             Pass the attestation that was written with this CA (CA.attest beside CA.pub), or the CA it belongs to. To trust it all the same (for practice only), pass --allow-unattested.\n"
        ),
    );
    // 4. A custodian CA of --two-person is gated the same way.
    run(
        args(&[
            "--roots",
            TEST_ROOTS,
            "--two-person",
            "sk-user-ca.pub",
            "backup-ca.pub",
        ]),
        &format!(
            "breakglass: backup-ca.pub: the custodian CA {fp2} is not attested: there is no attestation beside it: backup-ca.attest does not exist.\n\
             Put the CA.attest that init-ca wrote beside CA.pub, or pass --attestation CA.pub=FILE; to trust it all the same (for practice only), pass --allow-unattested.\n"
        ),
    );
    // The same refusal as one JSON error document, nothing on stdout but it.
    let mut a = vec!["--json".to_string()];
    a.extend(args(&[
        "--roots",
        TEST_ROOTS,
        "sk-user-ca.pub",
        "backup-ca.pub",
    ]));
    let e = w.run(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(e.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_str(&out(&e)).unwrap();
    assert_eq!(doc["error"]["kind"], "unattested-ca");
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with(&format!(
                "backup-ca.pub: the break-glass CA {fp2} is not attested: "
            )),
        "{doc:#}"
    );
    // 5. An --attestation for a CA that was not given is a mistyped command line (exit 2).
    let a = args(&["--attestation", "nope.pub=x.attest", "sk-user-ca.pub"]);
    let e = w.run(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(e.status.code(), Some(2), "{}", err(&e));
    assert_eq!(
        err(&e),
        "breakglass: --attestation names nope.pub, which is not one of the CA files given.\n\
         Write --attestation CA.pub=FILE, with CA.pub exactly as given among the CA files or to --two-person.\n"
    );
    assert!(fs::read_dir(&outdir).unwrap().next().is_none());
    // 6. With its own attestation named explicitly, the backup CA passes, and --out records it.
    let a = args(&[
        "--roots",
        TEST_ROOTS,
        "--attestation",
        "backup-ca.pub=kept/backup.attest",
        "sk-user-ca.pub",
        "backup-ca.pub",
    ]);
    fs::create_dir(w.path("kept")).unwrap();
    attest_beside(&w.path("backup-ca.pub"));
    fs::rename(w.path("backup-ca.attest"), w.path("kept/backup.attest")).unwrap();
    w.ok(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let verdict: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(outdir.join("breakglass_attestation/verdict.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(verdict["verified"], true);
    assert_eq!(verdict["cas"][1]["attestation"], "kept/backup.attest");
    assert_eq!(
        fs::read(outdir.join("breakglass_attestation/break-glass-1.attest")).unwrap(),
        fs::read(w.path("sk-user-ca.attest")).unwrap()
    );
    assert_eq!(
        fs::read(outdir.join("breakglass_attestation/break-glass-2.attest")).unwrap(),
        fs::read(w.path("kept/backup.attest")).unwrap()
    );
}

#[test]
fn allow_unattested_lets_a_simulated_ca_through_with_a_warning_in_text_json_and_the_verdict() {
    let w = World::new();
    w.init_ca();
    // A simulated CA with nothing beside it (whatever init-ca writes there).
    let _ = fs::remove_file(w.path("sk-user-ca.attest"));
    let h = Host::new(&w);
    let fp = fingerprint(&w.path("sk-user-ca.pub"));
    let outdir = w.tmp.path().join("out");
    fs::create_dir(&outdir).unwrap();
    let base = [
        "host-config",
        "--etc",
        h.etc_str(),
        "--sshd-config",
        h.config_str(),
        "--allow-unattested",
        "sk-user-ca.pub",
    ];
    let warning = format!(
        "sk-user-ca.pub: the break-glass CA {fp} is NOT attested (there is no attestation beside it: sk-user-ca.attest does not exist); it is trusted only because of --allow-unattested: nothing proves its key cannot be copied (for practice, never for production hosts)"
    );
    let text = w.ok(&base);
    assert!(
        text.contains(&format!(
            "\n  break-glass  {fp} NOT ATTESTED, trusted only because of --allow-unattested: there is no attestation beside it: sk-user-ca.attest does not exist\n"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("\nWarnings:\n  ! {warning}\n")),
        "{text}"
    );
    let mut json = vec!["--json"];
    json.extend(base);
    json.extend(["--out", outdir.to_str().unwrap()]);
    let doc = json_doc(&w.run(&json));
    assert_eq!(doc["warnings"][0], warning.as_str());
    assert_eq!(doc["attestation"]["verified"], false);
    assert_eq!(doc["attestation"]["allow_unattested"], true);
    assert_eq!(doc["attestation"]["cas"][0]["status"], "unattested");
    let on_disk: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(outdir.join("breakglass_attestation/verdict.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(on_disk, doc["attestation"]);
    // No attestation copy: there is nothing verified to copy.
    let listed: Vec<_> = fs::read_dir(outdir.join("breakglass_attestation"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(listed, ["verdict.json"]);
}

#[test]
fn cloud_init_is_gated_the_same_way() {
    let w = World::new();
    w.init_ca();
    let _ = fs::remove_file(w.path("sk-user-ca.attest"));
    let h = Host::new(&w);
    let fp = fingerprint(&w.path("sk-user-ca.pub"));
    let args = [
        "host-config",
        "--cloud-init",
        "--etc",
        h.etc_str(),
        "--sshd-config",
        h.config_str(),
        "sk-user-ca.pub",
    ];
    let o = w.run(&args);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(out(&o), "", "a refused CA printed a cloud-config document");
    assert!(
        err(&o).starts_with(&format!(
            "breakglass: sk-user-ca.pub: the break-glass CA {fp} is not attested: "
        )),
        "{}",
        err(&o)
    );
    let mut allowed = args.to_vec();
    allowed.push("--allow-unattested");
    let o = w.run(&allowed);
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        err(&o).starts_with(&format!(
            "warning: sk-user-ca.pub: the break-glass CA {fp} is NOT attested ("
        )),
        "{}",
        err(&o)
    );
    let doc = out(&o);
    assert!(
        doc.contains(&format!(
            "\n# break-glass CA {fp}: WARNING: NOT ATTESTED, trusted only because of --allow-unattested\n"
        )),
        "{doc}"
    );
    assert!(
        doc.contains(&format!(
            "  - path: \"{}/breakglass_attestation/verdict.json\"\n",
            h.etc_str()
        )),
        "{doc}"
    );
    // Attested: the header says so.
    attest_beside(&w.path("sk-user-ca.pub"));
    let mut verified = args.to_vec();
    verified.extend(["--roots", TEST_ROOTS]);
    let o = w.run(&verified);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(err(&o), "");
    assert!(
        out(&o).contains(&format!("\n# break-glass CA {fp}: attestation verified\n")),
        "{}",
        out(&o)
    );
}
