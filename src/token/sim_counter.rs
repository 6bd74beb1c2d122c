//! The simulated key's signature counter, kept beside its state file (`counter`, 0600) so that
//! an assertion — which changes nothing but the counter — costs one in-place write and one
//! `fdatasync`, as a real key's counter cell does, instead of a whole new `token.json`
//! (temporary file, rename, directory sync).
//!
//! The file holds two 8-byte slots, each the value and its complement (`u32` big-endian); value
//! N goes to slot N & 1. A write torn by a crash spoils at most the slot being written, while
//! the other still holds the value before it — the last one any released signature carried
//! (the state is saved before an assertion is returned). The key's counter is the larger of
//! this file's valid slots and `token.json`'s own `counter` (written whenever anything else
//! changes), so neither file can take the counter backwards.
//!
//! One barrier per signature: the simulated key in the CLI (`SimToken::defer_silent_counter`)
//! writes the counter of a silent assertion (no touch: the check that the key holds the CA
//! before a mint asks for the touch) with [`write_deferred`], and the signature that follows
//! flushes both values with its own [`write`]; see `SimToken::with_lock_deferring` for the
//! crash cases.

use std::fs::OpenOptions;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::Path;

use crate::delivery::atomic;

/// The file's name in the state directory.
pub const FILE: &str = "counter";

const SLOT: usize = 8;

fn slot_bytes(value: u32) -> [u8; SLOT] {
    let mut b = [0u8; SLOT];
    b[..4].copy_from_slice(&value.to_be_bytes());
    b[4..].copy_from_slice(&(!value).to_be_bytes());
    b
}

/// The largest valid value in `bytes` (the file's content), `None` when no slot is valid.
pub fn parse(bytes: &[u8]) -> Option<u32> {
    bytes
        .chunks_exact(SLOT)
        .take(2)
        .filter_map(|s| {
            let v = u32::from_be_bytes([s[0], s[1], s[2], s[3]]);
            let c = u32::from_be_bytes([s[4], s[5], s[6], s[7]]);
            (c == !v).then_some(v)
        })
        .max()
}

/// The counter stored in `dir`, `None` when there is no valid one (no file yet, or both slots
/// spoiled: `token.json`'s counter stands then).
pub fn read(dir: &Path) -> Option<u32> {
    let mut bytes = Vec::with_capacity(2 * SLOT);
    let f = std::fs::File::open(dir.join(FILE)).ok()?;
    f.take(2 * SLOT as u64).read_to_end(&mut bytes).ok()?;
    parse(&bytes)
}

/// Stores `value`, durably, before returning: in place into its slot when the file exists,
/// else as a new file (both slots) written atomically.
pub fn write(dir: &Path, value: u32) -> std::io::Result<()> {
    write_with(dir, value, true)
}

/// Stores `value` in place without a barrier of its own (every process sees it at once, a
/// process killed later does not lose it; a power loss may, until the next [`write`] or
/// [`sync`], which flush the whole file). A new file is still written atomically and durably.
pub fn write_deferred(dir: &Path, value: u32) -> std::io::Result<()> {
    write_with(dir, value, false)
}

/// Makes values stored by [`write_deferred`] durable (`fdatasync`); no file, nothing to do.
pub fn sync(dir: &Path) -> std::io::Result<()> {
    match std::fs::File::open(dir.join(FILE)) {
        Ok(f) => f.sync_data(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

fn write_with(dir: &Path, value: u32, durable: bool) -> std::io::Result<()> {
    let path = dir.join(FILE);
    match OpenOptions::new().write(true).open(&path) {
        Ok(f) => {
            let offset = (value & 1) as u64 * SLOT as u64;
            f.write_all_at(&slot_bytes(value), offset)?;
            if durable {
                f.sync_data()?;
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut both = Vec::with_capacity(2 * SLOT);
            both.extend_from_slice(&slot_bytes(value));
            both.extend_from_slice(&slot_bytes(value));
            atomic::write_all(&[atomic::PlannedFile::private(&path, both)], true)
                .map_err(|e| std::io::Error::other(e.to_string()))
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_alternate_between_the_slots_and_the_larger_valid_one_counts() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(read(d.path()), None);
        write(d.path(), 7).unwrap();
        assert_eq!(read(d.path()), Some(7));
        write(d.path(), 8).unwrap();
        assert_eq!(read(d.path()), Some(8));
        let bytes = std::fs::read(d.path().join(FILE)).unwrap();
        assert_eq!(parse(&bytes[..SLOT]), Some(8));
        assert_eq!(parse(&bytes[SLOT..]), Some(7));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(d.path().join(FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_torn_slot_leaves_the_value_before_it() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), 8).unwrap();
        write(d.path(), 9).unwrap();
        // Slot 1 (value 9) torn half-way: its complement no longer matches.
        let mut bytes = std::fs::read(d.path().join(FILE)).unwrap();
        bytes[SLOT + 5] ^= 0xff;
        std::fs::write(d.path().join(FILE), &bytes).unwrap();
        assert_eq!(read(d.path()), Some(8));
        // Both spoiled, or a short file: nothing valid.
        assert_eq!(parse(&[0u8; 16]), None);
        assert_eq!(parse(&bytes[..3]), None);
    }
}
