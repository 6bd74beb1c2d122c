//! A CA's revoked serials as disjoint ranges, merged as `krl.c` merges them.

use std::collections::BTreeMap;

/// Serials as disjoint, non-adjacent inclusive ranges (`revoked_serial_tree`; ranges that touch
/// or overlap are merged as `insert_serial_range` does).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SerialSet {
    ranges: BTreeMap<u64, u64>,
}

impl SerialSet {
    /// Adds `lo..=hi` (needs `lo <= hi`), merging with neighbours. Returns how many ranges the
    /// set holds now minus before (may be negative when ranges merge).
    pub fn insert(&mut self, lo: u64, hi: u64) -> isize {
        debug_assert!(lo <= hi);
        // Fast path for specs in ascending order: at or past the last range.
        if let Some(mut last) = self.ranges.last_entry() {
            let (s, e) = (*last.key(), *last.get());
            if lo > s {
                if lo <= e.saturating_add(1) {
                    if hi > e {
                        *last.get_mut() = hi;
                    }
                    return 0;
                }
                self.ranges.insert(lo, hi);
                return 1;
            }
        }
        let before = self.ranges.len() as isize;
        let (mut lo, mut hi) = (lo, hi);
        // Every range that overlaps or abuts [lo, hi] starts at or before hi+1 and ends at or
        // after lo-1; they sit just below hi+1 in start order.
        let reach = hi.saturating_add(1);
        let mut absorbed = Vec::new();
        for (&s, &e) in self.ranges.range(..=reach).rev() {
            if e.saturating_add(1) < lo {
                break;
            }
            absorbed.push(s);
            lo = lo.min(s);
            hi = hi.max(e);
        }
        for s in absorbed {
            self.ranges.remove(&s);
        }
        self.ranges.insert(lo, hi);
        self.ranges.len() as isize - before
    }

    /// True if `serial` is in the set.
    pub fn contains(&self, serial: u64) -> bool {
        self.ranges
            .range(..=serial)
            .next_back()
            .is_some_and(|(_, &e)| serial <= e)
    }

    /// The ranges in ascending order, as `(lo, hi)` inclusive.
    pub fn ranges(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.ranges.iter().map(|(&s, &e)| (s, e))
    }

    /// Number of ranges.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// True when no serial is revoked.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }
}

/// True when `lo..=hi` is already inside one range of `set`.
pub(super) fn covers(set: &SerialSet, lo: u64, hi: u64) -> bool {
    set.ranges
        .range(..=lo)
        .next_back()
        .is_some_and(|(_, &e)| hi <= e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ranges_merge_when_they_touch_or_overlap() {
        let mut s = SerialSet::default();
        s.insert(10, 20);
        s.insert(30, 40);
        assert_eq!(s.ranges().collect::<Vec<_>>(), vec![(10, 20), (30, 40)]);
        s.insert(21, 29);
        assert_eq!(s.ranges().collect::<Vec<_>>(), vec![(10, 40)]);
        s.insert(5, 9);
        s.insert(41, 41);
        s.insert(100, u64::MAX);
        s.insert(50, 200);
        assert_eq!(
            s.ranges().collect::<Vec<_>>(),
            vec![(5, 41), (50, u64::MAX)]
        );
        assert!(s.contains(5) && s.contains(41) && !s.contains(42) && s.contains(u64::MAX));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn serial_membership_matches_a_naive_set(ranges in proptest::collection::vec((1u64..400, 0u64..20), 0..40), probe in 0u64..450) {
            let mut s = SerialSet::default();
            let mut naive = std::collections::BTreeSet::new();
            for (lo, len) in &ranges {
                s.insert(*lo, lo + len);
                naive.extend(*lo..=lo + len);
            }
            prop_assert_eq!(s.contains(probe), naive.contains(&probe));
            let ranges: Vec<_> = s.ranges().collect();
            for w in ranges.windows(2) {
                prop_assert!(w[0].1 + 1 < w[1].0, "ranges touch: {:?}", w);
            }
        }
    }
}
