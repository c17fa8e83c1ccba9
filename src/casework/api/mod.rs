//! The casework endpoints: thin handlers over the casework services.

pub mod cases;
pub mod consents;
pub mod contacts;
pub mod follow_ups;
pub mod patrons;
