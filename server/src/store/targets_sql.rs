//! The [`TargetStore`](super::targets::TargetStore) of both engines: one SQL body, rows read
//! as tuples.

/// Implements [`TargetStore`](super::targets::TargetStore) for `$store`; `$engine` picks the
/// `json_list!` form.
macro_rules! target_store {
    ($store:ty, $engine:ident) => {
        use fieldsync_shared::values::{Date, Money, TenantId, Timestamp};
        use uuid::Uuid;

        use $crate::store::decode::{corrupt, opt_user, user_id_of, uuid_of};
        use $crate::store::sql_fragments::json_list;
        use $crate::store::targets::{
            Target, TargetChange, TargetDecision, TargetFilter, TargetStore,
        };
        use $crate::store::StoreResult;

        type TargetRow = (String, String, String, String, String, String, i64, i64, i64);
        type ChangeRow = (
            String,
            String,
            String,
            i64,
            String,
            i64,
            i64,
            i64,
            i64,
            String,
            Option<String>,
            Option<i64>,
            Option<String>,
        );

        macro_rules! target_columns {
            () => {
                "id, period, period_start, period_end, person_id, category, amount, volume, updated_at"
            };
        }
        macro_rules! change_columns {
            () => {
                "id, target_id, requested_by, requested_at, reason, old_amount, old_volume, \
                 new_amount, new_volume, status, decided_by, decided_at, comment"
            };
        }

        fn target_of(r: TargetRow) -> StoreResult<Target> {
            let (id, period, start, end, person, category, amount, volume, updated_at) = r;
            Ok(Target {
                id: uuid_of(&id)?,
                period,
                period_start: Date::parse(&start).map_err(corrupt)?,
                period_end: Date::parse(&end).map_err(corrupt)?,
                person_id: opt_user(Some(person).filter(|p| !p.is_empty()))?,
                category: Some(category).filter(|c| !c.is_empty()),
                amount: Money(amount),
                volume,
                updated_at: Timestamp(updated_at),
            })
        }

        fn change_of(r: ChangeRow) -> StoreResult<TargetChange> {
            let (id, target, by, at, reason, old_a, old_v, new_a, new_v, status, dby, dat, c) = r;
            Ok(TargetChange {
                id: uuid_of(&id)?,
                target_id: uuid_of(&target)?,
                requested_by: user_id_of(&by)?,
                requested_at: Timestamp(at),
                reason,
                old_amount: Money(old_a),
                old_volume: old_v,
                new_amount: Money(new_a),
                new_volume: new_v,
                status,
                decided_by: opt_user(dby)?,
                decided_at: dat.map(Timestamp),
                comment: c,
            })
        }

        #[async_trait::async_trait]
        impl TargetStore for $store {
            #[tracing::instrument(skip(self, targets), fields(%tenant, n = targets.len()))]
            async fn upsert_targets(
                &self,
                tenant: TenantId,
                targets: &[Target],
            ) -> StoreResult<()> {
                let mut tx = self.pool().begin().await?;
                for t in targets {
                    sqlx::query(
                        "INSERT INTO targets (id, tenant_id, period, period_start, period_end,
                                              person_id, category, amount, volume, updated_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                         ON CONFLICT (tenant_id, period, person_id, category) DO UPDATE SET
                             amount = excluded.amount,
                             volume = excluded.volume,
                             updated_at = excluded.updated_at",
                    )
                    .bind(t.id.to_string())
                    .bind(tenant.to_string())
                    .bind(&t.period)
                    .bind(t.period_start.to_string())
                    .bind(t.period_end.to_string())
                    .bind(t.person_id.map(|p| p.to_string()).unwrap_or_default())
                    .bind(t.category.clone().unwrap_or_default())
                    .bind(t.amount.0)
                    .bind(t.volume)
                    .bind(t.updated_at.millis())
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            #[tracing::instrument(skip(self, filter), fields(%tenant))]
            async fn list_targets(
                &self,
                tenant: TenantId,
                filter: &TargetFilter,
            ) -> StoreResult<Vec<Target>> {
                let people = filter.people.as_ref().map(|p| {
                    serde_json::Value::from(p.iter().map(|u| u.to_string()).collect::<Vec<_>>())
                        .to_string()
                });
                let rows: Vec<TargetRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    target_columns!(),
                    " FROM targets
                     WHERE tenant_id = $1
                       AND ((person_id <> '' AND ($2 IS NULL OR person_id IN ",
                    json_list!($engine, "$2"),
                    "))
                            OR (person_id = '' AND $3))
                       AND ($4 IS NULL OR period_end >= $4)
                       AND ($5 IS NULL OR period_start <= $5)
                     ORDER BY period_start, period_end DESC, person_id, category"
                ))
                    .bind(tenant.to_string())
                    .bind(people)
                    .bind(filter.company)
                    .bind(filter.from.map(|d| d.to_string()))
                    .bind(filter.to.map(|d| d.to_string()))
                    .fetch_all(self.pool())
                    .await?;
                rows.into_iter().map(target_of).collect()
            }

            #[tracing::instrument(skip(self), fields(%tenant, %id))]
            async fn get_target(&self, tenant: TenantId, id: Uuid) -> StoreResult<Option<Target>> {
                let row: Option<TargetRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    target_columns!(),
                    " FROM targets WHERE id = $1 AND tenant_id = $2"
                ))
                    .bind(id.to_string())
                    .bind(tenant.to_string())
                    .fetch_optional(self.pool())
                    .await?;
                row.map(target_of).transpose()
            }

            #[tracing::instrument(skip(self, change), fields(%tenant, id = %change.id))]
            async fn request_target_change(
                &self,
                tenant: TenantId,
                change: &TargetChange,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO target_changes (id, tenant_id, target_id, requested_by,
                         requested_at, reason, old_amount, old_volume, new_amount, new_volume,
                         status)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending')",
                )
                .bind(change.id.to_string())
                .bind(tenant.to_string())
                .bind(change.target_id.to_string())
                .bind(change.requested_by.to_string())
                .bind(change.requested_at.millis())
                .bind(&change.reason)
                .bind(change.old_amount.0)
                .bind(change.old_volume)
                .bind(change.new_amount.0)
                .bind(change.new_volume)
                .execute(self.pool())
                .await?;
                Ok(())
            }

            #[tracing::instrument(skip(self), fields(%tenant, %target))]
            async fn target_changes(
                &self,
                tenant: TenantId,
                target: Uuid,
            ) -> StoreResult<Vec<TargetChange>> {
                let rows: Vec<ChangeRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    change_columns!(),
                    " FROM target_changes
                     WHERE tenant_id = $1 AND target_id = $2 ORDER BY requested_at, id"
                ))
                    .bind(tenant.to_string())
                    .bind(target.to_string())
                    .fetch_all(self.pool())
                    .await?;
                rows.into_iter().map(change_of).collect()
            }

            #[tracing::instrument(skip(self), fields(%tenant, %id))]
            async fn get_target_change(
                &self,
                tenant: TenantId,
                id: Uuid,
            ) -> StoreResult<Option<TargetChange>> {
                let row: Option<ChangeRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    change_columns!(),
                    " FROM target_changes WHERE id = $1 AND tenant_id = $2"
                ))
                    .bind(id.to_string())
                    .bind(tenant.to_string())
                    .fetch_optional(self.pool())
                    .await?;
                row.map(change_of).transpose()
            }

            #[tracing::instrument(skip(self, decision), fields(%tenant, %id))]
            async fn decide_target_change(
                &self,
                tenant: TenantId,
                id: Uuid,
                decision: &TargetDecision,
            ) -> StoreResult<bool> {
                let mut tx = self.pool().begin().await?;
                let decided = sqlx::query(
                    "UPDATE target_changes
                     SET status = $1, decided_by = $2, decided_at = $3, comment = $4
                     WHERE id = $5 AND tenant_id = $6 AND status = 'pending'",
                )
                .bind(if decision.approve { "approved" } else { "rejected" })
                .bind(decision.by.to_string())
                .bind(decision.at.millis())
                .bind(&decision.comment)
                .bind(id.to_string())
                .bind(tenant.to_string())
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if decided != 1 {
                    tx.rollback().await?;
                    return Ok(false);
                }
                if decision.approve {
                    sqlx::query(
                        "UPDATE targets SET
                             amount = (SELECT new_amount FROM target_changes WHERE id = $1),
                             volume = (SELECT new_volume FROM target_changes WHERE id = $1),
                             updated_at = $2
                         WHERE id = (SELECT target_id FROM target_changes WHERE id = $1)
                           AND tenant_id = $3",
                    )
                    .bind(id.to_string())
                    .bind(decision.at.millis())
                    .bind(tenant.to_string())
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(true)
            }
        }
    };
}

mod sqlite {
    target_store!(crate::store::sqlite::SqliteStore, sqlite);
}

mod postgres {
    target_store!(crate::store::postgres::PgStore, postgres);
}
