//! OWNER: platform helper.
