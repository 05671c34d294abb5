//! [`PhotoStore`](super::PhotoStore) for both engines.
//!
//! Both engines run the same SQL (`$N` placeholders work on SQLite too), so the two
//! implementations are one macro body, `photo_store!`, instantiated below for [`SqliteStore`]
//! and [`PgStore`].
//!
//! [`SqliteStore`]: super::sqlite::SqliteStore
//! [`PgStore`]: super::postgres::PgStore

/// The `photo_uploads` columns `upload_from_row` reads.
macro_rules! upload_columns {
    () => {
        "id, tenant_id, sha256, size_bytes, content_type, mode, part_size, parts, multipart_id, \
         status, created_by, created_at, updated_at"
    };
}

/// Implements [`PhotoStore`](super::PhotoStore) for `$store` (an engine's store with a
/// `pool()`), where `$row` is the engine's row type.
macro_rules! photo_store {
    ($store:ty, $row:ty) => {
        use fieldsync_shared::{Sha256, TenantId, Timestamp, UserId};
        use sqlx::Row;

        use $crate::store::decode::{corrupt, u32_of};
        use $crate::store::photos::{
            PhotoMeta, PhotoUpload, ThumbnailOrigin, UploadMode, UploadStatus,
        };
        use $crate::store::{StoreError, StoreResult};

        fn photo_from_row(row: &$row) -> StoreResult<PhotoMeta> {
            let size: i64 = row.try_get("size_bytes")?;
            Ok(PhotoMeta {
                tenant_id: TenantId::parse(row.try_get("tenant_id")?).map_err(corrupt)?,
                sha256: Sha256::parse(row.try_get("sha256")?).map_err(corrupt)?,
                size_bytes: u64::try_from(size).map_err(corrupt)?,
                content_type: row.try_get("content_type")?,
                uploaded_by: UserId::parse(row.try_get("uploaded_by")?).map_err(corrupt)?,
                created_at: Timestamp(row.try_get("created_at")?),
            })
        }

        fn upload_from_row(row: &$row) -> StoreResult<PhotoUpload> {
            let mode: String = row.try_get("mode")?;
            let status: String = row.try_get("status")?;
            let id: String = row.try_get("id")?;
            Ok(PhotoUpload {
                id: uuid::Uuid::parse_str(&id).map_err(corrupt)?,
                tenant_id: TenantId::parse(row.try_get("tenant_id")?).map_err(corrupt)?,
                sha256: Sha256::parse(row.try_get("sha256")?).map_err(corrupt)?,
                size_bytes: u64::try_from(row.try_get::<i64, _>("size_bytes")?).map_err(corrupt)?,
                content_type: row.try_get("content_type")?,
                mode: UploadMode::parse(&mode)
                    .ok_or_else(|| StoreError::Corrupt(format!("photo_uploads.mode {mode:?}")))?,
                part_size: u64::try_from(row.try_get::<i64, _>("part_size")?).map_err(corrupt)?,
                parts: u32_of("parts", row.try_get("parts")?)?,
                multipart_id: row.try_get("multipart_id")?,
                status: UploadStatus::parse(&status)
                    .ok_or_else(|| StoreError::Corrupt(format!("photo_uploads.status {status:?}")))?,
                created_by: UserId::parse(row.try_get("created_by")?).map_err(corrupt)?,
                created_at: Timestamp(row.try_get("created_at")?),
                updated_at: Timestamp(row.try_get("updated_at")?),
            })
        }

        #[async_trait::async_trait]
        impl $crate::store::PhotoStore for $store {
            #[tracing::instrument(skip(self, photo), fields(tenant = %photo.tenant_id, sha256 = %photo.sha256))]
            async fn insert_photo_if_absent(&self, photo: &PhotoMeta) -> StoreResult<bool> {
                let size = i64::try_from(photo.size_bytes).map_err(corrupt)?;
                let done = sqlx::query(
                    "INSERT INTO photos (tenant_id, sha256, size_bytes, content_type, uploaded_by, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, sha256) DO NOTHING",
                )
                .bind(photo.tenant_id.to_string())
                .bind(photo.sha256.to_hex())
                .bind(size)
                .bind(&photo.content_type)
                .bind(photo.uploaded_by.to_string())
                .bind(photo.created_at.millis())
                .execute(self.pool())
                .await?;
                Ok(done.rows_affected() == 1)
            }

            #[tracing::instrument(skip(self))]
            async fn get_photo(&self, tenant: TenantId, sha256: &Sha256) -> StoreResult<Option<PhotoMeta>> {
                let row = sqlx::query(
                    "SELECT tenant_id, sha256, size_bytes, content_type, uploaded_by, created_at \
                     FROM photos WHERE tenant_id = $1 AND sha256 = $2",
                )
                .bind(tenant.to_string())
                .bind(sha256.to_hex())
                .fetch_optional(self.pool())
                .await?;
                row.map(|row| photo_from_row(&row)).transpose()
            }

            #[tracing::instrument(skip(self, upload), fields(tenant = %upload.tenant_id, sha256 = %upload.sha256))]
            async fn create_photo_upload(&self, upload: &PhotoUpload) -> StoreResult<bool> {
                // The partial unique index on open uploads turns a second open upload of the same
                // photo by the same person into "nothing inserted".
                let done = sqlx::query(
                    "INSERT INTO photo_uploads (id, tenant_id, sha256, size_bytes, content_type, mode, \
                       part_size, parts, multipart_id, status, created_by, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT DO NOTHING",
                )
                .bind(upload.id.to_string())
                .bind(upload.tenant_id.to_string())
                .bind(upload.sha256.to_hex())
                .bind(i64::try_from(upload.size_bytes).map_err(corrupt)?)
                .bind(&upload.content_type)
                .bind(upload.mode.as_str())
                .bind(i64::try_from(upload.part_size).map_err(corrupt)?)
                .bind(i64::from(upload.parts))
                .bind(upload.multipart_id.as_deref())
                .bind(upload.status.as_str())
                .bind(upload.created_by.to_string())
                .bind(upload.created_at.millis())
                .bind(upload.updated_at.millis())
                .execute(self.pool())
                .await?;
                Ok(done.rows_affected() == 1)
            }

            #[tracing::instrument(skip(self))]
            async fn get_photo_upload(
                &self,
                tenant: TenantId,
                id: uuid::Uuid,
            ) -> StoreResult<Option<PhotoUpload>> {
                let row = sqlx::query(concat!(
                    "SELECT ",
                    upload_columns!(),
                    " FROM photo_uploads WHERE id = $1 AND tenant_id = $2"
                ))
                .bind(id.to_string())
                .bind(tenant.to_string())
                .fetch_optional(self.pool())
                .await?;
                row.map(|row| upload_from_row(&row)).transpose()
            }

            #[tracing::instrument(skip(self))]
            async fn find_open_photo_upload(
                &self,
                tenant: TenantId,
                sha256: &Sha256,
                user: UserId,
            ) -> StoreResult<Option<PhotoUpload>> {
                let row = sqlx::query(concat!(
                    "SELECT ",
                    upload_columns!(),
                    " FROM photo_uploads \
                     WHERE tenant_id = $1 AND sha256 = $2 AND created_by = $3 \
                       AND status = 'uploading'"
                ))
                .bind(tenant.to_string())
                .bind(sha256.to_hex())
                .bind(user.to_string())
                .fetch_optional(self.pool())
                .await?;
                row.map(|row| upload_from_row(&row)).transpose()
            }

            #[tracing::instrument(skip(self))]
            async fn set_photo_upload_status(
                &self,
                tenant: TenantId,
                id: uuid::Uuid,
                from: UploadStatus,
                to: UploadStatus,
                at: Timestamp,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE photo_uploads SET status = $1, updated_at = $2 \
                     WHERE id = $3 AND tenant_id = $4 AND status = $5",
                )
                .bind(to.as_str())
                .bind(at.millis())
                .bind(id.to_string())
                .bind(tenant.to_string())
                .bind(from.as_str())
                .execute(self.pool())
                .await?;
                Ok(done.rows_affected() == 1)
            }

            #[tracing::instrument(skip(self))]
            async fn stale_photo_uploads(
                &self,
                before: Timestamp,
                limit: u32,
            ) -> StoreResult<Vec<PhotoUpload>> {
                sqlx::query(concat!(
                    "SELECT ",
                    upload_columns!(),
                    " FROM photo_uploads \
                     WHERE status = 'uploading' AND created_at < $1 ORDER BY created_at LIMIT $2"
                ))
                .bind(before.millis())
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await?
                .iter()
                .map(upload_from_row)
                .collect()
            }

            #[tracing::instrument(skip(self))]
            async fn count_orphan_photos(&self, before: Timestamp) -> StoreResult<u64> {
                let n: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM photos p WHERE p.created_at < $1 AND NOT EXISTS \
                       (SELECT 1 FROM photo_refs r WHERE r.tenant_id = p.tenant_id AND r.sha256 = p.sha256)",
                )
                .bind(before.millis())
                .fetch_one(self.pool())
                .await?;
                Ok(u64::try_from(n).unwrap_or(0))
            }

            #[tracing::instrument(skip(self))]
            async fn orphan_photos(&self, before: Timestamp, limit: u32) -> StoreResult<Vec<PhotoMeta>> {
                sqlx::query(
                    "SELECT tenant_id, sha256, size_bytes, content_type, uploaded_by, created_at \
                     FROM photos p WHERE p.created_at < $1 AND NOT EXISTS \
                       (SELECT 1 FROM photo_refs r WHERE r.tenant_id = p.tenant_id AND r.sha256 = p.sha256) \
                     ORDER BY p.created_at LIMIT $2",
                )
                .bind(before.millis())
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await?
                .iter()
                .map(photo_from_row)
                .collect()
            }

            #[tracing::instrument(skip(self))]
            async fn delete_orphan_photo(
                &self,
                tenant: TenantId,
                sha256: &Sha256,
                before: Timestamp,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "DELETE FROM photos WHERE tenant_id = $1 AND sha256 = $2 AND created_at < $3 \
                       AND NOT EXISTS (SELECT 1 FROM photo_refs r WHERE r.tenant_id = $1 AND r.sha256 = $2)",
                )
                .bind(tenant.to_string())
                .bind(sha256.to_hex())
                .bind(before.millis())
                .execute(self.pool())
                .await?;
                Ok(done.rows_affected() == 1)
            }

            #[tracing::instrument(skip(self))]
            async fn photo_thumbnail_origin(
                &self,
                tenant: TenantId,
                sha256: &Sha256,
            ) -> StoreResult<Option<ThumbnailOrigin>> {
                let origin: Option<String> = sqlx::query_scalar(
                    "SELECT origin FROM photo_thumbnails WHERE tenant_id = $1 AND sha256 = $2",
                )
                .bind(tenant.to_string())
                .bind(sha256.to_hex())
                .fetch_optional(self.pool())
                .await?;
                origin
                    .map(|o| {
                        ThumbnailOrigin::parse(&o).ok_or_else(|| {
                            StoreError::Corrupt(format!("photo_thumbnails.origin {o:?}"))
                        })
                    })
                    .transpose()
            }

            #[tracing::instrument(skip(self))]
            async fn insert_device_thumbnail(
                &self,
                tenant: TenantId,
                sha256: &Sha256,
                size_bytes: u64,
                at: Timestamp,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "INSERT INTO photo_thumbnails (tenant_id, sha256, origin, size_bytes, created_at) \
                     VALUES ($1, $2, 'device', $3, $4) ON CONFLICT (tenant_id, sha256) DO NOTHING",
                )
                .bind(tenant.to_string())
                .bind(sha256.to_hex())
                .bind(i64::try_from(size_bytes).map_err(corrupt)?)
                .bind(at.millis())
                .execute(self.pool())
                .await?;
                Ok(done.rows_affected() == 1)
            }

            #[tracing::instrument(skip(self))]
            async fn record_server_thumbnail(
                &self,
                tenant: TenantId,
                sha256: &Sha256,
                size_bytes: u64,
                at: Timestamp,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO photo_thumbnails (tenant_id, sha256, origin, size_bytes, created_at) \
                     VALUES ($1, $2, 'server', $3, $4) ON CONFLICT (tenant_id, sha256) \
                     DO UPDATE SET origin = 'server', size_bytes = excluded.size_bytes, \
                       created_at = excluded.created_at",
                )
                .bind(tenant.to_string())
                .bind(sha256.to_hex())
                .bind(i64::try_from(size_bytes).map_err(corrupt)?)
                .bind(at.millis())
                .execute(self.pool())
                .await?;
                Ok(())
            }

            #[tracing::instrument(skip(self))]
            async fn stale_device_thumbnails(
                &self,
                before: Timestamp,
                limit: u32,
            ) -> StoreResult<Vec<(TenantId, Sha256)>> {
                sqlx::query(
                    "SELECT t.tenant_id, t.sha256 FROM photo_thumbnails t \
                     WHERE t.origin = 'device' AND t.created_at < $1 AND NOT EXISTS \
                       (SELECT 1 FROM photos p WHERE p.tenant_id = t.tenant_id AND p.sha256 = t.sha256) \
                     ORDER BY t.created_at LIMIT $2",
                )
                .bind(before.millis())
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await?
                .iter()
                .map(|row| {
                    Ok((
                        TenantId::parse(row.try_get("tenant_id")?).map_err(corrupt)?,
                        Sha256::parse(row.try_get("sha256")?).map_err(corrupt)?,
                    ))
                })
                .collect()
            }

            #[tracing::instrument(skip(self))]
            async fn delete_stale_device_thumbnail(
                &self,
                tenant: TenantId,
                sha256: &Sha256,
                before: Timestamp,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "DELETE FROM photo_thumbnails WHERE tenant_id = $1 AND sha256 = $2 \
                       AND origin = 'device' AND created_at < $3 \
                       AND NOT EXISTS (SELECT 1 FROM photos p WHERE p.tenant_id = $1 AND p.sha256 = $2)",
                )
                .bind(tenant.to_string())
                .bind(sha256.to_hex())
                .bind(before.millis())
                .execute(self.pool())
                .await?;
                Ok(done.rows_affected() == 1)
            }

            #[tracing::instrument(skip(self))]
            async fn delete_photo_thumbnail(&self, tenant: TenantId, sha256: &Sha256) -> StoreResult<()> {
                sqlx::query("DELETE FROM photo_thumbnails WHERE tenant_id = $1 AND sha256 = $2")
                    .bind(tenant.to_string())
                    .bind(sha256.to_hex())
                    .execute(self.pool())
                    .await?;
                Ok(())
            }
        }
    };
}

mod sqlite {
    photo_store!(crate::store::sqlite::SqliteStore, sqlx::sqlite::SqliteRow);
}

mod postgres {
    photo_store!(crate::store::postgres::PgStore, sqlx::postgres::PgRow);
}
