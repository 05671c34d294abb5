//! `fieldsync`: a device on the command line. Thin over `fieldsync_client::Device`: every
//! command opens the device in `--data-dir`, does one thing and prints the result (as JSON
//! with `--json`). Exit codes: 0 ok, 1 local failure, 2 bad input / not found, 3 refused by a
//! business rule, 4 offline, 5 not logged in / session rejected, 6 wrong state or refused by a
//! write policy (not this user's to change, or not in this status), 7 server error.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use fieldsync_client::{
    AuditInput, Date, Device, DeviceError, DocId, DocKind, GeoFix, Money, Order, PaymentMethod,
    StoreId, Timestamp, Verdict, Visit, VisitStep,
};
use serde::Serialize;
use serde_json::json;

#[derive(Parser)]
#[command(
    name = "fieldsync",
    version,
    about = "A Fieldsync device on the command line: record visits and orders offline, sync when online."
)]
struct Cli {
    /// Directory holding this device's database and photos.
    #[arg(
        long,
        global = true,
        env = "FIELDSYNC_DEVICE_DIR",
        default_value = "./fieldsync-device"
    )]
    data_dir: PathBuf,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Sign in to a server (stores the session on this device) and download what the user works
    /// with offline: stores, products, credit data, their documents.
    Login {
        /// Server base URL, e.g. http://127.0.0.1:8080
        #[arg(long)]
        server: String,
        /// Tenant (company) slug, e.g. demo
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        username: String,
        /// Password; else $FIELDSYNC_PASSWORD; else read from standard input.
        #[arg(long, env = "FIELDSYNC_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Forget the session token (unsynced work is kept).
    Logout,
    /// List the stores known offline.
    Stores,
    /// List the products known offline.
    Products,
    /// Work on visits.
    #[command(subcommand)]
    Visit(VisitCommand),
    /// List the visits on this device.
    Visits,
    /// Work on orders.
    #[command(subcommand)]
    Order(OrderCommand),
    /// List the orders on this device.
    Orders,
    /// Exchange changes with the server, upload photos, refresh master data.
    Sync,
    /// Show the session and what is waiting to be synced.
    Status,
    /// Supervisors and managers: review visits and decide orders of their team or region.
    #[command(subcommand)]
    Review(ReviewCommand),
}

#[derive(Subcommand)]
enum ReviewCommand {
    /// Submitted visits of your team and orders waiting for your approval.
    List,
    /// Approve a submitted visit or an order waiting for approval.
    Approve {
        /// Visit or order id (or a unique prefix of it).
        id: String,
        /// A word for the author (visits only).
        #[arg(long)]
        comment: Option<String>,
    },
    /// Send a submitted visit back for rework, or reject an order waiting for approval.
    Reject {
        /// Visit or order id (or a unique prefix of it).
        id: String,
        /// What to rework (required for visits); for orders it is added to the order's notes.
        #[arg(long)]
        comment: Option<String>,
    },
    /// Managers: reopen an approved visit (it goes back to its author as rejected).
    Reopen {
        /// Visit id (or a unique prefix of it).
        id: String,
        /// Why it is reopened (required).
        #[arg(long)]
        comment: Option<String>,
    },
}

#[derive(Args)]
struct Fix {
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
enum VisitCommand {
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

#[derive(Subcommand)]
enum OrderCommand {
    /// Create a draft order; prints its id and number.
    Create {
        /// Store code, e.g. NKA-001
        #[arg(long)]
        store: String,
        /// Requested delivery date (YYYY-MM-DD).
        #[arg(long)]
        delivery: String,
        /// cash, credit or bank_transfer
        #[arg(long, default_value = "cash")]
        payment: String,
        /// The visit during which the order is taken (id or unique prefix).
        #[arg(long)]
        visit: Option<String>,
    },
    /// Set a line of a draft order (price defaults to the list price).
    Line {
        /// Order id (or a unique prefix of it).
        id: String,
        #[arg(long)]
        sku: String,
        #[arg(long)]
        qty: u32,
        /// Net unit price, e.g. 3.50
        #[arg(long)]
        price: Option<String>,
    },
    /// Remove a line of a draft order.
    RemoveLine {
        /// Order id (or a unique prefix of it).
        id: String,
        #[arg(long)]
        sku: String,
    },
    /// Submit a draft order (credit and pricing rules decide: submitted, pending approval, or refused).
    Submit {
        /// Order id (or a unique prefix of it).
        id: String,
    },
    /// Show an order.
    Show {
        /// Order id (or a unique prefix of it).
        id: String,
    },
}

/// A failure of the CLI itself (bad id prefix, unreadable password) or of the library.
enum CliError {
    Device(DeviceError),
    Usage(String),
}

impl From<DeviceError> for CliError {
    fn from(e: DeviceError) -> Self {
        CliError::Device(e)
    }
}

type CliResult<T> = Result<T, CliError>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            report_error(&e, json);
            ExitCode::from(exit_code(&e))
        }
    }
}

