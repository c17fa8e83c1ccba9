//! The shape every operation has: one unit of work.
//!
//! A read decides with the policy (the role first, before any row is
//! loaded), loads from the read pool and writes its audit event through the
//! writer before it answers. A write runs as one [`Unit`] inside the single
//! writer: it loads what the policy needs, asks the policy, changes rows
//! with `WHERE version = ?`, and leaves its audit events, change-log rows
//! and idempotency key in the unit, so that all of it commits together or
//! none of it does.

use std::future::Future;

use sea_orm::{ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

pub use crate::audit::{Claim, Made, Unit};
pub use crate::idempotency::IdempotencyKey;
use futures_util::future::BoxFuture;
use sea_orm::DatabaseTransaction;

use crate::{
    access::{Decision, Facts, Grant, Scope, View},
    audit::{Action, AuditContext, Outcome},
    domain::RecordKind,
    error::{ServiceError, ServiceResult},
    state::AppState,
};
use entities::idempotency_record;

/// Parses an `If-Match` value (`"3"`, `W/"3"` or `3`) into a version.
pub fn parse_if_match(value: Option<&str>) -> ServiceResult<i32> {
    let raw = value.ok_or(ServiceError::PreconditionRequired)?;
    raw.trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .parse::<i32>()
        .map_err(|_| ServiceError::invalid("If-Match", "must be an ETag returned by a read"))
}

/// Refuses a change made against an old version: the caller gets the record
/// as it is now (rendered by the API) so that it can merge.
pub fn stale<T: crate::error::Current + 'static>(current: T) -> ServiceError {
    ServiceError::Stale(Box::new(current))
}

/// The record as another writer left it, for a 412 after a guarded update
/// changed nothing (or 404 if it is gone meanwhile).
pub async fn stale_now<E>(db: &impl sea_orm::ConnectionTrait, id: Uuid) -> ServiceError
where
    E: EntityTrait,
    E::Model: crate::error::Current + 'static,
    <E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType: From<Uuid>,
{
    stale_as(async { Ok(E::find_by_id(id).one(db).await?) }).await
}

/// The same, for a record whose answer is more than its row (a case with
/// its team): `load` renders it as the API shows it.
pub async fn stale_as<T: crate::error::Current + 'static>(
    load: impl Future<Output = ServiceResult<Option<T>>>,
) -> ServiceError {
    match load.await {
        Ok(Some(current)) => stale(current),
        Ok(None) => ServiceError::NotFound,
        Err(e) => e,
    }
}

/// A single-record update guarded by the version the caller read: it
/// changes a row only while the row still has that version, whatever else
/// writes to the database.
pub async fn update_versioned<A>(
    txn: &sea_orm::DatabaseTransaction,
    model: A,
    version_col: <A::Entity as EntityTrait>::Column,
    version: i32,
) -> ServiceResult<Option<<A::Entity as EntityTrait>::Model>>
where
    A: ActiveModelTrait + Send,
    <A::Entity as EntityTrait>::Model: sea_orm::IntoActiveModel<A>,
{
    match <A::Entity as EntityTrait>::update(model)
        .validate()?
        .filter(version_col.eq(version))
        .exec(txn)
        .await
    {
        Ok(m) => Ok(Some(m)),
        Err(sea_orm::DbErr::RecordNotUpdated) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Deletes the idempotency keys older than they are kept, a bounded number
/// at a time, as one unit of work; returns how many went.
pub async fn sweep_keys(state: &AppState) -> ServiceResult<u64> {
    let before = state.clock.now() - crate::idempotency::KEEP_KEYS_FOR;
    state
        .recorder
        .run(AuditContext::default(), move |u| {
            Box::pin(async move {
                let old: Vec<(Uuid, String)> = idempotency_record::Entity::find()
                    .select_only()
                    .column(idempotency_record::Column::StaffId)
                    .column(idempotency_record::Column::Key)
                    .filter(idempotency_record::Column::CreatedAt.lt(before))
                    .limit(SWEEP_KEYS)
                    .into_tuple()
                    .all(u.txn())
                    .await?;
                let mut gone = 0;
                for chunk in old.chunks(400) {
                    let mut any = Condition::any();
                    for (staff, k) in chunk {
                        any = any.add(
                            Condition::all()
                                .add(idempotency_record::Column::StaffId.eq(*staff))
                                .add(idempotency_record::Column::Key.eq(k.as_str())),
                        );
                    }
                    gone += idempotency_record::Entity::delete_many()
                        .filter(any)
                        .exec(u.txn())
                        .await?
                        .rows_affected;
                }
                Ok(gone)
            })
        })
        .await
}

/// Sweeps old idempotency keys every minute, for as long as the service runs.
pub async fn sweep_keys_forever(state: AppState) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tick.tick().await;
        loop {
            match sweep_keys(&state).await {
                Ok(n) if n == SWEEP_KEYS => tokio::task::yield_now().await,
                Ok(_) => break,
                Err(_) => {
                    tracing::warn!("cannot sweep old idempotency keys; trying again in a minute");
                    break;
                }
            }
        }
    }
}

