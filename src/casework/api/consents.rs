//! Consents (releases of information).

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Header, Path, Query},
    payload::Json,
};
use uuid::Uuid;

use crate::http::types::Timestamp;
use crate::text::{ClientId, ETag, IdempotencyKeyText, Line, Text};

use crate::http::{
    ApiTags, etag, input::Input, problem::ProblemResponse, security::BearerAuth, write_limit,
};
use crate::{
    audit::RequestMeta,
    casework::consents::{self, NewConsent},
    domain::{ConsentId, ConsentMethod, PatronId},
    state::AppState,
};
use entities::consent;

pub struct ConsentsApi;

#[derive(Object, serde::Serialize)]
pub struct ConsentOut {
    pub id: Uuid,
    pub patron_id: Uuid,
    /// The organization or service information may go to.
    pub recipient: String,
    /// What may be shared.
    pub scope: String,
    pub purpose: String,
    pub method: ConsentMethod,
    pub given_at: Timestamp,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Timestamp>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_by: Option<Uuid>,
    /// Given, not expired and not revoked, now.
    pub valid: bool,
    pub version: i32,
    pub created_by: Uuid,
    pub recorded_at: Timestamp,
}

/// A consent as it reads at `now` (the service's clock): `valid` is judged
/// then.
pub fn consent_out(c: consent::Model, now: DateTime<Utc>) -> ConsentOut {
    let now = crate::audit::format_time(now);
    let valid = c.revoked_at.is_none()
        && c.given_at <= now
        && c.expires_at.as_ref().is_none_or(|e| *e > now);
    ConsentOut {
        id: c.id,
        patron_id: c.patron_id,
        recipient: c.recipient,
        scope: c.scope,
        purpose: c.purpose,
        method: ConsentMethod::parse(&c.method).unwrap_or(ConsentMethod::Verbal),
        given_at: c.given_at.into(),
        expires_at: c.expires_at.map(Into::into),
        revoked_at: c.revoked_at.map(Into::into),
        revoked_by: c.revoked_by,
        valid,
        version: c.version,
        created_by: c.created_by,
        recorded_at: c.recorded_at.into(),
    }
}

/// A consent and the service's clock when it was read, rendered as a read
/// renders it, for a 412's `current`.
impl crate::error::Current for (consent::Model, DateTime<Utc>) {
    fn to_json(&self) -> serde_json::Value {
        let (c, now) = self;
        serde_json::to_value(consent_out(c.clone(), *now)).unwrap_or_default()
    }
}

#[derive(Object)]
pub struct NewConsentIn {
    /// Optional client-chosen UUIDv7.
    pub id: Option<ClientId>,
    /// Who may receive the information (an agency or a person).
    pub recipient: Line<200>,
    /// What may be shared; may span lines.
    pub scope: Text<1000>,
    /// Why; may span lines.
    pub purpose: Text<1000>,
    pub method: ConsentMethod,
    /// When the patron gave it (default: now); not before 2000 and not more
    /// than a day ahead of the server's clock.
    pub given_at: Option<DateTime<Utc>>,
    /// Must be after `given_at`.
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Object)]
pub struct ConsentList {
    pub items: Vec<ConsentOut>,
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

#[derive(ApiResponse)]
pub enum ConsentCreated {
    #[oai(status = 201)]
    Created(Json<ConsentOut>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum ConsentRead {
    #[oai(status = 200)]
    Ok(Json<ConsentOut>, #[oai(header = "ETag")] String),
}

#[OpenApi(prefix_path = "/v1", tag = "ApiTags::Consents")]
impl ConsentsApi {
    /// Record a patron's consent to share information with a recipient
    /// (social workers on the patron's case).
    #[oai(
        operation_id = "createConsent",
        path = "/patrons/:id/consents",
        method = "post",
        transform = "write_limit"
    )]
    async fn create(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
        /// Send the same key again to retry safely: the first answer is replayed.
        #[oai(name = "Idempotency-Key")]
        _idempotency_key: Header<Option<IdempotencyKeyText>>,
        body: Input<NewConsentIn>,
    ) -> Result<ConsentCreated, ProblemResponse> {
        let b = body.0;
        let input = NewConsent {
            id: b.id,
            recipient: b.recipient,
            scope: b.scope,
            purpose: b.purpose,
            method: b.method,
            given_at: b.given_at,
            expires_at: b.expires_at,
        };
        let c = consents::create(&state, &auth.0, &meta, PatronId::new(id.0), input).await?;
        let tag = etag(c.version);
        Ok(ConsentCreated::Created(
            Json(consent_out(c, state.clock.now())),
            tag,
        ))
    }

    /// A patron's consents, newest first.
    #[oai(
        operation_id = "listPatronConsents",
        path = "/patrons/:id/consents",
        method = "get"
    )]
    async fn list(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))] limit: Query<Option<u64>>,
        #[oai(validator(max_length = 400))] cursor: Query<Option<String>>,
    ) -> Result<Json<ConsentList>, ProblemResponse> {
        let page = consents::list(
            &state,
            &auth.0,
            &meta,
            PatronId::new(id.0),
            cursor.0.as_deref(),
            limit.0,
        )
        .await?;
        let now = state.clock.now();
        Ok(Json(ConsentList {
            items: page
                .items
                .into_iter()
                .map(|c| consent_out(c, now))
                .collect(),
            next_cursor: page.next_cursor,
        }))
    }

    /// Revoke a consent from now on. Requires `If-Match`.
    #[oai(
        operation_id = "revokeConsent",
        path = "/consents/:id/revoke",
        method = "post"
    )]
    async fn revoke(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<ETag>,
        /// Send the same key again to retry safely: the first answer is replayed.
        #[oai(name = "Idempotency-Key")]
        _idempotency_key: Header<Option<IdempotencyKeyText>>,
    ) -> Result<ConsentRead, ProblemResponse> {
        let c = consents::revoke(
            &state,
            &auth.0,
            &meta,
            ConsentId::new(id.0),
            Some(if_match.0.as_str()),
        )
        .await?;
        let tag = etag(c.version);
        Ok(ConsentRead::Ok(
            Json(consent_out(c, state.clock.now())),
            tag,
        ))
    }
}
