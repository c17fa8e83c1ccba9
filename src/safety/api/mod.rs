//! Safety's endpoints.

pub mod incidents;
pub mod suspensions;
