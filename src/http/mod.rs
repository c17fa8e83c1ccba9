//! The HTTP kernel: problems, middleware, extractors, and the composition
//! of every domain's endpoints into one OpenAPI service.
// poem-openapi handlers take one argument per HTTP input (header, path,
// query, body), so long parameter lists are the shape of the API here.
#![allow(clippy::too_many_arguments)]

pub mod health;
pub mod idempotency;
pub mod input;
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

/// The methods the spec offers for a concrete path (for the `Allow` header of
/// a 405), read once from the spec itself so the two cannot disagree.
pub fn allowed_methods(path: &str) -> Option<String> {
    use std::sync::OnceLock;
    static ROUTES: OnceLock<Vec<(Vec<String>, Vec<String>)>> = OnceLock::new();
    let routes = ROUTES.get_or_init(|| {
        let spec: serde_json::Value =
            serde_json::from_str(&openapi_service().spec()).unwrap_or_default();
        let mut routes = Vec::new();
        if let Some(paths) = spec["paths"].as_object() {
            for (template, item) in paths {
                let segments = template
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
                let methods = item
                    .as_object()
                    .map(|ops| ops.keys().map(|m| m.to_uppercase()).collect())
                    .unwrap_or_default();
                routes.push((segments, methods));
            }
        }
        routes
    });
    let wanted: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    routes.iter().find_map(|(segments, methods)| {
        let fits = segments.len() == wanted.len()
            && segments
                .iter()
                .zip(&wanted)
                .all(|(t, w)| t.starts_with('{') || t == w);
        fits.then(|| methods.join(", "))
    })
}
