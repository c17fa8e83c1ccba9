//! Casework: the confidential side of the wall. Patrons, contacts, cases and
//! their notes, consents, follow-ups, referrals, mandated reports, and the
//! record of the support requests social work received. Nothing here imports `safety`, and no
//! statement here names a safety table (`tests/api/layout.rs` checks both).

pub mod api;
pub mod break_glass;
pub mod cases;
pub mod consents;
pub mod contacts;
pub mod follow_ups;
pub mod mandated_reports;
pub mod notes;
pub mod patrons;
pub mod referral_flow;
pub mod referrals;
pub mod scope;
pub mod stats;
pub mod support_links;
