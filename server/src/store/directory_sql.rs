//! [`DirectoryStore`](super::DirectoryStore) for both engines: tenants, users, master data,
//! photo metadata.
//!
//! Both engines run the same SQL (`$N` placeholders work on SQLite too, numbered in order of
//! first use), so the two implementations are one macro body, `directory_store!`,
//! instantiated in `sqlite/directory.rs` and `postgres/directory.rs`. The only engine-specific
//! part is how `master_page` opens its read snapshot: each engine's store provides
//! `dir_begin_snapshot`.

use fieldsync_shared::master::{Channel, Grade};

use super::{StoreError, StoreResult};

pub(crate) fn channel_str(c: Channel) -> &'static str {
    match c {
        Channel::Nka => "nka",
        Channel::Rka => "rka",
        Channel::Lka => "lka",
        Channel::Other => "other",
    }
}

pub(crate) fn parse_channel(s: &str) -> StoreResult<Channel> {
    match s {
        "nka" => Ok(Channel::Nka),
        "rka" => Ok(Channel::Rka),
        "lka" => Ok(Channel::Lka),
        "other" => Ok(Channel::Other),
        other => Err(StoreError::Corrupt(format!("unknown channel {other:?}"))),
    }
}

pub(crate) fn grade_str(g: Grade) -> &'static str {
    match g {
        Grade::A => "A",
        Grade::B => "B",
        Grade::C => "C",
    }
}

pub(crate) fn parse_grade(s: &str) -> StoreResult<Grade> {
    match s {
        "A" => Ok(Grade::A),
        "B" => Ok(Grade::B),
        "C" => Ok(Grade::C),
        other => Err(StoreError::Corrupt(format!("unknown grade {other:?}"))),
    }
}

/// Maps a shared-crate parse failure of stored data to `Corrupt`.
pub(crate) fn corrupt<E: std::fmt::Display>(e: E) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

/// The `photo_uploads` columns `upload_from_row` reads.
macro_rules! upload_columns {
    () => {
        "id, tenant_id, sha256, size_bytes, content_type, mode, part_size, parts, multipart_id, \
         status, created_by, created_at, updated_at"
    };
}

pub(crate) use upload_columns;

