//! Safety: security's side of the wall. Incidents (with amendments once the
//! 24-hour edit window closes) and suspensions. Nothing here imports
//! `casework` or `support`, and no statement here names a casework table
//! (`tests/api/layout.rs` checks both). What safety shares with social work
//! leaves through `support`, as copies its requester chose.

pub mod api;
pub mod incidents;
pub mod scope;
pub mod stats;
pub mod suspensions;
