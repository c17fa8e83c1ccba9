//! Break-glass grants: opened by supervisors, reviewed by auditors.

use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Header, Path, Query},
    payload::Json,
};
use uuid::Uuid;

use crate::http::types::Timestamp;
use crate::http::{
    ApiTags, input::Input, problem::ProblemResponse, security::BearerAuth, write_limit,
};
use crate::text::{ClientId, IdempotencyKeyText};
use crate::{
    audit::RequestMeta,
    casework::break_glass::{self, MAX_HOURS, Reason, ReviewComment},
    domain::CaseId,
    state::AppState,
};
use entities::break_glass as grant;

pub struct BreakGlassApi;

/// A supervisor's time-limited access to one case outside their scope.
#[derive(Object)]
pub struct BreakGlassOut {
    pub id: Uuid,
    pub supervisor_id: Uuid,
    pub case_id: Uuid,
    pub reason: String,
    /// The reason names the restricted notes, which the grant opens too.
    pub restricted_notes: bool,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    #[oai(skip_serializing_if_is_none)]
    pub reviewed_at: Option<Timestamp>,
    #[oai(skip_serializing_if_is_none)]
    pub reviewed_by: Option<Uuid>,
    #[oai(skip_serializing_if_is_none)]
    pub review_comment: Option<String>,
}

fn grant_out(g: grant::Model) -> BreakGlassOut {
    BreakGlassOut {
        id: g.id,
        supervisor_id: g.supervisor_id,
        case_id: g.case_id,
        reason: g.reason,
        restricted_notes: g.restricted_notes,
        starts_at: g.starts_at.into(),
        ends_at: g.ends_at.into(),
        reviewed_at: g.reviewed_at.map(Into::into),
        reviewed_by: g.reviewed_by,
        review_comment: g.review_comment,
    }
}

#[derive(Object)]
pub struct BreakGlassIn {
    /// Optional client-chosen UUIDv7.
    pub id: Option<ClientId>,
    pub case_id: Uuid,
    /// Why, in at least 20 characters; free text that nothing reads. May
    /// span lines.
    pub reason: Reason,
    /// Whether the grant opens the case's restricted notes too (absent:
    /// no).
    #[oai(default)]
    pub include_restricted_notes: bool,
    /// How long, 1 to 8 hours; never extended.
    #[oai(validator(minimum(value = "1"), maximum(value = "8")))]
    pub hours: i64,
}

#[derive(Object)]
pub struct ReviewIn {
    /// The auditor's finding; may span lines.
    pub comment: ReviewComment,
}

#[derive(Object)]
pub struct BreakGlassList {
    pub items: Vec<BreakGlassOut>,
}

#[derive(ApiResponse)]
pub enum BreakGlassCreated {
    #[oai(status = 201)]
    Created(Json<BreakGlassOut>),
}

const _: () = assert!(MAX_HOURS == 8, "the spec's maximum says 8");

#[OpenApi(prefix_path = "/v1/break-glass", tag = "ApiTags::BreakGlass")]
impl BreakGlassApi {
    /// Open a grant to a case outside the caller's scope (supervisors). While
    /// it lasts, their reads of the case and its standard notes (restricted
    /// notes only when the reason names them) are allowed by the rule
    /// `break_glass`, and flagged so. A case already in scope, or a second
    /// grant while one is open, is 409: grants are not extended.
    #[oai(
        operation_id = "breakGlass",
        path = "/",
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
        body: Input<BreakGlassIn>,
    ) -> Result<BreakGlassCreated, ProblemResponse> {
        let b = body.0;
        let opening = break_glass::Opening {
            id: b.id,
            case_id: CaseId::new(b.case_id),
            reason: b.reason,
            include_restricted_notes: b.include_restricted_notes,
            hours: b.hours,
        };
        let g = break_glass::open(&state, &auth.0, &meta, opening).await?;
        Ok(BreakGlassCreated::Created(Json(grant_out(g))))
    }

    /// The grants, oldest first (auditors); `reviewed=false` for those
    /// awaiting review.
    #[oai(operation_id = "listBreakGlass", path = "/", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        reviewed: Query<Option<bool>>,
    ) -> Result<Json<BreakGlassList>, ProblemResponse> {
        let rows = break_glass::list(&state, &auth.0, &meta, reviewed.0).await?;
        Ok(Json(BreakGlassList {
            items: rows.into_iter().map(grant_out).collect(),
        }))
    }

    /// Record an auditor's review of a grant, once.
    #[oai(
        operation_id = "reviewBreakGlass",
        path = "/:id/review",
        method = "post",
        transform = "write_limit"
    )]
    async fn review(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Input<ReviewIn>,
    ) -> Result<Json<BreakGlassOut>, ProblemResponse> {
        let g = break_glass::review(&state, &auth.0, &meta, id.0, body.0.comment).await?;
        Ok(Json(grant_out(g)))
    }
}
