//! [`LocalBlobStore`]: blobs as files under a folder of the data directory (the default).

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use fieldsync_shared::Sha256;

use super::{
    BlobError, BlobKey, BlobStore, MultipartId, PendingMultipart, PresignedRequest, StoredPart,
};

/// Blobs as files under `root`. Blocking file I/O runs on the blocking pool.
#[derive(Debug, Clone)]
pub struct LocalBlobStore {
    root: PathBuf,
}

impl LocalBlobStore {
    /// Uses (creating if missing) the folder `root`.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, BlobError> {
        let root = root.into();
        std::fs::create_dir_all(&root).map_err(BlobError::from_io)?;
        Ok(LocalBlobStore { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &BlobKey) -> PathBuf {
        let mut p = self.root.clone();
        p.extend(key.as_str().split('/'));
        p
    }

    fn multipart_root(&self) -> PathBuf {
        self.root.join(MULTIPART_DIR)
    }

    /// The folder of upload `upload`. Ids are ours (32 lower-case hex digits); anything else
    /// names no upload (and can never name a path outside the multipart folder).
    fn upload_dir(&self, upload: &MultipartId) -> Option<PathBuf> {
        let id = &upload.0;
        let valid = id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        valid.then(|| self.multipart_root().join(id))
    }

    /// The folder of `upload` if it exists and belongs to `key`.
    fn existing_upload_dir(
        &self,
        key: &BlobKey,
        upload: &MultipartId,
    ) -> Result<PathBuf, BlobError> {
        let dir = self
            .upload_dir(upload)
            .ok_or_else(|| no_such_upload(upload))?;
        match read_upload_meta(&dir)? {
            Some(meta) if meta.key == key.as_str() => Ok(dir),
            _ => Err(no_such_upload(upload)),
        }
    }

    async fn blocking<T, F>(f: F) -> Result<T, BlobError>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T, BlobError> + Send + 'static,
    {
        tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| BlobError::Io(io::Error::other(e.to_string())))?
    }
}

/// Writes `bytes` to `path` durably unless `path` already exists (content-addressed: the
/// bytes are the same).
fn write_durably(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if path.exists() {
        return Ok(());
    }
    replace_durably(path, |file| file.write_all(bytes))
}

/// Creates or replaces `path` durably with what `fill` writes: temp file in the same folder,
/// fsync, rename, fsync folder. Readers see the old file or the whole new one, never a part.
fn replace_durably(
    path: &Path,
    fill: impl FnOnce(&mut std::fs::File) -> io::Result<()>,
) -> io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::other("blob path has no parent"))?;
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("blob");
    let tmp = dir.join(format!(".{name}.{}.tmp", random_hex(8)?));
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        fill(&mut file)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn random_hex(len: usize) -> io::Result<String> {
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes).map_err(|e| io::Error::other(e.to_string()))?;
    Ok(hex::encode(bytes))
}

/// Name of the folder (under the root) holding unfinished multipart uploads.
const MULTIPART_DIR: &str = ".multipart";
/// The metadata file of one multipart upload.
const MULTIPART_META: &str = "upload.json";

/// What `<root>/.multipart/<id>/upload.json` holds.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct UploadMeta {
    key: String,
    /// Unix milliseconds.
    started_at: i64,
}

fn part_file_name(number: u32) -> String {
    format!("part-{number:05}")
}

fn parse_part_file_name(name: &str) -> Option<u32> {
    name.strip_prefix("part-")?.parse().ok()
}

fn no_such_upload(upload: &MultipartId) -> BlobError {
    BlobError::Io(io::Error::new(
        io::ErrorKind::NotFound,
        format!("no multipart upload {:?} for this key", upload.0),
    ))
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The metadata of the upload in `dir`; `None` if there is no such upload.
fn read_upload_meta(dir: &Path) -> Result<Option<UploadMeta>, BlobError> {
    match std::fs::read(dir.join(MULTIPART_META)) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            BlobError::Io(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {e}", dir.display()),
            ))
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(BlobError::from_io(e)),
    }
}

/// The part files in `dir` by number, with their sizes.
fn stored_parts(dir: &Path) -> io::Result<Vec<StoredPart>> {
    let mut parts = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let Some(number) = entry.file_name().to_str().and_then(parse_part_file_name) else {
            continue;
        };
        parts.push(StoredPart {
            number,
            size: entry.metadata()?.len(),
        });
    }
    parts.sort_by_key(|p| p.number);
    Ok(parts)
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

