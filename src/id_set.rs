//! A compact set of record ids.

use std::collections::HashSet;

/// A set of record ids: a bitmap for the dense id range Discogs uses, a hash set for the
/// rare id outside it. 40 M ids take 5 MB.
#[derive(Debug, Default)]
pub struct IdSet {
    bits: Vec<u64>,
    other: HashSet<i64>,
}

/// Ids below this go in the bitmap (Discogs ids are below 40 M today); a stray huge id then costs
/// at most 32 MiB of bitmap, not gigabytes.
const DENSE_LIMIT: i64 = 1 << 28;

impl IdSet {
    /// Adds `id`; returns whether it was new.
    pub fn insert(&mut self, id: i64) -> bool {
        if !(0..DENSE_LIMIT).contains(&id) {
            return self.other.insert(id);
        }
        let (word, bit) = ((id / 64) as usize, id % 64);
        if word >= self.bits.len() {
            self.bits.resize((word + 1).next_power_of_two(), 0);
        }
        let mask = 1u64 << bit;
        let new = self.bits[word] & mask == 0;
        self.bits[word] |= mask;
        new
    }

    pub fn contains(&self, id: i64) -> bool {
        if !(0..DENSE_LIMIT).contains(&id) {
            return self.other.contains(&id);
        }
        self.bits
            .get((id / 64) as usize)
            .is_some_and(|word| word & (1u64 << (id % 64)) != 0)
    }

    /// The ids, those of the bitmap in ascending order first.
    pub fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        let dense = self.bits.iter().enumerate().flat_map(|(word, &bits)| {
            (0..64)
                .filter(move |bit| bits & (1u64 << bit) != 0)
                .map(move |bit| word as i64 * 64 + bit)
        });
        dense.chain(self.other.iter().copied())
    }
}

#[cfg(test)]
mod tests {
    use super::IdSet;

    #[test]
    fn id_set_remembers_dense_and_outlying_ids() {
        let mut set = IdSet::default();
        assert!(set.insert(0));
        assert!(set.insert(35_000_000));
        assert!(!set.insert(35_000_000));
        assert!(set.insert(4_000_000_000));
        assert!(set.insert(-5));
        assert!(set.insert(1 << 40));
        for id in [0, 35_000_000, 4_000_000_000, -5, 1 << 40] {
            assert!(set.contains(id), "{id}");
        }
        for id in [1, 34_999_999, 64, -4, (1 << 40) + 1] {
            assert!(!set.contains(id), "{id}");
        }
        let mut ids: Vec<i64> = set.iter().collect();
        ids.sort_unstable();
        assert_eq!(ids, [-5, 0, 35_000_000, 4_000_000_000, 1 << 40]);
        let words_up_to_35m = (35_000_000 / 64 + 1usize).next_power_of_two();
        assert_eq!(
            set.bits.len(),
            words_up_to_35m,
            "outliers stay out of the bitmap"
        );
    }
}
