//! What the photo queue may send on the network the phone has: the app's policy (full photos
//! on any network, or only on unmetered ones), a pause of photo uploads, and the network the
//! app last reported. Documents and thumbnails are small and always go. All three are kept
//! in the device database (`meta`) and survive restarts; the app reports the network when it
//! starts and on every change. Before its first report the network is unknown: full photos
//! under `UnmeteredOnly` wait for it, as the user asked not to spend cellular data on them.

use rusqlite::Connection;

use crate::error::Result;
use crate::store;

const POLICY: &str = "network_policy.full_photos";
const PAUSED: &str = "network_policy.photos_paused";
const NETWORK: &str = "network_policy.network";

/// On which networks full photos are uploaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoNetworks {
    /// Any network, cellular included (the default).
    Any,
    /// Only unmetered networks (Wi-Fi); on cellular, photos wait.
    UnmeteredOnly,
}

/// The network the phone has, as the app reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connectivity {
    Offline,
    Metered,
    Unmetered,
}

impl Connectivity {
    fn code(self) -> &'static str {
        match self {
            Connectivity::Offline => "offline",
            Connectivity::Metered => "metered",
            Connectivity::Unmetered => "unmetered",
        }
    }
}

pub(crate) fn set_photo_networks(conn: &Connection, networks: PhotoNetworks) -> Result<()> {
    match networks {
        PhotoNetworks::Any => store::meta_delete(conn, POLICY),
        PhotoNetworks::UnmeteredOnly => store::meta_set(conn, POLICY, "unmetered_only"),
    }
}

pub(crate) fn photo_networks(conn: &Connection) -> Result<PhotoNetworks> {
    Ok(match store::meta_get(conn, POLICY)?.as_deref() {
        Some("unmetered_only") => PhotoNetworks::UnmeteredOnly,
        _ => PhotoNetworks::Any,
    })
}

pub(crate) fn set_photos_paused(conn: &Connection, paused: bool) -> Result<()> {
    if paused {
        store::meta_set(conn, PAUSED, "1")
    } else {
        store::meta_delete(conn, PAUSED)
    }
}

pub(crate) fn photos_paused(conn: &Connection) -> Result<bool> {
    Ok(store::meta_get(conn, PAUSED)?.is_some())
}

pub(crate) fn set_connectivity(conn: &Connection, network: Connectivity) -> Result<()> {
    store::meta_set(conn, NETWORK, network.code())
}

/// Why full photos must wait now, if they must (the send queue then stops after the
/// thumbnails and says so in the sync's warnings).
pub(crate) fn photos_held(conn: &Connection) -> Result<Option<String>> {
    if photos_paused(conn)? {
        return Ok(Some("photo uploads are paused by the app".into()));
    }
    // Only a reported unmetered network counts as one: never reported (unknown) or offline
    // (a stale report while a sync gets through) may be cellular.
    let unmetered =
        store::meta_get(conn, NETWORK)?.as_deref() == Some(Connectivity::Unmetered.code());
    Ok(
        (!unmetered && photo_networks(conn)? == PhotoNetworks::UnmeteredOnly)
            .then(|| "photos wait for an unmetered network (network policy)".into()),
    )
}
