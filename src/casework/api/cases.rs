//! Cases, their teams and notes.

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
use crate::text::{ClientId, ETag, IdempotencyKeyText};
use crate::{
    audit::RequestMeta,
    casework::{
        cases::{self, CaseView, Change, NewCase},
        notes::{self, NewNote},
    },
    domain::{CaseId, CaseStatus, NoteId, PatronId, Sensitivity, StaffId},
    state::AppState,
};
use entities::case_note;

pub struct CasesApi;

#[derive(Object, serde::Serialize)]
pub struct CaseOut {
    pub id: Uuid,
    pub patron_id: Uuid,
    pub owner_id: Uuid,
    pub branch_id: Uuid,
    pub status: CaseStatus,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    pub opened_at: Timestamp,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<Timestamp>,
    /// The reason given for the last close or reopen (absent from a peer's summary).
    #[oai(skip_serializing_if_is_none)]
    pub status_reason: Option<String>,
    /// Team members besides the owner (peers included).
    pub team: Vec<Uuid>,
    pub last_activity_at: Timestamp,
    pub version: i32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

pub fn case_out(v: CaseView) -> CaseOut {
    let shows_reason = v.shows("status_reason");
    let c = v.case;
    CaseOut {
        id: c.id,
        patron_id: c.patron_id,
        owner_id: c.owner_id,
        branch_id: c.branch_id,
        status: CaseStatus::parse(&c.status).unwrap_or(CaseStatus::Open),
        summary: c.summary,
        opened_at: c.opened_at.into(),
        closed_at: c.closed_at.map(Into::into),
        status_reason: c.status_reason.filter(|_| shows_reason),
        team: v.team,
        last_activity_at: c.last_activity_at.into(),
        version: c.version,
        created_at: c.created_at.into(),
        updated_at: c.updated_at.into(),
    }
}

/// Rendered as a read renders it, for a 412's `current`.
impl crate::error::Current for CaseView {
    fn to_json(&self) -> serde_json::Value {
        let v = self;
        serde_json::to_value(case_out(v.clone())).unwrap_or_default()
    }
}

#[derive(Object)]
pub struct NewCaseIn {
    /// Optional client-chosen UUIDv7.
    pub id: Option<ClientId>,
    pub patron_id: Uuid,
    /// Defaults to the patron's home branch; must be one of the caller's.
    pub branch_id: Option<Uuid>,
    /// May span lines; blank means none.
    pub summary: Option<cases::Summary>,
}

#[derive(Object)]
pub struct CasePatchIn {
    /// May span lines; blank clears it.
    pub summary: cases::Summary,
}

#[derive(Object)]
pub struct TeamMemberIn {
    /// A peer, social worker or supervisor.
    pub staff_id: Uuid,
}

#[derive(Object)]
pub struct ReasonIn {
    /// May span lines.
    pub reason: cases::Reason,
}

#[derive(Object)]
pub struct ReassignIn {
    /// The social worker who will own the case.
    pub owner_id: Uuid,
}

#[derive(Object)]
pub struct CaseloadItemOut {
    pub case: CaseOut,
    pub open_referrals: u64,
    pub overdue_follow_ups: u64,
}

#[derive(Object)]
pub struct Caseload {
    pub items: Vec<CaseloadItemOut>,
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

#[derive(Object)]
pub struct NoteOut {
    pub id: Uuid,
    pub case_id: Uuid,
    pub author_id: Uuid,
    pub sensitivity: Sensitivity,
    pub body: String,
    /// The earlier note this one corrects.
    #[oai(skip_serializing_if_is_none)]
    pub amends_note_id: Option<Uuid>,
    pub occurred_at: Timestamp,
    pub recorded_at: Timestamp,
}

pub fn note_out(n: case_note::Model) -> NoteOut {
    NoteOut {
        id: n.id,
        case_id: n.case_id,
        author_id: n.author_id,
        sensitivity: Sensitivity::parse(&n.sensitivity).unwrap_or(Sensitivity::Restricted),
        body: n.body,
        amends_note_id: n.amends_note_id,
        occurred_at: n.occurred_at.into(),
        recorded_at: n.recorded_at.into(),
    }
}

#[derive(Object)]
pub struct NewNoteIn {
    /// Optional client-chosen UUIDv7.
    pub id: Option<ClientId>,
    // `standard` when left out (a description here would wrap the enum in
    // `allOf`, which generated clients mishandle).
    pub sensitivity: Option<Sensitivity>,
    /// May span lines.
    pub body: notes::Body,
    /// Set to correct an earlier note (notes are never edited).
    pub amends_note_id: Option<Uuid>,
    pub occurred_at: Option<DateTime<Utc>>,
}

#[derive(Object)]
pub struct NoteList {
    pub items: Vec<NoteOut>,
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

#[derive(ApiResponse)]
pub enum CaseCreated {
    #[oai(status = 201)]
    Created(Json<CaseOut>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum CaseRead {
    #[oai(status = 200)]
    Ok(Json<CaseOut>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum NoteCreated {
    #[oai(status = 201)]
    Created(Json<NoteOut>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum NoteRead {
    #[oai(status = 200)]
    Ok(Json<NoteOut>, #[oai(header = "ETag")] String),
}

fn read(v: CaseView) -> CaseRead {
    let tag = etag(v.case.version);
    CaseRead::Ok(Json(case_out(v)), tag)
}

#[OpenApi(prefix_path = "/v1", tag = "ApiTags::Cases")]
impl CasesApi {
    /// Open a case for a patron (social workers); the caller owns it.
    #[oai(
        operation_id = "openCase",
        path = "/cases",
        method = "post",
        transform = "write_limit"
    )]
    async fn open(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        /// Send the same key again to retry safely: the first answer is replayed.
        #[oai(name = "Idempotency-Key")]
        _idempotency_key: Header<Option<IdempotencyKeyText>>,
        body: Input<NewCaseIn>,
    ) -> Result<CaseCreated, ProblemResponse> {
        let b = body.0;
        let input = NewCase {
            id: b.id,
            patron_id: PatronId::new(b.patron_id),
            branch_id: b.branch_id,
            summary: b.summary,
        };
        let v = cases::open(&state, &auth.0, &meta, input).await?;
        let tag = etag(v.case.version);
        Ok(CaseCreated::Created(Json(case_out(v)), tag))
    }

    /// One case (peers on the team see it too).
    #[oai(operation_id = "getCase", path = "/cases/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> Result<CaseRead, ProblemResponse> {
        Ok(read(
            cases::get(&state, &auth.0, &meta, CaseId::new(id.0)).await?,
        ))
    }

    /// Change the case summary. Requires `If-Match`.
    #[oai(
        operation_id = "updateCase",
        path = "/cases/:id",
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
        body: Input<CasePatchIn>,
    ) -> Result<CaseRead, ProblemResponse> {
        let change = Change::Summary(body.0.summary);
        Ok(read(
            cases::change(
                &state,
                &auth.0,
                &meta,
                CaseId::new(id.0),
                Some(if_match.0.as_str()),
                change,
            )
            .await?,
        ))
    }

    /// Add a team member (the owner or a branch supervisor). Requires `If-Match`.
    #[oai(
        operation_id = "addCaseTeamMember",
        path = "/cases/:id/team",
        method = "post",
        transform = "write_limit"
    )]
    async fn add_member(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<ETag>,
        /// Send the same key again to retry safely: the first answer is replayed.
        #[oai(name = "Idempotency-Key")]
        _idempotency_key: Header<Option<IdempotencyKeyText>>,
        body: Input<TeamMemberIn>,
    ) -> Result<CaseRead, ProblemResponse> {
        let change = Change::AddMember(StaffId::new(body.0.staff_id));
        Ok(read(
            cases::change(
                &state,
                &auth.0,
                &meta,
                CaseId::new(id.0),
                Some(if_match.0.as_str()),
                change,
            )
            .await?,
        ))
    }

    /// Remove a team member. Requires `If-Match`.
    #[oai(
        operation_id = "removeCaseTeamMember",
        path = "/cases/:id/team/:staff_id",
        method = "delete"
    )]
    async fn remove_member(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
        staff_id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<ETag>,
    ) -> Result<CaseRead, ProblemResponse> {
        let change = Change::RemoveMember(StaffId::new(staff_id.0));
        Ok(read(
            cases::change(
                &state,
                &auth.0,
                &meta,
                CaseId::new(id.0),
                Some(if_match.0.as_str()),
                change,
            )
            .await?,
        ))
    }

