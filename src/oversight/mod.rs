//! Oversight: the auditors' review of the trail.

pub mod anomalies;
pub mod api;
pub mod audit_review;
