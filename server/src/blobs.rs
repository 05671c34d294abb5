//! Blob storage for photo bytes: a small `put/get/exists/delete` trait with a typed error, and
//! [`LocalBlobStore`], which keeps blobs as files under a root folder.
//!
//! Keys are [`BlobKey`]s: relative, `/`-separated paths of safe segments, so a key can never
//! escape the root. Photos live at `tenants/<tenant>/photos/<sha256[0..2]>/<sha256>`: the tenant
//! is part of the key, so one tenant can never read (or learn of) another tenant's photo.

use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use fieldsync_shared::{Sha256, TenantId};

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The storage cannot be used right now (disk full, read-only, unreachable): retry later.
    #[error("blob storage unavailable: {0}")]
    Unavailable(String),
    /// A key that is not a safe relative path.
    #[error("invalid blob key: {0}")]
    InvalidKey(String),
    /// Any other I/O failure.
    #[error("blob storage I/O error: {0}")]
    Io(#[from] io::Error),
}

impl BlobError {
    fn from_io(e: io::Error) -> Self {
        use io::ErrorKind::*;
        match e.kind() {
            StorageFull | ReadOnlyFilesystem | TimedOut | ResourceBusy => {
                BlobError::Unavailable(e.to_string())
            }
            _ => BlobError::Io(e),
        }
    }
}

/// A validated blob key: non-empty `/`-separated segments of `[A-Za-z0-9._-]`, no segment
/// `.` or `..`, no leading `/`, at most 512 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlobKey(String);

impl BlobKey {
    pub const MAX_LEN: usize = 512;

    pub fn parse(s: &str) -> Result<Self, BlobError> {
        if s.is_empty() || s.len() > Self::MAX_LEN {
            return Err(BlobError::InvalidKey(format!(
                "length {} not in 1..={}",
                s.len(),
                Self::MAX_LEN
            )));
        }
        for seg in s.split('/') {
            if seg.is_empty() || seg == "." || seg == ".." {
                return Err(BlobError::InvalidKey(format!(
                    "{s:?} has an empty, '.' or '..' segment"
                )));
            }
            if let Some(c) = seg
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
            {
                return Err(BlobError::InvalidKey(format!("{s:?} contains {c:?}")));
            }
        }
        Ok(BlobKey(s.to_string()))
    }

    /// `tenants/<tenant>/photos/<sha256[0..2]>/<sha256>`.
    pub fn photo(tenant: TenantId, sha256: &Sha256) -> Self {
        let hex = sha256.to_hex();
        // Built only from a uuid and lower-case hex: always a valid key.
        BlobKey(format!("tenants/{tenant}/photos/{}/{hex}", &hex[..2]))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BlobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Bytes by key. Implementations: [`LocalBlobStore`] (default); an S3-compatible store later.
#[async_trait::async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Stores `bytes` durably under `key` before returning. Putting a key that already exists
    /// is a no-op (keys are content addresses: the bytes are the same).
    async fn put(&self, key: &BlobKey, bytes: Bytes) -> Result<(), BlobError>;
    async fn get(&self, key: &BlobKey) -> Result<Option<Bytes>, BlobError>;
    async fn exists(&self, key: &BlobKey) -> Result<bool, BlobError>;
    /// Removes `key`; deleting an absent key is not an error.
    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError>;
}

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
}

#[cfg(test)]
mod tests {
    use super::*;

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
