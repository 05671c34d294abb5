//! Procedurally drawn shelf photos and the edits a reused photo goes through, for the
//! precision/recall test (`server/tests/photo_similarity.rs`) and the benchmark
//! (`tests/benches/photo_similarity.rs`). Deterministic: the same seed draws the same shelf.
//!
//! A shelf: a wall with a lighting gradient, 4-6 shelf boards with price tags, rows of product
//! facings (a product is repeated 1-5 times side by side, with its own colours, height, label
//! band and logo), sensor noise. A [`Style`] fixes what shelves of one store chain share
//! (palette, number of rows, wall, lighting), so two shelves of one style are the hard case:
//! a different shelf that looks alike from afar.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, Rgb, RgbImage};

/// Original photos are this wide and high (a phone photo scaled down: the server hashes a
/// 256 px thumbnail anyway, and the tests draw a thousand of them unoptimised).
pub const WIDTH: u32 = 480;
pub const HEIGHT: u32 = 360;

/// A small deterministic generator (SplitMix64): no dependency, same numbers everywhere.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..hi` (`hi` excluded).
    pub fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + (self.next_u64() % u64::from(hi - lo)) as u32
    }

    /// Uniform in `[lo, hi)`.
    pub fn float(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32 * (hi - lo)
    }
}

/// What the shelves of one chain share.
#[derive(Debug, Clone)]
pub struct Style {
    palette: Vec<[u8; 3]>,
    wall: [u8; 3],
    board: [u8; 3],
    rows: u32,
    /// Light at the far corner relative to the brightest point (1.0 = even lighting).
    light_falloff: f32,
}

impl Style {
    pub fn new(seed: u64) -> Self {
        let mut rng = Rng::new(seed ^ 0x5EED_5717_1E00_0000);
        let palette = (0..8)
            .map(|_| {
                [
                    rng.range(20, 236) as u8,
                    rng.range(20, 236) as u8,
                    rng.range(20, 236) as u8,
                ]
            })
            .collect();
        let grey = rng.range(150, 220) as u8;
        Style {
            palette,
            wall: [grey, grey.saturating_sub(8), grey.saturating_sub(20)],
            board: if rng.range(0, 2) == 0 {
                [235, 235, 230]
            } else {
                [60, 60, 66]
            },
            rows: rng.range(4, 7),
            light_falloff: rng.float(0.55, 0.85),
        }
    }
}

fn shade(colour: [u8; 3], factor: f32) -> [u8; 3] {
    colour.map(|c| (f32::from(c) * factor).clamp(0.0, 255.0) as u8)
}

/// A canvas under a light: every rectangle is shaded by the light at its centre (a gradient
/// across the shelf, cheap enough to draw unoptimised).
struct Canvas {
    image: RgbImage,
    light: (f32, f32),
    falloff: f32,
}

impl Canvas {
    fn fill(&mut self, x0: u32, y0: u32, w: u32, h: u32, colour: [u8; 3]) {
        let (width, height) = self.image.dimensions();
        let (x1, y1) = ((x0 + w).min(width), (y0 + h).min(height));
        if x0 >= x1 || y0 >= y1 {
            return;
        }
        let (cx, cy) = ((x0 + x1) as f32 / 2.0, (y0 + y1) as f32 / 2.0);
        let reach = ((width * width + height * height) as f32).sqrt();
        let d = ((cx - self.light.0).powi(2) + (cy - self.light.1).powi(2)).sqrt() / reach;
        let lit = shade(colour, 1.0 - (1.0 - self.falloff) * d);
        let row: Vec<u8> = (x0..x1).flat_map(|_| lit).collect();
        let stride = width as usize * 3;
        let buffer: &mut [u8] = &mut self.image;
        for y in y0..y1 {
            let start = y as usize * stride + x0 as usize * 3;
            buffer[start..start + row.len()].copy_from_slice(&row);
        }
    }
}

