//! Safety's endpoints.
// poem-openapi handlers take one argument per HTTP input.
#![allow(clippy::too_many_arguments)]

pub mod incidents;
pub mod stats;
pub mod suspensions;
