//! The fleet drill against a loopback fleet: 57 real sshds on 127.0.0.1 (own ports, host keys,
//! configurations written by `breakglass host-config`), eight of them broken on purpose. Both
//! `breakglass fleet-drill` and `ansible-playbook deploy/ansible/drill.yml` must name exactly
//! those eight as not ready, each with its reason; the host that would let an agent key in must
//! not fool the drill (the agent is offered to it and is not used).

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use common::fleet_host;
use common::loopback_fleet::{self, Breakage, LoopbackFleet};
use common::*;

/// Ready hosts beside the broken ones.
const READY: usize = 49;

/// The broken hosts, each once.
const BROKEN: [Breakage; 8] = [
    Breakage::Untrusted,
    Breakage::OneCa,
    Breakage::OldKrl,
    Breakage::NoAlert,
    Breakage::Down,
    Breakage::HostKey,
    Breakage::AgentOnly,
    Breakage::MatchKrl,
];

/// The login column and the start of the reason each breakage must get.
fn expected(b: Breakage, backup_fp: &str) -> (&'static str, String) {
    match b {
        Breakage::None => ("ok", String::new()),
        Breakage::Untrusted | Breakage::AgentOnly => {
            ("refused", "sshd refused the drill certificate".into())
        }
        Breakage::OneCa => ("ok", format!("it does not trust the CA {backup_fp}")),
        Breakage::OldKrl => (
            "ok",
            "its KRL is version 1, older than version 2 (--krl)".into(),
        ),
        Breakage::NoAlert => ("ok", "no alert rule pages for the CA".into()),
        Breakage::Down => (
            "down",
            "cannot connect: ssh: connect to host 127.0.0.1 port".into(),
        ),
        Breakage::HostKey => (
            "host key",
            "the host key was not accepted: it differs from the one in the known hosts file".into(),
        ),
        Breakage::MatchKrl => (
            "ok",
            "a Match block (Match Address 127.0.0.1) sets RevokedKeys: check with `sshd -T -C user="
                .into(),
        ),
        Breakage::Stalls => ("timeout", "no answer within".into()),
    }
}

/// The fleet: the broken hosts spread among the ready ones.
fn breakages() -> Vec<Breakage> {
    let mut v = vec![Breakage::None; READY];
    for (i, b) in BROKEN.iter().enumerate() {
        v.insert(3 + i * 7, *b);
    }
    v
}

/// Checks a report (JSON) against the fleet: exactly the broken hosts are not ready, each with
/// its reason; `by` maps a report's destination to the host's label.
fn check_report(
    report: &serde_json::Value,
    fleet: &LoopbackFleet,
    by: &BTreeMap<String, String>,
    backup_fp: &str,
    how: &str,
) {
    let rows = report["hosts"].as_array().expect("a hosts list");
    assert_eq!(rows.len(), fleet.hosts.len(), "{how}: {report}");
    assert_eq!(report["ready"], READY, "{how}: {report:#}");
    for row in rows {
        let dest = row["destination"].as_str().unwrap();
        let label = &by[dest];
        let h = fleet.hosts.iter().find(|h| &h.label == label).unwrap();
        let (login, reason) = expected(h.breakage, backup_fp);
        assert_eq!(row["login"], login, "{how} {label} {:?}: {row}", h.breakage);
        if h.breakage == Breakage::None {
            assert_eq!(row["ready"], true, "{how} {label}: {row}");
            assert_eq!(row["cas"], "2/2", "{how} {label}: {row}");
            assert_eq!(row["krl"], "v2", "{how} {label}: {row}");
            assert_eq!(row["alert"], "ok", "{how} {label}: {row}");
            assert!(row["reason"].is_null(), "{how} {label}: {row}");
        } else {
            assert_eq!(row["ready"], false, "{how} {label} {:?}: {row}", h.breakage);
            let got = row["reason"].as_str().unwrap_or("");
            assert!(
                got.starts_with(&reason),
                "{how} {label} {:?}: want {reason:?}, got {got:?}",
                h.breakage
            );
        }
    }
}

