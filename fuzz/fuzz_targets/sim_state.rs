//! The simulated key's state file (it may be damaged or edited by hand): opening the key and
//! reading its status must give an error or an answer, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("bg-fuzz-sim-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let state = breakglass::token::sim::state_file(&dir);
    if std::fs::write(&state, data).is_err() {
        return;
    }
    if let Ok(mut t) = breakglass::token::sim::SimToken::open(&dir) {
        let _ = t.status();
    }
});
