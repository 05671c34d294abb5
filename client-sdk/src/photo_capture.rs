//! When and where a photo was taken, from its EXIF (JPEG, HEIC, PNG, WebP; `kamadak-exif`):
//! read by the device when a photo is attached and kept in the visit's photo entry, where the
//! shared photo rule checks it against the visit's window and the store's geofence.
//!
//! The time: `DateTimeOriginal` with `OffsetTimeOriginal` is an instant; else the GPS date
//! and time (UTC); else `DateTimeOriginal` (or `DateTime`) as a wall-clock time of an unknown
//! zone, read as UTC with `zone_known: false` (the rule then allows any UTC offset).

use std::io::Cursor;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use exif::{DateTime, Exif, In, Rational, Tag, Value};
use fieldsync_shared::visit::PhotoCapture;
use fieldsync_shared::{Position, Timestamp};

/// What the photo's EXIF says about its capture. A file with no EXIF (or unreadable EXIF)
/// records nothing: `at` and `position` are `None`.
pub(crate) fn read(bytes: &[u8]) -> PhotoCapture {
    let Ok(exif) = exif::Reader::new().read_from_container(&mut Cursor::new(bytes)) else {
        return PhotoCapture {
            at: None,
            zone_known: false,
            position: None,
        };
    };
    let (at, zone_known) = match (original_instant(&exif), gps_instant(&exif)) {
        (Some(at), _) | (None, Some(at)) => (Some(at), true),
        (None, None) => (wall_clock(&exif), false),
    };
    PhotoCapture {
        at,
        zone_known,
        position: gps_position(&exif),
    }
}

fn ascii(exif: &Exif, tag: Tag) -> Option<&[u8]> {
    match &exif.get_field(tag, In::PRIMARY)?.value {
        Value::Ascii(parts) => parts.first().map(Vec::as_slice),
        _ => None,
    }
}

fn rationals(exif: &Exif, tag: Tag) -> Option<&[Rational]> {
    match &exif.get_field(tag, In::PRIMARY)?.value {
        Value::Rational(r) => Some(r.as_slice()),
        _ => None,
    }
}

/// `DateTimeOriginal` else `DateTime`, parsed (with its offset tag when present).
fn date_time(exif: &Exif) -> Option<DateTime> {
    let (time, offset) = [
        (Tag::DateTimeOriginal, Tag::OffsetTimeOriginal),
        (Tag::DateTime, Tag::OffsetTime),
    ]
    .into_iter()
    .find_map(|(time, offset)| Some((ascii(exif, time)?, offset)))?;
    let mut parsed = DateTime::from_ascii(time).ok()?;
    if let Some(raw) = ascii(exif, offset) {
        // An unreadable offset leaves the time zoneless.
        let _ = parsed.parse_offset(raw);
    }
    Some(parsed)
}

fn naive(d: &DateTime) -> Option<NaiveDateTime> {
    let date = NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))?;
    let time =
        NaiveTime::from_hms_opt(u32::from(d.hour), u32::from(d.minute), u32::from(d.second))?;
    Some(date.and_time(time))
}

/// The capture time with the camera's UTC offset.
fn original_instant(exif: &Exif) -> Option<Timestamp> {
    let d = date_time(exif)?;
    let offset_minutes = d.offset?;
    let utc = naive(&d)?.and_utc().timestamp_millis() - i64::from(offset_minutes) * 60_000;
    Some(Timestamp(utc))
}

/// The capture time as a wall clock of an unknown zone, read as UTC.
fn wall_clock(exif: &Exif) -> Option<Timestamp> {
    let d = date_time(exif)?;
    Some(Timestamp(naive(&d)?.and_utc().timestamp_millis()))
}

/// `GPSDateStamp` (`YYYY:MM:DD`) and `GPSTimeStamp` (hours, minutes, seconds), UTC.
fn gps_instant(exif: &Exif) -> Option<Timestamp> {
    let date = std::str::from_utf8(ascii(exif, Tag::GPSDateStamp)?).ok()?;
    let date = NaiveDate::parse_from_str(date.trim_end_matches('\0'), "%Y:%m:%d").ok()?;
    let hms = rationals(exif, Tag::GPSTimeStamp)?;
    let [h, m, s] = hms else { return None };
    let seconds = h.to_f64() * 3600.0 + m.to_f64() * 60.0 + s.to_f64();
    if !seconds.is_finite() || !(0.0..86_400.0).contains(&seconds) {
        return None;
    }
    let midnight = date.and_time(NaiveTime::MIN).and_utc().timestamp_millis();
    Some(Timestamp(midnight + (seconds * 1000.0) as i64))
}