/// One shelf photo of `style`, drawn from `seed`.
pub fn shelf(style: &Style, seed: u64) -> RgbImage {
    let mut rng = Rng::new(seed);
    let light = (
        rng.float(0.0, WIDTH as f32),
        rng.float(0.0, HEIGHT as f32 / 3.0),
    );
    let mut canvas = Canvas {
        image: RgbImage::new(WIDTH, HEIGHT),
        light,
        falloff: style.light_falloff,
    };
    // The wall, in tiles so the light falls across it.
    for y in (0..HEIGHT).step_by(20) {
        for x in (0..WIDTH).step_by(20) {
            canvas.fill(x, y, 20, 20, style.wall);
        }
    }
    let top = rng.range(6, 24);
    let row_height = (HEIGHT - top) / style.rows;
    for row in 0..style.rows {
        let row_top = top + row * row_height;
        let board_height = rng.range(6, 11);
        let floor = row_top + row_height - board_height;
        // Products standing on the board, left to right, each repeated side by side.
        let mut x = rng.range(0, 8);
        while x < WIDTH {
            let colour = style.palette[rng.range(0, style.palette.len() as u32) as usize];
            let label = style.palette[rng.range(0, style.palette.len() as u32) as usize];
            let width = rng.range(17, 48);
            let height = rng.range(row_height * 5 / 10, row_height * 9 / 10 - board_height);
            let label_top = rng.range(height / 5, height / 2);
            let label_height = rng.range(height / 6, height / 3);
            let logo = shade(label, rng.float(0.3, 1.6));
            for _ in 0..rng.range(1, 6) {
                if x >= WIDTH {
                    break;
                }
                let y = floor - height;
                canvas.fill(x, y, width - 1, height, colour);
                // The side of a pack is darker than its face.
                canvas.fill(x + width - 4, y, 3, height, shade(colour, 0.7));
                canvas.fill(x, y + label_top, width - 1, label_height, label);
                canvas.fill(
                    x + width / 4,
                    y + label_top + label_height / 4,
                    width / 3,
                    label_height / 2,
                    logo,
                );
                x += width;
            }
            x += rng.range(0, 6);
        }
        canvas.fill(0, floor, WIDTH, board_height, style.board);
        // Price tags on the board edge, white with a dark price.
        let mut tag = rng.range(0, 36);
        while tag + 24 < WIDTH {
            canvas.fill(tag, floor + 1, 24, board_height - 2, [250, 250, 245]);
            canvas.fill(tag + 4, floor + 3, 14, 2, [30, 30, 30]);
            tag += rng.range(42, 96);
        }
    }
    // Sensor noise: +-8 on every channel, from a table (one pass over the bytes).
    let mut noise = Rng::new(seed ^ 0xA015E);
    let table: Vec<i16> = (0..4099)
        .map(|_| (noise.next_u64() % 17) as i16 - 8)
        .collect();
    let mut image = canvas.image;
    let bytes: &mut [u8] = &mut image;
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = (i16::from(*byte) + table[i % table.len()]).clamp(0, 255) as u8;
    }
    image
}

/// What happens to a reused photo before it is uploaded again.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Edit {
    /// Saved again at this JPEG quality.
    Reencode(u8),
    /// Scaled by this factor (both sides).
    Resize(f32),
    /// This fraction cut off each side in total (split at random between the two edges).
    Crop(f32),
    /// Every channel multiplied by this factor.
    Brighten(f32),
    /// Cropped by 5 %, brightened by 15 %, saved at quality 60.
    Combined,
}

impl Edit {
    pub fn name(self) -> &'static str {
        match self {
            Edit::Reencode(_) => "re-encoded",
            Edit::Resize(_) => "resized",
            Edit::Crop(_) => "cropped",
            Edit::Brighten(_) => "brightened",
            Edit::Combined => "combined",
        }
    }

    /// The `i`-th edit of a test set: the five kinds in turn, each with parameters drawn in
    /// the ranges that matter (quality 30-75, scale 0.4-0.8, crop 5 %, brightness +10-25 %).
    pub fn nth(i: usize, rng: &mut Rng) -> Edit {
        match i % 5 {
            0 => Edit::Reencode(rng.range(30, 76) as u8),
            1 => Edit::Resize(rng.float(0.4, 0.8)),
            2 => Edit::Crop(0.05),
            3 => Edit::Brighten(rng.float(1.10, 1.25)),
            _ => Edit::Combined,
        }
    }
}

/// `image` encoded as a phone would (JPEG quality 90).
pub fn photo_bytes(image: &RgbImage) -> Vec<u8> {
    jpeg(image, 90)
}

