#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fieldsync_fuzz::targets::query_filters(data));
