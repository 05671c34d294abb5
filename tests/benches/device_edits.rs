//! How long one durable offline edit takes on the device (docs/performance.md, "Durable edits
//! on the device"): the call returns after the device database committed the change.
//!
//! Signed in as `rep1` against a real server on loopback (for the master data), then offline:
//! - **a day of visits**: 25 visits of check-in, the 8 steps, 30 audit lines, a note,
//!   a shelf photo, check-out and submit (44 edits each, 1,100 in all), every edit timed;
//! - **one long visit**: a visit that grows to 1,000 audit lines, to show whether an edit's
//!   cost grows with the document.
//!
//! Prints median, p90, p99 and max per kind of edit. Run:
//! `cargo bench -p fieldsync-e2e --bench device_edits`; `FIELDSYNC_BENCH_SMOKE=1` runs 2 visits
//! and a 100-line visit (seconds).

use std::time::{Duration, Instant};

use fieldsync_client::{AuditInput, GeoFix};
use fieldsync_e2e::{photo_file, TestDevice, TestServer};
use fieldsync_shared::visit::VisitStep;
use fieldsync_shared::{DocId, Timestamp};

const AUDIT_LINES_PER_VISIT: usize = 30;

struct Workload {
    visits: usize,
    long_visit_lines: usize,
}

fn time<T>(samples: &mut Vec<Duration>, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let out = f();
    samples.push(t.elapsed());
    out
}

fn audit_input(rep: &TestDevice, n: usize) -> AuditInput {
    let products = rep.products().expect("products");
    let product = &products[n % products.len()];
    AuditInput {
        sku: product.sku.to_string(),
        // One line per SKU and location: a new location every time the products run out.
        location: format!("ENDCAP-{}", n / products.len() + 1),
        facings: 2 + (n % 5) as u32,
        on_shelf: true,
        shelf_price: Some(product.list_price),
        oldest_production_date: Some(Timestamp::now().utc_date().add_days(-20)),
    }
}

/// Every edit's time, and apart those of the kinds that do more than write the document.
#[derive(Default)]
struct Samples {
    edits: Vec<Duration>,
    audits: Vec<Duration>,
    photos: Vec<Duration>,
    submits: Vec<Duration>,
}

fn record_visit(rep: &TestDevice, i: usize, visits: usize, samples: &mut Samples) {
    let edits = &mut samples.edits;
    let stores = rep.stores().expect("stores");
    let store = &stores[i % stores.len()];
    let today = Timestamp::now().utc_date();
    let at = GeoFix {
        lat: store.location.lat(),
        lon: store.location.lon(),
        accuracy_m: 6.0,
        mocked: false,
    };
    let visit = time(edits, || rep.start_visit(store.id, today).unwrap());
    // Visits of one day must not overlap: space them by ten minutes of device time.
    let start = Timestamp(Timestamp::now().millis() - (visits - i) as i64 * 600_000);
    time(edits, || rep.check_in(visit, at, start).unwrap());
    for step in VisitStep::ALL {
        time(edits, || rep.record_step(visit, *step, None).unwrap());
    }
    for n in 0..AUDIT_LINES_PER_VISIT {
        let line = audit_input(rep, n);
        let t = Instant::now();
        rep.record_audit_line(visit, line).unwrap();
        let took = t.elapsed();
        edits.push(took);
        samples.audits.push(took);
    }
    let photo = photo_file(rep.dir.path(), &format!("shelf-{i}.jpg"), i as u8);
    time(&mut samples.photos, || {
        rep.attach_photo(visit, &photo, Some(VisitStep::Merchandise))
            .unwrap()
    });
    edits.extend(samples.photos.last());
    time(edits, || {
        rep.append_note(visit, "货架已整理，端架按成功图像陈列。Endcap restocked.")
            .unwrap()
    });
    time(edits, || {
        rep.check_out(visit, at, Timestamp(start.millis() + 300_000))
            .unwrap()
    });
    time(&mut samples.submits, || rep.submit_visit(visit).unwrap());
    edits.extend(samples.submits.last());
}

fn long_visit(rep: &TestDevice, lines: usize) -> Vec<Duration> {
    let stores = rep.stores().expect("stores");
    let store = &stores[0];
    let visit: DocId = rep
        .start_visit(store.id, Timestamp::now().utc_date().add_days(1))
        .unwrap();
    let at = GeoFix {
        lat: store.location.lat(),
        lon: store.location.lon(),
        accuracy_m: 6.0,
        mocked: false,
    };
    rep.check_in(visit, at, Timestamp::now()).unwrap();
    let mut samples = Vec::with_capacity(lines);
    for n in 0..lines {
        let line = audit_input(rep, n);
        time(&mut samples, || rep.record_audit_line(visit, line).unwrap());
    }
    samples
}

fn summary(name: &str, samples: &[Duration]) {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let ms = |q: f64| {
        let i = ((sorted.len() as f64 * q) as usize).min(sorted.len() - 1);
        sorted[i].as_secs_f64() * 1000.0
    };
    println!(
        "{name:<38} {:>6} edits   median {:>6.2} ms   p90 {:>6.2} ms   p99 {:>6.2} ms   max {:>7.2} ms",
        sorted.len(),
        ms(0.5),
        ms(0.9),
        ms(0.99),
        ms(1.0)
    );
}

fn main() {
    // `cargo bench` passes `--bench`; nothing to parse.
    let work = if std::env::var_os("FIELDSYNC_BENCH_SMOKE").is_some() {
        Workload {
            visits: 2,
            long_visit_lines: 100,
        }
    } else {
        Workload {
            visits: 25,
            long_visit_lines: 1_000,
        }
    };
    let server = TestServer::start();
    let rep = TestDevice::login(&server, "rep1");

    let mut samples = Samples::default();
    let t = Instant::now();
    for i in 0..work.visits {
        record_visit(&rep, i, work.visits, &mut samples);
    }
    let day = t.elapsed();
    let long = long_visit(&rep, work.long_visit_lines);

    println!(
        "durable offline edits ({} visits of {} edits; one visit of {} audit lines)",
        work.visits,
        samples.edits.len() / work.visits,
        work.long_visit_lines
    );
    summary("every edit of the visits", &samples.edits);
    summary("audit lines of the visits", &samples.audits);
    summary("photos attached (file copied, hashed)", &samples.photos);
    summary("submits (the visit's rules run)", &samples.submits);
    let tenth = (long.len() / 10).max(1);
    summary("long visit: first tenth of its lines", &long[..tenth]);
    summary(
        "long visit: last tenth of its lines",
        &long[long.len() - tenth..],
    );
    println!(
        "recording the {} visits took {:.2} s",
        work.visits,
        day.as_secs_f64()
    );
}
