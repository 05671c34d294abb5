//! `Device`: one app installation. Opening, identity, login, master data reads, and the
//! load -> edit -> commit -> save helpers every edit operation goes through.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use automerge::transaction::CommitOptions;
use automerge::{ActorId, AutoCommit, ChangeHash};
use fieldsync_shared::master::{CreditSnapshot, MasterDataPage, Product, Store, UserProfile};
use fieldsync_shared::org::OrgView;
use fieldsync_shared::{DeviceId, DocId, DocKind, StoreCode, StoreId, Timestamp};
use rusqlite::{Connection, Transaction};

use crate::error::{DeviceError, Result};
use crate::http::{DeviceRegistration, Http, SessionTokens, TokenStore};
use crate::schema;
use crate::store::{self, keys, DocRow};
use crate::sync::{Pending, PendingDoc};

/// Name of the database file inside the device directory.
pub const DB_FILE: &str = "device.db";

/// One installation of the app: a data directory with its SQLite database and photo folder.
///
/// All methods take `&self`; the single SQLite connection sits behind a mutex (SQLite has one
/// writer anyway), so a `Device` can be shared between threads (`Send + Sync`).
pub struct Device {
    pub(crate) dir: PathBuf,
    conn: Mutex<Connection>,
    device_id: DeviceId,
    pub(crate) actor: ActorId,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("dir", &self.dir)
            .field("device_id", &self.device_id)
            .finish_non_exhaustive()
    }
}

impl Device {
    /// Opens the device stored in `dir` (created if needed). The device id and the Automerge
    /// actor id are generated once, when the database is created, and never change: a new
    /// database (a reinstall) is a new device and a new actor.
    pub fn open(dir: &Path) -> Result<Device> {
        std::fs::create_dir_all(dir)?;
        let mut conn = schema::open(&dir.join(DB_FILE))?;
        let tx = conn.transaction()?;
        let device_id = match store::meta_get(&tx, keys::DEVICE_ID)? {
            Some(id) => DeviceId::parse(&id)?,
            None => {
                let id = DeviceId::new_random();
                store::meta_set(&tx, keys::DEVICE_ID, &id.to_string())?;
                id
            }
        };
        let actor = match store::meta_get(&tx, keys::ACTOR_ID)? {
            Some(hex) => ActorId::try_from(hex.as_str())
                .map_err(|e| DeviceError::Storage(format!("corrupt actor id {hex:?}: {e}")))?,
            None => {
                let actor = ActorId::random();
                store::meta_set(&tx, keys::ACTOR_ID, &actor.to_hex_string())?;
                actor
            }
        };
        tx.commit()?;
        Ok(Device {
            dir: dir.to_path_buf(),
            conn: Mutex::new(conn),
            device_id,
            actor,
        })
    }

    pub fn device_id(&self) -> DeviceId {
        self.device_id
    }

    /// The data directory this device lives in.
    pub fn data_dir(&self) -> &Path {
        &self.dir
    }

    /// The connection. A panic while it was held cannot leave a half-written SQLite
    /// transaction behind (it rolls back on drop), so a poisoned lock is safe to take over.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    // -----------------------------------------------------------------------------------------
    // session

