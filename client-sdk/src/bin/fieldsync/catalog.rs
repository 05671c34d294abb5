//! The master data known offline: stores and products.

use fieldsync_client::Device;

use crate::error::CliResult;
use crate::output::Out;

pub fn stores(device: &Device, out: &Out) -> CliResult<()> {
    let stores = device.stores()?;
    out.value(&stores, || {
        if stores.is_empty() {
            return "no stores on this device yet: log in and sync".into();
        }
        stores
            .iter()
            .map(|s| {
                format!(
                    "{:<12} {}/{:?}  {}  ({:.5}, {:.5}, r={} m, lead {} d)",
                    s.code.as_str(),
                    format!("{:?}", s.channel).to_lowercase(),
                    s.grade,
                    s.name,
                    s.location.lat(),
                    s.location.lon(),
                    s.geofence_radius_m,
                    s.delivery_lead_days
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}

pub fn products(device: &Device, out: &Out) -> CliResult<()> {
    let products = device.products()?;
    out.value(&products, || {
        if products.is_empty() {
            return "no products on this device yet: log in and sync".into();
        }
        products
            .iter()
            .map(|p| {
                format!(
                    "{:<16} {}  list {} floor {}  case {}{}  shelf life {} d",
                    p.sku.as_str(),
                    p.name,
                    p.list_price,
                    p.floor_price,
                    p.case_pack,
                    if p.sold_by_case { " (by case)" } else { "" },
                    p.shelf_life_days
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}
