//! How long a rep's whole day takes to sync, through a real server on loopback.
//!
//! A day: 25 visits (check-in, 8 steps, 6 audit lines, 2 photos, notes, check-out, submit) and
//! 10 orders (5 lines each, submitted). Measured, over several fresh devices:
//! recording the day on the device (offline), the first sync pushing it all, a second device
//! pulling it all, and a no-op sync. Run: `cargo bench -p fieldsync-e2e --bench day_sync`.

use std::time::{Duration, Instant};

use fieldsync_client::{AuditInput, GeoFix};
use fieldsync_e2e::{photo_file, TestDevice, TestServer};
use fieldsync_shared::order::PaymentMethod;
use fieldsync_shared::visit::VisitStep;
use fieldsync_shared::{Money, Timestamp};

const RUNS: usize = 5;
const VISITS: usize = 25;
const ORDERS: usize = 10;

fn record_day(rep: &TestDevice, seed: u8) {
    let stores = rep.stores().expect("stores");
    let products = rep.products().expect("products");
    let today = Timestamp::now().utc_date();
    for (i, store) in stores.iter().cycle().take(VISITS).enumerate() {
        let visit = rep.start_visit(store.id, today).unwrap();
        let at = GeoFix {
            lat: store.location.lat(),
            lon: store.location.lon(),
            accuracy_m: 6.0,
            mocked: false,
        };
        // Visits of one day must not overlap: space them by ten minutes of device time.
        let start = Timestamp(Timestamp::now().millis() - (VISITS - i) as i64 * 600_000);
        rep.check_in(visit, at, start).unwrap();
        for step in VisitStep::ALL {
            rep.record_step(visit, *step, None).unwrap();
        }
        for (j, product) in products.iter().take(6).enumerate() {
            rep.record_audit_line(
                visit,
                AuditInput {
                    sku: product.sku.to_string(),
                    location: if j % 2 == 0 { "MAIN-SHELF" } else { "ENDCAP-1" }.to_string(),
                    facings: 2 + j as u32,
                    on_shelf: j != 5,
                    shelf_price: Some(product.list_price),
                    oldest_production_date: Some(today.add_days(-20)),
                },
            )
            .unwrap();
        }
        for k in 0..2u8 {
            let file = photo_file(
                rep.dir.path(),
                &format!("p{i}-{k}.jpg"),
                seed.wrapping_add(i as u8 * 2 + k + 1),
            );
            rep.attach_photo(visit, &file, Some(VisitStep::Merchandise))
                .unwrap();
        }
        rep.append_note(visit, "货架已整理，端架按成功图像陈列。Endcap restocked.")
            .unwrap();
        rep.check_out(visit, at, Timestamp(start.millis() + 300_000))
            .unwrap();
        rep.submit_visit(visit).unwrap();
    }
    for store in stores
        .iter()
        .filter(|s| s.code.as_str().starts_with("NKA-00"))
        .cycle()
        .take(ORDERS)
    {
        let (order, _) = rep
            .create_order(store.id, today.add_days(7), PaymentMethod::Cash, None)
            .unwrap();
        for product in products.iter().skip(10).take(5) {
            rep.set_order_line(
                order,
                product.sku.as_str(),
                product.case_pack * 2,
                Some(Money(product.list_price.minor())),
            )
            .unwrap();
        }
        rep.submit_order(order).unwrap();
    }
}

fn summary(name: &str, samples: &mut [Duration]) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{name:<34} median {:>8.1} ms   min {:>8.1} ms   max {:>8.1} ms",
        ms(samples[samples.len() / 2]),
        ms(samples[0]),
        ms(samples[samples.len() - 1])
    );
}

fn main() {
    // `cargo bench` passes `--bench`; nothing to parse.
    let server = TestServer::start();
    let (mut record, mut push, mut pull, mut noop) = (vec![], vec![], vec![], vec![]);
    let mut rounds = vec![];
    for run in 0..RUNS {
        let rep = TestDevice::login(&server, "rep1");
        let t = Instant::now();
        record_day(&rep, run as u8 * 97);
        record.push(t.elapsed());

        let t = Instant::now();
        let report = rep.sync().expect("push sync");
        push.push(t.elapsed());
        rounds.push(report.rounds);
        assert_eq!(report.docs_pushed as usize, VISITS + ORDERS);

        let t = Instant::now();
        let sup = TestDevice::login(&server, "sup1");
        pull.push(t.elapsed());
        assert!(sup.visits().unwrap().len() >= VISITS * (run + 1));

        let t = Instant::now();
        rep.sync().expect("no-op sync");
        noop.push(t.elapsed());
    }
    println!(
        "a rep's day: {VISITS} visits, {ORDERS} orders, {} photos; {RUNS} runs",
        VISITS * 2
    );
    summary("record the day on the device", &mut record);
    summary("first sync (push day + photos)", &mut push);
    summary("new device: login + pull all", &mut pull);
    summary("sync with nothing new", &mut noop);
    println!("sync requests for the day's push (rounds): {rounds:?}");
}
