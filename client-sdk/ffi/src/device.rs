//! `FieldsyncDevice`: the object an app holds, one per installation (data directory). Each
//! method is a thin wrapper over `fieldsync_client::Device`: parse the strings of the boundary,
//! call, convert the result. Network-bound calls (`login`, `sync_now`, `photo_thumbnail`) are
//! async and run on a worker thread (`worker.rs`); the others block on SQLite for a few
//! milliseconds: call them off the UI thread too.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use fieldsync_client::{BackgroundSync, Device};
use fieldsync_shared::{Date, DocId, ParseError, StoreId, Timestamp};

use crate::error::{findings, FieldsyncError, Finding, Result};
use crate::records::{
    int, non_negative, AttachedPhoto, AuditInput, ExpectedSku, GeoFix, Order, PaymentMethod,
    PendingUploads, PhotoUpload, Product, Profile, RefusedEdit, Store, SyncReport, Visit,
    VisitStep,
};
use crate::worker::off_thread;

#[derive(uniffi::Object)]
pub struct FieldsyncDevice {
    pub(crate) device: Arc<Device>,
    server_url: String,
    /// The running background sync, if started. Dropping the device stops it.
    pub(crate) background: Mutex<Option<BackgroundSync>>,
}

impl std::fmt::Debug for FieldsyncDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FieldsyncDevice")
            .field("device", &self.device)
            .field("server_url", &self.server_url)
            .finish_non_exhaustive()
    }
}

/// Parses an id argument; a malformed one is `Invalid` naming the argument.
pub(crate) fn doc_id(field: &'static str, s: &str) -> Result<DocId> {
    DocId::parse(s.trim()).map_err(|e| ParseError::new(field, e.reason).into())
}

fn store_id(s: &str) -> Result<StoreId> {
    StoreId::parse(s.trim()).map_err(|e| ParseError::new("store_id", e.reason).into())
}

pub(crate) fn date(field: &'static str, s: &str) -> Result<Date> {
    Date::parse(s.trim()).map_err(|e| ParseError::new(field, e.reason).into())
}

#[uniffi::export]
impl FieldsyncDevice {
    /// Opens (or creates) the device stored in `data_dir`; `server_url` is where `login` signs
    /// in (e.g. `https://sync.example.com`). Opening needs no network.
    #[uniffi::constructor]
    pub fn open(data_dir: String, server_url: String) -> Result<Arc<Self>> {
        if server_url.trim().is_empty() {
            return Err(ParseError::new("server_url", "must not be empty").into());
        }
        let device = Device::open(&PathBuf::from(data_dir))?;
        Ok(Arc::new(FieldsyncDevice {
            device: Arc::new(device),
            server_url: server_url.trim().to_string(),
            background: Mutex::new(None),
        }))
    }

    /// This installation's id (generated once, with its database).
    pub fn device_id(&self) -> String {
        self.device.device_id().to_string()
    }

    // -----------------------------------------------------------------------------------------
    // session

    /// Signs in (network, so async: `suspend` in Kotlin). Wrong credentials: `Unauthorized`
    /// (`invalid_credentials`); no server: `Offline`.
    pub async fn login(
        &self,
        tenant: String,
        username: String,
        password: String,
    ) -> Result<Profile> {
        let device = self.device.clone();
        let server_url = self.server_url.clone();
        off_thread("login", move || {
            Ok(device
                .login(&server_url, &tenant, &username, &password)?
                .into())
        })
        .await
    }

    /// Forgets the session. Unsynced work, photos and master data stay on the device.
    pub fn logout(&self) -> Result<()> {
        Ok(self.device.logout()?)
    }

    /// The signed-in (or last signed-in) user.
    pub fn profile(&self) -> Result<Option<Profile>> {
        Ok(self.device.profile()?.map(Profile::from))
    }

    pub fn is_logged_in(&self) -> Result<bool> {
        Ok(self.device.is_logged_in()?)
    }

    // -----------------------------------------------------------------------------------------
    // master data (offline; refreshed by sync)

    /// The stores of the user's territory.
    pub fn stores(&self) -> Result<Vec<Store>> {
        Ok(self.device.stores()?.into_iter().map(Store::from).collect())
    }

    pub fn store_by_code(&self, code: String) -> Result<Store> {
        Ok(self.device.store_by_code(&code)?.into())
    }

    pub fn products(&self) -> Result<Vec<Product>> {
        Ok(self
            .device
            .products()?
            .into_iter()
            .map(Product::from)
            .collect())
    }

