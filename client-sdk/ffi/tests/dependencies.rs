//! The library apps ship must not link the server's stack (or the command-line tools): checked on the
//! resolved dependency graph of the default build (`cargo tree -e normal`), so a dependency
//! added to client-sdk or shared that pulls in tokio, axum, sqlx, S3... fails here.

use std::process::Command;

/// Crate names (or name prefixes ending in `-`/`_`) that belong to the server or to bindgen.
const SERVER_ONLY: &[&str] = &[
    "fieldsync-server",
    "axum",
    "axum-core",
    "tokio",
    "tokio-",
    "hyper",
    "hyper-",
    "tower",
    "tower-",
    "sqlx",
    "sqlx-",
    "aws-",
    "argon2",
    "jsonwebtoken",
    "prometheus-client",
    "tracing-subscriber",
    "utoipa",
    // (`image` is allowed: shared renders photo thumbnails on the device, thumbnails first)
    "csv",
    // the device CLI (fieldsync-client's `cli` feature)
    "clap",
    "clap_",
    // the bindgen CLI (its own crate, client-sdk/ffi/bindgen)
    "uniffi_bindgen",
    "askama",
    "goblin",
    "cargo_metadata",
];

fn forbidden(name: &str) -> bool {
    SERVER_ONLY.iter().any(|f| {
        if f.ends_with('-') || f.ends_with('_') {
            name.starts_with(f)
        } else {
            name == *f
        }
    })
}

#[test]
fn device_library_does_not_link_the_server_stack() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "tree",
            "-p",
            "fieldsync-ffi",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .output()
        .expect("run cargo tree");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "cargo tree failed:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut crates: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    crates.sort_unstable();
    crates.dedup();
    // The graph is the real one: the device stack is there.
    for expected in [
        "fieldsync-client",
        "fieldsync-shared",
        "rusqlite",
        "ureq",
        "uniffi",
    ] {
        assert!(
            crates.contains(&expected),
            "{expected} missing from the dependency graph: {crates:?}"
        );
    }
    let bad: Vec<&str> = crates.iter().copied().filter(|c| forbidden(c)).collect();
    assert!(
        bad.is_empty(),
        "the device library depends on server-only or bindgen crates: {bad:?}\n\
         (see `cargo tree -p fieldsync-ffi -e normal -i <crate>` for the path)"
    );
}

#[test]
fn the_forbidden_list_matches_what_it_should() {
    assert!(forbidden("tokio"));
    assert!(forbidden("tokio-rustls"));
    assert!(forbidden("aws-sdk-s3"));
    assert!(forbidden("sqlx-core"));
    assert!(!forbidden("tokio_like_but_not"));
    assert!(!forbidden("imagequant"));
    assert!(!forbidden("rusqlite"));
}