    /// Signs in against `server_url`, registering this installation (device id, Automerge
    /// actor, name, platform) with the server; stores the session's tokens, the profile and the
    /// server address. Signing in to another server or tenant than before forgets what the
    /// previous one had acknowledged, so the next sync pushes everything (local work is never
    /// deleted). An installation belongs to one user: signing in as someone else is refused
    /// by the server (`device_belongs_to_another_user`).
    pub fn login(
        &self,
        server_url: &str,
        tenant: &str,
        username: &str,
        password: &str,
    ) -> Result<UserProfile> {
        let server_url = server_url.trim().trim_end_matches('/').to_string();
        let tenant = tenant.trim();
        let registration = DeviceRegistration::this_installation(
            &self.device_id.to_string(),
            &self.actor.to_hex_string(),
        );
        let resp =
            Http::new(&server_url, None).login(tenant, username.trim(), password, &registration)?;
        let tokens = resp.session_tokens(Timestamp::now().millis());
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let old_url = store::meta_get(&tx, keys::SERVER_URL)?;
        let old_tenant = store::meta_get(&tx, keys::TENANT)?;
        let tenant_changed = old_tenant.as_deref().is_some_and(|t| t != tenant);
        let server_changed = old_url.as_deref().is_some_and(|u| u != server_url);
        if tenant_changed || server_changed {
            store::clear_all_synced_heads(&tx)?;
            store::set_cursor(&tx, None)?;
            store::meta_delete(&tx, keys::MASTER_VERSION)?;
        }
        if tenant_changed {
            // Another company's stores and prices must not be used for this one's rules.
            tx.execute_batch("DELETE FROM stores; DELETE FROM products; DELETE FROM credit;")?;
        }
        store::meta_set(&tx, keys::SERVER_URL, &server_url)?;
        store::meta_set(&tx, keys::TENANT, tenant)?;
        save_session_tokens(&tx, &tokens)?;
        store::meta_set(&tx, keys::PROFILE, &serde_json::to_string(&resp.user)?)?;
        tx.commit()?;
        Ok(resp.user)
    }

    /// Signs out: ends the session on the server when it can be reached (best effort), and
    /// forgets the tokens either way. The profile, documents, photos and master data stay, so
    /// unsynced work is never lost by logging out; it is sent after the next login.
    pub fn logout(&self) -> Result<()> {
        if let Ok(http) = self.session_http() {
            // Offline or already refused: the tokens are forgotten below all the same, and the
            // session ends on the server when its refresh token expires.
            let _ = http.logout();
        }
        let conn = self.lock();
        for key in SESSION_KEYS {
            store::meta_delete(&conn, key)?;
        }
        Ok(())
    }

