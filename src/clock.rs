//! The service's clock. Every stamp (created, updated, revoked, recorded)
//! and every rule that depends on time (an incident's 24-hour edit window,
//! a suspension's end, a session's or token's expiry, a follow-up's due
//! date, a consent's or certification's expiry) reads it here, so that tests
//! can move time forward instead of sleeping. Nothing in the API moves it.

use std::sync::{
    Arc,
    atomic::{AtomicI64, Ordering},
};

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// Added to the system time, in microseconds; zero outside tests.
    offset_micros: Arc<AtomicI64>,
}

impl Clock {
    /// The current time, truncated to microseconds (what every backend
    /// stores). The only place the service reads the system time.
    pub fn now(&self) -> DateTime<Utc> {
        let t = Utc::now() + Duration::microseconds(self.offset_micros.load(Ordering::SeqCst));
        DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
    }

    /// Moves this clock (and every clone of it) forward by `by`.
    pub fn advance(&self, by: Duration) {
        let micros = by.num_microseconds().unwrap_or(i64::MAX);
        self.offset_micros.fetch_add(micros, Ordering::SeqCst);
    }
}
