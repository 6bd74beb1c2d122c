//! The fan-out: OpenSSH's own `ssh`, one process per host, `parallel` at a time, each killed at
//! its deadline so a slow host never holds the others. The client may authenticate only with
//! the drill key and certificate: no agent, no other identity, no multiplexed connection, no
//! GSSAPI, no password; host keys checked strictly, never accepted blindly.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::hosts::Destination;
use super::judge::Login;
use super::probe::MAX_OUTPUT;

/// How `ssh` is run.
#[derive(Debug, Clone)]
pub struct SshSettings {
    /// The drill key (its certificate is `KEY-cert.pub`).
    pub key: PathBuf,
    /// `--known-hosts FILE` (else ssh's defaults).
    pub known_hosts: Option<PathBuf>,
    /// `--ssh-config FILE` (else `-F none`).
    pub ssh_config: Option<PathBuf>,
    /// Seconds per host.
    pub timeout: u64,
    /// Login name for a destination without one.
    pub default_user: String,
}

/// The restrictions every drill login runs under (deploy/ansible/drill.yml repeats them in this
/// order; tests/fleet_drill.rs fails when the two drift).
pub const RESTRICTIONS: &[&str] = &[
    "IdentitiesOnly=yes",
    "IdentityAgent=none",
    "ControlMaster=no",
    "ControlPath=none",
    "PreferredAuthentications=publickey",
    "GSSAPIAuthentication=no",
    "BatchMode=yes",
    "StrictHostKeyChecking=yes",
    "ForwardAgent=no",
    "ForwardX11=no",
    "ClearAllForwardings=yes",
    "RequestTTY=no",
    "LogLevel=ERROR",
];

/// The `ssh` argument list for one destination.
pub fn ssh_args(d: &Destination, s: &SshSettings) -> Vec<String> {
    let mut a: Vec<String> = vec!["-F".into()];
    a.push(match &s.ssh_config {
        Some(c) => c.display().to_string(),
        None => "none".into(),
    });
    for r in RESTRICTIONS {
        a.push("-o".into());
        a.push((*r).into());
    }
    if let Some(k) = &s.known_hosts {
        a.push("-o".into());
        a.push(format!("UserKnownHostsFile={}", k.display()));
        a.push("-o".into());
        a.push("GlobalKnownHostsFile=none".into());
    }
    let cert = format!("{}-cert.pub", s.key.display());
    a.extend([
        "-o".into(),
        format!("ConnectTimeout={}", s.timeout.max(1)),
        "-o".into(),
        format!("CertificateFile={cert}"),
        "-i".into(),
        s.key.display().to_string(),
        "-l".into(),
        d.user.clone().unwrap_or_else(|| s.default_user.clone()),
    ]);
    if let Some(p) = d.port {
        a.push("-p".into());
        a.push(p.to_string());
    }
    a.push("--".into());
    a.push(d.host.clone());
    // Replaced by the certificate's forced command; a login without it runs only this.
    a.push("true".into());
    a
}

/// Reads up to `max` bytes and drains the rest (so the writer never blocks).
fn read_bounded(mut r: impl Read, max: usize) -> Vec<u8> {
    let mut buf = Vec::new();
    let _ = r.by_ref().take(max as u64).read_to_end(&mut buf);
    let _ = std::io::copy(&mut r, &mut std::io::sink());
    buf
}

/// Logs in to one host and returns what happened, within the deadline.
pub fn login(ssh: &Path, d: &Destination, s: &SshSettings) -> Login {
    let child = Command::new(ssh)
        .args(ssh_args(d, s))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("SSH_AUTH_SOCK")
        .spawn();
    let mut child: Child = match child {
        Ok(c) => c,
        Err(e) => return Login::Failed(-1, format!("cannot run {}: {e}", ssh.display())),
    };
    let out = child
        .stdout
        .take()
        .map(|o| std::thread::spawn(move || read_bounded(o, MAX_OUTPUT)));
    let err = child
        .stderr
        .take()
        .map(|e| std::thread::spawn(move || read_bounded(e, 16 * 1024)));
    // ssh's own ConnectTimeout (connect and banner exchange) comes first; this deadline, a few
    // seconds later, stops a host that stalls after that (a login or a probe that hangs).
    let deadline = Instant::now() + Duration::from_secs(s.timeout.max(1) + STALL_GRACE);
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill(); // our own child, by pid
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => break None,
        }
    };
    let stdout = out.and_then(|t| t.join().ok()).unwrap_or_default();
    let stderr = err.and_then(|t| t.join().ok()).unwrap_or_default();
    let Some(status) = status else {
        return Login::Timeout(s.timeout + STALL_GRACE);
    };
    match classify(
        status.code().unwrap_or(-1),
        stdout,
        &String::from_utf8_lossy(&stderr),
    ) {
        Login::Unreachable(why) if why.contains("timed out") => Login::Timeout(s.timeout),
        other => other,
    }
}