#[test]
fn the_drill_names_exactly_the_broken_hosts_through_fleet_drill_and_through_ansible() {
    if loopback_fleet::skip_without_sshd() {
        return;
    }
    let started = std::time::Instant::now();
    let w = loopback_fleet::world_with_two_cas();
    let u = user();
    let backup_fp = fingerprint(&w.path("backup-ca.pub"));
    let fleet = loopback_fleet::start(&w, &breakages(), &u);
    let setup = started.elapsed();

    // The agent host really lets an agent key in: plain ssh with the agent logs in.
    let agent = TestAgent::start();
    let o = agent.ssh_add(&[fleet.agent_key.to_str().unwrap()]);
    assert!(o.status.success(), "{}", err(&o));
    let agent_host = fleet
        .hosts
        .iter()
        .find(|h| h.breakage == Breakage::AgentOnly)
        .unwrap();
    let o = Command::new("ssh")
        .args([
            "-F",
            "none",
            "-o",
            "BatchMode=yes",
            "-o",
            "UserKnownHostsFile=/dev/null",
        ])
        .args([
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "LogLevel=ERROR",
            "-p",
        ])
        .arg(agent_host.port.to_string())
        .arg(format!("{u}@127.0.0.1"))
        .arg("echo in")
        .env("SSH_AUTH_SOCK", &agent.sock)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        out(&o).trim(),
        "in",
        "the agent host refused the agent key: {}",
        err(&o)
    );
    let agent_fp = fingerprint(&fleet.agent_key.with_extension("pub"));
    let agent_sshd = agent_host.sshd.as_ref().unwrap();
    let offered_before = agent_sshd.log().matches(&agent_fp).count();
    assert!(offered_before > 0, "{}", agent_sshd.log());

    // 1. breakglass fleet-drill, with the agent offered to it.
    let t = std::time::Instant::now();
    let o = w
        .cmd(&[
            "--json",
            "fleet-drill",
            fleet.hosts_file.to_str().unwrap(),
            "--ca",
            "sk-user-ca.pub",
            "--ca",
            "backup-ca.pub",
            "--krl",
            fleet.krl.to_str().unwrap(),
            "--alert",
            "--two-person",
            &u,
            "--known-hosts",
            fleet.known_hosts.to_str().unwrap(),
            "--timeout",
            "15",
        ])
        .env("SSH_AUTH_SOCK", &agent.sock)
        .output()
        .unwrap();
    let drill_time = t.elapsed();
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(
        err(&o).contains(&format!(
            "{} of {} hosts are not ready",
            BROKEN.len(),
            READY + BROKEN.len()
        )),
        "{}",
        err(&o)
    );
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let by: BTreeMap<String, String> = fleet
        .hosts
        .iter()
        .map(|h| (h.destination(&u), h.label.clone()))
        .collect();
    check_report(&report, &fleet, &by, &backup_fp, "fleet-drill");
    assert!(report["key_id"].as_str().unwrap().starts_with("drill "));
    // Every ready host's sshd logged the drill certificate's login (a key id starting "drill ").
    for h in fleet.hosts.iter().filter(|h| h.breakage == Breakage::None) {
        let log = h.sshd.as_ref().unwrap().log();
        assert!(
            log.contains("Accepted certificate ID \"drill "),
            "{}: {log}",
            h.label
        );
    }
    // The agent host saw only the drill certificate, never the agent's key.
    let agent_log = agent_sshd.log();
    assert_eq!(
        agent_log.matches(&agent_fp).count(),
        offered_before,
        "the drill offered the agent key:\n{agent_log}"
    );
    // The mint is in the audit log like any mint.
    let audit = fs::read_to_string(&w.audit).unwrap();
    let last = audit.lines().last().unwrap();
    assert!(
        last.contains("\"mint\"") && last.contains("\"drill "),
        "{last}"
    );

    // --report renders the saved JSON as the table; its exit says whether all were ready.
    let saved = w.path("report.json");
    fs::write(&saved, &o.stdout).unwrap();
    let r = w.run(&["fleet-drill", "--report", "report.json"]);
    assert_eq!(r.status.code(), Some(1));
    let table = out(&r);
    assert!(
        table.contains(&format!(
            "{} of {} hosts ready",
            READY,
            READY + BROKEN.len()
        )),
        "{table}"
    );
    for h in &fleet.hosts {
        let line = table
            .lines()
            .find(|l| l.starts_with(&format!("{} ", h.destination(&u))))
            .unwrap_or_else(|| panic!("no row for {}:\n{table}", h.label));
        assert_eq!(
            line.ends_with("ready"),
            h.breakage == Breakage::None,
            "{line}"
        );
    }

    // 2. The same through Ansible.
    if fleet_host::skip_without_tools() {
        return;
    }
    let drill_dir = w.tmp.path().join("ansible-drill");
    let t = std::time::Instant::now();
    let o = ansible_drill(&w, &fleet, &drill_dir, &u, &agent.sock, &[]);
    let ansible_time = t.elapsed();
    assert!(
        !o.status.success(),
        "the playbook passed a broken fleet:\n{}",
        out(&o)
    );
    let report: serde_json::Value = serde_json::from_slice(
        &fs::read(drill_dir.join("report.json"))
            .unwrap_or_else(|e| panic!("no report.json ({e}):\n{}\n{}", out(&o), err(&o))),
    )
    .unwrap();
    let by: BTreeMap<String, String> = fleet
        .hosts
        .iter()
        .map(|h| (h.label.clone(), h.label.clone()))
        .collect();
    check_report(&report, &fleet, &by, &backup_fp, "ansible");
    assert!(
        !drill_dir.join("drill").exists(),
        "the playbook left the drill key behind"
    );
    assert!(
        out(&o).contains(&format!(
            "{} of {} hosts ready",
            READY,
            READY + BROKEN.len()
        )),
        "{}",
        out(&o)
    );
    let again = fs::read_to_string(&w.audit).unwrap();
    assert_eq!(
        again.lines().count(),
        audit.lines().count() + 1,
        "one more mint"
    );
    eprintln!(
        "fleet drill of {} sshds: set-up {:.1} s, fleet-drill {:.1} s, ansible {:.1} s",
        fleet.hosts.len(),
        setup.as_secs_f64(),
        drill_time.as_secs_f64(),
        ansible_time.as_secs_f64()
    );
}

