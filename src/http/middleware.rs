//! Request id, the access log line, and the request timeout.

use std::time::{Duration, Instant};

use poem::{Endpoint, IntoResponse, Request, Response, http::HeaderValue};
use tracing::Instrument;
use uuid::Uuid;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The request's id, available to handlers and the audit recorder.
#[derive(Debug, Clone)]
pub struct RequestIdValue(pub String);

/// Accepts a client's `X-Request-Id` only when it is short and made of
/// token characters, so that it can neither forge log lines nor carry
/// personal data into them; otherwise a new UUIDv7 is used. (poem's own
/// `RequestId` middleware trusts any header and skips errors.)
fn request_id_of(req: &Request) -> String {
    req.header(REQUEST_ID_HEADER)
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        })
        .map(str::to_owned)
        .unwrap_or_else(|| Uuid::now_v7().to_string())
}

/// Outermost middleware: gives every request an id, runs it inside a span that
/// carries the id, echoes the id, and writes one access line. The line has
/// the path without its query string (a search query may hold a name).
pub async fn request_id_and_log<E: Endpoint>(next: E, mut req: Request) -> poem::Result<Response> {
    let request_id = request_id_of(&req);
    req.set_data(RequestIdValue(request_id.clone()));
    let method = req.method().clone();
    let route = route_label(req.uri().path());
    let has_body = req
        .header("content-length")
        .is_some_and(|v| v.trim() != "0")
        || req.header("transfer-encoding").is_some();
    let span =
        tracing::info_span!("request", request_id = %request_id, method = %method, path = %route);
    async move {
        let started = Instant::now();
        let mut resp = match next.call(req).await {
            Ok(r) => r.into_response(),
            Err(e) => e.into_response(),
        };
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            resp.headers_mut().insert(REQUEST_ID_HEADER, v);
        }
        // A refusal can come before the request's body was read (no token,
        // no `If-Match`, too large): the rest of that body is still on the
        // connection, so the answer says the connection closes, and the
        // client opens a new one instead of meeting a broken pipe.
        if has_body && (resp.status().is_client_error() || resp.status().is_server_error()) {
            resp.headers_mut().insert(
                poem::http::header::CONNECTION,
                HeaderValue::from_static("close"),
            );
        }
        // The API's answers carry names and notes: no cache, shared or the
        // browser's own, keeps them (the app keeps its copy itself, sealed).
        if is_api(&route)
            && !resp
                .headers()
                .contains_key(poem::http::header::CACHE_CONTROL)
        {
            resp.headers_mut().insert(
                poem::http::header::CACHE_CONTROL,
                HeaderValue::from_static("no-store"),
            );
        }
        let operation = resp
            .data::<poem_openapi::OperationId>()
            .map(|op| op.0)
            .unwrap_or(if is_api(&route) { "none" } else { "app" });
        crate::telemetry::request(operation, resp.status().as_u16(), started.elapsed());
        tracing::info!(
            status = resp.status().as_u16(),
            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
            "request served"
        );
        Ok(resp)
    }
    .instrument(span)
    .await
}

/// Whether a path is the API's (`/v1/...`), as opposed to the app's files,
/// the docs and the spec.
fn is_api(route: &str) -> bool {
    route.starts_with("/v1/") || route == "/v1"
}

/// The path with anything that is not a plain segment or a UUID replaced, so
/// that a path can never carry free text into the log.
fn route_label(path: &str) -> String {
    let mut out = String::new();
    for seg in path.split('/').filter(|s| !s.is_empty()).take(8) {
        out.push('/');
        let plain = seg.len() <= 32
            && seg.chars().all(|c| {
                c.is_ascii_lowercase() || c == '-' || c == '_' || c == '.' || c.is_ascii_digit()
            });
        if plain || Uuid::parse_str(seg).is_ok() {
            out.push_str(seg);
        } else {
            out.push_str(":param");
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// Longest a request may run before the service answers 503. A write it
/// had handed to the writer still commits (with its audit event); a retry
/// with the same `Idempotency-Key` gets that answer.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Bounds every request by [`REQUEST_TIMEOUT`] (until its answer's head;
/// an export's body streams on).
pub async fn timeout<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    match tokio::time::timeout(REQUEST_TIMEOUT, next.call(req)).await {
        Ok(answer) => answer.map(IntoResponse::into_response),
        Err(_) => Ok(super::problem::Problem::new(
            poem::http::StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "The request took too long",
        )
        .detail("Retry with the same Idempotency-Key: a write that went through is answered, not made twice")
        .into_response()),
    }
}
