//! The `ssh-keygen -V` certificate validity grammar of OpenSSH 9.2.
//!
//! This module reproduces, result for result and message for message, what
//! OpenSSH 9.2p1 does with `ssh-keygen -s CA -V SPEC`:
//!
//! * `ssh-keygen.c: parse_cert_times` (the overall `from:to` / lone `+` grammar),
//!   `parse_relative_time` and `parse_hex_u64`;
//! * `misc.c: convtime` (relative durations, including the 9.2 `strtol`
//!   quirks: embedded signs and blanks, repeated units, trailing bare number);
//! * `misc.c: parse_absolute_time` (`YYYYMMDD[HHMM[SS]]` with an optional
//!   case-insensitive `Z`/`UTC` suffix, re-formatted and fed to glibc
//!   `strptime`, whose field rules — blank skipping, the greedy-digit rule,
//!   `%S` up to 61, out-of-range days normalised by `timegm`/`mktime` — are
//!   emulated here byte for byte);
//! * `misc.c: format_absolute_time` and `sshkey.c: sshkey_format_cert_validity`
//!   (the `Valid:` text of `ssh-keygen -L`).
//!
//! Deliberate differences from ssh-keygen 9.2:
//!
//! * **DST.** ssh-keygen calls `mktime` with `tm_isdst = 0`, so a local (non
//!   `Z`/`UTC`) date in summer comes out one hour late. Here local dates use
//!   the zone's real offset for that date.
//! * **Non-existent / ambiguous local times.** For a local time in a DST gap
//!   (spring forward) the result is the first instant after the gap (the
//!   transition instant, e.g. 02:30 on the New York spring-forward day gives
//!   03:00 EDT); for a local time that occurs twice (fall back) the earlier
//!   of the two instants is used. Both are "the earliest valid instant".
//! * **NUL bytes.** A command-line argument cannot contain NUL; a spec that
//!   does is rejected as `Invalid certificate life specification SPEC`.
//! * **Overflow of `now`.** ssh-keygen's `time_t` cannot overflow; a caller
//!   passing a `now` so large that `now + secs` overflows `u64` gets
//!   `Certificate time SPEC cannot be represented`.
//! * **Printing absurd times** (years beyond chrono's range, ~262 000): the
//!   zone offset is taken from the same date 400·k years earlier (the
//!   Gregorian calendar and POSIX TZ rules repeat every 400 years). glibc
//!   agrees up to year ~5.9 million; beyond that its DST computation
//!   overflows an `int`. When the year does not fit glibc's `int tm_year`,
//!   `localtime_r` fails and ssh-keygen prints the truncated year with
//!   uninitialised month/day, observed as `-01-00`; this is reproduced
//!   (`0xfffffffffffffffe` → `219250468-01-00T15:30:07` in UTC).

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeZone};

/// A certificate validity interval, seconds since the epoch
/// (`valid_after <= t < valid_before`), as stored in an OpenSSH certificate
/// (`PROTOCOL.certkeys`; `ssh-keygen.c: cert_valid_from/cert_valid_to`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// First second at which the certificate is valid; 0 = "always".
    pub valid_after: u64,
    /// First second at which the certificate is no longer valid;
    /// [`Validity::FOREVER`] = "forever".
    pub valid_before: u64,
}

impl Validity {
    /// The open upper end, `~(u_int64_t)0` in `ssh-keygen.c: parse_cert_times`.
    pub const FOREVER: u64 = u64::MAX;

    /// Lifetime in seconds (`valid_before - valid_after`); `None` when either
    /// end is open (`valid_after == 0` or `valid_before == FOREVER`) or when
    /// `valid_before < valid_after`.
    pub fn lifetime(&self) -> Option<u64> {
        if self.is_open_ended() {
            None
        } else {
            self.valid_before.checked_sub(self.valid_after)
        }
    }

    /// True when `valid_after == 0` or `valid_before == FOREVER`, the two
    /// open ends of `sshkey.c: sshkey_format_cert_validity`.
    pub fn is_open_ended(&self) -> bool {
        self.valid_after == 0 || self.valid_before == Self::FOREVER
    }
}

/// A `-V` rejection. `Display` is exactly the `fatal()` text of ssh-keygen
/// 9.2 (`ssh-keygen.c: parse_cert_times, parse_relative_time, parse_hex_u64`);
/// ssh-keygen exits with status 255 on each of them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidityError {
    /// No `:`, or an empty from/to part (carries the whole spec).
    #[error("Invalid certificate life specification {0}")]
    InvalidLifeSpec(String),
    /// Lone `+DURATION` whose duration `convtime` rejects (whole spec).
    #[error("Invalid relative certificate life {0}")]
    InvalidRelativeLife(String),
    /// `from` or `to` relative part rejected by `convtime` (that part).
    #[error("Invalid relative certificate time {0}")]
    InvalidRelativeTime(String),
    /// `-DURATION` reaching before the epoch (that part).
    #[error("Certificate time {0} cannot be represented")]
    NotRepresentable(String),
    /// Unparsable `from` (that part).
    #[error("Invalid from time \"{0}\"")]
    InvalidFromTime(String),
    /// Unparsable `to` (that part).
    #[error("Invalid to time \"{0}\"")]
    InvalidToTime(String),
    /// `0x` with no hex digits or trailing junk (carries that part; not shown).
    #[error("Invalid certificate time: not a number")]
    HexNotANumber(String),
    /// `0x` value above 2⁶⁴−1 (carries that part; not shown).
    #[error("parse_hex_u64: Invalid certificate time: Numerical result out of range")]
    HexOutOfRange(String),
    /// `valid_before <= valid_after`.
    #[error("Empty certificate validity interval")]
    EmptyInterval {
        /// The parsed start.
        valid_after: u64,
        /// The parsed end.
        valid_before: u64,
    },
}

