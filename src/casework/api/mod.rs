//! The casework endpoints: thin handlers over the casework services.
// poem-openapi handlers take one argument per HTTP input (header, path,
// query, body), so long parameter lists are the shape of the API here.
#![allow(clippy::too_many_arguments)]

pub mod break_glass;
pub mod cases;
pub mod consents;
pub mod contacts;
pub mod follow_ups;
pub mod mandated_reports;
pub mod patrons;
pub mod referrals;
pub mod stats;
