//! The wormhole side of the tests: the Python mailbox server and transit relay on free loopback
//! ports (from the venv in `$BREAKGLASS_WORMHOLE_VENV`), the Python `wormhole` CLI pointed at
//! them, and [`Sender`], any process that prints a wormhole code and waits for its peer. Nothing
//! here talks to the public servers.

use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The Python venv with the wormhole CLI and the mailbox/relay servers:
/// `$BREAKGLASS_WORMHOLE_VENV`, else `target/wormhole-venv` (as `scripts/install-debian.sh --tests`
/// makes it), created on first use (PyPI) when missing.
pub fn venv() -> PathBuf {
    static MADE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    MADE.get_or_init(|| {
        let dir = std::env::var_os("BREAKGLASS_WORMHOLE_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/wormhole-venv"));
        let ready = |d: &Path| {
            ["twist", "wormhole"]
                .iter()
                .all(|t| d.join("bin").join(t).exists())
        };
        if !ready(&dir) {
            let lock_path = dir.with_extension("lock");
            let lock = std::fs::File::create(&lock_path).unwrap();
            lock.lock().unwrap();
            if !ready(&dir) {
                eprintln!(
                    "creating {} (python3 -m venv + pip install from PyPI)",
                    dir.display()
                );
                let st = Command::new("python3")
                    .arg("-m")
                    .arg("venv")
                    .arg(&dir)
                    .status()
                    .expect("python3 runs");
                assert!(
                    st.success(),
                    "FAIL: python3 -m venv {} failed (apt install python3-venv)",
                    dir.display()
                );
                // The one list of the tests' Python packages, shared with
                // scripts/install-debian.sh --tests.
                let requirements =
                    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/test-requirements.txt");
                let st = Command::new(dir.join("bin/pip"))
                    .args(["install", "-q", "-r"])
                    .arg(&requirements)
                    .status()
                    .expect("pip runs");
                assert!(
                    st.success(),
                    "FAIL: pip install of the wormhole packages into {} failed",
                    dir.display()
                );
            }
        }
        for tool in ["twist", "wormhole"] {
            let p = dir.join("bin").join(tool);
            assert!(
                p.exists(),
                "FAIL: {} is missing from the wormhole venv",
                p.display()
            );
        }
        dir
    })
    .clone()
}

/// A port on 127.0.0.1 that nothing listens on (just now).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A mailbox server and a transit relay on free loopback ports, stopped (by pid) when dropped.
pub struct Servers {
    mailbox: Child,
    relay: Child,
    pub mailbox_port: u16,
    pub relay_port: u16,
    _dir: tempfile::TempDir,
}

impl Servers {
    pub fn start() -> Servers {
        let venv = venv();
        let dir = tempfile::tempdir().unwrap();
        let twist = venv.join("bin/twist");
        let spawn = |args: &[String], log: &str| {
            Command::new(&twist)
                .args(args)
                .current_dir(dir.path())
                .stdin(Stdio::null())
                .stdout(std::fs::File::create(dir.path().join(log)).unwrap())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("start twist")
        };
        let mailbox_port = free_port();
        let relay_port = free_port();
        let mailbox = spawn(
            &[
                "wormhole-mailbox".into(),
                format!("--port=tcp:{mailbox_port}:interface=127.0.0.1"),
                "--channel-db=:memory:".into(),
            ],
            "mailbox.log",
        );
        let relay = spawn(
            &[
                "transitrelay".into(),
                format!("--port=tcp:{relay_port}:interface=127.0.0.1"),
            ],
            "relay.log",
        );
        let s = Servers {
            mailbox,
            relay,
            mailbox_port,
            relay_port,
            _dir: dir,
        };
        for port in [mailbox_port, relay_port] {
            let start = Instant::now();
            while TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(
                    start.elapsed() < Duration::from_secs(30),
                    "server on port {port} did not start"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        s
    }

    pub fn mailbox_url(&self) -> String {
        format!("ws://127.0.0.1:{}/v1", self.mailbox_port)
    }

    pub fn relay_url(&self) -> String {
        format!("tcp://127.0.0.1:{}", self.relay_port)
    }

    /// The environment that points `breakglass send`/`receive` at these servers.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("BREAKGLASS_MAILBOX_URL".into(), self.mailbox_url()),
            ("BREAKGLASS_RELAY_URL".into(), self.relay_url()),
        ]
    }

    /// The library's configuration for these servers (relay only).
    #[cfg(feature = "wormhole")]
    pub fn cfg(&self) -> breakglass::delivery::transfer::WormholeConfig {
        breakglass::delivery::transfer::WormholeConfig {
            mailbox_url: self.mailbox_url(),
            relay_url: self.relay_url(),
            timeout: Duration::from_secs(30),
            direct: false,
        }
    }

