//! Rule 3: photos are taken during the visit and content-addressed (SHA-256), so a photo reused
//! from another visit is recognised.

use super::Verdict;
use crate::values::Sha256;
use crate::visit::{PhotoRef, Visit};

/// Flag findings: `photo_outside_visit` if taken before check-in or after check-out (with
/// `grace_ms` slack); `photo_reused` if `known_elsewhere` contains the hash (hashes already seen
/// on other visits).
pub fn check_photo(visit: &Visit, photo: &PhotoRef, known_elsewhere: &[Sha256], grace_ms: i64) -> Verdict {
    todo!("{visit:?} {photo:?} {known_elsewhere:?} {grace_ms}")
}
