//! The shrinker: from a failing schedule, a smaller one that still fails. It tries, in turn,
//! fewer devices, fewer steps (halves, quarters, ... single steps) and syncs without their
//! network fault, keeps every candidate that still fails, and stops when nothing smaller
//! fails or the time is up.

use std::time::{Duration, Instant};

use super::schedule::{Schedule, Step};

/// Shrinks `failing` (which `fails`) for at most `budget`. Returns the smallest failing
/// schedule found, its failure, and how many candidates were run.
pub fn shrink<F>(
    failing: Schedule,
    failure: String,
    budget: Duration,
    fails: impl Fn(&Schedule) -> Option<F>,
) -> (Schedule, String, usize)
where
    F: Into<String>,
{
    let deadline = Instant::now() + budget;
    let (mut best, mut why, mut runs) = (failing, failure, 0);
    'improve: loop {
        for candidate in candidates(&best) {
            if Instant::now() > deadline {
                break 'improve;
            }
            runs += 1;
            if let Some(f) = fails(&candidate) {
                best = candidate;
                why = f.into();
                continue 'improve;
            }
        }
        break;
    }
    (best, why, runs)
}

/// Smaller schedules than `s`, the biggest cuts first.
fn candidates(s: &Schedule) -> Vec<Schedule> {
    let mut out = Vec::new();
    if s.devices.len() > 1 {
        for d in (0..s.devices.len()).rev() {
            out.push(without_device(s, d));
        }
    }
    let n = s.steps.len();
    let mut chunk = n / 2;
    while chunk >= 1 {
        let mut start = 0;
        while start < n {
            let mut c = s.clone();
            c.steps.drain(start..(start + chunk).min(n));
            out.push(c);
            start += chunk;
        }
        chunk /= 2;
    }
    for (i, step) in s.steps.iter().enumerate() {
        if let Step::Sync {
            device,
            fault: Some(_),
        } = *step
        {
            let mut c = s.clone();
            c.steps[i] = Step::Sync {
                device,
                fault: None,
            };
            out.push(c);
        }
    }
    out
}

/// `s` without device `d` and its steps; later devices move down one.
fn without_device(s: &Schedule, d: usize) -> Schedule {
    let mut c = s.clone();
    c.devices.remove(d);
    c.steps = s
        .steps
        .iter()
        .filter(|step| device_of(step) != Some(d))
        .map(|step| renumber(*step, d))
        .collect();
    c
}

fn device_of(step: &Step) -> Option<usize> {
    match *step {
        Step::Edit { device, .. }
        | Step::Sync { device, .. }
        | Step::Replay { device, .. }
        | Step::Reinstall { device } => Some(device),
        Step::RestartServer | Step::Backup | Step::Restore => None,
    }
}

fn renumber(step: Step, removed: usize) -> Step {
    let down = |device: usize| if device > removed { device - 1 } else { device };
    match step {
        Step::Edit { device, op } => Step::Edit {
            device: down(device),
            op,
        },
        Step::Sync { device, fault } => Step::Sync {
            device: down(device),
            fault,
        },
        Step::Replay { device, back } => Step::Replay {
            device: down(device),
            back,
        },
        Step::Reinstall { device } => Step::Reinstall {
            device: down(device),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shrinking_finds_the_two_steps_that_fail_together() {
        let schedule = Schedule::generate(42);
        let (a, b) = (3, schedule.steps.len() - 2);
        let (sa, sb) = (schedule.steps[a], schedule.steps[b]);
        // "Fails" while both steps are there, in order.
        let fails = |s: &Schedule| {
            let i = s.steps.iter().position(|x| *x == sa)?;
            s.steps[i + 1..].contains(&sb).then_some("both")
        };
        let (small, _, runs) = shrink(schedule, "both".into(), Duration::from_secs(60), fails);
        assert!(runs > 0);
        assert_eq!(small.steps.len(), 2, "{}", small.script());
    }
}
