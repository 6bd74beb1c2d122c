//! Lifetimes that are surely typos. In ssh-keygen's `-V` grammar a number without a unit is
//! seconds, so `-V +60` silently makes a certificate that dies in a minute. The grammar stays
//! (`+30s` and `-1m:+4s` just work, second-lived certificates are first-class); only a spec with
//! a *bare* number giving under [`BARE_MINIMUM`] needs a yes on a terminal, and is refused off
//! one, suggesting the spec with the unit written out.

use crate::ssh::validity::Validity;

/// A lifetime under this, from a spec with a bare number, is treated as a probable typo.
pub const BARE_MINIMUM: u64 = 5 * 60;

/// True when a relative part of `spec` (`+N…`/`-N…`) ends in a number without a unit (zero,
/// as in `-0:+4s`, is zero in every unit and does not count).
pub fn has_bare_number(spec: &str) -> bool {
    spec.split(':')
        .filter(|p| p.starts_with(['+', '-']))
        .filter(|p| !p[1..].bytes().all(|b| b == b'0'))
        .any(|p| p.ends_with(|c: char| c.is_ascii_digit()))
}

/// The spec with `unit` written after every bare number of its relative parts.
pub fn with_unit(spec: &str, unit: char) -> String {
    spec.split(':')
        .map(|p| {
            if p.starts_with(['+', '-']) && p.ends_with(|c: char| c.is_ascii_digit()) {
                format!("{p}{unit}")
            } else {
                p.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(":")
}

/// The time `v` leaves from `now` when `spec` looks like a typo (a bare number, and under
/// [`BARE_MINIMUM`] to use: `-5m:+60` is six minutes long but good for one).
pub fn suspicious(spec: &str, v: &Validity, now: u64) -> Option<u64> {
    if v.is_open_ended() || !has_bare_number(spec) {
        return None;
    }
    let usable = v.valid_before.saturating_sub(v.valid_after.max(now));
    (usable < BARE_MINIMUM).then_some(usable)
}

/// Every unit, zeros left out: `1d 40s`, `2h 5m`, `0s` (the policy message must not round).
pub fn exact(secs: u64) -> String {
    let parts = [
        (secs / 86400, "d"),
        (secs / 3600 % 24, "h"),
        (secs / 60 % 60, "m"),
        (secs % 60, "s"),
    ];
    let text: Vec<String> = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, u)| format!("{n}{u}"))
        .collect();
    if text.is_empty() {
        "0s".into()
    } else {
        text.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_numbers_are_spotted_and_given_units() {
        for s in ["+60", "-5m:+60", "-5:+60m", "+1h30"] {
            assert!(has_bare_number(s), "{s}");
        }
        for s in [
            "-0:+4s",
            "+0:+1h",
            "+60s",
            "-1m:+4s",
            "+60m",
            "20261122:20261123",
            "always:forever",
            "-5m:+1h",
        ] {
            assert!(!has_bare_number(s), "{s}");
        }
        assert_eq!(with_unit("+60", 'm'), "+60m");
        assert_eq!(with_unit("-5m:+60", 's'), "-5m:+60s");
    }

    #[test]
    fn short_bare_lifetimes_are_suspicious_long_ones_not() {
        let v = |a, b| Validity {
            valid_after: a,
            valid_before: b,
        };
        assert_eq!(suspicious("+60", &v(940, 1060), 1000), Some(60));
        assert_eq!(suspicious("-5m:+60", &v(700, 1060), 1000), Some(60));
        assert_eq!(suspicious("+600", &v(940, 1600), 1000), None);
        assert_eq!(suspicious("+60s", &v(940, 1060), 1000), None);
    }

    #[test]
    fn exact_durations_keep_every_unit() {
        assert_eq!(exact(86440), "1d 40s");
        assert_eq!(exact(0), "0s");
        assert_eq!(exact(3600 * 26 + 61), "1d 2h 1m 1s");
    }
}
