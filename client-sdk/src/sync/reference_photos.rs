//! The last step of a sync: the reference photos the pictures of success held name, downloaded
//! (`GET /v1/reference-photos/{sha256}`) so that the visit shows them offline. Bounded: at most
//! [`MAX_PER_SYNC`] photos of at most [`MAX_BYTES`] each per sync; resumable by being
//! idempotent: a photo held is never fetched again, so the next sync fetches what this one did
//! not. Photos no picture names any more are deleted. A photo that does not come (not uploaded
//! yet, offline) is a warning, never a failed sync.

use std::collections::BTreeSet;

use fieldsync_shared::Sha256;

use crate::error::{DeviceError, Result};
use crate::http::Http;
use crate::store::{self, Database};

/// Most reference photos one sync downloads.
pub const MAX_PER_SYNC: usize = 20;
/// Largest reference photo kept, bytes (the server's upload limit).
pub const MAX_BYTES: usize = 5 * 1024 * 1024;

/// Downloads the missing reference photos (bounded); returns how many were stored.
pub(crate) fn download(db: &Database, http: &Http, warnings: &mut Vec<String>) -> Result<usize> {
    let wanted: BTreeSet<Sha256> = store::success_pictures(&db.lock())?
        .iter()
        .flat_map(|p| p.reference_photos.iter().copied())
        .collect();
    let dir = db.dir();
    store::prune_reference_photos(dir, &wanted)?;
    let missing: Vec<&Sha256> = wanted
        .iter()
        .filter(|sha| !store::reference_photo_path(dir, sha).exists())
        .take(MAX_PER_SYNC)
        .collect();
    let mut stored = 0;
    for sha in missing {
        match http.reference_photo(sha) {
            Ok(bytes) if bytes.len() > MAX_BYTES => warnings.push(format!(
                "reference photo {sha}: {} bytes, more than {MAX_BYTES}: not kept",
                bytes.len()
            )),
            Ok(bytes) if Sha256::digest(&bytes) != *sha => warnings.push(format!(
                "reference photo {sha}: the bytes received hash to another SHA-256: not kept"
            )),
            Ok(bytes) => {
                store::write_reference_photo(dir, sha, &bytes)?;
                stored += 1;
            }
            // The network went: the next sync goes on from here.
            Err(e @ DeviceError::Offline(_)) => {
                warnings.push(format!("reference photos: {e}"));
                break;
            }
            Err(e) => warnings.push(format!("reference photo {sha}: {e}")),
        }
    }
    Ok(stored)
}