    /// Close the case, with a reason. Requires `If-Match`.
    #[oai(
        operation_id = "closeCase",
        path = "/cases/:id/close",
        method = "post",
        transform = "write_limit"
    )]
    async fn close(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<ETag>,
        /// Send the same key again to retry safely: the first answer is replayed.
        #[oai(name = "Idempotency-Key")]
        _idempotency_key: Header<Option<IdempotencyKeyText>>,
        body: Input<ReasonIn>,
    ) -> Result<CaseRead, ProblemResponse> {
        let change = Change::Close(body.0.reason);
        Ok(read(
            cases::change(
                &state,
                &auth.0,
                &meta,
                CaseId::new(id.0),
                Some(if_match.0.as_str()),
                change,
            )
            .await?,
        ))
    }

    /// Reopen a closed case, with a reason. Requires `If-Match`.
    #[oai(
        operation_id = "reopenCase",
        path = "/cases/:id/reopen",
        method = "post",
        transform = "write_limit"
    )]
    async fn reopen(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<ETag>,
        /// Send the same key again to retry safely: the first answer is replayed.
        #[oai(name = "Idempotency-Key")]
        _idempotency_key: Header<Option<IdempotencyKeyText>>,
        body: Input<ReasonIn>,
    ) -> Result<CaseRead, ProblemResponse> {
        let change = Change::Reopen(body.0.reason);
        Ok(read(
            cases::change(
                &state,
                &auth.0,
                &meta,
                CaseId::new(id.0),
                Some(if_match.0.as_str()),
                change,
            )
            .await?,
        ))
    }

    /// Give the case to another social worker (branch supervisors). Requires `If-Match`.
    #[oai(
        operation_id = "reassignCase",
        path = "/cases/:id/reassign",
        method = "post",
        transform = "write_limit"
    )]
    async fn reassign(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<ETag>,
        /// Send the same key again to retry safely: the first answer is replayed.
        #[oai(name = "Idempotency-Key")]
        _idempotency_key: Header<Option<IdempotencyKeyText>>,
        body: Input<ReassignIn>,
    ) -> Result<CaseRead, ProblemResponse> {
        let change = Change::Reassign(StaffId::new(body.0.owner_id));
        Ok(read(
            cases::change(
                &state,
                &auth.0,
                &meta,
                CaseId::new(id.0),
                Some(if_match.0.as_str()),
                change,
            )
            .await?,
        ))
    }

    /// My caseload: open cases I own or work on, newest activity first.
    #[oai(operation_id = "listMyCaseload", path = "/me/caseload", method = "get")]
    async fn caseload(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))] limit: Query<Option<u64>>,
        #[oai(validator(max_length = 400))] cursor: Query<Option<String>>,
    ) -> Result<Json<Caseload>, ProblemResponse> {
        let page = cases::caseload(&state, &auth.0, &meta, cursor.0.as_deref(), limit.0).await?;
        Ok(Json(Caseload {
            items: page
                .items
                .into_iter()
                .map(|i| CaseloadItemOut {
                    case: case_out(i.view),
                    open_referrals: i.open_referrals,
                    overdue_follow_ups: i.overdue_follow_ups,
                })
                .collect(),
            next_cursor: page.next_cursor,
        }))
    }

    /// Add a note to a case. Notes are never edited: to correct one, add a
    /// note with `amends_note_id`.
    #[oai(
        operation_id = "addCaseNote",
        path = "/cases/:id/notes",
        method = "post",
        transform = "write_limit"
    )]
    async fn add_note(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
        /// Send the same key again to retry safely: the first answer is replayed.
        #[oai(name = "Idempotency-Key")]
        _idempotency_key: Header<Option<IdempotencyKeyText>>,
        body: Input<NewNoteIn>,
    ) -> Result<NoteCreated, ProblemResponse> {
        let b = body.0;
        let input = NewNote {
            id: b.id,
            sensitivity: b.sensitivity.unwrap_or(Sensitivity::Standard),
            body: b.body,
            amends_note_id: b.amends_note_id,
            occurred_at: b.occurred_at,
        };
        let n = notes::create(&state, &auth.0, &meta, CaseId::new(id.0), input).await?;
        Ok(NoteCreated::Created(Json(note_out(n)), etag(1)))
    }

    /// The notes of a case you may read, oldest first.
    #[oai(
        operation_id = "listCaseNotes",
        path = "/cases/:id/notes",
        method = "get"
    )]
    async fn notes(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))] limit: Query<Option<u64>>,
        #[oai(validator(max_length = 400))] cursor: Query<Option<String>>,
    ) -> Result<Json<NoteList>, ProblemResponse> {
        let page = notes::list(
            &state,
            &auth.0,
            &meta,
            CaseId::new(id.0),
            cursor.0.as_deref(),
            limit.0,
        )
        .await?;
        Ok(Json(NoteList {
            items: page.items.into_iter().map(note_out).collect(),
            next_cursor: page.next_cursor,
        }))
    }

    /// One note.
    #[oai(
        operation_id = "getCaseNote",
        path = "/cases/:id/notes/:note_id",
        method = "get"
    )]
    async fn note(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
        note_id: Path<Uuid>,
    ) -> Result<NoteRead, ProblemResponse> {
        let n = notes::get(
            &state,
            &auth.0,
            &meta,
            CaseId::new(id.0),
            NoteId::new(note_id.0),
        )
        .await?;
        Ok(NoteRead::Ok(Json(note_out(n)), etag(1)))
    }
}
