//! What auditors do: query the trail and verify its chain.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::{
    access::{self, Actor},
    audit::{self, Action, AuditContext, Outcome, RequestMeta, Verification},
    domain::RecordKind,
    error::{ServiceError, ServiceResult},
    state::AppState,
};
use entities::{audit_event, audit_event_patron};

#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct EventFilter {
    pub actor_id: Option<Uuid>,
    pub record_id: Option<Uuid>,
    pub patron_id: Option<Uuid>,
    pub action: Option<String>,
    pub outcome: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Searches for these words (fingerprinted before anything is stored or
    /// compared; the text itself is never kept, not even in this search's
    /// own audit event).
    #[serde(skip)]
    pub search_text: Option<String>,
    pub search_words: Vec<String>,
}

pub struct EventPage {
    pub events: Vec<audit_event::Model>,
    pub next_cursor: Option<String>,
}

/// Events matching `filter`, oldest first, `limit` at a time after `cursor`
/// (the last `seq` of the previous page).
pub async fn list(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    mut filter: EventFilter,
    cursor: Option<i64>,
    limit: u64,
) -> ServiceResult<EventPage> {
    let ctx = AuditContext::for_actor(actor, meta);
    let decision = access::read_audit(actor);
    if !decision.is_allowed() {
        return Err(crate::unit::deny(
            state,
            &ctx,
            decision,
            Action::Search,
            crate::domain::RecordKind::AuditEvent,
            ServiceError::Forbidden,
        )
        .await);
    }
    let mut q = audit_event::Entity::find();
    if let Some(v) = filter.actor_id {
        q = q.filter(audit_event::Column::ActorId.eq(v));
    }
    if let Some(v) = filter.record_id {
        q = q.filter(audit_event::Column::RecordId.eq(v));
    }
    if let Some(v) = filter.patron_id {
        // The event's own patron, or one of the patrons a list disclosed.
        let disclosed = sea_orm::sea_query::Query::select()
            .column(audit_event_patron::Column::Seq)
            .from(audit_event_patron::Entity)
            .and_where(audit_event_patron::Column::PatronId.eq(v))
            .to_owned();
        q = q.filter(
            sea_orm::sea_query::Condition::any()
                .add(audit_event::Column::PatronId.eq(v))
                .add(audit_event::Column::Seq.in_subquery(disclosed)),
        );
    }
    if let Some(text) = filter.search_text.take() {
        filter.search_words = state.keys.search_fingerprints(&text);
        if filter.search_words.is_empty() {
            // No word to look for: no search event holds it.
            q = q.filter(audit_event::Column::Seq.is_null());
        }
    }
    for word in &filter.search_words {
        q = q
            .filter(audit_event::Column::Action.eq(Action::Search.as_str()))
            .filter(audit_event::Column::Query.contains(format!("\"{word}\"")));
    }
    if let Some(v) = &filter.action {
        q = q.filter(audit_event::Column::Action.eq(v.clone()));
    }
    if let Some(v) = &filter.outcome {
        q = q.filter(audit_event::Column::Outcome.eq(v.clone()));
    }
    if let Some(v) = filter.from {
        q = q.filter(audit_event::Column::RecordedAt.gte(audit::format_time(v)));
    }
    if let Some(v) = filter.to {
        q = q.filter(audit_event::Column::RecordedAt.lt(audit::format_time(v)));
    }
    if let Some(after) = cursor {
        q = q.filter(audit_event::Column::Seq.gt(after));
    }
    let events = q
        .order_by_asc(audit_event::Column::Seq)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let (events, next_cursor) = crate::paging::page(events, limit, |e| e.seq.to_string());
    let ev = ctx
        .event(Action::Search, Outcome::Allowed, decision.rule())
        .record_type(RecordKind::AuditEvent)
        .query(serde_json::to_string(&filter).unwrap_or_default())
        .results(events.iter().map(|e| e.id).collect());
    state.recorder.record(vec![ev]).await?;
    Ok(EventPage {
        events,
        next_cursor,
    })
}

/// Walks the chain; the walk itself is audited.
pub async fn verify(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
) -> ServiceResult<Verification> {
    let ctx = AuditContext::for_actor(actor, meta);
    let decision = access::read_audit(actor);
    if !decision.is_allowed() {
        return Err(crate::unit::deny(
            state,
            &ctx,
            decision,
            Action::Verify,
            crate::domain::RecordKind::AuditEvent,
            ServiceError::Forbidden,
        )
        .await);
    }
    let result = audit::verify(&state.db).await?;
    let outcome = match result {
        Verification::Intact { .. } => Outcome::Allowed,
        Verification::Broken { .. } => Outcome::Error,
    };
    state
        .recorder
        .record(vec![
            ctx.event(Action::Verify, outcome, decision.rule())
                .record_type(RecordKind::AuditEvent),
        ])
        .await?;
    Ok(result)
}
