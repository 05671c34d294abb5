//! Promotions and display agreements in a visit (docs/promotions.md), offline: the promotions
//! running at the visit's store on its date (from master data) with the visit's check of each,
//! and recording a check. The compliance rule (`rules::promotion`) runs at submission with the
//! other rules (`submit_visit`).

use fieldsync_shared::master::Promotion;
use fieldsync_shared::promotion::{CheckStatus, PromotionCheck};
use fieldsync_shared::rules::promotion;
use fieldsync_shared::visit::Visit;
use fieldsync_shared::{DocId, Money, ParseError, PromotionCode, Sha256, ShortText, Timestamp};
use serde::Serialize;

use super::visits::store_of;
use super::Device;
use crate::edits;
use crate::error::{DeviceError, Result};
use crate::store;

/// Most evidence photos one check names.
const MAX_PHOTOS: usize = 20;

/// One promotion running at the visit's store on its date, and the visit's check of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunningPromotion {
    pub promotion: Promotion,
    /// `None`: not checked yet.
    pub check: Option<PromotionCheck>,
}

impl Device {
    /// The promotions running at the visit's store on the visit's date, by code, each with the
    /// visit's check of it if any (offline: the promotions held from master data).
    pub fn active_promotions(&self, visit: DocId) -> Result<Vec<RunningPromotion>> {
        let v: Visit = edits::read(&self.db, visit)?;
        let conn = self.db.lock();
        let store = store_of(&conn, &v)?;
        let running = promotion::active_at(&store, v.planned_date, &store::promotions(&conn)?);
        Ok(running
            .into_iter()
            .map(|p| {
                let check = v
                    .promotion_checks
                    .as_ref()
                    .and_then(|c| c.get(p.code.as_str()))
                    .cloned();
                RunningPromotion {
                    promotion: p,
                    check,
                }
            })
            .collect())
    }

    /// Records the check of one running promotion: in place, partly or not, with evidence
    /// photos (photos of this visit), the shelf price seen and a note. A re-check replaces the
    /// earlier one whole. Refused (`InvalidInput`) for a promotion not running at the store on
    /// the visit's date or a photo not attached to the visit; `WrongState` on a visit written
    /// by an older app that the server has not upgraded yet (sync first).
    pub fn check_promotion(
        &self,
        visit: DocId,
        code: &str,
        status: CheckStatus,
        photos: &[Sha256],
        seen_price: Option<Money>,
        note: Option<&str>,
    ) -> Result<()> {
        let code = PromotionCode::parse(code)?;
        if seen_price.is_some_and(|p| p.minor() < 0) {
            return Err(ParseError::new("seen price", "must not be negative").into());
        }
        if photos.len() > MAX_PHOTOS {
            return Err(ParseError::new(
                "photos",
                format!("more than {MAX_PHOTOS} evidence photos"),
            )
            .into());
        }
        let note = note
            .filter(|n| !n.trim().is_empty())
            .map(ShortText::parse)
            .transpose()?;
        self.edit_visit(visit, "check promotion", |conn, profile, v| {
            let store = store_of(conn, v)?;
            let running = promotion::active_at(&store, v.planned_date, &store::promotions(conn)?);
            if !running.iter().any(|p| p.code == code) {
                return Err(ParseError::new(
                    "promotion",
                    format!(
                        "{code} does not run at this store on {} (sync to receive new promotions)",
                        v.planned_date
                    ),
                )
                .into());
            }
            if let Some(missing) = photos.iter().find(|h| !v.photos.contains_key(&h.to_hex())) {
                return Err(ParseError::new(
                    "photos",
                    format!("{missing} is not a photo of this visit: attach it first"),
                )
                .into());
            }
            let mut next = v.clone();
            let Some(checks) = next.promotion_checks.as_mut() else {
                return Err(DeviceError::wrong_state(
                    "this visit was written by an older app: sync it once before checking \
                     promotions",
                ));
            };
            let mut evidence = photos.to_vec();
            evidence.sort();
            evidence.dedup();
            checks.insert(
                code.to_string(),
                PromotionCheck {
                    status,
                    photos: evidence,
                    seen_price,
                    note,
                    by: profile.id,
                    at: Timestamp::now(),
                },
            );
            edits::authorize(conn, profile, Some(v), &next)?;
            *v = next;
            Ok(())
        })
    }
}
