//! The [`SuccessStore`](super::success::SuccessStore) of both engines: one SQL body.

/// Implements [`SuccessStore`](super::success::SuccessStore) for `$store`; `$engine` names the
/// engine's module (its `directory` holds the master version counter).
macro_rules! success_store {
    ($store:ty, $engine:ident) => {
        use fieldsync_shared::master::{SuccessPicture, SuccessPoint};
        use fieldsync_shared::values::{PictureCode, Sha256, StoreId, TenantId, Timestamp};

        use $crate::store::decode::corrupt;
        use $crate::store::directory_sql::{assortment_scope_cols, scope_from_cols};
        use $crate::store::success::SuccessStore;
        use $crate::store::{StoreError, StoreResult};

        /// code, title, store_id, chain, channel, points (JSON), reference_photos.
        type PictureRow = (String, String, String, String, String, String, String);

        fn picture_of(r: PictureRow) -> StoreResult<SuccessPicture> {
            let (code, title, store_id, chain, channel, points, photos) = r;
            let points: Vec<SuccessPoint> = serde_json::from_str(&points).map_err(corrupt)?;
            Ok(SuccessPicture {
                code: PictureCode::parse(&code).map_err(corrupt)?,
                title,
                scope: scope_from_cols(&store_id, &chain, &channel)?,
                points,
                reference_photos: photos
                    .split(' ')
                    .filter(|s| !s.is_empty())
                    .map(Sha256::parse)
                    .collect::<Result<_, _>>()
                    .map_err(corrupt)?,
            })
        }

        #[async_trait::async_trait]
        impl SuccessStore for $store {
            #[tracing::instrument(skip(self, pictures), fields(%tenant, n = pictures.len()))]
            async fn replace_success_pictures(
                &self,
                tenant: TenantId,
                pictures: &[SuccessPicture],
            ) -> StoreResult<i64> {
                let mut tx = self.pool().begin().await?;
                let version =
                    $crate::store::$engine::directory::next_master_version(&mut tx, tenant).await?;
                let now = Timestamp::now().millis();
                sqlx::query("DELETE FROM success_pictures WHERE tenant_id = $1")
                    .bind(tenant.to_string())
                    .execute(&mut *tx)
                    .await?;
                for p in pictures {
                    let (store_id, chain, channel) = assortment_scope_cols(&p.scope);
                    if !store_id.is_empty() {
                        $crate::store::sql_fragments::ensure_tenant_store!(&mut *tx, tenant, &store_id);
                    }
                    let points = serde_json::to_string(&p.points).map_err(corrupt)?;
                    let photos: Vec<String> =
                        p.reference_photos.iter().map(|h| h.to_hex()).collect();
                    sqlx::query(
                        "INSERT INTO success_pictures (tenant_id, code, title, store_id, chain, \
                           channel, points, reference_photos, version, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    )
                    .bind(tenant.to_string())
                    .bind(p.code.as_str())
                    .bind(&p.title)
                    .bind(&store_id)
                    .bind(chain)
                    .bind(channel)
                    .bind(points)
                    .bind(photos.join(" "))
                    .bind(version)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                sqlx::query("UPDATE tenants SET success_pictures_version = $1 WHERE id = $2")
                    .bind(version)
                    .bind(tenant.to_string())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(version)
            }

            #[tracing::instrument(skip(self))]
            async fn success_pictures(
                &self,
                tenant: TenantId,
            ) -> StoreResult<(Vec<SuccessPicture>, i64)> {
                // One statement, one snapshot: the rows and the version they were replaced at
                // (a tenant without pictures gives one row of NULLs).
                type Joined = (
                    i64,
                    Option<String>,
                    Option<String>,
                    Option<String>,
                    Option<String>,
                    Option<String>,
                    Option<String>,
                    Option<String>,
                );
                let rows: Vec<Joined> = sqlx::query_as(
                    "SELECT t.success_pictures_version, p.code, p.title, p.store_id, p.chain, \
                       p.channel, p.points, p.reference_photos \
                     FROM tenants t LEFT JOIN success_pictures p ON p.tenant_id = t.id \
                     WHERE t.id = $1 ORDER BY p.code",
                )
                .bind(tenant.to_string())
                .fetch_all(self.pool())
                .await?;
                let version = rows
                    .first()
                    .map(|r| r.0)
                    .ok_or(StoreError::NotFound("tenant"))?;
                let pictures = rows
                    .into_iter()
                    .filter_map(|r| {
                        let (_, code, title, store_id, chain, channel, points, photos) = r;
                        Some((code?, title?, store_id?, chain?, channel?, points?, photos?))
                    })
                    .map(picture_of)
                    .collect::<StoreResult<_>>()?;
                Ok((pictures, version))
            }

            #[tracing::instrument(skip(self))]
            async fn success_pictures_of_store(
                &self,
                tenant: TenantId,
                store: StoreId,
            ) -> StoreResult<Vec<SuccessPicture>> {
                let rows: Vec<PictureRow> = sqlx::query_as(
                    "SELECT code, title, store_id, chain, channel, points, reference_photos \
                     FROM success_pictures \
                     WHERE tenant_id = $1 AND (store_id = $2 OR (store_id = '' \
                       AND channel = (SELECT channel FROM stores WHERE tenant_id = $1 AND id = $2) \
                       AND chain IN ('', (SELECT chain FROM stores WHERE tenant_id = $1 AND id = $2)))) \
                     ORDER BY code",
                )
                .bind(tenant.to_string())
                .bind(store.to_string())
                .fetch_all(self.pool())
                .await?;
                rows.into_iter().map(picture_of).collect()
            }
        }
    };
}

mod sqlite {
    success_store!(crate::store::sqlite::SqliteStore, sqlite);
}

mod postgres {
    success_store!(crate::store::postgres::PgStore, postgres);
}
