//! Safety's tables: security records on their side of the wall. Nothing
//! here relates to a casework table, and casework code never names this
//! module (`tests/api/layout.rs`).

pub mod incident;
pub mod incident_amendment;
pub mod suspension;
