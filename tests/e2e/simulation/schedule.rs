//! Schedules: what the devices and the network do, step by step, drawn from a seed; printed
//! as a script a person can follow; made smaller by the shrinker (`shrink.rs`).

use std::fmt::Write;

/// The demo users a simulated device signs in as, with their role.
pub const USERS: [(&str, &str); 5] = [
    ("rep1", "rep"),
    ("rep2", "rep"),
    ("merch1", "merchandiser"),
    ("sup1", "supervisor"),
    ("mgr1", "manager"),
];

/// Supervisors and managers review; the others work in the field.
fn is_reviewer(user: usize) -> bool {
    matches!(USERS[user].1, "supervisor" | "manager")
}

/// Photos the devices attach, by index: the same index is the same picture (the same bytes, so
/// the same SHA-256) on every device. Index 0 is above the multipart threshold.
pub const PHOTOS: u8 = 4;
/// Stores, products and shelves a schedule picks from (few, so that devices meet).
const STORES: u8 = 4;
const SKUS: u8 = 3;
const SHELVES: u8 = 2;

/// A whole schedule: the devices (each a demo user on a phone of its own) and the steps.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub seed: u64,
    /// The user of each device (an index into [`USERS`]).
    pub devices: Vec<usize>,
    pub steps: Vec<Step>,
}

/// One thing that happens. Edits are made offline, on the device alone; only `Sync` and
/// `Replay` cross the network.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Step {
    Edit {
        device: usize,
        op: Op,
    },
    /// The device syncs; the network may fail one of the sync's requests.
    Sync {
        device: usize,
        fault: Option<NetFault>,
    },
    /// The network delivers one of the device's earlier sync requests again, late: the
    /// `back`-th before its last (a duplicate, out of order).
    Replay {
        device: usize,
        back: u8,
    },
    /// The app is reinstalled: the local store is lost; a fresh login pulls everything again.
    Reinstall {
        device: usize,
    },
    /// The server process dies and comes back on its data.
    RestartServer,
    /// The operator takes a backup of the server's data.
    Backup,
    /// The server is restored from the last backup (older than what devices hold).
    Restore,
}

/// A fault of the network on the `nth` request (from 1) of one sync, counting its rounds of
/// `POST /v1/sync` and its photo uploads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NetFault {
    pub kind: FaultKind,
    pub nth: u8,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FaultKind {
    /// The request never reaches the server.
    DropRequest,
    /// Half of the request reaches the server, then the connection is lost.
    CutRequest,
    /// The server processes the request; its answer is lost.
    DropResponse,
    /// The server processes the request; half of its answer arrives.
    CutResponse,
}

/// An operation of the device SDK. Documents are named by the step that created them: visit
/// `#n` is the n-th `StartVisit` of the schedule (whichever device made it), and so on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    StartVisit {
        store: u8,
    },
    CheckIn {
        visit: u8,
        off_site: bool,
    },
    RecordStep {
        visit: u8,
        step: u8,
        skipped: bool,
    },
    /// The whole visit, one edit each: check in, every standard step done, photo P3, check
    /// out, submit (stops at the first the device refuses).
    CompleteVisit {
        visit: u8,
    },
    Audit {
        visit: u8,
        sku: u8,
        shelf: u8,
        facings: u8,
    },
    Note {
        visit: u8,
    },
    Photo {
        visit: u8,
        photo: u8,
    },
    CheckOut {
        visit: u8,
    },
    SubmitVisit {
        visit: u8,
    },
    ApproveVisit {
        visit: u8,
    },
    RejectVisit {
        visit: u8,
    },
    ReopenVisit {
        visit: u8,
    },
    CreateOrder {
        store: u8,
        visit: Option<u8>,
    },
    /// `cases` of the product's case pack, plus one loose unit if `loose`.
    SetLine {
        order: u8,
        sku: u8,
        cases: u8,
        loose: bool,
    },
    RemoveLine {
        order: u8,
        sku: u8,
    },
    SubmitOrder {
        order: u8,
    },
    ApproveOrder {
        order: u8,
    },
    RejectOrder {
        order: u8,
    },
    GeneratePlan,
    AddPlanEntry {
        plan: u8,
        store: u8,
        day: u8,
    },
    MovePlanEntry {
        plan: u8,
        store: u8,
        day: u8,
    },
    RemovePlanEntry {
        plan: u8,
        store: u8,
    },
    SubmitPlan {
        plan: u8,
    },
    ApprovePlan {
        plan: u8,
    },
    ReturnPlan {
        plan: u8,
    },
}

