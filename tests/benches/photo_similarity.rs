//! Near-duplicate photos: how well the hash tells reused shelf photos from other shelves, and
//! how fast the index answers at a million stored hashes.
//!
//! * precision and recall of dHash and pHash at each threshold over drawn shelves (250
//!   edited copies, 250 pairs of different shelves of one style), and how many of all the
//!   pairs of distinct shelves fall within the threshold (the false matches a lookup among
//!   many photos of one chain would see);
//! * the index with 1,000,000 stored hashes, in two models: random hashes with 31 bits set
//!   (what pHash gives, uncorrelated) and hashes clustered around the drawn shelves (every
//!   stored photo looks like a shelf of one of 25 chains, 18-32 bits from one of them): build
//!   time, heap memory, lookup latency p50/p99 at the threshold.
//!
//! Run: `cargo bench -p fieldsync-e2e --bench photo_similarity` (docs/performance.md).

use std::time::{Duration, Instant};

use fieldsync_server::photo_index::multi_index::{HashIndex, IndexedPhoto};
use fieldsync_server::photo_index::PhotoHash;
use fieldsync_server::photos::similarity::hash::{dhash, phash};
use fieldsync_server::photos::similarity::synthetic_shelves::{precision_recall, test_set, Rng};
use fieldsync_server::photos::similarity::NEAR_DUPLICATE_DISTANCE;
use fieldsync_server::photos::thumbnails::render;
use fieldsync_shared::Sha256;
use image::DynamicImage;

const SHELVES: usize = 250;
const STORED: usize = 1_000_000;
const LOOKUPS: usize = 2_000;

fn quality(name: &str, hashes: &[PhotoHash], pairs: &[(usize, usize, bool)]) {
    println!(
        "{name}: threshold  precision  recall  false matches among all pairs of distinct shelves"
    );
    let originals = &hashes[..SHELVES];
    let all_pairs = SHELVES * (SHELVES - 1) / 2;
    for threshold in [4, 6, 8, 10, 12, 14, 16, 18] {
        let labelled: Vec<(bool, u32)> = pairs
            .iter()
            .map(|&(a, b, near)| (near, hashes[a].distance(hashes[b])))
            .collect();
        let (precision, recall) = precision_recall(&labelled, threshold);
        let mut false_matches = 0;
        for (i, a) in originals.iter().enumerate() {
            false_matches += originals[i + 1..]
                .iter()
                .filter(|b| a.distance(**b) <= threshold)
                .count();
        }
        println!(
            "{name}: {threshold:>9}  {precision:>9.3}  {recall:>6.3}  {false_matches} of {all_pairs}"
        );
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p) as usize]
}

fn index_figures(model: &str, stored: Vec<IndexedPhoto>, queries: &[PhotoHash]) {
    let t = Instant::now();
    let index = HashIndex::build(stored);
    let build = t.elapsed();
    let mut latencies = Vec::with_capacity(queries.len());
    let mut found = 0;
    for q in queries {
        let t = Instant::now();
        found += index.within(*q, NEAR_DUPLICATE_DISTANCE, 0).len();
        latencies.push(t.elapsed());
    }
    latencies.sort();
    println!(
        "index, {model}: {} hashes, build {:.2} s, heap {:.0} MB; {} lookups at distance {NEAR_DUPLICATE_DISTANCE}: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms, {:.1} found per lookup",
        index.len(),
        build.as_secs_f64(),
        index.heap_bytes() as f64 / 1e6,
        latencies.len(),
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3,
        found as f64 / queries.len() as f64,
    );
}

/// A random 64-bit hash with 31 of the 63 low bits set, like every pHash (the top bit, the
/// DC term, is always clear).
fn random_phash(rng: &mut Rng) -> u64 {
    let mut bits = 0u64;
    while bits.count_ones() < 31 {
        bits |= 1 << rng.range(0, 63);
    }
    bits
}

/// `hash` with `swaps` set bits moved to clear positions (distance 2 x swaps, 31 bits kept).
fn moved_bits(mut hash: u64, swaps: u32, rng: &mut Rng) -> u64 {
    for _ in 0..swaps {
        let ones: Vec<u32> = (0..64).filter(|b| (hash >> b) & 1 == 1).collect();
        let zeros: Vec<u32> = (0..63).filter(|b| (hash >> b) & 1 == 0).collect();
        hash ^= 1 << ones[rng.range(0, ones.len() as u32) as usize];
        hash ^= 1 << zeros[rng.range(0, zeros.len() as u32) as usize];
    }
    hash
}

fn stored(n: usize, mut hash: impl FnMut(usize) -> u64) -> Vec<IndexedPhoto> {
    (0..n)
        .map(|i| IndexedPhoto {
            sha256: Sha256::digest(&(i as u64).to_le_bytes()),
            hash: PhotoHash(hash(i)),
            stored_at: i as i64,
        })
        .collect()
}

fn main() {
    // `cargo bench` passes `--bench`; nothing to parse.
    let t = Instant::now();
    let set = test_set(SHELVES, 20_261_206);
    let thumbnails: Vec<DynamicImage> = set
        .photos
        .iter()
        .map(|p| image::load_from_memory(&render(p).expect("decodable")).expect("a thumbnail"))
        .collect();
    println!(
        "{} drawn photos ({SHELVES} shelves of 25 styles, an edited copy of each) rendered in {:.1} s",
        set.photos.len(),
        t.elapsed().as_secs_f64()
    );
    let pairs: Vec<(usize, usize, bool)> = set
        .pairs
        .iter()
        .map(|&(a, b, edit)| (a, b, edit.is_some()))
        .collect();
    let dhashes: Vec<PhotoHash> = thumbnails.iter().map(dhash).collect();
    let phashes: Vec<PhotoHash> = thumbnails.iter().map(phash).collect();
    quality("dHash", &dhashes, &pairs);
    quality("pHash", &phashes, &pairs);

    let t = Instant::now();
    for thumbnail in thumbnails.iter().take(200) {
        std::hint::black_box(phash(thumbnail));
    }
    println!(
        "pHash of a decoded thumbnail: {:.3} ms",
        t.elapsed().as_secs_f64() * 1e3 / 200.0
    );

    let mut rng = Rng::new(7);
    // Queries: the drawn photos' hashes, each once as stored and once with 4 bits moved.
    let queries: Vec<PhotoHash> = phashes
        .iter()
        .cycle()
        .take(LOOKUPS)
        .enumerate()
        .map(|(i, h)| {
            PhotoHash(if i < phashes.len() {
                h.0
            } else {
                moved_bits(h.0, 2, &mut rng)
            })
        })
        .collect();
    let uniform = stored(STORED, |_| random_phash(&mut rng));
    index_figures("random pHash-like hashes", uniform, &queries);
    let clustered = stored(STORED, |i| {
        let centre = phashes[i % SHELVES].0;
        let swaps = rng.range(9, 17);
        moved_bits(centre, swaps, &mut rng)
    });
    index_figures("clustered around the drawn shelves", clustered, &queries);
}
