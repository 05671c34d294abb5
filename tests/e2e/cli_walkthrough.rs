//! The README walkthrough, driven through the `fieldsync` CLI binary.
