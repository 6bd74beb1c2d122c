//! A real `rsyslogd -n` on its own socket (not the system's `/dev/log`), for the tests that feed
//! sshd's log lines through the rule `host-config --alert` generates, and a pager for `--alert`
//! that records its calls.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::files::write_script;
use super::world::err;

/// The running rsyslogd, stopped by its own pid on drop.
pub struct Rsyslogd {
    child: Child,
    /// The socket it reads (`logger -u SOCKET`).
    pub socket: PathBuf,
}

impl Drop for Rsyslogd {
    fn drop(&mut self) {
        let _ = self.child.kill(); // our own child, by pid
        let _ = self.child.wait();
    }
}

/// Starts rsyslogd in `dir` on the socket `dir/log.sock` with the configuration lines `extra`
/// (each ending in a newline) and then `include(file=rule)`, after `rsyslogd -N1` accepted the
/// configuration; its stderr goes to `dir/rsyslogd.err`. Waits until the socket exists.
pub fn start_rsyslogd(dir: &Path, extra: &str, rule: &Path) -> Rsyslogd {
    let socket = dir.join("log.sock");
    let conf = dir.join("rsyslog.conf");
    fs::write(
        &conf,
        format!(
            "global(workDirectory=\"{d}\")\n\
             module(load=\"imuxsock\" SysSock.Use=\"off\")\n\
             input(type=\"imuxsock\" Socket=\"{s}\" CreatePath=\"on\")\n\
             {extra}\
             include(file=\"{r}\")\n",
            d = dir.display(),
            s = socket.display(),
            r = rule.display()
        ),
    )
    .unwrap();
    let check = Command::new("rsyslogd")
        .args(["-N1", "-f"])
        .arg(&conf)
        .output()
        .unwrap();
    assert!(check.status.success(), "rsyslogd -N1: {}", err(&check));
    let child = Command::new("rsyslogd")
        .args(["-n", "-f"])
        .arg(&conf)
        .arg("-i")
        .arg(dir.join("rsyslogd.pid"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(dir.join("rsyslogd.err")).unwrap())
        .spawn()
        .unwrap();
    let r = Rsyslogd { child, socket };
    let deadline = Instant::now() + Duration::from_secs(15);
    while !r.socket.exists() {
        assert!(
            Instant::now() < deadline,
            "rsyslogd did not open its socket: {}",
            fs::read_to_string(dir.join("rsyslogd.err")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    r
}

/// Writes the pager `pager` for `host-config --alert`: each call appends one line to `calls`,
/// `CALL` and then every argument in brackets.
pub fn write_recording_pager(pager: &Path, calls: &Path) {
    write_script(
        pager,
        &format!(
            "#!/bin/sh\n{{ printf 'CALL'; for a in \"$@\"; do printf ' [%s]' \"$a\"; done; printf '\\n'; }} >> {}\n",
            calls.display()
        ),
    );
}

/// sshd's first `Accepted publickey for …` line in `log` (its syslog indentation trimmed).
pub fn accepted_line(log: &str) -> String {
    log.lines()
        .map(str::trim_start)
        .find(|l| l.starts_with("Accepted publickey for "))
        .expect("sshd logged an Accepted publickey line")
        .to_string()
}

/// The client port an sshd `… from ADDR port P …` line names.
pub fn port_of(line: &str) -> String {
    line.split(" port ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_string()
}

/// Waits until the recording pager wrote `calls` (at most 15 s), then half a second more, in
/// which a second page would show.
pub fn wait_for_pages(calls: &Path) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while fs::read_to_string(calls).unwrap_or_default().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
}
