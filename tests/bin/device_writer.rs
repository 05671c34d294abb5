//! A device app that the `device_kill` test kills with SIGKILL at random moments: it opens the
//! device in `<data-dir>` (logged in beforehand) and records edits in a loop, printing one
//! line per edit only after the call returned, i.e. once the device acknowledged it as durable:
//!
//! ```text
//! acked visit <visit>
//! acked audit <visit> <sku> <location>
//! acked note <visit> <text>
//! acked order <order> <number>
//! acked line <order> <sku> <quantity>
//! synced                                  (with --sync-every: a sync went through)
//! ```
//!
//! Usage: `device_writer <data-dir> <tag> [--sync-every <n>]`. `tag` makes this run's keys
//! distinct from earlier runs'. It stops by itself after two minutes, in case nobody kills it.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use fieldsync_client::{AuditInput, Device, PaymentMethod};
use fieldsync_shared::Timestamp;

const LIFETIME: Duration = Duration::from_secs(120);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (dir, tag) = match args.as_slice() {
        [dir, tag, ..] => (PathBuf::from(dir), tag.clone()),
        _ => {
            eprintln!("usage: device_writer <data-dir> <tag> [--sync-every <n>]");
            std::process::exit(2);
        }
    };
    let sync_every: Option<u64> = args
        .iter()
        .position(|a| a == "--sync-every")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok());
    let device = Device::open(&dir).expect("open the device");
    let stores = device.stores().expect("stores");
    let products = device.products().expect("products");
    assert!(
        !stores.is_empty() && !products.is_empty(),
        "log in and sync master data first"
    );
    let store = &stores[0];
    // Called only after the edit call returned.
    let ack = |line: String| say(&format!("acked {line}"));

    let today = Timestamp::now().utc_date();
    let visit = device.start_visit(store.id, today).expect("start visit");
    ack(format!("visit {visit}"));
    let started = Instant::now();
    let mut i: u64 = 0;
    while started.elapsed() < LIFETIME {
        let product = &products[i as usize % products.len()];
        match i % 3 {
            0 => {
                let location = format!("{tag}-E{i}");
                device
                    .record_audit_line(
                        visit,
                        AuditInput {
                            sku: product.sku.to_string(),
                            location: location.clone(),
                            facings: (i % 7) as u32 + 1,
                            on_shelf: true,
                            shelf_price: None,
                            oldest_production_date: None,
                        },
                    )
                    .expect("audit line");
                ack(format!("audit {visit} {} {location}", product.sku));
            }
            1 => {
                let text = format!("[{tag}-E{i}]");
                device.append_note(visit, &text).expect("note");
                ack(format!("note {visit} {text}"));
            }
            _ => {
                let delivery = today.add_days(i64::from(store.delivery_lead_days) + 1);
                let (order, number) = device
                    .create_order(store.id, delivery, PaymentMethod::Cash, Some(visit))
                    .expect("create order");
                ack(format!("order {order} {number}"));
                let quantity = product.case_pack * (1 + (i % 3) as u32);
                device
                    .set_order_line(order, product.sku.as_str(), quantity, None)
                    .expect("order line");
                ack(format!("line {order} {} {quantity}", product.sku));
            }
        }
        i += 1;
        if sync_every.is_some_and(|n| i.is_multiple_of(n)) {
            // Offline or a server hiccup is fine: the next sync catches up.
            if device.sync().is_ok() {
                say("synced");
            }
        }
    }
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").expect("stdout");
    out.flush().expect("stdout");
}
