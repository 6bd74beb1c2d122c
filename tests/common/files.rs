//! What is on disk: snapshots and listings that prove a failed command wrote nothing.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Every file under `dir` with its bytes and mode (recursively).
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, u32)> {
    let mut m = BTreeMap::new();
    if !dir.exists() {
        return m;
    }
    for e in walk(dir) {
        let meta = std::fs::symlink_metadata(&e).unwrap();
        let bytes = if meta.is_file() {
            std::fs::read(&e).unwrap()
        } else {
            Vec::new()
        };
        m.insert(
            e.strip_prefix(dir).unwrap().to_path_buf(),
            (bytes, meta.permissions().mode()),
        );
    }
    m
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            v.extend(walk(&p));
        }
        v.push(p);
    }
    v
}

/// The names in `dir`, sorted.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The permission bits of `p`.
pub fn mode_of(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// Writes an executable script.
pub fn write_script(p: &Path, body: &str) {
    std::fs::write(p, body).unwrap();
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
}
