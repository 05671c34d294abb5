//! Thumbnails first (docs/photo-uploads.md, docs/device-sdk.md): a merchandiser in a basement
//! with a signal that carries small requests but no photo. Their phone sends the thumbnail of
//! every queued photo before any full photo, so the supervisor reviews the shelf from another
//! device while the full photos wait; once the network is back, the photos arrive and the
//! server's thumbnails replace the phone's.
//!
//! A [`FaultProxy`] between the merchandiser's device and the server lets JSON and thumbnails
//! through and cuts every request that carries photo bytes (upload content and parts).

use fieldsync_client::{Device, DeviceError, PhotoState, ThumbnailState};
use fieldsync_e2e::proxy::{FaultProxy, SeenRequest};
use fieldsync_e2e::{http, write_file, TestDevice, TestServer};
use fieldsync_server::demo::demo_tenant_id;
use fieldsync_server::photos::thumbnails;
use fieldsync_server::store::photos::ThumbnailOrigin;
use fieldsync_shared::{Sha256, Timestamp};

/// A request that carries photo bytes to the server (`PUT .../content` or `.../parts/{n}`).
fn carries_photo_bytes(r: &SeenRequest) -> bool {
    r.method == "PUT"
        && r.path().starts_with("/v1/photos/uploads/")
        && (r.path().ends_with("/content") || r.path().contains("/parts/"))
}

fn is_thumbnail_put(r: &SeenRequest) -> bool {
    r.method == "PUT" && r.path().starts_with("/v1/photos/") && r.path().ends_with("/thumbnail")
}

fn is_declaration(r: &SeenRequest) -> bool {
    r.method == "POST" && r.path() == "/v1/photos/uploads"
}