fn exit_code(e: &CliError) -> u8 {
    match e {
        CliError::Usage(_) => 2,
        CliError::Device(d) => match d {
            DeviceError::Invalid { .. } => 3,
            DeviceError::Offline(_) => 4,
            DeviceError::Unauthorized | DeviceError::NotLoggedIn => 5,
            DeviceError::InvalidInput(_) | DeviceError::NotFound { .. } => 2,
            DeviceError::WrongState { .. } | DeviceError::Forbidden { .. } => 6,
            DeviceError::Server { .. } => 7,
            DeviceError::Storage(_) | DeviceError::Document(_) => 1,
        },
    }
}

fn report_error(e: &CliError, json: bool) {
    let (reason, message, findings) = match e {
        CliError::Usage(m) => ("usage".to_string(), m.clone(), Vec::new()),
        CliError::Device(d) => {
            let findings = match d {
                DeviceError::Invalid { findings } => findings.clone(),
                _ => Vec::new(),
            };
            (d.reason().to_string(), d.to_string(), findings)
        }
    };
    if json {
        let mut error = json!({ "reason": reason, "message": message, "findings": findings });
        if let CliError::Device(DeviceError::Forbidden { field, code, .. }) = e {
            error["field"] = json!(field);
            error["code"] = json!(code);
        }
        say(&json!({ "error": error }).to_string());
        return;
    }
    match e {
        CliError::Device(DeviceError::Invalid { findings }) => {
            eprintln!("refused ({reason}):");
            for f in findings {
                let field = f
                    .field
                    .as_deref()
                    .map(|x| format!(" [{x}]"))
                    .unwrap_or_default();
                eprintln!("  {}/{}{}: {}", f.rule.as_str(), f.code, field, f.message);
            }
        }
        CliError::Device(DeviceError::Forbidden {
            field,
            code,
            message,
        }) => eprintln!("not allowed ({code}) [{field}]: {message}"),
        _ => eprintln!("error ({reason}): {message}"),
    }
}

