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

/// Writes `bytes` to `path` durably: temp file in the same folder, fsync, rename, fsync folder.
fn write_durably(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if path.exists() {
        return Ok(());
    }
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::other("blob path has no parent"))?;
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("blob");
    let mut suffix = [0u8; 8];
    getrandom::fill(&mut suffix).map_err(|e| io::Error::other(e.to_string()))?;
    let tmp = dir.join(format!(".{name}.{}.tmp", hex::encode(suffix)));
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        file.write_all(bytes)?;
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

    async fn size(&self, key: &BlobKey) -> Result<Option<u64>, BlobError> {
        todo!("{key}")
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
    async fn create_multipart(&self, key: &BlobKey) -> Result<MultipartId, BlobError> {
        todo!("{key}")
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
    async fn put_part(
        &self,
        key: &BlobKey,
        upload: &MultipartId,
        number: u32,
        bytes: Bytes,
    ) -> Result<(), BlobError> {
        todo!("{key} {upload:?} {number} {}", bytes.len())
    }
    async fn list_parts(
        &self,
        key: &BlobKey,
        upload: &MultipartId,
    ) -> Result<Vec<StoredPart>, BlobError> {
        todo!("{key} {upload:?}")
    }
    async fn complete_multipart(
        &self,
        key: &BlobKey,
        upload: &MultipartId,
        parts: u32,
    ) -> Result<(), BlobError> {
        todo!("{key} {upload:?} {parts}")
    }
    async fn abort_multipart(&self, key: &BlobKey, upload: &MultipartId) -> Result<(), BlobError> {
        todo!("{key} {upload:?}")
    }
    async fn list_multipart(&self, before: i64) -> Result<Vec<PendingMultipart>, BlobError> {
        todo!("{before}")
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
