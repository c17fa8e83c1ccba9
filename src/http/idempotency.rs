//! `Idempotency-Key` on POST, the HTTP half. This layer only fingerprints the
//! request (method, path and body) and hands key and fingerprint to the
//! operation; the operation claims the key inside its own unit of work,
//! after sign-in and policy, so that a replay is checked and audited like
//! any request (see `unit::Unit::claim`). When the answer is a replay it
//! says so with `Idempotent-Replayed: true`.
//!
//! A keyed POST must declare its `Content-Length` (at most the write body
//! limit): its body is fingerprinted before the operation runs, and is never
//! buffered without a bound.

use std::sync::{Arc, atomic::AtomicBool};

use poem::{
    Body, Endpoint, IntoResponse, Request, Response,
    http::{HeaderValue, Method, StatusCode, header},
};
use sha2::{Digest, Sha256};

use super::problem::Problem;
use crate::idempotency::IdempotencyKey;

pub const HEADER: &str = "idempotency-key";
/// Set on a replayed answer.
pub const REPLAYED: &str = "idempotent-replayed";

/// The request's key and fingerprint, for `RequestMeta`.
#[derive(Debug, Clone)]
pub struct Fingerprint(pub IdempotencyKey);

pub async fn idempotency<E: Endpoint>(next: E, mut req: Request) -> poem::Result<Response> {
    let key = req.header(HEADER).map(str::to_owned);
    let (Some(key), true) = (key, req.method() == Method::POST) else {
        return next.call(req).await.map(IntoResponse::into_response);
    };
    let declared = req
        .header(header::CONTENT_LENGTH)
        .and_then(|v| v.parse::<usize>().ok());
    let Some(declared) = declared else {
        return Ok(Problem::new(
            StatusCode::LENGTH_REQUIRED,
            "length-required",
            "A request with an Idempotency-Key must declare its Content-Length",
        )
        .field("Content-Length", "is required with Idempotency-Key")
        .into_response());
    };
    if declared > super::WRITE_BODY_LIMIT {
        // The endpoint's size limit answers, without reading the body.
        return next.call(req).await.map(IntoResponse::into_response);
    }
    let bytes = req.take_body().into_bytes().await?;
    let mut hasher = Sha256::new();
    hasher.update(req.method().as_str().as_bytes());
    hasher.update(b" ");
    hasher.update(
        req.uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("")
            .as_bytes(),
    );
    hasher.update(b"\n");
    hasher.update(&bytes);
    let replayed = Arc::new(AtomicBool::new(false));
    req.set_data(Fingerprint(IdempotencyKey {
        key,
        request_hash: hex::encode(hasher.finalize()),
        replayed: replayed.clone(),
    }));
    req.set_body(Body::from(bytes));
    let mut resp = next.call(req).await?.into_response();
    if replayed.load(std::sync::atomic::Ordering::SeqCst) && resp.status().is_success() {
        crate::telemetry::idempotency_replay();
        resp.headers_mut()
            .insert(REPLAYED, HeaderValue::from_static("true"));
    }
    Ok(resp)
}
