//! Break-glass: a supervisor's time-limited access to one case outside
//! their scope, with a written reason (DESIGN.md section 2). While a grant
//! is open, the supervisor's reads of that case and its standard notes are
//! allowed by the rule `break_glass` (restricted notes only when the grant
//! says `include_restricted_notes: true`; the reason is free text that
//! nothing reads), and every one of them is recorded under that rule. A grant
//! is never extended: when it ends, another must be opened, with its own
//! reason. Auditors review each grant.

use chrono::Duration;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder,
};
use uuid::Uuid;

use super::scope;
use crate::{
    access::{self, Actor},
    audit::{Action, AuditContext, Outcome, RequestMeta},
    domain::{CaseId, RecordKind},
    error::{ServiceError, ServiceResult},
    state::AppState,
    text::{ClientId, Text},
    unit::{self, Claim, Made},
};
use entities::break_glass;

pub const FIELDS: &[&str] = &[
    "id",
    "supervisor_id",
    "case_id",
    "reason",
    "restricted_notes",
    "starts_at",
    "ends_at",
];

/// The longest a grant lasts.
pub const MAX_HOURS: i64 = 8;

/// A written reason: at least 20 characters.
pub type Reason = Text<2_000, 20>;
pub type ReviewComment = Text<2_000>;

/// The supervisor's open grant to the case, if any: `Some(true)` when it
/// opens the restricted notes too.
pub async fn open_grant(
    db: &impl ConnectionTrait,
    supervisor: Uuid,
    case: Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> ServiceResult<Option<bool>> {
    Ok(break_glass::Entity::find()
        .filter(break_glass::Column::SupervisorId.eq(supervisor))
        .filter(break_glass::Column::CaseId.eq(case))
        .filter(break_glass::Column::StartsAt.lte(now))
        .filter(break_glass::Column::EndsAt.gt(now))
        .one(db)
        .await?
        .map(|g| g.restricted_notes))
}

/// What a supervisor asks for when breaking glass.
pub struct Opening {
    pub id: Option<ClientId>,
    pub case_id: CaseId,
    /// Free text: nothing reads it.
    pub reason: Reason,
    pub include_restricted_notes: bool,
    pub hours: i64,
}

/// Opens a grant (supervisors, to a case outside their scope). A second
/// while one is open is refused: grants are not extended.
pub async fn open(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    opening: Opening,
) -> ServiceResult<break_glass::Model> {
    let Opening {
        id,
        case_id,
        reason,
        include_restricted_notes,
        hours,
    } = opening;
    let ctx = AuditContext::for_actor(actor, meta);
    if !(1..=MAX_HOURS).contains(&hours) {
        return Err(ServiceError::invalid("hours", "must be 1 to 8"));
    }
    let id = ClientId::or_new(id);
    let key = meta.idempotency.clone();
    let who = actor.clone();
    let made = state
        .recorder
        .run(ctx, move |u| {
            Box::pin(async move {
                u.begin(Action::BreakGlass, RecordKind::BreakGlass, Some(id));
                // The role first: nobody else learns whether the case exists.
                let may = access::may_break_glass(&who);
                if !may.is_allowed() {
                    return Err(u.deny(may, None, ServiceError::Forbidden));
                }
                let Some(case) = scope::load_case(u.txn(), &who, case_id.uuid(), u.now()).await?
                else {
                    return Err(u.deny(
                        access::Decision::Deny("no_such_record"),
                        None,
                        ServiceError::NotFound,
                    ));
                };
                let decision = access::break_glass(&who, &case.facts);
                if !decision.is_allowed() {
                    let error = if decision == access::Decision::Deny(access::ALREADY_IN_SCOPE) {
                        ServiceError::Conflict("the case is already in your scope")
                    } else {
                        ServiceError::Forbidden
                    };
                    return Err(u.deny(decision, case.patron, error));
                }
                if let Claim::Replay(first) = u
                    .claim(key.as_ref(), RecordKind::BreakGlass, id, 201)
                    .await?
                {
                    return Ok(u.replay(first));
                }
                u.allow(decision.rule(), case.patron, FIELDS);
                if case.facts.glass {
                    return Err(ServiceError::Conflict(
                        "a grant to this case is open: it cannot be extended",
                    ));
                }
                let t = u.now();
                let m = break_glass::ActiveModel {
                    id: Set(id),
                    supervisor_id: Set(who.staff_id),
                    case_id: Set(case_id.uuid()),
                    restricted_notes: Set(include_restricted_notes),
                    reason: Set(reason.into_inner()),
                    starts_at: Set(t),
                    ends_at: Set(t + Duration::hours(hours)),
                    reviewed_at: Set(None),
                    reviewed_by: Set(None),
                    review_comment: Set(None),
                    version: Set(1),
                }
                .insert(u.txn())
                .await?;
                u.changed(RecordKind::BreakGlass, id);
                Ok(Made::New(m))
            })
        })
        .await?;
    match made {
        Made::New(m) => Ok(m),
        Made::Replay(first) => break_glass::Entity::find_by_id(first)
            .one(&state.db)
            .await?
            .ok_or(ServiceError::NotFound),
    }
}

/// The grants, oldest first (auditors); `reviewed` filters.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    reviewed: Option<bool>,
) -> ServiceResult<Vec<break_glass::Model>> {
    let ctx = AuditContext::for_actor(actor, meta);
    let rule = unit::allowed(
        state,
        &ctx,
        access::review_break_glass(actor),
        Action::Search,
        RecordKind::BreakGlass,
    )
    .await?;
    let mut q = break_glass::Entity::find();
    match reviewed {
        Some(true) => q = q.filter(break_glass::Column::ReviewedAt.is_not_null()),
        Some(false) => q = q.filter(break_glass::Column::ReviewedAt.is_null()),
        None => {}
    }
    let rows = q
        .order_by_asc(break_glass::Column::Id)
        .all(&state.db)
        .await?;
    let ev = ctx
        .event(Action::Search, Outcome::Allowed, rule)
        .record_type(RecordKind::BreakGlass)
        .results(rows.iter().map(|r| r.id).collect())
        .fields(FIELDS);
    state.recorder.record(vec![ev]).await?;
    Ok(rows)
}

