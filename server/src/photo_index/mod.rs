//! The in-memory index of photos' perceptual hashes: which photos of a tenant have a hash
//! within a few bits of a given one, fast at millions of photos (the near-duplicate check of
//! `photos::similarity`, docs/photo-uploads.md "Near-duplicate photos").
//!
//! * [`multi_index`]: multi-index hashing over four 16-bit bands;
//! * [`tenants`]: one index per tenant, loaded lazily from `photo_hashes`, kept current.
//!
//! Below the state (which holds this instance's [`tenants::TenantIndexes`]), so it knows
//! nothing of how hashes are computed: [`PhotoHash`] is 64 bits and a distance.

pub mod multi_index;
pub mod tenants;

use std::fmt;

/// A 64-bit perceptual hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhotoHash(pub u64);

impl PhotoHash {
    /// Number of differing bits (0..=64).
    pub fn distance(self, other: PhotoHash) -> u32 {
        (self.0 ^ other.0).count_ones()
    }
}

impl fmt::Display for PhotoHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_differing_bits() {
        assert_eq!(PhotoHash(0).distance(PhotoHash(u64::MAX)), 64);
        assert_eq!(PhotoHash(0b1011).distance(PhotoHash(0b0001)), 2);
        assert_eq!(PhotoHash(0x2a).to_string(), "000000000000002a");
    }
}
