//! Visits: the `visit` commands that record one, the `visits` listing and the text of a
//! visit.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use fieldsync_client::{
    AuditInput, Date, Device, DeviceError, DocKind, GeoFix, Money, Timestamp, Visit, VisitStep,
};
use fieldsync_shared::visit::EARLIER_NOTES_AUTHOR;
use serde_json::json;

use crate::error::{CliError, CliResult};
use crate::ids::resolve;
use crate::output::{describe_store, Out};

#[derive(Args)]
pub struct Fix {
    /// Latitude, degrees.
    #[arg(long, allow_negative_numbers = true)]
    lat: f64,
    /// Longitude, degrees.
    #[arg(long, allow_negative_numbers = true)]
    lon: f64,
    /// Reported accuracy of the fix, metres.
    #[arg(long, default_value_t = 10.0)]
    accuracy: f64,
    /// The fix came from a mock location provider.
    #[arg(long)]
    mock: bool,
    /// When (RFC 3339, e.g. 2026-11-22T09:30:00+08:00); default now.
    #[arg(long)]
    at: Option<String>,
}

#[derive(Subcommand)]
pub enum VisitCommand {
    /// Plan a visit of a store for the signed-in user; prints the visit id.
    Start {
        /// Store code, e.g. NKA-001
        #[arg(long)]
        store: String,
        /// Planned date (YYYY-MM-DD); default today.
        #[arg(long)]
        date: Option<String>,
    },
    /// Check in at the store (outside the geofence or mocked: recorded and flagged).
    CheckIn {
        /// Visit id (or a unique prefix of it).
        id: String,
        #[command(flatten)]
        fix: Fix,
    },
    /// Record steps of the routine as done, or skipped with --skip.
    Step {
        /// Visit id (or a unique prefix of it).
        id: String,
        /// Steps: prepare greet store_check merchandise suggested_order present_order debrief admin
        steps: Vec<String>,
        /// Record all eight steps.
        #[arg(long)]
        all: bool,
        /// Mark the steps skipped, with this reason.
        #[arg(long)]
        skip: Option<String>,
    },
    /// Record a shelf audit line.
    Audit {
        /// Visit id (or a unique prefix of it).
        id: String,
        #[arg(long)]
        sku: String,
        /// Where in the store, e.g. MAIN-SHELF, ENDCAP-1, BACKROOM
        #[arg(long)]
        location: String,
        /// Number of facings.
        #[arg(long)]
        facings: u32,
        /// Out of stock on the shelf.
        #[arg(long)]
        oos: bool,
        /// Shelf price, e.g. 3.50
        #[arg(long)]
        price: Option<String>,
        /// Oldest production date seen (YYYY-MM-DD).
        #[arg(long)]
        oldest: Option<String>,
    },
    /// Attach a shelf photo (JPEG, PNG, WebP, HEIC).
    Photo {
        /// Visit id (or a unique prefix of it).
        id: String,
        file: PathBuf,
        /// The step the photo belongs to.
        #[arg(long)]
        step: Option<String>,
    },
    /// Append a line to the visit notes.
    Note {
        /// Visit id (or a unique prefix of it).
        id: String,
        text: String,
    },
    /// Check out (refused while steps or photos are missing).
    CheckOut {
        /// Visit id (or a unique prefix of it).
        id: String,
        #[command(flatten)]
        fix: Fix,
    },
    /// Submit a checked-out visit for review.
    Submit {
        /// Visit id (or a unique prefix of it).
        id: String,
    },
    /// Show a visit.
    Show {
        /// Visit id (or a unique prefix of it).
        id: String,
    },
}

