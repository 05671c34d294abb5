//! Photo thumbnails: one rule for the device (which renders a thumbnail before it uploads the
//! photo, "thumbnails first") and the server (which renders one from every photo it stores, and
//! checks the ones devices send).
//!
//! A thumbnail is a JPEG at most [`MAX_SIDE`] px on its longer side, quality [`JPEG_QUALITY`],
//! with the photo's EXIF orientation applied (phones store portrait photos sideways), and at
//! most [`MAX_BYTES`] long. Pure functions, no I/O; decoding is CPU-heavy (a 48 MP photo
//! decodes to ~150 MB), so callers run [`render`] off any latency-sensitive thread.

use std::io::Cursor;

use image::codecs::jpeg::{JpegDecoder, JpegEncoder};
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

/// Longest side of a thumbnail, in pixels.
pub const MAX_SIDE: u32 = 256;
/// JPEG quality of thumbnails.
pub const JPEG_QUALITY: u8 = 80;
/// Largest thumbnail a device may send, in bytes (64 KiB; a 256 px JPEG at quality 80 is
/// typically 10-30 KB).
pub const MAX_BYTES: usize = 64 * 1024;
/// Larger photos are not decoded (no thumbnail).
const MAX_DIMENSION: u32 = 20_000;
/// Memory a photo's decoding may take.
const MAX_DECODE_ALLOC: u64 = 512 * 1024 * 1024;

/// Why a thumbnail sent by a device is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThumbnailRefusal {
    /// More than [`MAX_BYTES`].
    #[error("the thumbnail has {len} bytes, more than {MAX_BYTES}")]
    TooManyBytes { len: usize },
    /// Not a decodable JPEG.
    #[error("the thumbnail is not a decodable JPEG: {0}")]
    NotJpeg(String),
    /// A side longer than [`MAX_SIDE`] (or an empty image).
    #[error("the thumbnail is {width}x{height} px; its sides must be 1 to {MAX_SIDE} px")]
    BadSides { width: u32, height: u32 },
}

/// Renders the thumbnail of a photo's `bytes` (blocking). `None` when the bytes are not an
/// image this build decodes (JPEG, PNG, WebP; not HEIC), are corrupt, or exceed the decode
/// limits: a photo without a thumbnail is never an error.
pub fn render(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .ok()?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().ok()?;
    let orientation = decoder.orientation().ok();
    let mut image = DynamicImage::from_decoder(decoder).ok()?;
    if let Some(orientation) = orientation {
        image.apply_orientation(orientation);
    }
    if image.width() > MAX_SIDE || image.height() > MAX_SIDE {
        image = image.thumbnail(MAX_SIDE, MAX_SIDE);
    }
    // JPEG has no alpha channel.
    let rgb = image.to_rgb8();
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
        .encode_image(&rgb)
        .ok()?;
    Some(out)
}

