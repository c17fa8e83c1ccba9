//! The HTTP kernel: problems, middleware, extractors, and the composition
//! of every domain's endpoints into one OpenAPI service.
// poem-openapi handlers take one argument per HTTP input (header, path,
// query, body), so long parameter lists are the shape of the API here.
#![allow(clippy::too_many_arguments)]

pub mod health;
pub mod idempotency;
pub mod middleware;
pub mod problem;
pub mod security;
pub mod types;

use poem::{
    Endpoint, EndpointExt, Route,
    middleware::{Compression, SizeLimit},
};
use poem_openapi::{OpenApiService, Tags};

use crate::{
    auth::{api as auth, me_api as me},
    casework::api::{cases, consents, contacts, follow_ups, patrons},
    directory::api as directory,
    oversight::api as audit,
    state::AppState,
};

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
}

/// The `ETag` of a record version.
pub fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

pub type Apis = (
    health::HealthApi,
    auth::AuthApi,
    me::MeApi,
    directory::DirectoryApi,
    audit::AuditApi,
    patrons::PatronsApi,
    contacts::ContactsApi,
    cases::CasesApi,
    consents::ConsentsApi,
    follow_ups::FollowUpsApi,
);

pub fn openapi_service() -> OpenApiService<Apis, ()> {
    let apis = (
        health::HealthApi,
        auth::AuthApi,
        me::MeApi,
        directory::DirectoryApi,
        audit::AuditApi,
        patrons::PatronsApi,
        contacts::ContactsApi,
        cases::CasesApi,
        consents::ConsentsApi,
        follow_ups::FollowUpsApi,
    );
    OpenApiService::new(apis, "Casework", env!("CARGO_PKG_VERSION")).description(
        "Referral and case management for social work in public libraries. \
             Errors are RFC 9457 problem details (`application/problem+json`).",
    )
}

/// The spec as committed in `openapi/openapi.yaml`.
pub fn spec_yaml() -> String {
    openapi_service().spec_yaml()
}

/// The whole application: API, docs, spec, and the middleware stack.
pub fn app(state: AppState) -> impl Endpoint {
    let api = openapi_service();
    let docs = api.swagger_ui();
    let spec_json = api.spec_endpoint();
    let spec_yaml = api.spec_endpoint_yaml();
    Route::new()
        .nest("/", api)
        .nest("/docs", docs)
        .at("/openapi.json", spec_json)
        .at("/openapi.yaml", spec_yaml)
        .around(idempotency::idempotency)
        .data(state)
        .around(problem::problem_middleware)
        .with(Compression::new())
        .around(middleware::request_id_and_log)
}
