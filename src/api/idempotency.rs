//! `Idempotency-Key` on POST: a retry with the same key and body gets the
//! first answer again instead of doing the work twice; the same key with
//! another body is refused (422). Keys belong to the signed-in account and
//! are kept for 24 hours. Only successful answers are kept: a request that
//! failed may simply be sent again.

use chrono::{Duration, Utc};
use poem::{
    Body, Endpoint, IntoResponse, Request, Response,
    http::{Method, StatusCode, header},
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
    SqlErr,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::problem::Problem;
use crate::startup::AppState;
use entities::idempotency_record;

pub const HEADER: &str = "idempotency-key";
/// Set on a replayed answer.
pub const REPLAYED: &str = "idempotent-replayed";
const KEEP_FOR: Duration = Duration::hours(24);
/// A first request still unanswered after this long is taken to have died.
const PENDING_TIMEOUT: Duration = Duration::seconds(60);

fn problem(status: StatusCode, slug: &str, title: &str, detail: &str) -> Response {
    Problem::new(status, slug, title)
        .detail(detail)
        .field("Idempotency-Key", detail)
        .into_response()
}

fn caller(state: &AppState, req: &Request) -> Option<Uuid> {
    let value = req.header(header::AUTHORIZATION)?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))?;
    state.keys.check(token.trim()).map(|c| c.sub)
}

pub async fn idempotency<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    let key = req.header(HEADER).map(str::to_owned);
    let state = req.data::<AppState>().cloned();
    let (Some(key), Some(state), true) = (key, state, req.method() == Method::POST) else {
        return next.call(req).await.map(IntoResponse::into_response);
    };
    if key.is_empty() || key.len() > 200 || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Ok(problem(
            StatusCode::BAD_REQUEST,
            "invalid-parameter",
            "The Idempotency-Key is invalid",
            "must be 1 to 200 visible ASCII characters",
        ));
    }
    // Without a valid token the endpoint answers 401 itself.
    let Some(staff_id) = caller(&state, &req) else {
        return next.call(req).await.map(IntoResponse::into_response);
    };
    let declared = req
        .header(header::CONTENT_LENGTH)
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    if declared > super::WRITE_BODY_LIMIT {
        // Let the endpoint's size limit answer.
        return next.call(req).await.map(IntoResponse::into_response);
    }
    let (parts, body) = req.into_parts();
    let bytes = body.into_bytes().await?;
    let mut hasher = Sha256::new();
    hasher.update(parts.method.as_str().as_bytes());
    hasher.update(b" ");
    hasher.update(
        parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("")
            .as_bytes(),
    );
    hasher.update(b"\n");
    hasher.update(&bytes);
    let hash = hex::encode(hasher.finalize());

    match claim(&state, staff_id, &key, &hash).await {
        Claim::Run => {}
        Claim::Replay(record) => return Ok(replay(record)),
        Claim::OtherBody => {
            return Ok(problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "This Idempotency-Key was used for another request",
                "use a new key for a different request",
            ));
        }
        Claim::InProgress => {
            let mut resp = problem(
                StatusCode::CONFLICT,
                "idempotency-in-progress",
                "The first request with this Idempotency-Key is still running",
                "retry shortly",
            );
            resp.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
            return Ok(resp);
        }
        Claim::Failed => {
            return Ok(Problem::for_status(StatusCode::SERVICE_UNAVAILABLE).into_response());
        }
    }

    let req = Request::from_parts(parts, Body::from(bytes));
    let resp = match next.call(req).await {
        Ok(r) => r.into_response(),
        Err(e) => {
            forget(&state, staff_id, &key).await;
            return Err(e);
        }
    };
    if !resp.status().is_success() {
        forget(&state, staff_id, &key).await;
        return Ok(resp);
    }
    let (parts, body) = resp.into_parts();
    let bytes = body.into_bytes().await?;
    let etag = parts
        .headers
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    remember(&state, staff_id, &key, parts.status.as_u16(), etag, &bytes).await;
    Ok(Response::from_parts(parts, Body::from(bytes)))
}

enum Claim {
    Run,
    Replay(idempotency_record::Model),
    OtherBody,
    InProgress,
    Failed,
}

/// Takes the key for this request, or says what became of its first use.
async fn claim(state: &AppState, staff_id: Uuid, key: &str, hash: &str) -> Claim {
    let now = Utc::now();
    let _ = idempotency_record::Entity::delete_many()
        .filter(idempotency_record::Column::CreatedAt.lt(now - KEEP_FOR))
        .exec(&state.db)
        .await;
    let row = idempotency_record::ActiveModel {
        staff_id: Set(staff_id),
        key: Set(key.to_owned()),
        request_hash: Set(hash.to_owned()),
        status: Set(None),
        etag: Set(None),
        body: Set(None),
        created_at: Set(now),
    };
    match row.insert(&state.db).await {
        Ok(_) => return Claim::Run,
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {}
        Err(e) => {
            let _ = crate::error::ServiceError::unexpected("idempotency claim", e);
            return Claim::Failed;
        }
    }
    let Ok(Some(existing)) = idempotency_record::Entity::find_by_id((staff_id, key.to_owned()))
        .one(&state.db)
        .await
    else {
        return Claim::Failed;
    };
    if existing.request_hash != hash {
        return Claim::OtherBody;
    }
    if existing.status.is_some() {
        return Claim::Replay(existing);
    }
    if existing.created_at > now - PENDING_TIMEOUT {
        return Claim::InProgress;
    }
    // The first attempt died without an answer: this one takes over.
    let mut m = existing.into_active_model();
    m.created_at = Set(now);
    match m.update(&state.db).await {
        Ok(_) => Claim::Run,
        Err(_) => Claim::Failed,
    }
}

async fn remember(
    state: &AppState,
    staff_id: Uuid,
    key: &str,
    status: u16,
    etag: Option<String>,
    body: &[u8],
) {
    let row = idempotency_record::ActiveModel {
        staff_id: Set(staff_id),
        key: Set(key.to_owned()),
        status: Set(Some(i32::from(status))),
        etag: Set(etag),
        body: Set(Some(String::from_utf8_lossy(body).into_owned())),
        ..Default::default()
    };
    if let Err(e) = row.update(&state.db).await {
        let _ = crate::error::ServiceError::unexpected("idempotency remember", e);
    }
}

async fn forget(state: &AppState, staff_id: Uuid, key: &str) {
    let _ = idempotency_record::Entity::delete_by_id((staff_id, key.to_owned()))
        .exec(&state.db)
        .await;
}

fn replay(record: idempotency_record::Model) -> Response {
    let status = record
        .status
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let mut builder = Response::builder()
        .status(status)
        .content_type("application/json; charset=utf-8")
        .header(REPLAYED, "true");
    if let Some(etag) = record.etag {
        builder = builder.header(header::ETAG, etag);
    }
    builder.body(record.body.unwrap_or_default())
}