/// Checks a thumbnail a device sent: at most [`MAX_BYTES`], a JPEG whose sides are at most
/// [`MAX_SIDE`] px, that decodes completely. Returns its (width, height).
pub fn validate(bytes: &[u8]) -> Result<(u32, u32), ThumbnailRefusal> {
    if bytes.len() > MAX_BYTES {
        return Err(ThumbnailRefusal::TooManyBytes { len: bytes.len() });
    }
    if image::guess_format(bytes).ok() != Some(ImageFormat::Jpeg) {
        return Err(ThumbnailRefusal::NotJpeg(
            "it does not start like a JPEG".into(),
        ));
    }
    // The decoder is lenient and fills a cut-off image with grey: a complete JPEG ends with
    // the end-of-image marker.
    if !bytes.ends_with(&[0xFF, 0xD9]) {
        return Err(ThumbnailRefusal::NotJpeg(
            "it is cut short (no end-of-image marker)".into(),
        ));
    }
    let not_jpeg = |e: image::ImageError| ThumbnailRefusal::NotJpeg(e.to_string());
    let mut decoder = JpegDecoder::new(Cursor::new(bytes)).map_err(not_jpeg)?;
    // The header's sides are checked before any pixel is decoded.
    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
        return Err(ThumbnailRefusal::BadSides { width, height });
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    decoder.set_limits(limits).map_err(not_jpeg)?;
    // A truncated or corrupt body fails here.
    DynamicImage::from_decoder(decoder).map_err(not_jpeg)?;
    Ok((width, height))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(img: DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), format).unwrap();
        out
    }

    fn png(width: u32, height: u32) -> Vec<u8> {
        let img = image::RgbaImage::from_fn(width, height, |x, y| {
            image::Rgba([(x % 256) as u8, (y % 256) as u8, 128, 200])
        });
        encode(DynamicImage::ImageRgba8(img), ImageFormat::Png)
    }

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
        });
        encode(DynamicImage::ImageRgb8(img), ImageFormat::Jpeg)
    }

    /// A JPEG with an EXIF orientation of 6 ("rotate 90° clockwise to display").
    fn sideways_jpeg(width: u32, height: u32) -> Vec<u8> {
        use image::ImageEncoder;
        let img =
            image::RgbImage::from_fn(width, height, |x, _| image::Rgb([(x % 256) as u8, 10, 200]));
        // TIFF, big-endian: one IFD entry, tag 0x0112 (Orientation), SHORT, count 1, value 6.
        let exif = [
            b'M', b'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0,
            0,
        ];
        let mut out = Vec::new();
        let mut encoder = JpegEncoder::new_with_quality(&mut out, 90);
        encoder.set_exif_metadata(exif.to_vec()).unwrap();
        encoder
            .write_image(img.as_raw(), width, height, image::ExtendedColorType::Rgb8)
            .unwrap();
        out
    }

    #[test]
    fn thumbnails_fit_256_px_and_are_jpeg() {
        let thumb = render(&png(600, 300)).expect("a PNG has a thumbnail");
        assert_eq!(image::guess_format(&thumb).unwrap(), ImageFormat::Jpeg);
        let decoded = image::load_from_memory(&thumb).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (256, 128));
        assert_eq!(validate(&thumb), Ok((256, 128)));
        // Small images are not enlarged.
        let small = image::load_from_memory(&render(&png(40, 30)).unwrap()).unwrap();
        assert_eq!((small.width(), small.height()), (40, 30));
    }

    #[test]
    fn the_exif_orientation_is_applied() {
        let thumb = render(&sideways_jpeg(600, 300)).expect("a JPEG has a thumbnail");
        // Stored landscape, shown portrait.
        assert_eq!(validate(&thumb), Ok((128, 256)));
    }

    #[test]
    fn junk_has_no_thumbnail() {
        assert!(render(b"not an image at all").is_none());
        assert!(render(&[0xff, 0xd8, 0xff, 0xe0, 0, 0]).is_none());
    }

    #[test]
    fn validate_accepts_small_jpegs() {
        assert_eq!(validate(&jpeg(256, 200)), Ok((256, 200)));
        assert_eq!(validate(&jpeg(1, 1)), Ok((1, 1)));
    }

    #[test]
    fn validate_refuses_what_is_not_a_jpeg() {
        assert!(matches!(
            validate(&png(100, 100)),
            Err(ThumbnailRefusal::NotJpeg(_))
        ));
        assert!(matches!(
            validate(b"hello"),
            Err(ThumbnailRefusal::NotJpeg(_))
        ));
        assert!(matches!(validate(b""), Err(ThumbnailRefusal::NotJpeg(_))));
        // A JPEG cut in half.
        let whole = jpeg(200, 150);
        assert!(matches!(
            validate(&whole[..whole.len() / 2]),
            Err(ThumbnailRefusal::NotJpeg(_))
        ));
    }

    #[test]
    fn validate_refuses_long_sides() {
        assert_eq!(
            validate(&jpeg(257, 20)),
            Err(ThumbnailRefusal::BadSides {
                width: 257,
                height: 20
            })
        );
        assert_eq!(
            validate(&jpeg(20, 300)),
            Err(ThumbnailRefusal::BadSides {
                width: 20,
                height: 300
            })
        );
    }

    #[test]
    fn validate_refuses_more_than_64_kib() {
        let mut big = jpeg(64, 64);
        big.resize(MAX_BYTES + 1, 0);
        assert_eq!(
            validate(&big),
            Err(ThumbnailRefusal::TooManyBytes { len: MAX_BYTES + 1 })
        );
    }
}