fn run(cli: Cli) -> CliResult<()> {
    let device = Device::open(&cli.data_dir)?;
    let out = Out { json: cli.json };
    match cli.command {
        Command::Login {
            server,
            tenant,
            username,
            password,
        } => {
            let password = match password {
                Some(p) => p,
                None => read_password()?,
            };
            let profile = device.login(&server, &tenant, &username, &password)?;
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
        }
        Command::Logout => {
            device.logout()?;
            out.value(&json!({"logged_out": true}), || {
                "logged out (unsynced work is kept on this device)".into()
            });
        }
        Command::Stores => {
            let stores = device.stores()?;
            out.value(&stores, || {
                if stores.is_empty() {
                    return "no stores on this device yet: log in and sync".into();
                }
                stores
                    .iter()
                    .map(|s| {
                        format!(
                            "{:<12} {}/{:?}  {}  ({:.5}, {:.5}, r={} m, lead {} d)",
                            s.code.as_str(),
                            format!("{:?}", s.channel).to_lowercase(),
                            s.grade,
                            s.name,
                            s.location.lat(),
                            s.location.lon(),
                            s.geofence_radius_m,
                            s.delivery_lead_days
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        Command::Products => {
            let products = device.products()?;
            out.value(&products, || {
                if products.is_empty() {
                    return "no products on this device yet: log in and sync".into();
                }
                products
                    .iter()
                    .map(|p| {
                        format!(
                            "{:<16} {}  list {} floor {}  case {}{}  shelf life {} d",
                            p.sku.as_str(),
                            p.name,
                            p.list_price,
                            p.floor_price,
                            p.case_pack,
                            if p.sold_by_case { " (by case)" } else { "" },
                            p.shelf_life_days
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        Command::Visit(cmd) => visit_command(&device, &out, cmd)?,
        Command::Review(cmd) => review_command(&device, &out, cmd)?,
        Command::Visits => {
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
        }
        Command::Order(cmd) => order_command(&device, &out, cmd)?,
        Command::Orders => {
            let orders = device.orders()?;
            out.value(&orders, || {
                if orders.is_empty() {
                    return "no orders".into();
                }
                orders
                    .iter()
                    .map(|o| {
                        format!(
                            "{}  {}  {}  {} lines  total {}",
                            o.id,
                            o.number,
                            o.status,
                            o.lines.len(),
                            o.total()
                                .map(|t| t.to_string())
                                .unwrap_or_else(|| "?".into())
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        Command::Sync => {
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
        }
        Command::Status => {
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
        }
    }
    Ok(())
}

fn visit_command(device: &Device, out: &Out, cmd: VisitCommand) -> CliResult<()> {
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

fn review_command(device: &Device, out: &Out, cmd: ReviewCommand) -> CliResult<()> {
    match cmd {
        ReviewCommand::List => {
            let visits = device.visits_awaiting_review()?;
            let orders = device.orders_awaiting_approval()?;
            out.value(&json!({"visits": visits, "orders": orders}), || {
                let mut lines: Vec<String> = visits
                    .iter()
                    .map(|v| {
                        format!(
                            "visit  {}  {}  {}",
                            v.id,
                            v.planned_date,
                            describe_store(device, v.store_id)
                        )
                    })
                    .collect();
                lines.extend(orders.iter().map(|o| {
                    format!(
                        "order  {}  {}  total {}",
                        o.id,
                        o.number,
                        o.total()
                            .map(|t| t.to_string())
                            .unwrap_or_else(|| "?".into())
                    )
                }));
                if lines.is_empty() {
                    "nothing waiting for you".into()
                } else {
                    lines.join("\n")
                }
            });
        }
        ReviewCommand::Approve { id, comment } => {
            let (kind, id) = resolve_any(device, &id)?;
            match kind {
                DocKind::Visit => device.approve_visit(id, comment.as_deref())?,
                DocKind::Order => device.approve_order(id)?,
            }
            out.value(&json!({"ok": true, "status": "approved"}), || {
                format!("{} approved", kind.as_str())
            });
        }
        ReviewCommand::Reject { id, comment } => {
            let (kind, id) = resolve_any(device, &id)?;
            let comment = comment.unwrap_or_default();
            match kind {
                DocKind::Visit => device.reject_visit(id, &comment)?,
                DocKind::Order => device.reject_order(id, &comment)?,
            }
            out.value(&json!({"ok": true, "status": "rejected"}), || {
                format!("{} rejected", kind.as_str())
            });
        }
        ReviewCommand::Reopen { id, comment } => {
            let id = resolve(device, DocKind::Visit, &id)?;
            device.reopen_visit(id, comment.as_deref().unwrap_or_default())?;
            out.value(&json!({"ok": true, "status": "rejected"}), || {
                "visit reopened: back to its author for rework".into()
            });
        }
    }
    Ok(())
}

/// A store's code, or its id when it is not in the local master data.
fn describe_store(device: &Device, store: StoreId) -> String {
    device
        .store(store)
        .map(|s| format!("{} {}", s.code, s.name))
        .unwrap_or_else(|_| store.to_string())
}

/// A visit or an order: a full UUID, or a unique prefix of a local document's id.
fn resolve_any(device: &Device, input: &str) -> CliResult<(DocKind, DocId)> {
    if let Ok(id) = DocId::parse(input.trim()) {
        return Ok((device.document_kind(id)?, id));
    }
    let mut found = Vec::new();
    for kind in DocKind::ALL {
        match resolve(device, *kind, input) {
            Ok(id) => found.push((*kind, id)),
            Err(CliError::Device(DeviceError::NotFound { .. })) => {}
            Err(e) => return Err(e),
        }
    }
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(DeviceError::NotFound {
            what: "visit or order",
            id: input.trim().to_string(),
        }
        .into()),
        _ => Err(CliError::Usage(format!(
            "{input:?} matches a visit and an order; type more of the id"
        ))),
    }
}

fn order_command(device: &Device, out: &Out, cmd: OrderCommand) -> CliResult<()> {
    match cmd {
        OrderCommand::Create {
            store,
            delivery,
            payment,
            visit,
        } => {
            let store = device.store_by_code(&store)?;
            let delivery = Date::parse(&delivery).map_err(DeviceError::from)?;
            let payment =
                PaymentMethod::parse(&payment.replace('-', "_")).map_err(DeviceError::from)?;
            let visit = visit
                .map(|v| resolve(device, DocKind::Visit, &v))
                .transpose()?;
            let (id, number) = device.create_order(store.id, delivery, payment, visit)?;
            // Only the id goes to stdout, so `ORDER=$(fieldsync order create ...)` works.
            eprintln!("order number {number}");
            out.value(&json!({"id": id, "number": number}), || id.to_string());
        }
        OrderCommand::Line {
            id,
            sku,
            qty,
            price,
        } => {
            let id = resolve(device, DocKind::Order, &id)?;
            let price = price
                .as_deref()
                .map(Money::parse)
                .transpose()
                .map_err(DeviceError::from)?;
            let verdict = device.set_order_line(id, &sku, qty, price)?;
            out.verdict(&verdict, "line set");
        }
        OrderCommand::RemoveLine { id, sku } => {
            let id = resolve(device, DocKind::Order, &id)?;
            device.remove_order_line(id, &sku)?;
            out.value(&json!({"ok": true}), || "line removed".into());
        }
        OrderCommand::Submit { id } => {
            let id = resolve(device, DocKind::Order, &id)?;
            let verdict = device.submit_order(id)?;
            let order = device.order(id)?;
            if out.json {
                out.print_json(&json!({"status": order.status, "findings": verdict.findings}));
            } else {
                out.verdict(
                    &verdict,
                    &format!("order {} {}", order.number, order.status),
                );
            }
        }
        OrderCommand::Show { id } => {
            let id = resolve(device, DocKind::Order, &id)?;
            let order = device.order(id)?;
            out.value(&order, || describe_order(device, &order));
        }
    }
    Ok(())
}

/// Output in the chosen format.
struct Out {
    json: bool,
}

impl Out {
    fn value<T: Serialize>(&self, value: &T, text: impl FnOnce() -> String) {
        if self.json {
            self.print_json(value);
        } else {
            say(&text());
        }
    }

    fn print_json<T: Serialize>(&self, value: &T) {
        match serde_json::to_string_pretty(value) {
            Ok(s) => say(&s),
            Err(e) => eprintln!("could not render JSON: {e}"),
        }
    }

    /// A successful edit with its (non-blocking) findings.
    fn verdict(&self, verdict: &Verdict, done: &str) {
        if self.json {
            self.print_json(&json!({"ok": true, "findings": verdict.findings}));
            return;
        }
        let mut text = done.to_string();
        for f in &verdict.findings {
            text.push_str(&format!(
                "\n  {:?} {}/{}: {}",
                f.severity,
                f.rule.as_str(),
                f.code,
                f.message
            ));
        }
        say(&text);
    }
}

/// Prints a line to stdout; a closed pipe (`fieldsync visits | head`) is not an error.
fn say(text: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{text}");
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

/// A full UUID, or a unique prefix of the id of a local document of `kind`.
fn resolve(device: &Device, kind: DocKind, input: &str) -> CliResult<DocId> {
    let input = input.trim().to_ascii_lowercase();
    if let Ok(id) = DocId::parse(&input) {
        return Ok(id);
    }
    if input.is_empty() {
        return Err(CliError::Usage(format!("empty {} id", kind.as_str())));
    }
    let matches: Vec<DocId> = device
        .document_ids(Some(kind))?
        .into_iter()
        .filter(|id| id.to_string().starts_with(&input))
        .collect();
    match matches.as_slice() {
        [one] => Ok(*one),
        [] => Err(DeviceError::NotFound {
            what: kind.as_str(),
            id: input,
        }
        .into()),
        many => Err(CliError::Usage(format!(
            "{input:?} matches {} {}s; type more of the id",
            many.len(),
            kind.as_str()
        ))),
    }
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

fn describe_visit(device: &Device, v: &Visit) -> String {
    let store = device
        .store(v.store_id)
        .map(|s| format!("{} {}", s.code, s.name))
        .unwrap_or_else(|_| v.store_id.to_string());
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
    if !v.notes.as_str().is_empty() {
        s.push_str("notes:\n");
        for line in v.notes.as_str().lines() {
            s.push_str(&format!("  {line}\n"));
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

fn describe_order(device: &Device, o: &Order) -> String {
    let store = device
        .store(o.store_id)
        .map(|s| format!("{} {}", s.code, s.name))
        .unwrap_or_else(|_| o.store_id.to_string());
    let mut s = format!(
        "order {} ({})\nstatus    {}\nstore     {}\ndate      {}\ndelivery  {}\npayment   {}\n",
        o.number, o.id, o.status, store, o.order_date, o.requested_delivery, o.payment
    );
    if let Some(v) = o.visit_id {
        s.push_str(&format!("visit     {v}\n"));
    }
    s.push_str("lines:\n");
    for l in o.lines.values() {
        s.push_str(&format!(
            "  {:<14} x{:<5} @ {:>8} = {}\n",
            l.sku.as_str(),
            l.quantity,
            l.unit_price,
            l.total()
                .map(|t| t.to_string())
                .unwrap_or_else(|| "?".into())
        ));
    }
    s.push_str(&format!(
        "total     {}",
        o.total()
            .map(|t| t.to_string())
            .unwrap_or_else(|| "?".into())
    ));
    s
}
