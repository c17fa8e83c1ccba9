//! The service layer's error. The API maps it to problem+json in one place
//! (`http::problem`). Messages are fixed texts: no record content, ever.

use crate::domain::FieldIssue;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Missing, or hidden from the caller: the two must look the same.
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// A conflict with the record's state that names what would be allowed
    /// (the moves from here, the consent that is missing).
    #[error("conflict: {detail}")]
    ConflictNaming {
        detail: &'static str,
        issues: Vec<FieldIssue>,
    },
    /// The `If-Match` version is not the current one; carries the current
    /// record, which the API renders as it renders a read.
    #[error("stale version")]
    Stale(Box<dyn Current>),
    /// The same `Idempotency-Key` came with another request.
    #[error("idempotency key reused")]
    IdempotencyKeyReused,
    #[error("If-Match is required")]
    PreconditionRequired,
    #[error("invalid input")]
    Invalid(Vec<FieldIssue>),
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    /// The token's session has ended (revoked, expired, or the account
    /// changed): the device must drop its copy and sign in again. Says why.
    #[error("session ended: {0}")]
    SessionEnded(&'static str),
    #[error("too many attempts")]
    Throttled { retry_after_secs: u64 },
    /// Something the service depends on (the single sign-on provider)
    /// cannot be reached: retry later.
    #[error("unavailable: {0}")]
    Unavailable(&'static str),
    #[error("unexpected: {0}")]
    Unexpected(String),
}

/// A record as it is now, for a 412 answer. Services hand over their own
/// view of the record; the API layer (which implements this) renders it, so
/// services never depend on the API.
pub trait Current: std::fmt::Debug + Send + Sync {
    fn to_json(&self) -> serde_json::Value;
}

impl ServiceError {
    /// Wraps an unexpected failure. Only the error's kind is kept: driver
    /// messages can quote the values of a failed statement.
    pub fn unexpected(context: &'static str, err: impl std::fmt::Debug) -> Self {
        let kind = format!("{err:?}");
        let kind = kind
            .split(['(', ' ', '{'])
            .next()
            .unwrap_or("error")
            .to_owned();
        tracing::error!(context, kind = %kind, "unexpected error");
        ServiceError::Unexpected(format!("{context}: {kind}"))
    }

    pub fn invalid(field: &str, message: &str) -> Self {
        ServiceError::Invalid(vec![FieldIssue::new(field, message)])
    }
}

impl From<sea_orm::DbErr> for ServiceError {
    /// One mapping for every create: two writers (two instances, say) that
    /// both checked, found nothing and inserted the same id or unique value
    /// race to the database's constraint, and the loser is told what the
    /// check would have told it: 409. The constraint's message, which can
    /// quote the value, is dropped.
    fn from(err: sea_orm::DbErr) -> Self {
        if crate::db::is_unique_violation(&err) {
            return ServiceError::Conflict("a record with this id or unique value exists");
        }
        ServiceError::unexpected("database", err)
    }
}

impl From<Vec<FieldIssue>> for ServiceError {
    fn from(issues: Vec<FieldIssue>) -> Self {
        ServiceError::Invalid(issues)
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;
