//! Patrons.

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
use crate::text::{ClientId, ETag, IdempotencyKeyText, Line};
use crate::{
    audit::RequestMeta,
    casework::patrons::{self, PatronInput},
    domain::{ContactPreference, PatronId},
    state::AppState,
};
use entities::patron;

pub struct PatronsApi;

#[derive(Object, serde::Serialize)]
pub struct PatronOut {
    pub id: Uuid,
    pub preferred_name: String,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legal_name: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birth_year: Option<i32>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<Date>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_preference: Option<ContactPreference>,
    pub do_not_contact: bool,
    pub home_branch_id: Uuid,
    pub version: i32,
    pub created_by: Uuid,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

pub fn patron_out(p: patron::Model) -> PatronOut {
    PatronOut {
        id: p.id,
        preferred_name: p.preferred_name,
        legal_name: p.legal_name,
        birth_year: p.birth_year,
        birth_date: p.birth_date.map(Into::into),
        language: p.language,
        contact_preference: p
            .contact_preference
            .as_deref()
            .and_then(ContactPreference::parse),
        do_not_contact: p.do_not_contact,
        home_branch_id: p.home_branch_id,
        version: p.version,
        created_by: p.created_by,
        created_at: p.created_at.into(),
        updated_at: p.updated_at.into(),
    }
}

/// Rendered as a read renders it, for a 412's `current`.
impl crate::error::Current for patron::Model {
    fn to_json(&self) -> serde_json::Value {
        let p = self;
        serde_json::to_value(patron_out(p.clone())).unwrap_or_default()
    }
}

#[derive(Object)]
pub struct NewPatronIn {
    /// Optional client-chosen UUIDv7 (for records made offline).
    pub id: Option<ClientId>,
    /// The name the person goes by; an alias is fine. Required.
    pub preferred_name: Line<200>,
    /// Blank means none.
    pub legal_name: Option<Line<200, 0>>,
    /// From 1900 to the current year.
    #[oai(validator(minimum(value = "1900")))]
    pub birth_year: Option<i32>,
    /// A past date; its year must agree with `birth_year` when both are given.
    pub birth_date: Option<Date>,
    /// Preferred language, e.g. `es`. Blank means none.
    pub language: Option<Line<35, 0>>,
    pub contact_preference: Option<ContactPreference>,
    pub do_not_contact: Option<bool>,
    /// Where the person is usually met; one of the caller's branches.
    pub home_branch_id: Uuid,
}

#[derive(Object)]
pub struct PatronPatchIn {
    pub preferred_name: Option<Line<200>>,
    pub legal_name: Option<Line<200, 0>>,
    /// From 1900 to the current year.
    #[oai(validator(minimum(value = "1900")))]
    pub birth_year: Option<i32>,
    /// A past date; its year must agree with `birth_year` when both are given.
    pub birth_date: Option<Date>,
    pub language: Option<Line<35, 0>>,
    pub contact_preference: Option<ContactPreference>,
    pub do_not_contact: Option<bool>,
    pub home_branch_id: Option<Uuid>,
}

#[derive(Object)]
pub struct PatronCreatedOut {
    pub patron: PatronOut,
    /// Patrons you can see with the same name and birth year: check before
    /// going on. Nothing is merged.
    pub possible_duplicates: Vec<Uuid>,
}

#[derive(Object)]
pub struct PatronList {
    pub items: Vec<PatronOut>,
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

#[derive(ApiResponse)]
pub enum PatronCreated {
    #[oai(status = 201)]
    Created(Json<PatronCreatedOut>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum PatronRead {
    #[oai(status = 200)]
    Ok(Json<PatronOut>, #[oai(header = "ETag")] String),
}

#[OpenApi(prefix_path = "/v1/patrons", tag = "ApiTags::Patrons")]
impl PatronsApi {
    /// Record a patron (peers and social workers, in their own branches).
    /// Possible duplicates are flagged in the answer, not merged.
    #[oai(
        operation_id = "createPatron",
        path = "/",
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
        body: Input<NewPatronIn>,
    ) -> Result<PatronCreated, ProblemResponse> {
        let b = body.0;
        let input = PatronInput {
            preferred_name: Some(b.preferred_name),
            legal_name: b.legal_name,
            birth_year: b.birth_year,
            birth_date: b.birth_date.map(|d| d.0),
            language: b.language,
            contact_preference: b.contact_preference,
            do_not_contact: b.do_not_contact,
            home_branch_id: Some(b.home_branch_id),
        };
        let c = patrons::create(&state, &auth.0, &meta, b.id, input).await?;
        let tag = etag(c.patron.version);
        Ok(PatronCreated::Created(
            Json(PatronCreatedOut {
                patron: patron_out(c.patron),
                possible_duplicates: c.possible_duplicates,
            }),
            tag,
        ))
    }

    /// Patrons you may see; with `q`, those whose name or alias has a word
    /// starting with `q` (case and accents ignored).
    #[oai(operation_id = "searchPatrons", path = "/", method = "get")]
    async fn search(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        /// One line, 1 to 100 characters.
        q: Query<Option<Line<100>>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))] limit: Query<Option<u64>>,
        #[oai(validator(max_length = 400))] cursor: Query<Option<String>>,
    ) -> Result<Json<PatronList>, ProblemResponse> {
        let page = patrons::search(
            &state,
            &auth.0,
            &meta,
            q.0.as_ref().map(Line::as_str),
            cursor.0.as_deref(),
            limit.0,
        )
        .await?;
        Ok(Json(PatronList {
            items: page.items.into_iter().map(patron_out).collect(),
            next_cursor: page.next_cursor,
        }))
    }

    /// One patron.
    #[oai(operation_id = "getPatron", path = "/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> Result<PatronRead, ProblemResponse> {
        let p = patrons::get(&state, &auth.0, &meta, PatronId::new(id.0)).await?;
        let tag = etag(p.version);
        Ok(PatronRead::Ok(Json(patron_out(p)), tag))
    }

    /// Change a patron (supervisors of the branch). Requires `If-Match`.
    #[oai(
        operation_id = "updatePatron",
        path = "/:id",
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
        body: Input<PatronPatchIn>,
    ) -> Result<PatronRead, ProblemResponse> {
        let b = body.0;
        let input = PatronInput {
            preferred_name: b.preferred_name,
            legal_name: b.legal_name,
            birth_year: b.birth_year,
            birth_date: b.birth_date.map(|d| d.0),
            language: b.language,
            contact_preference: b.contact_preference,
            do_not_contact: b.do_not_contact,
            home_branch_id: b.home_branch_id,
        };
        let p = patrons::update(
            &state,
            &auth.0,
            &meta,
            PatronId::new(id.0),
            Some(if_match.0.as_str()),
            input,
        )
        .await?;
        let tag = etag(p.version);
        Ok(PatronRead::Ok(Json(patron_out(p)), tag))
    }
}