/// Keys deleted by one sweep at most, so that a sweep never holds the
/// writer long.
const SWEEP_KEYS: u64 = 2000;

/// A record loaded for a read, with what the policy needs to know about it.
pub struct Loaded<T> {
    pub record: T,
    pub facts: Facts,
    pub patron: Option<Uuid>,
}

/// Reads one record under `scope`. The role is checked before anything is
/// loaded; a record outside the scope answers exactly as a missing one
/// (404); the access is audited either way, before the answer leaves.
#[allow(clippy::too_many_arguments)]
pub async fn read_one<T, Fut>(
    state: &AppState,
    ctx: &AuditContext,
    scope: &Scope,
    action: Action,
    kind: RecordKind,
    id: Uuid,
    fields: impl Fn(View) -> &'static [&'static str],
    load: impl FnOnce() -> Fut,
) -> ServiceResult<(T, Grant)>
where
    Fut: Future<Output = ServiceResult<Option<Loaded<T>>>>,
{
    decide_one(state, ctx, scope, action, kind, id, Some(&fields), load).await
}

/// Like [`read_one`], for a record that only guards what is read next (a
/// case before its notes, a patron before its consents): a refusal is
/// audited here, an allowed access by the event of what follows.
#[allow(clippy::too_many_arguments)]
pub async fn gate_one<T, Fut>(
    state: &AppState,
    ctx: &AuditContext,
    scope: &Scope,
    action: Action,
    kind: RecordKind,
    id: Uuid,
    load: impl FnOnce() -> Fut,
) -> ServiceResult<(T, Grant)>
where
    Fut: Future<Output = ServiceResult<Option<Loaded<T>>>>,
{
    let none: Option<&fn(View) -> &'static [&'static str]> = None;
    decide_one(state, ctx, scope, action, kind, id, none, load).await
}

#[allow(clippy::too_many_arguments)]
async fn decide_one<T, Fut, F>(
    state: &AppState,
    ctx: &AuditContext,
    scope: &Scope,
    action: Action,
    kind: RecordKind,
    id: Uuid,
    fields: Option<&F>,
    load: impl FnOnce() -> Fut,
) -> ServiceResult<(T, Grant)>
where
    Fut: Future<Output = ServiceResult<Option<Loaded<T>>>>,
    F: Fn(View) -> &'static [&'static str],
{
    let (found, decision) = if scope.is_nothing() {
        (None, Err(scope.nothing_rule()))
    } else {
        match load().await? {
            Some(l) => {
                let d = scope.admits(&l.facts);
                (Some(l), d)
            }
            None => (None, Err(Decision::Deny("no_such_record"))),
        }
    };
    // A patron is its own patron, loaded or not.
    let patron = found
        .as_ref()
        .and_then(|l| l.patron)
        .or((kind == RecordKind::Patron).then_some(id));
    let mut ev = ctx
        .event(action, Outcome::Denied, "")
        .record(kind, id)
        .patron(patron);
    match (found, decision) {
        (Some(l), Ok(grant)) => {
            if let Some(fields) = fields {
                ev.outcome = Outcome::Allowed;
                ev.rule = grant.rule.to_owned();
                ev.fields = fields(grant.view).to_vec();
                state.recorder.record(vec![ev]).await?;
            }
            Ok((l.record, grant))
        }
        (_, decision) => {
            ev.rule = decision
                .err()
                .unwrap_or(Decision::Deny("no_such_record"))
                .rule()
                .to_owned();
            state.recorder.record(vec![ev]).await?;
            Err(ServiceError::NotFound)
        }
    }
}

