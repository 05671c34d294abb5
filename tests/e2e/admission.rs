//! Admission control of `POST /v1/sync` (`server::sync::admission`): a server with one turn and
//! no queue answers concurrent syncs past it with 503 `overloaded` and `Retry-After` at once,
//! counts them, and devices that are refused wait and sync again until every one holds every
//! document with the same heads.

use std::sync::atomic::{AtomicBool, Ordering};

use fieldsync_e2e::{http, TestDevice, TestServer};
use fieldsync_shared::protocol::{self, PullRequest, SyncRequest, PROTOCOL_VERSION};
use fieldsync_shared::{DocKind, Timestamp};

fn one_turn_server() -> TestServer {
    TestServer::start_with(|config| {
        config.sync_admission.max_in_flight = 1;
        config.sync_admission.max_queued = 0;
        config.sync_admission.retry_after_secs = 1;
    })
}

/// A refusal seen by a raw client: the `Retry-After` value and the JSON body.
struct Refusal {
    retry_after: String,
    body: serde_json::Value,
}

#[test]
fn syncs_past_the_turns_are_refused_at_once_with_retry_after() {
    let server = one_turn_server();
    let login = server.device_token("rep1");
    let request = protocol::encode(&SyncRequest {
        protocol: PROTOCOL_VERSION,
        device_id: login.device_id,
        push: Vec::new(),
        pull: Some(PullRequest {
            cursor: None,
            max_bytes: 4 << 20,
        }),
    });
    let seen = AtomicBool::new(false);
    let refusals: Vec<Refusal> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..8)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    for _ in 0..100 {
                        if seen.load(Ordering::Acquire) {
                            break;
                        }
                        let mut resp = http()
                            .post(&format!("{}/v1/sync", server.url))
                            .header("Authorization", &format!("Bearer {}", login.token))
                            .header("Content-Type", protocol::SYNC_CONTENT_TYPE)
                            .send(&request[..])
                            .expect("sync request");
                        match resp.status().as_u16() {
                            200 => {}
                            503 => {
                                let retry_after =
                                    resp.headers()["retry-after"].to_str().unwrap().to_string();
                                let body = resp.body_mut().read_json().expect("JSON error body");
                                mine.push(Refusal { retry_after, body });
                                seen.store(true, Ordering::Release);
                            }
                            other => panic!("unexpected status {other}"),
                        }
                    }
                    mine
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    assert!(
        !refusals.is_empty(),
        "eight clients at once against one turn were never refused"
    );
    for refusal in &refusals {
        assert_eq!(refusal.retry_after, "1");
        assert_eq!(refusal.body["reason"], "overloaded", "{}", refusal.body);
    }
    let counted = server.metric("sync_requests_refused_total{reason=\"queue_full\"}");
    assert!(
        counted >= refusals.len() as f64,
        "{counted} refusals counted, {} seen",
        refusals.len()
    );
    assert_eq!(server.metric("sync_requests_in_flight"), 0.0);
    assert_eq!(server.metric("sync_requests_queued"), 0.0);
}

#[test]
fn refused_devices_back_off_and_every_device_converges() {
    let server = one_turn_server();
    let devices: Vec<TestDevice> = (0..6).map(|_| TestDevice::login(&server, "rep1")).collect();
    let today = Timestamp::now().utc_date();
    for (i, dev) in devices.iter().enumerate() {
        let stores = dev.stores().expect("stores");
        let visit = dev
            .start_visit(stores[i % stores.len()].id, today)
            .expect("start visit");
        dev.append_note(visit, &format!("device {i}"))
            .expect("note");
    }

    // Everyone at once: the first round pushes (some are refused and wait), the next pull
    // what the others pushed; more rounds only if no two syncs happened to meet.
    let refused = || server.metric("sync_requests_refused_total{reason=\"queue_full\"}");
    let refused_before = refused();
    for round in 1..=6 {
        std::thread::scope(|scope| {
            for dev in &devices {
                scope.spawn(|| dev.sync().expect("sync completes after its waits"));
            }
        });
        if round >= 2 && refused() > refused_before {
            break;
        }
    }
    assert!(
        refused() > refused_before,
        "six devices at once against one turn, six times"
    );

    // A last pull each (a device may have pulled before the last push), then all agree.
    for dev in &devices {
        dev.sync().expect("final sync");
    }
    let visits = devices[0]
        .document_ids(Some(DocKind::Visit))
        .expect("visits");
    assert_eq!(visits.len(), devices.len(), "every device's visit arrived");
    for dev in &devices {
        assert_eq!(dev.pending().unwrap().documents, 0);
        for &visit in &visits {
            assert_eq!(
                dev.document_heads(visit).unwrap(),
                devices[0].document_heads(visit).unwrap(),
                "{visit}"
            );
        }
    }
}
