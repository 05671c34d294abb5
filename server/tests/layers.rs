//! The server's layers (docs/architecture.md, "Layers of the server"): every `crate::` path in
//! `server/src` may name its own top-level module or one of a lower layer, and the top-level
//! modules import each other in no circle. Plain Rust: the files are read as text.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, lowest first. A top-level module not listed here fails the test.
const LAYERS: &[(&str, &[&str])] = &[
    ("settings", &["config"]),
    (
        "infrastructure",
        &["store", "blobs", "feed_events", "metrics", "telemetry"],
    ),
    ("http glue", &["http"]),
    ("authentication", &["auth"]),
    ("read scope", &["scope"]),
    ("state", &["state"]),
    (
        "capabilities",
        &[
            "sync",
            "photos",
            "history",
            "queries",
            "master_data",
            "admin",
            "sessions",
            "operations",
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

fn layer_of(module: &str) -> Option<usize> {
    LAYERS
        .iter()
        .position(|(_, modules)| modules.contains(&module))
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

/// The top-level modules named by `crate::…` paths in `source`, comments left out.
fn imported_modules(source: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut in_block_comment = false;
    for line in source.lines() {
        let mut code = String::new();
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
            } else {
                let line_comment = rest.find("//");
                let block = rest.find("/*");
                match (line_comment, block) {
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
        }
        collect_paths(&code, &mut found);
    }
    found
}

/// Adds the module after every `crate::` in `code`, and each module of a grouped
/// `crate::{a, b::c}` import.
fn collect_paths(code: &str, found: &mut BTreeSet<String>) {
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let preceded_by_ident = rest[..at]
            .chars()
            .last()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        rest = &rest[at + "crate::".len()..];
        if preceded_by_ident {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() && name != "self" {
                    found.insert(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The imports of each top-level module, read from the files under `src`.
fn module_imports(src: &Path) -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut imports: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(src).unwrap().to_path_buf();
        let module = module_of(&relative);
        let source = std::fs::read_to_string(&file).unwrap();
        let entry = imports.entry(module.clone()).or_default();
        for imported in imported_modules(&source) {
            if imported != module {
                entry
                    .entry(imported)
                    .or_default()
                    .insert(relative.display().to_string());
            }
        }
    }
    imports
}

/// What is wrong with these imports: unknown modules, imports against the layer order, circles.
fn problems(imports: &BTreeMap<String, BTreeMap<String, BTreeSet<String>>>) -> Vec<String> {
    let mut problems = Vec::new();
    for (module, targets) in imports {
        let Some(layer) = layer_of(module) else {
            problems.push(format!("module `{module}` is in no layer of the table"));
            continue;
        };
        for (target, files) in targets {
            let Some(target_layer) = layer_of(target) else {
                problems.push(format!(
                    "`{module}` imports `{target}`, which is in no layer"
                ));
                continue;
            };
            if target_layer > layer && !EXCEPTIONS.contains(&(module.as_str(), target.as_str())) {
                problems.push(format!(
                    "`{module}` ({}) imports `{target}` ({}), a higher layer, in {files:?}",
                    LAYERS[layer].0, LAYERS[target_layer].0
                ));
            }
        }
    }
    // Circles: a depth-first search over the module graph.
    fn visit(
        module: &str,
        imports: &BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        problems: &mut Vec<String>,
    ) {
        if let Some(start) = path.iter().position(|m| m == module) {
            let mut circle = path[start..].to_vec();
            circle.push(module.to_string());
            problems.push(format!("import circle: {}", circle.join(" -> ")));
            return;
        }
        if !done.insert(module.to_string()) {
            return;
        }
        path.push(module.to_string());
        if let Some(targets) = imports.get(module) {
            for target in targets.keys() {
                visit(target, imports, path, done, problems);
            }
        }
        path.pop();
    }
    let mut done = BTreeSet::new();
    for module in imports.keys() {
        visit(module, imports, &mut Vec::new(), &mut done, &mut problems);
    }
    problems
}

#[test]
fn server_modules_import_only_downward_and_in_no_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let problems = problems(&module_imports(&src));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_check_finds_an_upward_import_and_a_circle() {
    let mut imports: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
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
