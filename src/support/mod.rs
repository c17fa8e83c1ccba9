//! Support requests: the one door through the wall, one way (DESIGN.md
//! section 1). Staff or security ask social work for help, sharing the
//! incident fields they choose, copied at that moment; the branch's social
//! workers and supervisors receive and close them; the requester then sees
//! only the status, when, and the receiving team's name.
//!
//! This module is the only one that calls both sides: safety for the copy
//! of the shared fields, casework for the record of what social work did.
//! It names no table of either side (`tests/api/layout.rs`), and neither
//! side imports it.

pub mod api;
pub mod requests;