pub fn run(device: &Device, out: &Out, cmd: VisitCommand) -> CliResult<()> {
    match cmd {
        VisitCommand::Start { store, date } => {
            let store = device.store_by_code(&store)?;
            let date = match date {
                Some(d) => Date::parse(&d).map_err(DeviceError::from)?,
                None => Timestamp::now().utc_date(),
            };
            let id = device.start_visit(store.id, date)?;
            out.value(&json!({"id": id}), || id.to_string());
        }
        VisitCommand::CheckIn { id, fix } => {
            let id = resolve(device, DocKind::Visit, &id)?;
            let (fix, at) = parse_fix(&fix)?;
            let verdict = device.check_in(id, fix, at)?;
            out.verdict(&verdict, "checked in");
        }
        VisitCommand::Step {
            id,
            steps,
            all,
            skip,
        } => {
            let id = resolve(device, DocKind::Visit, &id)?;
            let steps: Vec<VisitStep> = if all {
                VisitStep::ALL.to_vec()
            } else {
                steps
                    .iter()
                    .map(|s| VisitStep::parse(&s.replace('-', "_")))
                    .collect::<Result<_, _>>()
                    .map_err(DeviceError::from)?
            };
            if steps.is_empty() {
                return Err(CliError::Usage(
                    "name at least one step, or use --all".into(),
                ));
            }
            for step in &steps {
                device.record_step(id, *step, skip.as_deref())?;
            }
            let names: Vec<&str> = steps.iter().map(|s| s.as_str()).collect();
            out.value(&json!({"recorded": names, "skipped": skip}), || {
                format!(
                    "{} {}",
                    if skip.is_some() { "skipped" } else { "done" },
                    names.join(", ")
                )
            });
        }
        VisitCommand::Audit {
            id,
            sku,
            location,
            facings,
            oos,
            price,
            oldest,
        } => {
            let id = resolve(device, DocKind::Visit, &id)?;
            let line = AuditInput {
                sku,
                location,
                facings,
                on_shelf: !oos,
                shelf_price: price
                    .as_deref()
                    .map(Money::parse)
                    .transpose()
                    .map_err(DeviceError::from)?,
                oldest_production_date: oldest
                    .as_deref()
                    .map(Date::parse)
                    .transpose()
                    .map_err(DeviceError::from)?,
            };
            let verdict = device.record_audit_line(id, line)?;
            out.verdict(&verdict, "audit line recorded");
        }
        VisitCommand::Photo { id, file, step } => {
            let id = resolve(device, DocKind::Visit, &id)?;
            let step = step
                .as_deref()
                .map(|s| VisitStep::parse(&s.replace('-', "_")))
                .transpose()
                .map_err(DeviceError::from)?;
            let (sha, verdict) = device.attach_photo_checked(id, &file, step)?;
            if out.json {
                out.print_json(&json!({"sha256": sha, "findings": verdict.findings}));
            } else {
                out.verdict(
                    &verdict,
                    &format!("photo {sha} attached (queued for upload)"),
                );
            }
        }
        VisitCommand::Note { id, text } => {
            let id = resolve(device, DocKind::Visit, &id)?;
            device.append_note(id, &text)?;
            out.value(&json!({"ok": true}), || "note added".into());
        }
        VisitCommand::CheckOut { id, fix } => {
            let id = resolve(device, DocKind::Visit, &id)?;
            let (fix, at) = parse_fix(&fix)?;
            let verdict = device.check_out(id, fix, at)?;
            out.verdict(&verdict, "checked out");
        }
        VisitCommand::Submit { id } => {
            let id = resolve(device, DocKind::Visit, &id)?;
            device.submit_visit(id)?;
            out.value(&json!({"ok": true, "status": "submitted"}), || {
                "visit submitted for review".into()
            });
        }
        VisitCommand::Show { id } => {
            let id = resolve(device, DocKind::Visit, &id)?;
            let visit = device.visit(id)?;
            out.value(&visit, || describe_visit(device, &visit));
        }
    }
    Ok(())
}

