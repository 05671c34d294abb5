//! Signing in and out: the session stored on this device.

use std::io::{BufRead, IsTerminal, Write};

use fieldsync_client::Device;
use serde_json::json;

use crate::error::{CliError, CliResult};
use crate::output::Out;

/// Signs in, then syncs so the device is ready to work offline.
pub fn login(
    device: &Device,
    out: &Out,
    server: &str,
    tenant: &str,
    username: &str,
    password: Option<String>,
) -> CliResult<()> {
    let password = match password {
        Some(p) => p,
        None => read_password()?,
    };
    let profile = device.login(server, tenant, username, &password)?;
    // A phone that just signed in should be ready to work offline: fetch master data
    // (stores, products, credit) and the user's documents right away.
    let report = device.sync()?;
    let stores = device.stores()?.len();
    let products = device.products()?.len();
    out.value(
        &json!({"user": profile, "sync": report, "stores": stores, "products": products}),
        || {
            format!(
                "logged in as {} ({}, {}, code {}); offline now: {stores} store(s), {products} product(s), {} document(s) received",
                profile.display_name,
                profile.username,
                profile.role.as_str(),
                profile.code,
                report.docs_received,
            )
        },
    );
    Ok(())
}

pub fn logout(device: &Device, out: &Out) -> CliResult<()> {
    device.logout()?;
    out.value(&json!({"logged_out": true}), || {
        "logged out (unsynced work is kept on this device)".into()
    });
    Ok(())
}

fn read_password() -> CliResult<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("password: ");
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError::Usage(format!("could not read the password: {e}")))?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    if password.is_empty() {
        return Err(CliError::Usage(
            "no password: pass --password, set FIELDSYNC_PASSWORD or type it on standard input"
                .into(),
        ));
    }
    Ok(password)
}
