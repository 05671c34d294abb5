//! What the photo queue may send on which network, and the connectivity the app reports
//! (`fieldsync_client`'s network policy).

use fieldsync_client as client;

use crate::device::FieldsyncDevice;
use crate::error::Result;
use crate::mirror::mirror_enum;

mirror_enum!(
    /// On which networks full photos are uploaded: Any (the default) or UnmeteredOnly.
    /// Documents and thumbnails always go.
    PhotoNetworks = client::PhotoNetworks { Any, UnmeteredOnly }
);

mirror_enum!(
    /// The network the phone has: Offline, Metered (cellular, a metered hotspot), Unmetered.
    Connectivity = client::Connectivity { Offline, Metered, Unmetered }
);

#[uniffi::export]
impl FieldsyncDevice {
    /// Sets on which networks full photos are uploaded (kept on the device).
    pub fn set_photo_networks(&self, networks: PhotoNetworks) -> Result<()> {
        Ok(self.device.set_photo_networks(networks.into())?)
    }

    pub fn photo_networks(&self) -> Result<PhotoNetworks> {
        Ok(self.device.photo_networks()?.into())
    }

    /// Pauses (`true`) or resumes full photo uploads (kept on the device); documents and
    /// thumbnails still sync.
    pub fn pause_photo_uploads(&self, paused: bool) -> Result<()> {
        Ok(self.device.pause_photo_uploads(paused)?)
    }

    /// The app reports each change of the phone's network (Android's
    /// `ConnectivityManager.NetworkCallback`, iOS's `NWPathMonitor`). When a network comes
    /// back and the background sync runs, it syncs at once instead of at its next retry.
    pub fn report_connectivity(&self, network: Connectivity) -> Result<()> {
        self.device.report_connectivity(network.into())?;
        if network != Connectivity::Offline {
            if let Some(sync) = self.background().as_ref() {
                sync.sync_now();
            }
        }
        Ok(())
    }
}