    /// The Python `wormhole` CLI pointed at these servers, not yet started.
    pub fn python(&self) -> Command {
        let mut c = Command::new(venv().join("bin/wormhole"));
        c.arg("--relay-url")
            .arg(self.mailbox_url())
            .arg("--transit-helper")
            .arg(format!("tcp:127.0.0.1:{}", self.relay_port))
            .env_remove("WORMHOLE_RELAY_URL")
            .env_remove("WORMHOLE_TRANSIT_HELPER")
            .stdin(Stdio::null());
        c
    }

    /// Starts Python's `wormhole send ARGS` in `cwd` and waits for its code.
    pub fn python_send(&self, args: &[&str], cwd: &Path) -> Sender {
        let mut c = self.python();
        c.arg("send")
            .arg("--no-qr")
            .arg("--hide-progress")
            .args(args)
            .current_dir(cwd);
        Sender::spawn(c, Stream::Stderr, "Wormhole code is: ")
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        for child in [&mut self.mailbox, &mut self.relay] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Which output stream of a sender carries its code.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// A running sender (breakglass, a script running it, or Python's `wormhole send`) that has
/// printed its code. Both output streams are collected while it runs.
pub struct Sender {
    child: Child,
    pub code: String,
    stdout: JoinHandle<Vec<u8>>,
    stderr: JoinHandle<Vec<u8>>,
}

impl Sender {
    /// `breakglass send` / `mint --send` (or a script running it): the code is on stdout.
    pub fn breakglass(c: Command) -> Sender {
        Sender::spawn(c, Stream::Stdout, "Wormhole code: ")
    }

    /// Starts `c` and waits (30 s at most) for a line `PREFIX CODE` on `stream`.
    pub fn spawn(mut c: Command, stream: Stream, prefix: &'static str) -> Sender {
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().expect("start the sender");
        let (tx, rx) = mpsc::channel();
        let collect = |r: Box<dyn Read + Send>, tx: Option<mpsc::Sender<String>>| {
            std::thread::spawn(move || {
                let mut all = Vec::new();
                let mut r = BufReader::new(r);
                let mut line = Vec::new();
                while r.read_until(b'\n', &mut line).unwrap_or(0) > 0 {
                    let text = String::from_utf8_lossy(&line);
                    if let (Some(tx), Some(code)) = (&tx, text.strip_prefix(prefix)) {
                        let _ = tx.send(code.trim().to_owned());
                    }
                    all.append(&mut line);
                }
                all
            })
        };
        let (out_tx, err_tx) = match stream {
            Stream::Stdout => (Some(tx), None),
            Stream::Stderr => (None, Some(tx)),
        };
        let stdout = collect(Box::new(child.stdout.take().unwrap()), out_tx);
        let stderr = collect(Box::new(child.stderr.take().unwrap()), err_tx);
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(code) => Sender {
                child,
                code,
                stdout,
                stderr,
            },
            Err(_) => {
                let _ = child.kill();
                let status = child.wait().unwrap();
                panic!(
                    "the sender printed no code ({status}):\nstdout: {}\nstderr: {}",
                    String::from_utf8_lossy(&stdout.join().unwrap()),
                    String::from_utf8_lossy(&stderr.join().unwrap())
                );
            }
        }
    }

    /// Waits for the sender to end; returns what it printed.
    pub fn wait(mut self) -> Output {
        let status = self.child.wait().unwrap();
        Output {
            status,
            stdout: self.stdout.join().unwrap(),
            stderr: self.stderr.join().unwrap(),
        }
    }

    /// Waits for the sender; returns its exit code (None when a signal ended it), its stderr and
    /// its peak RSS in KiB (wait4's `ru_maxrss`).
    pub fn wait_measured(self) -> (Option<i32>, String, i64) {
        let mut status = 0;
        // SAFETY: a zeroed rusage is valid; wait4 on our own child's pid.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let pid = self.child.id() as libc::pid_t;
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        assert_eq!(r, pid, "wait4");
        let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
        let _ = self.stdout.join();
        let stderr = String::from_utf8_lossy(&self.stderr.join().unwrap()).into_owned();
        (code, stderr, usage.ru_maxrss)
    }

    /// Waits for the sender and asserts that it succeeded.
    pub fn finish(self) -> Output {
        let o = self.wait();
        assert!(
            o.status.success(),
            "the sender failed ({}):\nstdout: {}\nstderr: {}",
            o.status,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        o
    }
}
