//! The in-process ceiling: Automerge alone doing the least any server must do with a pushed
//! document (load what is stored, which is nothing yet; apply the pushed changes; save), on the
//! same documents, in one thread of this process. No network, no database, no checks.

use automerge::Change;
use fieldsync_shared::document::{load_document, new_document};

use crate::workload::Device;

/// CPU milliseconds per document (this thread's utime + stime, over every document).
pub fn cpu_ms_per_doc(devices: &[Device]) -> f64 {
    let empty = new_document(automerge::ActorId::random()).save();
    let start = thread_cpu_ticks();
    let mut docs = 0usize;
    let mut saved = 0usize;
    for doc in devices.iter().flat_map(|d| &d.docs) {
        let mut replica = load_document(&empty).expect("empty document");
        let changes: Vec<Change> = doc
            .changes
            .iter()
            .map(|c| Change::from_bytes(c.clone()).expect("change parses"))
            .collect();
        replica.apply_changes(changes).expect("changes apply");
        assert_eq!(
            replica.get_heads(),
            doc.heads,
            "replica reaches the device's heads"
        );
        saved += replica.save().len();
        docs += 1;
    }
    assert!(saved > 0);
    (thread_cpu_ticks() - start) as f64 * 10.0 / docs as f64
}

/// This thread's utime + stime, clock ticks.
fn thread_cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("/proc/thread-self/stat");
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .expect("stat format")
        .1
        .split_whitespace()
        .collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}
