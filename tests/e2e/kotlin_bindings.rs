//! The app bindings in Kotlin, as an Android team would use them, on the desktop JVM: generates
//! the Kotlin bindings of the device library (`client-sdk/ffi`), compiles them with the Kotlin
//! test suite (`tests/kotlin`) in one `kotlinc-jvm` run, and runs the suite with JNA against a
//! real server. The toolchain (JDK, JNA, the pinned Kotlin compiler) comes from
//! scripts/kotlin-toolchain.sh, which scripts/test.sh runs first.
//!
//! Beside the run: every operation the bindings export is called by some Kotlin test, and
//! docs/mobile-bindings.md holds the Kotlin example the suite runs, verbatim.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use fieldsync_e2e::TestServer;

use crate::bindgen::{app_library, generate, generate_with_config, output_text, workspace_root};

/// JNA, from Debian's `libjna-java`.
const JNA_JAR: &str = "/usr/share/java/jna.jar";

/// The Kotlin sources of the suite (tests/kotlin/*.kt), sorted.
fn kotlin_sources() -> Vec<PathBuf> {
    let dir = workspace_root().join("tests/kotlin");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|ext| ext == "kt"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no Kotlin tests in {}", dir.display());
    files
}

/// Generates the Kotlin bindings into `out`; returns the generated file.
fn generate_kotlin_bindings(out: &Path) -> PathBuf {
    generate("kotlin", out);
    let file = out.join("com/fieldsync/device/fieldsync.kt");
    assert!(file.exists(), "no {} generated", file.display());
    file
}

/// The Kotlin compiler's home, installed (once, cached) and verified by
/// scripts/kotlin-toolchain.sh.
fn kotlin_home() -> PathBuf {
    let script = workspace_root().join("scripts/kotlin-toolchain.sh");
    let run = Command::new(&script)
        .output()
        .expect("run kotlin-toolchain.sh");
    assert!(
        run.status.success(),
        "the Kotlin toolchain is missing and could not be installed (scripts/test.sh installs \
         it when run as root):\n{}",
        output_text(&run)
    );
    let home = PathBuf::from(String::from_utf8_lossy(&run.stdout).trim());
    assert!(home.join("bin/kotlinc-jvm").exists(), "{}", home.display());
    home
}