/// Goes on if `decision` allows; otherwise records the denial of `action`
/// on the kind and refuses (403).
pub async fn allowed(
    state: &AppState,
    ctx: &AuditContext,
    decision: Decision,
    action: Action,
    kind: RecordKind,
) -> ServiceResult<&'static str> {
    if decision.is_allowed() {
        Ok(decision.rule())
    } else {
        Err(deny(state, ctx, decision, action, kind, ServiceError::Forbidden).await)
    }
}

/// A list or search under `scope`: a role that reaches nothing of the kind
/// is refused (403) and the refusal audited; otherwise the grant the list
/// goes by (its rule, its view).
pub async fn search_scope(
    state: &AppState,
    ctx: &AuditContext,
    scope: &Scope,
    kind: RecordKind,
) -> ServiceResult<Grant> {
    match scope.grants.first() {
        Some(g) => Ok(*g),
        None => Err(deny(
            state,
            ctx,
            scope.nothing_rule(),
            Action::Search,
            kind,
            ServiceError::Forbidden,
        )
        .await),
    }
}

/// Records a denial of something other than one record (a create in the
/// wrong branch, a list by a role that has none) and returns `error`.
pub async fn deny(
    state: &AppState,
    ctx: &AuditContext,
    decision: Decision,
    action: Action,
    kind: RecordKind,
    error: ServiceError,
) -> ServiceError {
    let ev = ctx
        .event(action, Outcome::Denied, decision.rule())
        .record_type(kind);
    match state.recorder.record(vec![ev]).await {
        Ok(()) => error,
        Err(e) => e,
    }
}

/// Loads a record for a change inside a unit, policy first: a role that
/// reaches nothing of the kind is refused before anything is loaded; a
/// record the caller cannot read is not found (404); one it can read but
/// `decide` refuses is forbidden (403). Every refusal is the unit's denial.
pub async fn for_change<T: Send + 'static>(
    unit: &mut Unit,
    scope: &Scope,
    load: impl for<'a> FnOnce(
        &'a DatabaseTransaction,
    ) -> BoxFuture<'a, ServiceResult<Option<Loaded<T>>>>,
    decide: impl FnOnce(&T, &Facts) -> Decision,
) -> ServiceResult<Changing<T>> {
    if scope.is_nothing() {
        return Err(unit.deny(scope.nothing_rule(), None, ServiceError::NotFound));
    }
    let Some(l) = load(unit.txn()).await? else {
        return Err(unit.deny(
            Decision::Deny("no_such_record"),
            None,
            ServiceError::NotFound,
        ));
    };
    if let Err(d) = scope.admits(&l.facts) {
        return Err(unit.deny(d, l.patron, ServiceError::NotFound));
    }
    let d = decide(&l.record, &l.facts);
    if !d.is_allowed() {
        return Err(unit.deny(d, l.patron, ServiceError::Forbidden));
    }
    Ok(Changing {
        record: l.record,
        facts: l.facts,
        rule: d.rule(),
        patron: l.patron,
    })
}

/// A record loaded for a change the policy allowed.
pub struct Changing<T> {
    pub record: T,
    pub facts: Facts,
    pub rule: &'static str,
    pub patron: Option<Uuid>,
}
