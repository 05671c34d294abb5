//! [`VerdictStore`](super::verdicts::VerdictStore) for both engines: the same SQL (`$N`
//! placeholders work on SQLite too), one macro body, `verdict_store!`, instantiated below for
//! [`SqliteStore`] and [`PgStore`]; only the JSON id list differs (`json_list!`).
//!
//! [`SqliteStore`]: super::sqlite::SqliteStore
//! [`PgStore`]: super::postgres::PgStore

/// The `findings` columns `finding_from_row` reads.
macro_rules! finding_columns {
    () => {
        "doc_id, doc_kind, doc_heads, kind, source, rule_id, rule_version, severity, code, \
         message, field, inputs, data_version, outcome, created_at"
    };
}

/// Implements the store for `$store` (an engine's store with a `pool()`), where `$row` is the
/// engine's row type and `$engine` (`sqlite` or `postgres`) picks the `json_list!` form.
macro_rules! verdict_store {
    ($store:ty, $row:ty, $engine:ident) => {
        use std::collections::{BTreeMap, HashSet};

        use fieldsync_shared::document::DocKind;
        use fieldsync_shared::master::{CreditSnapshot, Product, Store};
        use fieldsync_shared::rules::Severity;
        use fieldsync_shared::{
            Date, DocId, Money, Position, Sha256, Sku, StoreCode, StoreId, TenantId, Timestamp,
            UserId,
        };
        use sqlx::Row;

        use $crate::store::decode::{corrupt, json_ids, u32_of};
        use $crate::store::directory_sql::{
            assortment_row, chain_of, parse_channel, parse_grade, tiers_from_json,
        };
        use $crate::store::verdicts::{
            CreditRecheck, FindingKind, FindingOutcome, FindingRecord, FindingSource, PhotoUse,
            RuleData, Versioned,
        };
        use $crate::store::{StoreError, StoreResult};

        fn u32_col(row: &$row, col: &str) -> StoreResult<u32> {
            u32_of(col, row.try_get(col)?)
        }

        fn store_from_row(row: &$row) -> StoreResult<Versioned<Store>> {
            let value = Store {
                id: StoreId::parse(row.try_get("id")?).map_err(corrupt)?,
                code: StoreCode::parse(row.try_get("code")?).map_err(corrupt)?,
                name: row.try_get("name")?,
                channel: parse_channel(row.try_get("channel")?)?,
                grade: parse_grade(row.try_get("grade")?)?,
                address: row.try_get("address")?,
                location: Position::new(row.try_get("lat")?, row.try_get("lon")?)
                    .map_err(corrupt)?,
                geofence_radius_m: u32_col(row, "geofence_radius_m")?,
                delivery_lead_days: u32_col(row, "delivery_lead_days")?,
                chain: chain_of(row.try_get("chain")?),
                monthly_potential: row.try_get::<Option<i64>, _>("monthly_potential")?.map(Money),
            };
            Ok(Versioned { value, version: row.try_get("version")? })
        }

        fn product_from_row(row: &$row) -> StoreResult<Versioned<Product>> {
            let value = Product {
                sku: Sku::parse(row.try_get("sku")?).map_err(corrupt)?,
                name: row.try_get("name")?,
                case_pack: u32_col(row, "case_pack")?,
                sold_by_case: row.try_get("sold_by_case")?,
                shelf_life_days: u32_col(row, "shelf_life_days")?,
                list_price: Money(row.try_get("list_price")?),
                floor_price: Money(row.try_get("floor_price")?),
            };
            Ok(Versioned { value, version: row.try_get("version")? })
        }

        fn credit_from_row(row: &$row) -> StoreResult<Versioned<CreditSnapshot>> {
            let value = CreditSnapshot {
                store_id: StoreId::parse(row.try_get("store_id")?).map_err(corrupt)?,
                credit_limit: Money(row.try_get("credit_limit")?),
                receivables: Money(row.try_get("receivables")?),
                overdue: Money(row.try_get("overdue")?),
                as_of: Date::parse(row.try_get("as_of")?).map_err(corrupt)?,
            };
            Ok(Versioned { value, version: row.try_get("version")? })
        }

        fn finding_from_row(row: &$row) -> StoreResult<FindingRecord> {
            let text = |col: &str| -> StoreResult<String> { Ok(row.try_get(col)?) };
            let bad = |col: &str, v: &str| StoreError::Corrupt(format!("findings.{col} {v:?}"));
            let kind = text("doc_kind")?;
            let finding_kind = text("kind")?;
            let source = text("source")?;
            let severity = text("severity")?;
            let outcome = text("outcome")?;
            Ok(FindingRecord {
                doc_id: DocId::parse(&text("doc_id")?).map_err(corrupt)?,
                doc_kind: DocKind::parse(&kind).ok_or_else(|| bad("doc_kind", &kind))?,
                doc_heads: serde_json::from_str(&text("doc_heads")?).map_err(corrupt)?,
                kind: FindingKind::parse(&finding_kind)
                    .ok_or_else(|| bad("kind", &finding_kind))?,
                source: FindingSource::parse(&source).ok_or_else(|| bad("source", &source))?,
                rule: text("rule_id")?,
                rule_version: u32_of("rule_version", row.try_get("rule_version")?)?,
                severity: Severity::parse(&severity).ok_or_else(|| bad("severity", &severity))?,
                code: text("code")?,
                message: text("message")?,
                field: row.try_get("field")?,
                inputs: serde_json::from_str::<BTreeMap<String, serde_json::Value>>(
                    &text("inputs")?,
                )
                .map_err(corrupt)?,
                data_version: row.try_get("data_version")?,
                outcome: FindingOutcome::parse(&outcome).ok_or_else(|| bad("outcome", &outcome))?,
                created_at: Timestamp(row.try_get("created_at")?),
            })
        }

        /// Appends `findings` in the caller's transaction: a push's findings commit with its
        /// documents (`DocumentStore::commit_push`), never after them.
        pub(crate) async fn insert_findings_in(
            tx: &mut sqlx::Transaction<'static, <$row as sqlx::Row>::Database>,
            tenant: TenantId,
            findings: &[FindingRecord],
        ) -> StoreResult<()> {
            for f in findings {
                sqlx::query(concat!(
                    "INSERT INTO findings (tenant_id, ", finding_columns!(), ") \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
                ))
                .bind(tenant.to_string())
                .bind(f.doc_id.to_string())
                .bind(f.doc_kind.as_str())
                .bind(serde_json::to_string(&f.doc_heads).map_err(corrupt)?)
                .bind(f.kind.as_str())
                .bind(f.source.as_str())
                .bind(&f.rule)
                .bind(i64::from(f.rule_version))
                .bind(f.severity.as_str())
                .bind(&f.code)
                .bind(&f.message)
                .bind(f.field.as_deref())
                .bind(serde_json::to_string(&f.inputs).map_err(corrupt)?)
                .bind(f.data_version)
                .bind(f.outcome.as_str())
                .bind(f.created_at.millis())
                .execute(&mut **tx)
                .await?;
            }
            Ok(())
        }

        /// Queues `store` for a re-check of its open orders in the caller's transaction, unless
        /// it is already waiting: a credit import queues with the snapshots it stores
        /// (`DirectoryStore::import_credit`).
        pub(crate) async fn enqueue_credit_recheck_in(
            tx: &mut sqlx::Transaction<'static, <$row as sqlx::Row>::Database>,
            tenant: TenantId,
            store: StoreId,
            at: Timestamp,
        ) -> StoreResult<()> {
            sqlx::query(
                "INSERT INTO credit_rechecks (tenant_id, store_id, enqueued_at) \
                 SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM credit_rechecks \
                   WHERE tenant_id = $1 AND store_id = $2 AND claimed_at IS NULL)",
            )
            .bind(tenant.to_string())
            .bind(store.to_string())
            .bind(at.millis())
            .execute(&mut **tx)
            .await?;
            Ok(())
        }

        #[async_trait::async_trait]
        impl $crate::store::verdicts::VerdictStore for $store {
            #[tracing::instrument(skip(self, skus), fields(skus = skus.len()))]
            async fn rule_data(
                &self,
                tenant: TenantId,
                store: StoreId,
                skus: &[Sku],
            ) -> StoreResult<RuleData> {
                let master_version: Option<i64> =
                    sqlx::query_scalar("SELECT master_seq FROM tenants WHERE id = $1")
                        .bind(tenant.to_string())
                        .fetch_optional(self.pool())
                        .await?;
                let store_row = sqlx::query(
                    "SELECT id, code, name, channel, grade, address, lat, lon, geofence_radius_m, \
                       delivery_lead_days, chain, monthly_potential, version FROM stores WHERE tenant_id = $1 AND id = $2",
                )
                .bind(tenant.to_string())
                .bind(store.to_string())
                .fetch_optional(self.pool())
                .await?;
                let products = sqlx::query(concat!(
                    "SELECT sku, name, case_pack, sold_by_case, shelf_life_days, list_price, \
                       floor_price, version FROM products WHERE tenant_id = $1 AND sku IN ",
                    $crate::store::sql_fragments::json_list!($engine, "$2")
                ))
                .bind(tenant.to_string())
                .bind(json_ids(skus))
                .fetch_all(self.pool())
                .await?;
                let credit = sqlx::query(
                    "SELECT store_id, credit_limit, receivables, overdue, as_of, version \
                     FROM credit_snapshots WHERE tenant_id = $1 AND store_id = $2",
                )
                .bind(tenant.to_string())
                .bind(store.to_string())
                .fetch_optional(self.pool())
                .await?;
                let approval = sqlx::query(
                    "SELECT tiers, version FROM approval_tiers WHERE tenant_id = $1",
                )
                .bind(tenant.to_string())
                .fetch_optional(self.pool())
                .await?;
                let approval = approval
                    .map(|row| -> StoreResult<_> {
                        Ok(Versioned {
                            value: tiers_from_json(row.try_get("tiers")?)?,
                            version: row.try_get("version")?,
                        })
                    })
                    .transpose()?;
                let assortment = sqlx::query(
                    "SELECT store_id, chain, channel, sku, safety_stock FROM assortment \
                     WHERE tenant_id = $1 AND (store_id = $2 OR (store_id = '' \
                       AND channel = (SELECT channel FROM stores WHERE tenant_id = $1 AND id = $2) \
                       AND chain IN ('', (SELECT chain FROM stores WHERE tenant_id = $1 AND id = $2)))) \
                     ORDER BY store_id, chain, channel, sku",
                )
                .bind(tenant.to_string())
                .bind(store.to_string())
                .fetch_all(self.pool())
                .await?
                .iter()
                .map(|row| {
                    assortment_row(
                        row.try_get("store_id")?,
                        row.try_get("chain")?,
                        row.try_get("channel")?,
                        row.try_get("sku")?,
                        row.try_get("safety_stock")?,
                    )
                })
                .collect::<StoreResult<Vec<_>>>()?;
                let promotions =
                    $crate::store::PromotionStore::promotions_of_store(self, tenant, store).await?;
                let success_pictures =
                    $crate::store::SuccessStore::success_pictures_of_store(self, tenant, store)
                        .await?;
                Ok(RuleData {
                    success_pictures,
                    master_version: master_version.unwrap_or(0),
                    assortment,
                    promotions,
                    approval,
                    store: store_row.as_ref().map(store_from_row).transpose()?,
                    products: products.iter().map(product_from_row).collect::<StoreResult<_>>()?,
                    credit: credit.as_ref().map(credit_from_row).transpose()?,
                })
            }

            #[tracing::instrument(skip(self))]
            async fn open_orders(
                &self,
                tenant: TenantId,
                store: StoreId,
                except: DocId,
            ) -> StoreResult<Vec<String>> {
                Ok(sqlx::query_scalar(
                    "SELECT document FROM orders WHERE tenant_id = $1 AND store_id = $2 \
                       AND doc_id <> $3 \
                       AND status IN ('submitted', 'pending_approval', 'approved')",
                )
                .bind(tenant.to_string())
                .bind(store.to_string())
                .bind(except.to_string())
                .fetch_all(self.pool())
                .await?)
            }

            #[tracing::instrument(skip(self, photos), fields(photos = photos.len()))]
            async fn photo_uses(
                &self,
                tenant: TenantId,
                photos: &[Sha256],
                except: DocId,
            ) -> StoreResult<Vec<PhotoUse>> {
                if photos.is_empty() {
                    return Ok(Vec::new());
                }
                let hex: Vec<String> = photos.iter().map(Sha256::to_hex).collect();
                let rows = sqlx::query(concat!(
                    "SELECT r.sha256, v.doc_id, v.store_id, v.person_id, v.planned_date \
                     FROM photo_refs r JOIN visits v ON v.doc_id = r.doc_id \
                     WHERE r.tenant_id = $1 AND r.doc_id <> $3 AND r.sha256 IN ",
                    $crate::store::sql_fragments::json_list!($engine, "$2"),
                    " ORDER BY v.planned_date, v.doc_id"
                ))
                .bind(tenant.to_string())
                .bind(json_ids(&hex))
                .bind(except.to_string())
                .fetch_all(self.pool())
                .await?;
                rows.iter()
                    .map(|row| {
                        let text = |col: &str| -> StoreResult<String> { Ok(row.try_get(col)?) };
                        Ok(PhotoUse {
                            sha256: Sha256::parse(&text("sha256")?).map_err(corrupt)?,
                            visit: DocId::parse(&text("doc_id")?).map_err(corrupt)?,
                            store_id: StoreId::parse(&text("store_id")?).map_err(corrupt)?,
                            person_id: UserId::parse(&text("person_id")?).map_err(corrupt)?,
                            date: Date::parse(&text("planned_date")?).map_err(corrupt)?,
                        })
                    })
                    .collect()
            }

            #[tracing::instrument(skip(self))]
            async fn person_visits(
                &self,
                tenant: TenantId,
                person: UserId,
                from: Date,
                to: Date,
                except: DocId,
            ) -> StoreResult<Vec<String>> {
                Ok(sqlx::query_scalar(
                    "SELECT document FROM visits WHERE tenant_id = $1 AND person_id = $2 \
                       AND planned_date >= $3 AND planned_date <= $4 AND doc_id <> $5",
                )
                .bind(tenant.to_string())
                .bind(person.to_string())
                .bind(from.to_string())
                .bind(to.to_string())
                .bind(except.to_string())
                .fetch_all(self.pool())
                .await?)
            }

            #[tracing::instrument(skip(self, stores), fields(stores = stores.len()))]
            async fn enqueue_credit_rechecks(
                &self,
                tenant: TenantId,
                stores: &[StoreId],
                at: Timestamp,
            ) -> StoreResult<()> {
                let mut tx = self.pool().begin().await?;
                for store in stores {
                    enqueue_credit_recheck_in(&mut tx, tenant, *store, at).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            #[tracing::instrument(skip(self))]
            async fn claim_credit_rechecks(
                &self,
                now: Timestamp,
                stale: Timestamp,
                limit: u32,
            ) -> StoreResult<Vec<CreditRecheck>> {
                // The outer condition is checked again on rows another instance claimed
                // meanwhile (PostgreSQL re-reads a row it waited for), so each is taken once.
                let rows = sqlx::query(
                    "UPDATE credit_rechecks SET claimed_at = $1 \
                     WHERE id IN (SELECT id FROM credit_rechecks \
                                  WHERE claimed_at IS NULL OR claimed_at < $2 ORDER BY id LIMIT $3) \
                       AND (claimed_at IS NULL OR claimed_at < $2) \
                     RETURNING id, tenant_id, store_id",
                )
                .bind(now.millis())
                .bind(stale.millis())
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await?;
                let mut taken = rows
                    .iter()
                    .map(|row| {
                        Ok(CreditRecheck {
                            id: row.try_get("id")?,
                            tenant_id: TenantId::parse(row.try_get("tenant_id")?)
                                .map_err(corrupt)?,
                            store_id: StoreId::parse(row.try_get("store_id")?).map_err(corrupt)?,
                        })
                    })
                    .collect::<StoreResult<Vec<_>>>()?;
                taken.sort_by_key(|r| r.id);
                Ok(taken)
            }

            #[tracing::instrument(skip(self))]
            async fn finish_credit_recheck(&self, id: i64) -> StoreResult<()> {
                sqlx::query("DELETE FROM credit_rechecks WHERE id = $1")
                    .bind(id)
                    .execute(self.pool())
                    .await?;
                Ok(())
            }

            #[tracing::instrument(skip(self, findings), fields(count = findings.len()))]
            async fn insert_findings(
                &self,
                tenant: TenantId,
                findings: &[FindingRecord],
            ) -> StoreResult<()> {
                let mut tx = self.pool().begin().await?;
                insert_findings_in(&mut tx, tenant, findings).await?;
                tx.commit().await?;
                Ok(())
            }

            #[tracing::instrument(skip(self, docs), fields(docs = docs.len()))]
            async fn findings_of(
                &self,
                tenant: TenantId,
                docs: &[DocId],
            ) -> StoreResult<Vec<FindingRecord>> {
                if docs.is_empty() {
                    return Ok(Vec::new());
                }
                let rows = sqlx::query(concat!(
                    "SELECT ", finding_columns!(), " FROM findings WHERE tenant_id = $1 AND doc_id IN ",
                    $crate::store::sql_fragments::json_list!($engine, "$2"),
                    " ORDER BY id"
                ))
                .bind(tenant.to_string())
                .bind(json_ids(docs))
                .fetch_all(self.pool())
                .await?;
                rows.iter().map(finding_from_row).collect()
            }

            #[tracing::instrument(skip(self, docs), fields(docs = docs.len()))]
            async fn flagged_among(
                &self,
                tenant: TenantId,
                docs: &[DocId],
                code: Option<&str>,
            ) -> StoreResult<HashSet<DocId>> {
                if docs.is_empty() {
                    return Ok(HashSet::new());
                }
                let ids: Vec<String> = sqlx::query_scalar(concat!(
                    "SELECT DISTINCT doc_id FROM findings WHERE tenant_id = $1 AND outcome <> 'noted' \
                       AND ($3 IS NULL OR code = $3) AND doc_id IN ",
                    $crate::store::sql_fragments::json_list!($engine, "$2")
                ))
                .bind(tenant.to_string())
                .bind(json_ids(docs))
                .bind(code)
                .fetch_all(self.pool())
                .await?;
                ids.iter()
                    .map(|id| DocId::parse(id).map_err(corrupt))
                    .collect()
            }
        }
    };
}

pub(crate) mod sqlite {
    verdict_store!(
        crate::store::sqlite::SqliteStore,
        sqlx::sqlite::SqliteRow,
        sqlite
    );
}

pub(crate) mod postgres {
    verdict_store!(
        crate::store::postgres::PgStore,
        sqlx::postgres::PgRow,
        postgres
    );
}
