//! Cross-device flags: the checks only the server can make, with every device's data together
//! (docs/verdicts.md, "Cross-device flags"). Each is a finding of kind `cross_device` and source
//! `server`, with its evidence in `inputs`. The rules themselves stay in `shared::rules`: this
//! module only gathers what no single phone can see and feeds it to them.

pub mod credit;

pub use credit::OpenOrders;