/// `GPSLatitude`/`GPSLongitude` (degrees, minutes, seconds) with their N/S, E/W references.
fn gps_position(exif: &Exif) -> Option<Position> {
    let degrees = |tag: Tag, negative: u8| -> Option<f64> {
        let [d, m, s] = rationals(exif, tag)? else {
            return None;
        };
        let value = d.to_f64() + m.to_f64() / 60.0 + s.to_f64() / 3600.0;
        let reference = match tag {
            Tag::GPSLatitude => Tag::GPSLatitudeRef,
            _ => Tag::GPSLongitudeRef,
        };
        let sign = match ascii(exif, reference)?.first() {
            Some(r) if r.eq_ignore_ascii_case(&negative) => -1.0,
            _ => 1.0,
        };
        Some(sign * value)
    };
    let lat = degrees(Tag::GPSLatitude, b'S')?;
    let lon = degrees(Tag::GPSLongitude, b'W')?;
    Position::new(lat, lon).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use exif::experimental::Writer;
    use exif::Field;

    fn field(tag: Tag, value: Value) -> Field {
        Field {
            tag,
            ifd_num: In::PRIMARY,
            value,
        }
    }

    fn ascii_field(tag: Tag, s: &str) -> Field {
        field(tag, Value::Ascii(vec![s.as_bytes().to_vec()]))
    }

    fn rational3(tag: Tag, a: (u32, u32), b: (u32, u32), c: (u32, u32)) -> Field {
        field(tag, Value::Rational(vec![a.into(), b.into(), c.into()]))
    }

    /// A minimal JPEG (SOI, an APP1 `Exif` segment with `fields`, EOI): enough for the reader.
    fn jpeg_with(fields: &[Field]) -> Vec<u8> {
        let mut writer = Writer::new();
        for f in fields {
            writer.push_field(f);
        }
        let mut tiff = Cursor::new(Vec::new());
        writer.write(&mut tiff, false).expect("write EXIF");
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend(tiff.into_inner());
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE1];
        jpeg.extend(u16::try_from(app1.len() + 2).unwrap().to_be_bytes());
        jpeg.extend(app1);
        jpeg.extend([0xFF, 0xD9]);
        jpeg
    }

    fn millis(s: &str) -> i64 {
        Timestamp::parse(s).unwrap().millis()
    }

    #[test]
    fn time_with_offset_is_an_instant() {
        let c = read(&jpeg_with(&[
            ascii_field(Tag::DateTimeOriginal, "2026:11:22 14:30:05"),
            ascii_field(Tag::OffsetTimeOriginal, "+08:00"),
        ]));
        assert_eq!(c.at, Some(Timestamp(millis("2026-11-22T06:30:05Z"))));
        assert!(c.zone_known);
        assert_eq!(c.position, None);
    }

    #[test]
    fn gps_time_is_used_when_the_camera_wrote_no_offset() {
        let c = read(&jpeg_with(&[
            ascii_field(Tag::DateTimeOriginal, "2026:11:22 14:30:05"),
            ascii_field(Tag::GPSDateStamp, "2026:11:22"),
            rational3(Tag::GPSTimeStamp, (6, 1), (30, 1), (5, 1)),
        ]));
        assert_eq!(c.at, Some(Timestamp(millis("2026-11-22T06:30:05Z"))));
        assert!(c.zone_known);
    }

    #[test]
    fn a_bare_wall_clock_is_kept_without_its_zone() {
        let c = read(&jpeg_with(&[ascii_field(
            Tag::DateTimeOriginal,
            "2026:10:01 09:00:00",
        )]));
        assert_eq!(c.at, Some(Timestamp(millis("2026-10-01T09:00:00Z"))));
        assert!(!c.zone_known);
    }

    #[test]
    fn gps_position_with_its_hemispheres() {
        let c = read(&jpeg_with(&[
            ascii_field(Tag::DateTime, "2026:10:01 09:00:00"),
            rational3(Tag::GPSLatitude, (30, 1), (35, 1), (3402, 100)),
            ascii_field(Tag::GPSLatitudeRef, "N"),
            rational3(Tag::GPSLongitude, (114, 1), (18, 1), (198, 10)),
            ascii_field(Tag::GPSLongitudeRef, "W"),
        ]));
        let p = c.position.expect("position");
        assert!((p.lat() - 30.5928).abs() < 1e-4, "{}", p.lat());
        assert!((p.lon() + 114.3055).abs() < 1e-4, "{}", p.lon());
    }

    #[test]
    fn a_file_without_exif_records_nothing() {
        let files: [&[u8]; 3] = [b"\xFF\xD8\xFF\xE0 not exif", b"", b"\x89PNG\r\n\x1a\n"];
        for bytes in files {
            let c = read(bytes);
            assert_eq!((c.at, c.position), (None, None));
            assert!(!c.zone_known);
        }
    }
}
