//! The reference photos of the pictures of success held offline: files in the data directory
//! (`reference-photos/<sha256>.jpg`), content-addressed, written whole (a temporary file
//! renamed) so that a file present is always complete. The sync downloads them
//! (`sync::reference_photos`); `Device::reference_photo` reads them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use fieldsync_shared::Sha256;

use crate::error::Result;

const DIR: &str = "reference-photos";

/// Where the reference photo `sha` is (or would be) kept under the data directory `dir`.
pub fn reference_photo_path(dir: &Path, sha: &Sha256) -> PathBuf {
    dir.join(DIR).join(format!("{}.jpg", sha.to_hex()))
}

/// The bytes of a reference photo held, if any.
pub fn read_reference_photo(dir: &Path, sha: &Sha256) -> Result<Option<Vec<u8>>> {
    match std::fs::read(reference_photo_path(dir, sha)) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Keeps `bytes` as the reference photo `sha` (the caller checked they hash to it).
pub fn write_reference_photo(dir: &Path, sha: &Sha256, bytes: &[u8]) -> Result<()> {
    let path = reference_photo_path(dir, sha);
    std::fs::create_dir_all(dir.join(DIR))?;
    let partial = path.with_extension("partial");
    std::fs::write(&partial, bytes)?;
    std::fs::rename(&partial, &path)?;
    Ok(())
}

/// Deletes the reference photos held that are not in `keep` (pictures replaced or removed);
/// returns how many.
pub fn prune_reference_photos(dir: &Path, keep: &BTreeSet<Sha256>) -> Result<usize> {
    let entries = match std::fs::read_dir(dir.join(DIR)) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e.into()),
    };
    let mut deleted = 0;
    for entry in entries {
        let path = entry?.path();
        let kept = path
            .file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| Sha256::parse(s).ok())
            .is_some_and(|sha| keep.contains(&sha) && path.extension().is_some_and(|e| e == "jpg"));
        if !kept {
            std::fs::remove_file(&path)?;
            deleted += 1;
        }
    }
    Ok(deleted)
}