/// xorshift64*: the same seed draws the same schedule on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// An index drawn by weight.
    fn weighted(&mut self, weights: &[u64]) -> usize {
        let mut r = self.below(weights.iter().sum());
        for (i, w) in weights.iter().enumerate() {
            if r < *w {
                return i;
            }
            r -= w;
        }
        unreachable!("r is below the sum of the weights")
    }
}

/// What the generator knows of the documents made so far (by creating steps).
#[derive(Default)]
struct Made {
    visits: u8,
    orders: u8,
    plans: u8,
    /// The user whose device made each visit, order and plan (generation only).
    visit_users: Vec<usize>,
    order_users: Vec<usize>,
    plan_users: Vec<usize>,
}

/// A document number out of `count`, one of `user`'s own most of the time when `own` is set.
fn pick(rng: &mut Rng, count: u8, users: &[usize], user: usize, own: bool) -> u8 {
    let mine: Vec<u8> = (0..count)
        .filter(|i| users.get(usize::from(*i)) == Some(&user))
        .collect();
    if own && !mine.is_empty() && rng.chance(70) {
        mine[rng.below(mine.len() as u64) as usize]
    } else {
        rng.below(u64::from(count)) as u8
    }
}

impl Schedule {
    /// The schedule of `seed`: 2-8 devices, 15-45 steps.
    pub fn generate(seed: u64) -> Schedule {
        let mut rng = Rng::new(seed);
        let count = 2 + rng.below(7) as usize;
        // The first device is a rep (someone makes visits and orders); then anyone, reps and
        // their supervisor most often; a user may have two phones.
        let mut devices = vec![0];
        for _ in 1..count {
            devices.push(rng.weighted(&[4, 1, 2, 2, 1]));
        }
        let len = 15 + rng.below(31) as usize;
        let mut made = Made::default();
        let mut steps = Vec::with_capacity(len);
        let mut backups = 0;
        let mut outages = 0;
        while steps.len() < len {
            let device = rng.below(count as u64) as usize;
            let step = match rng.weighted(&[62, 26, 4, 3, 2, 2, 2]) {
                0 => Step::Edit {
                    device,
                    op: draw_op(&mut rng, &mut made, devices[device]),
                },
                1 => Step::Sync {
                    device,
                    fault: rng.chance(40).then(|| NetFault {
                        kind: [
                            FaultKind::DropRequest,
                            FaultKind::CutRequest,
                            FaultKind::DropResponse,
                            FaultKind::CutResponse,
                        ][rng.below(4) as usize],
                        nth: 1 + rng.below(3) as u8,
                    }),
                },
                2 => Step::Replay {
                    device,
                    back: rng.below(3) as u8,
                },
                3 => Step::Reinstall { device },
                4 if outages < 2 => {
                    outages += 1;
                    Step::RestartServer
                }
                5 if backups < 2 => {
                    backups += 1;
                    Step::Backup
                }
                6 if backups > 0 && outages < 2 => {
                    outages += 1;
                    Step::Restore
                }
                _ => continue,
            };
            steps.push(step);
        }
        Schedule {
            seed,
            devices,
            steps,
        }
    }

    /// `device 2 (rep1)`.
    pub fn device_name(&self, device: usize) -> String {
        format!("device {device} ({})", USERS[self.devices[device]].0)
    }

    /// The schedule as a script, one line per step.
    pub fn script(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "seed {}; devices:", self.seed);
        for (i, user) in self.devices.iter().enumerate() {
            let (name, role) = USERS[*user];
            let _ = writeln!(out, "  device {i}: {name} ({role})");
        }
        let mut made = Made::default();
        for (i, step) in self.steps.iter().enumerate() {
            let _ = writeln!(out, "{i:3}. {}", self.describe(step, &mut made));
        }
        out
    }

    fn describe(&self, step: &Step, made: &mut Made) -> String {
        match *step {
            Step::Edit { device, op } => {
                format!(
                    "{} offline: {}",
                    self.device_name(device),
                    describe_op(op, made)
                )
            }
            Step::Sync {
                device,
                fault: None,
            } => format!("{} syncs", self.device_name(device)),
            Step::Sync {
                device,
                fault: Some(NetFault { kind, nth }),
            } => {
                let what = match kind {
                    FaultKind::DropRequest => "drops request",
                    FaultKind::CutRequest => "cuts request",
                    FaultKind::DropResponse => "drops the response to request",
                    FaultKind::CutResponse => "cuts the response to request",
                };
                format!(
                    "{} syncs; the network {what} {nth} of the sync (master data aside)",
                    self.device_name(device)
                )
            }
            Step::Replay { device, back } => format!(
                "network delivers {}'s sync request {} again, late",
                self.device_name(device),
                match back {
                    0 => "last sent".to_string(),
                    n => format!("{n} before the last"),
                }
            ),
            Step::Reinstall { device } => format!(
                "{} reinstalls the app (local store lost), logs in, pulls",
                self.device_name(device)
            ),
            Step::RestartServer => "server restarts".into(),
            Step::Backup => "operator takes a backup of the server".into(),
            Step::Restore => "server is restored from the last backup".into(),
        }
    }
}

