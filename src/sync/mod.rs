//! Offline tablets: the change feed that keeps a device's exact copy of
//! what its user may see. Casework's records and the door's inbox, never
//! security's.

pub mod api;
pub mod feed;
