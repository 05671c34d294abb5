//! Shelf photos (and expense receipts, `expenses`): content-addressed by SHA-256, copied into the device's `photos/` folder (the
//! user's gallery file may be deleted before sync), referenced from the visit document by
//! hash with the capture time and place of its EXIF (`photo_capture`), and queued for upload (the order and the upload itself: `send_queue`); thumbnails
//! read back from the server for review screens.

use std::io::Write;
use std::path::{Path, PathBuf};

use fieldsync_shared::document::hydrate_visit;
use fieldsync_shared::rules::photos::{self as photo_rule, PhotoTolerance};
use fieldsync_shared::rules::submission;
use fieldsync_shared::rules::Verdict;
use fieldsync_shared::visit::{PhotoRef, Visit, VisitStep};
use fieldsync_shared::{DocId, DocKind, ParseError, Sha256, Timestamp, UserId};

use super::Device;
use crate::edits;
use crate::error::{DeviceError, Result};
use crate::photo_capture;
use crate::send_queue::{self, PhotoUpload};
use crate::store::{self, Database, NewPhoto};

/// Folder (inside the device directory) holding photo bytes.
const PHOTO_DIR: &str = "photos";

impl Device {
    /// Attaches a photo file to a visit: the bytes are copied into the device's photo folder,
    /// the visit references them by SHA-256 and the upload is queued. Returns the hash.
    pub fn attach_photo(
        &self,
        visit: DocId,
        file: &Path,
        step: Option<VisitStep>,
    ) -> Result<Sha256> {
        self.attach_photo_checked(visit, file, step)
            .map(|(sha, _)| sha)
    }

    /// [`Device::attach_photo`], also returning the photo rule's findings (attached or, by its
    /// EXIF, taken outside the visit or away from the store; no capture time; reused from
    /// another visit), which are flags for the supervisor.
    pub fn attach_photo_checked(
        &self,
        visit: DocId,
        file: &Path,
        step: Option<VisitStep>,
    ) -> Result<(Sha256, Verdict)> {
        let file = read_photo(file)?;
        let (bytes, content_type, sha) = (&file.bytes, file.content_type, file.sha256);
        let taken_at = Timestamp::now();
        let capture = photo_capture::read(bytes);
        let photo_by = |by: UserId| PhotoRef {
            sha256: sha,
            size_bytes: bytes.len() as u64,
            content_type: content_type.to_string(),
            step,
            taken_at,
            taken_by: by,
            position: None,
            capture: Some(capture.clone()),
        };
        // Refuse early (before copying bytes) when the write policy refuses the photo.
        {
            let conn = self.db.lock();
            let profile = store::require_profile(&conn)?;
            let row = edits::load_row(&conn, visit, DocKind::Visit)?;
            let before = hydrate_visit(&row.load(self.db.actor())?)?;
            let mut after = before.clone();
            after
                .photos
                .entry(sha.to_hex())
                .or_insert(photo_by(profile.id));
            edits::authorize(&conn, &profile, Some(&before), &after)?;
        }
        let known_elsewhere = photo_hashes_elsewhere(&edits::read_all(&self.db)?, visit);
        let row = store_photo_bytes(&self.db, &file)?;
        let verdict = edits::edit(
            &self.db,
            visit,
            "attach photo",
            |conn, profile, v: &mut Visit| {
                let photo = photo_by(profile.id);
                let store = store::store(conn, v.store_id)?
                    .ok_or_else(|| DeviceError::not_found("store", v.store_id))?;
                let verdict = photo_rule::check_photo(
                    v,
                    &photo,
                    &store,
                    &known_elsewhere,
                    PhotoTolerance::default(),
                );
                edits::refuse_if_blocked(&verdict)?;
                if !v.photos.contains_key(&sha.to_hex()) {
                    v.findings.extend(submission::shown(&verdict, taken_at));
                }
                // The same photo attached twice stays one photo, as first recorded.
                v.photos.entry(sha.to_hex()).or_insert(photo);
                Ok(verdict)
            },
            |tx| send_queue::enqueue(tx, &row),
        )?;
        Ok((sha, verdict))
    }

    /// The photo's thumbnail as the server has it (online): a JPEG of at most 256 px on its
    /// longer side, the one the photographer's device sent first while the full photo is on
    /// its way, the server's once it is stored. For review screens (supervisors see the
    /// thumbnails of the visits in their scope). `NotFound` if the server has no thumbnail of
    /// it, or the photo is not one this user may see.
    pub fn photo_thumbnail(&self, sha: &Sha256) -> Result<Vec<u8>> {
        let http = self.session_http()?;
        match http.photo_thumbnail(sha) {
            Err(DeviceError::Server { status: 404, .. }) => {
                Err(DeviceError::not_found("photo thumbnail", sha))
            }
            other => other,
        }
    }

    /// The photo queue: every photo of this device with its upload state, oldest first.
    pub fn photo_uploads(&self) -> Result<Vec<PhotoUpload>> {
        send_queue::photo_uploads(&self.db.lock())
    }

