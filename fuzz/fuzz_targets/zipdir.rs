//! The zip of a received directory offer (ours, or Python's `wormhole send DIR`): no archive may
//! panic or get past the limits, and what is accepted has plain names, permission bits only and
//! survives a round trip through our own writer.
#![no_main]

use breakglass::delivery::transfer::zipdir::{check_plain_name, read_zip, write_zip, Limits, ZipEntry};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let Ok(files) = read_zip(data, limits) else {
        return;
    };
    assert!(files.len() <= limits.max_entries);
    assert!(files.iter().map(|f| f.data.len() as u64).sum::<u64>() <= limits.max_total);
    for f in &files {
        assert!(check_plain_name(&f.name).is_ok(), "{:?}", f.name);
        assert_eq!(f.mode & !0o777, 0);
    }
    let entries: Vec<ZipEntry> = files
        .iter()
        .map(|f| ZipEntry {
            name: &f.name,
            data: &f.data,
            mode: 0o100000 | f.mode,
            deflate: true,
            declared_size: None,
        })
        .collect();
    let again = read_zip(&write_zip(&entries), limits).expect("our own zip reads back");
    assert_eq!(again.len(), files.len());
    for (a, b) in again.iter().zip(&files) {
        assert_eq!((&a.name, &a.data[..], a.mode), (&b.name, &b.data[..], b.mode));
    }
});
