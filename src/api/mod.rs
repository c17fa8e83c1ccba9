//! The HTTP API: one module per area, composed into one OpenAPI service.

pub mod health;
pub mod middleware;
pub mod problem;

use poem::{
    Endpoint, EndpointExt, Route,
    middleware::{Compression, SizeLimit},
};
use poem_openapi::{OpenApiService, Tags};

use crate::startup::AppState;

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
}

pub type Apis = health::HealthApi;

pub fn openapi_service() -> OpenApiService<Apis, ()> {
    OpenApiService::new(health::HealthApi, "Casework", env!("CARGO_PKG_VERSION")).description(
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
        .data(state)
        .around(problem::problem_middleware)
        .with(Compression::new())
        .around(middleware::request_id_and_log)
}
