//! Valid inputs of each target, built against the harness's server (the fuzzing device's
//! actor, rep1's store): the starting points that let mutations reach past the first check.
//! `scripts/fuzz.sh` writes them into `fuzz/corpus/<target>/` before fuzzing; the stable
//! runner uses them directly.

use fieldsync_shared::document::{changes_since, new_document, reconcile_visit};
use fieldsync_shared::protocol::{
    encode, gzip, DocPush, PullRequest, SyncRequest, PROTOCOL_VERSION,
};
use fieldsync_shared::visit::Visit;
use fieldsync_shared::{DeviceId, DocKind, StoreId, Timestamp, UserId};
use serde_bytes::ByteBuf;

use crate::harness::{harness, DEVICE_ACTOR, DEVICE_ID};
use crate::targets::{push_doc_id, push_input, IMPORT_KINDS};

/// The seeds of `target` (empty for an unknown name).
pub fn generated(target: &str) -> Vec<Vec<u8>> {
    match target {
        "sync_request" => sync_request(),
        "sync_push" => sync_push(),
        "photo_upload" => photo_upload(),
        "csv_import" => csv_import(),
        "tokens" => tokens(),
        "query_filters" => query_filters(),
        _ => Vec::new(),
    }
}

/// A new visit of rep1 at its store, as the device's first changes. (Orders are reached by
/// mutation: the kind byte is one bit.)
fn first_changes() -> [(DocKind, Vec<Vec<u8>>); 1] {
    let h = harness();
    let actor = automerge::ActorId::from(hex_bytes(DEVICE_ACTOR));
    let store = StoreId::parse(&h.rep_store).expect("store id");
    let user = UserId::parse(&h.rep_user).expect("user id");
    let today = Timestamp::now().utc_date();
    let visit = Visit::new(push_doc_id(DocKind::Visit, 0), store, user, today);
    let mut doc = new_document(actor);
    reconcile_visit(&mut doc, &visit).expect("reconcile");
    doc.commit();
    [(DocKind::Visit, changes_since(&mut doc, &[]))]
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

fn sync_request() -> Vec<Vec<u8>> {
    let device = DeviceId::parse(DEVICE_ID).expect("device id");
    let push: Vec<DocPush> = first_changes()
        .into_iter()
        .map(|(kind, changes)| DocPush {
            doc_id: push_doc_id(kind, 1),
            kind: kind.as_str().to_string(),
            changes: changes.into_iter().map(ByteBuf::from).collect(),
            receipt: None,
        })
        .collect();
    let full = encode(&SyncRequest {
        protocol: PROTOCOL_VERSION,
        device_id: device,
        push,
        pull: Some(PullRequest {
            cursor: None,
            max_bytes: 65_536,
        }),
    });
    let empty = encode(&SyncRequest {
        protocol: PROTOCOL_VERSION,
        device_id: device,
        push: Vec::new(),
        pull: None,
    });
    vec![gzip(&full), full, empty]
}

fn sync_push() -> Vec<Vec<u8>> {
    let mut inputs = Vec::new();
    for (kind, changes) in first_changes() {
        inputs.push(push_input(kind, 0, &changes));
    }
    inputs
}

fn photo_upload() -> Vec<Vec<u8>> {
    let declaration = format!(
        r#"{{"sha256":"{}","size_bytes":2048,"content_type":"image/png"}}"#,
        "ef".repeat(32)
    );
    let parts = r#"{"parts":[{"number":1,"etag":"x"},{"number":2,"etag":"y"}]}"#;
    vec![
        [&[0u8][..], declaration.as_bytes()].concat(),
        [&[1u8][..], b"{}"].concat(),
        [&[2u8][..], parts.as_bytes()].concat(),
        [&[3u8, 1][..], &[0xff, 0xd8, 0xff, 0xe0][..]].concat(),
        [&[4u8][..], &[0xff, 0xd8, 0xff, 0xd9][..]].concat(),
        [&[5u8][..], &[0xff, 0xd8, 0xff, 0xdb, 0, 0x43][..]].concat(),
    ]
}

fn csv_import() -> Vec<Vec<u8>> {
    let files: [&str; 10] = [
        "code,name,channel,grade,address,lat,lon,geofence_radius_m,delivery_lead_days\n\
         FZ-001,\"Fuzz, Store\",nka,A,\"1 Road, Town\",30.55,114.34,150,2\n",
        "sku,name,case_pack,sold_by_case,shelf_life_days,list_price,floor_price\n\
         FZ-SKU,Fuzz Tea,6,yes,90,12.50,10.00\n",
        "store_code,credit_limit,receivables,overdue,as_of\nFZ-001,1000.00,10.50,0,2026-11-20\n",
        "territory,store_code,username\nFuzz land,FZ-001,\n",
        "username,display_name,role,code,team,password\nfz1,\"Fuzz, One\",rep,FZ01,,\n",
        "store_code,channel,sku,safety_stock\nFZ-001,,FZ-SKU,6\n,nka,FZ-SKU,\n",
        "code,title,from,to,store_code,chain,channel,skus,mechanic,promotion_price,fee\n\
         FZ-CUT,Fuzz cut,2026-12-01,2026-12-31,FZ-001,,,FZ-SKU,price_cut,9.90,100\n\
         FZ-END,\"Fuzz, endcap\",2026-12-01,2026-12-31,,,nka,FZ-SKU;FZ-SKU,endcap,,\n",
        "period,rep,category,amount,volume\n2026,,,1200000.00,5000\n2026-03,fz1,tea,1000.00,\n",
        "code,title,store_code,chain,channel,point,label,kind,weight,sku,reference_photos\n\
         FZ-POS,\"Fuzz, shelf\",FZ-001,,,BLOCK,Block,shelf_blocking,3,,\n\
         FZ-POS,\"Fuzz, shelf\",FZ-001,,,EYE,Eye level,eye_level,1,FZ-SKU,\n",
        "code,title,year,store_code,chain,channel,listed_skus,listing_fee,display_weeks,\
         display_fee,shelf_position_weeks,shelf_position_fee,promotions,promotion_fee\n\
         FZ-2026,\"Fuzz, deal\",2026,FZ-001,,,FZ-SKU,600.00,12,480.00,,,4,200.00\n",
    ];
    IMPORT_KINDS
        .iter()
        .zip(files)
        .enumerate()
        .map(|(i, (_, file))| [&[i as u8][..], file.as_bytes()].concat())
        .collect()
}

fn tokens() -> Vec<Vec<u8>> {
    let h = harness();
    vec![
        h.rep_token.clone().into_bytes(),
        h.admin_token.clone().into_bytes(),
        b"eyJhbGciOiJub25lIn0.e30.".to_vec(),
        h.rep_refresh
            .replace(|c: char| c.is_ascii_digit(), "0")
            .into_bytes(),
    ]
}

fn query_filters() -> Vec<Vec<u8>> {
    [
        (
            0u8,
            "status=submitted&flagged=true&flag=credit_combined&limit=20",
        ),
        (
            0,
            "from=2026-01-01&to=2026-12-31&store=00000000-0000-4000-8000-000000000001",
        ),
        (1, "status=pending_approval&after=10&limit=1000"),
        (2, "since=0"),
        (3, "user=00000000-0000-4000-8000-000000000001&limit=5"),
    ]
    .iter()
    .map(|(which, q)| [&[*which][..], q.as_bytes()].concat())
    .collect()
}
