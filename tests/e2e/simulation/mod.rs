//! Simulated schedules of many devices (docs/reliability.md, "Simulated schedules").
//!
//! A seed draws a schedule (`schedule.rs`): 2-8 phones of reps, a merchandiser, the
//! supervisor and the region manager of the demo tenant, editing the same visits, orders and
//! plans offline with every operation of the device SDK, including ones the write policies
//! refuse; syncing in random order through a network (one `FaultProxy` per phone) that drops
//! or cuts requests and answers, and delivers earlier requests again, late; apps reinstalled,
//! the server restarted and restored from an older backup. `world.rs` runs it against the real
//! server on loopback (`server.rs`), heals the network (every phone syncs until a whole round
//! is quiet) and `oracle.rs` judges the result. A failing schedule is shrunk (`shrink.rs`) and
//! printed as a script, one line per step.
//!
//! * `FIELDSYNC_SIM_SCHEDULES=<n>`: schedules in all (default 4 x 40 on SQLite, split over
//!   four tests that run side by side; 5 on PostgreSQL); `FIELDSYNC_SIM_SEED=<n>`: the
//!   first seed (default 0 on SQLite, 1000000 on PostgreSQL; seeds follow on). A failure
//!   prints the command that replays its seed alone.
//! * `FIELDSYNC_SIM_SHRINK_SECS=<n>`: time the shrinker may take (default 120).
//! * `FIELDSYNC_SIM_VERBOSE=1`: prints every schedule and what each step did.

mod oracle;
mod schedule;
mod server;
mod shrink;
mod world;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use fieldsync_e2e::process::PgDatabase;

use oracle::Divergence;
use schedule::Schedule;
use world::{Stats, World};

/// Schedules of each SQLite test unless `FIELDSYNC_SIM_SCHEDULES` says otherwise.
const SQLITE_SCHEDULES: u64 = 40;
const POSTGRES_SCHEDULES: u64 = 5;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Engine {
    Sqlite,
    Postgres,
}

/// Runs one schedule from scratch (a fresh server and fresh devices). `Err`: the failure in
/// words, with what each step did.
fn run(schedule: &Schedule, engine: Engine, divergence: Divergence) -> Result<Stats, String> {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let pg = (engine == Engine::Postgres).then(PgDatabase::create);
        let mut world = World::new(schedule, pg.as_ref().map(|db| db.url().to_string()));
        let result = (|| {
            for (i, step) in schedule.steps.iter().enumerate() {
                world.apply(i, step).map_err(|e| format!("step {i}: {e}"))?;
            }
            world.heal()?;
            oracle::check(&world, divergence)
        })();
        if std::env::var_os("FIELDSYNC_SIM_VERBOSE").is_some() {
            eprintln!(
                "{}what the steps did:\n{}",
                schedule.script(),
                world.log.join("\n")
            );
        }
        match result {
            Ok(kept_refused) => Ok(Stats {
                schedules: 1,
                edits: world.ledger.len() as u64,
                kept_refused,
                ..world.stats
            }),
            Err(e) => Err(format!(
                "{e}\nwhat the steps did:\n{}",
                world.log.join("\n")
            )),
        }
    }));
    match outcome {
        Ok(result) => result,
        Err(panic) => Err(format!(
            "panicked: {}",
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        )),
    }
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// Runs `count` schedules from `first_seed` on; on the first failure, shrinks it and panics
/// with the smallest failing script.
fn run_schedules(engine: Engine, first_seed: u64, count: u64) {
    let started = Instant::now();
    let mut total = Stats::default();
    for seed in first_seed..first_seed + count {
        let schedule = Schedule::generate(seed);
        match run(&schedule, engine, Divergence::ToldAndKept) {
            Ok(stats) => total += stats,
            Err(failure) => fail_shrunk(&schedule, engine, &failure),
        }
        if total.schedules % 25 == 0 {
            eprintln!(
                "{} schedules from seed {first_seed} passed on {engine:?} in {:.0} s",
                total.schedules,
                started.elapsed().as_secs_f64()
            );
        }
    }
    eprintln!(
        "{count} schedules from seed {first_seed} on {engine:?} in {:.1} s: {total:?}",
        started.elapsed().as_secs_f64()
    );
}

/// Shrinks the failing `schedule` and panics with the smallest failing script.
fn fail_shrunk(schedule: &Schedule, engine: Engine, failure: &str) -> ! {
    let budget = Duration::from_secs(env_u64("FIELDSYNC_SIM_SHRINK_SECS").unwrap_or(120));
    let (small, why, runs) = shrink::shrink(schedule.clone(), failure.to_string(), budget, |s| {
        run(s, engine, Divergence::ToldAndKept).err()
    });
    let seed = schedule.seed;
    let test = match engine {
        Engine::Sqlite => "simulated_schedules_converge_on_sqlite_part_1",
        Engine::Postgres => "simulated_schedules_converge_on_postgres",
    };
    panic!(
        "schedule of seed {seed} fails on {engine:?}; replay it with\n  \
         FIELDSYNC_SIM_SEED={seed} FIELDSYNC_SIM_SCHEDULES=1 cargo nextest run -p fieldsync-e2e \
         -E 'test({test})'\n{failure}\n\nfull schedule:\n{}\n\
         shrunk in {runs} runs to:\n{}\nwhich fails with:\n{why}",
        schedule.script(),
        small.script()
    );
}