fn class_path(entries: &[PathBuf]) -> String {
    std::env::join_paths(entries)
        .expect("class path")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn drive_the_field_day_on_the_jvm_against_a_real_server() {
    let home = kotlin_home();
    let work = tempfile::tempdir().expect("temp dir");
    let bindings = generate_kotlin_bindings(&work.path().join("generated"));
    let lib = |jar: &str| home.join("lib").join(jar);
    let libraries = vec![
        PathBuf::from(JNA_JAR),
        lib("kotlinx-coroutines-core-jvm.jar"),
        lib("kotlin-test.jar"),
    ];

    // One compile of everything: kotlinc is slow to start.
    let classes = work.path().join("classes");
    let compile = Command::new(home.join("bin/kotlinc-jvm"))
        .arg("-nowarn")
        .arg("-d")
        .arg(&classes)
        .arg("-cp")
        .arg(class_path(&libraries))
        .arg(&bindings)
        .args(kotlin_sources())
        .output()
        .expect("run kotlinc-jvm");
    assert!(
        compile.status.success(),
        "kotlinc-jvm failed:\n{}",
        output_text(&compile)
    );

    let server = TestServer::start();
    let mut run_path = vec![classes, lib("kotlin-stdlib.jar")];
    run_path.extend(libraries);
    let native_dir = app_library().parent().expect("library dir").to_path_buf();
    let run = Command::new("java")
        .arg(format!("-Djna.library.path={}", native_dir.display()))
        .arg("-Djava.awt.headless=true")
        .arg("-cp")
        .arg(class_path(&run_path))
        .arg("com.fieldsync.device.tests.MainKt")
        .env("FIELDSYNC_TEST_SERVER_URL", &server.url)
        .output()
        .expect("run java");
    let output = output_text(&run);
    assert!(
        run.status.success(),
        "the Kotlin binding tests failed ({:?}):\n{output}",
        run.status.code()
    );
    assert!(
        output.contains(" passed, 0 failed"),
        "no Kotlin summary:\n{output}"
    );
    println!("{output}");
}

/// The operations the generated Kotlin exports, as uniffi names them (`login`,
/// `fieldsyncdevice.open`, ...): every `uniffi_fieldsync_ffi_fn_{func,constructor,method}_...`
/// symbol the bindings call, without trait methods (`toString`).
fn exported_operations(kotlin: &str) -> BTreeSet<String> {
    const PREFIX: &str = "uniffi_fieldsync_ffi_fn_";
    kotlin
        .match_indices(PREFIX)
        .map(|(at, _)| {
            let rest = &kotlin[at + PREFIX.len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .filter_map(|symbol| {
            if let Some(name) = symbol.strip_prefix("func_") {
                return Some(name.to_string());
            }
            let (kind, rest) = symbol.split_once('_')?;
            let (object, name) = rest.split_once('_')?;
            let operation =
                matches!(kind, "method" | "constructor") && !name.starts_with("uniffi_trait_");
            operation.then(|| format!("{object}.{name}"))
        })
        .collect()
}

/// `reject_order` -> `rejectOrder`.
fn kotlin_name(snake: &str) -> String {
    let mut out = String::new();
    for (i, part) in snake.split('_').enumerate() {
        let mut chars = part.chars();
        match (i, chars.next()) {
            (0, Some(c)) => out.push(c),
            (_, Some(c)) => out.extend(c.to_uppercase()),
            _ => {}
        }
        out.extend(chars);
    }
    out
}

#[test]
fn every_exported_operation_is_called_by_a_kotlin_test() {
    let work = tempfile::tempdir().expect("temp dir");
    let kotlin = std::fs::read_to_string(generate_kotlin_bindings(work.path())).expect("read");
    let operations = exported_operations(&kotlin);
    assert!(
        operations.contains("fieldsyncdevice.login") && operations.contains("fieldsyncdevice.open"),
        "the exported operations were not found in the generated Kotlin: {operations:?}"
    );
    let tests: String = kotlin_sources()
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("read Kotlin test"))
        .collect();
    let uncalled: Vec<&String> = operations
        .iter()
        .filter(|op| {
            let name = kotlin_name(op.rsplit('.').next().expect("name"));
            // A call: `.name(` on an object (methods, `FieldsyncDevice.open`), `name(` for a
            // top-level function; for an interface the app implements (`SyncObserver`), an
            // implementation the library calls.
            let calls = if op.contains('.') {
                vec![format!(".{name}("), format!("override fun {name}(")]
            } else {
                vec![format!("{name}(")]
            };
            !calls.iter().any(|call| tests.contains(call))
        })
        .collect();
    assert!(
        uncalled.is_empty(),
        "exported operations no Kotlin test in tests/kotlin calls: {uncalled:?}"
    );
}

/// The named types of generated bindings (records, enums, errors, objects, callback
/// interfaces): each has an `FfiConverterType<Name>` in Kotlin and in Swift.
fn named_types(code: &str) -> BTreeSet<String> {
    const PREFIX: &str = "FfiConverterType";
    code.match_indices(PREFIX)
        .map(|(at, _)| {
            let rest = &code[at + PREFIX.len()..];
            let end = rest
                .find(|c: char| !c.is_ascii_alphanumeric())
                .unwrap_or(rest.len());
            rest[..end].to_string()
        })
        .filter(|name| !name.is_empty())
        .collect()
}

/// No Swift compiler on this machine: the Swift bindings are generated, not compiled, and
/// checked against the Kotlin ones, which the suite compiles and runs.
#[test]
fn swift_bindings_offer_what_the_kotlin_bindings_offer() {
    let work = tempfile::tempdir().expect("temp dir");
    let kotlin = std::fs::read_to_string(generate_kotlin_bindings(&work.path().join("kotlin")))
        .expect("read");
    let swift_dir = work.path().join("swift");
    generate("swift", &swift_dir);
    let swift = std::fs::read_to_string(swift_dir.join("Fieldsync.swift")).expect("read Swift");
    for file in ["fieldsyncFFI.h", "fieldsyncFFI.modulemap"] {
        assert!(swift_dir.join(file).exists(), "no {file} generated");
    }

    let (kotlin_ops, swift_ops) = (exported_operations(&kotlin), exported_operations(&swift));
    assert!(kotlin_ops.len() > 30, "{kotlin_ops:?}");
    assert_eq!(kotlin_ops, swift_ops, "operations: Kotlin, then Swift");
    let (kotlin_types, swift_types) = (named_types(&kotlin), named_types(&swift));
    for name in [
        "FieldsyncDevice",
        "Visit",
        "Order",
        "SyncState",
        "FieldsyncError",
        "LogSink",
    ] {
        assert!(
            kotlin_types.contains(name),
            "{name} missing in {kotlin_types:?}"
        );
    }
    assert_eq!(kotlin_types, swift_types, "types: Kotlin, then Swift");
    // The async calls are async in both.
    for op in ["login", "sync_now", "photo_thumbnail"] {
        let (kotlin_sig, swift_sig) = (
            format!("suspend fun `{}`(", kotlin_name(op)),
            format!("func {}(", kotlin_name(op)),
        );
        assert!(kotlin.contains(&kotlin_sig), "{kotlin_sig}");
        let swift_line = swift
            .lines()
            .find(|l| l.contains(&swift_sig))
            .unwrap_or_else(|| panic!("no {swift_sig} in Swift"));
        assert!(swift_line.contains(" async "), "{swift_line}");
    }
}

/// The Android variant (`scripts/bindings.sh kotlin-android`; not compiled here: no Android
/// SDK) has the API of the JVM variant the suite runs, with the Android cleaner.
#[test]
fn android_bindings_have_the_jvm_api_with_the_android_cleaner() {
    let work = tempfile::tempdir().expect("temp dir");
    let jvm =
        std::fs::read_to_string(generate_kotlin_bindings(&work.path().join("jvm"))).expect("read");
    let android_dir = work.path().join("android");
    let config = workspace_root().join("client-sdk/ffi/uniffi-android.toml");
    generate_with_config("kotlin", &config, &android_dir);
    let android = std::fs::read_to_string(android_dir.join("com/fieldsync/device/fieldsync.kt"))
        .expect("read the Android variant");
    let cleaner = "android.system.SystemCleaner";
    assert!(android.contains(cleaner) && !jvm.contains(cleaner));
    assert!(android.contains("package com.fieldsync.device"));
    assert_eq!(exported_operations(&jvm), exported_operations(&android));
    assert_eq!(named_types(&jvm), named_types(&android));
}

#[test]
fn the_docs_hold_the_kotlin_example_the_tests_run() {
    let root = workspace_root();
    let example = std::fs::read_to_string(root.join("tests/kotlin/Example.kt")).expect("read");
    let docs = std::fs::read_to_string(root.join("docs/mobile-bindings.md")).expect("read");
    assert!(
        docs.contains(&format!("```kotlin\n{example}```")),
        "docs/mobile-bindings.md must hold tests/kotlin/Example.kt verbatim in a ```kotlin block"
    );
}

#[test]
fn operations_and_their_kotlin_names() {
    assert_eq!(kotlin_name("reject_order"), "rejectOrder");
    assert_eq!(kotlin_name("open"), "open");
    let symbols = "uniffi_fieldsync_ffi_fn_method_fieldsyncdevice_sync_now(x) \
                   uniffi_fieldsync_ffi_fn_func_set_log_sink( \
                   uniffi_fieldsync_ffi_fn_method_syncstate_uniffi_trait_display( \
                   uniffi_fieldsync_ffi_fn_free_fieldsyncdevice(";
    let found: Vec<String> = exported_operations(symbols).into_iter().collect();
    assert_eq!(found, vec!["fieldsyncdevice.sync_now", "set_log_sink"]);
}
