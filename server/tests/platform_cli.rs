//! The command line, configuration and startup: `--help`, subcommands, the database URL check,
//! and the JWT secret kept in the data directory.

use std::io::Write;
use std::process::{Command, Stdio};

use clap::CommandFactory;
use fieldsync_server::cli::Cli;
use fieldsync_server::config::{Config, Secret};
use fieldsync_server::startup::{self, Application, StartupError};

const ENV_VARS: &[&str] = &[
    "FIELDSYNC_DATA_DIR",
    "FIELDSYNC_LISTEN",
    "FIELDSYNC_OPS_LISTEN",
    "DATABASE_URL",
    "FIELDSYNC_JWT_SECRET",
    "FIELDSYNC_TOKEN_TTL_SECS",
    "FIELDSYNC_LOG_FORMAT",
    "FIELDSYNC_LOG",
    "FIELDSYNC_DEMO",
    "FIELDSYNC_MAX_PHOTO_BYTES",
    "FIELDSYNC_MAX_SYNC_BODY_BYTES",
];

#[test]
fn long_help_mentions_every_environment_variable() {
    let help = Cli::command().render_long_help().to_string();
    for var in ENV_VARS {
        assert!(help.contains(var), "{var} missing from --help:\n{help}");
    }
    for sub in ["serve", "seed-demo", "user"] {
        assert!(help.contains(sub), "{sub} missing from --help");
    }
}

#[test]
fn the_binary_prints_help_and_runs_user_add_and_seed_demo() {
    let bin = env!("CARGO_BIN_EXE_fieldsync-server");
    let out = Command::new(bin).arg("--help").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("FIELDSYNC_DATA_DIR"));

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let run_seed = || {
        let out = Command::new(bin)
            .args(["seed-demo", "--data-dir", data, "--log", "warn"])
            .env_remove("DATABASE_URL")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    assert!(run_seed().contains("created"));
    assert!(run_seed().contains("already present"));

    let mut child = Command::new(bin)
        .args([
            "user",
            "add",
            "--tenant",
            "acme",
            "--username",
            "Li",
            "--role",
            "rep",
        ])
        .args([
            "--code",
            "R009",
            "--name",
            "Li Wei",
            "--data-dir",
            data,
            "--log",
            "warn",
        ])
        .env_remove("DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"s3cret-pass\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The new user (stored lower-case) can sign in through the library.
    let config = Config::for_tests(dir.path());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = startup::open_store(&config).await.unwrap();
        let tenant = store
            .find_tenant_by_slug("acme")
            .await
            .unwrap()
            .expect("tenant created");
        let user = store
            .find_user_by_username(tenant.id, "li")
            .await
            .unwrap()
            .expect("user created");
        assert_eq!(user.profile.display_name, "Li Wei");
        assert!(fieldsync_server::auth::verify_password(
            "s3cret-pass".into(),
            Some(user.password_hash)
        )
        .await
        .unwrap());
    });
}

#[tokio::test]
async fn unsupported_database_urls_are_refused_and_sqlite_urls_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_tests(dir.path());
    config.database_url = Some(Secret::new("mysql://user:pw@localhost/fieldsync"));
    match Application::build(config).await {
        Err(e @ StartupError::UnsupportedDatabase(_)) => {
            let msg = e.to_string();
            assert!(
                msg.contains("postgres://"),
                "the message names what works: {msg}"
            );
            assert!(!msg.contains("pw"), "the password leaked: {msg}");
        }
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("a mysql URL must not start"),
    }

    let mut config = Config::for_tests(dir.path());
    config.database_url = Some(Secret::new(format!(
        "sqlite://{}/other.db",
        dir.path().display()
    )));
    let app = Application::build(config)
        .await
        .expect("a sqlite URL starts");
    assert!(app.port() != 0 && app.ops_port() != 0 && app.port() != app.ops_port());
    assert!(dir.path().join("other.db").exists());
}

#[tokio::test]
async fn the_generated_jwt_secret_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_tests(dir.path());
    config.demo = true;
    let first = Application::build(config.clone()).await.unwrap();
    let profile = first
        .state()
        .store
        .find_user(
            fieldsync_server::demo::demo_tenant_id(),
            fieldsync_server::demo::demo_user_id("rep1"),
        )
        .await
        .unwrap()
        .unwrap();
    let token = first.state().tokens.issue(&profile).unwrap().token;
    drop(first);

    let secret_file = dir.path().join("jwt-secret");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&secret_file)
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
    }
    let second = Application::build(config).await.unwrap();
    let claims = second
        .state()
        .tokens
        .verify(&token)
        .expect("token from before the restart");
    assert_eq!(claims.sub, profile.id);

    // A fresh data directory means a new key: the old token is refused there.
    let other_dir = tempfile::tempdir().unwrap();
    let third = Application::build(Config::for_tests(other_dir.path()))
        .await
        .unwrap();
    assert!(third.state().tokens.verify(&token).is_err());
}
