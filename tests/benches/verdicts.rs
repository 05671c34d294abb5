//! What the server's verdicts add to a rep's day of sync, through a real server on loopback.
//!
//! A day: 25 visits (check-in, 8 steps, 2 photos, check-out, submit) and 10 orders (5 lines,
//! submitted) on a fresh device. Measured over several days: the first sync pushing the day
//! (which judges every submission: the shared rules and the cross-device checks), and then the
//! same judging again on its own (`verdicts::judge_submission` on each of the day's documents:
//! its reads and its evaluation), in wall time and in the process's CPU time (user + system,
//! every thread: device and server). Run: `cargo bench -p fieldsync-e2e --bench verdicts`.

use std::time::{Duration, Instant};

use fieldsync_client::GeoFix;
use fieldsync_e2e::{photo_file, TestDevice, TestServer};
use fieldsync_server::demo::demo_tenant_id;
use fieldsync_server::verdicts::{judge_submission, Limits};
use fieldsync_shared::document::AnyDocument;
use fieldsync_shared::order::PaymentMethod;
use fieldsync_shared::visit::VisitStep;
use fieldsync_shared::{DocId, Money, Timestamp};

const RUNS: usize = 5;
const VISITS: usize = 25;
const ORDERS: usize = 10;

/// The process's CPU time so far (user + system, all threads), from /proc/self/stat.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // The fields after the command name, which is in parentheses.
    let fields: Vec<&str> = stat[stat.rfind(')').expect("comm") + 2..]
        .split(' ')
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // USER_HZ is 100 on Linux.
    Duration::from_millis(ticks * 10)
}

/// Records a day; the ids of its visits and orders.
fn record_day(rep: &TestDevice, seed: u8) -> Vec<DocId> {
    let stores = rep.stores().expect("stores");
    let products = rep.products().expect("products");
    let today = Timestamp::now().utc_date();
    let mut ids = Vec::new();
    for (i, store) in stores.iter().cycle().take(VISITS).enumerate() {
        let visit = rep.start_visit(store.id, today).unwrap();
        let at = GeoFix {
            lat: store.location.lat(),
            lon: store.location.lon(),
            accuracy_m: 6.0,
            mocked: false,
        };
        let start = Timestamp(Timestamp::now().millis() - (VISITS - i) as i64 * 600_000);
        rep.check_in(visit, at, start).unwrap();
        for step in VisitStep::ALL {
            rep.record_step(visit, *step, None).unwrap();
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
        rep.check_out(visit, at, Timestamp(start.millis() + 300_000))
            .unwrap();
        rep.submit_visit(visit).unwrap();
        ids.push(visit);
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
        ids.push(order);
    }
    ids
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    // `cargo bench` passes `--bench`; nothing to parse.
    let server = TestServer::start();
    let store = server.state().store.clone();
    let limits = Limits::default();
    let (mut push_wall, mut push_cpu, mut judge_wall, mut judge_cpu) =
        (vec![], vec![], vec![], vec![]);
    for run in 0..RUNS {
        let rep = TestDevice::login(&server, "rep1");
        let ids = record_day(&rep, (run as u8).wrapping_mul(97));

        let (t, c) = (Instant::now(), cpu_time());
        let report = rep.sync().expect("push sync");
        push_wall.push(t.elapsed());
        push_cpu.push(cpu_time() - c);
        assert_eq!(report.docs_pushed as usize, VISITS + ORDERS);

        let docs: Vec<AnyDocument> = ids
            .iter()
            .map(|id| match rep.visit(*id) {
                Ok(v) => AnyDocument::Visit(v),
                Err(_) => AnyDocument::Order(rep.order(*id).expect("order")),
            })
            .collect();
        let (t, c) = (Instant::now(), cpu_time());
        for doc in &docs {
            server
                .block_on(judge_submission(
                    store.as_ref(),
                    demo_tenant_id(),
                    None,
                    doc,
                    &limits,
                    &Default::default(),
                ))
                .expect("judge");
        }
        judge_wall.push(t.elapsed());
        judge_cpu.push(cpu_time() - c);
    }
    let (pw, pc, jw, jc) = (
        median(&mut push_wall),
        median(&mut push_cpu),
        median(&mut judge_wall),
        median(&mut judge_cpu),
    );
    println!(
        "a rep's day: {VISITS} visits, {ORDERS} orders, {} photos; {RUNS} runs, medians",
        VISITS * 2
    );
    println!(
        "first sync (push the day, judged)   wall {:>8.1} ms   cpu {:>8.1} ms",
        ms(pw),
        ms(pc)
    );
    println!(
        "judging the day's {} submissions     wall {:>8.1} ms   cpu {:>8.1} ms",
        VISITS + ORDERS,
        ms(jw),
        ms(jc)
    );
    println!(
        "verdicts' share of the push          wall {:>7.1} %    cpu {:>7.1} %",
        100.0 * jw.as_secs_f64() / pw.as_secs_f64(),
        100.0 * jc.as_secs_f64() / pc.as_secs_f64().max(f64::EPSILON)
    );
}
