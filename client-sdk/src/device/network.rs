//! The network policy of the photo queue and the connectivity the app reports
//! (`network_policy`).

use super::Device;
use crate::error::Result;
use crate::network_policy::{self, Connectivity, PhotoNetworks};

impl Device {
    /// Full photos on any network, or only on unmetered ones. Documents and thumbnails always go.
    pub fn set_photo_networks(&self, networks: PhotoNetworks) -> Result<()> {
        network_policy::set_photo_networks(&self.db.lock(), networks)
    }

    pub fn photo_networks(&self) -> Result<PhotoNetworks> {
        network_policy::photo_networks(&self.db.lock())
    }

    /// Pauses (or resumes) full photo uploads; documents and thumbnails still sync.
    pub fn pause_photo_uploads(&self, paused: bool) -> Result<()> {
        network_policy::set_photos_paused(&self.db.lock(), paused)
    }

    /// The network the phone has now, reported by the app on each change.
    pub fn report_connectivity(&self, network: Connectivity) -> Result<()> {
        network_policy::set_connectivity(&self.db.lock(), network)
    }
}
