//! Multi-index hashing: which stored hashes are within Hamming distance `d` of a query, without
//! comparing it to every one.
//!
//! The 64 bits are split into [`BANDS`] bands of 16 bits, and every band has a table from its
//! 16-bit value to the entries having it. Pigeonhole: if two hashes differ in at most `d` bits,
//! one of the four bands differs in at most `d / 4` of them. So a lookup visits, in each band,
//! the buckets of every 16-bit value within `d / 4` bits of the query's band (1 value for
//! `d < 4`, 17 for `d < 8`, 137 for `d < 12`, 697 for `d < 16`), and checks each entry found
//! there on all 64 bits. An entry found in several bands is reported from the first only.
//!
//! With `n` entries spread evenly, a bucket holds `n / 65536` of them: about 15 at a million,
//! so a lookup at `d = 12` checks about 4 x 697 x 15 = 42,000 candidates, each one XOR and
//! popcount of the hash kept in the bucket (docs/performance.md has measured times, also for
//! unevenly spread hashes). Inserting is pushing to four buckets; entries leave only when the
//! index is rebuilt ([`HashIndex::retain_since`]).

use std::sync::OnceLock;

use fieldsync_shared::Sha256;

use super::PhotoHash;

/// Bands the hash is split into.
pub const BANDS: usize = 4;
const BAND_BITS: u32 = 64 / BANDS as u32;
const BUCKETS: usize = 1 << BAND_BITS;
/// The largest distance a lookup supports (band radius 3).
pub const MAX_DISTANCE: u32 = 4 * BANDS as u32 - 1;

/// One indexed photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexedPhoto {
    pub sha256: Sha256,
    pub hash: PhotoHash,
    /// When the photo was stored (unix ms): lookups look back from a point in time.
    pub stored_at: i64,
}

/// One lookup result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Neighbour {
    pub photo: IndexedPhoto,
    pub distance: u32,
}

/// The hashes of one tenant's photos, indexed by band.
pub struct HashIndex {
    photos: Vec<IndexedPhoto>,
    /// `bands[b][value]`: the hashes whose band `b` is `value`, with their positions in
    /// `photos`. The hash is kept next to the position so that checking a candidate reads the
    /// bucket only (contiguous), not the photo (a cache miss each).
    bands: Vec<Vec<Vec<(u64, u32)>>>,
}

impl Default for HashIndex {
    fn default() -> Self {
        Self::new()
    }
}

fn band(hash: PhotoHash, b: usize) -> usize {
    ((hash.0 >> (b as u32 * BAND_BITS)) & (BUCKETS as u64 - 1)) as usize
}

/// Every 16-bit mask with at most `radius` bits set (`radius` <= 3), computed once.
fn masks(radius: u32) -> &'static [usize] {
    static MASKS: OnceLock<Vec<Vec<usize>>> = OnceLock::new();
    let masks = MASKS.get_or_init(|| {
        (0..=MAX_DISTANCE / BANDS as u32)
            .map(|r| (0..BUCKETS).filter(|m| m.count_ones() <= r).collect())
            .collect()
    });
    &masks[radius as usize]
}

impl HashIndex {
    pub fn new() -> Self {
        HashIndex {
            photos: Vec::new(),
            bands: (0..BANDS).map(|_| vec![Vec::new(); BUCKETS]).collect(),
        }
    }

    /// An index of `photos` (a photo given twice is kept once).
    pub fn build(photos: impl IntoIterator<Item = IndexedPhoto>) -> Self {
        let mut index = Self::new();
        for photo in photos {
            index.insert(photo);
        }
        index
    }

    pub fn len(&self) -> usize {
        self.photos.len()
    }

    pub fn is_empty(&self) -> bool {
        self.photos.is_empty()
    }

    /// Adds a photo; `false` (nothing changed) if it is already there.
    pub fn insert(&mut self, photo: IndexedPhoto) -> bool {
        let known = self.bands[0][band(photo.hash, 0)]
            .iter()
            .any(|&(_, i)| self.photos[i as usize].sha256 == photo.sha256);
        if known {
            return false;
        }
        let position = u32::try_from(self.photos.len()).expect("fewer than 2^32 photos");
        for (b, table) in self.bands.iter_mut().enumerate() {
            table[band(photo.hash, b)].push((photo.hash.0, position));
        }
        self.photos.push(photo);
        true
    }