    /// An HTTP client for the signed-in session, refreshing its tokens when needed.
    pub(crate) fn session_http(&self) -> Result<Http<'_>> {
        let url =
            store::meta_get(&self.lock(), keys::SERVER_URL)?.ok_or(DeviceError::NotLoggedIn)?;
        Http::with_session(&url, self)
    }

    /// The signed-in (or last signed-in) user.
    pub fn profile(&self) -> Result<Option<UserProfile>> {
        store::profile(&self.lock())
    }

    /// The server this device syncs with, if it ever logged in.
    pub fn server_url(&self) -> Result<Option<String>> {
        store::meta_get(&self.lock(), keys::SERVER_URL)
    }

    /// Whether an access token is stored.
    pub fn is_logged_in(&self) -> Result<bool> {
        Ok(store::meta_get(&self.lock(), keys::ACCESS_TOKEN)?.is_some())
    }

    pub(crate) fn require_profile(conn: &Connection) -> Result<UserProfile> {
        store::profile(conn)?.ok_or(DeviceError::NotLoggedIn)
    }

    /// A test hook: sets the profile without a server, so edits can be exercised offline.
    #[doc(hidden)]
    pub fn import_profile(&self, profile: &UserProfile) -> Result<()> {
        store::meta_set(
            &self.lock(),
            keys::PROFILE,
            &serde_json::to_string(profile)?,
        )
    }

    // -----------------------------------------------------------------------------------------
    // master data (kept offline, refreshed by sync)

    pub fn stores(&self) -> Result<Vec<Store>> {
        store::stores(&self.lock())
    }

    pub fn store(&self, id: StoreId) -> Result<Store> {
        store::store(&self.lock(), id)?.ok_or_else(|| DeviceError::not_found("store", id))
    }

    pub fn store_by_code(&self, code: &str) -> Result<Store> {
        let code = StoreCode::parse(code)?;
        store::store_by_code(&self.lock(), code.as_str())?
            .ok_or_else(|| DeviceError::not_found("store", code))
    }

    pub fn products(&self) -> Result<Vec<Product>> {
        store::products(&self.lock())
    }

    pub fn credit(&self, store: StoreId) -> Result<Option<CreditSnapshot>> {
        store::credit(&self.lock(), store)
    }

    /// The signed-in user's place in the organisation, as the write policies see it: what the
    /// server sent with master data, or the user alone (no team, region or territory) when it
    /// sent none.
    pub fn org_view(&self) -> Result<OrgView> {
        let conn = self.lock();
        org_view_for(&conn, &Self::require_profile(&conn)?)
    }

    /// Stores a master data page (what sync does with `GET /v1/master`). Public for tests.
    #[doc(hidden)]
    pub fn import_master(&self, page: &MasterDataPage) -> Result<()> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        import_master_page(&tx, page)?;
        tx.commit()?;
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // documents

    /// The document's Automerge `save()` bytes (for replica comparison and export).
    pub fn document_save(&self, id: DocId) -> Result<Vec<u8>> {
        let conn = self.lock();
        let row =
            store::load_doc(&conn, id)?.ok_or_else(|| DeviceError::not_found("document", id))?;
        Ok(row.load(&self.actor)?.save())
    }

    /// The document's current heads, sorted.
    pub fn document_heads(&self, id: DocId) -> Result<Vec<ChangeHash>> {
        let conn = self.lock();
        let row =
            store::load_doc(&conn, id)?.ok_or_else(|| DeviceError::not_found("document", id))?;
        let mut heads = row.heads;
        heads.sort();
        Ok(heads)
    }

    /// The kind of a local document.
    pub fn document_kind(&self, id: DocId) -> Result<DocKind> {
        let conn = self.lock();
        store::load_doc(&conn, id)?
            .map(|r| r.kind)
            .ok_or_else(|| DeviceError::not_found("document", id))
    }

    /// Ids of all local documents (of one kind, or all).
    pub fn document_ids(&self, kind: Option<DocKind>) -> Result<Vec<DocId>> {
        let conn = self.lock();
        let mut stmt = conn.prepare(
            "SELECT doc_id FROM documents WHERE ?1 IS NULL OR kind = ?1 ORDER BY doc_id",
        )?;
        let ids = stmt
            .query_map([kind.map(|k| k.as_str())], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        ids.iter().map(|s| Ok(DocId::parse(s)?)).collect()
    }

    /// Work the server does not have yet.
    pub fn pending(&self) -> Result<Pending> {
        let conn = self.lock();
        let mut pending = Pending::default();
        for row in store::pending_docs(&conn)? {
            let changes = match row.load(&self.actor) {
                Ok(mut doc) => {
                    let synced = known_heads(&mut doc, &row.synced_heads);
                    doc.get_changes(&synced).len() as u32
                }
                Err(_) => 0,
            };
            pending.documents += 1;
            pending.changes += changes;
            pending.docs.push(PendingDoc {
                doc_id: row.id,
                kind: row.kind,
                changes,
            });
        }
        (pending.photos, pending.photos_failed) = store::photo_counts(&conn)?;
        Ok(pending)
    }

    /// Loads a local document of the given kind.
    pub(crate) fn load_row(conn: &Connection, id: DocId, kind: DocKind) -> Result<DocRow> {
        match store::load_doc(conn, id)? {
            Some(row) if row.kind == kind => Ok(row),
            _ => Err(DeviceError::not_found(kind.as_str(), id)),
        }
    }

    /// Commits the pending operations of `doc` as one change under this device's actor and
    /// saves the document, together with `extra` bookkeeping, in one SQLite transaction: when
    /// this returns Ok the edit is durable.
    pub(crate) fn commit_doc(
        conn: &mut Connection,
        id: DocId,
        kind: DocKind,
        doc: &mut AutoCommit,
        message: &str,
        extra: impl FnOnce(&Transaction<'_>) -> Result<()>,
    ) -> Result<()> {
        doc.commit_with(
            CommitOptions::default()
                .with_message(message.to_string())
                .with_time(Timestamp::now().millis() / 1000),
        );
        let tx = conn.transaction()?;
        extra(&tx)?;
        store::save_doc(&tx, id, kind, doc)?;
        tx.commit()?;
        Ok(())
    }
}

/// Meta keys of the session besides `keys::ACCESS_TOKEN` (docs/auth.md).
const REFRESH_TOKEN_KEY: &str = "refresh_token";
/// Unix milliseconds.
const REFRESH_EXPIRES_AT_KEY: &str = "refresh_expires_at";
const SESSION_ID_KEY: &str = "session_id";
/// Everything a logout forgets.
const SESSION_KEYS: [&str; 4] = [
    keys::ACCESS_TOKEN,
    REFRESH_TOKEN_KEY,
    REFRESH_EXPIRES_AT_KEY,
    SESSION_ID_KEY,
];

fn save_session_tokens(conn: &Connection, tokens: &SessionTokens) -> Result<()> {
    store::meta_set(conn, keys::ACCESS_TOKEN, &tokens.access_token)?;
    let optional = [
        (REFRESH_TOKEN_KEY, tokens.refresh_token.clone()),
        (
            REFRESH_EXPIRES_AT_KEY,
            tokens.refresh_expires_at.map(|t| t.to_string()),
        ),
        (SESSION_ID_KEY, tokens.session_id.clone()),
    ];
    for (key, value) in optional {
        match value {
            Some(v) => store::meta_set(conn, key, &v)?,
            None => store::meta_delete(conn, key)?,
        }
    }
    Ok(())
}

/// The session's tokens live in the device database; a refreshed pair is committed before the
/// HTTP client uses it.
impl TokenStore for Device {
    fn session_key(&self) -> String {
        self.dir.display().to_string()
    }

    fn load_tokens(&self) -> Result<Option<SessionTokens>> {
        let conn = self.lock();
        let Some(access_token) = store::meta_get(&conn, keys::ACCESS_TOKEN)? else {
            return Ok(None);
        };
        Ok(Some(SessionTokens {
            access_token,
            refresh_token: store::meta_get(&conn, REFRESH_TOKEN_KEY)?,
            refresh_expires_at: store::meta_get(&conn, REFRESH_EXPIRES_AT_KEY)?
                .and_then(|t| t.parse().ok()),
            session_id: store::meta_get(&conn, SESSION_ID_KEY)?,
        }))
    }

    fn save_tokens(&self, tokens: &SessionTokens) -> Result<()> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        save_session_tokens(&tx, tokens)?;
        tx.commit()?;
        Ok(())
    }
}

