//! Thumbnails: a JPEG at most [`MAX_SIDE`] px on its longer side, stored next to the photo at
//! `tenants/<tenant>/thumbnails/<sha256[0..2]>/<sha256>`.
//!
//! Decoding and encoding are CPU-heavy and run on the blocking pool, at most
//! [`MAX_CONCURRENT`] at a time (a 48 MP photo decodes to ~150 MB). An image the server cannot
//! decode (HEIC, a corrupt file) simply has no thumbnail; that is never an error.

use std::io::Cursor;
use std::sync::OnceLock;

use bytes::Bytes;
use fieldsync_shared::{Sha256, TenantId};
use image::{DynamicImage, ImageDecoder, ImageReader, Limits};
use tokio::sync::Semaphore;

use crate::blobs::{BlobError, BlobKey};
use crate::state::AppState;

/// Longest side of a thumbnail, in pixels.
pub const MAX_SIDE: u32 = 256;
/// JPEG quality of thumbnails.
pub const JPEG_QUALITY: u8 = 80;
/// Thumbnails rendered at the same time.
pub const MAX_CONCURRENT: usize = 2;
/// Larger images are not decoded (no thumbnail).
const MAX_DIMENSION: u32 = 20_000;
const MAX_DECODE_ALLOC: u64 = 512 * 1024 * 1024;

/// `tenants/<tenant>/thumbnails/<sha256[0..2]>/<sha256>`.
pub fn key(tenant: TenantId, sha256: &Sha256) -> Result<BlobKey, BlobError> {
    let hex = sha256.to_hex();
    BlobKey::parse(&format!("tenants/{tenant}/thumbnails/{}/{hex}", &hex[..2]))
}

/// Renders the thumbnail of `bytes` (blocking: call on the blocking pool). `None` when the
/// bytes are not an image this server decodes (JPEG, PNG, WebP).
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
    // Phones store portrait photos sideways with an EXIF orientation.
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
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
        .encode_image(&rgb)
        .ok()?;
    Some(out)
}

fn permits() -> &'static Semaphore {
    static PERMITS: OnceLock<Semaphore> = OnceLock::new();
    PERMITS.get_or_init(|| Semaphore::new(MAX_CONCURRENT))
}

/// Renders (off the executor) and stores the thumbnail of a verified photo. `true` if the photo
/// now has a thumbnail; failures are logged, never returned: a photo without a thumbnail is
/// still a stored photo.
pub async fn make_and_store(
    state: &AppState,
    tenant: TenantId,
    sha256: &Sha256,
    bytes: Bytes,
) -> bool {
    let key = match key(tenant, sha256) {
        Ok(key) => key,
        Err(e) => {
            tracing::error!(error = %e, "thumbnail key");
            return false;
        }
    };
    let rendered = {
        let _permit = permits().acquire().await;
        tokio::task::spawn_blocking(move || render(&bytes)).await
    };
    let thumbnail = match rendered {
        Ok(Some(thumbnail)) => thumbnail,
        Ok(None) => {
            tracing::debug!(sha256 = %sha256, "no thumbnail: not a decodable image");
            return false;
        }
        Err(e) => {
            tracing::error!(sha256 = %sha256, error = %e, "thumbnail rendering failed");
            return false;
        }
    };
    match state.blobs.put(&key, Bytes::from(thumbnail)).await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(sha256 = %sha256, error = %e, "storing the thumbnail failed");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let img = image::RgbaImage::from_fn(width, height, |x, y| {
            image::Rgba([(x % 256) as u8, (y % 256) as u8, 128, 200])
        });
        let mut out = Vec::new();
        DynamicImage::ImageRgba8(img)
            .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn thumbnails_fit_256_px_and_are_jpeg() {
        let thumb = render(&png(600, 300)).expect("a PNG has a thumbnail");
        let decoded = image::load_from_memory(&thumb).unwrap();
        assert_eq!(
            image::guess_format(&thumb).unwrap(),
            image::ImageFormat::Jpeg
        );
        assert_eq!((decoded.width(), decoded.height()), (256, 128));
        // Small images are not enlarged.
        let small = image::load_from_memory(&render(&png(40, 30)).unwrap()).unwrap();
        assert_eq!((small.width(), small.height()), (40, 30));
    }

    #[test]
    fn junk_has_no_thumbnail() {
        assert!(render(b"not an image at all").is_none());
        assert!(render(&[0xff, 0xd8, 0xff, 0xe0, 0, 0]).is_none());
    }

    #[test]
    fn thumbnail_keys_sit_next_to_photos() {
        let tenant = TenantId::new_random();
        let sha = Sha256::digest(b"x");
        let hex = sha.to_hex();
        assert_eq!(
            key(tenant, &sha).unwrap().as_str(),
            format!("tenants/{tenant}/thumbnails/{}/{hex}", &hex[..2])
        );
    }
}
