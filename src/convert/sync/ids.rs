//! The set of finding ids written so far, at bits rather than words per id.
//!
//! Sync-back must write a finding that DefectDojo lists twice (offsets shift while
//! it deduplicates) only once, so it remembers every id it wrote. A `HashSet<u64>`
//! costs about 18 bytes per id and doubles as it grows: 19 MB at a million findings,
//! more than the rest of a run together. Ids of one test are mostly consecutive (one
//! import creates them together), so this set keeps them in chunks of 65,536 ids: a
//! sorted list of 16-bit offsets while a chunk is sparse (2 bytes per id), a bitmap
//! of 8 KiB once it holds more than 4,096 (under 2 bits per id when dense), the
//! scheme of Roaring bitmaps. A million consecutive ids take 128 KiB.

/// Offsets a sparse chunk holds before it becomes a bitmap of the same size.
const DENSE_ABOVE: usize = 4096;

enum Chunk {
    /// Sorted, distinct offsets.
    Sparse(Vec<u16>),
    /// One bit per offset.
    Dense(Box<[u64; 1024]>),
}

/// A set of `u64` ids (see the module docs).
#[derive(Default)]
pub(crate) struct IdSet {
    /// Chunks by `id >> 16`, sorted.
    chunks: Vec<(u64, Chunk)>,
    len: u64,
}

impl IdSet {
    /// Adds `id`; `false` if it was there already.
    pub fn insert(&mut self, id: u64) -> bool {
        let (key, offset) = (id >> 16, (id & 0xFFFF) as u16);
        let at = match self.chunks.binary_search_by_key(&key, |(k, _)| *k) {
            Ok(at) => at,
            Err(at) => {
                self.chunks.insert(at, (key, Chunk::Sparse(Vec::new())));
                at
            }
        };
        let chunk = &mut self.chunks[at].1;
        let added = match chunk {
            Chunk::Sparse(offsets) => match offsets.binary_search(&offset) {
                Ok(_) => false,
                Err(pos) => {
                    offsets.insert(pos, offset);
                    if offsets.len() > DENSE_ABOVE {
                        let mut bits = Box::new([0u64; 1024]);
                        for &o in offsets.iter() {
                            bits[usize::from(o) / 64] |= 1 << (o % 64);
                        }
                        *chunk = Chunk::Dense(bits);
                    }
                    true
                }
            },
            Chunk::Dense(bits) => {
                let (word, bit) = (usize::from(offset) / 64, offset % 64);
                let was = bits[word] & (1 << bit) != 0;
                bits[word] |= 1 << bit;
                !was
            }
        };
        self.len += u64::from(added);
        added
    }

    /// Whether `id` is in the set.
    pub fn contains(&self, id: u64) -> bool {
        let (key, offset) = (id >> 16, (id & 0xFFFF) as u16);
        match self.chunks.binary_search_by_key(&key, |(k, _)| *k) {
            Err(_) => false,
            Ok(at) => match &self.chunks[at].1 {
                Chunk::Sparse(offsets) => offsets.binary_search(&offset).is_ok(),
                Chunk::Dense(bits) => bits[usize::from(offset) / 64] & (1 << (offset % 64)) != 0,
            },
        }
    }

    /// Number of ids.
    #[cfg(test)]
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Bytes held on the heap (to check that memory stays small).
    #[cfg(test)]
    pub fn heap_bytes(&self) -> usize {
        let chunks = self.chunks.capacity() * std::mem::size_of::<(u64, Chunk)>();
        let inner: usize = self
            .chunks
            .iter()
            .map(|(_, c)| match c {
                Chunk::Sparse(offsets) => offsets.capacity() * 2,
                Chunk::Dense(_) => 8 * 1024,
            })
            .sum();
        chunks + inner
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn behaves_like_a_hash_set() {
        let mut ours = IdSet::default();
        let mut std = HashSet::new();
        // consecutive, shuffled, repeated, sparse and huge ids
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut ids: Vec<u64> = (1_000_000..1_010_000).collect();
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ids.push(match x % 4 {
                0 => 1_000_000 + x % 20_000,
                1 => x % 10_000_000,
                2 => x,
                _ => x % 300,
            });
        }
        for id in ids {
            assert_eq!(ours.insert(id), std.insert(id), "{id}");
        }
        assert_eq!(ours.len(), std.len() as u64);
        for id in &std {
            assert!(ours.contains(*id));
        }
        assert!(!ours.contains(999_999) || std.contains(&999_999));
        assert!(!ours.contains(u64::MAX - 1) || std.contains(&(u64::MAX - 1)));
    }

    #[test]
    fn a_million_consecutive_ids_in_a_few_hundred_kib() {
        let mut set = IdSet::default();
        // in the order DefectDojo pages them: not by id
        for block in (0..4000u64).rev() {
            for i in 0..250 {
                assert!(set.insert(20_000_000 + i * 4000 + block));
            }
        }
        assert_eq!(set.len(), 1_000_000);
        assert!(!set.insert(20_000_000 + 123_456));
        assert!(set.heap_bytes() < 256 * 1024, "{} bytes", set.heap_bytes());
    }
}
