//! The current time. In debug builds `BREAKGLASS_NOW` (seconds since the epoch) pins it for
//! reproducible test output; release builds ignore it, so a stale variable can never stretch a
//! certificate's agent lifetime or validity check. Nothing else reads the system clock.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the epoch, or `BREAKGLASS_NOW` when set to a number.
pub fn now() -> u64 {
    if let Some(v) = std::env::var_os("BREAKGLASS_NOW").filter(|_| cfg!(debug_assertions)) {
        if let Some(n) = v.to_str().and_then(|s| s.trim().parse::<u64>().ok()) {
            return n;
        }
    }
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
