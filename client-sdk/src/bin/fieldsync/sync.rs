//! Exchanging changes with the server, and what is still waiting to be exchanged.

use fieldsync_client::Device;
use serde_json::json;

use crate::error::CliResult;
use crate::output::Out;

/// Pushes local changes, pulls the server's, uploads photos and refreshes master data.
pub fn sync(device: &Device, out: &Out) -> CliResult<()> {
    let report = device.sync()?;
    out.value(&report, || {
        let mut s = format!(
            "synced in {} round(s): pushed {} change(s) of {} document(s), received {} document(s), uploaded {} photo(s){}",
            report.rounds,
            report.changes_pushed,
            report.docs_pushed,
            report.docs_received,
            report.photos_uploaded,
            if report.reset { "; the server did not know this device's position, everything was re-sent" } else { "" }
        );
        for r in &report.refused {
            s.push_str(&format!("\nrefused {} ({}): {} (kept on this device)", r.doc_id, r.reason, r.message));
        }
        for w in &report.warnings {
            s.push_str(&format!("\nwarning: {w}"));
        }
        s
    });
    Ok(())
}

/// The session and the pending work of this device.
pub fn status(device: &Device, out: &Out) -> CliResult<()> {
    let pending = device.pending()?;
    let profile = device.profile()?;
    let logged_in = device.is_logged_in()?;
    let server = device.server_url()?;
    let value = json!({
        "device_id": device.device_id(),
        "data_dir": device.data_dir(),
        "server": server,
        "logged_in": logged_in,
        "user": profile,
        "pending": pending,
    });
    out.value(&value, || {
        let who = match &profile {
            Some(p) if logged_in => format!("{} ({})", p.username, p.code),
            Some(p) => format!("{} ({}), logged out", p.username, p.code),
            None => "nobody".into(),
        };
        format!(
            "device {}\nserver {}\nuser   {}\npending: {} document(s) with {} change(s), {} photo(s){}",
            device.device_id(),
            server.as_deref().unwrap_or("-"),
            who,
            pending.documents,
            pending.changes,
            pending.photos,
            if pending.photos_failed > 0 {
                format!("; {} photo(s) failed (corrupt or refused, not retried)", pending.photos_failed)
            } else if pending.is_empty() {
                " (everything synced)".to_string()
            } else {
                String::new()
            }
        )
    });
    Ok(())
}
