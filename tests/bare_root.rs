//! The kit runs anywhere: the release binary needs only the C library at load time, so it starts
//! on a minimal server, in a container or on a colleague's fresh laptop. `ldd` lists nothing
//! else (FIDO2 reaches hidraw through sysfs without libudev, vendor/ctap-hid-fido2; libpcsclite
//! is opened on the first PIV use, vendor/pcsc-sys). In a root holding only the C library and
//! the binary (no PC/SC, no udev, no /sys, /proc or /etc) it does what needs neither: `--version`,
//! the simulated key's `init-ca`, `mint` and `inspect`, `list` with no key; and a PIV command
//! says PC/SC is missing and how to install it, exit 1.
//!
//! The release binary is built here (`cargo build --release --locked`, the binary users get): an
//! up-to-date build costs a second, a first one minutes. The root is entered with
//! `unshare --root` as root (CI), or in a user namespace where the kernel gives one; where it
//! cannot be entered the bare-root test skips with one line.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::built::release_breakglass;
use common::{bin, err, is_root, out};

/// What `ldd` lists: (name, resolved path where there is one).
fn ldd(binary: &Path) -> Vec<(String, Option<PathBuf>)> {
    let o = Command::new("ldd")
        .arg(binary)
        .output()
        .expect("run ldd (libc-bin)");
    assert!(o.status.success(), "ldd {}: {}", binary.display(), err(&o));
    out(&o)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let l = l.trim();
            match l.split_once(" => ") {
                // libgcc_s.so.1 => /lib/x86_64-linux-gnu/libgcc_s.so.1 (0x…), or "=> not found"
                Some((name, rest)) => (
                    name.to_string(),
                    rest.split_whitespace()
                        .next()
                        .filter(|p| p.starts_with('/'))
                        .map(PathBuf::from),
                ),
                // /lib64/ld-linux-x86-64.so.2 (0x…) or linux-vdso.so.1 (0x…)
                None => {
                    let first = l.split_whitespace().next().unwrap_or(l);
                    let path = first.starts_with('/').then(|| PathBuf::from(first));
                    let name = Path::new(first)
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_else(|| first.to_string());
                    (name, path)
                }
            }
        })
        .collect()
}

/// The C library: glibc's libc and libm, the loader, the kernel's vDSO, and libgcc_s (unwinding).
/// libpthread, libdl, librt and libutil are glibc too (separate files before glibc 2.34).
fn is_c_library(name: &str) -> bool {
    matches!(
        name,
        "linux-vdso.so.1"
            | "linux-gate.so.1"
            | "libc.so.6"
            | "libm.so.6"
            | "libgcc_s.so.1"
            | "libpthread.so.0"
            | "libdl.so.2"
            | "librt.so.1"
            | "libutil.so.1"
    ) || name.starts_with("ld-linux")
}

/// Everything `ldd` lists for `binary` beyond the C library.
fn beyond_c_library(binary: &Path) -> Vec<String> {
    ldd(binary)
        .into_iter()
        .filter(|(name, _)| !is_c_library(name))
        .map(|(name, path)| match path {
            Some(p) => format!("{name} => {}", p.display()),
            None => name,
        })
        .collect()
}

#[test]
fn the_release_and_debug_binaries_need_only_the_c_library() {
    for binary in [release_breakglass(), bin()] {
        let extra = beyond_c_library(&binary);
        assert!(
            extra.is_empty(),
            "{} needs more than the C library at load time: {extra:?}; on a machine without \
             them it cannot even start",
            binary.display()
        );
    }
}

/// The test PKI's private keys (tests/fixtures/attest/keys) sign the virtual keys' attestations;
/// they must never be in the binary users get (`attest::testing` is behind `test-support`, which
/// only the virtual devices and the tests enable). A private key's base64 body is unmistakable:
/// look for the line after the PEM header of each.
#[test]
fn the_release_binary_carries_no_test_private_key() {
    let binary = std::fs::read(release_breakglass()).unwrap();
    let keys = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/attest/keys");
    let mut checked = 0;
    for entry in std::fs::read_dir(&keys).unwrap() {
        let path = entry.unwrap().path();
        let pem = std::fs::read_to_string(&path).unwrap();
        let body = pem.lines().nth(1).expect("a PEM body line");
        assert!(body.len() >= 60, "{}: unexpected PEM", path.display());
        assert!(
            !binary.windows(body.len()).any(|w| w == body.as_bytes()),
            "the release binary contains the test private key {}: a build enabled the \
             test-support feature (build with -p breakglass, not --workspace)",
            path.display()
        );
        checked += 1;
    }
    assert_eq!(checked, 4, "the four test PKI keys");
}

