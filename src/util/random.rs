//! The one source of random bits: run ids, multipart boundaries, spool file
//! names and retry jitter.
//!
//! No RNG crate: the standard library already seeds the keys of its hash
//! maps from the operating system (`RandomState`), and every `RandomState`
//! it hands out has new keys, so hashing the clock with one gives 64 bits no
//! one outside the process can predict. Good enough for names that must not
//! collide or be planted, and for spreading retries; never for secrets.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{SystemTime, UNIX_EPOCH};

/// 64 unpredictable bits, different on every call.
pub fn bits() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.finish()
}

/// A number in [0, 1).
pub fn fraction() -> f64 {
    // The top 53 bits: exactly what an f64 holds below 1.
    (bits() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_call_differs() {
        let seen: HashSet<u64> = (0..10_000).map(|_| bits()).collect();
        assert_eq!(seen.len(), 10_000);
    }

    #[test]
    fn fractions_spread_over_zero_to_one() {
        let values: Vec<f64> = (0..10_000).map(|_| fraction()).collect();
        assert!(values.iter().all(|v| (0.0..1.0).contains(v)));
        // Each tenth of the range gets its share (1,000 expected).
        for tenth in 0..10 {
            let n = values
                .iter()
                .filter(|v| (**v * 10.0) as usize == tenth)
                .count();
            assert!((700..1300).contains(&n), "tenth {tenth}: {n}");
        }
    }
}
