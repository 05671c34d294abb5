//! The app bindings, end to end: from the device library (`client-sdk/ffi`) and
//! `uniffi-bindgen` built by the workspace build, generates the Python bindings, and runs the Python test suite
//! (client-sdk/ffi/tests/python, stdlib unittest) against a real server. The Python tests
//! drive the field day through the C ABI: offline visit with photos, offline order, sync,
//! remote approval on a third device, typed errors, the background sync observer.

use std::path::Path;
use std::process::Command;

use fieldsync_e2e::TestServer;

use crate::bindgen::{app_library, generate, output_text, workspace_root};

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

/// Generates the Python bindings into `out`, with a copy of the library, which the generated
/// module loads from its own directory.
fn generate_python_bindings(out: &Path) {
    generate("python", out);
    assert!(
        out.join("fieldsync.py").exists(),
        "no fieldsync.py generated"
    );
    let lib = app_library();
    std::fs::copy(&lib, out.join(lib.file_name().expect("library file name")))
        .expect("copy the library next to the bindings");
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
    let output = output_text(&run);
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
