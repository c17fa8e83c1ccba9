//! The HTTP kernel: what every domain's endpoints use (problems, input
//! checks, extractors, the request id and log, idempotency keys, tags). The
//! endpoints are composed into one service above the domains, in
//! `crate::app`.
// poem-openapi handlers take one argument per HTTP input (header, path,
// query, body), so long parameter lists are the shape of the API here.
#![allow(clippy::too_many_arguments)]

pub mod conditional;
pub mod health;
pub mod idempotency;
pub mod input;
pub mod middleware;
pub mod problem;
pub mod security;
pub mod table;
pub mod types;

use std::sync::Arc;

use poem::{Endpoint, EndpointExt, endpoint::BoxEndpoint, middleware::SizeLimit};
use poem_openapi::Tags;

/// Largest request body accepted by a write operation.
pub const WRITE_BODY_LIMIT: usize = 1024 * 1024;

/// Attached (as `transform`) to every operation that takes a body; reads are
/// left alone because poem's `SizeLimit` refuses requests without a
/// `Content-Length` header.
pub fn write_limit(ep: impl Endpoint) -> impl Endpoint {
    ep.with(SizeLimit::new(WRITE_BODY_LIMIT))
}

#[derive(Tags)]
pub enum ApiTags {
    /// Liveness and readiness probes.
    Health,
    /// Sign-in, token refresh and sign-out.
    Auth,
    /// The caller's account and device sessions.
    Sessions,
    /// Branches and staff accounts.
    Directory,
    /// The directory of outside services people are referred to.
    Services,
    /// The audit trail (auditors).
    Audit,
    /// Patrons: the people served (casework).
    Patrons,
    /// Contacts: encounters with patrons (casework).
    Contacts,
    /// Cases, their teams and notes (casework).
    Cases,
    /// Consents: releases of information (casework).
    Consents,
    /// Follow-ups: due dates on cases and contacts (casework).
    FollowUps,
    /// Referrals to outside services, followed until the loop closes (casework).
    Referrals,
    /// Mandated reports to protective agencies (casework; the most restricted record).
    MandatedReports,
    /// Program statistics without personal data (supervisors and admins).
    Statistics,
    /// Incidents at branches (safety: security and staff; never casework).
    Incidents,
    /// Suspensions (bans) and each branch's active list (safety).
    Suspensions,
    /// Support requests: the one door from staff and security to social work, one way.
    SupportRequests,
    /// Training catalogue, staff certifications and a branch's coverage.
    Training,
    /// Rules of behavior that incidents name.
    Rules,
    /// Break-glass: a supervisor's time-limited access to a case outside their scope, reviewed by auditors.
    BreakGlass,
    /// Offline tablets: the change feed of the caller's view.
    Sync,
}

/// The `ETag` of a record version.
pub fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

/// The API's operations as the service serves them, without the outer
/// request's compression and log: what an uploaded batch of offline writes
/// is applied through, one operation at a time. The composition root
/// (`crate::app`) builds it and hands it to every request as data, so that
/// the sync upload reaches the other domains' operations without importing
/// them.
#[derive(Clone)]
pub struct Operations(pub Arc<BoxEndpoint<'static>>);