/// A root with the C library `binary` needs (copied from this machine to the same paths),
/// `binary` as /bin/breakglass, and empty /work, /piv and /tmp.
struct BareRoot {
    dir: tempfile::TempDir,
    /// Where the C library lives in the root (e.g. /lib/x86_64-linux-gnu).
    libdir: PathBuf,
    /// libgcc_s.so.1 in the root (a library that is not PC/SC).
    libgcc: PathBuf,
    /// `unshare`'s options that let this user enter it.
    enter: Vec<&'static str>,
}

impl BareRoot {
    fn new(binary: &Path) -> BareRoot {
        let dir = tempfile::tempdir().unwrap();
        let (mut libdir, mut libgcc) = (None, None);
        for (name, path) in ldd(binary) {
            // Only the C library: whatever else the binary needs is missing here, and the
            // loader says so below.
            let Some(path) = path.filter(|_| is_c_library(&name)) else {
                continue;
            };
            let to = dir.path().join(path.strip_prefix("/").unwrap());
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(&path, &to).unwrap(); // follows the symlinks: the file itself
            match name.as_str() {
                "libc.so.6" => libdir = path.parent().map(Path::to_path_buf),
                "libgcc_s.so.1" => libgcc = Some(path.clone()),
                _ => {}
            }
        }
        std::fs::create_dir(dir.path().join("bin")).unwrap();
        std::fs::copy(binary, dir.path().join("bin/breakglass")).unwrap();
        for d in ["work", "piv", "tmp"] {
            std::fs::create_dir(dir.path().join(d)).unwrap();
        }
        BareRoot {
            dir,
            libdir: libdir.expect("ldd names libc.so.6"),
            libgcc: libgcc.expect("ldd names libgcc_s.so.1"),
            enter: if is_root() {
                vec![]
            } else {
                vec!["--map-root-user"]
            },
        }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p.trim_start_matches('/'))
    }

    /// Every file in the root, relative to it, sorted.
    fn files(&self) -> Vec<String> {
        fn walk(d: &Path, base: &Path, acc: &mut Vec<String>) {
            for e in std::fs::read_dir(d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(&p, base, acc);
                } else {
                    acc.push(format!("/{}", p.strip_prefix(base).unwrap().display()));
                }
            }
        }
        let mut acc = Vec::new();
        walk(self.dir.path(), self.dir.path(), &mut acc);
        acc.sort();
        acc
    }

    /// `/bin/breakglass ARGS` inside the root, in `wd`, with only the simulated key's and the
    /// audit log's places in its environment.
    fn run_in(&self, wd: &str, args: &[&str]) -> Output {
        Command::new(unshare())
            .args(&self.enter)
            .arg(format!("--root={}", self.dir.path().display()))
            .arg(format!("--wd={wd}"))
            .arg("/bin/breakglass")
            .args(args)
            .env_clear()
            .env("HOME", "/work")
            .env("BREAKGLASS_SIM_DIR", "/work/sim")
            .env("BREAKGLASS_AUDIT_LOG", "/work/audit.jsonl")
            .stdin(Stdio::null())
            .output()
            .expect("run unshare")
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_in("/work", args)
    }
}

/// util-linux's `unshare`, by its path on this machine.
fn unshare() -> PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join("unshare"))
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("/usr/bin/unshare"))
}

fn assert_ok(o: &Output, what: &str) {
    assert!(
        o.status.success(),
        "{what} failed in the bare root ({}):\nstdout: {}\nstderr: {}",
        o.status,
        out(o),
        err(o)
    );
}

/// What the loader says where libpcsclite.so.1 is not installed (glibc's dlerror).
const NO_PCSC: &str = "libpcsclite.so.1: cannot open shared object file: No such file or directory";
const PCSC_HINT: &str = "Install it (`sudo apt install libpcsclite1 pcscd`) and run the command \
                         again; FIDO2 keys and the simulator work without it.";

