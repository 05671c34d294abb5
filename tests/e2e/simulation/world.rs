//! Runs a schedule: a server, one [`FaultProxy`] per device (the device's network), the
//! devices, and the ledger of every edit they made (`oracle.rs` judges it once the network has
//! healed).

use std::path::PathBuf;

use automerge::ChangeHash;
use fieldsync_client::{
    AuditInput, Device, DeviceError, DocKind, GeoFix, PaymentMethod, PlanSettings, Store,
    SyncReport, Timestamp,
};
use fieldsync_e2e::proxy::{Fault, FaultProxy};
use fieldsync_e2e::{photo_bytes, write_file, DEMO_PASSWORD, DEMO_TENANT};
use fieldsync_shared::plan::IsoWeek;
use fieldsync_shared::visit::VisitStep;
use fieldsync_shared::DocId;
use tempfile::TempDir;

use super::oracle::{Edit, Effect, Ledger};
use super::schedule::{FaultKind, NetFault, Op, Schedule, Step, PHOTOS, USERS};
use super::server::SimServer;

/// Syncs a device tries while the network heals before the schedule fails.
const HEAL_ATTEMPTS: usize = 8;
/// Rounds of every device syncing in turn while the network heals; the last must be quiet.
const HEAL_ROUNDS: usize = 6;

/// What the schedules did, summed (for docs/reliability.md).
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    pub schedules: u64,
    pub steps: u64,
    pub edits: u64,
    pub refused_on_device: u64,
    /// Edits of a document the device did not hold (yet).
    pub not_on_device: u64,
    pub syncs: u64,
    pub failed_syncs: u64,
    pub refusals_reported: u64,
    pub resets: u64,
}

impl std::ops::AddAssign for Stats {
    fn add_assign(&mut self, o: Stats) {
        self.schedules += o.schedules;
        self.steps += o.steps;
        self.edits += o.edits;
        self.refused_on_device += o.refused_on_device;
        self.not_on_device += o.not_on_device;
        self.syncs += o.syncs;
        self.failed_syncs += o.failed_syncs;
        self.refusals_reported += o.refusals_reported;
        self.resets += o.resets;
    }
}

/// One phone: its user, its network, and the current installation of the app.
pub struct SimDevice {
    pub user: &'static str,
    pub proxy: FaultProxy,
    pub device: Device,
    /// The installation's data directory (a reinstall starts a new one).
    _dir: TempDir,
    /// Numbers every installation of the schedule, for the ledger.
    pub installation: usize,
}

/// Everything a schedule runs against, and what it did.
pub struct World {
    pub server: SimServer,
    pub devices: Vec<SimDevice>,
    /// Documents by the ordinal of the step that created them (`None`: the step failed).
    visits: Vec<Option<DocId>>,
    orders: Vec<Option<DocId>>,
    plans: Vec<Option<DocId>>,
    backup: Option<TempDir>,
    pub ledger: Ledger,
    /// What each step did, in words (printed with a failure).
    pub log: Vec<String>,
    pub stats: Stats,
    installations: usize,
    photos: TempDir,
}

impl World {
    pub fn new(schedule: &Schedule, database_url: Option<String>) -> World {
        let server = SimServer::start(database_url);
        let photos = tempfile::tempdir().expect("temp dir");
        let mut world = World {
            server,
            devices: Vec::new(),
            visits: Vec::new(),
            orders: Vec::new(),
            plans: Vec::new(),
            backup: None,
            ledger: Ledger::default(),
            log: Vec::new(),
            stats: Stats::default(),
            installations: 0,
            photos,
        };
        for user in &schedule.devices {
            let proxy = FaultProxy::start(world.server.url());
            let (device, dir, installation) = world.install(&proxy.url, USERS[*user].0);
            world.devices.push(SimDevice {
                user: USERS[*user].0,
                proxy,
                device,
                _dir: dir,
                installation,
            });
        }
        world
    }

    /// A new installation of the app signed in as `user` through `url`, with its first sync.
    fn install(&mut self, url: &str, user: &str) -> (Device, TempDir, usize) {
        let dir = tempfile::tempdir().expect("temp dir");
        let device = Device::open(dir.path()).expect("open device");
        device
            .login(url, DEMO_TENANT, user, DEMO_PASSWORD)
            .unwrap_or_else(|e| panic!("{user} logs in: {e}"));
        let report = device.sync().unwrap_or_else(|e| panic!("first sync: {e}"));
        self.installations += 1;
        let installation = self.installations;
        self.ledger.record_report(installation, &report);
        (device, dir, installation)
    }