/// Seconds a host may take beyond `--timeout` once connected before it is stopped.
pub const STALL_GRACE: u64 = 5;

/// What ssh's exit status, output and error text say.
pub fn classify(code: i32, stdout: Vec<u8>, stderr: &str) -> Login {
    if stdout.starts_with(b"breakglass-probe ") || code != 255 {
        return Login::Probed(stdout);
    }
    let last = stderr
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty() && !l.starts_with('@'))
        .unwrap_or("no error message")
        .chars()
        .take(200)
        .collect::<String>();
    if stderr.contains("Host key verification failed") {
        let why = if stderr.contains("IDENTIFICATION HAS CHANGED") {
            "it differs from the one in the known hosts file"
        } else if stderr.contains("is known for") || stderr.contains("authenticity of host") {
            "it is not in the known hosts file"
        } else {
            "ssh could not verify it"
        };
        return Login::HostKey(why.into());
    }
    if stderr.contains("Permission denied") {
        return Login::Refused;
    }
    for down in [
        "Connection refused",
        "Connection timed out",
        "No route to host",
        "Network is unreachable",
        "Could not resolve hostname",
        "Connection closed by",
        "Connection reset by",
    ] {
        if stderr.contains(down) {
            return Login::Unreachable(last);
        }
    }
    Login::Failed(code, last)
}

/// Runs `f` on every host, `parallel` at a time; results in the hosts' order.
pub fn fan_out<T: Send>(
    hosts: &[Destination],
    parallel: usize,
    f: impl Fn(&Destination) -> T + Sync,
) -> Vec<T> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<T>>> = Mutex::new((0..hosts.len()).map(|_| None).collect());
    std::thread::scope(|sc| {
        for _ in 0..parallel.clamp(1, hosts.len().max(1)) {
            sc.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(d) = hosts.get(i) else { break };
                let r = f(d);
                if let Ok(mut v) = results.lock() {
                    v[i] = Some(r);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_may_use_only_the_drill_certificate() {
        let d = super::super::hosts::parse("ops@[::1]:2222")
            .unwrap()
            .remove(0);
        let s = SshSettings {
            key: "/t/drill".into(),
            known_hosts: Some("/t/kh".into()),
            ssh_config: None,
            timeout: 7,
            default_user: "x".into(),
        };
        let a = ssh_args(&d, &s).join(" ");
        for want in [
            "-F none",
            "-o IdentitiesOnly=yes",
            "-o IdentityAgent=none",
            "-o ControlMaster=no",
            "-o ControlPath=none",
            "-o PreferredAuthentications=publickey",
            "-o GSSAPIAuthentication=no",
            "-o StrictHostKeyChecking=yes",
            "-o UserKnownHostsFile=/t/kh",
            "-o CertificateFile=/t/drill-cert.pub -i /t/drill",
            "-l ops -p 2222 -- ::1 true",
        ] {
            assert!(a.contains(want), "{want}: {a}");
        }
        assert!(!a.contains("StrictHostKeyChecking=no"));
        let bastion = SshSettings {
            ssh_config: Some("/t/ssh_config".into()),
            known_hosts: None,
            ..s
        };
        let a = ssh_args(&d, &bastion).join(" ");
        assert!(
            a.starts_with("-F /t/ssh_config -o IdentitiesOnly=yes"),
            "{a}"
        );
        assert!(!a.contains("KnownHostsFile"), "{a}");
    }

    #[test]
    fn ssh_errors_are_told_apart() {
        let c = |e: &str| classify(255, Vec::new(), e);
        assert_eq!(c("ops@h: Permission denied (publickey).\n"), Login::Refused);
        assert!(matches!(
            c("ssh: connect to host h port 2: Connection refused\n"),
            Login::Unreachable(_)
        ));
        assert!(matches!(
            c("@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\nHost key verification failed.\n"),
            Login::HostKey(w) if w.contains("differs")
        ));
        assert!(matches!(
            classify(0, b"breakglass-probe 1 x\n".to_vec(), ""),
            Login::Probed(_)
        ));
    }

    #[test]
    fn the_fan_out_keeps_the_order() {
        let hosts = super::super::hosts::parse("a\nb\nc\nd\ne").unwrap();
        let v = fan_out(&hosts, 3, |d| d.host.clone());
        assert_eq!(v, ["a", "b", "c", "d", "e"]);
    }
}