#[test]
fn a_drill_login_pages_marked_drill_and_an_incident_login_pages_marked_login() {
    if loopback_fleet::skip_without_sshd() {
        return;
    }
    let w = loopback_fleet::world_with_two_cas();
    let u = user();
    let fleet = loopback_fleet::start(&w, &[Breakage::None], &u);
    let host = &fleet.hosts[0];
    let sshd = host.sshd.as_ref().unwrap();
    // The hosts on stdin (`-`).
    let mut c = w.cmd(&[
        "fleet-drill",
        "-",
        "--ca",
        "sk-user-ca.pub",
        "--known-hosts",
        fleet.known_hosts.to_str().unwrap(),
    ]);
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let text = fs::read_to_string(&fleet.hosts_file).unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}{}", out(&o), err(&o));
    assert!(out(&o).contains("1 of 1 hosts ready"), "{}", out(&o));
    w.ok(&["mint", "-n", &u, "-f", "incident"]);
    assert!(sshd.login(&w.path("incident"), &u), "{}", sshd.log());
    let accepted: Vec<String> = sshd
        .log()
        .lines()
        .filter(|l| l.starts_with("Accepted publickey for "))
        .map(str::to_string)
        .collect();
    assert_eq!(accepted.len(), 2, "{}", sshd.log());
    assert!(accepted[0].contains(" ID drill "), "{}", accepted[0]);

    // The alert script host-config writes, with a pager that records its label and key id.
    let calls = w.tmp.path().join("calls");
    let pager = w.tmp.path().join("pager");
    write_script(
        &pager,
        &format!(
            "#!/bin/sh\nprintf '%s [%s]\\n' \"$BREAKGLASS_ALERT\" \"$4\" >> {}\n",
            calls.display()
        ),
    );
    let build = w.tmp.path().join("alert-build");
    fs::create_dir(&build).unwrap();
    let etc = host.root.join("etc/ssh");
    let p = w.path("sk-user-ca.pub");
    let o = loopback_fleet::host_config(
        &w,
        &etc,
        &build,
        &["--alert", pager.to_str().unwrap(), p.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", err(&o));
    let mut child = Command::new(build.join("breakglass_alert.sh"))
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        for l in &accepted {
            writeln!(stdin, "{l}").unwrap();
        }
    }
    assert!(child.wait().unwrap().success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while fs::read_to_string(&calls)
        .unwrap_or_default()
        .lines()
        .count()
        < 2
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the pager was not run twice"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let mut got: Vec<String> = fs::read_to_string(&calls)
        .unwrap()
        .lines()
        .map(|l| {
            l.split(" [").next().unwrap().to_string()
                + if l.contains("[drill ") {
                    " drill"
                } else {
                    " mint"
                }
        })
        .collect();
    got.sort();
    assert_eq!(got, ["DRILL drill", "LOGIN mint"]);
}

#[test]
fn a_host_that_never_answers_times_out_and_the_others_are_still_drilled() {
    if loopback_fleet::skip_without_sshd() {
        return;
    }
    let w = loopback_fleet::world_with_two_cas();
    let u = user();
    // One host lets the drill certificate in and then never answers: the drill's own deadline
    // (--timeout plus run::STALL_GRACE) stops it, not ssh's ConnectTimeout.
    let fleet = loopback_fleet::start(&w, &[Breakage::None, Breakage::Stalls, Breakage::None], &u);
    // A "host" whose TCP handshake completes (the kernel's backlog) and that never says a word.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_dest = format!("{u}@127.0.0.1:{}", silent.local_addr().unwrap().port());
    let hosts = w.path("hosts");
    fs::write(
        &hosts,
        format!(
            "{silent_dest}\n{}",
            fs::read_to_string(&fleet.hosts_file).unwrap()
        ),
    )
    .unwrap();
    let o = w.run(&[
        "--json",
        "fleet-drill",
        "hosts",
        "--ca",
        "sk-user-ca.pub",
        "--known-hosts",
        fleet.known_hosts.to_str().unwrap(),
        "--parallel",
        "1",
        "--timeout",
        "2",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows = report["hosts"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0]["destination"], silent_dest.as_str());
    assert_eq!(rows[0]["login"], "timeout", "{}", rows[0]);
    assert_eq!(rows[0]["reason"], "no answer within 2 seconds");
    let stalled = format!(
        "no answer within {} seconds",
        2 + breakglass::ops::fleet_drill::run::STALL_GRACE
    );
    for (r, h) in rows[1..].iter().zip(&fleet.hosts) {
        assert_eq!(r["destination"], h.destination(&u).as_str());
        if h.breakage == Breakage::Stalls {
            assert_eq!(r["login"], "timeout", "{r}");
            assert_eq!(r["reason"], stalled.as_str(), "{r}");
            // sshd accepted the drill certificate: the login got through, the session stalled.
            let log = h.sshd.as_ref().unwrap().log();
            assert!(log.contains("Accepted certificate ID \"drill "), "{log}");
        } else {
            assert_eq!(r["ready"], true, "{r}");
        }
    }
    drop(silent);
}

/// `ansible-playbook deploy/ansible/drill.yml` on the fleet's inventory (forks 16), minting with
/// both CAs and expecting the newest KRL, the alert rule and the two-person account `u`; the
/// agent at `agent_sock` offered to it. `extra`: more ansible-playbook arguments.
fn ansible_drill(
    w: &World,
    fleet: &LoopbackFleet,
    drill_dir: &Path,
    u: &str,
    agent_sock: &Path,
    extra: &[&str],
) -> std::process::Output {
    let ansible = fleet_host::ansible_playbook().expect("checked by missing_tools");
    let vars = serde_json::json!({
        "breakglass_bin": bin(),
        "breakglass_drill_dir": drill_dir,
        "breakglass_drill_known_hosts": fleet.known_hosts,
        "breakglass_drill_mint_args": [
            "-n", u, "--ca", w.path("sk-user-ca.pub"), "--ca", w.path("backup-ca.pub"),
            "--krl", fleet.krl, "--alert", "--two-person", u,
        ],
        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
    });
    let vars_file = w.tmp.path().join("drill-vars.json");
    fs::write(&vars_file, vars.to_string()).unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut c = Command::new(ansible);
    w.apply_env(&mut c);
    c.current_dir(repo.join("deploy/ansible"))
        .arg("-i")
        .arg(&fleet.inventory)
        .arg("-e")
        .arg(format!("@{}", vars_file.display()))
        .args(["-f", "16"])
        .args(extra)
        .arg("drill.yml")
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_LOCAL_TEMP", w.tmp.path().join("ansible-local"))
        .env("ANSIBLE_RETRY_FILES_ENABLED", "0")
        .env("SSH_AUTH_SOCK", agent_sock)
        .output()
        .unwrap()
}

#[test]
fn the_ansible_drill_runs_ssh_with_the_drill_certificate_only_and_no_controlpersist() {
    if fleet_host::skip_without_tools() {
        return;
    }
    let w = loopback_fleet::world_with_two_cas();
    let u = user();
    let fleet = loopback_fleet::start(&w, &[Breakage::None], &u);
    let agent = TestAgent::start();
    let drill_dir = w.tmp.path().join("ansible-drill");
    let o = ansible_drill(&w, &fleet, &drill_dir, &u, &agent.sock, &["-vvv"]);
    assert!(o.status.success(), "{}\n{}", out(&o), err(&o));
    let text = out(&o);
    let exec: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("SSH: EXEC ssh "))
        .collect();
    assert_eq!(exec.len(), 1, "{text}");
    // ssh keeps the first value of each option: the restrictions come before Ansible's own.
    let args = exec[0].split_once("SSH: EXEC ssh ").unwrap().1;
    // Exactly fleet-drill's own restrictions, in its order: a hand copy that drifts fails here.
    let restrictions: String = breakglass::ops::fleet_drill::run::RESTRICTIONS
        .iter()
        .map(|r| format!(" -o {r}"))
        .collect();
    assert!(
        args.starts_with(&format!("-F none{restrictions} ")),
        "{args}"
    );
    assert!(!args.contains("ControlPersist"), "{args}");
    assert!(
        args.contains(&format!(
            "-o CertificateFile={}/drill-cert.pub",
            drill_dir.display()
        )),
        "{args}"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&fs::read(drill_dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["ready"], 1, "{report}");
    // The playbook measured the fan-out, as fleet-drill does.
    assert!(report["seconds"].as_f64().unwrap() > 0.0, "{report}");
    assert_eq!(
        report["hosts"][0]["destination"],
        fleet.hosts[0].label.as_str()
    );
}

#[test]
fn from_binds_the_drill_certificate_to_its_addresses_and_n_names_the_login() {
    if loopback_fleet::skip_without_sshd() {
        return;
    }
    let w = loopback_fleet::world_with_two_cas();
    let u = user();
    let fleet = loopback_fleet::start(&w, &[Breakage::None], &u);
    // The host without a login name: -n gives it.
    let hosts = w.path("hosts");
    fs::write(&hosts, format!("127.0.0.1:{}\n", fleet.hosts[0].port)).unwrap();
    let drill = |from: &str| {
        w.run(&[
            "--json",
            "fleet-drill",
            "hosts",
            "-n",
            &u,
            "--ca",
            "sk-user-ca.pub",
            "--known-hosts",
            fleet.known_hosts.to_str().unwrap(),
            "--from",
            from,
        ])
    };
    let o = drill("127.0.0.1/32");
    assert!(o.status.success(), "{}{}", out(&o), err(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        report["hosts"][0]["destination"],
        format!("127.0.0.1:{}", fleet.hosts[0].port)
    );
    assert_eq!(report["hosts"][0]["ready"], true, "{report}");
    // From an address the certificate does not allow, sshd refuses it.
    let o = drill("192.0.2.0/24");
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["hosts"][0]["login"], "refused", "{report}");
    let log = fleet.hosts[0].sshd.as_ref().unwrap().log();
    assert!(
        log.contains("not from a permitted source address (127.0.0.1)"),
        "{log}"
    );
}

#[test]
fn mint_only_writes_its_state_file_atomically_0600_and_never_over_one() {
    use std::os::unix::fs::PermissionsExt;
    let w = World::new();
    w.init_ca();
    let dir = w.tmp.path().join("drill-dir");
    let mint = || {
        w.run(&[
            "fleet-drill",
            "--mint-only",
            dir.to_str().unwrap(),
            "-n",
            "ubuntu",
            "--ca",
            "sk-user-ca.pub",
        ])
    };
    let o = mint();
    assert!(o.status.success(), "{}", err(&o));
    let state = dir.join("drill.json");
    let mode = fs::metadata(&state).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let m: serde_json::Value = serde_json::from_slice(&fs::read(&state).unwrap()).unwrap();
    assert!(m["key_id"].as_str().unwrap().starts_with("drill "), "{m}");
    // Nothing else in the directory: no temp file left behind by the writer.
    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["drill", "drill-cert.pub", "drill.json", "drill.pub"]
    );
    // A second mint into the same directory is refused before any touch, the state kept.
    let before = fs::read(&state).unwrap();
    let o = mint();
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert_eq!(fs::read(&state).unwrap(), before);
}
