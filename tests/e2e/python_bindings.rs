//! The app bindings, end to end: from the device library (`client-sdk/ffi`) and
//! `uniffi-bindgen` built by the workspace build, generates the Python bindings, and runs the Python test suite
//! (client-sdk/ffi/tests/python, stdlib unittest) against a real server. The Python tests
//! drive the field day through the C ABI: offline visit with photos, offline order, sync,
//! remote approval on a third device, typed errors, the background sync observer.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use fieldsync_e2e::{workspace_binary, TestServer};

/// The workspace root (this crate lives in `tests/`).
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// The profile directory this test was built into (`<target>/debug`), where the workspace
/// build put the library.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("target profile directory")
        .to_path_buf()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn python3() -> &'static str {
    let found = Command::new("python3").arg("--version").output();
    match found {
        Ok(out) if out.status.success() => "python3",
        _ => panic!(
            "python3 is required for the binding tests and was not found: install it \
             (Debian: apt-get install -y python3; scripts/test.sh does this when run as root)"
        ),
    }
}

/// Generates the Python bindings into `out` from the library and `uniffi-bindgen` the
/// workspace build put next to this test (scripts/test.sh builds `--workspace`), with a copy
/// of the library, which the generated module loads from its own directory.
fn generate_python_bindings(out: &Path) {
    let lib_name = format!(
        "{}fieldsync_ffi{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    let lib = profile_dir().join(&lib_name);
    assert!(
        lib.exists(),
        "{} is missing: build the workspace first (scripts/test.sh does)",
        lib.display()
    );
    let bindgen = workspace_binary("uniffi-bindgen");
    let generate = Command::new(&bindgen)
        .args([
            "generate",
            "--language",
            "python",
            "--no-format",
            "--library",
        ])
        .arg(&lib)
        .arg("--out-dir")
        .arg(out)
        .output()
        .expect("run uniffi-bindgen");
    assert!(
        generate.status.success(),
        "uniffi-bindgen failed:\n{}",
        text(&generate)
    );
    assert!(
        out.join("fieldsync.py").exists(),
        "no fieldsync.py generated"
    );
    std::fs::copy(&lib, out.join(&lib_name)).expect("copy the library next to the bindings");
}

#[test]
fn python_bindings_drive_the_field_day_against_a_real_server() {
    let python = python3();
    let bindings = tempfile::tempdir().expect("temp dir");
    generate_python_bindings(bindings.path());
    let server = TestServer::start();

    let suite = workspace_root().join("client-sdk/ffi/tests/python");
    let run = Command::new(python)
        .args(["-m", "unittest", "discover", "-v", "-s"])
        .arg(&suite)
        .arg("-t")
        .arg(&suite)
        .env("FIELDSYNC_TEST_SERVER_URL", &server.url)
        .env("FIELDSYNC_BINDINGS_DIR", bindings.path())
        // No __pycache__ in the source tree.
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1")
        .output()
        .expect("run python3 -m unittest");
    let output = text(&run);
    assert!(
        run.status.success(),
        "the Python binding tests failed ({:?}):\n{output}",
        run.status.code()
    );
    // unittest ends with "OK" only when every test passed; make sure tests actually ran.
    assert!(
        output.contains("Ran ") && !output.contains("Ran 0 tests"),
        "no Python test ran:\n{output}"
    );
    println!("{output}");
}
