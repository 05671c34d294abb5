//! The HTTP API fuzzed from its own description: schemathesis (installed by
//! `scripts/api-fuzz-tools.sh`) reads `/openapi.json` of a real server with the demo tenant and
//! sends generated requests, valid and invalid, to every operation, signed in as each role.
//! It checks that no answer is a 5xx and that every answer is described (status code, content
//! type, body schema), and this test fails if any operation could not be reached (a request it
//! could not build from the description counts as not reached).
//!
//! Each role gets a server of its own, so what an administrator's run changes (users, devices,
//! the login limiter) does not decide another role's run. Two operations run apart:
//! `POST /v1/auth/logout` ends the session whose token the fuzzer holds, so it runs last,
//! alone; `GET /v1/live` streams until the access token expires, so it runs alone against a
//! server whose tokens live a few seconds (the fuzzer reads every answer to its end).
//!
//! Bounded by default (examples per operation); a longer run (docs/reliability.md):
//!   FIELDSYNC_API_FUZZ_EXAMPLES   examples per operation and phase (default 10)
//!   FIELDSYNC_API_FUZZ_SECONDS    time budget per role: fuzzing repeats until it is spent
//!   FIELDSYNC_API_FUZZ_SEED       reproduce a run (every run prints its seed)

use std::path::{Path, PathBuf};
use std::process::Command;

use fieldsync_e2e::TestServer;
use serde_json::Value;

use crate::bindgen::workspace_root;

/// One demo user of each role.
const USERS: &[(&str, &str)] = &[
    ("rep", "rep1"),
    ("merchandiser", "merch1"),
    ("supervisor", "sup1"),
    ("manager", "mgr1"),
    ("admin", "admin"),
];

const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_schema_conformance";

/// What one schemathesis run covers.
#[derive(Clone, Copy, PartialEq)]
enum Part {
    /// Every operation but the two below.
    Operations,
    /// `POST /v1/auth/logout` alone.
    Logout,
    /// The live stream `GET /v1/live` alone.
    LiveStream,
}

const LOGOUT: &str = "/v1/auth/logout";
const LIVE: &str = "/v1/live";

/// Access-token lifetime of the live stream's server: each stream ends by then.
const LIVE_TOKEN_TTL_SECS: u64 = 4;

impl Part {
    fn name(self) -> &'static str {
        match self {
            Part::Operations => "operations",
            Part::Logout => "logout",
            Part::LiveStream => "live stream",
        }
    }

    fn filter(self) -> Vec<&'static str> {
        match self {
            Part::Operations => vec!["--exclude-path", LOGOUT, "--exclude-path", LIVE],
            Part::Logout => vec!["--include-path", LOGOUT],
            Part::LiveStream => vec!["--include-path", LIVE],
        }
    }
}

/// Loaded by schemathesis: the sync body is CBOR, which it cannot build from a schema; the
/// description says "binary", so it sends bytes as it does for photos.
const HOOKS: &str = "import schemathesis\n\
                     schemathesis.serializer.alias(\n    \
                     \"application/vnd.fieldsync.sync+cbor\", \"application/octet-stream\"\n)\n";

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().map(|v| {
        v.parse()
            .unwrap_or_else(|_| panic!("{name}={v} is not a number"))
    })
}