#[test]
fn the_release_binary_works_in_a_root_holding_only_the_c_library() {
    let root = BareRoot::new(&release_breakglass());

    // The root: the C library and the binary, nothing of PC/SC or udev.
    let files = root.files();
    assert!(files.contains(&"/bin/breakglass".to_string()), "{files:?}");
    for f in &files {
        let name = f.rsplit('/').next().unwrap();
        assert!(
            f == "/bin/breakglass" || is_c_library(name),
            "{f} is not the C library: {files:?}"
        );
    }

    // --version: the binary starts at all (the loader finds everything it needs).
    let o = root.run(&["--version"]);
    if !o.status.success() && err(&o).starts_with("unshare:") {
        // This user cannot enter a root here (not root, and no user namespace).
        return common::skip::skip(
            &common::skip::ROOT,
            &format!("cannot enter a bare root here ({})", err(&o).trim()),
        );
    }
    assert_ok(&o, "--version");
    assert_eq!(
        out(&o),
        format!("breakglass {}\n", env!("CARGO_PKG_VERSION"))
    );

    // The simulated key: a CA, a certificate, and its check.
    let o = root.run(&["--backend", "sim", "init-ca"]);
    assert_ok(&o, "init-ca");
    assert!(
        out(&o).starts_with("Created SSH user CA on simulated key SIM-"),
        "{}",
        out(&o)
    );
    let ca = std::fs::read_to_string(root.path("/work/sk-user-ca.pub")).unwrap();
    assert!(
        ca.starts_with("sk-ecdsa-sha2-nistp256@openssh.com "),
        "{ca}"
    );

    let o = root.run(&["--backend", "sim", "mint", "-n", "ubuntu", "-V", "-5m:+60m"]);
    assert_ok(&o, "mint");
    assert!(
        out(&o).starts_with("Minted emergency-cert.pub (signed by simulated key SIM-"),
        "{}",
        out(&o)
    );
    for f in [
        "emergency",
        "emergency.pub",
        "emergency-cert.pub",
        "audit.jsonl",
    ] {
        assert!(
            root.path(&format!("/work/{f}")).is_file(),
            "{f} not written"
        );
    }

    let o = root.run(&["inspect", "emergency-cert.pub"]);
    assert_ok(&o, "inspect");
    let s = out(&o);
    for want in [
        "Signing CA: ECDSA-SK ",
        "Principals: \n                ubuntu\n",
        "CA signature: verified (touch: yes, PIN: no, counter ",
        "Status: valid, ",
        "CA matches --ca: yes",
    ] {
        assert!(s.contains(want), "{want:?} not in inspect's output:\n{s}");
    }

    // No key: list says what it could not look at and that no key is there — with
    // `--backend piv`, a PIV key (the listing concerns PIV only), else a FIDO2 key.
    let no_key = |backend: &str| {
        format!(
            "note: PIV: the PC/SC library libpcsclite.so.1, which YubiKey PIV needs, cannot be \
             loaded ({NO_PCSC}). {PCSC_HINT}\n\
             breakglass: no {backend} key found.\n\
             Insert the YubiKey that holds the CA and run again. To practise without a key, use \
             --backend sim (simulated; never for real access).\n"
        )
    };
    for (args, backend) in [
        (&["list"][..], "FIDO2"),
        (&["--backend", "piv", "list"], "PIV"),
    ] {
        let o = root.run(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", err(&o));
        assert_eq!(out(&o), "", "{args:?}");
        assert_eq!(err(&o), no_key(backend), "{args:?}");
    }

    // A PIV command: PC/SC is missing and how to install it, before any PIN is asked for;
    // nothing written.
    let piv_missing = format!(
        "breakglass: the PC/SC library libpcsclite.so.1, which YubiKey PIV needs, cannot be \
         loaded ({NO_PCSC}).\n{PCSC_HINT}\n"
    );
    let o = root.run_in("/piv", &["--backend", "piv", "init-ca"]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert_eq!(err(&o), piv_missing);
    assert_eq!(out(&o), "");
    assert_eq!(std::fs::read_dir(root.path("/piv")).unwrap().count(), 0);

    // A libpcsclite.so.1 without the PC/SC functions (another library under its name): the
    // same error naming the missing function, no panic.
    std::fs::copy(
        root.path(&root.libgcc.to_string_lossy()),
        root.path(&root.libdir.join("libpcsclite.so.1").to_string_lossy()),
    )
    .unwrap();
    let o = root.run_in("/piv", &["--backend", "piv", "init-ca"]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert_eq!(
        err(&o),
        format!(
            "breakglass: the PC/SC library libpcsclite.so.1, which YubiKey PIV needs, cannot be \
             loaded ({}/libpcsclite.so.1: undefined symbol: SCardEstablishContext).\n{PCSC_HINT}\n",
            root.libdir.display()
        )
    );
}
