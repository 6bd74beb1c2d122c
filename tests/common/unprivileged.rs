//! Commands run as an account that mode bits apply to. Root writes into a 0555 directory as into
//! any other, so a test of what a user meets in an unwritable directory would prove nothing as
//! root (CI and containers run the tests as root). As root, [`Unprivileged`] runs the binary as
//! `nobody` (uid and gid 65534, no supplementary groups) through `setpriv`, from a copy in a
//! 0755 temporary directory: `target/` may lie where that account cannot reach (under /root),
//! and the world it runs in is handed to that account. As anyone else it runs the binary as is.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::system::is_root;
use super::world::{bin, World};

/// The account unprivileged commands run as when the tests run as root.
pub const NOBODY: u32 = 65534;

/// The binary, runnable by an account mode bits apply to.
pub struct Unprivileged {
    /// The copy of the binary (root only), removed on drop.
    copy: Option<(tempfile::TempDir, PathBuf)>,
}

impl Unprivileged {
    /// As root: copies the binary for `nobody` and hands `w`'s directory (everything in it) to
    /// that account; make the world's files first. As anyone else: nothing to do.
    pub fn new(w: &World) -> Unprivileged {
        if !is_root() {
            return Unprivileged { copy: None };
        }
        let dir = tempfile::Builder::new()
            .prefix("bg-unpriv-")
            .tempdir()
            .expect("create a directory for the binary");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let exe = dir.path().join("breakglass");
        // Copied by `cp`, not std::fs::copy: a file this process held open for writing would be
        // inherited by any child another test thread forks meanwhile, and exec'ing the copy
        // while such a child lives fails with ETXTBSY ("Text file busy").
        let st = Command::new("cp")
            .arg(bin())
            .arg(&exe)
            .status()
            .expect("run cp");
        assert!(
            st.success(),
            "cp {} {} failed",
            bin().display(),
            exe.display()
        );
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        reachable(&exe);
        let st = Command::new("chown")
            .arg("-R")
            .arg(format!("{NOBODY}:{NOBODY}"))
            .arg(w.tmp.path())
            .status()
            .expect("run chown");
        assert!(
            st.success(),
            "chown -R {NOBODY} {} failed",
            w.tmp.path().display()
        );
        std::fs::set_permissions(w.tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        reachable(&w.work);
        Unprivileged {
            copy: Some((dir, exe)),
        }
    }

    /// `breakglass ARGS` in `w`'s working directory with its environment, as the account.
    pub fn cmd(&self, w: &World, args: &[&str]) -> Command {
        let mut c = match &self.copy {
            Some((_, exe)) => {
                let mut c = Command::new("setpriv");
                c.args([
                    format!("--reuid={NOBODY}"),
                    format!("--regid={NOBODY}"),
                    "--clear-groups".into(),
                    "--".into(),
                ])
                .arg(exe);
                c
            }
            None => Command::new(bin()),
        };
        c.args(args).current_dir(&w.work);
        w.apply_env(&mut c);
        c
    }

    pub fn run(&self, w: &World, args: &[&str]) -> Output {
        self.cmd(w, args).output().unwrap()
    }
}

/// Panics, saying why, unless every directory above `path` lets others through (o+x): the
/// account could not reach it (a TMPDIR under /root, say).
fn reachable(path: &Path) {
    for dir in path.ancestors().skip(1) {
        let mode = std::fs::metadata(dir).unwrap().permissions().mode();
        assert!(
            mode & 0o001 != 0,
            "{} (mode {:o}) keeps the unprivileged account away from {}; point TMPDIR at a \
             directory others can reach (e.g. /tmp)",
            dir.display(),
            mode & 0o7777,
            path.display()
        );
    }
}