/// The schemathesis executable, installed (once, then reused) by the project's script.
fn schemathesis() -> PathBuf {
    let script = workspace_root().join("scripts/api-fuzz-tools.sh");
    let out = Command::new(&script)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", script.display()));
    assert!(
        out.status.success(),
        "{} failed:\n{}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// What one schemathesis run reported (its JSON report) and printed.
struct Run {
    report: Value,
    output: String,
}

struct Fuzzer {
    exe: PathBuf,
    work: tempfile::TempDir,
    examples: u64,
    seconds: Option<u64>,
    seed: u64,
}

impl Fuzzer {
    fn new() -> Fuzzer {
        let work = tempfile::tempdir().expect("temp dir");
        std::fs::write(work.path().join("fieldsync_api_fuzz_hooks.py"), HOOKS).expect("hooks");
        let seed = env_number("FIELDSYNC_API_FUZZ_SEED").unwrap_or_else(|| {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("clock")
                .subsec_nanos();
            u64::from(nanos) ^ u64::from(std::process::id())
        });
        Fuzzer {
            exe: schemathesis(),
            work,
            examples: env_number("FIELDSYNC_API_FUZZ_EXAMPLES").unwrap_or(10),
            seconds: env_number("FIELDSYNC_API_FUZZ_SECONDS"),
            seed,
        }
    }

    /// Fuzzes `part` of `server`'s operations with `token`.
    fn run(&self, server: &TestServer, token: &str, username: &str, part: Part) -> Run {
        let reports = self.work.path().join(format!("{username}-{}", part.name()));
        let mut cmd = Command::new(&self.exe);
        cmd.arg("run")
            .arg(format!("{}/openapi.json", server.ops_url))
            .args(["--url", &server.url])
            .args(["--header", &format!("Authorization: Bearer {token}")])
            .args(["--checks", CHECKS])
            .args(["--max-examples", &self.examples.to_string()])
            .args(["--seed", &self.seed.to_string()])
            // One worker: Python 3.11's parser is not thread-safe, and hypothesis parses
            // sources while generating.
            .args(["--workers", "1"])
            .args(["--report", "json", "--report-dir"])
            .arg(&reports)
            // A hung answer fails the run instead of holding the test.
            .args(["--request-timeout", "60"])
            .args(part.filter())
            // Its cache folder (.schemathesis) goes there, not into the source tree.
            .current_dir(self.work.path())
            .env("PYTHONPATH", self.work.path())
            .env("SCHEMATHESIS_HOOKS", "fieldsync_api_fuzz_hooks")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("NO_COLOR", "1");
        if let (Some(secs), Part::Operations) = (self.seconds, part) {
            cmd.args(["--max-time", &secs.to_string()]);
        }
        let out = cmd.output().expect("run schemathesis");
        let output = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let report = json_report(&reports)
            .unwrap_or_else(|| panic!("schemathesis wrote no JSON report:\n{output}"));
        Run { report, output }
    }
}

fn json_report(dir: &Path) -> Option<Value> {
    let entry = std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().ends_with(".json"))?;
    serde_json::from_slice(&std::fs::read(entry.path()).ok()?).ok()
}

impl Run {
    fn number(&self, pointer: &str) -> u64 {
        self.report
            .pointer(pointer)
            .and_then(Value::as_u64)
            .unwrap_or_else(|| panic!("no {pointer} in the report"))
    }

    /// What is wrong with this run, if anything: failed checks, operations not reached,
    /// errors (a request schemathesis could not build from the description).
    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let list = |key: &str| {
            self.report[key]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
        };
        for failure in list("failures") {
            problems.push(format!(
                "{} {} ({}x): {}",
                failure["code"].as_str().unwrap_or("?"),
                failure["title"].as_str().unwrap_or("?"),
                failure["count"],
                failure["operations"]
            ));
        }
        for error in list("errors") {
            problems.push(format!("error: {error}"));
        }
        let selected = self.number("/operations/selected");
        let tested = self.number("/operations/tested");
        if selected == 0 || tested != selected {
            problems.push(format!(
                "{tested} of {selected} operations reached; skipped because: {}",
                self.report["operations"]["skip_reasons"]
            ));
        }
        for key in ["errored", "skipped"] {
            let n = self.number(&format!("/operations/{key}"));
            if n != 0 {
                problems.push(format!("{n} operations {key}"));
            }
        }
        problems
    }
}

#[test]
fn every_operation_answers_as_described_for_every_role() {
    let fuzzer = Fuzzer::new();
    println!(
        "schemathesis: seed {}, {} examples per operation{}",
        fuzzer.seed,
        fuzzer.examples,
        fuzzer
            .seconds
            .map(|s| format!(", {s} s per role"))
            .unwrap_or_default()
    );
    let live_server = TestServer::start_with(|c| c.token_ttl_secs = LIVE_TOKEN_TTL_SECS);
    let mut failed = Vec::new();
    for (role, username) in USERS {
        let server = TestServer::start();
        let token = server.token(username);
        let runs = [
            (
                Part::Operations,
                fuzzer.run(&server, &token, username, Part::Operations),
            ),
            (
                Part::Logout,
                fuzzer.run(&server, &token, username, Part::Logout),
            ),
            (
                Part::LiveStream,
                fuzzer.run(
                    &live_server,
                    &live_server.token(username),
                    username,
                    Part::LiveStream,
                ),
            ),
        ];
        for (part, run) in runs {
            println!(
                "{role} ({username}) {}: {} operations, {} requests, {:.0} s",
                part.name(),
                run.number("/operations/tested"),
                run.number("/test_cases/generated"),
                run.report["running_time"].as_f64().unwrap_or(0.0)
            );
            let problems = run.problems();
            if !problems.is_empty() {
                failed.push(format!(
                    "as {role} ({username}), {}:\n  {}\n--- schemathesis output ---\n{}",
                    part.name(),
                    problems.join("\n  "),
                    run.output
                ));
            }
        }
    }
    assert!(
        failed.is_empty(),
        "the API does not answer as described (reproduce with FIELDSYNC_API_FUZZ_SEED={}):\n{}",
        fuzzer.seed,
        failed.join("\n")
    );
}
