//! The composition root: every domain's endpoints assembled into one
//! OpenAPI service, the spec as served and committed, and the middleware
//! stack around them. The only module that imports every domain (besides
//! start-up and the command line, which run it).
// poem-openapi's tuple of APIs is long by nature.
#![allow(clippy::too_many_arguments)]

use std::sync::Arc;

use poem::{Endpoint, EndpointExt, Route, middleware::Compression};
use poem_openapi::OpenApiService;

use crate::{
    casework::api::{
        break_glass, cases, consents, contacts, follow_ups, mandated_reports, patrons, referrals,
        stats,
    },
    directory::{api as directory, me_api as me, services_api as services, sign_in_api as auth},
    http::{Operations, conditional, health, idempotency, input, middleware, problem},
    oversight::api as audit,
    safety::api::{incidents, stats as incident_stats, suspensions},
    state::AppState,
    support::api as support,
    training::api as training,
};

pub type Apis = (
    health::HealthApi,
    auth::AuthApi,
    me::MeApi,
    directory::DirectoryApi,
    services::ServicesApi,
    audit::AuditApi,
    patrons::PatronsApi,
    contacts::ContactsApi,
    cases::CasesApi,
    consents::ConsentsApi,
    follow_ups::FollowUpsApi,
    referrals::ReferralsApi,
    mandated_reports::MandatedReportsApi,
    stats::StatsApi,
    // Safety, and the door between the sides (a tuple holds at most 16).
    (
        incidents::IncidentsApi,
        suspensions::SuspensionsApi,
        support::SupportRequestsApi,
        training::TrainingApi,
        training::RulesApi,
        incident_stats::IncidentStatsApi,
        break_glass::BreakGlassApi,
        crate::sync::api::SyncApi,
    ),
);

pub fn openapi_service() -> OpenApiService<Apis, ()> {
    let apis = (
        health::HealthApi,
        auth::AuthApi,
        me::MeApi,
        directory::DirectoryApi,
        services::ServicesApi,
        audit::AuditApi,
        patrons::PatronsApi,
        contacts::ContactsApi,
        cases::CasesApi,
        consents::ConsentsApi,
        follow_ups::FollowUpsApi,
        referrals::ReferralsApi,
        mandated_reports::MandatedReportsApi,
        stats::StatsApi,
        (
            incidents::IncidentsApi,
            suspensions::SuspensionsApi,
            support::SupportRequestsApi,
            training::TrainingApi,
            training::RulesApi,
            incident_stats::IncidentStatsApi,
            break_glass::BreakGlassApi,
            crate::sync::api::SyncApi,
        ),
    );
    OpenApiService::new(apis, "Casework", env!("CARGO_PKG_VERSION")).description(
        "Referral and case management for social work in public libraries. \
             Errors are RFC 9457 problem details (`application/problem+json`).",
    )
}

/// The spec as served and committed: poem-openapi's document, plus what no
/// handler signature can say: every operation that takes an
/// `Idempotency-Key` declares the `Idempotent-Replayed` header (set by the
/// idempotency layer) on its success responses. Derived from the parameter,
/// so the two cannot drift.
pub fn spec() -> &'static serde_json::Value {
    use std::sync::OnceLock;
    static SPEC: OnceLock<serde_json::Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let mut spec: serde_json::Value =
            serde_json::from_str(&openapi_service().spec()).unwrap_or_default();
        close_request_schemas(&mut spec);
        standard_formats(&mut spec);
        declare_every_operations_answers(&mut spec);
        declare_conditional_reads(&mut spec);
        let replayed = serde_json::json!({
            "description": "`true` when this answer replays the first request made with the same `Idempotency-Key`",
            "required": false,
            "schema": {"type": "string", "enum": ["true"]},
        });
        let operations = spec["paths"]
            .as_object_mut()
            .into_iter()
            .flat_map(|paths| paths.values_mut())
            .filter_map(|item| item.as_object_mut())
            .flat_map(|item| item.values_mut());
        for op in operations {
            let keyed = op["parameters"].as_array().is_some_and(|ps| {
                ps.iter().any(|p| {
                    p["name"]
                        .as_str()
                        .is_some_and(|n| n.eq_ignore_ascii_case(idempotency::HEADER))
                })
            });
            let Some(responses) = op["responses"].as_object_mut().filter(|_| keyed) else {
                continue;
            };
            for (status, response) in responses.iter_mut() {
                if status.starts_with('2') {
                    response["headers"]["Idempotent-Replayed"] = replayed.clone();
                }
            }
        }
        spec
    })
}

