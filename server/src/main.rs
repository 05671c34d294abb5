//! `fieldsync-server`: parse the configuration, start logging, run the subcommand.

use std::io::BufRead;
use std::process::ExitCode;

use clap::Parser;
use fieldsync_server::cli::{Cli, Command, UserCommand};
use fieldsync_server::{commands, startup, telemetry};

fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.config.log_format, &cli.config.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.subcommand() {
            Command::Serve => startup::serve(cli.config).await.map_err(|e| e.to_string()),
            Command::SeedDemo => commands::seed_demo(&cli.config)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Command::Keygen(args) => commands::keygen(&args).map_err(|e| e.to_string()),
            Command::Import(args) => commands::import_file(&cli.config, &args)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Command::User(UserCommand::Add(add)) => {
                let mut line = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .map_err(|e| e.to_string())?;
                commands::add_user(&cli.config, &add, line.trim_end_matches(['\r', '\n']))
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "fieldsync-server failed");
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
