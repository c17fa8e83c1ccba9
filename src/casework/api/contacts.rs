//! Contacts.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Header, Path, Query},
    payload::Json,
};
use uuid::Uuid;

use crate::http::types::Timestamp;

use crate::http::{
    ApiTags, etag, input::Input, problem::ProblemResponse, security::BearerAuth, write_limit,
};
use crate::text::{ClientId, ETag, IdempotencyKeyText, Line, Text};
use crate::{
    audit::RequestMeta,
    casework::contacts::{self, ContactInput},
    domain::{ContactId, ContactKind, Need},
    state::AppState,
};
use entities::contact;

pub struct ContactsApi;

#[derive(Object, serde::Serialize)]
pub struct ContactOut {
    pub id: Uuid,
    pub worker_id: Uuid,
    pub branch_id: Uuid,
    /// Absent for an anonymous contact.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patron_id: Option<Uuid>,
    /// When it happened, as the device recorded it.
    pub occurred_at: Timestamp,
    /// When the server received it.
    pub recorded_at: Timestamp,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_minutes: Option<i32>,
    pub kind: ContactKind,
    pub needs: Vec<Need>,
    pub services_given: Vec<String>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub version: i32,
    pub updated_at: Timestamp,
}

pub fn contact_out(c: contact::Model) -> ContactOut {
    let needs: Vec<String> = serde_json::from_str(&c.needs).unwrap_or_default();
    ContactOut {
        id: c.id,
        worker_id: c.worker_id,
        branch_id: c.branch_id,
        patron_id: c.patron_id,
        occurred_at: c.occurred_at.into(),
        recorded_at: c.recorded_at.into(),
        duration_minutes: c.duration_minutes,
        // Stored values are written only from the enum.
        kind: ContactKind::parse(&c.kind).unwrap_or(ContactKind::DropIn),
        needs: needs.iter().filter_map(|n| Need::parse(n)).collect(),
        services_given: serde_json::from_str(&c.services_given).unwrap_or_default(),
        note: c.note,
        version: c.version,
        updated_at: c.updated_at.into(),
    }
}

/// Rendered as a read renders it, for a 412's `current`.
impl crate::error::Current for contact::Model {
    fn to_json(&self) -> serde_json::Value {
        let c = self;
        serde_json::to_value(contact_out(c.clone())).unwrap_or_default()
    }
}

#[derive(Object)]
pub struct NewContactIn {
    /// Optional client-chosen UUIDv7 (for records made offline).
    pub id: Option<ClientId>,
    /// One of the caller's branches.
    pub branch_id: Uuid,
    /// Leave out for an anonymous contact.
    pub patron_id: Option<Uuid>,
    /// When it happened, from the device clock (default: now); not before
    /// 2000 and not more than a day ahead of the server's clock.
    pub occurred_at: Option<DateTime<Utc>>,
    #[oai(validator(minimum(value = "0"), maximum(value = "1440")))]
    pub duration_minutes: Option<i32>,
    pub kind: ContactKind,
    #[oai(default, validator(max_items = 12))]
    pub needs: Vec<Need>,
    #[oai(default, validator(max_items = 20))]
    pub services_given: Vec<Line<200>>,
    /// Blank means none.
    pub note: Option<Text<2000, 0>>,
}

#[derive(Object)]
pub struct ContactPatchIn {
    pub patron_id: Option<Uuid>,
    /// Not before 2000, not more than a day ahead of the server's clock.
    pub occurred_at: Option<DateTime<Utc>>,
    #[oai(validator(minimum(value = "0"), maximum(value = "1440")))]
    pub duration_minutes: Option<i32>,
    pub kind: Option<ContactKind>,
    #[oai(validator(max_items = 12))]
    pub needs: Option<Vec<Need>>,
    #[oai(validator(max_items = 20))]
    pub services_given: Option<Vec<Line<200>>>,
    /// Blank changes nothing.
    pub note: Option<Text<2000, 0>>,
}

#[derive(Object)]
pub struct ContactList {
    pub items: Vec<ContactOut>,
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

#[derive(ApiResponse)]
pub enum ContactCreated {
    #[oai(status = 201)]
    Created(Json<ContactOut>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum ContactRead {
    #[oai(status = 200)]
    Ok(Json<ContactOut>, #[oai(header = "ETag")] String),
}

#[OpenApi(prefix_path = "/v1", tag = "ApiTags::Contacts")]
impl ContactsApi {
    /// Log a contact in one request, anonymous or with a patron.
    #[oai(
        operation_id = "createContact",
        path = "/contacts",
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
        body: Input<NewContactIn>,
    ) -> Result<ContactCreated, ProblemResponse> {
        let b = body.0;
        let input = ContactInput {
            branch_id: Some(b.branch_id),
            patron_id: b.patron_id,
            occurred_at: b.occurred_at,
            duration_minutes: b.duration_minutes,
            kind: Some(b.kind),
            needs: Some(b.needs),
            services_given: Some(b.services_given),
            note: b.note,
        };
        let c = contacts::create(&state, &auth.0, &meta, b.id, input).await?;
        let tag = etag(c.version);
        Ok(ContactCreated::Created(Json(contact_out(c)), tag))
    }

    /// One contact.
    #[oai(operation_id = "getContact", path = "/contacts/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> Result<ContactRead, ProblemResponse> {
        let c = contacts::get(&state, &auth.0, &meta, ContactId::new(id.0)).await?;
        let tag = etag(c.version);
        Ok(ContactRead::Ok(Json(contact_out(c)), tag))
    }

    /// Correct a contact (its author). Requires `If-Match`.
    #[oai(
        operation_id = "updateContact",
        path = "/contacts/:id",
        method = "patch",
        transform = "write_limit"
    )]
    async fn update(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<ETag>,
        body: Input<ContactPatchIn>,
    ) -> Result<ContactRead, ProblemResponse> {
        let b = body.0;
        let input = ContactInput {
            branch_id: None,
            patron_id: b.patron_id,
            occurred_at: b.occurred_at,
            duration_minutes: b.duration_minutes,
            kind: b.kind,
            needs: b.needs,
            services_given: b.services_given,
            note: b.note,
        };
        let c = contacts::update(
            &state,
            &auth.0,
            &meta,
            ContactId::new(id.0),
            Some(if_match.0.as_str()),
            input,
        )
        .await?;
        let tag = etag(c.version);
        Ok(ContactRead::Ok(Json(contact_out(c)), tag))
    }

    /// My contacts, newest first, optionally within `[from, to)`.
    #[oai(operation_id = "listMyContacts", path = "/me/contacts", method = "get")]
    async fn mine(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        from: Query<Option<DateTime<Utc>>>,
        to: Query<Option<DateTime<Utc>>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))] limit: Query<Option<u64>>,
        #[oai(validator(max_length = 400))] cursor: Query<Option<String>>,
    ) -> Result<Json<ContactList>, ProblemResponse> {
        let page = contacts::mine(
            &state,
            &auth.0,
            &meta,
            from.0,
            to.0,
            cursor.0.as_deref(),
            limit.0,
        )
        .await?;
        Ok(Json(ContactList {
            items: page.items.into_iter().map(contact_out).collect(),
            next_cursor: page.next_cursor,
        }))
    }
}
