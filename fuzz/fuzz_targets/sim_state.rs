//! The simulated key's state files (they may be damaged or edited by hand): opening the key and
//! reading its status must give an error or an answer, never a panic. Input starting with `#`
//! (never valid JSON) carries the counter file first: its next 16 bytes, then `token.json`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("bg-fuzz-sim-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let counter_file = dir.join(breakglass::token::sim_counter::FILE);
    let json = match data.split_first() {
        Some((b'#', rest)) if rest.len() >= 16 => {
            if std::fs::write(&counter_file, &rest[..16]).is_err() {
                return;
            }
            &rest[16..]
        }
        _ => {
            let _ = std::fs::remove_file(&counter_file);
            data
        }
    };
    let state = breakglass::token::sim::state_file(&dir);
    if std::fs::write(&state, json).is_err() {
        return;
    }
    if let Ok(mut t) = breakglass::token::sim::SimToken::open(&dir) {
        let _ = t.status();
    }
});
