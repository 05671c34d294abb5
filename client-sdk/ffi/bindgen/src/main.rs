//! `uniffi-bindgen`: generates Kotlin, Swift and Python bindings from the built library
//! (`generate --library <lib> --language <kotlin|swift|python> --out-dir <dir>`).
//! scripts/bindings.sh runs it.

fn main() {
    uniffi::uniffi_bindgen_main()
}
