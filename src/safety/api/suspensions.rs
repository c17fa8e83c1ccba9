//! Suspensions (bans), and each branch's list of who is suspended there now.

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
    domain::{
        AppealStatus, IncidentId, NotifiedHow, SuspensionId, SuspensionScope, SuspensionStatus,
    },
    safety::suspensions::{
        self, AppealDecision, Change, NewSuspension, Person, Reason, SuspensionFields,
        SuspensionQuery, SuspensionRecord,
    },
    state::AppState,
};

pub struct SuspensionsApi;

/// A suspension. `status` is read on the service's clock: `scheduled`
/// before `starts_at`, `active` until `ends_at`, then `ended` by itself;
/// `lifted` when lifted early (with its reason).
#[derive(Object, serde::Serialize)]
pub struct SuspensionOut {
    pub id: Uuid,
    /// A name if known, otherwise a description.
    pub person: String,
    pub scope: SuspensionScope,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch_id: Option<Uuid>,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub status: SuspensionStatus,
    pub reason: String,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident_id: Option<Uuid>,
    pub notified_how: NotifiedHow,
    pub appeal_status: AppealStatus,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appeal_decision: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifted_at: Option<Timestamp>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifted_by: Option<Uuid>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lift_reason: Option<String>,
    pub created_by: Uuid,
    pub version: i32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

fn suspension_out(r: SuspensionRecord) -> SuspensionOut {
    let scope = r.scope();
    let s = r.suspension;
    SuspensionOut {
        id: s.id,
        person: s.person,
        scope,
        branch_id: s.branch_id,
        starts_at: s.starts_at.into(),
        ends_at: s.ends_at.into(),
        status: r.status,
        reason: s.reason,
        incident_id: s.incident_id,
        notified_how: NotifiedHow::parse(&s.notified_how).unwrap_or(NotifiedHow::NotNotified),
        appeal_status: AppealStatus::parse(&s.appeal_status).unwrap_or(AppealStatus::None),
        appeal_decision: s.appeal_decision,
        lifted_at: s.lifted_at.map(Into::into),
        lifted_by: s.lifted_by,
        lift_reason: s.lift_reason,
        created_by: s.created_by,
        version: s.version,
        created_at: s.created_at.into(),
        updated_at: s.updated_at.into(),
    }
}

/// Rendered as a read renders it, for a 412's `current`.
impl crate::error::Current for SuspensionRecord {
    fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(suspension_out(self.clone())).unwrap_or_default()
    }
}

/// What a branch's staff see of a suspension in force there: who, where,
/// until when. Nothing else.
#[derive(Object)]
pub struct ActiveSuspensionOut {
    pub person: String,
    pub scope: SuspensionScope,
    pub ends_at: Timestamp,
}

/// `scope` `branch` needs `branch_id`; `system_wide` takes none.
#[derive(Object)]
pub struct NewSuspensionIn {
    /// Optional client-chosen UUIDv7.
    pub id: Option<ClientId>,
    /// A name if known, otherwise a description.
    pub person: Person,
    pub scope: SuspensionScope,
    pub branch_id: Option<Uuid>,
    /// Default: now.
    pub starts_at: Option<DateTime<Utc>>,
    /// After `starts_at`; the suspension ends by itself then.
    pub ends_at: DateTime<Utc>,
    /// May span lines.
    pub reason: Reason,
    pub incident_id: Option<Uuid>,
    pub notified_how: NotifiedHow,
    pub appeal_status: Option<AppealStatus>,
    /// May span lines; blank means none.
    pub appeal_decision: Option<AppealDecision>,
}

/// Fields to change; absent ones stay, a blank `appeal_decision` clears it.
#[derive(Object)]
pub struct SuspensionPatchIn {
    pub person: Option<Person>,
    /// After `starts_at`.
    pub ends_at: Option<DateTime<Utc>>,
    pub reason: Option<Reason>,
    pub incident_id: Option<Uuid>,
    pub notified_how: Option<NotifiedHow>,
    pub appeal_status: Option<AppealStatus>,
    pub appeal_decision: Option<AppealDecision>,
}

#[derive(Object)]
pub struct LiftIn {
    /// Why the suspension ends early; may span lines.
    pub reason: Reason,
}

