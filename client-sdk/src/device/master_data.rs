//! Master data kept offline for the rules (stores of the user's scope, products, credit
//! snapshots, the user's org view), refreshed by sync.

use fieldsync_shared::master::{CreditSnapshot, MasterDataPage, Product, Store};
use fieldsync_shared::org::OrgView;
use fieldsync_shared::{StoreCode, StoreId};

use super::Device;
use crate::edits;
use crate::error::{DeviceError, Result};
use crate::store;

impl Device {
    pub fn stores(&self) -> Result<Vec<Store>> {
        store::stores(&self.db.lock())
    }

    pub fn store(&self, id: StoreId) -> Result<Store> {
        store::store(&self.db.lock(), id)?.ok_or_else(|| DeviceError::not_found("store", id))
    }

    pub fn store_by_code(&self, code: &str) -> Result<Store> {
        let code = StoreCode::parse(code)?;
        store::store_by_code(&self.db.lock(), code.as_str())?
            .ok_or_else(|| DeviceError::not_found("store", code))
    }

    pub fn products(&self) -> Result<Vec<Product>> {
        store::products(&self.db.lock())
    }

    pub fn credit(&self, store: StoreId) -> Result<Option<CreditSnapshot>> {
        store::credit(&self.db.lock(), store)
    }

    /// The signed-in user's place in the organisation, as the write policies see it: what the
    /// server sent with master data, or the user alone (no team, region or territory) when it
    /// sent none.
    pub fn org_view(&self) -> Result<OrgView> {
        let conn = self.db.lock();
        edits::org_view_for(&conn, &store::require_profile(&conn)?)
    }

    /// Stores a master data page (what sync does with `GET /v1/master`). Public for tests.
    #[doc(hidden)]
    pub fn import_master(&self, page: &MasterDataPage) -> Result<()> {
        let mut conn = self.db.lock();
        let tx = conn.transaction()?;
        store::import_page(&tx, page)?;
        tx.commit()?;
        Ok(())
    }
}