pub fn list(device: &Device, out: &Out) -> CliResult<()> {
    let visits = device.visits()?;
    let stores = device.stores()?;
    out.value(&visits, || {
        if visits.is_empty() {
            return "no visits".into();
        }
        visits
            .iter()
            .map(|v| {
                let code = stores
                    .iter()
                    .find(|s| s.id == v.store_id)
                    .map(|s| s.code.to_string())
                    .unwrap_or_else(|| v.store_id.to_string());
                format!("{}  {}  {:<10} {}", v.id, v.planned_date, code, v.status)
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}

fn parse_fix(fix: &Fix) -> CliResult<(GeoFix, Timestamp)> {
    let at = match &fix.at {
        Some(s) => Timestamp::parse(s).map_err(DeviceError::from)?,
        None => Timestamp::now(),
    };
    Ok((
        GeoFix {
            lat: fix.lat,
            lon: fix.lon,
            accuracy_m: fix.accuracy,
            mocked: fix.mock,
        },
        at,
    ))
}

fn describe_visit(device: &Device, v: &Visit) -> String {
    let store = describe_store(device, v.store_id);
    let mut s = format!(
        "visit {}\nstore    {}\nplanned  {}\nstatus   {}\n",
        v.id, store, v.planned_date, v.status
    );
    let stamp = |g: &Option<fieldsync_shared::visit::GeoStamp>| match g {
        Some(g) => format!(
            "{} at ({:.5}, {:.5}) ±{} m{}",
            g.at,
            g.position.lat(),
            g.position.lon(),
            g.accuracy_m,
            if g.mocked { " MOCKED" } else { "" }
        ),
        None => "-".into(),
    };
    s.push_str(&format!(
        "check-in  {}\ncheck-out {}\n",
        stamp(&v.check_in),
        stamp(&v.check_out)
    ));
    s.push_str("steps:\n");
    for step in VisitStep::ALL {
        let state = match v.steps.get(step.as_str()) {
            Some(r) => match &r.skipped_reason {
                Some(reason) => format!("skipped: {reason}"),
                None => format!("done {}", r.at),
            },
            None => "-".into(),
        };
        s.push_str(&format!("  {:<16} {}\n", step.as_str(), state));
    }
    if !v.audit.is_empty() {
        s.push_str("audit:\n");
        for (key, l) in &v.audit {
            s.push_str(&format!(
                "  {:<28} facings {:>3}  {}{}{}\n",
                key,
                l.facings,
                if l.on_shelf {
                    "on shelf"
                } else {
                    "OUT OF STOCK"
                },
                l.shelf_price
                    .map(|p| format!("  price {p}"))
                    .unwrap_or_default(),
                l.oldest_production_date
                    .map(|d| format!("  oldest {d}"))
                    .unwrap_or_default()
            ));
        }
    }
    if !v.photos.is_empty() {
        s.push_str("photos:\n");
        for p in v.photos.values() {
            s.push_str(&format!(
                "  {}  {} bytes  {}{}\n",
                p.sha256,
                p.size_bytes,
                p.content_type,
                p.step.map(|st| format!("  ({st})")).unwrap_or_default()
            ));
        }
    }
    let notes = v.notes_in_order();
    if !notes.is_empty() {
        s.push_str("notes:\n");
        for note in notes {
            // The earlier notes (one text, before notes were entries) have no time of their own.
            if note.by_name == EARLIER_NOTES_AUTHOR {
                s.push_str(&format!("  {}:\n", note.by_name));
            } else {
                s.push_str(&format!("  {} {}:\n", note.at, note.by_name));
            }
            for line in note.text.lines() {
                s.push_str(&format!("    {line}\n"));
            }
        }
    }
    if let Some(r) = &v.review {
        s.push_str(&format!(
            "review: {} by {} at {}{}\n",
            r.decision,
            r.by,
            r.at,
            r.comment
                .as_ref()
                .map(|c| format!(": {c}"))
                .unwrap_or_default()
        ));
    }
    s.trim_end().to_string()
}