/// Records an auditor's review of a grant (once).
pub async fn review(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: Uuid,
    comment: ReviewComment,
) -> ServiceResult<break_glass::Model> {
    let ctx = AuditContext::for_actor(actor, meta);
    let who = actor.clone();
    state
        .recorder
        .run(ctx, move |u| {
            Box::pin(async move {
                u.begin(Action::Update, RecordKind::BreakGlass, Some(id));
                let decision = access::review_break_glass(&who);
                if !decision.is_allowed() {
                    return Err(u.deny(decision, None, ServiceError::Forbidden));
                }
                u.allow(decision.rule(), None, &["reviewed_at", "review_comment"]);
                let Some(g) = break_glass::Entity::find_by_id(id).one(u.txn()).await? else {
                    return Err(ServiceError::NotFound);
                };
                if g.reviewed_at.is_some() {
                    return Err(ServiceError::Conflict("this grant has been reviewed"));
                }
                let version = g.version;
                let mut m = g.into_active_model();
                m.reviewed_at = Set(Some(u.now()));
                m.reviewed_by = Set(Some(who.staff_id));
                m.review_comment = Set(Some(comment.into_inner()));
                m.version = Set(version + 1);
                let Some(m) =
                    unit::update_versioned(u.txn(), m, break_glass::Column::Version, version)
                        .await?
                else {
                    return Err(ServiceError::Conflict("this grant has been reviewed"));
                };
                u.changed(RecordKind::BreakGlass, id);
                Ok(m)
            })
        })
        .await
}

/// The grants not yet reviewed, for the anomaly view.
pub async fn unreviewed(db: &impl ConnectionTrait) -> ServiceResult<Vec<break_glass::Model>> {
    Ok(break_glass::Entity::find()
        .filter(break_glass::Column::ReviewedAt.is_null())
        .order_by_asc(break_glass::Column::Id)
        .all(db)
        .await?)
}
