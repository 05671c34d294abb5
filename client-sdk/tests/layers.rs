//! The layers of the device SDK and of the shared crate (docs/architecture.md, "Layers of
//! shared" and "Layers of client-sdk"): every `crate::` path may name its own top-level module
//! or one of a lower layer, and the top-level modules import each other in no circle. The app
//! bindings (`client-sdk/ffi`) and the `fieldsync` CLI are checked for circles only: their
//! modules are few and flat. Plain Rust: the files are read as text.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

#[path = "../../tests/layer_check.rs"]
mod layer_check;
use layer_check::{
    circles, imported_modules, imports_of, layer_problems, module_imports, Imports, Layers,
};

/// `fieldsync-shared`: parsed values at the bottom, the rules and policies at the top.
const SHARED: Layers = &[
    ("values", &["values", "evaluation", "changed_fields"]),
    (
        "documents and the organisation",
        &[
            "visit",
            "order",
            "plan",
            "expense",
            "org",
            "tiers",
            "promotion",
            "success",
        ],
    ),
    (
        "document bridge, master data and limits",
        &["document", "master", "limits", "agreement"],
    ),
    ("rules", &["protocol", "policy", "rules", "thumbnail"]),
    ("reports", &["report"]),
    ("crate root and test kit", &["lib", "testkit"]),
];

/// Modules compiled for tests only (`#[cfg(test)] mod testkit;`): any module's tests may use
/// them, so importing them is no import of the library.
const TEST_ONLY: &[&str] = &["testkit"];

/// `fieldsync-client`: storage and transport at the bottom, the logic that works through them,
/// the `Device` API above it, and what composes the API (the background thread, the root).
const CLIENT: Layers = &[
    ("errors", &["error"]),
    ("storage", &["schema", "store"]),
    ("transport", &["http"]),
    (
        "logic",
        &[
            "edits",
            "send_queue",
            "sync",
            "sync_status",
            "network_policy",
            "photo_capture",
        ],
    ),
    ("device API", &["device"]),
    ("composition", &["background", "lib"]),
];

/// Imports against the layer order that are allowed, with the reason in docs/architecture.md.
const EXCEPTIONS: &[(&str, &str)] = &[];

/// The workspace root.
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn assert_layered(src: &str, skip: &[&str], layers: Option<Layers>) {
    let imports = module_imports(&repo().join(src), skip, TEST_ONLY);
    let mut problems = circles(&imports);
    if let Some(layers) = layers {
        problems.extend(layer_problems(layers, EXCEPTIONS, &imports));
    }
    assert!(problems.is_empty(), "{src}:\n{}", problems.join("\n"));
}

#[test]
fn shared_modules_import_only_downward_and_in_no_circle() {
    assert_layered("shared/src", &[], Some(SHARED));
}

#[test]
fn client_modules_import_only_downward_and_in_no_circle() {
    assert_layered("client-sdk/src", &["bin"], Some(CLIENT));
}

#[test]
fn the_bindings_and_the_cli_have_no_import_circle() {
    assert_layered("client-sdk/ffi/src", &[], None);
    assert_layered("client-sdk/src/bin/fieldsync", &[], None);
}

/// A module graph from `(module, imported module)` pairs.
fn graph(edges: &[(&str, &str)]) -> Imports {
    let mut imports = Imports::new();
    for (from, to) in edges {
        imports
            .entry(from.to_string())
            .or_default()
            .insert(to.to_string(), BTreeSet::from([format!("{from}.rs")]));
    }
    imports
}

#[test]
fn the_check_finds_an_upward_import_an_unknown_module_and_a_circle() {
    // The store reaching up into the device API: against the order.
    let upward = layer_problems(CLIENT, EXCEPTIONS, &graph(&[("store", "device")]));
    assert!(
        upward
            .iter()
            .any(|p| p.contains("`store`") && p.contains("higher layer")),
        "{upward:?}"
    );
    let unknown = layer_problems(CLIENT, EXCEPTIONS, &graph(&[("uploads", "store")]));
    assert!(
        unknown
            .iter()
            .any(|p| p.contains("`uploads` is in no layer")),
        "{unknown:?}"
    );
    // The sync engine and the send queue importing each other: same layer, but a circle.
    let circle = circles(&graph(&[("sync", "send_queue"), ("send_queue", "sync")]));
    assert!(
        circle.iter().any(|p| p.starts_with("import circle")),
        "{circle:?}"
    );
    // Downward only: nothing to report.
    let fine = graph(&[("device", "edits"), ("edits", "store"), ("store", "error")]);
    assert!(layer_problems(CLIENT, EXCEPTIONS, &fine).is_empty());
    assert!(circles(&fine).is_empty());
}

#[test]
fn paths_in_comments_do_not_count_and_grouped_imports_do() {
    let source =
        "//! see crate::device\n/* crate::background */ use crate::{http, store::Database};\n\
                  let x = crate::edits::edit(); // crate::sync\n/// [`crate::lib`]\n";
    assert_eq!(
        imported_modules(source),
        BTreeSet::from(["edits".to_string(), "http".to_string(), "store".to_string()])
    );
}

#[test]
fn a_root_import_is_an_import_of_the_crate_root() {
    // `use crate::Thing` names no module but the root's re-export: the check counts it as an
    // import of a module named `Thing`, which no layer holds, so it fails.
    let imports = imports_of(
        [("sync/mod.rs".into(), "use crate::SyncReport;".into())],
        TEST_ONLY,
    );
    let found = layer_problems(CLIENT, EXCEPTIONS, &imports);
    assert!(
        found
            .iter()
            .any(|p| p.contains("`SyncReport`, which is in no layer")),
        "{found:?}"
    );
}