/// Implements [`DirectoryStore`](super::DirectoryStore) for `$store` (an engine's store with a
/// `pool()` and a `dir_begin_snapshot()` opening a read-only snapshot transaction), where `$db`
/// is the engine's [`sqlx::Database`] and `$row` its row type. It also brings the imports the
/// body needs (`StoreResult`, ...) into the invoking module.
macro_rules! directory_store {
    ($store:ty, $db:ty, $row:ty) => {
        use fieldsync_shared::master::{
            CreditSnapshot, MasterDataPage, Product, Role, Store, UserProfile,
        };
        use fieldsync_shared::{
            Date, Money, PersonCode, Position, Sha256, Sku, StoreCode, StoreId, TenantId,
            Timestamp, UserId,
        };
        use sqlx::Row;

        use $crate::store::directory::{
            PhotoMeta, PhotoUpload, Tenant, ThumbnailOrigin, UploadMode, UploadStatus,
            UserRecord,
        };
        use $crate::store::directory_sql::{
            channel_str, corrupt, grade_str, parse_channel, parse_grade,
        };
        use $crate::store::{StoreError, StoreResult};

        fn u32_col(row: &$row, col: &str) -> StoreResult<u32> {
            let v: i64 = row.try_get(col)?;
            u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("{col} out of range: {v}")))
        }

        fn user_from_row(row: &$row) -> StoreResult<UserProfile> {
            Ok(UserProfile {
                id: UserId::parse(row.try_get("id")?).map_err(corrupt)?,
                tenant_id: TenantId::parse(row.try_get("tenant_id")?).map_err(corrupt)?,
                username: row.try_get("username")?,
                display_name: row.try_get("display_name")?,
                role: Role::parse(row.try_get("role")?).map_err(corrupt)?,
                code: PersonCode::parse(row.try_get("code")?).map_err(corrupt)?,
            })
        }

        fn store_from_row(row: &$row) -> StoreResult<Store> {
            Ok(Store {
                id: StoreId::parse(row.try_get("id")?).map_err(corrupt)?,
                code: StoreCode::parse(row.try_get("code")?).map_err(corrupt)?,
                name: row.try_get("name")?,
                channel: parse_channel(row.try_get("channel")?)?,
                grade: parse_grade(row.try_get("grade")?)?,
                address: row.try_get("address")?,
                location: Position::new(row.try_get("lat")?, row.try_get("lon")?).map_err(corrupt)?,
                geofence_radius_m: u32_col(row, "geofence_radius_m")?,
                delivery_lead_days: u32_col(row, "delivery_lead_days")?,
            })
        }

        fn product_from_row(row: &$row) -> StoreResult<Product> {
            Ok(Product {
                sku: Sku::parse(row.try_get("sku")?).map_err(corrupt)?,
                name: row.try_get("name")?,
                case_pack: u32_col(row, "case_pack")?,
                sold_by_case: row.try_get("sold_by_case")?,
                shelf_life_days: u32_col(row, "shelf_life_days")?,
                list_price: Money(row.try_get("list_price")?),
                floor_price: Money(row.try_get("floor_price")?),
            })
        }

        fn credit_from_row(row: &$row) -> StoreResult<CreditSnapshot> {
            Ok(CreditSnapshot {
                store_id: StoreId::parse(row.try_get("store_id")?).map_err(corrupt)?,
                credit_limit: Money(row.try_get("credit_limit")?),
                receivables: Money(row.try_get("receivables")?),
                overdue: Money(row.try_get("overdue")?),
                as_of: Date::parse(row.try_get("as_of")?).map_err(corrupt)?,
            })
        }

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
                parts: u32_col(row, "parts")?,
                multipart_id: row.try_get("multipart_id")?,
                status: UploadStatus::parse(&status)
                    .ok_or_else(|| StoreError::Corrupt(format!("photo_uploads.status {status:?}")))?,
                created_by: UserId::parse(row.try_get("created_by")?).map_err(corrupt)?,
                created_at: Timestamp(row.try_get("created_at")?),
                updated_at: Timestamp(row.try_get("updated_at")?),
            })
        }

        /// Takes the tenant's next master version inside `tx`. This write locks the tenant
        /// (its row on PostgreSQL, the database on SQLite) until `tx` ends, so the tenant's
        /// master versions become visible in commit order.
        async fn next_master_version(
            tx: &mut sqlx::Transaction<'static, $db>,
            tenant: TenantId,
        ) -> StoreResult<i64> {
            let version: Option<i64> = sqlx::query_scalar(
                "UPDATE tenants SET master_seq = master_seq + 1 WHERE id = $1 RETURNING master_seq",
            )
            .bind(tenant.to_string())
            .fetch_optional(&mut **tx)
            .await?;
            version.ok_or(StoreError::NotFound("tenant"))
        }

        #[async_trait::async_trait]
        impl $crate::store::DirectoryStore for $store {
            async fn ping(&self) -> StoreResult<()> {
                sqlx::query("SELECT 1").execute(self.pool()).await?;
                Ok(())
            }

            #[tracing::instrument(skip(self), fields(tenant = %tenant.slug))]
            async fn create_tenant(&self, tenant: &Tenant) -> StoreResult<()> {
                sqlx::query("INSERT INTO tenants (id, slug, name, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(tenant.id.to_string())
                    .bind(&tenant.slug)
                    .bind(&tenant.name)
                    .bind(Timestamp::now().millis())
                    .execute(self.pool())
                    .await?;
                Ok(())
            }

            #[tracing::instrument(skip(self))]
            async fn find_tenant_by_slug(&self, slug: &str) -> StoreResult<Option<Tenant>> {
                let row = sqlx::query("SELECT id, slug, name FROM tenants WHERE slug = $1")
                    .bind(slug)
                    .fetch_optional(self.pool())
                    .await?;
                row.map(|row| {
                    Ok(Tenant {
                        id: TenantId::parse(row.try_get("id")?).map_err(corrupt)?,
                        slug: row.try_get("slug")?,
                        name: row.try_get("name")?,
                    })
                })
                .transpose()
            }

            #[tracing::instrument(skip(self, user, password_hash), fields(tenant = %user.tenant_id, username = %user.username))]
            async fn create_user(&self, user: &UserProfile, password_hash: &str) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO users (id, tenant_id, username, password_hash, role, code, display_name, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(user.id.to_string())
                .bind(user.tenant_id.to_string())
                .bind(&user.username)
                .bind(password_hash)
                .bind(user.role.as_str())
                .bind(user.code.as_str())
                .bind(&user.display_name)
                .bind(Timestamp::now().millis())
                .execute(self.pool())
                .await?;
                Ok(())
            }

            #[tracing::instrument(skip(self))]
            async fn find_user_by_username(
                &self,
                tenant: TenantId,
                username: &str,
            ) -> StoreResult<Option<UserRecord>> {
                let row = sqlx::query(
                    "SELECT id, tenant_id, username, password_hash, role, code, display_name \
                     FROM users WHERE tenant_id = $1 AND username = $2",
                )
                .bind(tenant.to_string())
                .bind(username)
                .fetch_optional(self.pool())
                .await?;
                row.map(|row| {
                    Ok(UserRecord {
                        profile: user_from_row(&row)?,
                        password_hash: row.try_get("password_hash")?,
                    })
                })
                .transpose()
            }

            #[tracing::instrument(skip(self))]
            async fn find_user(&self, tenant: TenantId, user: UserId) -> StoreResult<Option<UserProfile>> {
                let row = sqlx::query(
                    "SELECT id, tenant_id, username, role, code, display_name \
                     FROM users WHERE tenant_id = $1 AND id = $2",
                )
                .bind(tenant.to_string())
                .bind(user.to_string())
                .fetch_optional(self.pool())
                .await?;
                row.map(|row| user_from_row(&row)).transpose()
            }

            #[tracing::instrument(skip(self, stores), fields(count = stores.len()))]
            async fn upsert_stores(&self, tenant: TenantId, stores: &[Store]) -> StoreResult<i64> {
                let mut tx = self.pool().begin().await?;
                let version = next_master_version(&mut tx, tenant).await?;
                let now = Timestamp::now().millis();
                for s in stores {
                    // The id is global: an id that belongs to another tenant updates nothing and is
                    // refused below rather than moved across tenants.
                    let done = sqlx::query(
                        "INSERT INTO stores (id, tenant_id, code, name, channel, grade, address, lat, lon, \
                           geofence_radius_m, delivery_lead_days, version, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
                         ON CONFLICT (id) DO UPDATE SET code = excluded.code, name = excluded.name, \
                           channel = excluded.channel, grade = excluded.grade, address = excluded.address, \
                           lat = excluded.lat, lon = excluded.lon, \
                           geofence_radius_m = excluded.geofence_radius_m, \
                           delivery_lead_days = excluded.delivery_lead_days, \
                           version = excluded.version, updated_at = excluded.updated_at \
                         WHERE stores.tenant_id = excluded.tenant_id",
                    )
                    .bind(s.id.to_string())
                    .bind(tenant.to_string())
                    .bind(s.code.as_str())
                    .bind(&s.name)
                    .bind(channel_str(s.channel))
                    .bind(grade_str(s.grade))
                    .bind(&s.address)
                    .bind(s.location.lat())
                    .bind(s.location.lon())
                    .bind(i64::from(s.geofence_radius_m))
                    .bind(i64::from(s.delivery_lead_days))
                    .bind(version)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    if done.rows_affected() != 1 {
                        return Err(StoreError::Conflict(format!(
                            "store id {} belongs to another tenant",
                            s.id
                        )));
                    }
                }
                tx.commit().await?;
                Ok(version)
            }

            #[tracing::instrument(skip(self, products), fields(count = products.len()))]
            async fn upsert_products(&self, tenant: TenantId, products: &[Product]) -> StoreResult<i64> {
                let mut tx = self.pool().begin().await?;
                let version = next_master_version(&mut tx, tenant).await?;
                let now = Timestamp::now().millis();
                for p in products {
                    sqlx::query(
                        "INSERT INTO products (tenant_id, sku, name, case_pack, sold_by_case, shelf_life_days, \
                           list_price, floor_price, version, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                         ON CONFLICT (tenant_id, sku) DO UPDATE SET name = excluded.name, \
                           case_pack = excluded.case_pack, sold_by_case = excluded.sold_by_case, \
                           shelf_life_days = excluded.shelf_life_days, list_price = excluded.list_price, \
                           floor_price = excluded.floor_price, version = excluded.version, \
                           updated_at = excluded.updated_at",
                    )
                    .bind(tenant.to_string())
                    .bind(p.sku.as_str())
                    .bind(&p.name)
                    .bind(i64::from(p.case_pack))
                    .bind(p.sold_by_case)
                    .bind(i64::from(p.shelf_life_days))
                    .bind(p.list_price.minor())
                    .bind(p.floor_price.minor())
                    .bind(version)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(version)
            }

            #[tracing::instrument(skip(self, credit), fields(count = credit.len()))]
            async fn upsert_credit(&self, tenant: TenantId, credit: &[CreditSnapshot]) -> StoreResult<i64> {
                let mut tx = self.pool().begin().await?;
                let version = next_master_version(&mut tx, tenant).await?;
                let now = Timestamp::now().millis();
                for c in credit {
                    let known: Option<i32> =
                        sqlx::query_scalar("SELECT 1 FROM stores WHERE tenant_id = $1 AND id = $2")
                            .bind(tenant.to_string())
                            .bind(c.store_id.to_string())
                            .fetch_optional(&mut *tx)
                            .await?;
                    if known.is_none() {
                        return Err(StoreError::NotFound("store"));
                    }
                    sqlx::query(
                        "INSERT INTO credit_snapshots (tenant_id, store_id, credit_limit, receivables, overdue, \
                           as_of, version, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                         ON CONFLICT (tenant_id, store_id) DO UPDATE SET credit_limit = excluded.credit_limit, \
                           receivables = excluded.receivables, overdue = excluded.overdue, \
                           as_of = excluded.as_of, version = excluded.version, updated_at = excluded.updated_at",
                    )
                    .bind(tenant.to_string())
                    .bind(c.store_id.to_string())
                    .bind(c.credit_limit.minor())
                    .bind(c.receivables.minor())
                    .bind(c.overdue.minor())
                    .bind(c.as_of.to_string())
                    .bind(version)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(version)
            }

            #[tracing::instrument(skip(self))]
            async fn master_page(&self, tenant: TenantId, since: i64) -> StoreResult<MasterDataPage> {
                // One snapshot of the counter and the rows: master upserts of this tenant commit one at
                // a time (see `next_master_version`), so the rows seen are exactly those with a
                // version <= the counter seen.
                let mut tx = self.dir_begin_snapshot().await?;
                let tid = tenant.to_string();
                let current: Option<i64> =
                    sqlx::query_scalar("SELECT master_seq FROM tenants WHERE id = $1")
                        .bind(&tid)
                        .fetch_optional(&mut *tx)
                        .await?;
                let current = current.ok_or(StoreError::NotFound("tenant"))?;
                let since = if since > current || since < 0 {
                    0
                } else {
                    since
                };

                let stores = sqlx::query(
                    "SELECT id, code, name, channel, grade, address, lat, lon, geofence_radius_m, \
                       delivery_lead_days FROM stores WHERE tenant_id = $1 AND version > $2 ORDER BY code",
                )
                .bind(&tid)
                .bind(since)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(store_from_row)
                .collect::<StoreResult<Vec<_>>>()?;
                let products = sqlx::query(
                    "SELECT sku, name, case_pack, sold_by_case, shelf_life_days, list_price, floor_price \
                     FROM products WHERE tenant_id = $1 AND version > $2 ORDER BY sku",
                )
                .bind(&tid)
                .bind(since)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(product_from_row)
                .collect::<StoreResult<Vec<_>>>()?;
                let credit = sqlx::query(
                    "SELECT store_id, credit_limit, receivables, overdue, as_of \
                     FROM credit_snapshots WHERE tenant_id = $1 AND version > $2 ORDER BY store_id",
                )
                .bind(&tid)
                .bind(since)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(credit_from_row)
                .collect::<StoreResult<Vec<_>>>()?;
                tx.commit().await?;

                Ok(MasterDataPage {
                    version: current,
                    stores,
                    products,
                    credit,
                    generated_at: Timestamp::now(),
                    org: None,
                    stores_complete: false,
                })
            }

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
                // photo into "nothing inserted".
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
                    $crate::store::directory_sql::upload_columns!(),
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
            ) -> StoreResult<Option<PhotoUpload>> {
                let row = sqlx::query(concat!(
                    "SELECT ",
                    $crate::store::directory_sql::upload_columns!(),
                    " FROM photo_uploads \
                     WHERE tenant_id = $1 AND sha256 = $2 AND status = 'uploading'"
                ))
                .bind(tenant.to_string())
                .bind(sha256.to_hex())
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
                    $crate::store::directory_sql::upload_columns!(),
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
pub(crate) use directory_store;
