//! `users` files: one row a user, upserted by username; `team` names the user's team (empty:
//! none; column absent: unchanged), `password` sets a new password (and ends their sessions).

use std::collections::{BTreeMap, HashMap};

use fieldsync_shared::master::Role;
use fieldsync_shared::{PersonCode, TenantId};
use uuid::Uuid;

use super::pipeline::{
    first_seen, Columns, Errors, ImportError, NewRows, Progress, Row, RowImport,
};
use crate::admin::{Password, Username};
use crate::store::devices::RevokeReason;
use crate::store::organisation::{ImportCounts, UserImport};
use crate::store::Store as DataStore;
use fieldsync_shared::values::Name;

pub const COLUMNS: Columns = Columns {
    required: &["username", "display_name", "role", "code"],
    optional: &["team", "password"],
};

/// A checked row: the team as in [`UserImport::team`], the new password if any.
struct UserRow {
    username: Username,
    name: Name,
    role: Role,
    code: PersonCode,
    team: Option<Option<Uuid>>,
    password: Option<Password>,
}

pub(super) struct UserRows {
    checked: Vec<UserRow>,
    hashed: Vec<UserImport>,
}

/// The `team` cell: `Some(team)` as [`UserImport::team`], `None` if refused.
fn team_of(
    r: &Row,
    teams: &HashMap<String, Uuid>,
    errors: &mut Errors,
) -> Option<Option<Option<Uuid>>> {
    match r.opt("team") {
        None => Some(None),
        Some("") => Some(Some(None)),
        Some(t) => match teams.get(t) {
            Some(id) => Some(Some(Some(*id))),
            None => {
                errors.add(r.n, "team", format!("no team named {t:?}: create it first"));
                None
            }
        },
    }
}

#[async_trait::async_trait]
impl RowImport for UserRows {
    async fn check(
        store: &dyn DataStore,
        tenant: TenantId,
        rows: &[Row],
        _new: &dyn NewRows,
        errors: &mut Errors,
    ) -> Result<Self, ImportError> {
        let users = store.list_org_users(tenant).await?;
        let code_owner: HashMap<String, String> = users
            .iter()
            .map(|u| (u.profile.code.to_string(), u.profile.username.clone()))
            .collect();
        let teams: HashMap<String, Uuid> = store
            .list_teams(tenant)
            .await?
            .into_iter()
            .map(|t| (t.name, t.id))
            .collect();
        let mut seen_names = BTreeMap::new();
        let mut seen_codes = BTreeMap::new();
        let mut checked = Vec::new();
        for r in rows {
            let username = r.parse(errors, "username", Username::parse);
            let name = r.parse(errors, "display_name", Name::parse);
            let role = r.parse(errors, "role", |s| Role::parse(&s.to_ascii_lowercase()));
            let code = r.parse(errors, "code", PersonCode::parse);
            let team = team_of(r, &teams, errors);
            let password = match r.opt("password") {
                None | Some("") => Some(None),
                Some(p) => r
                    .parse(errors, "password", |_| Password::parse(p))
                    .map(Some),
            };
            if let (Some(role), Some(Some(Some(_)))) = (role, team) {
                if !matches!(role, Role::Rep | Role::Merchandiser) {
                    errors.add(
                        r.n,
                        "team",
                        format!(
                            "a {} is not a team member (only reps and merchandisers are)",
                            role.as_str()
                        ),
                    );
                }
            }
            if let (Some(u), Some(c)) = (&username, &code) {
                if let Some(owner) = code_owner.get(c.as_str()) {
                    if owner != u.as_str() {
                        errors.add(r.n, "code", format!("code {c} belongs to user `{owner}`"));
                    }
                }
            }
            if let Some(u) = &username {
                let u = u.as_str().to_string();
                if !first_seen(&mut seen_names, errors, u, r.n, "username") {
                    continue;
                }
            }
            if let Some(c) = &code {
                if !first_seen(&mut seen_codes, errors, c.to_string(), r.n, "code") {
                    continue;
                }
            }
            if let (
                Some(username),
                Some(name),
                Some(role),
                Some(code),
                Some(team),
                Some(password),
            ) = (username, name, role, code, team, password)
            {
                checked.push(UserRow {
                    username,
                    name,
                    role,
                    code,
                    team,
                    password,
                });
            }
        }
        Ok(UserRows {
            checked,
            hashed: Vec::new(),
        })
    }

    async fn prepare(
        &mut self,
        new: &dyn NewRows,
        progress: &dyn Progress,
    ) -> Result<(), ImportError> {
        progress.phase("hashing passwords");
        // One hash serves every new user without a password.
        let new_user_hash = new.password_hash().await?;
        for row in std::mem::take(&mut self.checked) {
            let password_hash = match row.password {
                Some(p) => Some(crate::auth::hash_password(p.expose().to_string()).await?),
                None => None,
            };
            self.hashed.push(UserImport {
                new_id: new.user_id(row.username.as_str()),
                username: row.username.as_str().to_string(),
                display_name: row.name.as_str().to_string(),
                role: row.role,
                code: row.code,
                password_hash,
                new_user_hash: new_user_hash.clone(),
                team: row.team,
            });
        }
        Ok(())
    }

    async fn write(
        self,
        store: &dyn DataStore,
        tenant: TenantId,
    ) -> Result<ImportCounts, ImportError> {
        let counts = store.import_users(tenant, &self.hashed).await?;
        // As for a password set through the API: a new password ends the user's sessions
        // (their devices stay registered and sign in again).
        let with_password: Vec<&str> = self
            .hashed
            .iter()
            .filter(|u| u.password_hash.is_some())
            .map(|u| u.username.as_str())
            .collect();
        if !with_password.is_empty() {
            for user in store.list_org_users(tenant).await? {
                if with_password.contains(&user.profile.username.as_str()) {
                    store
                        .revoke_user_sessions(
                            tenant,
                            user.profile.id,
                            RevokeReason::PasswordChanged,
                        )
                        .await?;
                }
            }
        }
        Ok(counts)
    }
}
