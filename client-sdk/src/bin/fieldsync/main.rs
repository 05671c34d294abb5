//! `fieldsync`: a device on the command line. Thin over `fieldsync_client::Device`: every
//! command opens the device in `--data-dir`, does one thing and prints the result (as JSON
//! with `--json`). Exit codes: 0 ok, 1 local failure, 2 bad input / not found, 3 refused by a
//! business rule, 4 offline, 5 not logged in / session rejected, 6 wrong state or refused by a
//! write policy (not this user's to change, or not in this status), 7 server error.
//!
//! This file holds the command-line grammar and sends each command to the module of its
//! group; the modules share `output` for printing and `ids` for reading document ids.

mod catalog;
mod error;
mod ids;
mod order;
mod output;
mod review;
mod session;
mod sync;
mod visit;
mod watch;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use fieldsync_client::Device;

use crate::error::{exit_code, report_error, CliResult};
use crate::order::OrderCommand;
use crate::output::Out;
use crate::review::ReviewCommand;
use crate::visit::VisitCommand;

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
    /// Sync in the background with live push and print each change as it arrives (a
    /// supervisor's approval, a colleague's edit), until interrupted.
    Watch {
        /// Stop after this many changed documents were printed.
        #[arg(long)]
        count: Option<u64>,
    },
    /// Supervisors and managers: review visits and decide orders of their team or region.
    #[command(subcommand)]
    Review(ReviewCommand),
}

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

fn run(cli: Cli) -> CliResult<()> {
    let device = Device::open(&cli.data_dir)?;
    let out = Out { json: cli.json };
    match cli.command {
        Command::Login {
            server,
            tenant,
            username,
            password,
        } => session::login(&device, &out, &server, &tenant, &username, password),
        Command::Logout => session::logout(&device, &out),
        Command::Stores => catalog::stores(&device, &out),
        Command::Products => catalog::products(&device, &out),
        Command::Visit(cmd) => visit::run(&device, &out, cmd),
        Command::Visits => visit::list(&device, &out),
        Command::Order(cmd) => order::run(&device, &out, cmd),
        Command::Orders => order::list(&device, &out),
        Command::Sync => sync::sync(&device, &out),
        Command::Status => sync::status(&device, &out),
        Command::Watch { count } => watch::watch(device, &out, count),
        Command::Review(cmd) => review::run(&device, &out, cmd),
    }
}