/// The bytes of `photo` (a JPEG) after `edit`, as uploaded again.
pub fn edited(photo: &[u8], edit: Edit, rng: &mut Rng) -> Vec<u8> {
    let image = image::load_from_memory(photo)
        .expect("a JPEG drawn here")
        .to_rgb8();
    match edit {
        Edit::Reencode(quality) => jpeg(&image, quality),
        Edit::Resize(scale) => {
            let (w, h) = (
                (image.width() as f32 * scale) as u32,
                (image.height() as f32 * scale) as u32,
            );
            let small = DynamicImage::ImageRgb8(image).resize_exact(w, h, FilterType::Triangle);
            jpeg(&small.to_rgb8(), 85)
        }
        Edit::Crop(fraction) => jpeg(&crop(&image, fraction, rng), 88),
        Edit::Brighten(factor) => jpeg(&brighten(&image, factor), 88),
        Edit::Combined => jpeg(&brighten(&crop(&image, 0.05, rng), 1.15), 60),
    }
}

fn crop(image: &RgbImage, fraction: f32, rng: &mut Rng) -> RgbImage {
    let (w, h) = image.dimensions();
    let (cut_x, cut_y) = ((w as f32 * fraction) as u32, (h as f32 * fraction) as u32);
    let (x, y) = (rng.range(0, cut_x + 1), rng.range(0, cut_y + 1));
    image::imageops::crop_imm(image, x, y, w - cut_x, h - cut_y).to_image()
}

fn brighten(image: &RgbImage, factor: f32) -> RgbImage {
    let mut out = image.clone();
    for pixel in out.pixels_mut() {
        *pixel = Rgb(shade(pixel.0, factor));
    }
    out
}

fn jpeg(image: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(image)
        .expect("encoding to memory");
    out.into_inner()
}

/// A labelled set of photos: shelves, edited copies of them, and which pairs are which.
#[derive(Debug, Clone)]
pub struct TestSet {
    /// The photos' bytes: the `n` drawn shelves first, then one edited copy of each.
    pub photos: Vec<Vec<u8>>,
    /// Pairs of positions in `photos`: a shelf and its edited copy (`Some(edit)`), or two
    /// different shelves of one style (`None`).
    pub pairs: Vec<(usize, usize, Option<Edit>)>,
}

/// Shelves drawn per style: every ten consecutive shelves share a chain's look.
pub const SHELVES_PER_STYLE: usize = 10;

/// `n` shelves (a multiple of [`SHELVES_PER_STYLE`]) and an edited copy of each, drawn from
/// `seed`: `n` near-duplicate pairs and `n` pairs of different shelves of the same style
/// (each shelf with the next one of its style, the last with the first).
pub fn test_set(n: usize, seed: u64) -> TestSet {
    assert_eq!(n % SHELVES_PER_STYLE, 0);
    let mut rng = Rng::new(seed);
    let mut photos: Vec<Vec<u8>> = (0..n)
        .map(|i| {
            let style = Style::new(seed.wrapping_add((i / SHELVES_PER_STYLE) as u64));
            photo_bytes(&shelf(&style, rng.next_u64()))
        })
        .collect();
    let mut pairs = Vec::with_capacity(2 * n);
    for i in 0..n {
        let edit = Edit::nth(i, &mut rng);
        photos.push(edited(&photos[i], edit, &mut rng));
        pairs.push((i, n + i, Some(edit)));
    }
    for i in 0..n {
        let group = i - i % SHELVES_PER_STYLE;
        pairs.push((i, group + (i + 1) % SHELVES_PER_STYLE, None));
    }
    TestSet { photos, pairs }
}

/// Precision and recall of "distance at most `threshold` means near-duplicate" over pairs
/// given as (is a near-duplicate, distance).
pub fn precision_recall(pairs: &[(bool, u32)], threshold: u32) -> (f64, f64) {
    let flagged = |near: bool| {
        pairs
            .iter()
            .filter(|(n, d)| *n == near && *d <= threshold)
            .count() as f64
    };
    let (true_positives, false_positives) = (flagged(true), flagged(false));
    let near = pairs.iter().filter(|(n, _)| *n).count() as f64;
    let precision = if true_positives + false_positives == 0.0 {
        1.0
    } else {
        true_positives / (true_positives + false_positives)
    };
    (precision, true_positives / near.max(1.0))
}
