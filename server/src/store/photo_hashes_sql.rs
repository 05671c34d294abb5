//! [`PhotoHashStore`](super::photo_hashes::PhotoHashStore) for both engines: the same SQL
//! (`$N` placeholders work on SQLite too), one macro body instantiated for each store.

macro_rules! photo_hash_store {
    ($store:ty, $row:ty) => {
        use fieldsync_shared::{Date, DocId, Sha256, TenantId, Timestamp};
        use sqlx::Row;

        use $crate::store::decode::{corrupt, store_id_of};
        use $crate::store::photo_hashes::{PhotoHashRow, PhotoVisit, UnhashedPhoto};
        use $crate::store::StoreResult;

        fn hash_from_row(row: &$row) -> StoreResult<PhotoHashRow> {
            Ok(PhotoHashRow {
                sha256: Sha256::parse(row.try_get("sha256")?).map_err(corrupt)?,
                hash: row.try_get::<i64, _>("hash")? as u64,
                stored_at: Timestamp(row.try_get("stored_at")?),
                recorded_at: Timestamp(row.try_get("recorded_at")?),
            })
        }

        #[async_trait::async_trait]
        impl $crate::store::photo_hashes::PhotoHashStore for $store {
            #[tracing::instrument(skip(self, row), fields(%tenant, sha256 = %row.sha256))]
            async fn upsert_photo_hash(
                &self,
                tenant: TenantId,
                algorithm: &str,
                row: &PhotoHashRow,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO photo_hashes (tenant_id, sha256, algorithm, hash, stored_at, recorded_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (tenant_id, sha256) DO UPDATE SET \
                       algorithm = excluded.algorithm, hash = excluded.hash, \
                       recorded_at = excluded.recorded_at",
                )
                .bind(tenant.to_string())
                .bind(row.sha256.to_hex())
                .bind(algorithm)
                .bind(row.hash as i64)
                .bind(row.stored_at.millis())
                .bind(row.recorded_at.millis())
                .execute(self.pool())
                .await?;
                Ok(())
            }

            #[tracing::instrument(skip(self))]
            async fn photo_hash(
                &self,
                tenant: TenantId,
                algorithm: &str,
                sha256: &Sha256,
            ) -> StoreResult<Option<PhotoHashRow>> {
                let row = sqlx::query(
                    "SELECT sha256, hash, stored_at, recorded_at FROM photo_hashes \
                     WHERE tenant_id = $1 AND sha256 = $2 AND algorithm = $3",
                )
                .bind(tenant.to_string())
                .bind(sha256.to_hex())
                .bind(algorithm)
                .fetch_optional(self.pool())
                .await?;
                row.map(|row| hash_from_row(&row)).transpose()
            }

            #[tracing::instrument(skip(self))]
            async fn photo_hashes_page(
                &self,
                tenant: TenantId,
                algorithm: &str,
                since: Timestamp,
                after: (Timestamp, Option<Sha256>),
                limit: u32,
            ) -> StoreResult<Vec<PhotoHashRow>> {
                // Every SHA-256 in hex is greater than "".
                let (after_at, after_sha) = (after.0.millis(), after.1.map(|s| s.to_hex()).unwrap_or_default());
                let rows = sqlx::query(
                    "SELECT sha256, hash, stored_at, recorded_at FROM photo_hashes \
                     WHERE tenant_id = $1 AND algorithm = $2 AND stored_at >= $3 \
                       AND (recorded_at > $4 OR (recorded_at = $4 AND sha256 > $5)) \
                     ORDER BY recorded_at, sha256 LIMIT $6",
                )
                .bind(tenant.to_string())
                .bind(algorithm)
                .bind(since.millis())
                .bind(after_at)
                .bind(after_sha)
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await?;
                rows.iter().map(hash_from_row).collect()
            }

            #[tracing::instrument(skip(self))]
            async fn unhashed_photos(
                &self,
                algorithm: &str,
                since: Timestamp,
                after: Option<UnhashedPhoto>,
                limit: u32,
            ) -> StoreResult<Vec<UnhashedPhoto>> {
                let (after_at, after_tenant, after_sha) = match after {
                    Some(p) => (p.created_at.millis(), p.tenant_id.to_string(), p.sha256.to_hex()),
                    None => (i64::MIN, String::new(), String::new()),
                };
                let rows = sqlx::query(
                    "SELECT p.tenant_id, p.sha256, p.created_at FROM photos p \
                     WHERE p.created_at >= $1 \
                       AND (p.created_at > $2 OR (p.created_at = $2 AND (p.tenant_id > $3 \
                            OR (p.tenant_id = $3 AND p.sha256 > $4)))) \
                       AND NOT EXISTS (SELECT 1 FROM photo_hashes h WHERE h.tenant_id = p.tenant_id \
                            AND h.sha256 = p.sha256 AND h.algorithm = $5) \
                     ORDER BY p.created_at, p.tenant_id, p.sha256 LIMIT $6",
                )
                .bind(since.millis())
                .bind(after_at)
                .bind(after_tenant)
                .bind(after_sha)
                .bind(algorithm)
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await?;
                rows.iter()
                    .map(|row| {
                        Ok(UnhashedPhoto {
                            tenant_id: TenantId::parse(row.try_get("tenant_id")?).map_err(corrupt)?,
                            sha256: Sha256::parse(row.try_get("sha256")?).map_err(corrupt)?,
                            created_at: Timestamp(row.try_get("created_at")?),
                        })
                    })
                    .collect()
            }

            #[tracing::instrument(skip(self))]
            async fn visits_with_photo(
                &self,
                tenant: TenantId,
                sha256: &Sha256,
            ) -> StoreResult<Vec<PhotoVisit>> {
                let rows = sqlx::query(
                    "SELECT v.doc_id, v.store_id, v.planned_date FROM photo_refs r \
                     JOIN visits v ON v.doc_id = r.doc_id AND v.tenant_id = r.tenant_id \
                     WHERE r.tenant_id = $1 AND r.sha256 = $2 ORDER BY v.planned_date, v.doc_id",
                )
                .bind(tenant.to_string())
                .bind(sha256.to_hex())
                .fetch_all(self.pool())
                .await?;
                rows.iter()
                    .map(|row| {
                        Ok(PhotoVisit {
                            visit: DocId::parse(row.try_get("doc_id")?).map_err(corrupt)?,
                            store_id: store_id_of(row.try_get("store_id")?)?,
                            date: Date::parse(row.try_get("planned_date")?).map_err(corrupt)?,
                        })
                    })
                    .collect()
            }
        }
    };
}

mod sqlite {
    photo_hash_store!(crate::store::sqlite::SqliteStore, sqlx::sqlite::SqliteRow);
}

mod postgres {
    photo_hash_store!(crate::store::postgres::PgStore, sqlx::postgres::PgRow);
}
