//! The import-graph check behind the layer tests of the server (`server/tests/layers.rs`) and of
//! shared and the device SDK (`client-sdk/tests/layers.rs`), included by both with `#[path]`:
//! top-level modules, the `crate::` paths each file names (comments left out), imports against
//! a layer table, and circles. Plain Rust: the files are read as text.
#![allow(dead_code)] // each including test uses its part

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Layers, lowest first: a name and the top-level modules in it.
pub type Layers = &'static [(&'static str, &'static [&'static str])];

/// Module -> imported module -> the files that import it.
pub type Imports = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

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
pub fn imported_modules(source: &str) -> BTreeSet<String> {
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
pub fn module_imports(src: &Path, skip: &[&str], test_only: &[&str]) -> Imports {
    let mut files = Vec::new();
    rust_files(src, skip, &mut files);
    assert!(!files.is_empty(), "no Rust files under {}", src.display());
    imports_of(
        files.iter().map(|file| {
            let relative = file.strip_prefix(src).unwrap().display().to_string();
            (relative, std::fs::read_to_string(file).unwrap())
        }),
        test_only,
    )
}

/// The imports of each top-level module, from `(path under src, source)` pairs. Imports of
/// `test_only` modules (compiled for tests only) are no imports of the library.
pub fn imports_of(
    files: impl IntoIterator<Item = (String, String)>,
    test_only: &[&str],
) -> Imports {
    let mut imports = Imports::new();
    for (relative, source) in files {
        let module = module_of(Path::new(&relative));
        let entry = imports.entry(module.clone()).or_default();
        for imported in imported_modules(&source) {
            if imported != module && !test_only.contains(&imported.as_str()) {
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

/// Imports against the layer order (other than the allowed `exceptions`, pairs of importing
/// and imported module), and of modules no layer holds.
pub fn layer_problems(
    layers: Layers,
    exceptions: &[(&str, &str)],
    imports: &Imports,
) -> Vec<String> {
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
            if target_layer > layer && !exceptions.contains(&(module.as_str(), target.as_str())) {
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
pub fn circles(imports: &Imports) -> Vec<String> {
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
