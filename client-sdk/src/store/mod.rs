//! Row-level access to the device database (see `schema.rs` for the tables). Every function
//! takes a `&Connection` so callers can run several of them inside one transaction
//! (`Transaction` derefs to `Connection`). One file per kind of row; the functions are
//! re-exported here, so callers write `store::load_doc`, `store::insert_photo`, ….

mod documents;
mod eviction;
mod master;
mod meta;
mod photo_queue;

pub use documents::{
    clear_all_synced_heads, encode_heads, list_docs, load_doc, pending_docs, save_doc,
    set_synced_heads, DocRow,
};
pub use eviction::delete_evicted;
pub use master::{
    credit, product, products, retain_stores, store, store_by_code, stores, upsert_credit,
    upsert_product, upsert_store,
};
pub use meta::{
    cursor, keys, master_version, meta_delete, meta_get, meta_set, next_order_seq, profile,
    set_cursor,
};
pub use photo_queue::{
    add_photo_part, all_photos, clear_photo_upload, insert_photo, mark_photo_failed,
    mark_photo_uploaded, note_photo_error, photo_counts, queued_photos, requeue_failed_photos,
    set_photo_parts, set_photo_upload, NewPhoto, OpenUpload, PhotoRow, PhotoState,
};