    /// Runs step `index` of `schedule`.
    pub fn apply(&mut self, index: usize, step: &Step) -> Result<(), String> {
        let what = match *step {
            Step::Edit { device, op } => self.edit(index, device, op),
            Step::Sync { device, fault } => self.sync(device, fault),
            Step::Replay { device, back } => self.replay(device, back)?,
            Step::Reinstall { device } => {
                let url = self.devices[device].proxy.url.clone();
                let user = self.devices[device].user;
                let (new, dir, installation) = self.install(&url, user);
                let d = &mut self.devices[device];
                d.device = new;
                d._dir = dir;
                d.installation = installation;
                format!("installation {installation}")
            }
            Step::RestartServer => {
                let url = self.server.restart();
                self.retarget(&url);
                "restarted".into()
            }
            Step::Backup => {
                if self.server.can_back_up() {
                    self.backup = Some(self.server.backup());
                    "backed up".into()
                } else {
                    "no backup on this engine".into()
                }
            }
            Step::Restore => match self.backup.take() {
                Some(backup) => {
                    let url = self.server.restore(backup);
                    self.retarget(&url);
                    "restored".into()
                }
                None => "no backup to restore".into(),
            },
        };
        self.log.push(format!("{index:3}. {what}"));
        self.stats.steps += 1;
        Ok(())
    }

    fn retarget(&self, url: &str) {
        for d in &self.devices {
            d.proxy.retarget(url);
        }
    }

    fn sync(&mut self, device: usize, fault: Option<NetFault>) -> String {
        let d = &self.devices[device];
        d.proxy.clear_faults();
        if let Some(NetFault { kind, nth }) = fault {
            let fault = match kind {
                FaultKind::DropRequest => Fault::Cut,
                FaultKind::CutRequest => Fault::CutRequestBody,
                FaultKind::DropResponse => Fault::DropResponse,
                FaultKind::CutResponse => Fault::CutResponseBody,
            };
            // Counted over the sync rounds and photo uploads: master data is a plain GET.
            d.proxy.fault_nth(fault, usize::from(nth), Some(1), |r| {
                !r.is("GET", "/v1/master")
            });
        }
        let result = self.sync_once(device);
        self.devices[device].proxy.clear_faults();
        match result {
            Ok(report) => summarize(&report),
            Err(e) => format!("sync failed: {e}"),
        }
    }

    /// One `sync()`, recording what it reported; signs in again when the server no longer
    /// knows the session (as the app asks its user to), without syncing again.
    fn sync_once(&mut self, device: usize) -> Result<SyncReport, DeviceError> {
        let d = &self.devices[device];
        self.stats.syncs += 1;
        let outcome = d.device.sync();
        if outcome.is_err() {
            self.stats.failed_syncs += 1;
        }
        match outcome {
            Ok(report) => {
                self.ledger.record_report(d.installation, &report);
                self.stats.refusals_reported +=
                    (report.refused_edits.len() + report.refused.len()) as u64;
                self.stats.resets += u64::from(report.reset);
                Ok(report)
            }
            Err(DeviceError::Unauthorized) => {
                let _ = d
                    .device
                    .login(&d.proxy.url, DEMO_TENANT, d.user, DEMO_PASSWORD);
                Err(DeviceError::Unauthorized)
            }
            Err(e) => Err(e),
        }
    }

    /// Sends one of the device's earlier sync requests again, as it went over the wire, to the
    /// server: the network duplicated it and delivered the copy late.
    fn replay(&mut self, device: usize, back: u8) -> Result<String, String> {
        let d = &self.devices[device];
        let syncs: Vec<_> = d
            .proxy
            .requests()
            .into_iter()
            .filter(|r| r.is("POST", "/v1/sync") && !r.body.is_empty())
            .collect();
        let Some(req) = syncs
            .len()
            .checked_sub(1 + usize::from(back))
            .map(|i| &syncs[i])
        else {
            return Ok("no such request".into());
        };
        let mut call = fieldsync_e2e::http().post(&format!("{}/v1/sync", self.server.url()));
        for name in ["authorization", "content-type", "content-encoding"] {
            if let Some(value) = req.header(name) {
                call = call.header(name, value);
            }
        }
        let status = match call.send(&req.body[..]) {
            Ok(resp) => resp.status().as_u16(),
            Err(e) => return Ok(format!("replay not delivered: {e}")),
        };
        if status >= 500 {
            return Err(format!("a replayed sync request answered {status}"));
        }
        Ok(format!("replay answered {status}"))
    }

