//! Follow-ups.

use chrono::{DateTime, NaiveDate, Utc};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Header, Path, Query},
    payload::Json,
};
use uuid::Uuid;

use crate::http::types::{Date, Timestamp};

use crate::http::{
    ApiTags, etag, input::Input, problem::ProblemResponse, security::BearerAuth, write_limit,
};
use crate::text::{ClientId, ETag, IdempotencyKeyText};
use crate::{
    audit::RequestMeta,
    casework::follow_ups::{self, NewFollowUp},
    domain::{CaseId, ContactId, FollowUpId, FollowUpStatus},
    state::AppState,
};
use entities::follow_up;

pub struct FollowUpsApi;

#[derive(Object, serde::Serialize)]
pub struct FollowUpOut {
    pub id: Uuid,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_id: Option<Uuid>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<Uuid>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patron_id: Option<Uuid>,
    pub branch_id: Uuid,
    pub assigned_to: Uuid,
    pub due_on: Date,
    /// Open and due before today.
    pub overdue: bool,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub status: FollowUpStatus,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub done_at: Option<Timestamp>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub done_by: Option<Uuid>,
    pub version: i32,
    pub created_at: Timestamp,
}

/// A follow-up as it reads on `today` (the service's clock): `overdue` is
/// judged then.
pub fn follow_up_out(f: follow_up::Model, today: NaiveDate) -> FollowUpOut {
    let status = FollowUpStatus::parse(&f.status).unwrap_or(FollowUpStatus::Open);
    FollowUpOut {
        overdue: status == FollowUpStatus::Open && f.due_on < today,
        id: f.id,
        case_id: f.case_id,
        contact_id: f.contact_id,
        patron_id: f.patron_id,
        branch_id: f.branch_id,
        assigned_to: f.assigned_to,
        due_on: f.due_on.into(),
        note: f.note,
        status,
        done_at: f.done_at.map(Into::into),
        done_by: f.done_by,
        version: f.version,
        created_at: f.created_at.into(),
    }
}

/// A follow-up and the service's clock when it was read, rendered as a read
/// renders it, for a 412's `current`.
impl crate::error::Current for (follow_up::Model, DateTime<Utc>) {
    fn to_json(&self) -> serde_json::Value {
        let (f, now) = self;
        serde_json::to_value(follow_up_out(f.clone(), now.date_naive())).unwrap_or_default()
    }
}

#[derive(Object)]
pub struct NewFollowUpIn {
    /// Optional client-chosen UUIDv7.
    pub id: Option<ClientId>,
    /// Exactly one of `case_id` and `contact_id`.
    pub case_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    /// Within a year before and three years after today.
    pub due_on: Date,
    /// May span lines; blank means none.
    pub note: Option<follow_ups::Note>,
}

#[derive(Object)]
pub struct FollowUpList {
    pub items: Vec<FollowUpOut>,
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

#[derive(ApiResponse)]
pub enum FollowUpCreated {
    #[oai(status = 201)]
    Created(Json<FollowUpOut>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum FollowUpRead {
    #[oai(status = 200)]
    Ok(Json<FollowUpOut>, #[oai(header = "ETag")] String),
}

#[OpenApi(prefix_path = "/v1", tag = "ApiTags::FollowUps")]
impl FollowUpsApi {
    /// Set a follow-up on a case or contact you can see; it is assigned to you.
    #[oai(
        operation_id = "createFollowUp",
        path = "/follow-ups",
        method = "post",
        transform = "write_limit"
    )]
    async fn create(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        /// Send the same key again to retry safely: the first answer is replayed.
        #[oai(name = "Idempotency-Key")]
        _idempotency_key: Header<Option<IdempotencyKeyText>>,
        body: Input<NewFollowUpIn>,
    ) -> Result<FollowUpCreated, ProblemResponse> {
        let b = body.0;
        let input = NewFollowUp {
            id: b.id,
            case_id: b.case_id.map(CaseId::new),
            contact_id: b.contact_id.map(ContactId::new),
            due_on: b.due_on.0,
            note: b.note,
        };
        let f = follow_ups::create(&state, &auth.0, &meta, input).await?;
        let tag = etag(f.version);
        Ok(FollowUpCreated::Created(
            Json(follow_up_out(f, state.clock.now().date_naive())),
            tag,
        ))
    }

    /// One follow-up.
    #[oai(operation_id = "getFollowUp", path = "/follow-ups/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> Result<FollowUpRead, ProblemResponse> {
        let f = follow_ups::get(&state, &auth.0, &meta, FollowUpId::new(id.0)).await?;
        let tag = etag(f.version);
        Ok(FollowUpRead::Ok(
            Json(follow_up_out(f, state.clock.now().date_naive())),
            tag,
        ))
    }

    /// Mark a follow-up done. Requires `If-Match`.
    #[oai(
        operation_id = "completeFollowUp",
        path = "/follow-ups/:id/done",
        method = "post"
    )]
    async fn done(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<ETag>,
        /// Send the same key again to retry safely: the first answer is replayed.
        #[oai(name = "Idempotency-Key")]
        _idempotency_key: Header<Option<IdempotencyKeyText>>,
    ) -> Result<FollowUpRead, ProblemResponse> {
        let f = follow_ups::done(
            &state,
            &auth.0,
            &meta,
            FollowUpId::new(id.0),
            Some(if_match.0.as_str()),
        )
        .await?;
        let tag = etag(f.version);
        Ok(FollowUpRead::Ok(
            Json(follow_up_out(f, state.clock.now().date_naive())),
            tag,
        ))
    }

    /// My open follow-ups, earliest due first (overdue ones lead);
    /// `due_by` keeps those due on or before a date ("due this week").
    #[oai(
        operation_id = "listMyFollowUps",
        path = "/me/follow-ups",
        method = "get"
    )]
    async fn mine(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        due_by: Query<Option<Date>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))] limit: Query<Option<u64>>,
        #[oai(validator(max_length = 400))] cursor: Query<Option<String>>,
    ) -> Result<Json<FollowUpList>, ProblemResponse> {
        let page = follow_ups::mine(
            &state,
            &auth.0,
            &meta,
            due_by.0.map(|d| d.0),
            cursor.0.as_deref(),
            limit.0,
        )
        .await?;
        let today = state.clock.now().date_naive();
        Ok(Json(FollowUpList {
            items: page
                .items
                .into_iter()
                .map(|f| follow_up_out(f, today))
                .collect(),
            next_cursor: page.next_cursor,
        }))
    }
}
