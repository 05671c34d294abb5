//! Perceptual hashes of shelf photos: 64 bits that stay close (few differing bits) when a photo
//! is re-encoded, resized, lightly cropped or brightened, and far apart for another shelf.
//!
//! Two are implemented, both from the server's thumbnail (so a hash computed when the photo is
//! stored and one computed later from the stored thumbnail agree):
//!
//! * [`dhash`]: the 9x8 grey image, one bit per pair of horizontal neighbours (brighter or not);
//! * [`phash`]: the 32x32 grey image, its 2-D DCT, one bit per coefficient of the 8x8 lowest
//!   frequencies: above the median of the 63 non-DC ones or not.
//!
//! [`PhotoHash`] is what the server stores and indexes; [`ALGORITHM`] names which of the two
//! it is (docs/photo-uploads.md, "Near-duplicate photos", says why).

use std::sync::OnceLock;

use image::imageops::FilterType;
use image::{DynamicImage, GrayImage, ImageFormat};

pub use crate::photo_index::PhotoHash;

/// Which hash the server computes, stored with each hash (`photo_hashes.algorithm`) so a
/// change of algorithm never compares hashes of two kinds.
pub const ALGORITHM: &str = "phash-dct-v1";

/// The stored hash of a thumbnail's JPEG bytes (blocking, ~1 ms); `None` if they do not decode.
pub fn of_thumbnail(jpeg: &[u8]) -> Option<PhotoHash> {
    let image = image::load_from_memory_with_format(jpeg, ImageFormat::Jpeg).ok()?;
    Some(of_image(&image))
}

/// The stored hash of a decoded image.
pub fn of_image(image: &DynamicImage) -> PhotoHash {
    phash(image)
}

/// dHash: shrink to 9x8 grey, bit = "left pixel brighter than its right neighbour".
pub fn dhash(image: &DynamicImage) -> PhotoHash {
    let small = grey(image, 9, 8);
    let mut bits = 0u64;
    for y in 0..8 {
        for x in 0..8 {
            let left = small.get_pixel(x, y).0[0];
            let right = small.get_pixel(x + 1, y).0[0];
            bits = (bits << 1) | u64::from(left > right);
        }
    }
    PhotoHash(bits)
}

const DCT_SIZE: usize = 32;
const LOW: usize = 8;

/// pHash: shrink to 32x32 grey, 2-D DCT-II, keep the 8x8 lowest frequencies; bit = "above
/// the median of the 63 non-DC ones". The DC term (mean brightness, which brightening moves)
/// is always 0, the top bit. So every hash has 31 bits set and distances are even.
pub fn phash(image: &DynamicImage) -> PhotoHash {
    let small = grey(image, DCT_SIZE as u32, DCT_SIZE as u32);
    let pixels: Vec<f32> = small.pixels().map(|p| f32::from(p.0[0])).collect();
    let table = cosines();
    // Rows first (only the LOW lowest frequencies are needed), then columns.
    let mut rows = [[0f32; LOW]; DCT_SIZE];
    for (y, row) in rows.iter_mut().enumerate() {
        let line = &pixels[y * DCT_SIZE..(y + 1) * DCT_SIZE];
        for (u, out) in row.iter_mut().enumerate() {
            *out = line.iter().zip(&table[u]).map(|(p, c)| p * c).sum();
        }
    }
    let mut coefficients = [0f32; LOW * LOW];
    for (v, cosines_v) in table.iter().enumerate() {
        for u in 0..LOW {
            coefficients[v * LOW + u] = rows.iter().zip(cosines_v).map(|(row, c)| row[u] * c).sum();
        }
    }
    // The DC term is much larger than the others: the median of the 63 AC terms.
    let mut ac: Vec<f32> = coefficients[1..].to_vec();
    ac.sort_by(f32::total_cmp);
    let median = (ac[31] + ac[32]) / 2.0;
    let mut bits = 0u64;
    for (i, c) in coefficients.iter().enumerate() {
        let bit = if i == 0 { false } else { *c > median };
        bits = (bits << 1) | u64::from(bit);
    }
    PhotoHash(bits)
}

/// `table[u][x] = cos((2x + 1) u pi / 2N)` for the LOW lowest frequencies.
fn cosines() -> &'static [[f32; DCT_SIZE]; LOW] {
    static TABLE: OnceLock<[[f32; DCT_SIZE]; LOW]> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = [[0f32; DCT_SIZE]; LOW];
        for (u, row) in table.iter_mut().enumerate() {
            for (x, c) in row.iter_mut().enumerate() {
                *c = ((2 * x + 1) as f32 * u as f32 * std::f32::consts::PI / (2 * DCT_SIZE) as f32)
                    .cos();
            }
        }
        table
    })
}

/// The image shrunk to `width` x `height` grey pixels, averaging areas (the triangle filter
/// widens with the scale, so every source pixel counts and JPEG noise averages out).
fn grey(image: &DynamicImage, width: u32, height: u32) -> GrayImage {
    image
        .resize_exact(width, height, FilterType::Triangle)
        .to_luma8()
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    fn gradient(w: u32, h: u32, shift: u8) -> DynamicImage {
        DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
            let v = ((x * 255 / w) as u8 ^ (y * 255 / h) as u8).saturating_add(shift);
            Rgb([v, v / 2, 255 - v])
        }))
    }

    #[test]
    fn a_resized_image_keeps_its_hash_close() {
        let image = gradient(640, 480, 0);
        let smaller = image.resize_exact(320, 240, FilterType::Triangle);
        assert!(phash(&image).distance(phash(&smaller)) <= 4);
        assert!(dhash(&image).distance(dhash(&smaller)) <= 4);
    }

    #[test]
    fn a_thumbnail_that_does_not_decode_has_no_hash() {
        assert_eq!(of_thumbnail(b"not a jpeg"), None);
    }
}