    /// The photos stored at or after `since` within `max_distance` bits of `hash` (capped at
    /// [`MAX_DISTANCE`]), nearest first.
    pub fn within(&self, hash: PhotoHash, max_distance: u32, since: i64) -> Vec<Neighbour> {
        let max_distance = max_distance.min(MAX_DISTANCE);
        let radius = max_distance / BANDS as u32;
        let mut found = Vec::new();
        for (b, table) in self.bands.iter().enumerate() {
            let value = band(hash, b);
            for &mask in masks(radius) {
                for &(candidate, i) in &table[value ^ mask] {
                    let distance = (candidate ^ hash.0).count_ones();
                    if distance > max_distance {
                        continue;
                    }
                    // Reported from the first band within the radius only.
                    let earlier = (0..b).any(|e| {
                        ((band(PhotoHash(candidate), e) ^ band(hash, e)) as u32).count_ones()
                            <= radius
                    });
                    let photo = self.photos[i as usize];
                    if !earlier && photo.stored_at >= since {
                        found.push(Neighbour { photo, distance });
                    }
                }
            }
        }
        found.sort_by_key(|n| (n.distance, std::cmp::Reverse(n.photo.stored_at)));
        found
    }

    /// Drops the photos stored before `cutoff` (rebuilds the tables).
    pub fn retain_since(&mut self, cutoff: i64) {
        let kept: Vec<IndexedPhoto> = self
            .photos
            .iter()
            .copied()
            .filter(|p| p.stored_at >= cutoff)
            .collect();
        *self = Self::build(kept);
    }

    /// The oldest `stored_at`, if any.
    pub fn oldest(&self) -> Option<i64> {
        self.photos.iter().map(|p| p.stored_at).min()
    }

    /// Heap bytes held (photos and band tables, by capacity).
    pub fn heap_bytes(&self) -> usize {
        let photos = self.photos.capacity() * std::mem::size_of::<IndexedPhoto>();
        let tables: usize = self
            .bands
            .iter()
            .map(|table| {
                table.capacity() * std::mem::size_of::<Vec<(u64, u32)>>()
                    + table
                        .iter()
                        .map(|b| b.capacity() * std::mem::size_of::<(u64, u32)>())
                        .sum::<usize>()
            })
            .sum();
        photos + tables
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn photo(n: u64, hash: u64, stored_at: i64) -> IndexedPhoto {
        IndexedPhoto {
            sha256: Sha256::digest(&n.to_le_bytes()),
            hash: PhotoHash(hash),
            stored_at,
        }
    }

    /// The brute-force answer the index must give.
    fn scan(photos: &[IndexedPhoto], hash: PhotoHash, d: u32, since: i64) -> Vec<(u32, Sha256)> {
        let mut out: Vec<(u32, Sha256)> = photos
            .iter()
            .filter(|p| p.stored_at >= since && p.hash.distance(hash) <= d)
            .map(|p| (p.hash.distance(hash), p.sha256))
            .collect();
        out.sort();
        out
    }

    /// A small deterministic generator for the test data.
    struct Lcg(u64);

    impl Lcg {
        fn next_u64(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 ^ (self.0 >> 29)
        }
        fn range(&mut self, lo: u64, hi: u64) -> u64 {
            lo + self.next_u64() % (hi - lo)
        }
    }

    #[test]
    fn lookups_find_exactly_what_a_scan_finds() {
        let mut rng = Lcg(42);
        let mut photos = Vec::new();
        // Clusters around a few centres, so there is something within reach.
        let centres: Vec<u64> = (0..20).map(|_| rng.next_u64()).collect();
        for n in 0..5_000u64 {
            let mut hash = centres[(n % 20) as usize];
            for _ in 0..rng.range(0, 14) {
                hash ^= 1 << rng.range(0, 64);
            }
            photos.push(photo(n, hash, (n % 100) as i64));
        }
        let index = HashIndex::build(photos.iter().copied());
        assert_eq!(index.len(), photos.len());
        for (q, d, since) in [(0, 0, 0), (1, 3, 0), (2, 7, 50), (3, 10, 0), (4, 15, 20)] {
            let query = PhotoHash(centres[q] ^ 0b101);
            let mut got: Vec<(u32, Sha256)> = index
                .within(query, d, since)
                .into_iter()
                .map(|n| (n.distance, n.photo.sha256))
                .collect();
            got.sort();
            assert_eq!(got, scan(&photos, query, d, since), "d = {d}");
        }
    }

    #[test]
    fn a_photo_is_indexed_once_and_old_ones_can_be_dropped() {
        let mut index = HashIndex::new();
        assert!(index.insert(photo(1, 7, 10)));
        assert!(!index.insert(photo(1, 7, 10)));
        assert!(index.insert(photo(2, 7, 20)));
        assert_eq!(index.within(PhotoHash(7), 0, 0).len(), 2);
        index.retain_since(15);
        assert_eq!(index.len(), 1);
        assert_eq!(index.oldest(), Some(20));
        assert!(index.heap_bytes() > 0);
    }
}
