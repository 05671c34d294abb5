//! The app bindings, end to end: builds the device library (`client-sdk/ffi`) and its
//! `uniffi-bindgen`, generates the Python bindings, and runs the Python test suite
//! (client-sdk/ffi/tests/python, stdlib unittest) against a real server. The Python tests
//! drive the field day through the C ABI: offline visit with photos, offline order, sync,
//! remote approval on a third device, typed errors, the background sync observer.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use fieldsync_e2e::TestServer;

/// The workspace root (this crate lives in `tests/`).
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// The profile directory this test was built into (`<target>/debug`): the library is built
/// into the same one, so a fresh build is a no-op.
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

/// Builds libfieldsync_ffi and uniffi-bindgen, and generates the Python bindings into `out`
/// (with a copy of the library, which the generated module loads from its own directory).
fn generate_python_bindings(out: &Path) {
    let profile_dir = profile_dir();
    let profile = profile_dir
        .file_name()
        .and_then(|n| n.to_str())
        .expect("profile name");
    let target_dir = profile_dir.parent().expect("target directory");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let build = Command::new(cargo)
        .current_dir(workspace_root())
        .env("CARGO_TARGET_DIR", target_dir)
        .args([
            "build",
            "-p",
            "fieldsync-ffi",
            "--features",
            "cli",
            "--profile",
        ])
        .arg(if profile == "debug" { "dev" } else { profile })
        .output()
        .expect("run cargo build");
    assert!(
        build.status.success(),
        "building fieldsync-ffi failed:\n{}",
        text(&build)
    );

    let lib_name = format!(
        "{}fieldsync_ffi{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    let lib = profile_dir.join(&lib_name);
    let bindgen = profile_dir.join(format!("uniffi-bindgen{}", std::env::consts::EXE_SUFFIX));
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
