//! The audit log (it may be cut, damaged or tampered with): reading, verifying and finding its
//! head must give an error or an answer, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("bg-fuzz-audit-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let log = dir.join("audit.jsonl");
    if std::fs::write(&log, data).is_err() {
        return;
    }
    let _ = breakglass::delivery::audit::read(&log);
    let _ = breakglass::delivery::audit::verify(&log);
    let _ = breakglass::delivery::audit::head(&log);
});