const INT_MAX: u64 = i32::MAX as u64;

/// C `isspace` in the C locale (used by `strtol` and glibc `strptime`).
fn c_isspace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// `convtime` of OpenSSH 9.2 (`misc.c`): repeated `<strtol number><unit>`
/// groups, units `s m h d w` (either case) or none at the end of the string
/// (seconds), summed, each group and the total at most `INT_MAX`.
///
/// Quirks kept (they follow from `strtol`): leading blanks and a sign are
/// accepted inside each group (`+5m`, ` 5`, `-0` are fine, `-5` is not),
/// units may repeat (`5s3s` = 8), a trailing bare number is seconds
/// (`1h30` = 3630). Empty input, a group without digits, a negative number,
/// any other character, or a total above `INT_MAX` give `None`.
pub fn convtime(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.is_empty() {
        return None;
    }
    let mut p = 0usize;
    let mut total: u64 = 0;
    while p < b.len() {
        // strtol(p, &endp, 10)
        let mut q = p;
        while q < b.len() && c_isspace(b[q]) {
            q += 1;
        }
        let mut negative = false;
        if q < b.len() && (b[q] == b'+' || b[q] == b'-') {
            negative = b[q] == b'-';
            q += 1;
        }
        let digits_start = q;
        let mut val: u64 = 0;
        while q < b.len() && b[q].is_ascii_digit() {
            // Saturate well above INT_MAX: strtol would give LONG_MAX/ERANGE,
            // which fails the INT_MAX checks below just the same.
            val = val
                .saturating_mul(10)
                .saturating_add(u64::from(b[q] - b'0'))
                .min(u64::from(u32::MAX) * 1024);
            q += 1;
        }
        if q == digits_start {
            return None; // p == endp
        }
        if negative && val != 0 {
            return None; // secs < 0
        }
        let multiplier: u64 = match b.get(q) {
            None => 1,
            Some(c) => {
                q += 1;
                match c {
                    b's' | b'S' => 1,
                    b'm' | b'M' => 60,
                    b'h' | b'H' => 3600,
                    b'd' | b'D' => 86400,
                    b'w' | b'W' => 604800,
                    _ => return None,
                }
            }
        };
        if val > INT_MAX / multiplier {
            return None;
        }
        let secs = val * multiplier;
        if total > INT_MAX - secs {
            return None;
        }
        total += secs;
        p = q;
    }
    Some(total)
}

/// Parses SPEC as `ssh-keygen -V SPEC` of OpenSSH 9.2 does
/// (`ssh-keygen.c: parse_cert_times`), `now` = seconds since the epoch.
///
/// Local (non-`Z`/`UTC`) absolute dates use [`chrono::Local`] (the `TZ`
/// variable is honoured) with the zone's real offset for that date — the one
/// deliberate difference from ssh-keygen, which is one hour late for summer
/// dates (see the module documentation).
pub fn parse_validity(spec: &str, now: u64) -> Result<Validity, ValidityError> {
    parse_validity_in(spec, now, &chrono::Local)
}

/// [`parse_validity`] with an explicit zone for local absolute dates
/// (`ssh-keygen.c: parse_cert_times`; `misc.c: parse_absolute_time`).
pub fn parse_validity_in<Tz: TimeZone>(
    spec: &str,
    now: u64,
    tz: &Tz,
) -> Result<Validity, ValidityError> {
    if spec.as_bytes().contains(&0) {
        return Err(ValidityError::InvalidLifeSpec(spec.to_owned()));
    }
    // +timespec relative to now
    if let Some(rest) = spec.strip_prefix('+') {
        if !spec.contains(':') {
            let secs = convtime(rest)
                .ok_or_else(|| ValidityError::InvalidRelativeLife(spec.to_owned()))?;
            let valid_before = now
                .checked_add(secs)
                .ok_or_else(|| ValidityError::NotRepresentable(spec.to_owned()))?;
            // ((now - 59) / 60) * 60 with C (truncating) division on time_t.
            let valid_after = if now < 59 { 0 } else { (now - 59) / 60 * 60 };
            // ssh-keygen returns here: no empty-interval check for this form.
            return Ok(Validity {
                valid_after,
                valid_before,
            });
        }
    }
    let (from, to) = match spec.find(':') {
        Some(i) if i > 0 && i + 1 < spec.len() => (&spec[..i], &spec[i + 1..]),
        _ => return Err(ValidityError::InvalidLifeSpec(spec.to_owned())),
    };

    let valid_after = if from.starts_with(['-', '+']) {
        parse_relative_time(from, now)?
    } else if from == "always" {
        0
    } else if from.starts_with("0x") {
        parse_hex_u64(from)?
    } else {
        parse_absolute_time(from, tz)
            .ok_or_else(|| ValidityError::InvalidFromTime(from.to_owned()))?
    };

    let valid_before = if to.starts_with(['-', '+']) {
        parse_relative_time(to, now)?
    } else if to == "forever" {
        Validity::FOREVER
    } else if to.starts_with("0x") {
        parse_hex_u64(to)?
    } else {
        parse_absolute_time(to, tz).ok_or_else(|| ValidityError::InvalidToTime(to.to_owned()))?
    };

    if valid_before <= valid_after {
        return Err(ValidityError::EmptyInterval {
            valid_after,
            valid_before,
        });
    }
    Ok(Validity {
        valid_after,
        valid_before,
    })
}

/// `ssh-keygen.c: parse_relative_time`: `now ± convtime(s + 1)`.
fn parse_relative_time(s: &str, now: u64) -> Result<u64, ValidityError> {
    let negative = s.starts_with('-');
    let secs = convtime(&s[1..]).ok_or_else(|| ValidityError::InvalidRelativeTime(s.to_owned()))?;
    let r = if negative {
        now.checked_sub(secs)
    } else {
        now.checked_add(secs)
    };
    r.ok_or_else(|| ValidityError::NotRepresentable(s.to_owned()))
}