    /// Queues the failed photos again (e.g. after the user repaired storage); the next sync
    /// tries them once more. Returns how many.
    pub fn retry_failed_photos(&self) -> Result<u32> {
        send_queue::retry_failed(&self.db.lock())
    }

    /// Where a photo's bytes are kept on this device, if it is known here.
    pub fn photo_path(&self, sha: &Sha256) -> Result<Option<PathBuf>> {
        let path = store::photo_file(&self.db.lock(), sha)?;
        Ok(path.map(|p| self.db.dir().join(p)))
    }
}

/// A photo file read for attaching: its bytes, type and hash.
pub(super) struct PhotoFile {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    pub sha256: Sha256,
}

/// Reads a photo the app names: not empty, an image type the pipeline takes.
pub(super) fn read_photo(file: &Path) -> Result<PhotoFile> {
    let bytes = std::fs::read(file).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => DeviceError::not_found("file", file.display()),
        _ => DeviceError::Storage(format!("reading {}: {e}", file.display())),
    })?;
    if bytes.is_empty() {
        return Err(ParseError::new("photo", "the file is empty").into());
    }
    let content_type = content_type_of(&bytes, file)
        .ok_or_else(|| ParseError::new("photo", "not a JPEG, PNG, WebP or HEIC image"))?;
    let sha256 = Sha256::digest(&bytes);
    Ok(PhotoFile {
        bytes,
        content_type,
        sha256,
    })
}

/// Copies the photo into the device's photo folder, durably, and returns its upload queue
/// row. The bytes are on disk before a document references them; a crash in between leaves
/// an unreferenced file, never a reference without bytes.
pub(super) fn store_photo_bytes(db: &Database, file: &PhotoFile) -> Result<NewPhoto> {
    let relative = relative_path(&file.sha256, file.content_type);
    write_durably(&db.dir().join(&relative), &file.bytes)?;
    Ok(NewPhoto {
        sha256: file.sha256,
        path: relative.to_string_lossy().into_owned(),
        size_bytes: file.bytes.len() as u64,
        content_type: file.content_type.to_string(),
    })
}

/// Hashes of the photos attached to visits (other than `except`), for the reuse rule.
fn photo_hashes_elsewhere(visits: &[Visit], except: DocId) -> Vec<Sha256> {
    visits
        .iter()
        .filter(|v| v.id != except)
        .flat_map(|v| v.photos.values().map(|p| p.sha256))
        .collect()
}

/// `photos/ab/abcdef....jpg`: spread over 256 folders.
fn relative_path(sha: &Sha256, content_type: &str) -> PathBuf {
    let hex = sha.to_hex();
    let ext = match content_type {
        "image/png" => "png",
        "image/webp" => "webp",
        "image/heic" => "heic",
        _ => "jpg",
    };
    Path::new(PHOTO_DIR)
        .join(&hex[..2])
        .join(format!("{hex}.{ext}"))
}

/// The image type from the file's magic bytes, else from its extension.
pub(crate) fn content_type_of(bytes: &[u8], file: &Path) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some("image/jpeg");
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some("image/png");
    }
    if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Some("image/webp");
    }
    if bytes.len() >= 12
        && &bytes[4..8] == b"ftyp"
        && matches!(&bytes[8..12], b"heic" | b"heix" | b"mif1" | b"msf1")
    {
        return Some("image/heic");
    }
    let ext = file.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "jpg" | "jpeg" => Some("image/jpeg"),
        "png" => Some("image/png"),
        "webp" => Some("image/webp"),
        "heic" | "heif" => Some("image/heic"),
        _ => None,
    }
}

/// Writes to a temporary file, fsyncs, renames into place: the final path never holds a
/// partial photo. An existing file with the same name normally holds the same bytes (the name
/// is their hash); one that does not (corrupted on the device) is replaced.
fn write_durably(path: &Path, bytes: &[u8]) -> Result<()> {
    if std::fs::read(path).is_ok_and(|existing| existing == bytes) {
        return Ok(());
    }
    let dir = path
        .parent()
        .ok_or_else(|| DeviceError::Storage(format!("bad photo path {}", path.display())))?;
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension("part");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_are_sniffed_then_guessed_from_the_extension() {
        let p = Path::new("x.bin");
        assert_eq!(
            content_type_of(&[0xFF, 0xD8, 0xFF, 0xE0], p),
            Some("image/jpeg")
        );
        assert_eq!(
            content_type_of(b"\x89PNG\r\n\x1a\nxxxx", p),
            Some("image/png")
        );
        assert_eq!(
            content_type_of(b"RIFF\0\0\0\0WEBPVP8 ", p),
            Some("image/webp")
        );
        assert_eq!(
            content_type_of(b"\0\0\0\x18ftypheic", p),
            Some("image/heic")
        );
        assert_eq!(
            content_type_of(b"hello", Path::new("a.JPG")),
            Some("image/jpeg")
        );
        assert_eq!(content_type_of(b"hello", p), None);
    }
}