    // -----------------------------------------------------------------------------------------
    // visits

    /// Plans a visit of a store for the signed-in user; `planned_date` (`YYYY-MM-DD`) defaults
    /// to today (UTC).
    #[uniffi::method(default(planned_date = None))]
    pub fn start_visit(&self, store_id: String, planned_date: Option<String>) -> Result<Visit> {
        let store = self::store_id(&store_id)?;
        let planned = match planned_date {
            Some(d) => date("planned_date", &d)?,
            None => Timestamp::now().utc_date(),
        };
        let id = self.device.start_visit(store, planned)?;
        Ok(self.device.visit(id)?.into())
    }

    /// Checks in. Outside the geofence or a mock location: recorded and returned as flags.
    pub fn check_in(&self, visit_id: String, fix: GeoFix) -> Result<Vec<Finding>> {
        let (fix, at) = fix.split();
        Ok(findings(self.device.check_in(
            doc_id("visit_id", &visit_id)?,
            fix,
            at,
        )?))
    }

    /// Records a step as done (`skipped_reason` None) or skipped with a reason.
    #[uniffi::method(default(skipped_reason = None))]
    pub fn record_step(
        &self,
        visit_id: String,
        step: VisitStep,
        skipped_reason: Option<String>,
    ) -> Result<()> {
        Ok(self.device.record_step(
            doc_id("visit_id", &visit_id)?,
            step.into(),
            skipped_reason.as_deref(),
        )?)
    }

    /// Records (or replaces) the audit line of a SKU at a location; stale stock is a flag.
    pub fn record_audit_line(&self, visit_id: String, line: AuditInput) -> Result<Vec<Finding>> {
        let id = doc_id("visit_id", &visit_id)?;
        Ok(findings(self.device.record_audit_line(id, line.parse()?)?))
    }

    /// Attaches a photo file (JPEG, PNG, WebP, HEIC): the bytes are copied into the device
    /// (the gallery file may go away) and queued for upload.
    #[uniffi::method(default(step = None))]
    pub fn attach_photo(
        &self,
        visit_id: String,
        path: String,
        step: Option<VisitStep>,
    ) -> Result<AttachedPhoto> {
        let (sha, verdict) = self.device.attach_photo_checked(
            doc_id("visit_id", &visit_id)?,
            &PathBuf::from(path),
            step.map(Into::into),
        )?;
        Ok(AttachedPhoto {
            sha256: sha.to_hex(),
            findings: findings(verdict),
        })
    }

    /// Adds a note entry to the visit (notes added at once on two phones are both kept).
    pub fn append_note(&self, visit_id: String, text: String) -> Result<()> {
        Ok(self
            .device
            .append_note(doc_id("visit_id", &visit_id)?, &text)?)
    }

    /// Checks out. Missing steps or photos: `Invalid` listing each.
    pub fn check_out(&self, visit_id: String, fix: GeoFix) -> Result<Vec<Finding>> {
        let (fix, at) = fix.split();
        Ok(findings(self.device.check_out(
            doc_id("visit_id", &visit_id)?,
            fix,
            at,
        )?))
    }

    /// Submits a checked-out visit for review; it can no longer be edited afterwards.
    pub fn submit_visit(&self, visit_id: String) -> Result<()> {
        Ok(self.device.submit_visit(doc_id("visit_id", &visit_id)?)?)
    }

    /// The must-carry range of the visit's store against the visit's audit so far, by SKU
    /// (offline): what the audit screen shows as expected, and missing (`on_shelf` false).
    pub fn expected_range(&self, visit_id: String) -> Result<Vec<ExpectedSku>> {
        Ok(self
            .device
            .expected_range(doc_id("visit_id", &visit_id)?)?
            .into_iter()
            .map(ExpectedSku::from)
            .collect())
    }

    pub fn visit(&self, visit_id: String) -> Result<Visit> {
        Ok(self.device.visit(doc_id("visit_id", &visit_id)?)?.into())
    }

    /// Every visit on this device (own and received), by planned date.
    pub fn visits(&self) -> Result<Vec<Visit>> {
        Ok(self.device.visits()?.into_iter().map(Visit::from).collect())
    }

    // -----------------------------------------------------------------------------------------
    // orders

