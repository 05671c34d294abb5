//! Signing in and out, and the session's tokens: they live in the device database, and a
//! refreshed pair is committed before the HTTP client uses it (docs/auth.md).

use fieldsync_shared::master::UserProfile;
use fieldsync_shared::Timestamp;
use rusqlite::Connection;

use super::Device;
use crate::error::{DeviceError, Result};
use crate::http::{DeviceRegistration, Http, SessionTokens, TokenStore};
use crate::store::{self, keys, Database};

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

impl Device {
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
            &self.db.device_id().to_string(),
            &self.db.actor().to_hex_string(),
        );
        let resp =
            Http::new(&server_url, None).login(tenant, username.trim(), password, &registration)?;
        let tokens = resp.session_tokens(Timestamp::now().millis());
        let mut conn = self.db.lock();
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
            store::clear_master_rows(&tx)?;
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
        let conn = self.db.lock();
        for key in SESSION_KEYS {
            store::meta_delete(&conn, key)?;
        }
        Ok(())
    }

    /// An HTTP client for the signed-in session, refreshing its tokens when needed.
    pub(super) fn session_http(&self) -> Result<Http<'_>> {
        let url =
            store::meta_get(&self.db.lock(), keys::SERVER_URL)?.ok_or(DeviceError::NotLoggedIn)?;
        Http::with_session(&url, &self.db)
    }

    /// The signed-in (or last signed-in) user.
    pub fn profile(&self) -> Result<Option<UserProfile>> {
        store::profile(&self.db.lock())
    }

    /// The server this device syncs with, if it ever logged in.
    pub fn server_url(&self) -> Result<Option<String>> {
        store::meta_get(&self.db.lock(), keys::SERVER_URL)
    }

    /// Whether an access token is stored.
    pub fn is_logged_in(&self) -> Result<bool> {
        Ok(store::meta_get(&self.db.lock(), keys::ACCESS_TOKEN)?.is_some())
    }

    /// A test hook: sets the profile without a server, so edits can be exercised offline.
    #[doc(hidden)]
    pub fn import_profile(&self, profile: &UserProfile) -> Result<()> {
        store::meta_set(
            &self.db.lock(),
            keys::PROFILE,
            &serde_json::to_string(profile)?,
        )
    }
}

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
impl TokenStore for Database {
    fn session_key(&self) -> String {
        self.dir().display().to_string()
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