/// `ssh-keygen.c: parse_hex_u64`: `strtoull(s, &ep, 16)` on a string known
/// to start with `0x`; glibc consumes the `0x` prefix only when a hex digit
/// follows, so the rest must be one or more hex digits and nothing else.
fn parse_hex_u64(s: &str) -> Result<u64, ValidityError> {
    let digits = &s[2..];
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_hexdigit()) {
        return Err(ValidityError::HexNotANumber(s.to_owned()));
    }
    let mut v: u64 = 0;
    for c in digits.bytes() {
        let d = char::from(c).to_digit(16).map(u64::from);
        v = match (v.checked_mul(16), d) {
            (Some(x), Some(d)) => x
                .checked_add(d)
                .ok_or_else(|| ValidityError::HexOutOfRange(s.to_owned()))?,
            _ => return Err(ValidityError::HexOutOfRange(s.to_owned())),
        };
    }
    Ok(v)
}

/// One `strptime` conversion of glibc's `get_number(from, to, n)`.
fn get_number(buf: &[u8], rp: &mut usize, from: u32, to: u32, n: u32) -> Option<u32> {
    while *rp < buf.len() && c_isspace(buf[*rp]) {
        *rp += 1;
    }
    let first = *buf.get(*rp)?;
    if !first.is_ascii_digit() {
        return None;
    }
    let mut val: u32 = 0;
    let mut left = n;
    loop {
        val = val * 10 + u32::from(buf[*rp] - b'0');
        *rp += 1;
        left -= 1;
        if !(left > 0 && val * 10 <= to && *rp < buf.len() && buf[*rp].is_ascii_digit()) {
            break;
        }
    }
    if val < from || val > to {
        return None;
    }
    Some(val)
}

/// `misc.c: parse_absolute_time` of OpenSSH 9.2: optional case-insensitive
/// `Z`/`UTC` suffix, then exactly 8, 12 or 14 bytes re-formatted as
/// `YYYY-MM-DD[THH:MM[:SS]]` and parsed like glibc `strptime`; day and
/// second overflow normalised as `timegm`/`mktime` do; negative results
/// rejected. Returns `None` on any failure.
fn parse_absolute_time<Tz: TimeZone>(s: &str, tz: &Tz) -> Option<u64> {
    let b = s.as_bytes();
    let mut l = b.len();
    let mut is_utc = false;
    if l > 1 && b[l - 1].eq_ignore_ascii_case(&b'z') {
        is_utc = true;
        l -= 1;
    } else if l > 3 && b[l - 3..].eq_ignore_ascii_case(b"utc") {
        is_utc = true;
        l -= 3;
    }
    let b = &b[..l];
    // snprintf("%.4s-%.2s-%.2s[T%.2s:%.2s[:%.2s]]")
    let mut buf: Vec<u8> = Vec::with_capacity(20);
    let nfields = match l {
        8 => 3,
        12 => 5,
        14 => 6,
        _ => return None,
    };
    let pieces: [(usize, usize, u8); 6] = [
        (0, 4, 0),
        (4, 6, b'-'),
        (6, 8, b'-'),
        (8, 10, b'T'),
        (10, 12, b':'),
        (12, 14, b':'),
    ];
    for &(a, z, sep) in &pieces[..nfields] {
        if sep != 0 {
            buf.push(sep);
        }
        buf.extend_from_slice(&b[a..z]);
    }
    // strptime(buf, "%Y-%m-%d[T%H:%M[:%S]]")
    let limits: [(u8, u32, u32, u32); 6] = [
        (0, 0, 9999, 4),
        (b'-', 1, 12, 2),
        (b'-', 1, 31, 2),
        (b'T', 0, 23, 2),
        (b':', 0, 59, 2),
        (b':', 0, 61, 2),
    ];
    let mut fields = [0u32, 1, 1, 0, 0, 0];
    let mut rp = 0usize;
    for (i, &(sep, from, to, n)) in limits[..nfields].iter().enumerate() {
        if sep != 0 {
            if buf.get(rp) != Some(&sep) {
                return None;
            }
            rp += 1;
        }
        fields[i] = get_number(&buf, &mut rp, from, to, n)?;
    }
    if rp != buf.len() {
        return None;
    }
    let [year, mon, mday, hour, min, sec] = fields;
    let year = i32::try_from(year).ok()?;
    let naive = NaiveDate::from_ymd_opt(year, mon, 1)?
        .and_hms_opt(0, 0, 0)?
        .checked_add_signed(chrono::TimeDelta::try_days(i64::from(mday) - 1)?)?
        .checked_add_signed(chrono::TimeDelta::try_seconds(
            i64::from(hour) * 3600 + i64::from(min) * 60 + i64::from(sec),
        )?)?;
    let t = if is_utc {
        naive.and_utc().timestamp()
    } else {
        local_to_timestamp(&naive, tz)?
    };
    u64::try_from(t).ok()
}