    fn edit(&mut self, index: usize, device: usize, op: Op) -> String {
        match self.try_edit(index, device, op) {
            Ok(done) => done,
            Err(e @ DeviceError::NotFound { .. }) => {
                self.stats.not_on_device += 1;
                format!("not possible: {e}")
            }
            Err(e) => {
                self.stats.refused_on_device += 1;
                format!("refused on the device: {e}")
            }
        }
    }

    fn visit(&self, n: u8) -> Result<DocId, DeviceError> {
        self.visits
            .get(usize::from(n))
            .copied()
            .flatten()
            .ok_or_else(|| not_found("visit", n))
    }

    fn order(&self, n: u8) -> Result<DocId, DeviceError> {
        self.orders
            .get(usize::from(n))
            .copied()
            .flatten()
            .ok_or_else(|| not_found("order", n))
    }

    fn plan(&self, n: u8) -> Result<DocId, DeviceError> {
        self.plans
            .get(usize::from(n))
            .copied()
            .flatten()
            .ok_or_else(|| not_found("plan", n))
    }

    fn try_edit(&mut self, index: usize, device: usize, op: Op) -> Result<String, DeviceError> {
        // Creating steps take their ordinal whether or not they succeed.
        match op {
            Op::StartVisit { .. } => self.visits.push(None),
            Op::CreateOrder { .. } => self.orders.push(None),
            Op::GeneratePlan => self.plans.push(None),
            _ => {}
        }
        let dev = &self.devices[device].device;
        let stores = sorted_stores(dev)?;
        let store = |n: u8| -> Result<Store, DeviceError> {
            stores
                .get(usize::from(n) % stores.len().max(1))
                .cloned()
                .ok_or_else(|| not_found("store", n))
        };
        let mut products = dev.products()?;
        products.sort_by(|a, b| a.sku.as_str().cmp(b.sku.as_str()));
        let sku = |n: u8| products[usize::from(n) % products.len()].clone();
        let now = Timestamp::now();
        let mut edits: Vec<(DocId, Effect)> = Vec::new();
        let mut guard = EditGuard::new(dev);
        match op {
            Op::StartVisit { store: s } => {
                let id = dev.start_visit(store(s)?.id, now.utc_date())?;
                *self.visits.last_mut().expect("pushed above") = Some(id);
                edits.push((id, Effect::Created(DocKind::Visit)));
            }
            Op::CheckIn { visit, off_site } => {
                let id = self.visit(visit)?;
                let v = dev.visit(id)?;
                let mut fix = at(&dev.store(v.store_id)?);
                if off_site {
                    fix.lat += 0.045;
                }
                guard.before(id)?;
                dev.check_in(id, fix, now)?;
                edits.push((id, Effect::set("check_in", "set")));
            }
            Op::RecordStep {
                visit,
                step,
                skipped,
            } => {
                let id = self.visit(visit)?;
                let step = VisitStep::ALL[usize::from(step) % VisitStep::ALL.len()];
                guard.before(id)?;
                dev.record_step(id, step, skipped.then_some("shelf blocked by a pallet"))?;
                let value = if skipped { "skipped" } else { "done" };
                edits.push((id, Effect::set(&format!("step/{}", step.as_str()), value)));
            }
            Op::CompleteVisit { visit } => {
                let id = self.visit(visit)?;
                let shop = dev.store(dev.visit(id)?.store_id)?;
                let photo = self.photo_file(3);
                let mut parts: Vec<(Effect, Box<dyn Fn() -> Result<(), DeviceError> + '_>)> =
                    vec![(
                        Effect::set("check_in", "set"),
                        Box::new(|| dev.check_in(id, at(&shop), now).map(drop)),
                    )];
                for step in VisitStep::ALL {
                    parts.push((
                        Effect::set(&format!("step/{}", step.as_str()), "done"),
                        Box::new(move || dev.record_step(id, *step, None)),
                    ));
                }
                let sha =
                    fieldsync_shared::Sha256::digest(&std::fs::read(&photo).expect("photo file"));
                parts.push((
                    Effect::Photo(sha.to_hex()),
                    Box::new(|| dev.attach_photo(id, &photo, None).map(drop)),
                ));
                parts.push((
                    Effect::set("check_out", "set"),
                    Box::new(|| dev.check_out(id, at(&shop), Timestamp::now()).map(drop)),
                ));
                parts.push((
                    Effect::set("status", "submitted"),
                    Box::new(|| dev.submit_visit(id)),
                ));
                for (effect, part) in parts {
                    guard.before(id)?;
                    part()?;
                    if let Some(change) = guard.after(id)? {
                        let edit = self.edit_of(index, device, id, change, effect);
                        self.ledger.push(edit);
                    }
                }
                return Ok(format!("done: {id}, checked out and submitted"));
            }
            Op::Audit {
                visit,
                sku: s,
                shelf,
                facings,
            } => {
                let id = self.visit(visit)?;
                let product = sku(s);
                let location = format!("SHELF-{shelf}");
                guard.before(id)?;
                dev.record_audit_line(
                    id,
                    AuditInput {
                        sku: product.sku.to_string(),
                        location: location.clone(),
                        facings: u32::from(facings),
                        on_shelf: true,
                        shelf_price: None,
                        oldest_production_date: None,
                    },
                )?;
                edits.push((
                    id,
                    Effect::set(
                        &format!("audit/{}@{location}", product.sku),
                        &facings.to_string(),
                    ),
                ));
            }
            Op::Note { visit } => {
                let id = self.visit(visit)?;
                let text = format!("note of step {index} on device {device}");
                guard.before(id)?;
                dev.append_note(id, &text)?;
                edits.push((id, Effect::Note(text)));
            }
            Op::Photo { visit, photo } => {
                let id = self.visit(visit)?;
                let file = self.photo_file(photo);
                guard.before(id)?;
                let sha = dev.attach_photo(id, &file, None)?;
                edits.push((id, Effect::Photo(sha.to_hex())));
            }
            Op::CheckOut { visit } => {
                let id = self.visit(visit)?;
                let v = dev.visit(id)?;
                let fix = at(&dev.store(v.store_id)?);
                guard.before(id)?;
                dev.check_out(id, fix, now)?;
                edits.push((id, Effect::set("check_out", "set")));
            }
            Op::SubmitVisit { visit } => {
                let id = self.visit(visit)?;
                guard.before(id)?;
                dev.submit_visit(id)?;
                edits.push((id, Effect::set("status", "submitted")));
            }
            Op::ApproveVisit { visit } => {
                let id = self.visit(visit)?;
                guard.before(id)?;
                dev.approve_visit(id, Some("looks right"))?;
                edits.push((id, Effect::set("status", "approved")));
            }
            Op::RejectVisit { visit } => {
                let id = self.visit(visit)?;
                guard.before(id)?;
                dev.reject_visit(id, "the shelf photo is missing the top row")?;
                edits.push((id, Effect::set("status", "rejected")));
            }
            Op::ReopenVisit { visit } => {
                let id = self.visit(visit)?;
                guard.before(id)?;
                dev.reopen_visit(id, "numbers do not match the invoice")?;
                edits.push((id, Effect::set("status", "rejected")));
            }
            Op::CreateOrder { store: s, visit } => {
                let shop = store(s)?;
                let visit = visit.map(|v| self.visit(v)).transpose()?;
                let delivery = now
                    .utc_date()
                    .add_days(i64::from(shop.delivery_lead_days) + 1);
                let (id, _) = dev.create_order(shop.id, delivery, PaymentMethod::Cash, visit)?;
                *self.orders.last_mut().expect("pushed above") = Some(id);
                edits.push((id, Effect::Created(DocKind::Order)));
            }
            Op::SetLine {
                order,
                sku: s,
                cases,
                loose,
            } => {
                let id = self.order(order)?;
                let product = sku(s);
                let qty = product.case_pack * u32::from(cases) + u32::from(loose);
                guard.before(id)?;
                dev.set_order_line(id, product.sku.as_str(), qty, None)?;
                edits.push((
                    id,
                    Effect::set(&format!("line/{}", product.sku), &qty.to_string()),
                ));
            }
            Op::RemoveLine { order, sku: s } => {
                let id = self.order(order)?;
                let product = sku(s);
                guard.before(id)?;
                dev.remove_order_line(id, product.sku.as_str())?;
                edits.push((id, Effect::set(&format!("line/{}", product.sku), "none")));
            }
            Op::SubmitOrder { order } => {
                let id = self.order(order)?;
                guard.before(id)?;
                dev.submit_order(id)?;
                // Submitted, or sent to approval by the rules.
                let status = dev.order(id)?.status;
                edits.push((id, Effect::set("status", status.as_str())));
            }
            Op::ApproveOrder { order } => {
                let id = self.order(order)?;
                guard.before(id)?;
                dev.approve_order(id)?;
                edits.push((id, Effect::set("status", "approved")));
            }
            Op::RejectOrder { order } => {
                let id = self.order(order)?;
                guard.before(id)?;
                dev.reject_order(id, "credit hold until Friday")?;
                edits.push((id, Effect::set("status", "rejected")));
            }
            Op::GeneratePlan => {
                let week = IsoWeek::of(now.utc_date());
                // Regenerating a plan the device holds is an edit of it.
                if let Some(plan) = dev.own_plan(week)? {
                    guard.before(plan.id)?;
                }
                let (id, _) = dev.generate_plan(week, &PlanSettings::default())?;
                *self.plans.last_mut().expect("pushed above") = Some(id);
                edits.push((id, Effect::Created(DocKind::Plan)));
            }
            Op::AddPlanEntry {
                plan,
                store: s,
                day,
            }
            | Op::MovePlanEntry {
                plan,
                store: s,
                day,
            } => {
                let id = self.plan(plan)?;
                let week = dev.plan(id)?.week;
                let date = week.monday().add_days(i64::from(day));
                guard.before(id)?;
                if matches!(op, Op::AddPlanEntry { .. }) {
                    dev.add_plan_entry(id, store(s)?.id, date, 1)?;
                } else {
                    dev.move_plan_entry(id, store(s)?.id, date, 1)?;
                }
                edits.push((id, Effect::Other));
            }
            Op::RemovePlanEntry { plan, store: s } => {
                let id = self.plan(plan)?;
                guard.before(id)?;
                dev.remove_plan_entry(id, store(s)?.id)?;
                edits.push((id, Effect::Other));
            }
            Op::SubmitPlan { plan } => {
                let id = self.plan(plan)?;
                guard.before(id)?;
                dev.submit_plan(id)?;
                edits.push((id, Effect::set("status", "submitted")));
            }
            Op::ApprovePlan { plan } => {
                let id = self.plan(plan)?;
                guard.before(id)?;
                dev.approve_plan(id, None)?;
                edits.push((id, Effect::set("status", "approved")));
            }
            Op::ReturnPlan { plan } => {
                let id = self.plan(plan)?;
                guard.before(id)?;
                dev.return_plan(id, "Thursday is the team meeting")?;
                edits.push((id, Effect::set("status", "returned")));
            }
        }
        let mut done = Vec::new();
        for (id, effect) in edits {
            let Some(change) = guard.after(id)? else {
                done.push(format!("{id} unchanged"));
                continue;
            };
            done.push(id.to_string());
            let edit = self.edit_of(index, device, id, change, effect);
            self.ledger.push(edit);
        }
        Ok(format!("done: {}", done.join(", ")))
    }

    fn edit_of(
        &self,
        step: usize,
        device: usize,
        doc: DocId,
        change: ChangeHash,
        effect: Effect,
    ) -> Edit {
        Edit {
            step,
            device,
            installation: self.devices[device].installation,
            doc,
            change,
            effect,
        }
    }

    /// Photo `n` of the shared pool (the same bytes for every device).
    fn photo_file(&self, n: u8) -> PathBuf {
        let n = n % PHOTOS;
        let len = if n == 0 { 10 * 1024 } else { 2 * 1024 };
        write_file(
            self.photos.path(),
            &format!("P{n}.jpg"),
            &photo_bytes(len, 7000 + u64::from(n)),
        )
    }

    /// Every device syncs, in turn, until a whole round changes nothing anywhere: the network
    /// has healed. Fails if a device cannot get through.
    pub fn heal(&mut self) -> Result<(), String> {
        for d in &self.devices {
            d.proxy.clear_faults();
        }
        for round in 0..HEAL_ROUNDS {
            let mut moved = 0;
            for i in 0..self.devices.len() {
                moved += self.settle(i)?;
            }
            if moved == 0 && round > 0 {
                return Ok(());
            }
        }
        Err(format!(
            "the devices still exchange documents after {HEAL_ROUNDS} rounds of syncs"
        ))
    }

    /// Syncs device `i` until it has nothing left to send. Returns how many documents moved.
    fn settle(&mut self, i: usize) -> Result<u32, String> {
        let mut moved = 0;
        let mut last = String::new();
        for _ in 0..HEAL_ATTEMPTS {
            match self.sync_once(i) {
                Ok(report) => {
                    moved += report.docs_pushed + report.docs_received + report.photos_uploaded;
                    let pending = self.devices[i]
                        .device
                        .pending()
                        .map_err(|e| e.to_string())?;
                    // A document refused as a whole stays on the device, pending for good.
                    let refused = report.refused.len() as u32;
                    if pending.documents <= refused && pending.photos == 0 {
                        return Ok(moved);
                    }
                    last = format!("pending after sync: {pending:?}, report {report:?}");
                }
                Err(e) => last = e.to_string(),
            }
        }
        Err(format!(
            "{} ({}) cannot finish syncing on a healed network: {last}",
            i, self.devices[i].user
        ))
    }
}

/// Records the change an edit made: the document's heads before, and the single new head
/// after (a local edit is one Automerge change on top of everything the device holds).
struct EditGuard<'d> {
    device: &'d Device,
    heads: Vec<ChangeHash>,
}

