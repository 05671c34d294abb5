//! The subcommands other than `serve`: `keygen`, `seed-demo`, `user add`, `import`. Each
//! opens what it needs from the configuration, does its one job and prints what it did.

use std::sync::Arc;

use fieldsync_shared::master::UserProfile;
use fieldsync_shared::{PersonCode, TenantId, UserId};

use crate::admin::csv_import::{self, ImportError, ImportReport, Progress};
use crate::auth;
use crate::cli::{ImportArgs, KeygenArgs, UserAdd};
use crate::config::Config;
use crate::demo;
use crate::startup::{open_store, StartupError};
use crate::store::directory::Tenant;
use crate::store::StoreError;

/// `fieldsync-server keygen <path>`: writes a new Ed25519 private key and prints what the
/// operator needs (the public key for the other instances, the key id tokens will carry).
pub fn keygen(args: &KeygenArgs) -> Result<(), StartupError> {
    let generated =
        auth::tokens::generate_ed25519_key(&args.path).map_err(auth::SecretError::from)?;
    println!(
        "wrote a new Ed25519 private key to {} (mode 0600)\n\
         start the server with FIELDSYNC_JWT_ED25519_KEY_FILE={}\n\
         key id (kid): {}\n\
         public key (for FIELDSYNC_JWT_VERIFY_KEY_FILES on instances during a rotation):\n{}",
        args.path.display(),
        args.path.display(),
        generated.kid,
        generated.public_pem.trim_end()
    );
    Ok(())
}

/// `fieldsync-server seed-demo`.
pub async fn seed_demo(config: &Config) -> Result<demo::SeedOutcome, StartupError> {
    let store = open_store(config).await?;
    let outcome = demo::seed(store.as_ref()).await?;
    match outcome {
        demo::SeedOutcome::Created => println!("demo tenant `demo` created (password demo1234)"),
        demo::SeedOutcome::AlreadyPresent => {
            println!("demo tenant `demo` already present; nothing changed")
        }
    }
    Ok(outcome)
}

/// `fieldsync-server user add`: creates the tenant if needed, then the user.
pub async fn add_user(
    config: &Config,
    add: &UserAdd,
    password: &str,
) -> Result<UserProfile, StartupError> {
    if password.chars().count() < 8 {
        return Err(StartupError::InvalidInput(
            "the password (first line of standard input) must have at least 8 characters".into(),
        ));
    }
    let code =
        PersonCode::parse(&add.code).map_err(|e| StartupError::InvalidInput(e.to_string()))?;
    let username = auth::normalize_username(&add.username);
    if username.is_empty() || add.name.trim().is_empty() || add.tenant.trim().is_empty() {
        return Err(StartupError::InvalidInput(
            "tenant, username and name must not be empty".into(),
        ));
    }
    let store = open_store(config).await?;
    let slug = add.tenant.trim().to_lowercase();
    let tenant = match store.find_tenant_by_slug(&slug).await? {
        Some(t) => t,
        None => {
            let t = Tenant {
                id: TenantId::new_random(),
                slug: slug.clone(),
                name: slug.clone(),
            };
            store.create_tenant(&t).await?;
            println!("created tenant `{slug}`");
            t
        }
    };
    let user = UserProfile {
        id: UserId::new_random(),
        tenant_id: tenant.id,
        username,
        display_name: add.name.trim().to_string(),
        role: add.role,
        code,
    };
    let hash = auth::hash_password(password.to_string())
        .await
        .map_err(|e| StartupError::InvalidInput(format!("hashing the password failed: {e}")))?;
    store.create_user(&user, &hash).await.map_err(|e| match e {
        StoreError::Conflict(_) => StartupError::InvalidInput(format!(
            "tenant `{slug}` already has a user named `{}` or with code `{}`",
            user.username, user.code
        )),
        other => other.into(),
    })?;
    println!(
        "created user `{}` ({}) in tenant `{slug}`",
        user.username,
        user.role.as_str()
    );
    Ok(user)
}

/// `fieldsync-server import <kind> <file> --tenant <slug>`: all rows or none, with progress on
/// standard error and, on refusal, one line per failing row.
pub async fn import_file(
    config: &Config,
    import: &ImportArgs,
) -> Result<ImportReport, StartupError> {
    struct Stderr;
    impl Progress for Stderr {
        fn rows_read(&self, rows: u64) {
            eprintln!("read {rows} rows");
        }
        fn phase(&self, phase: &str) {
            eprintln!("{phase}...");
        }
    }
    let bytes = std::fs::read(&import.file).map_err(|e| {
        StartupError::InvalidInput(format!("cannot read {}: {e}", import.file.display()))
    })?;
    let store = open_store(config).await?;
    let slug = import.tenant.trim().to_lowercase();
    let tenant = store
        .find_tenant_by_slug(&slug)
        .await?
        .ok_or_else(|| StartupError::InvalidInput(format!("no tenant `{slug}`")))?;
    match csv_import::run_import(
        store.as_ref(),
        tenant.id,
        import.kind,
        bytes.into(),
        &csv_import::FreshRows,
        Arc::new(Stderr),
    )
    .await
    {
        Ok(report) => {
            println!(
                "imported {} {} rows into `{slug}`: {} created, {} updated",
                report.rows, report.kind, report.created, report.updated
            );
            Ok(report)
        }
        Err(ImportError::Invalid(errors)) => {
            for e in &errors {
                let column = if e.column.is_empty() { "-" } else { &e.column };
                eprintln!("row {}, column {column}: {}", e.row, e.message);
            }
            Err(StartupError::InvalidInput(format!(
                "{} error(s) in {}; nothing was imported",
                errors.len(),
                import.file.display()
            )))
        }
        Err(ImportError::Store(e)) => Err(e.into()),
        Err(ImportError::Api(e)) => Err(StartupError::InvalidInput(e.to_string())),
    }
}
