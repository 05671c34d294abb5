//! What the binding suites share: the workspace's app library and `uniffi-bindgen` (built by
//! the workspace build next to this test), and generating one language's bindings from them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use fieldsync_e2e::workspace_binary;

/// The workspace root (this crate lives in `tests/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// Stdout then stderr of a finished command, for assertion messages.
pub fn output_text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The app library (`libfieldsync_ffi.so`) the workspace build put next to this test.
pub fn app_library() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let profile = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target profile directory");
    let lib = profile.join(format!(
        "{}fieldsync_ffi{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ));
    assert!(
        lib.exists(),
        "{} is missing: build the workspace first (scripts/test.sh does)",
        lib.display()
    );
    lib
}

/// Generates the `language` bindings (`kotlin`, `swift`, `python`) of the app library into
/// `out`, as scripts/bindings.sh does (library mode, no formatter).
pub fn generate(language: &str, out: &Path) {
    run_bindgen(language, None, out);
}

/// Like [`generate`], with a uniffi config file merged over client-sdk/ffi/uniffi.toml (the
/// Android variant of the Kotlin bindings: client-sdk/ffi/uniffi-android.toml).
pub fn generate_with_config(language: &str, config: &Path, out: &Path) {
    run_bindgen(language, Some(config), out);
}

fn run_bindgen(language: &str, config: Option<&Path>, out: &Path) {
    let mut bindgen = Command::new(workspace_binary("uniffi-bindgen"));
    bindgen.args(["generate", "--language", language, "--no-format"]);
    if let Some(config) = config {
        bindgen.arg("--config").arg(config);
    }
    let generate = bindgen
        .arg("--library")
        .arg(app_library())
        .arg("--out-dir")
        .arg(out)
        // uniffi-bindgen reads client-sdk/ffi/uniffi.toml through `cargo metadata`.
        .current_dir(workspace_root())
        .output()
        .expect("run uniffi-bindgen");
    assert!(
        generate.status.success(),
        "uniffi-bindgen failed:\n{}",
        output_text(&generate)
    );
}