impl<'d> EditGuard<'d> {
    fn new(device: &'d Device) -> EditGuard<'d> {
        EditGuard {
            device,
            heads: Vec::new(),
        }
    }

    fn before(&mut self, id: DocId) -> Result<(), DeviceError> {
        self.heads = self.device.document_heads(id)?;
        Ok(())
    }

    /// The edit's change; `None` if it changed nothing (e.g. a photo attached again).
    fn after(&mut self, id: DocId) -> Result<Option<ChangeHash>, DeviceError> {
        let heads = self.device.document_heads(id)?;
        let new: Vec<ChangeHash> = heads
            .iter()
            .filter(|h| !self.heads.contains(h))
            .copied()
            .collect();
        assert!(
            new.len() <= 1,
            "an edit of {id} adds one change at most: {:?} -> {heads:?}",
            self.heads
        );
        self.heads = heads;
        Ok(new.first().copied())
    }
}

/// The stores a step picks from, by code: the user's territory, or every store for users
/// without one (supervisors, managers).
fn sorted_stores(dev: &Device) -> Result<Vec<Store>, DeviceError> {
    let territory = dev.org_view()?.territory_stores;
    let mut stores: Vec<Store> = dev
        .stores()?
        .into_iter()
        .filter(|s| territory.is_empty() || territory.contains(&s.id))
        .collect();
    stores.sort_by(|a, b| a.code.as_str().cmp(b.code.as_str()));
    Ok(stores)
}

/// The error of a step naming a document (or store) that does not exist (yet) on the device.
fn not_found(what: &'static str, n: u8) -> DeviceError {
    DeviceError::NotFound {
        what,
        id: format!("#{n}"),
    }
}

/// A fix at the store, well inside its geofence.
fn at(store: &Store) -> GeoFix {
    GeoFix {
        lat: store.location.lat(),
        lon: store.location.lon(),
        accuracy_m: 8.0,
        mocked: false,
    }
}

fn summarize(report: &SyncReport) -> String {
    let mut out = format!(
        "synced: {} pushed, {} received, {} photos",
        report.docs_pushed, report.docs_received, report.photos_uploaded
    );
    if report.reset {
        out.push_str(", cursor reset");
    }
    for r in &report.refused {
        out.push_str(&format!(", document {} refused ({})", r.doc_id, r.reason));
    }
    for r in &report.refused_edits {
        out.push_str(&format!(
            ", refused edit {} {} ({})",
            r.doc_id, r.field, r.code
        ));
    }
    out
}
