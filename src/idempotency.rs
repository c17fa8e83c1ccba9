//! An `Idempotency-Key` as the operations see it: set by the HTTP layer
//! (`http::idempotency`), carried in the audit context, claimed by a unit
//! of work (`audit::Unit::claim`).

use std::sync::{Arc, atomic::AtomicBool};

use chrono::Duration;

/// An `Idempotency-Key` and the fingerprint of the request that carried it
/// (method, path and body), set by the HTTP layer.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub key: String,
    pub request_hash: String,
    /// Set when the answer is a replay, so that the HTTP layer can say so.
    pub replayed: Arc<AtomicBool>,
}

/// Keys are kept this long.
pub const KEEP_KEYS_FOR: Duration = Duration::hours(24);
