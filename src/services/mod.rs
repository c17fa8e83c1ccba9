//! Use cases. Each takes the caller first, asks `access` before touching
//! data, and writes through the audit `Recorder` so that every change and its
//! audit events commit together.

pub mod audit_review;
pub mod auth;
pub mod cases;
pub mod common;
pub mod consents;
pub mod contacts;
pub mod directory;
pub mod follow_ups;
pub mod notes;
pub mod patrons;
pub mod sessions;

use chrono::{DateTime, Utc};

/// The current time, truncated to microseconds (what every backend stores).
pub fn now() -> DateTime<Utc> {
    let t = Utc::now();
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

/// Parses an `If-Match` value (`"3"`, `W/"3"` or `3`) into a version.
pub fn parse_if_match(value: Option<&str>) -> Result<i32, crate::error::ServiceError> {
    let raw = value.ok_or(crate::error::ServiceError::PreconditionRequired)?;
    raw.trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .parse::<i32>()
        .map_err(|_| {
            crate::error::ServiceError::invalid("If-Match", "must be an ETag returned by a read")
        })
}
