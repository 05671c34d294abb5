//! OWNER: sync helper.
