//! The layers of the device SDK and of the shared crate (docs/architecture.md, "Layers of
//! shared" and "Layers of client-sdk"): every `crate::` path may name its own top-level module
//! or one of a lower layer, and the top-level modules import each other in no circle. The app
//! bindings (`client-sdk/ffi`) and the `fieldsync` CLI are checked for circles only: their
//! modules are few and flat. Plain Rust: the files are read as text.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Layers, lowest first: a name and the top-level modules in it.
type Layers = &'static [(&'static str, &'static [&'static str])];

/// `fieldsync-shared`: parsed values at the bottom, the rules and policies at the top.
const SHARED: Layers = &[
    ("values", &["values"]),
    ("documents and the organisation", &["visit", "order", "org"]),
    (
        "document bridge, master data and limits",
        &["document", "master", "limits"],
    ),
    ("rules", &["protocol", "policy", "rules", "thumbnail"]),
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
        ],
    ),
    ("device API", &["device"]),
    ("composition", &["background", "lib"]),
];

/// Imports against the layer order that are allowed, with the reason in docs/architecture.md.
const EXCEPTIONS: &[(&str, &str)] = &[];

/// Module -> imported module -> the files that import it.
type Imports = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

/// The workspace root.
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The top-level module a file under `src` belongs to: `src/sync/push.rs` is `sync`.
fn module_of(relative: &Path) -> String {
    let first = relative
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_default();
    first.trim_end_matches(".rs").to_string()
}

/// `source` without its comments (line, block and doc comments).
fn code_of(source: &str) -> String {
    let mut code = String::new();
    let mut in_block_comment = false;
    for line in source.lines() {
        let mut rest = line;
        loop {
            if in_block_comment {
                match rest.find("*/") {
                    Some(end) => {
                        rest = &rest[end + 2..];
                        in_block_comment = false;
                    }
                    None => break,
                }
                continue;
            }
            let line_comment = rest.find("//");
            match (line_comment, rest.find("/*")) {
                (Some(l), Some(b)) if b < l => {
                    code.push_str(&rest[..b]);
                    rest = &rest[b + 2..];
                    in_block_comment = true;
                }
                (None, Some(b)) => {
                    code.push_str(&rest[..b]);
                    rest = &rest[b + 2..];
                    in_block_comment = true;
                }
                (Some(l), _) => {
                    code.push_str(&rest[..l]);
                    break;
                }
                (None, None) => {
                    code.push_str(rest);
                    break;
                }
            }
        }
        code.push('\n');
    }
    code
}

fn identifier(text: &str) -> String {
    text.trim()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// The top-level modules named by `crate::…` paths in `source`, comments left out: the module
/// after every `crate::`, and each module of a grouped `crate::{a, b::c}` import.
fn imported_modules(source: &str) -> BTreeSet<String> {
    let code = code_of(source);
    let mut found = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        let preceded_by_ident = rest[..at]
            .chars()
            .last()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        rest = &rest[at + "crate::".len()..];
        if preceded_by_ident {
            continue;
        }
        let names = match rest.strip_prefix('{') {
            Some(group) => {
                let end = group.find('}').unwrap_or(group.len());
                group[..end].split(',').map(identifier).collect()
            }
            None => vec![identifier(rest)],
        };
        found.extend(names.into_iter().filter(|n| !n.is_empty() && n != "self"));
    }
    found
}

fn rust_files(dir: &Path, skip: &[&str], out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if !skip.contains(&name.as_str()) {
                rust_files(&path, skip, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The imports of each top-level module of the crate whose sources are `src`; folders named in
/// `skip` are other crates (a binary's own modules).
fn module_imports(src: &Path, skip: &[&str]) -> Imports {
    let mut files = Vec::new();
    rust_files(src, skip, &mut files);
    assert!(!files.is_empty(), "no Rust files under {}", src.display());
    imports_of(files.iter().map(|file| {
        let relative = file.strip_prefix(src).unwrap().display().to_string();
        (relative, std::fs::read_to_string(file).unwrap())
    }))
}

/// The imports of each top-level module, from `(path under src, source)` pairs.
fn imports_of(files: impl IntoIterator<Item = (String, String)>) -> Imports {
    let mut imports = Imports::new();
    for (relative, source) in files {
        let module = module_of(Path::new(&relative));
        let entry = imports.entry(module.clone()).or_default();
        for imported in imported_modules(&source) {
            if imported != module && !TEST_ONLY.contains(&imported.as_str()) {
                entry.entry(imported).or_default().insert(relative.clone());
            }
        }
    }
    imports
}

fn layer_of(layers: Layers, module: &str) -> Option<usize> {
    layers
        .iter()
        .position(|(_, modules)| modules.contains(&module))
}

/// Imports against the layer order, and of modules no layer holds.
fn layer_problems(layers: Layers, imports: &Imports) -> Vec<String> {
    let mut problems = Vec::new();
    for (module, targets) in imports {
        let Some(layer) = layer_of(layers, module) else {
            problems.push(format!("module `{module}` is in no layer of the table"));
            continue;
        };
        for (target, files) in targets {
            let Some(target_layer) = layer_of(layers, target) else {
                problems.push(format!(
                    "`{module}` imports `{target}`, which is in no layer"
                ));
                continue;
            };
            if target_layer > layer && !EXCEPTIONS.contains(&(module.as_str(), target.as_str())) {
                problems.push(format!(
                    "`{module}` ({}) imports `{target}` ({}), a higher layer, in {files:?}",
                    layers[layer].0, layers[target_layer].0
                ));
            }
        }
    }
    problems
}

/// Circles between top-level modules: a depth-first search over the module graph.
fn circles(imports: &Imports) -> Vec<String> {
    fn visit(
        module: &str,
        imports: &Imports,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        found: &mut Vec<String>,
    ) {
        if let Some(start) = path.iter().position(|m| m == module) {
            let mut circle = path[start..].to_vec();
            circle.push(module.to_string());
            found.push(format!("import circle: {}", circle.join(" -> ")));
            return;
        }
        if !done.insert(module.to_string()) {
            return;
        }
        path.push(module.to_string());
        for target in imports.get(module).into_iter().flat_map(|t| t.keys()) {
            visit(target, imports, path, done, found);
        }
        path.pop();
    }
    let mut found = Vec::new();
    let mut done = BTreeSet::new();
    for module in imports.keys() {
        visit(module, imports, &mut Vec::new(), &mut done, &mut found);
    }
    found
}

fn assert_layered(src: &str, skip: &[&str], layers: Option<Layers>) {
    let imports = module_imports(&repo().join(src), skip);
    let mut problems = circles(&imports);
    if let Some(layers) = layers {
        problems.extend(layer_problems(layers, &imports));
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
    let upward = layer_problems(CLIENT, &graph(&[("store", "device")]));
    assert!(
        upward
            .iter()
            .any(|p| p.contains("`store`") && p.contains("higher layer")),
        "{upward:?}"
    );
    let unknown = layer_problems(CLIENT, &graph(&[("uploads", "store")]));
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
    assert!(layer_problems(CLIENT, &fine).is_empty());
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
    let imports = imports_of([("sync/mod.rs".into(), "use crate::SyncReport;".into())]);
    let found = layer_problems(CLIENT, &imports);
    assert!(
        found
            .iter()
            .any(|p| p.contains("`SyncReport`, which is in no layer")),
        "{found:?}"
    );
}
