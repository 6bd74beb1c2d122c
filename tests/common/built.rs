//! Programs of the workspace's other packages, built on demand beside the `breakglass` binary
//! (the same target directory and profile), once per package per test process.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

use super::world::bin;

/// `file` beside the binary, after `cargo build -p package` (run once per package per process).
pub fn beside_breakglass(package: &str, file: &str) -> PathBuf {
    static BUILT: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    // A failed build panics while holding the lock: the next caller simply builds again.
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if !built.contains(package) {
        let st = Command::new(env!("CARGO"))
            .args(["build", "-p", package])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build");
        assert!(st.success(), "cargo build -p {package} failed");
        built.insert(package.to_string());
    }
    let path = bin().with_file_name(file);
    assert!(path.exists(), "{} missing", path.display());
    path
}

/// The virtual key's program (`breakglass-sim-hid`) beside breakglass.
pub fn sim_hid_program() -> PathBuf {
    beside_breakglass("breakglass-sim-hid", "breakglass-sim-hid")
}

/// The release binary as users build it (`cargo build --release --locked`: default features,
/// none of the tests' hooks), in this target directory's `release/`, built once per test
/// process. An up-to-date build costs a second; a first one minutes (LTO, one codegen unit).
pub fn release_breakglass() -> PathBuf {
    static BUILT: Mutex<bool> = Mutex::new(false);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if !*built {
        let st = Command::new(env!("CARGO"))
            .args([
                "build",
                "--release",
                "--locked",
                "-p",
                "breakglass",
                "--bin",
                "breakglass",
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build --release");
        assert!(st.success(), "cargo build --release failed");
        *built = true;
    }
    // target/debug/breakglass -> target/release/breakglass
    let path = bin()
        .parent()
        .and_then(|d| d.parent())
        .expect("the binary's target directory")
        .join("release")
        .join("breakglass");
    assert!(path.exists(), "{} missing", path.display());
    path
}