/// Every object schema a request body uses (directly or inside another)
/// declares `additionalProperties: false`: a field the server does not know
/// is refused by name (`input::check`), never dropped. None of them is also
/// a response schema.
fn close_request_schemas(spec: &mut serde_json::Value) {
    fn refs(node: &serde_json::Value, found: &mut Vec<String>) {
        match node {
            serde_json::Value::Object(map) => {
                if let Some(name) = map
                    .get("$ref")
                    .and_then(|r| r.as_str())
                    .and_then(|r| r.strip_prefix("#/components/schemas/"))
                {
                    found.push(name.to_owned());
                }
                map.values().for_each(|v| refs(v, found));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
            _ => {}
        }
    }
    let mut pending = Vec::new();
    for item in spec["paths"]
        .as_object()
        .into_iter()
        .flat_map(|p| p.values())
    {
        for op in item.as_object().into_iter().flat_map(|o| o.values()) {
            refs(&op["requestBody"], &mut pending);
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    while let Some(name) = pending.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let schema = &mut spec["components"]["schemas"][&name];
        refs(schema, &mut pending);
        if schema["type"] == "object"
            && schema.get("properties").is_some()
            && schema.get("additionalProperties").is_none()
        {
            schema["additionalProperties"] = serde_json::Value::Bool(false);
        }
    }
}

/// Adds to every operation the answers any request may get
/// ([`problem::EVERY_OPERATION`]) that it does not declare itself.
fn declare_every_operations_answers(spec: &mut serde_json::Value) {
    let operations = spec["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(|item| item.as_object_mut())
        .flat_map(|item| item.values_mut())
        .filter_map(|op| op["responses"].as_object_mut());
    for responses in operations {
        for &(status, description) in problem::EVERY_OPERATION {
            let answer = serde_json::json!({
                "description": description,
                "content": {problem::CONTENT_TYPE: {
                    "schema": {"$ref": "#/components/schemas/Problem"}
                }},
            });
            responses.entry(status.to_string()).or_insert(answer);
        }
    }
}

/// Every read whose 200 carries an `ETag` takes `If-None-Match` and may
/// answer 304 with no body ([`conditional::not_modified`], which serves
/// them all, so the spec is derived from the same fact).
fn declare_conditional_reads(spec: &mut serde_json::Value) {
    let parameter = serde_json::json!({
        "name": "If-None-Match",
        "in": "header",
        "description": "ETags the caller holds (`*`, or a list, weak or strong): when one is the record's current ETag, the answer is 304 with no body. The read is still checked and audited as a 200 is.",
        "required": false,
        "deprecated": false,
        "explode": true,
        "schema": {"type": "string"},
    });
    let reads = spec["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(|item| item.get_mut("get"));
    for op in reads {
        let etag = op["responses"]["200"]["headers"]
            .as_object()
            .and_then(|h| h.iter().find(|(k, _)| k.eq_ignore_ascii_case("etag")))
            .map(|(_, v)| v.clone());
        let Some(etag) = etag else {
            continue;
        };
        if let Some(params) = op["parameters"].as_array_mut() {
            params.push(parameter.clone());
        } else {
            op["parameters"] = serde_json::json!([parameter.clone()]);
        }
        op["responses"]["304"] = serde_json::json!({
            "description": "The record has not changed since the ETag the caller sent: no body",
            "headers": {"ETAG": etag},
        });
    }
}

/// poem-openapi names a calendar date `naive-date`, which no generator or
/// validator knows; OpenAPI's own name for it is `date`.
fn standard_formats(node: &mut serde_json::Value) {
    match node {
        serde_json::Value::Object(map) => {
            if map.get("format").and_then(|f| f.as_str()) == Some("naive-date") {
                map.insert("format".to_owned(), "date".into());
            }
            map.values_mut().for_each(standard_formats);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(standard_formats),
        _ => {}
    }
}

/// The spec as committed in `openapi/openapi.yaml`.
pub fn spec_yaml() -> String {
    serde_yaml::to_string(spec()).unwrap_or_default()
}

/// The whole application: API, docs, spec, and the middleware stack.
pub fn app(state: AppState) -> impl Endpoint {
    let api = openapi_service();
    // The bundled Swagger UI, showing the spec as served.
    let docs_html = api
        .swagger_ui_html()
        .replace(&api.spec(), &spec().to_string());
    let spec_json = spec().to_string();
    let spec_yaml = spec_yaml();
    let serve = |content_type: &'static str, body: String| {
        poem::endpoint::make_sync(move |_| {
            poem::Response::builder()
                .content_type(content_type)
                .body(body.clone())
        })
    };
    let routes = Route::new()
        .nest("/", api)
        .at("/docs", serve("text/html; charset=utf-8", docs_html))
        .at("/openapi.json", serve("application/json", spec_json))
        .at("/openapi.yaml", serve("application/x-yaml", spec_yaml));
    // The app's files, each at its exact path (and `/`).
    let routes = crate::web::routes(routes, &state.settings.web_dir);
    let operations = Operations(Arc::new(operations(state.clone()).boxed()));
    crate::web::index_at_root(around_operations(routes, state))
        .data(operations)
        .around(conditional::not_modified)
        .with(Compression::new())
        .around(middleware::timeout)
        .around(middleware::request_id_and_log)
}

/// What every operation runs inside: idempotency keys, the state, problem
/// details.
fn around_operations(routes: Route, state: AppState) -> impl Endpoint {
    routes
        .around(idempotency::idempotency)
        .data(state)
        .around(problem::problem_middleware)
        .data(problem::AllowedMethods(allowed_methods))
        .data(input::Schemas(&spec()["components"]))
}

/// The API's operations as `app` serves them (without compression and the
/// request log, which belong to the outer request): what an uploaded batch
/// of offline writes is applied through ([`Operations`]).
fn operations(state: AppState) -> impl Endpoint<Output = poem::Response> {
    around_operations(Route::new().nest("/", openapi_service()), state).map_to_response()
}

/// The methods the spec offers for a concrete path (for the `Allow` header of
/// a 405), read once from the spec itself so the two cannot disagree.
pub fn allowed_methods(path: &str) -> Option<String> {
    use std::sync::OnceLock;
    static ROUTES: OnceLock<Vec<(Vec<String>, Vec<String>)>> = OnceLock::new();
    let routes = ROUTES.get_or_init(|| {
        let spec = spec();
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