/// Weights of the operations below (by their `kind` number) for people in the field (reps,
/// merchandisers) and for reviewers (supervisors, managers). Each role mostly does its own
/// work, and sometimes what its role may not (the write policies refuse it).
const FIELD_WEIGHTS: [u64; 25] = [
    8, 5, 5, 4, 10, 8, 6, 5, 5, 1, 1, 1, 6, 8, 2, 4, 1, 1, 2, 2, 2, 1, 2, 1, 1,
];
const REVIEW_WEIGHTS: [u64; 25] = [
    1, 1, 1, 1, 2, 4, 1, 1, 1, 8, 6, 3, 1, 2, 1, 1, 6, 4, 1, 1, 1, 1, 1, 4, 3,
];

fn draw_op(rng: &mut Rng, made: &mut Made, user: usize) -> Op {
    let reviewer = is_reviewer(user);
    let visit =
        |rng: &mut Rng, made: &Made| pick(rng, made.visits, &made.visit_users, user, !reviewer);
    let order =
        |rng: &mut Rng, made: &Made| pick(rng, made.orders, &made.order_users, user, !reviewer);
    let plan =
        |rng: &mut Rng, made: &Made| pick(rng, made.plans, &made.plan_users, user, !reviewer);
    loop {
        let kind = rng.weighted(if reviewer {
            &REVIEW_WEIGHTS
        } else {
            &FIELD_WEIGHTS
        });
        let needs_visit = (1..=11).contains(&kind);
        let needs_order = (13..=17).contains(&kind);
        let needs_plan = (19..=24).contains(&kind);
        if (needs_visit && made.visits == 0)
            || (needs_order && made.orders == 0)
            || (needs_plan && made.plans == 0)
        {
            continue;
        }
        return match kind {
            0 => {
                made.visits += 1;
                made.visit_users.push(user);
                Op::StartVisit {
                    store: rng.below(u64::from(STORES)) as u8,
                }
            }
            1 => Op::CheckIn {
                visit: visit(rng, made),
                off_site: rng.chance(15),
            },
            2 => Op::RecordStep {
                visit: visit(rng, made),
                step: rng.below(8) as u8,
                skipped: rng.chance(30),
            },
            3 => Op::CompleteVisit {
                visit: visit(rng, made),
            },
            4 => Op::Audit {
                visit: visit(rng, made),
                sku: rng.below(u64::from(SKUS)) as u8,
                shelf: rng.below(u64::from(SHELVES)) as u8,
                facings: 1 + rng.below(9) as u8,
            },
            5 => Op::Note {
                visit: visit(rng, made),
            },
            6 => Op::Photo {
                visit: visit(rng, made),
                photo: rng.below(u64::from(PHOTOS)) as u8,
            },
            7 => Op::CheckOut {
                visit: visit(rng, made),
            },
            8 => Op::SubmitVisit {
                visit: visit(rng, made),
            },
            9 => Op::ApproveVisit {
                visit: visit(rng, made),
            },
            10 => Op::RejectVisit {
                visit: visit(rng, made),
            },
            11 => Op::ReopenVisit {
                visit: visit(rng, made),
            },
            12 => {
                let linked = made.visits > 0 && rng.chance(30);
                made.orders += 1;
                made.order_users.push(user);
                Op::CreateOrder {
                    store: rng.below(u64::from(STORES)) as u8,
                    visit: linked.then(|| visit(rng, made)),
                }
            }
            13 => Op::SetLine {
                order: order(rng, made),
                sku: rng.below(u64::from(SKUS)) as u8,
                cases: rng.below(4) as u8,
                loose: rng.chance(15),
            },
            14 => Op::RemoveLine {
                order: order(rng, made),
                sku: rng.below(u64::from(SKUS)) as u8,
            },
            15 => Op::SubmitOrder {
                order: order(rng, made),
            },
            16 => Op::ApproveOrder {
                order: order(rng, made),
            },
            17 => Op::RejectOrder {
                order: order(rng, made),
            },
            18 => {
                made.plans += 1;
                made.plan_users.push(user);
                Op::GeneratePlan
            }
            19 => Op::AddPlanEntry {
                plan: plan(rng, made),
                store: rng.below(u64::from(STORES)) as u8,
                day: rng.below(5) as u8,
            },
            20 => Op::MovePlanEntry {
                plan: plan(rng, made),
                store: rng.below(u64::from(STORES)) as u8,
                day: rng.below(5) as u8,
            },
            21 => Op::RemovePlanEntry {
                plan: plan(rng, made),
                store: rng.below(u64::from(STORES)) as u8,
            },
            22 => Op::SubmitPlan {
                plan: plan(rng, made),
            },
            23 => Op::ApprovePlan {
                plan: plan(rng, made),
            },
            _ => Op::ReturnPlan {
                plan: plan(rng, made),
            },
        };
    }
}