#[derive(Object)]
pub struct SuspensionList {
    pub items: Vec<SuspensionOut>,
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

#[derive(Object)]
pub struct ActiveSuspensionList {
    pub items: Vec<ActiveSuspensionOut>,
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

#[derive(ApiResponse)]
pub enum SuspensionCreated {
    #[oai(status = 201)]
    Created(Json<SuspensionOut>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum SuspensionRead {
    #[oai(status = 200)]
    Ok(Json<SuspensionOut>, #[oai(header = "ETag")] String),
}

fn read(r: SuspensionRecord) -> SuspensionRead {
    let tag = etag(r.suspension.version);
    SuspensionRead::Ok(Json(suspension_out(r)), tag)
}

#[OpenApi(prefix_path = "/v1", tag = "ApiTags::Suspensions")]
impl SuspensionsApi {
    /// Record a suspension (security).
    #[oai(
        operation_id = "createSuspension",
        path = "/suspensions",
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
        body: Input<NewSuspensionIn>,
    ) -> Result<SuspensionCreated, ProblemResponse> {
        let b = body.0;
        let input = NewSuspension {
            id: b.id,
            scope: b.scope,
            branch_id: b.branch_id,
            starts_at: b.starts_at,
            fields: SuspensionFields {
                person: Some(b.person),
                ends_at: Some(b.ends_at),
                reason: Some(b.reason),
                incident_id: b.incident_id.map(IncidentId::new),
                notified_how: Some(b.notified_how),
                appeal_status: b.appeal_status,
                appeal_decision: b.appeal_decision,
            },
        };
        let r = suspensions::create(&state, &auth.0, &meta, input).await?;
        let tag = etag(r.suspension.version);
        Ok(SuspensionCreated::Created(Json(suspension_out(r)), tag))
    }

    /// Security's list of suspensions, newest first; `status` as of now.
    #[oai(
        operation_id = "listSuspensions",
        path = "/suspensions",
        method = "get"
    )]
    async fn list(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        status: Query<Option<SuspensionStatus>>,
        branch_id: Query<Option<Uuid>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))] limit: Query<Option<u64>>,
        #[oai(validator(max_length = 400))] cursor: Query<Option<String>>,
    ) -> Result<Json<SuspensionList>, ProblemResponse> {
        let page = suspensions::list(
            &state,
            &auth.0,
            &meta,
            SuspensionQuery {
                status: status.0,
                branch_id: branch_id.0,
                cursor: cursor.0.as_deref(),
                limit: limit.0,
            },
        )
        .await?;
        Ok(Json(SuspensionList {
            items: page.items.into_iter().map(suspension_out).collect(),
            next_cursor: page.next_cursor,
        }))
    }

    /// One suspension (security); anyone else gets the answer a missing id
    /// gets.
    #[oai(
        operation_id = "getSuspension",
        path = "/suspensions/:id",
        method = "get"
    )]
    async fn get(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> Result<SuspensionRead, ProblemResponse> {
        Ok(read(
            suspensions::get(&state, &auth.0, &meta, SuspensionId::new(id.0)).await?,
        ))
    }

    /// Change a suspension: its end, reason, notice, or appeal (security).
    /// A lifted suspension is 409. Requires `If-Match`.
    #[oai(
        operation_id = "updateSuspension",
        path = "/suspensions/:id",
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
        body: Input<SuspensionPatchIn>,
    ) -> Result<SuspensionRead, ProblemResponse> {
        let b = body.0;
        let fields = SuspensionFields {
            person: b.person,
            ends_at: b.ends_at,
            reason: b.reason,
            incident_id: b.incident_id.map(IncidentId::new),
            notified_how: b.notified_how,
            appeal_status: b.appeal_status,
            appeal_decision: b.appeal_decision,
        };
        Ok(read(
            suspensions::change(
                &state,
                &auth.0,
                &meta,
                SuspensionId::new(id.0),
                Some(if_match.0.as_str()),
                Change::Fields(fields),
            )
            .await?,
        ))
    }

    /// Lift a scheduled or active suspension early, with a reason
    /// (security). Otherwise 409. Requires `If-Match`.
    #[oai(
        operation_id = "liftSuspension",
        path = "/suspensions/:id/lift",
        method = "post",
        transform = "write_limit"
    )]
    async fn lift(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<ETag>,
        body: Input<LiftIn>,
    ) -> Result<SuspensionRead, ProblemResponse> {
        Ok(read(
            suspensions::change(
                &state,
                &auth.0,
                &meta,
                SuspensionId::new(id.0),
                Some(if_match.0.as_str()),
                Change::Lift {
                    reason: body.0.reason,
                },
            )
            .await?,
        ))
    }

    /// Who is suspended at a branch now (its own and system-wide
    /// suspensions), soonest to end first: the branch's staff, and
    /// security. Only who, where and until when.
    #[oai(
        operation_id = "listActiveBranchSuspensions",
        path = "/branches/:id/suspensions/active",
        method = "get"
    )]
    async fn active(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))] limit: Query<Option<u64>>,
        #[oai(validator(max_length = 400))] cursor: Query<Option<String>>,
    ) -> Result<Json<ActiveSuspensionList>, ProblemResponse> {
        let page = suspensions::active_at_branch(
            &state,
            &auth.0,
            &meta,
            id.0,
            cursor.0.as_deref(),
            limit.0,
        )
        .await?;
        Ok(Json(ActiveSuspensionList {
            items: page
                .items
                .into_iter()
                .map(|r| ActiveSuspensionOut {
                    scope: r.scope(),
                    person: r.suspension.person,
                    ends_at: r.suspension.ends_at.into(),
                })
                .collect(),
            next_cursor: page.next_cursor,
        }))
    }
}
