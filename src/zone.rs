//! The name of the local time zone at an instant ("EST", "CET", "UTC"), so times can say which
//! zone they are in instead of "(local)". chrono knows offsets, not names; the C library's
//! `localtime_r` fills `tm_zone` from the same TZ rules chrono's `Local` uses.

extern "C" {
    /// POSIX `tzset(3)` (not bound by the libc crate): loads TZ before `localtime_r`, which
    /// POSIX does not oblige to do it.
    fn tzset();
}

/// The local zone's abbreviation at `t` (seconds since the epoch), e.g. "EST"; the numeric
/// offset ("+0530") when the C library gives no name.
pub fn local_name(t: u64) -> String {
    let Ok(secs) = libc::time_t::try_from(t) else {
        return "UTC".into();
    };
    // SAFETY: tzset reads TZ and the zone files; localtime_r writes only into `tm`, and
    // `tm_zone` then points at static storage of the C library (valid until the next tzset).
    unsafe {
        tzset();
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&secs, &mut tm).is_null() {
            return "UTC".into();
        }
        if !tm.tm_zone.is_null() {
            let name = std::ffi::CStr::from_ptr(tm.tm_zone).to_string_lossy();
            if !name.is_empty() {
                return name.into_owned();
            }
        }
        let off = tm.tm_gmtoff;
        format!(
            "{}{:02}{:02}",
            if off < 0 { '-' } else { '+' },
            off.abs() / 3600,
            off.abs() / 60 % 60
        )
    }
}

/// True when local time is UTC at `t` (then one line of times is enough).
pub fn local_is_utc(t: u64) -> bool {
    let Ok(secs) = libc::time_t::try_from(t) else {
        return true;
    };
    // SAFETY: as in `local_name`.
    unsafe {
        tzset();
        let mut tm: libc::tm = std::mem::zeroed();
        libc::localtime_r(&secs, &mut tm).is_null() || tm.tm_gmtoff == 0
    }
}
