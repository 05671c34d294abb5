//! Row-level access to the device database (see `schema.rs` for the tables). Every function
//! takes a `&Connection` so callers can run several of them inside one transaction
//! (`Transaction` derefs to `Connection`); [`Database`] is the opened database they are used
//! through. One file per kind of row; the functions are re-exported here, so callers write
//! `store::load_doc`, `store::insert_photo`, ….

mod database;
mod documents;
mod eviction;
mod master;
mod meta;
mod open_documents;
mod photo_queue;
mod reference_photos;
mod refused_edits;

pub use database::Database;
pub use documents::{
    clear_all_synced_heads, doc_ids, encode_heads, list_docs, load_doc, pending_docs, receipt,
    save_doc, set_receipt, set_synced_heads, DocRow,
};
pub use eviction::delete_evicted;
pub use master::{
    approval_tiers, assortment, clear_master_rows, credit, expense_budget, import_page, org_view,
    product, products, promotions, store, store_by_code, stores, success_pictures,
};
pub use meta::{
    cursor, keys, master_version, meta_delete, meta_get, meta_set, next_order_seq, profile,
    require_profile, set_cursor,
};
pub use open_documents::OpenDocument;
pub use photo_queue::{
    add_photo_part, all_photos, clear_photo_upload, insert_photo, keep_thumbnail,
    mark_photo_failed, mark_photo_uploaded, note_photo_error, pending_thumbnails, photo_counts,
    photo_file, queued_photos, requeue_failed_photos, set_photo_parts, set_photo_upload,
    set_thumbnail_state, thumbnail_states, NewPhoto, OpenUpload, PendingThumbnail, PhotoRow,
    PhotoState, ThumbnailState,
};
pub use reference_photos::{
    prune_reference_photos, read_reference_photo, reference_photo_path, write_reference_photo,
};
pub use refused_edits::{record_refused_edits, refused_edits, RefusedEditReport};