/// A real JPEG shelf photo of `width` x `height`, a few hundred KB (noise keeps it from
/// compressing); `sideways`: stored rotated with EXIF orientation 6, as phones store portrait
/// photos.
fn shelf_jpeg(width: u32, height: u32, seed: u64, sideways: bool) -> Vec<u8> {
    use image::ImageEncoder;
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let img = image::RgbImage::from_fn(width, height, |px, py| {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        let noise = (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8 & 0x3f;
        image::Rgb([
            ((px * 255 / width) as u8).wrapping_add(noise),
            ((py * 255 / height) as u8).wrapping_add(noise),
            (seed as u8).wrapping_mul(50).wrapping_add(noise),
        ])
    });
    let mut out = Vec::new();
    let mut encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
    if sideways {
        // TIFF, big-endian: one IFD entry, tag 0x0112 (Orientation), SHORT, count 1, value 6.
        let exif = [
            b'M', b'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0,
            0,
        ];
        encoder.set_exif_metadata(exif.to_vec()).unwrap();
    }
    encoder
        .write_image(img.as_raw(), width, height, image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

fn head_photo(server: &TestServer, token: &str, sha: Sha256) -> u16 {
    http()
        .head(&format!("{}/v1/photos/{sha}", server.url))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .map(|r| r.status().as_u16())
        .unwrap_or_else(|e| match e {
            ureq::Error::StatusCode(status) => status,
            other => panic!("HEAD photo: {other}"),
        })
}

fn thumbnail_state(dev: &Device, sha: Sha256) -> (PhotoState, ThumbnailState) {
    let photo = dev
        .photo_uploads()
        .unwrap()
        .into_iter()
        .find(|p| p.sha256 == sha)
        .expect("photo in the queue");
    (photo.state, photo.thumbnail)
}

fn origin(server: &TestServer, sha: Sha256) -> Option<ThumbnailOrigin> {
    server
        .block_on(
            server
                .state()
                .store
                .photo_thumbnail_origin(demo_tenant_id(), &sha),
        )
        .unwrap()
}

/// The thumbnail decodes as a JPEG of at most 256 px; its (width, height).
fn decoded_sides(jpeg: &[u8]) -> (u32, u32) {
    assert_eq!(
        image::guess_format(jpeg).unwrap(),
        image::ImageFormat::Jpeg,
        "a JPEG"
    );
    let img = image::load_from_memory(jpeg).expect("a decodable thumbnail");
    assert!(
        img.width().max(img.height()) <= 256,
        "{}x{}",
        img.width(),
        img.height()
    );
    (img.width(), img.height())
}

#[test]
fn a_supervisor_reviews_the_shelf_before_the_full_photos_arrive() {
    let server = TestServer::start_with(|c| c.photos.gc_interval_secs = 0);
    let proxy = FaultProxy::start(&server.url);
    let merch = TestDevice::login_via(&proxy.url, "merch1");
    let sup = TestDevice::login(&server, "sup1");

    // Offline in the basement: three shelf photos attached to a visit (attaching renders
    // nothing: the thumbnails are made when they are sent).
    let store = merch.stores().unwrap().remove(0);
    let visit = merch
        .start_visit(store.id, Timestamp::now().utc_date())
        .unwrap();
    let photos = [
        shelf_jpeg(900, 600, 1, false),
        shelf_jpeg(800, 600, 2, true),
        shelf_jpeg(1000, 700, 3, false),
    ];
    let mut shas = Vec::new();
    for (i, bytes) in photos.iter().enumerate() {
        assert!(
            (100_000..2_000_000).contains(&bytes.len()),
            "a few hundred KB: {}",
            bytes.len()
        );
        let file = write_file(merch.dir.path(), &format!("shelf-{i}.jpg"), bytes);
        shas.push(merch.attach_photo(visit, &file, None).unwrap());
    }
    for sha in &shas {
        assert_eq!(
            thumbnail_state(&merch, *sha),
            (PhotoState::Pending, ThumbnailState::Pending)
        );
    }

    // A signal that carries small requests, never a photo.
    proxy.cut_from(1, carries_photo_bytes);
    let mark = proxy.mark();
    let report = merch.sync().unwrap();
    assert_eq!(report.photos_uploaded, 0);
    assert!(report.docs_pushed >= 1, "{report:?}");
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("photo uploads paused")),
        "{:?}",
        report.warnings
    );
    let sent = proxy.requests_since(mark);
    let thumbnail_puts: Vec<&SeenRequest> = sent.iter().filter(|r| is_thumbnail_put(r)).collect();
    // Every thumbnail, oldest photo first, before any full photo.
    let order: Vec<String> = thumbnail_puts
        .iter()
        .map(|r| r.path().split('/').nth(3).unwrap().to_string())
        .collect();
    assert_eq!(
        order,
        shas.iter().map(|s| s.to_hex()).collect::<Vec<_>>(),
        "one thumbnail per photo, oldest first"
    );
    let last_thumbnail = sent.iter().rposition(is_thumbnail_put).unwrap();
    let first_photo = sent
        .iter()
        .position(|r| is_declaration(r) || carries_photo_bytes(r))
        .expect("the full photos were tried");
    assert!(last_thumbnail < first_photo, "thumbnails go first");
    assert!(
        sent.iter()
            .any(|r| carries_photo_bytes(r) && r.fault.is_some()),
        "the photo bytes were cut"
    );
    for sha in &shas {
        let (state, thumbnail) = thumbnail_state(&merch, *sha);
        assert_ne!(state, PhotoState::Uploaded);
        assert_eq!(thumbnail, ThumbnailState::Sent);
    }

    // The supervisor, in another city, sees the shelf; the photos are not stored yet.
    let sup_token = server.token("sup1");
    for (i, sha) in shas.iter().enumerate() {
        let thumb = sup.photo_thumbnail(sha).expect("the phone's thumbnail");
        let (w, h) = decoded_sides(&thumb);
        if i == 1 {
            // Stored landscape with EXIF orientation 6: shown portrait.
            assert_eq!((w, h), (192, 256));
        } else {
            assert_eq!(w, 256);
        }
        assert_eq!(
            thumb, thumbnail_puts[i].body,
            "the thumbnail the phone sent"
        );
        assert_eq!(head_photo(&server, &sup_token, *sha), 404);
        assert_eq!(origin(&server, *sha), Some(ThumbnailOrigin::Device));
    }
    assert_eq!(server.metric("photo_thumbnails_received_total"), 3.0);

    // Still in the basement: the thumbnails are not sent again.
    let mark = proxy.mark();
    let report = merch.sync().unwrap();
    assert_eq!(report.photos_uploaded, 0);
    let again = proxy.requests_since(mark);
    assert_eq!(again.iter().filter(|r| is_thumbnail_put(r)).count(), 0);
    assert!(
        again.iter().any(carries_photo_bytes),
        "the photos are retried"
    );

    // Signal back: the full photos arrive, and the server's thumbnails replace the phone's.
    proxy.clear_faults();
    let mark = proxy.mark();
    let report = merch.sync().unwrap();
    assert_eq!(report.photos_uploaded, 3, "{:?}", report.warnings);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    let after = proxy.requests_since(mark);
    assert_eq!(after.iter().filter(|r| is_thumbnail_put(r)).count(), 0);
    assert!(merch.pending().unwrap().is_empty());
    for (sha, bytes) in shas.iter().zip(&photos) {
        assert_eq!(
            thumbnail_state(&merch, *sha),
            (PhotoState::Uploaded, ThumbnailState::Sent)
        );
        assert_eq!(head_photo(&server, &sup_token, *sha), 200);
        assert_eq!(origin(&server, *sha), Some(ThumbnailOrigin::Server));
        let key = thumbnails::device_key(demo_tenant_id(), sha).unwrap();
        assert!(
            !server.block_on(server.state().blobs.exists(&key)).unwrap(),
            "the phone's thumbnail is deleted once replaced"
        );
        let thumb = sup.photo_thumbnail(sha).unwrap();
        decoded_sides(&thumb);
        assert_eq!(
            Some(thumb),
            fieldsync_shared::thumbnail::render(bytes),
            "the server's rendering"
        );
    }
    assert_eq!(server.metric("photo_thumbnails_received_total"), 3.0);
}

#[test]
fn photos_without_a_thumbnail_are_uploaded_and_unknown_thumbnails_are_not_found() {
    let server = TestServer::start_with(|c| c.photos.gc_interval_secs = 0);
    let proxy = FaultProxy::start(&server.url);
    let rep = TestDevice::login_via(&proxy.url, "rep1");
    let sup = TestDevice::login(&server, "sup1");
    let store = rep.stores().unwrap().remove(0);
    let visit = rep
        .start_visit(store.id, Timestamp::now().utc_date())
        .unwrap();
    // Looks like a JPEG, decodes as nothing: no thumbnail, never an error.
    let mut junk = vec![0xFF, 0xD8, 0xFF, 0xE0];
    junk.extend((0..5000u32).map(|i| (i % 251) as u8));
    let file = write_file(rep.dir.path(), "junk.jpg", &junk);
    let sha = rep.attach_photo(visit, &file, None).unwrap();

    let mark = proxy.mark();
    let report = rep.sync().unwrap();
    assert_eq!(report.photos_uploaded, 1, "{:?}", report.warnings);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert!(!proxy.requests_since(mark).iter().any(is_thumbnail_put));
    assert_eq!(
        thumbnail_state(&rep, sha),
        (PhotoState::Uploaded, ThumbnailState::Unavailable)
    );
    // Neither the phone nor the server could make one.
    assert!(matches!(
        sup.photo_thumbnail(&sha),
        Err(DeviceError::NotFound { .. })
    ));
    assert!(matches!(
        sup.photo_thumbnail(&Sha256::digest(b"no such photo")),
        Err(DeviceError::NotFound { .. })
    ));
}