#[async_trait::async_trait]
impl BlobStore for LocalBlobStore {
    #[tracing::instrument(skip(self, bytes), fields(key = %key, len = bytes.len()))]
    async fn put(&self, key: &BlobKey, bytes: Bytes) -> Result<(), BlobError> {
        let path = self.path(key);
        Self::blocking(move || write_durably(&path, &bytes).map_err(BlobError::from_io)).await
    }

    #[tracing::instrument(skip(self), fields(key = %key))]
    async fn get(&self, key: &BlobKey) -> Result<Option<Bytes>, BlobError> {
        let path = self.path(key);
        Self::blocking(move || match std::fs::read(&path) {
            Ok(b) => Ok(Some(Bytes::from(b))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(BlobError::from_io(e)),
        })
        .await
    }

    #[tracing::instrument(skip(self), fields(key = %key))]
    async fn exists(&self, key: &BlobKey) -> Result<bool, BlobError> {
        let path = self.path(key);
        Self::blocking(move || path.try_exists().map_err(BlobError::from_io)).await
    }

    #[tracing::instrument(skip(self), fields(key = %key))]
    async fn size(&self, key: &BlobKey) -> Result<Option<u64>, BlobError> {
        let path = self.path(key);
        Self::blocking(move || match std::fs::metadata(&path) {
            Ok(m) if m.is_file() => Ok(Some(m.len())),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(BlobError::from_io(e)),
        })
        .await
    }

    #[tracing::instrument(skip(self), fields(key = %key))]
    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError> {
        let path = self.path(key);
        Self::blocking(move || match std::fs::remove_file(&path) {
            Ok(()) => path
                .parent()
                .map_or(Ok(()), sync_dir)
                .map_err(BlobError::from_io),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(BlobError::from_io(e)),
        })
        .await
    }

    async fn presign_put(
        &self,
        _key: &BlobKey,
        _sha256: &Sha256,
        _size: u64,
        _ttl: std::time::Duration,
    ) -> Result<Option<PresignedRequest>, BlobError> {
        Ok(None)
    }
    async fn presign_get(
        &self,
        _key: &BlobKey,
        _ttl: std::time::Duration,
    ) -> Result<Option<PresignedRequest>, BlobError> {
        Ok(None)
    }
    #[tracing::instrument(skip(self), fields(key = %key))]
    async fn create_multipart(&self, key: &BlobKey) -> Result<MultipartId, BlobError> {
        let upload = MultipartId(random_hex(16).map_err(BlobError::from_io)?);
        let dir = self
            .upload_dir(&upload)
            .ok_or_else(|| no_such_upload(&upload))?;
        let meta = serde_json::to_vec(&UploadMeta {
            key: key.as_str().to_string(),
            started_at: now_millis(),
        })
        .map_err(|e| BlobError::Io(io::Error::other(e)))?;
        Self::blocking(move || {
            std::fs::create_dir_all(&dir).map_err(BlobError::from_io)?;
            replace_durably(&dir.join(MULTIPART_META), |f| f.write_all(&meta))
                .map_err(BlobError::from_io)
        })
        .await?;
        Ok(upload)
    }

    async fn presign_part(
        &self,
        _key: &BlobKey,
        _upload: &MultipartId,
        _number: u32,
        _sha256: &Sha256,
        _size: u64,
        _ttl: std::time::Duration,
    ) -> Result<Option<PresignedRequest>, BlobError> {
        Ok(None)
    }

    #[tracing::instrument(skip(self, bytes), fields(key = %key, upload = %upload.0, len = bytes.len()))]
    async fn put_part(
        &self,
        key: &BlobKey,
        upload: &MultipartId,
        number: u32,
        bytes: Bytes,
    ) -> Result<(), BlobError> {
        if number == 0 {
            return Err(BlobError::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                "part numbers start at 1",
            )));
        }
        let dir = self.existing_upload_dir(key, upload)?;
        Self::blocking(move || {
            replace_durably(&dir.join(part_file_name(number)), |f| f.write_all(&bytes))
                .map_err(BlobError::from_io)
        })
        .await
    }

    #[tracing::instrument(skip(self), fields(key = %key, upload = %upload.0))]
    async fn list_parts(
        &self,
        key: &BlobKey,
        upload: &MultipartId,
    ) -> Result<Vec<StoredPart>, BlobError> {
        let dir = self.existing_upload_dir(key, upload)?;
        Self::blocking(move || stored_parts(&dir).map_err(BlobError::from_io)).await
    }

    #[tracing::instrument(skip(self), fields(key = %key, upload = %upload.0))]
    async fn complete_multipart(
        &self,
        key: &BlobKey,
        upload: &MultipartId,
        parts: u32,
    ) -> Result<(), BlobError> {
        if parts == 0 {
            return Err(BlobError::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a multipart upload needs at least one part",
            )));
        }
        let dir = self.existing_upload_dir(key, upload)?;
        let target = self.path(key);
        Self::blocking(move || {
            let part_paths: Vec<PathBuf> =
                (1..=parts).map(|n| dir.join(part_file_name(n))).collect();
            if let Some(missing) = (1..=parts).find(|n| !part_paths[*n as usize - 1].is_file()) {
                return Err(BlobError::Io(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("part {missing} of {parts} has not been uploaded"),
                )));
            }
            if !target.exists() {
                replace_durably(&target, |out| {
                    for path in &part_paths {
                        let mut part = std::fs::File::open(path)?;
                        io::copy(&mut part, out)?;
                    }
                    Ok(())
                })
                .map_err(BlobError::from_io)?;
            }
            // The blob is durable: the parts can go.
            std::fs::remove_dir_all(&dir).map_err(BlobError::from_io)
        })
        .await
    }

    #[tracing::instrument(skip(self), fields(key = %key, upload = %upload.0))]
    async fn abort_multipart(&self, key: &BlobKey, upload: &MultipartId) -> Result<(), BlobError> {
        // An unknown upload, or one of another key, is left alone: nothing to abort.
        let Ok(dir) = self.existing_upload_dir(key, upload) else {
            return Ok(());
        };
        Self::blocking(move || match std::fs::remove_dir_all(&dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(BlobError::from_io(e)),
        })
        .await
    }

    #[tracing::instrument(skip(self))]
    async fn list_multipart(&self, before: i64) -> Result<Vec<PendingMultipart>, BlobError> {
        let root = self.multipart_root();
        Self::blocking(move || {
            let entries = match std::fs::read_dir(&root) {
                Ok(entries) => entries,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
                Err(e) => return Err(BlobError::from_io(e)),
            };
            let mut pending = Vec::new();
            for entry in entries {
                let entry = entry.map_err(BlobError::from_io)?;
                let Some(id) = entry.file_name().to_str().map(str::to_string) else {
                    continue;
                };
                // A folder without metadata is an upload being created (or debris): skip it.
                let Some(meta) = read_upload_meta(&entry.path())? else {
                    continue;
                };
                if meta.started_at >= before {
                    continue;
                }
                let Ok(key) = BlobKey::parse(&meta.key) else {
                    continue;
                };
                pending.push(PendingMultipart {
                    key,
                    id: MultipartId(id),
                    started_at: meta.started_at,
                });
            }
            pending.sort_by_key(|p| p.started_at);
            Ok(pending)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blobs::BlobKey;

    #[test]
    fn keys_cannot_escape_the_root() {
        for bad in [
            "",
            "/etc/passwd",
            "a/../b",
            "..",
            "a//b",
            "a/./b",
            "a\\b",
            "a/b/",
            "ä",
        ] {
            assert!(BlobKey::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(BlobKey::parse("tenants/x/photos/ab/abcdef").is_ok());
    }

    #[tokio::test]
    async fn put_get_exists_delete() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobStore::open(dir.path().join("blobs")).unwrap();
        let key = BlobKey::parse("a/b/c").unwrap();
        assert!(!store.exists(&key).await.unwrap());
        assert_eq!(store.get(&key).await.unwrap(), None);
        store.put(&key, Bytes::from_static(b"hello")).await.unwrap();
        // A second put of the same key is a no-op, not an overwrite.
        store.put(&key, Bytes::from_static(b"other")).await.unwrap();
        assert_eq!(
            store.get(&key).await.unwrap().as_deref(),
            Some(&b"hello"[..])
        );
        assert!(store.exists(&key).await.unwrap());
        store.delete(&key).await.unwrap();
        store.delete(&key).await.unwrap();
        assert!(!store.exists(&key).await.unwrap());
        // No temp files are left behind.
        let left: Vec<_> = std::fs::read_dir(dir.path().join("blobs/a/b"))
            .unwrap()
            .collect();
        assert!(left.is_empty());
    }
}