/// Upserts the rows of a master data page and remembers its version.
pub(crate) fn import_master_page(conn: &Connection, page: &MasterDataPage) -> Result<()> {
    if page.stores_complete {
        // Every store of the user's scope is listed: the others left it.
        let keep: Vec<StoreId> = page.stores.iter().map(|s| s.id).collect();
        store::retain_stores(conn, &keep)?;
    }
    for s in &page.stores {
        store::upsert_store(conn, s)?;
    }
    for p in &page.products {
        store::upsert_product(conn, p)?;
    }
    for c in &page.credit {
        store::upsert_credit(conn, c)?;
    }
    if page.version > store::master_version(conn)? {
        store::meta_set(conn, keys::MASTER_VERSION, &page.version.to_string())?;
    }
    // Every page carries the current org view; a server that sends none leaves the device on
    // the signed-in user alone (see `Device::org_view`), never on a stale team.
    match &page.org {
        Some(org) => store::meta_set(conn, ORG_VIEW_KEY, &serde_json::to_string(org)?)?,
        None => store::meta_delete(conn, ORG_VIEW_KEY)?,
    }
    Ok(())
}

/// Meta key of the org view received with master data (JSON of `OrgView`).
const ORG_VIEW_KEY: &str = "org_view";

/// The org view the write policies use on this device for `profile`: the one received with
/// master data if it is this user's, else the user alone.
pub(crate) fn org_view_for(conn: &Connection, profile: &UserProfile) -> Result<OrgView> {
    let stored: Option<OrgView> = match store::meta_get(conn, ORG_VIEW_KEY)? {
        Some(json) => Some(serde_json::from_str(&json)?),
        None => None,
    };
    Ok(stored
        .filter(|org| org.user_id == profile.id)
        .unwrap_or_else(|| OrgView::solo(profile.id, profile.role)))
}

/// The subset of `heads` the document actually contains (a hash it does not know cannot be
/// used as a "have" set).
pub(crate) fn known_heads(doc: &mut AutoCommit, heads: &[ChangeHash]) -> Vec<ChangeHash> {
    heads
        .iter()
        .filter(|h| doc.get_change_by_hash(h).is_some())
        .copied()
        .collect()
}
