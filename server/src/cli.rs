//! The `fieldsync-server` command line: the configuration flags ([`Config`]) and the
//! subcommands with their arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use fieldsync_shared::master::Role;

use crate::admin::csv_import::ImportKind;
use crate::config::Config;

/// The `fieldsync-server` command line.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "fieldsync-server",
    version,
    about = "Fieldsync sync server: merges device CRDT documents, stores photos, serves queries.",
    long_about = "Fieldsync sync server: merges the visit and order documents field-sales phones \
                  record offline, stores their photos, delivers master data and answers queries.\n\n\
                  Every option can also be given as an environment variable (shown in brackets). \
                  Flags win over environment variables, which win over the defaults.\n\n\
                  Quick start: `fieldsync-server --demo` serves a demo tenant `demo` (users sup1, \
                  rep1, rep2, merch1, admin; password demo1234) on http://127.0.0.1:8080."
)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// The subcommand, `serve` when none was given.
    pub fn subcommand(&self) -> Command {
        self.command.clone().unwrap_or(Command::Serve)
    }
}

#[derive(Debug, Clone, PartialEq, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Create the demo tenant and its data if it does not exist yet, then exit.
    SeedDemo,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Write a new Ed25519 private key for EdDSA access tokens (PKCS#8 PEM, mode 0600) to
    /// PATH and print its public key and key id. Use it with `--jwt-ed25519-key-file`.
    Keygen(KeygenArgs),
    /// Import master data from a CSV file: users, stores, territories, products, credit
    /// snapshots, targets, the must-carry range, promotions, pictures of success
    /// (success-pictures) or annual agreements (header row required; columns in
    /// docs/http-api.md). All rows or none: any bad row is reported (row, column, message) and
    /// nothing is stored.
    Import(ImportArgs),
}

#[derive(Debug, Clone, PartialEq, Args)]
pub struct KeygenArgs {
    /// Where to write the private key; an existing file is never overwritten.
    pub path: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Args)]
pub struct ImportArgs {
    /// What the file holds.
    #[arg(value_enum)]
    pub kind: ImportKind,
    /// The CSV file (UTF-8).
    pub file: PathBuf,
    /// Tenant slug, e.g. `acme`.
    #[arg(long)]
    pub tenant: String,
}

#[derive(Debug, Clone, PartialEq, Subcommand)]
pub enum UserCommand {
    /// Add a user. The password is read from the first line of standard input.
    /// The tenant is created if it does not exist.
    Add(UserAdd),
}

#[derive(Debug, Clone, PartialEq, Args)]
pub struct UserAdd {
    /// Tenant slug, e.g. `acme`.
    #[arg(long)]
    pub tenant: String,
    /// Login name, unique in the tenant (stored lower-case).
    #[arg(long)]
    pub username: String,
    /// One of merchandiser, rep, supervisor, manager, admin.
    #[arg(long, value_parser = parse_role)]
    pub role: Role,
    /// Short person code used in order numbers, e.g. `R003`; unique in the tenant.
    #[arg(long)]
    pub code: String,
    /// Display name, e.g. "Li Wei".
    #[arg(long)]
    pub name: String,
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use fieldsync_shared::protocol::Limits;

    use super::*;

    #[test]
    fn no_subcommand_means_serve_with_defaults() {
        let cli = Cli::try_parse_from(["fieldsync-server"]).unwrap();
        assert_eq!(cli.subcommand(), Command::Serve);
        assert_eq!(cli.config.listen.port(), 8080);
        assert_eq!(cli.config.limits, Limits::default());
        assert!(!cli.config.demo);
    }

    #[test]
    fn flags_after_subcommands_and_user_add() {
        let cli = Cli::try_parse_from([
            "fieldsync-server",
            "user",
            "add",
            "--tenant",
            "acme",
            "--username",
            "li",
            "--role",
            "rep",
            "--code",
            "R009",
            "--name",
            "Li Wei",
            "--data-dir",
            "/tmp/x",
        ])
        .unwrap();
        assert_eq!(cli.config.data_dir, PathBuf::from("/tmp/x"));
        match cli.subcommand() {
            Command::User(UserCommand::Add(add)) => assert_eq!(add.role, Role::Rep),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn import_takes_a_kind_a_file_and_a_tenant() {
        let cli = Cli::try_parse_from([
            "fieldsync-server",
            "import",
            "stores",
            "stores.csv",
            "--tenant",
            "acme",
        ])
        .unwrap();
        match cli.subcommand() {
            Command::Import(args) => {
                assert_eq!(args.kind, crate::admin::csv_import::ImportKind::Stores);
                assert_eq!(args.file, PathBuf::from("stores.csv"));
                assert_eq!(args.tenant, "acme");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(Cli::try_parse_from([
            "fieldsync-server",
            "import",
            "orders",
            "x.csv",
            "--tenant",
            "a"
        ])
        .is_err());
        assert!(Cli::try_parse_from(["fieldsync-server", "import", "users", "x.csv"]).is_err());
    }

    #[test]
    fn keygen_takes_a_path() {
        let k = Cli::try_parse_from(["fieldsync-server", "keygen", "/k/new.pem"]).unwrap();
        assert_eq!(
            k.subcommand(),
            Command::Keygen(KeygenArgs {
                path: PathBuf::from("/k/new.pem")
            })
        );
    }
}
