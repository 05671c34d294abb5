//! Every fuzz target on stable, bounded: the checked-in corpus and regression inputs of each
//! target, its generated seeds, and mutations of them (`FIELDSYNC_FUZZ_MUTATIONS` per target,
//! default 300; deterministic, `FIELDSYNC_FUZZ_SEED` to vary). A crash found by `cargo fuzz`
//! is fixed and its input kept in `fuzz/regressions/<target>/`, so it runs here for good.

use std::path::{Path, PathBuf};

use fieldsync_fuzz::mutate::{mutate, Rng};
use fieldsync_fuzz::{seeds, targets};

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The files of `dir` (none if it does not exist), in name order.
fn files_in(dir: &Path) -> Vec<Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
    paths.sort();
    paths
        .iter()
        .filter(|p| p.is_file())
        .map(|p| std::fs::read(p).expect("readable input"))
        .collect()
}

fn run(name: &str) {
    let (_, target) = targets::ALL
        .iter()
        .find(|(n, _)| *n == name)
        .expect("a target");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let regressions = files_in(&root.join("regressions").join(name));
    for input in &regressions {
        target(input);
    }
    let mut inputs = files_in(&root.join("corpus").join(name));
    inputs.extend(seeds::generated(name));
    assert!(!inputs.is_empty(), "{name} has seeds");
    for input in &inputs {
        target(input);
    }
    let mutations = env_number("FIELDSYNC_FUZZ_MUTATIONS", 300);
    let mut rng = Rng::new(env_number("FIELDSYNC_FUZZ_SEED", 0x5eed) ^ name.len() as u64);
    for _ in 0..mutations {
        let input = &inputs[rng.below(inputs.len())];
        let other = &inputs[rng.below(inputs.len())];
        let mutated = mutate(&mut rng, input, other);
        let outcome = std::panic::catch_unwind(|| target(&mutated));
        if let Err(panic) = outcome {
            // Kept for a regression input (fuzz/regressions/<target>/).
            let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures");
            std::fs::create_dir_all(&dir).expect("failures dir");
            let file = dir.join(format!("{name}-{:016x}", rng.next_u64()));
            std::fs::write(&file, &mutated).expect("write the failing input");
            eprintln!("{name}: failing input written to {}", file.display());
            std::panic::resume_unwind(panic);
        }
    }
}

#[test]
fn sync_request() {
    run("sync_request");
}

#[test]
fn sync_push() {
    run("sync_push");
}

#[test]
fn photo_upload() {
    run("photo_upload");
}

#[test]
fn csv_import() {
    run("csv_import");
}

#[test]
fn tokens() {
    run("tokens");
}

#[test]
fn query_filters() {
    run("query_filters");
}

/// Writes the generated seeds into `fuzz/corpus/<target>/seed-<n>` (run by scripts/fuzz.sh
/// before fuzzing: libFuzzer starts from files).
#[test]
#[ignore = "writes files: run by scripts/fuzz.sh"]
fn write_seed_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for (name, _) in targets::ALL {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).expect("corpus dir");
        for (i, seed) in seeds::generated(name).iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{i}")), seed).expect("write seed");
        }
    }
}