/// The SQLite schedules in `parts` tests (they run in parallel), this being part `part`.
fn sqlite_part(part: u64, parts: u64) {
    let per_part = env_u64("FIELDSYNC_SIM_SCHEDULES")
        .map(|n| n.div_ceil(parts))
        .unwrap_or(SQLITE_SCHEDULES);
    let base = env_u64("FIELDSYNC_SIM_SEED").unwrap_or(0);
    run_schedules(Engine::Sqlite, base + part * per_part, per_part);
}

#[test]
fn simulated_schedules_converge_on_sqlite_part_1() {
    sqlite_part(0, 4);
}

#[test]
fn simulated_schedules_converge_on_sqlite_part_2() {
    sqlite_part(1, 4);
}

#[test]
fn simulated_schedules_converge_on_sqlite_part_3() {
    sqlite_part(2, 4);
}

#[test]
fn simulated_schedules_converge_on_sqlite_part_4() {
    sqlite_part(3, 4);
}

/// A handful on PostgreSQL (restores from a backup are SQLite's: they are skipped here).
#[test]
fn simulated_schedules_converge_on_postgres() {
    let count = env_u64("FIELDSYNC_SIM_SCHEDULES").unwrap_or(POSTGRES_SCHEDULES);
    let base = env_u64("FIELDSYNC_SIM_SEED").unwrap_or(1_000_000);
    run_schedules(Engine::Postgres, base, count);
}

/// Runs a schedule written by hand; fails with its script.
fn run_script(schedule: Schedule) {
    if let Err(failure) = run(&schedule, Engine::Sqlite, Divergence::Never) {
        panic!("{}\nfails with:\n{failure}", schedule.script());
    }
}

/// The rep adds a note offline while the supervisor approves the visit; the server refuses the
/// note (the visit is decided) and the network loses its answer, so the rep's phone learns of
/// the refusal only from the next sync.
#[test]
fn a_refused_edit_whose_answer_was_lost_is_reported_on_the_next_sync() {
    use schedule::{FaultKind, NetFault, Op, Step};
    for kind in [FaultKind::DropResponse, FaultKind::CutResponse] {
        run_script(Schedule {
            seed: 0,
            devices: vec![0, 3],
            steps: vec![
                Step::Edit {
                    device: 0,
                    op: Op::StartVisit { store: 0 },
                },
                Step::Edit {
                    device: 0,
                    op: Op::CompleteVisit { visit: 0 },
                },
                Step::Sync {
                    device: 0,
                    fault: None,
                },
                Step::Sync {
                    device: 1,
                    fault: None,
                },
                Step::Edit {
                    device: 1,
                    op: Op::ApproveVisit { visit: 0 },
                },
                Step::Sync {
                    device: 1,
                    fault: None,
                },
                Step::Edit {
                    device: 0,
                    op: Op::Note { visit: 0 },
                },
                Step::Sync {
                    device: 0,
                    fault: Some(NetFault { kind, nth: 1 }),
                },
            ],
        });
    }
}

/// Found by the simulation (seed 84, shrunk): two phones of one rep generate the same week's
/// plan offline. The plan's id is the rep's and the week's, so both create the same document;
/// each used to create it from scratch, and the server refused the second phone's history as
/// `forbidden` on every sync while that phone kept it for good. Every creator now starts from
/// the plan's common skeleton (`document::new_plan_document`), so the two merge.
#[test]
fn two_phones_of_one_rep_generate_the_same_weeks_plan_offline() {
    use schedule::{FaultKind, NetFault, Op, Step};
    run_script(Schedule {
        seed: 84,
        devices: vec![0, 0],
        steps: vec![
            Step::Edit {
                device: 1,
                op: Op::GeneratePlan,
            },
            Step::Sync {
                device: 0,
                fault: Some(NetFault {
                    kind: FaultKind::CutRequest,
                    nth: 1,
                }),
            },
            Step::Edit {
                device: 0,
                op: Op::GeneratePlan,
            },
            Step::Edit {
                device: 1,
                op: Op::SubmitPlan { plan: 1 },
            },
        ],
    });
}

/// Found by the simulation (seed 107590, shrunk): the rep's note reaches the server after the
/// last backup; the app is reinstalled and pulls it; the server is restored from the backup.
/// After the cursor reset the new installation pushes the document's whole history again, and
/// the note is a change of the old installation's actor. It used to be refused
/// (`foreign_actor`) and lived on the phone alone; the receipt the server sent with the pulled
/// visit now vouches for it, and the server takes it back (docs/protocol.md, "Receipts").
#[test]
fn a_restore_takes_back_a_reinstalled_phones_older_changes() {
    use schedule::{Op, Step};
    run_script(Schedule {
        seed: 107590,
        devices: vec![0],
        steps: vec![
            Step::Edit {
                device: 0,
                op: Op::StartVisit { store: 0 },
            },
            Step::Sync {
                device: 0,
                fault: None,
            },
            Step::Edit {
                device: 0,
                op: Op::Note { visit: 0 },
            },
            Step::Backup,
            Step::Sync {
                device: 0,
                fault: None,
            },
            Step::Reinstall { device: 0 },
            Step::Restore,
        ],
    });
}
