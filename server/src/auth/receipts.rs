//! Receipts: the server's signature on a document's heads, sent with every pulled document
//! and kept by the device (docs/protocol.md, "Receipts").
//!
//! A device may push only changes of its own actor: anyone could otherwise write a change
//! under a supervisor's actor and have it stored as the supervisor's. That rule alone loses
//! work after the server is restored from a backup: a change the backup lacks, made by another
//! installation (the same rep's phone before a reinstall, or a colleague's), may live on
//! one device only, and that device may not send it back. A receipt settles it: the server
//! once held the document with these heads, so every change those heads reach was accepted
//! then, whoever made it, and the server takes such changes back from any device that holds
//! them. Changes beyond the receipt must still be the device's own.
//!
//! The MAC is HMAC-SHA256 under a key derived from the token signing key, so a restored server
//! (same configuration) recognises the receipts it signed before the backup was taken, and
//! every instance recognises every other's. A new signing key makes earlier receipts unknown:
//! the device then gets the `foreign_actor` refusal it would have had without one.

use std::collections::{HashMap, HashSet};

use automerge::{Change, ChangeHash};
use fieldsync_shared::protocol::Receipt;
use fieldsync_shared::values::{DocId, TenantId};
use hmac::{Hmac, Mac};
use serde_bytes::ByteBuf;
use sha2::Sha256;

/// What the receipt's MAC covers, before the tenant, the document and the heads: the format,
/// so a MAC of anything else under the same key never passes for a receipt.
const CONTEXT: &[u8] = b"fieldsync receipt v1";
/// Derives the receipt key from the token signing key's material.
const DERIVATION: &[u8] = b"fieldsync receipt key";

/// The key receipts are signed with. Its `Debug` shows nothing of it.
#[derive(Clone)]
pub struct ReceiptKey([u8; 32]);

impl std::fmt::Debug for ReceiptKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReceiptKey([redacted])")
    }
}

impl ReceiptKey {
    /// The key of a server whose token signing key is `material` (the HS256 secret, or the
    /// Ed25519 private key's bytes).
    pub fn derive(material: &[u8]) -> Self {
        let mut mac = Hmac::<Sha256>::new_from_slice(material).expect("HMAC takes any key size");
        mac.update(DERIVATION);
        ReceiptKey(mac.finalize().into_bytes().into())
    }

    fn mac(&self, tenant: TenantId, doc: DocId, heads: &[[u8; 32]]) -> Hmac<Sha256> {
        let mut sorted = heads.to_vec();
        sorted.sort_unstable();
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key size");
        mac.update(CONTEXT);
        mac.update(tenant.0.as_bytes());
        mac.update(doc.0.as_bytes());
        for head in &sorted {
            mac.update(head);
        }
        mac
    }

    /// The receipt of `doc` at `heads`; `None` when the heads are unknown (empty).
    pub fn sign(&self, tenant: TenantId, doc: DocId, heads: &[[u8; 32]]) -> Option<Receipt> {
        if heads.is_empty() {
            return None;
        }
        let tag = self.mac(tenant, doc, heads).finalize().into_bytes();
        Some(Receipt {
            heads: heads.iter().map(|h| ByteBuf::from(h.to_vec())).collect(),
            mac: ByteBuf::from(tag.to_vec()),
        })
    }

    /// The heads `receipt` vouches for, if this server signed it for this document (the MAC
    /// is compared in constant time); `None` otherwise.
    pub fn verify(
        &self,
        tenant: TenantId,
        doc: DocId,
        receipt: &Receipt,
    ) -> Option<Vec<ChangeHash>> {
        let heads = receipt
            .heads
            .iter()
            .map(|h| <[u8; 32]>::try_from(h.as_slice()).ok())
            .collect::<Option<Vec<[u8; 32]>>>()?;
        if heads.is_empty() {
            return None;
        }
        self.mac(tenant, doc, &heads)
            .verify_slice(&receipt.mac)
            .ok()?;
        Some(heads.into_iter().map(ChangeHash).collect())
    }
}

/// The hashes of the changes among `changes` that `heads` reach through their dependencies:
/// the ones a receipt for `heads` vouches for. Changes outside `changes` (the server has
/// them) are not walked; their ancestors are not new either.
pub fn vouched(changes: &[Change], heads: &[ChangeHash]) -> HashSet<ChangeHash> {
    let by_hash: HashMap<ChangeHash, &Change> = changes.iter().map(|c| (c.hash(), c)).collect();
    let mut reached = HashSet::new();
    let mut todo: Vec<ChangeHash> = heads.to_vec();
    while let Some(hash) = todo.pop() {
        let Some(change) = by_hash.get(&hash) else {
            continue;
        };
        if reached.insert(hash) {
            todo.extend(change.deps().iter().copied());
        }
    }
    reached
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;
    use automerge::{ActorId, AutoCommit, ROOT};
    use uuid::Uuid;

    fn ids() -> (TenantId, DocId) {
        (TenantId(Uuid::from_u128(1)), DocId(Uuid::from_u128(2)))
    }

    #[test]
    fn a_receipt_verifies_for_its_document_only_and_under_its_key_only() {
        let key = ReceiptKey::derive(b"a signing secret of at least 32 bytes");
        let (tenant, doc) = ids();
        let heads = [[7u8; 32], [3u8; 32]];
        let receipt = key.sign(tenant, doc, &heads).expect("heads known");
        let vouched = key.verify(tenant, doc, &receipt).expect("verifies");
        assert_eq!(vouched, vec![ChangeHash([7; 32]), ChangeHash([3; 32])]);

        // Another document, tenant or key: not this server's receipt for it.
        assert!(key
            .verify(tenant, DocId(Uuid::from_u128(9)), &receipt)
            .is_none());
        assert!(key
            .verify(TenantId(Uuid::from_u128(9)), doc, &receipt)
            .is_none());
        let other = ReceiptKey::derive(b"another signing secret, also 32 bytes");
        assert!(other.verify(tenant, doc, &receipt).is_none());

        // A head added, or the MAC altered, breaks it.
        let mut more = receipt.clone();
        more.heads.push(ByteBuf::from(vec![9u8; 32]));
        assert!(key.verify(tenant, doc, &more).is_none());
        let mut bent = receipt.clone();
        bent.mac[0] ^= 1;
        assert!(key.verify(tenant, doc, &bent).is_none());
        let mut short = receipt;
        short.heads[0] = ByteBuf::from(vec![7u8; 31]);
        assert!(key.verify(tenant, doc, &short).is_none());

        assert!(key.sign(tenant, doc, &[]).is_none());
    }

    #[test]
    fn a_receipt_vouches_for_the_ancestors_of_its_heads_and_nothing_later() {
        let mut a = AutoCommit::new().with_actor(ActorId::from(b"aaaaaaaa"));
        a.put(ROOT, "x", 1).unwrap();
        a.commit();
        a.put(ROOT, "x", 2).unwrap();
        a.commit();
        let signed_heads = a.get_heads();
        let mut b = a.fork().with_actor(ActorId::from(b"bbbbbbbb"));
        b.put(ROOT, "y", 1).unwrap();
        b.commit();
        let all: Vec<Change> = b.get_changes(&[]);
        assert_eq!(all.len(), 3);

        let reached = vouched(&all, &signed_heads);
        assert_eq!(reached.len(), 2);
        assert!(all[..2].iter().all(|c| reached.contains(&c.hash())));
        assert!(
            !reached.contains(&all[2].hash()),
            "the later change is not vouched for"
        );
    }
}
