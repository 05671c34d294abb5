//! Photo provenance (docs/verdicts.md, docs/device-sdk.md): the phone reads a photo's EXIF
//! capture time and place when it is attached and keeps them in the visit beside the attach
//! time; the shared photo rule flags a photo the camera took outside the visit or away from
//! the store (`photo_taken_outside_visit`), on the phone when it is attached and on the server
//! when the visit is submitted, with the same call. A gallery photo from last month attached
//! during the visit is flagged; a photo taken during the visit at the store is not. On both
//! engines, with real JPEGs carrying EXIF.

use std::collections::BTreeSet;
use std::io::Cursor;

use exif::experimental::Writer;
use exif::{Field, In, Tag, Value};
use fieldsync_client::VisitStep;
use fieldsync_e2e::{write_file, TestDevice};
use fieldsync_shared::{Sha256, Timestamp};

use crate::verdicts::start;
use crate::write_policies::at;

const MINUTE: i64 = 60_000;
const DAY: i64 = 24 * 60 * MINUTE;

fn ascii(tag: Tag, s: &str) -> Field {
    Field {
        tag,
        ifd_num: In::PRIMARY,
        value: Value::Ascii(vec![s.as_bytes().to_vec()]),
    }
}

/// Degrees as EXIF's degrees, minutes and 1/10000 seconds.
fn dms(tag: Tag, degrees: f64) -> Field {
    let degrees = degrees.abs();
    let whole = degrees.trunc();
    let minutes = ((degrees - whole) * 60.0).trunc();
    let seconds = ((degrees - whole) * 60.0 - minutes) * 60.0;
    Field {
        tag,
        ifd_num: In::PRIMARY,
        value: Value::Rational(vec![
            (whole as u32, 1).into(),
            (minutes as u32, 1).into(),
            ((seconds * 10_000.0).round() as u32, 10_000).into(),
        ]),
    }
}

/// A real JPEG shelf photo (the server decodes it and makes a thumbnail) whose EXIF says it
/// was taken at `taken` by a camera set to UTC+08:00, at `place` (lat, lon) if any.
fn camera_jpeg(seed: u8, taken: Timestamp, place: Option<(f64, f64)>) -> Vec<u8> {
    let img = image::RgbImage::from_fn(320, 240, |x, y| {
        image::Rgb([
            ((x / 32) as u8).wrapping_mul(37).wrapping_add(seed),
            ((y / 24) as u8).wrapping_mul(53),
            seed.wrapping_mul(29),
        ])
    });
    let mut encoded = Cursor::new(Vec::new());
    img.write_to(&mut encoded, image::ImageFormat::Jpeg)
        .expect("encode JPEG");
    let encoded = encoded.into_inner();

    let wall_clock = Timestamp(taken.millis() + 8 * 60 * MINUTE)
        .to_chrono()
        .format("%Y:%m:%d %H:%M:%S")
        .to_string();
    let mut fields = vec![
        ascii(Tag::DateTimeOriginal, &wall_clock),
        ascii(Tag::OffsetTimeOriginal, "+08:00"),
    ];
    if let Some((lat, lon)) = place {
        fields.push(dms(Tag::GPSLatitude, lat));
        fields.push(ascii(
            Tag::GPSLatitudeRef,
            if lat < 0.0 { "S" } else { "N" },
        ));
        fields.push(dms(Tag::GPSLongitude, lon));
        fields.push(ascii(
            Tag::GPSLongitudeRef,
            if lon < 0.0 { "W" } else { "E" },
        ));
    }
    let mut writer = Writer::new();
    for f in &fields {
        writer.push_field(f);
    }
    let mut tiff = Cursor::new(Vec::new());
    writer.write(&mut tiff, false).expect("write EXIF");
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(tiff.into_inner());

    // SOI, then the APP1 segment, then the rest of the encoded JPEG.
    let mut jpeg = encoded[..2].to_vec();
    jpeg.extend([0xFF, 0xE1]);
    jpeg.extend(u16::try_from(app1.len() + 2).unwrap().to_be_bytes());
    jpeg.extend(app1);
    jpeg.extend(&encoded[2..]);
    jpeg
}

fn attach(
    rep: &TestDevice,
    visit: fieldsync_shared::DocId,
    name: &str,
    bytes: &[u8],
) -> (Sha256, Vec<(String, String)>) {
    let file = write_file(rep.dir.path(), name, bytes);
    let (sha, verdict) = rep
        .attach_photo_checked(visit, &file, Some(VisitStep::Merchandise))
        .expect("attach");
    let shown = verdict
        .findings
        .into_iter()
        .map(|f| (f.code, f.field.unwrap_or_default()))
        .collect();
    (sha, shown)
}