fn describe_op(op: Op, made: &mut Made) -> String {
    match op {
        Op::StartVisit { store } => {
            made.visits += 1;
            format!("start visit #{} at store {store}", made.visits - 1)
        }
        Op::CheckIn { visit, off_site } => format!(
            "check in to visit #{visit}{}",
            if off_site { " 5 km away" } else { "" }
        ),
        Op::RecordStep {
            visit,
            step,
            skipped,
        } => format!(
            "{} step {} of visit #{visit}",
            if skipped { "skip" } else { "record" },
            step + 1
        ),
        Op::CompleteVisit { visit } => format!(
            "check in, do all 8 steps, attach photo P3, check out and submit visit #{visit}"
        ),
        Op::Audit {
            visit,
            sku,
            shelf,
            facings,
        } => {
            format!("add audit line SKU-{sku} on shelf {shelf} facings {facings} to visit #{visit}")
        }
        Op::Note { visit } => format!("add a note to visit #{visit}"),
        Op::Photo { visit, photo } => format!("attach photo P{photo} to visit #{visit}"),
        Op::CheckOut { visit } => format!("check out of visit #{visit}"),
        Op::SubmitVisit { visit } => format!("submit visit #{visit}"),
        Op::ApproveVisit { visit } => format!("approve visit #{visit}"),
        Op::RejectVisit { visit } => format!("reject visit #{visit}"),
        Op::ReopenVisit { visit } => format!("reopen visit #{visit}"),
        Op::CreateOrder { store, visit } => {
            made.orders += 1;
            format!(
                "create order #{} at store {store}{}",
                made.orders - 1,
                visit
                    .map(|v| format!(" from visit #{v}"))
                    .unwrap_or_default()
            )
        }
        Op::SetLine {
            order,
            sku,
            cases,
            loose,
        } => format!(
            "set line SKU-{sku} of order #{order} to {cases} case(s){}",
            if loose { " and 1 unit" } else { "" }
        ),
        Op::RemoveLine { order, sku } => format!("remove line SKU-{sku} of order #{order}"),
        Op::SubmitOrder { order } => format!("submit order #{order}"),
        Op::ApproveOrder { order } => format!("approve order #{order}"),
        Op::RejectOrder { order } => format!("reject order #{order}"),
        Op::GeneratePlan => {
            made.plans += 1;
            format!("generate this week's plan (plan #{})", made.plans - 1)
        }
        Op::AddPlanEntry { plan, store, day } => {
            format!("add store {store} on day {} to plan #{plan}", day + 1)
        }
        Op::MovePlanEntry { plan, store, day } => {
            format!("move store {store} to day {} in plan #{plan}", day + 1)
        }
        Op::RemovePlanEntry { plan, store } => format!("remove store {store} from plan #{plan}"),
        Op::SubmitPlan { plan } => format!("submit plan #{plan}"),
        Op::ApprovePlan { plan } => format!("approve plan #{plan}"),
        Op::ReturnPlan { plan } => format!("return plan #{plan}"),
    }
}