/// Local wall time → instant in `tz`; earliest instant for a fold, the end
/// of the gap for a non-existent time.
fn local_to_timestamp<Tz: TimeZone>(naive: &NaiveDateTime, tz: &Tz) -> Option<i64> {
    match tz.from_local_datetime(naive) {
        LocalResult::Single(dt) => Some(dt.timestamp()),
        LocalResult::Ambiguous(a, b) => Some(a.timestamp().min(b.timestamp())),
        LocalResult::None => {
            // Smallest instant u whose local wall time is >= naive.
            let base = naive.and_utc().timestamp();
            let local_at = |u: i64| -> Option<NaiveDateTime> {
                let utc = DateTime::from_timestamp(u, 0)?.naive_utc();
                let off = tz.offset_from_utc_datetime(&utc).fix();
                utc.checked_add_signed(chrono::TimeDelta::try_seconds(i64::from(
                    off.local_minus_utc(),
                ))?)
            };
            let (mut lo, mut hi) = (base - 2 * 86400, base + 2 * 86400);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if local_at(mid)? >= *naive {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            Some(hi)
        }
    }
}

/// ssh-keygen -L's `Valid:` text in the local zone ([`chrono::Local`],
/// `TZ` honoured): `sshkey.c: sshkey_format_cert_validity`.
pub fn format_validity(v: &Validity) -> String {
    format_validity_in(v, &chrono::Local)
}

/// `sshkey.c: sshkey_format_cert_validity` in an explicit zone: `forever`
/// (after 0, before 2⁶⁴−1), `before T`, `after T` or `from T to T`, each T
/// as [`format_time_in`].
pub fn format_validity_in<Tz: TimeZone>(v: &Validity, tz: &Tz) -> String {
    let after0 = v.valid_after == 0;
    let forever = v.valid_before == Validity::FOREVER;
    match (after0, forever) {
        (true, true) => "forever".to_owned(),
        (true, false) => format!("before {}", format_time_in(v.valid_before, tz)),
        (false, true) => format!("after {}", format_time_in(v.valid_after, tz)),
        (false, false) => format!(
            "from {} to {}",
            format_time_in(v.valid_after, tz),
            format_time_in(v.valid_before, tz)
        ),
    }
}

/// Seconds in 400 Gregorian years: the calendar (and POSIX TZ rules) repeat.
const CYCLE_400Y: i64 = 146_097 * 86_400;
/// 2400-01-01T00:00:00Z and 2800-01-01T00:00:00Z.
const T2400: i64 = 13_569_465_600;
const T2800: i64 = T2400 + CYCLE_400Y;

/// UTC offset (seconds) of `tz` at instant `t` (`t >= 0`), shifting far
/// future instants into chrono's range by whole 400-year cycles.
fn offset_at<Tz: TimeZone>(t: i64, tz: &Tz) -> i64 {
    let t = if t >= T2800 {
        T2400 + (t - T2400) % CYCLE_400Y
    } else {
        t
    };
    match DateTime::from_timestamp(t, 0) {
        Some(dt) => i64::from(
            tz.offset_from_utc_datetime(&dt.naive_utc())
                .fix()
                .local_minus_utc(),
        ),
        None => 0,
    }
}

/// Days since 1970-01-01 → proleptic Gregorian (year, month, day).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// glibc `strftime` `%Y`: at least 4 characters including a `-` sign.
fn glibc_year(y: i64) -> String {
    if y < 0 {
        format!("-{:03}", y.unsigned_abs())
    } else {
        format!("{y:04}")
    }
}

/// Shared body of `format_absolute_time` for an offset lookup.
fn format_time_with(t: u64, offset: impl Fn(i64) -> i64) -> String {
    // time_t tt = t > SSH_TIME_T_MAX ? SSH_TIME_T_MAX : t;
    let tt = i64::try_from(t).unwrap_or(i64::MAX);
    let local = i128::from(tt) + i128::from(offset(tt));
    let days = local.div_euclid(86_400);
    let rem = local.rem_euclid(86_400) as u32;
    let (hh, mm, ss) = (rem / 3600, rem / 60 % 60, rem % 60);
    // |days| < 2^63 / 86400 + 1, so it fits an i64.
    let days = i64::try_from(days).unwrap_or(i64::MAX / 2);
    let (y, mon, mday) = civil_from_days(days);
    let tm_year = y - 1900;
    if let Ok(tm_year) = i32::try_from(tm_year) {
        format!(
            "{}-{mon:02}-{mday:02}T{hh:02}:{mm:02}:{ss:02}",
            glibc_year(i64::from(tm_year) + 1900)
        )
    } else {
        // localtime_r fails with EOVERFLOW after storing the truncated
        // tm_year and the time of day; month/day stay uninitialised and
        // ssh-keygen 9.2 prints them as observed: "01-00".
        let tm_year = tm_year as i32; // truncation is the point
        format!(
            "{}-01-00T{hh:02}:{mm:02}:{ss:02}",
            glibc_year(i64::from(tm_year) + 1900)
        )
    }
}

/// One instant as `%Y-%m-%dT%H:%M:%S` in `tz`, as `misc.c:
/// format_absolute_time` (`localtime_r` + `strftime`) prints it: values
/// above `i64::MAX` are clamped to it; never panics.
pub fn format_time_in<Tz: TimeZone>(t: u64, tz: &Tz) -> String {
    format_time_with(t, |tt| offset_at(tt, tz))
}

/// [`format_time_in`] in UTC with a `Z` suffix, e.g. `2026-11-23T01:01:04Z`.
pub fn format_time_utc(t: u64) -> String {
    let mut s = format_time_with(t, |_| 0);
    s.push('Z');
    s
}

/// Canonical duration text accepted by [`convtime`] (test helper): largest
/// units first (`1w2d3h4m5s`), `0s` for zero.
#[cfg(test)]
fn format_duration(mut secs: u64) -> String {
    if secs == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    for (unit, len) in [
        ('w', 604_800u64),
        ('d', 86_400),
        ('h', 3_600),
        ('m', 60),
        ('s', 1),
    ] {
        if secs >= len {
            out.push_str(&format!("{}{unit}", secs / len));
            secs %= len;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, MappedLocalTime, NaiveDate, Utc};
    use proptest::prelude::*;

    /// A fixed "now" (2026-11-23T12:35:30Z), not on a minute boundary.
    const N: u64 = 1_795_437_330;
    /// ⌊(N − 59) / 60⌋ · 60
    const M: u64 = (N - 59) / 60 * 60;
    const F: u64 = Validity::FOREVER;

    fn ok(spec: &str) -> (u64, u64) {
        let v = parse_validity_in(spec, N, &Utc).unwrap_or_else(|e| panic!("{spec:?}: {e}"));
        (v.valid_after, v.valid_before)
    }

    fn err(spec: &str) -> String {
        match parse_validity_in(spec, N, &Utc) {
            Ok(v) => panic!("{spec:?} accepted: {v:?}"),
            Err(e) => e.to_string(),
        }
    }

    fn east(h: i32) -> FixedOffset {
        FixedOffset::east_opt(h * 3600).unwrap()
    }

    const _: () = assert!(M.is_multiple_of(60) && N - M >= 59 && N - M < 119);

    // ---- §7.6 valid rows ----

    #[test]
    fn lone_relative_end() {
        assert_eq!(ok("+1h"), (M, N + 3600));
        assert_eq!(ok("+5m"), (M, N + 300));
        assert_eq!(ok("+5M"), (M, N + 300));
        assert_eq!(ok("+0"), (M, N));
        assert_eq!(ok("+90"), (M, N + 90));
        assert_eq!(ok("+1h30m"), (M, N + 5400));
        assert_eq!(ok("+2w3d"), (M, N + 1_468_800));
        assert_eq!(ok("+1D2W"), (M, N + 1_296_000));
        assert_eq!(ok("+1h30"), (M, N + 3630));
        assert_eq!(ok("+5s3s"), (M, N + 8));
        assert_eq!(ok("++5m"), (M, N + 300));
        assert_eq!(ok("+5m+3s"), (M, N + 303));
        assert_eq!(ok("+3550w"), (M, N + 2_147_040_000));
        assert_eq!(ok("+2147483647"), (M, N + 2_147_483_647));
    }

    #[test]
    fn lone_relative_strtol_quirks() {
        assert_eq!(ok("+-0"), (M, N));
        assert_eq!(ok("+ 5"), (M, N + 5));
        assert_eq!(ok("+\t5m"), (M, N + 300));
        assert_eq!(ok("+ -0m"), (M, N));
    }

    #[test]
    fn lone_relative_floor_near_epoch_uses_c_division() {
        // ((now - 59) / 60) * 60 truncates toward zero for now < 59.
        let v = parse_validity_in("+1h", 30, &Utc).unwrap();
        assert_eq!((v.valid_after, v.valid_before), (0, 3630));
        let v = parse_validity_in("+1h", 119, &Utc).unwrap();
        assert_eq!(v.valid_after, 60);
    }

    #[test]
    fn relative_pairs() {
        assert_eq!(ok("-5m:+60m"), (N - 300, N + 3600));
        assert_eq!(ok("-5m:+5m"), (N - 300, N + 300));
        assert_eq!(ok("+5m:+10m"), (N + 300, N + 600));
        assert_eq!(ok("-0:+1s"), (N, N + 1));
    }

    #[test]
    fn always_forever() {
        assert_eq!(ok("always:forever"), (0, F));
        assert_eq!(ok("always:+1h"), (0, N + 3600));
        assert_eq!(ok("-1h:forever"), (N - 3600, F));
    }

    #[test]
    fn absolute_utc_zone() {
        assert_eq!(ok("20261122:20261123"), (1_795_305_600, 1_795_392_000));
        assert_eq!(
            ok("202611220000:202611221430"),
            (1_795_305_600, 1_795_357_800)
        );
        assert_eq!(
            ok("20261122000000Z:20261123000000Z"),
            (1_795_305_600, 1_795_392_000)
        );
        assert_eq!(ok("20261122Z:20261123utc"), (1_795_305_600, 1_795_392_000));
        assert_eq!(
            ok("20261122120000UTC:20261123Utc"),
            (1_795_348_800, 1_795_392_000)
        );
        assert_eq!(ok("+1h:20261201"), (N + 3600, 1_796_083_200));
        assert_eq!(ok("20260231:20260401"), (1_772_496_000, 1_775_001_600));
    }

    #[test]
    fn absolute_strptime_ranges_and_normalisation() {
        // %S accepts 60 and 61 (normalised), %H stops at 23, %M at 59.
        assert_eq!(ok("20261122235960:forever").0, 1_795_392_000);
        assert_eq!(ok("20261122235961:forever").0, 1_795_392_001);
        assert_eq!(ok("20261131:forever").0, 1_796_083_200);
        assert_eq!(ok("19700101Z:forever").0, 0);
        assert_eq!(ok("19691231235960Z:forever").0, 0);
        assert_eq!(ok("99991231:forever").0, 253_402_214_400);
        // glibc strptime skips blanks before a number.
        assert_eq!(ok("2026 122:forever").0, 1_769_040_000);
        assert_eq!(ok("20261122 123:forever").0, 1_795_305_600 + 3600 + 23 * 60);
    }

    #[test]
    fn hex() {
        assert_eq!(ok("0x0:0x10"), (0, 16));
        assert_eq!(ok("0x10:0xffffffffffffffff"), (16, F));
        assert_eq!(ok("0xFF:forever"), (255, F));
        assert_eq!(ok("0x00000000000000000001:forever"), (1, F));
    }

    #[test]
    fn local_zone_examples() {
        // TZ=America/New_York in winter: EST.
        let v = parse_validity_in("20261122:20261123", N, &east(-5)).unwrap();
        assert_eq!(
            (v.valid_after, v.valid_before),
            (1_795_323_600, 1_795_410_000)
        );
        // Z/UTC are zone independent; Berlin summer prints 02:00 local.
        let v = parse_validity_in("20260701Z:20260702Z", N, &east(2)).unwrap();
        assert_eq!(
            (v.valid_after, v.valid_before),
            (1_782_864_000, 1_782_950_400)
        );
        assert_eq!(
            format_validity_in(&v, &east(2)),
            "from 2026-07-01T02:00:00 to 2026-07-02T02:00:00"
        );
        // The DST quirk is NOT reproduced: Berlin summer midnight is 22:00Z
        // the day before (ssh-keygen says 1782860400, one hour later).
        let v = parse_validity_in("20260701:forever", N, &east(2)).unwrap();
        assert_eq!(v.valid_after, 1_782_856_800);
        // 19700101 east of UTC is before the epoch; west of it is not.
        assert_eq!(
            parse_validity_in("19700101:forever", N, &east(1)).unwrap_err(),
            ValidityError::InvalidFromTime("19700101".into())
        );
        assert_eq!(
            parse_validity_in("19700101:forever", N, &east(-5))
                .unwrap()
                .valid_after,
            18000
        );
        let kolkata = FixedOffset::east_opt(19800).unwrap();
        assert_eq!(
            parse_validity_in("19700101053000:forever", N, &kolkata)
                .unwrap()
                .valid_after,
            0
        );
    }

    // ---- §7.6 rejections ----

    #[test]
    fn rejections_life_specification() {
        assert_eq!(err(""), "Invalid certificate life specification ");
        for s in [
            "-5m", "20261122", "forever", "always", "+1h:", ":+1h", " +5m", ":",
        ] {
            assert_eq!(
                err(s),
                format!("Invalid certificate life specification {s}")
            );
        }
        assert_eq!(
            parse_validity_in("+1h\0:x", N, &Utc).unwrap_err(),
            ValidityError::InvalidLifeSpec("+1h\0:x".into())
        );
    }

    #[test]
    fn rejections_relative_life() {
        for s in [
            "+",
            "+1x",
            "+1.5h",
            "+m",
            "+30 m",
            "+5m ",
            "+-5m",
            "+0x10",
            "+3551w",
            "+2147483648",
            "+99999999999999999999",
            "+1m+",
            "+5 s",
            "+1h\n",
            "+1hé",
        ] {
            assert_eq!(err(s), format!("Invalid relative certificate life {s}"));
            assert_eq!(
                parse_validity_in(s, N, &Utc).unwrap_err(),
                ValidityError::InvalidRelativeLife(s.into())
            );
        }
    }

    #[test]
    fn rejections_relative_time() {
        assert_eq!(
            err("-5m:+5m:+6m"),
            "Invalid relative certificate time +5m:+6m"
        );
        assert_eq!(
            err("-60000w:+1h"),
            "Invalid relative certificate time -60000w"
        );
        assert_eq!(err("+1h:-x"), "Invalid relative certificate time -x");
        assert_eq!(
            err("-2000000000:+1h"),
            "Certificate time -2000000000 cannot be represented"
        );
        assert_eq!(
            parse_validity_in("+1h:+1h", u64::MAX - 10, &Utc).unwrap_err(),
            ValidityError::NotRepresentable("+1h".into())
        );
        assert_eq!(
            parse_validity_in("+1h", u64::MAX - 10, &Utc).unwrap_err(),
            ValidityError::NotRepresentable("+1h".into())
        );
    }

    #[test]
    fn rejections_empty_interval() {
        for s in [
            "+1h:-1h",
            "+5m:+5m",
            "-0:+0",
            "-0:+-0",
            "20260231:20260301",
            "0xffffffffffffffff:forever",
            "20261122:20261122",
        ] {
            assert_eq!(err(s), "Empty certificate validity interval", "{s}");
        }
        assert_eq!(
            parse_validity_in("+1h:-1h", N, &Utc).unwrap_err(),
            ValidityError::EmptyInterval {
                valid_after: N + 3600,
                valid_before: N - 3600
            }
        );
    }

    #[test]
    fn rejections_from_and_to() {
        for from in [
            "forever",
            "Always",
            "0",
            "20261301",
            "2026112",
            "20261122123",
            "19691231",
            "0X10",
            "20261122T1200",
            "Z",
            "UTC",
            "uTc",
            "ZZ",
            "202611222400",
            "20261122235962",
            "202611222360",
            "2026112 ",
            "20261122 UTC",
            "20260100",
            "00000000",
            "20263101",
            "20260140",
            "2026-1-1",
            "19691231235959Z",
            "2026112é",
        ] {
            let spec = format!("{from}:+1h");
            assert_eq!(err(&spec), format!("Invalid from time \"{from}\""));
        }
        assert_eq!(err("forever:always"), "Invalid from time \"forever\"");
        assert_eq!(err("always:FOREVER"), "Invalid to time \"FOREVER\"");
        assert_eq!(err("always:2026"), "Invalid to time \"2026\"");
        assert_eq!(
            parse_validity_in("always:x", N, &Utc).unwrap_err(),
            ValidityError::InvalidToTime("x".into())
        );
    }

    #[test]
    fn rejections_hex() {
        for s in [
            "0x:0x10",
            "0x 10:0x20",
            "0x+10:0x20",
            "0x-1:0x20",
            "0x10:0x-1",
            "0x10:0x 20",
            "0x0x10:forever",
            "0x1g:forever",
            "0x1ffffffffffffffffz:forever",
        ] {
            assert_eq!(err(s), "Invalid certificate time: not a number", "{s}");
        }
        assert_eq!(
            err("0x10:0x1ffffffffffffffff"),
            "parse_hex_u64: Invalid certificate time: Numerical result out of range"
        );
        assert_eq!(
            parse_validity_in("0x10:0x10000000000000000", N, &Utc).unwrap_err(),
            ValidityError::HexOutOfRange("0x10000000000000000".into())
        );
    }

    // ---- convtime ----

    #[test]
    fn convtime_rows() {
        assert_eq!(convtime("1h30m"), Some(5400));
        assert_eq!(convtime("1h1h"), Some(7200));
        assert_eq!(convtime("+5m"), Some(300));
        assert_eq!(convtime("-0"), Some(0));
        assert_eq!(convtime(" \t\n\x0b\x0c\r7"), Some(7));
        assert_eq!(convtime("2147483647"), Some(2_147_483_647));
        assert_eq!(convtime("2147483600s47"), Some(2_147_483_647));
        assert_eq!(convtime("2147483600s48"), None);
        assert_eq!(convtime("3550w"), Some(2_147_040_000));
        assert_eq!(convtime("3551w"), None);
        assert_eq!(convtime("35791394m"), Some(2_147_483_640));
        assert_eq!(convtime("35791395m"), None);
        for bad in [
            "",
            "-1",
            "- 1",
            "5x",
            "1.5",
            "5 ",
            "s",
            "0x1",
            "9999999999999999999999",
        ] {
            assert_eq!(convtime(bad), None, "{bad:?}");
        }
    }

    // ---- printing ----

    #[test]
    fn format_rows() {
        let f = |a, b| {
            format_validity_in(
                &Validity {
                    valid_after: a,
                    valid_before: b,
                },
                &Utc,
            )
        };
        assert_eq!(f(0, F), "forever");
        assert_eq!(f(0, 16), "before 1970-01-01T00:00:16");
        assert_eq!(f(16, F), "after 1970-01-01T00:00:16");
        assert_eq!(
            f(1_795_305_600, 1_795_392_000),
            "from 2026-11-22T00:00:00 to 2026-11-23T00:00:00"
        );
        assert_eq!(
            f(0xffff_ffff_ffff_fffe, F),
            "after 219250468-01-00T15:30:07"
        );
        assert_eq!(
            format_validity_in(
                &Validity {
                    valid_after: 1_795_305_600,
                    valid_before: 1_795_392_000
                },
                &east(-5)
            ),
            "from 2026-11-21T19:00:00 to 2026-11-22T19:00:00"
        );
    }

    #[test]
    fn format_time_extremes() {
        assert_eq!(format_time_utc(1_795_395_664), "2026-11-23T01:01:04Z");
        assert_eq!(format_time_in(0, &east(-5)), "1969-12-31T19:00:00");
        // Values observed from ssh-keygen 9.2 -L (TZ=UTC / America/New_York).
        assert_eq!(
            format_time_in(0x1000_0000_0000, &Utc),
            "559444-03-08T09:40:16"
        );
        assert_eq!(
            format_time_in(0xeff_ffff_ffff, &east(-5)),
            "524602-01-18T04:03:59"
        );
        assert_eq!(
            format_time_in(0xb000_0000_0000, &Utc),
            "6134186-01-06T10:22:56"
        );
        assert_eq!(
            format_time_in(0x00ff_0000_0000_0000, &Utc),
            "-2020470659-01-00T02:08:00"
        );
        assert_eq!(
            format_time_in(i64::MAX as u64, &east(-5)),
            "219250468-01-00T10:30:07"
        );
        assert_eq!(format_time_in(u64::MAX, &Utc), "219250468-01-00T15:30:07");
        assert_eq!(format_time_utc(u64::MAX), "219250468-01-00T15:30:07Z");
        assert_eq!(glibc_year(-50), "-050");
        assert_eq!(glibc_year(-123456), "-123456");
        assert_eq!(glibc_year(7), "0007");
    }

    #[test]
    fn lifetime_and_open_ends() {
        let v = Validity {
            valid_after: 10,
            valid_before: 70,
        };
        assert_eq!(v.lifetime(), Some(60));
        assert!(!v.is_open_ended());
        for (a, b) in [(0, 70), (10, F), (0, F)] {
            let v = Validity {
                valid_after: a,
                valid_before: b,
            };
            assert_eq!(v.lifetime(), None);
            assert!(v.is_open_ended());
        }
        let inverted = Validity {
            valid_after: 70,
            valid_before: 10,
        };
        assert_eq!(inverted.lifetime(), None);
    }

    // ---- DST gap and fold, with a toy zone ----

    /// UTC−5 with "summer" UTC−4 from `START` (inclusive) to `END`
    /// (exclusive): New York's 2026 rules (Mar 8 07:00Z, Nov 1 06:00Z).
    #[derive(Clone, Copy, Debug)]
    struct ToyNewYork;
    const START: i64 = 1_772_953_200;
    const END: i64 = 1_793_512_800;

    impl ToyNewYork {
        fn at(t: i64) -> FixedOffset {
            east(if (START..END).contains(&t) { -4 } else { -5 })
        }
    }

    impl TimeZone for ToyNewYork {
        type Offset = FixedOffset;
        fn from_offset(_: &FixedOffset) -> Self {
            ToyNewYork
        }
        fn offset_from_local_date(&self, d: &NaiveDate) -> MappedLocalTime<FixedOffset> {
            self.offset_from_local_datetime(&d.and_time(chrono::NaiveTime::MIN))
        }
        fn offset_from_local_datetime(&self, l: &NaiveDateTime) -> MappedLocalTime<FixedOffset> {
            let cands: Vec<FixedOffset> = [east(-4), east(-5)]
                .into_iter()
                .filter(|o| {
                    let t = l.and_utc().timestamp() - i64::from(o.local_minus_utc());
                    Self::at(t) == *o
                })
                .collect();
            match cands[..] {
                [] => MappedLocalTime::None,
                [o] => MappedLocalTime::Single(o),
                [a, b] => MappedLocalTime::Ambiguous(a, b),
                _ => unreachable!(),
            }
        }
        fn offset_from_utc_date(&self, d: &NaiveDate) -> FixedOffset {
            self.offset_from_utc_datetime(&d.and_time(chrono::NaiveTime::MIN))
        }
        fn offset_from_utc_datetime(&self, u: &NaiveDateTime) -> FixedOffset {
            Self::at(u.and_utc().timestamp())
        }
    }

    #[test]
    fn dst_summer_uses_real_offset() {
        let v = parse_validity_in("20260701:20261201", N, &ToyNewYork).unwrap();
        assert_eq!(v.valid_after, 1_782_878_400); // 04:00Z (ssh-keygen: 05:00Z)
        assert_eq!(v.valid_before, 1_796_101_200); // 05:00Z, winter
        assert_eq!(
            format_validity_in(&v, &ToyNewYork),
            "from 2026-07-01T00:00:00 to 2026-12-01T00:00:00"
        );
    }

    #[test]
    fn dst_gap_gives_end_of_gap() {
        // 2026-03-08 02:30 does not exist in New York: 03:00 EDT = 07:00Z.
        let v = parse_validity_in("202603080230:forever", N, &ToyNewYork).unwrap();
        assert_eq!(v.valid_after, START as u64);
        let v = parse_validity_in("20260308020000:forever", N, &ToyNewYork).unwrap();
        assert_eq!(v.valid_after, START as u64);
        // 01:59:59 EST still exists, just before the gap.
        let v = parse_validity_in("20260308015959:forever", N, &ToyNewYork).unwrap();
        assert_eq!(v.valid_after, START as u64 - 1);
        let v = parse_validity_in("20260308030000:forever", N, &ToyNewYork).unwrap();
        assert_eq!(v.valid_after, START as u64);
    }

    #[test]
    fn dst_fold_gives_earlier_instant() {
        // 2026-11-01 01:30 happens twice: 05:30Z (EDT) and 06:30Z (EST).
        let v = parse_validity_in("202611010130:forever", N, &ToyNewYork).unwrap();
        assert_eq!(v.valid_after, END as u64 - 1800);
    }

    // ---- properties ----

    fn format_duration_checked(n: u64) -> String {
        let s = format_duration(n);
        assert!(s
            .bytes()
            .all(|c| c.is_ascii_digit() || b"wdhms".contains(&c)));
        s
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn never_panics_on_any_string(s in any::<String>(), now in any::<u64>()) {
            let _ = parse_validity_in(&s, now, &Utc);
            let _ = parse_validity_in(&s, now, &east(-5));
            let _ = parse_validity_in(&s, now, &ToyNewYork);
            let _ = convtime(&s);
        }

        #[test]
        fn never_panics_on_grammar_strings(
            s in "[-+:0123456789smhdwSMHDWxZUTCalwysforev \t]{0,24}",
            now in prop_oneof![Just(N), Just(0u64), Just(u64::MAX), any::<u64>()],
        ) {
            if let Ok(v) = parse_validity_in(&s, now, &ToyNewYork) {
                let _ = format_validity_in(&v, &ToyNewYork);
            }
            let _ = parse_validity_in(&s, now, &Utc);
        }

        #[test]
        fn never_panics_on_date_like_strings(
            s in "[0-9 ]{8,14}(Z|UTC|utc|z)?",
            tz in -12i32..=14,
        ) {
            let spec = format!("{s}:forever");
            let _ = parse_validity_in(&spec, N, &east(tz));
            let _ = parse_validity_in(&spec, N, &ToyNewYork);
        }

        #[test]
        fn formatting_never_panics(t in any::<u64>(), off in -86_399i32..=86_399) {
            let tz = FixedOffset::east_opt(off).unwrap();
            let s = format_time_in(t, &tz);
            prop_assert!(s.contains('T'));
            let _ = format_time_in(t, &ToyNewYork);
            let _ = format_time_utc(t);
            let _ = format_validity_in(&Validity { valid_after: t, valid_before: t / 2 }, &tz);
        }

        #[test]
        fn relative_pairs_round_trip(a in 0u64..=2_147_483_647, b in 0u64..=2_147_483_647) {
            let now = 3_000_000_000u64;
            let r = parse_validity_in(&format!("-{a}s:+{b}s"), now, &Utc);
            if a == 0 && b == 0 {
                prop_assert!(r.is_err());
            } else {
                prop_assert_eq!(r, Ok(Validity { valid_after: now - a, valid_before: now + b }));
            }
            let r = parse_validity_in(
                &format!("-{}:+{}", format_duration(a), format_duration(b)), now, &Utc);
            prop_assert_eq!(r.is_ok(), a != 0 || b != 0);
        }

        #[test]
        fn unit_combinations_round_trip(
            w in 0u64..3000, d in 0u64..7, h in 0u64..24, m in 0u64..60, s in 0u64..60,
            upper in any::<bool>(),
        ) {
            let total = w * 604_800 + d * 86_400 + h * 3600 + m * 60 + s;
            let mut spec = format!("+{w}w{d}d{h}h{m}m{s}s");
            if upper {
                spec = spec.to_uppercase();
            }
            prop_assert_eq!(ok(&spec), (M, N + total));
            // trailing bare number = seconds, units in any order
            prop_assert_eq!(convtime(&format!("{s}s{m}m{h}h{d}d{w}w")), Some(total));
            prop_assert_eq!(convtime(&format!("{m}m{s}")), Some(m * 60 + s));
        }

        #[test]
        fn convtime_format_duration_round_trip(n in 0u64..=2_147_483_647) {
            prop_assert_eq!(convtime(&format_duration_checked(n)), Some(n));
        }

        #[test]
        fn convtime_rejects_above_int_max(n in 2_147_483_648u64..=u64::MAX / 2) {
            prop_assert_eq!(convtime(&n.to_string()), None);
            prop_assert_eq!(convtime(&format_duration(n)), None);
        }

        #[test]
        fn utc_dates_match_chrono(
            y in 1970i32..=9999, mo in 1u32..=12, d in 1u32..=28,
            h in 0u32..24, mi in 0u32..60, s in 0u32..60,
        ) {
            let spec = format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z:forever");
            let want = NaiveDate::from_ymd_opt(y, mo, d).unwrap()
                .and_hms_opt(h, mi, s).unwrap().and_utc().timestamp() as u64;
            prop_assert_eq!(ok(&spec).0, want);
            prop_assert_eq!(
                format_time_utc(want),
                format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
            );
        }
    }
}