fn gallery_photo_from_last_month_is_flagged_on_the_phone_and_on_the_server(postgres: bool) {
    let (server, _db) = start(postgres);
    let rep = TestDevice::login(&server, "rep1");
    let store = rep.store_by_code("NKA-004").expect("store");
    let now = Timestamp::now().millis();
    let visit = rep
        .start_visit(store.id, Timestamp::now().utc_date())
        .unwrap();
    let checked_in = Timestamp(now - 20 * MINUTE);
    rep.check_in(visit, at(&store), checked_in).unwrap();
    for step in VisitStep::ALL {
        rep.record_step(visit, *step, None).unwrap();
    }
    let at_store = (store.location.lat(), store.location.lon());

    // Taken during the visit, at the store: nothing to say.
    let during = camera_jpeg(1, Timestamp(now - 5 * MINUTE), Some(at_store));
    let (during, shown) = attach(&rep, visit, "during.jpg", &during);
    assert!(shown.is_empty(), "{shown:?}");
    // From the gallery, taken last month: attached now, flagged by its capture time.
    let last_month = Timestamp(now - 30 * DAY);
    let (old, shown) = attach(
        &rep,
        visit,
        "gallery.jpg",
        &camera_jpeg(2, last_month, Some(at_store)),
    );
    let old_time = format!("photos.{old}.capture.at");
    assert_eq!(
        shown,
        [("photo_taken_outside_visit".to_string(), old_time.clone())]
    );
    // Taken during the visit, 5 km away.
    let away_place = (at_store.0 + 0.045, at_store.1);
    let (away, shown) = attach(
        &rep,
        visit,
        "elsewhere.jpg",
        &camera_jpeg(3, Timestamp(now - 3 * MINUTE), Some(away_place)),
    );
    let away_place_field = format!("photos.{away}.capture.position");
    assert_eq!(
        shown,
        [(
            "photo_taken_outside_visit".to_string(),
            away_place_field.clone()
        )]
    );

    // The visit keeps both times of each photo.
    let local = rep.visit(visit).unwrap();
    let entry = &local.photos[&old.to_hex()];
    let capture = entry.capture.as_ref().expect("EXIF read");
    assert_eq!(
        capture.at,
        Some(Timestamp(last_month.millis() / 1000 * 1000))
    );
    assert!(capture.zone_known);
    let position = capture.position.expect("GPS read");
    assert!(store.location.distance_m(&position) < 1.0);
    assert!(entry.taken_at.millis() >= checked_in.millis());
    assert!(local.photos[&during.to_hex()].capture.is_some());

    rep.check_out(visit, at(&store), Timestamp::now()).unwrap();
    rep.submit_visit(visit).unwrap();
    let expected = BTreeSet::from([old_time, away_place_field]);

    // The server judged the submission with the same call: the same two flags.
    let report = rep.sync().expect("sync");
    let reported: BTreeSet<String> = report
        .findings
        .iter()
        .filter(|f| f.doc_id == visit && f.code == "photo_taken_outside_visit")
        .inspect(|f| assert_eq!(f.outcome, "flagged"))
        .filter_map(|f| f.field.clone())
        .collect();
    assert_eq!(reported, expected);
    let token = server.token("sup1");
    let item = server.get_json(&token, &format!("/v1/visits/{visit}"));
    let stored: BTreeSet<String> = item["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "photo_taken_outside_visit" && f["outcome"] == "flagged")
        .map(|f| f["field"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(stored, expected, "{item}");
    assert_eq!(
        item["document"]["photos"][old.to_hex()]["capture"]["zone_known"],
        true
    );
    // What the phone showed the rep is what the server found.
    let on_phone: BTreeSet<String> = local
        .findings
        .iter()
        .filter(|f| f.code == "photo_taken_outside_visit")
        .filter_map(|f| f.field.clone())
        .collect();
    assert_eq!(on_phone, expected);

    // The supervisor's phone shows it in the review list.
    let sup = TestDevice::login(&server, "sup1");
    let review = sup.visits_to_review().expect("review list");
    let item = review
        .iter()
        .find(|i| i.document.id == visit)
        .expect("the visit awaits review");
    let server_findings = item.server_findings.as_ref().expect("online");
    assert!(server_findings
        .iter()
        .any(|f| f.code == "photo_taken_outside_visit"));
    assert!(item
        .document
        .findings
        .iter()
        .any(|f| f.code == "photo_taken_outside_visit"));
}

#[test]
fn gallery_photo_from_last_month_is_flagged_on_the_phone_and_on_the_server_sqlite() {
    gallery_photo_from_last_month_is_flagged_on_the_phone_and_on_the_server(false);
}

#[test]
fn gallery_photo_from_last_month_is_flagged_on_the_phone_and_on_the_server_postgres() {
    gallery_photo_from_last_month_is_flagged_on_the_phone_and_on_the_server(true);
}
