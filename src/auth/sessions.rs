//! Device sessions: list and revoke (a lost tablet).

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::{
    access::{self, Actor},
    audit::{Action, AuditContext, Outcome, RequestMeta},
    domain::RecordKind,
    error::{ServiceError, ServiceResult},
    state::AppState,
};
use entities::device_session;

/// Sessions of `owner` that have not ended, newest first.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    owner: Uuid,
) -> ServiceResult<Vec<device_session::Model>> {
    let ctx = AuditContext::for_actor(actor, meta);
    let decision = access::manage_sessions(actor, owner);
    if !decision.is_allowed() {
        state
            .recorder
            .record(vec![
                ctx.event(Action::Search, Outcome::Denied, decision.rule())
                    .record(RecordKind::Staff, owner),
            ])
            .await?;
        return Err(ServiceError::Forbidden);
    }
    let rows = device_session::Entity::find()
        .filter(device_session::Column::StaffId.eq(owner))
        .filter(device_session::Column::RevokedAt.is_null())
        .filter(device_session::Column::ExpiresAt.gt(state.clock.now()))
        .order_by_desc(device_session::Column::CreatedAt)
        .all(&state.db)
        .await?;
    let ev = ctx
        .event(Action::Search, Outcome::Allowed, decision.rule())
        .record(RecordKind::Staff, owner)
        .fields(&[
            "id",
            "device_name",
            "created_at",
            "last_used_at",
            "expires_at",
        ])
        .results(rows.iter().map(|r| r.id).collect());
    state.recorder.record(vec![ev]).await?;
    Ok(rows)
}

/// Revokes one session of `owner`. Its access tokens stop working within the
/// actor cache's lifetime (two seconds) on every instance, at once on this one.
pub async fn revoke(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    owner: Uuid,
    session_id: Uuid,
) -> ServiceResult<()> {
    let ctx = AuditContext::for_actor(actor, meta);
    let decision = access::manage_sessions(actor, owner);
    if !decision.is_allowed() {
        state
            .recorder
            .record(vec![
                ctx.event(Action::Revoke, Outcome::Denied, decision.rule())
                    .record(RecordKind::Session, session_id),
            ])
            .await?;
        return Err(ServiceError::Forbidden);
    }
    let reason = if actor.staff_id == owner {
        "revoked_by_owner"
    } else {
        "revoked_by_admin"
    };
    state
        .recorder
        .run(ctx.clone(), move |u| {
            Box::pin(async move {
                let found = device_session::Entity::find_by_id(session_id)
                    .filter(device_session::Column::StaffId.eq(owner))
                    .one(u.txn())
                    .await?;
                // An unknown session is simply not found: nothing to record.
                let s = found.ok_or(ServiceError::NotFound)?;
                u.subject(
                    ctx.event(Action::Revoke, Outcome::Allowed, decision.rule())
                        .record(RecordKind::Session, session_id),
                );
                crate::auth::service::revoke_session(u.txn(), s, reason, u.now()).await
            })
        })
        .await?;
    state.actor_cache.invalidate(&session_id);
    Ok(())
}
