//! Rules of behavior (for example "no sleeping"): library-wide, or for one
//! branch. Incidents name the rule involved; the program review counts
//! incidents and escalations per rule. Admins keep the list, a branch's
//! supervisors their branch's own rules; a retired rule is made inactive,
//! never deleted, so old incidents still name it.

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, sea_query::Condition,
};
use uuid::Uuid;

use crate::{
    access::{self, Actor},
    audit::{Action, AuditContext, Outcome, RequestMeta},
    domain::RecordKind,
    error::{ServiceError, ServiceResult},
    state::AppState,
    text::{ClientId, Line, Text},
    unit::{self, Claim, Made, stale, update_versioned},
};
use entities::{branch, rule};

pub const FIELDS: &[&str] = &["id", "branch_id", "code", "text", "active"];

pub type RuleCode = Line<40>;
pub type RuleText = Text<2_000>;

/// The rules in force at a branch (library-wide ones included), or every
/// rule; active ones only unless asked.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    branch_id: Option<Uuid>,
    include_inactive: bool,
) -> ServiceResult<Vec<rule::Model>> {
    listed(state, actor, meta, branch_id, include_inactive, None).await
}

/// The rules as the caller may read them, or only the rule `only` (the
/// replay of a create: rules have no read of one).
async fn listed(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    branch_id: Option<Uuid>,
    include_inactive: bool,
    only: Option<Uuid>,
) -> ServiceResult<Vec<rule::Model>> {
    let ctx = AuditContext::for_actor(actor, meta);
    let decision = access::read_catalogue(actor);
    crate::unit::allowed(state, &ctx, decision, Action::Search, RecordKind::Rule).await?;
    let mut q = rule::Entity::find();
    if let Some(id) = only {
        q = q.filter(rule::Column::Id.eq(id));
    }
    if let Some(b) = branch_id {
        q = q.filter(
            Condition::any()
                .add(rule::Column::BranchId.eq(b))
                .add(rule::Column::BranchId.is_null()),
        );
    }
    if !include_inactive {
        q = q.filter(rule::Column::Active.eq(true));
    }
    let rows = q.order_by_asc(rule::Column::Code).all(&state.db).await?;
    let ev = ctx
        .event(Action::Search, Outcome::Allowed, decision.rule())
        .record_type(RecordKind::Rule)
        .results(rows.iter().map(|r| r.id).collect())
        .fields(FIELDS);
    state.recorder.record(vec![ev]).await?;
    Ok(rows)
}

/// An active rule that applies at `branch` (for an incident there).
pub async fn applies(
    db: &impl ConnectionTrait,
    id: Uuid,
    branch: Uuid,
) -> ServiceResult<Option<rule::Model>> {
    Ok(rule::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|r| r.active && r.branch_id.is_none_or(|b| b == branch)))
}

pub struct NewRule {
    pub id: Option<ClientId>,
    pub branch_id: Option<Uuid>,
    pub code: RuleCode,
    pub text: RuleText,
}

pub async fn create(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    input: NewRule,
) -> ServiceResult<rule::Model> {
    let ctx = AuditContext::for_actor(actor, meta);
    let id = ClientId::or_new(input.id);
    let key = meta.idempotency.clone();
    let who = actor.clone();
    let clock = state.clock.clone();
    let made = state
        .recorder
        .run(ctx, move |u| {
            Box::pin(async move {
                u.begin(Action::Create, RecordKind::Rule, Some(id));
                let decision = access::manage_rule(&who, input.branch_id);
                if !decision.is_allowed() {
                    return Err(u.deny(decision, None, ServiceError::Forbidden));
                }
                if let Claim::Replay(first) =
                    u.claim(key.as_ref(), RecordKind::Rule, id, 201).await?
                {
                    return Ok(u.replay(first));
                }
                u.allow(decision.rule(), None, FIELDS);
                if let Some(b) = input.branch_id
                    && branch::Entity::find_by_id(b).one(u.txn()).await?.is_none()
                {
                    return Err(ServiceError::invalid("branch_id", "no such branch"));
                }
                if rule::Entity::find()
                    .filter(rule::Column::Code.eq(input.code.as_str()))
                    .one(u.txn())
                    .await?
                    .is_some()
                {
                    return Err(ServiceError::invalid(
                        "code",
                        "a rule with this code exists",
                    ));
                }
                if rule::Entity::find_by_id(id).one(u.txn()).await?.is_some() {
                    return Err(ServiceError::Conflict("a record with this id exists"));
                }
                let t = clock.now();
                let m = rule::ActiveModel {
                    id: Set(id),
                    branch_id: Set(input.branch_id),
                    code: Set(input.code.into_inner()),
                    text: Set(input.text.into_inner()),
                    active: Set(true),
                    version: Set(1),
                    created_at: Set(t),
                    updated_at: Set(t),
                }
                .insert(u.txn())
                .await?;
                u.changed(RecordKind::Rule, id);
                Ok(Made::New(m))
            })
        })
        .await?;
    match made {
        Made::New(m) => Ok(m),
        // Retired since or not, the rule the first request made.
        Made::Replay(first) => listed(state, actor, meta, None, true, Some(first))
            .await?
            .pop()
            .ok_or(ServiceError::NotFound),
    }
}

/// Changes a rule's text or retires it (admins; `If-Match`).
pub async fn update(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: Uuid,
    if_match: Option<&str>,
    text: Option<RuleText>,
    active: Option<bool>,
) -> ServiceResult<rule::Model> {
    let ctx = AuditContext::for_actor(actor, meta);
    let version = unit::parse_if_match(if_match)?;
    let who = actor.clone();
    let clock = state.clock.clone();
    state
        .recorder
        .run(ctx, move |u| {
            Box::pin(async move {
                u.begin(Action::Update, RecordKind::Rule, Some(id));
                // The role first, before the rule is looked up.
                let may = access::may_manage_rules(&who);
                if !may.is_allowed() {
                    return Err(u.deny(may, None, ServiceError::Forbidden));
                }
                let current = rule::Entity::find_by_id(id).one(u.txn()).await?;
                // Rules are not secret: a missing one is simply not found.
                let decision = match &current {
                    Some(r) => access::manage_rule(&who, r.branch_id),
                    None => access::manage_rule(&who, None),
                };
                if !decision.is_allowed() {
                    return Err(u.deny(decision, None, ServiceError::Forbidden));
                }
                u.allow(decision.rule(), None, &["text", "active"]);
                let Some(current) = current else {
                    return Err(ServiceError::NotFound);
                };
                if current.version != version {
                    return Err(stale(current));
                }
                let mut m = current.into_active_model();
                if let Some(t) = text {
                    m.text = Set(t.into_inner());
                }
                if let Some(a) = active {
                    m.active = Set(a);
                }
                m.version = Set(version + 1);
                m.updated_at = Set(clock.now());
                let Some(m) = update_versioned(u.txn(), m, rule::Column::Version, version).await?
                else {
                    return Err(unit::stale_now::<rule::Entity>(u.txn(), id).await);
                };
                u.changed(RecordKind::Rule, id);
                Ok(m)
            })
        })
        .await
}
