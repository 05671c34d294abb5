//! The server's layers (docs/architecture.md, "Layers of the server"): every `crate::` path in
//! `server/src` may name its own top-level module or one of a lower layer, and the top-level
//! modules import each other in no circle. The check itself is `tests/layer_check.rs`.

use std::collections::BTreeSet;
use std::path::Path;

#[path = "../../tests/layer_check.rs"]
mod layer_check;
use layer_check::{circles, imported_modules, layer_problems, module_imports, Imports, Layers};

/// The layers, lowest first. A top-level module not listed here fails the test.
const LAYERS: Layers = &[
    ("settings", &["config"]),
    (
        "infrastructure",
        &[
            "store",
            "blobs",
            "feed_events",
            "metrics",
            "telemetry",
            "photo_index",
        ],
    ),
    ("http glue", &["http"]),
    ("authentication", &["auth"]),
    ("read scope", &["scope"]),
    ("state", &["state"]),
    (
        "capabilities",
        &[
            "sync",
            "verdicts",
            "photos",
            "reference_photos",
            "history",
            "queries",
            "plans",
            "targets",
            "reports",
            "master_data",
            "admin",
            "sessions",
            "operations",
            "live",
            "console",
        ],
    ),
    (
        "composition",
        &[
            "lib", "main", "cli", "commands", "startup", "routes", "openapi", "demo",
        ],
    ),
];

/// Imports against the layer order that are allowed, with the reason in docs/architecture.md.
const EXCEPTIONS: &[(&str, &str)] = &[];

/// Every problem of the server's imports: against the layer order, and circles.
fn problems(imports: &Imports) -> Vec<String> {
    let mut problems = layer_problems(LAYERS, EXCEPTIONS, imports);
    problems.extend(circles(imports));
    problems
}

#[test]
fn server_modules_import_only_downward_and_in_no_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let problems = problems(&module_imports(&src, &[], &[]));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_check_finds_an_upward_import_and_a_circle() {
    let mut imports = Imports::new();
    let file = |f: &str| BTreeSet::from([f.to_string()]);
    // config imports a capability: against the order.
    imports
        .entry("config".into())
        .or_default()
        .insert("photos".into(), file("config/mod.rs"));
    // photos and history import each other: same layer, but a circle.
    imports
        .entry("photos".into())
        .or_default()
        .insert("history".into(), file("photos/mod.rs"));
    imports
        .entry("history".into())
        .or_default()
        .insert("photos".into(), file("history.rs"));
    let found = problems(&imports);
    assert!(
        found
            .iter()
            .any(|p| p.contains("`config`") && p.contains("higher layer")),
        "{found:?}"
    );
    assert!(
        found.iter().any(|p| p.starts_with("import circle")),
        "{found:?}"
    );
}

#[test]
fn paths_in_comments_do_not_count_and_grouped_imports_do() {
    let source = "//! see crate::startup\n/* crate::routes */ use crate::{http, store::Store};\n\
                  let x = crate::auth::f(); // crate::demo\n/// [`crate::cli`]\n";
    let found = imported_modules(source);
    assert_eq!(
        found,
        BTreeSet::from(["auth".to_string(), "http".to_string(), "store".to_string()])
    );
}