    /// Creates a draft order numbered on the device (works offline). `requested_delivery`
    /// (`YYYY-MM-DD`) must respect the store's lead time.
    #[uniffi::method(default(visit_id = None))]
    pub fn create_order(
        &self,
        store_id: String,
        requested_delivery: String,
        payment: PaymentMethod,
        visit_id: Option<String>,
    ) -> Result<Order> {
        let visit = visit_id
            .as_deref()
            .map(|v| doc_id("visit_id", v))
            .transpose()?;
        let (id, _) = self.device.create_order(
            self::store_id(&store_id)?,
            date("requested_delivery", &requested_delivery)?,
            payment.into(),
            visit,
        )?;
        Ok(self.device.order(id)?.into())
    }

    /// Sets the line of a SKU (`unit_price_minor` None: list price). Pricing rules run now.
    /// A negative `quantity` is `Invalid` (field `quantity`, code `negative`).
    #[uniffi::method(default(unit_price_minor = None))]
    pub fn set_order_line(
        &self,
        order_id: String,
        sku: String,
        quantity: i32,
        unit_price_minor: Option<i64>,
    ) -> Result<Vec<Finding>> {
        let quantity = non_negative("quantity", quantity)?;
        Ok(findings(self.device.set_order_line(
            doc_id("order_id", &order_id)?,
            &sku,
            quantity,
            unit_price_minor.map(fieldsync_shared::Money),
        )?))
    }

    pub fn remove_order_line(&self, order_id: String, sku: String) -> Result<()> {
        Ok(self
            .device
            .remove_order_line(doc_id("order_id", &order_id)?, &sku)?)
    }

    /// Submits a draft order; every rule runs again. Returns the order (status `submitted`,
    /// or `pending_approval` when a finding needs a supervisor).
    pub fn submit_order(&self, order_id: String) -> Result<Order> {
        let id = doc_id("order_id", &order_id)?;
        self.device.submit_order(id)?;
        Ok(self.device.order(id)?.into())
    }

    /// Records, offline, that the store received the order on `delivered_on` (`YYYY-MM-DD`):
    /// once, on a submitted or approved order, by its rep or their supervisor or manager,
    /// dated from the order date to today (else `Forbidden` with the policy's code). Returns
    /// the order.
    pub fn record_delivery(&self, order_id: String, delivered_on: String) -> Result<Order> {
        let id = doc_id("order_id", &order_id)?;
        self.device
            .record_delivery(id, date("delivered_on", &delivered_on)?)?;
        Ok(self.device.order(id)?.into())
    }

    pub fn order(&self, order_id: String) -> Result<Order> {
        Ok(self.device.order(doc_id("order_id", &order_id)?)?.into())
    }

    /// Every order on this device, newest first.
    pub fn orders(&self) -> Result<Vec<Order>> {
        Ok(self.device.orders()?.into_iter().map(Order::from).collect())
    }

    // -----------------------------------------------------------------------------------------
    // sync

    /// Syncs now (network, so async: `suspend` in Kotlin): pushes local changes and photos,
    /// pulls what others changed and refreshes master data. Offline: `Offline`, nothing lost.
    pub async fn sync_now(&self) -> Result<SyncReport> {
        let device = self.device.clone();
        off_thread("sync-now", move || Ok(device.sync()?.into())).await
    }

    /// Work the server does not have yet.
    pub fn pending(&self) -> Result<PendingUploads> {
        Ok(self.device.pending()?.into())
    }

    /// The photo queue with each photo's upload state.
    pub fn photo_uploads(&self) -> Result<Vec<PhotoUpload>> {
        Ok(self
            .device
            .photo_uploads()?
            .into_iter()
            .map(PhotoUpload::from)
            .collect())
    }

    /// The most recent edits of this device that the server refused and undid, newest first.
    pub fn refused_edits(&self) -> Result<Vec<RefusedEdit>> {
        Ok(self
            .device
            .refused_edits()?
            .into_iter()
            .map(RefusedEdit::from)
            .collect())
    }

    /// Queues failed photos again for the next sync; returns how many.
    pub fn retry_failed_photos(&self) -> Result<i32> {
        Ok(int(self.device.retry_failed_photos()?))
    }
}

impl FieldsyncDevice {
    pub(crate) fn background(&self) -> MutexGuard<'_, Option<BackgroundSync>> {
        // Only an Option behind the lock: a panic cannot leave it half-written.
        self.background.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Convenience for wrappers that need `FieldsyncError` from a plain message.
pub(crate) fn wrong_state(detail: impl Into<String>) -> FieldsyncError {
    FieldsyncError::WrongState {
        detail: detail.into(),
    }
}
