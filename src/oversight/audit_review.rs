//! What auditors do: query the trail and verify its chain.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, RelationTrait};
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
    pub record_type: Option<String>,
    /// One of the actor's branches at the moment of the event.
    pub branch_id: Option<Uuid>,
    pub actor_role: Option<String>,
    pub purpose: Option<String>,
    /// Only break-glass: grants opened, and accesses they allowed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub break_glass: bool,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Searches for these words (fingerprinted before anything is stored or
    /// compared; the text itself is never kept, not even in this search's
    /// own audit event).
    #[serde(skip)]
    pub search_text: Option<String>,
    pub search_words: Vec<String>,
}

/// The rule under which a break-glass grant allows an access.
pub const BREAK_GLASS_RULE: &str = crate::access::BREAK_GLASS;

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
    crate::unit::allowed(
        state,
        &ctx,
        decision,
        Action::Search,
        crate::domain::RecordKind::AuditEvent,
    )
    .await?;
    let mut q = filtered(state, &mut filter);
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

/// The events `filter` selects. Search words are fingerprinted here, before
/// anything is compared, and the text is dropped from the filter.
fn filtered(state: &AppState, filter: &mut EventFilter) -> sea_orm::Select<audit_event::Entity> {
    let mut q = audit_event::Entity::find();
    if let Some(v) = filter.actor_id {
        q = q.filter(audit_event::Column::ActorId.eq(v));
    }
    if let Some(v) = filter.record_id {
        q = q.filter(audit_event::Column::RecordId.eq(v));
    }
    if let Some(v) = filter.patron_id {
        q = about_patron(q, v);
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
    if let Some(v) = &filter.record_type {
        q = q.filter(audit_event::Column::RecordType.eq(v.clone()));
    }
    if let Some(v) = filter.branch_id {
        q = q.filter(audit_event::Column::ActorBranches.contains(format!("\"{v}\"")));
    }
    if let Some(v) = &filter.actor_role {
        q = q.filter(audit_event::Column::ActorRole.eq(v.clone()));
    }
    if let Some(v) = &filter.purpose {
        q = q.filter(audit_event::Column::Purpose.eq(v.clone()));
    }
    if filter.break_glass {
        q = q.filter(
            sea_orm::sea_query::Condition::any()
                .add(audit_event::Column::Rule.eq(BREAK_GLASS_RULE))
                .add(audit_event::Column::Action.eq(Action::BreakGlass.as_str())),
        );
    }
    if let Some(v) = filter.from {
        q = q.filter(audit_event::Column::RecordedAt.gte(audit::format_time(v)));
    }
    if let Some(v) = filter.to {
        q = q.filter(audit_event::Column::RecordedAt.lt(audit::format_time(v)));
    }
    q
}

/// Events about `patron`: its own, or one a list or search disclosed (one
/// index holds both, in `seq` order).
fn about_patron(
    q: sea_orm::Select<audit_event::Entity>,
    patron: Uuid,
) -> sea_orm::Select<audit_event::Entity> {
    q.join(
        sea_orm::JoinType::InnerJoin,
        audit_event_patron::Relation::AuditEvent.def().rev(),
    )
    .filter(audit_event_patron::Column::PatronId.eq(patron))
}

/// Checks the chain against the signed checkpoints: what came after the
/// last one, or with `full` all of it; the check itself is audited.
pub async fn verify(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    full: bool,
) -> ServiceResult<Verification> {
    let ctx = AuditContext::for_actor(actor, meta);
    let decision = access::read_audit(actor);
    crate::unit::allowed(
        state,
        &ctx,
        decision,
        Action::Verify,
        crate::domain::RecordKind::AuditEvent,
    )
    .await?;
    let result = state
        .checkpoints
        .verify(&state.db, full)
        .await
        .map_err(|e| ServiceError::unexpected("audit checkpoints", e))?;
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

/// What one staff member, in one role and for one purpose, accessed of a
/// patron's records over a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disclosure {
    pub actor_id: Option<Uuid>,
    pub display_name: Option<String>,
    pub actor_role: Option<String>,
    pub purpose: Option<String>,
    pub accesses: u64,
    pub first_at: String,
    pub last_at: String,
    pub record_types: Vec<String>,
    /// The events behind the row, oldest first.
    pub event_ids: Vec<Uuid>,
}

/// The accounting of disclosures: every allowed access to one patron's
/// records in a period (the event's own patron, or a list or search that
/// returned them), grouped by staff member, role and purpose. Reviews of
/// the audit trail are not accesses to the patron's records and are left
/// out; denied attempts disclosed nothing and are in the anomaly views.
pub async fn disclosures(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    patron_id: Uuid,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> ServiceResult<Vec<Disclosure>> {
    use std::collections::BTreeMap;
    let ctx = AuditContext::for_actor(actor, meta);
    let decision = access::read_audit(actor);
    crate::unit::allowed(
        state,
        &ctx,
        decision,
        Action::Search,
        RecordKind::AuditEvent,
    )
    .await?;
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(ServiceError::invalid("to", "must not be before from"));
    }
    let mut q = about_patron(audit_event::Entity::find(), patron_id)
        .filter(audit_event::Column::Outcome.eq(Outcome::Allowed.as_str()))
        .filter(
            sea_orm::sea_query::Condition::any()
                .add(audit_event::Column::RecordType.is_null())
                .add(audit_event::Column::RecordType.ne(RecordKind::AuditEvent.as_str())),
        );
    if let Some(v) = from {
        q = q.filter(audit_event::Column::RecordedAt.gte(audit::format_time(v)));
    }
    if let Some(v) = to {
        q = q.filter(audit_event::Column::RecordedAt.lt(audit::format_time(v)));
    }
    // In the patron's index order: the database walks the patron's events
    // alone.
    let events = q
        .order_by_asc(audit_event_patron::Column::Seq)
        .all(&state.db)
        .await?;
    // One row per staff member, role and purpose.
    type Who = (Option<Uuid>, Option<String>, Option<String>);
    let mut rows: BTreeMap<Who, Disclosure> = BTreeMap::new();
    for e in events {
        let key = (e.actor_id, e.actor_role.clone(), e.purpose.clone());
        let row = rows.entry(key).or_insert_with(|| Disclosure {
            actor_id: e.actor_id,
            display_name: None,
            actor_role: e.actor_role.clone(),
            purpose: e.purpose.clone(),
            accesses: 0,
            first_at: e.recorded_at.clone(),
            last_at: e.recorded_at.clone(),
            record_types: Vec::new(),
            event_ids: Vec::new(),
        });
        row.accesses += 1;
        row.last_at = e.recorded_at.clone();
        row.event_ids.push(e.id);
        if let Some(t) = e.record_type
            && !row.record_types.contains(&t)
        {
            row.record_types.push(t);
        }
    }
    let ids: Vec<Uuid> = rows.values().filter_map(|r| r.actor_id).collect();
    let names: BTreeMap<Uuid, String> = entities::staff::Entity::find()
        .filter(entities::staff::Column::Id.is_in(ids))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|s| (s.id, s.display_name))
        .collect();
    let mut out: Vec<Disclosure> = rows
        .into_values()
        .map(|mut r| {
            r.display_name = r.actor_id.and_then(|a| names.get(&a).cloned());
            r.record_types.sort();
            r
        })
        .collect();
    out.sort_by(|a, b| (&a.first_at, a.actor_id).cmp(&(&b.first_at, b.actor_id)));
    let ev = ctx
        .event(Action::Search, Outcome::Allowed, decision.rule())
        .record_type(RecordKind::AuditEvent)
        .query(r#"{"disclosures":true}"#)
        .patron(Some(patron_id));
    state.recorder.record(vec![ev]).await?;
    Ok(out)
}

/// Events read per page while exporting: memory stays bounded by one page
/// whatever the export's size.
pub const EXPORT_PAGE: u64 = 2_000;

/// The events `filter` selects, oldest first, as a stream of pages read one
/// after another (constant memory). The export is audited, with its filter,
/// before the first page is read.
pub async fn export(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    mut filter: EventFilter,
) -> ServiceResult<impl futures_util::Stream<Item = ServiceResult<Vec<audit_event::Model>>> + use<>>
{
    let ctx = AuditContext::for_actor(actor, meta);
    let decision = access::read_audit(actor);
    crate::unit::allowed(
        state,
        &ctx,
        decision,
        Action::Export,
        RecordKind::AuditEvent,
    )
    .await?;
    let q = filtered(state, &mut filter);
    let ev = ctx
        .event(Action::Export, Outcome::Allowed, decision.rule())
        .record_type(RecordKind::AuditEvent)
        .query(serde_json::to_string(&filter).unwrap_or_default());
    state.recorder.record(vec![ev]).await?;
    let db = state.db.clone();
    Ok(futures_util::stream::unfold(
        (Some(i64::MIN), db, q),
        |(after, db, q)| async move {
            let after = after?;
            let page = q
                .clone()
                .filter(audit_event::Column::Seq.gt(after))
                .order_by_asc(audit_event::Column::Seq)
                .limit(EXPORT_PAGE)
                .all(&db)
                .await;
            match page {
                Ok(rows) if rows.is_empty() => None,
                Ok(rows) => {
                    let next = (rows.len() as u64 == EXPORT_PAGE)
                        .then(|| rows.last().map(|e| e.seq))
                        .flatten();
                    Some((Ok(rows), (next, db, q)))
                }
                Err(e) => Some((Err(e.into()), (None, db, q))),
            }
        },
    ))
}

/// The chain's head, signed now (and kept as a checkpoint): a receipt an
/// auditor keeps outside the service, to prove later with `casework audit
/// verify --against RECEIPT` that nothing up to it was removed or changed.
pub async fn receipt(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
) -> ServiceResult<Option<audit::checkpoint::Checkpoint>> {
    let ctx = AuditContext::for_actor(actor, meta);
    let decision = access::read_audit(actor);
    crate::unit::allowed(
        state,
        &ctx,
        decision,
        Action::Export,
        RecordKind::AuditEvent,
    )
    .await?;
    // The request is in the chain before the head is signed.
    state
        .recorder
        .record(vec![
            ctx.event(Action::Export, Outcome::Allowed, decision.rule())
                .record_type(RecordKind::AuditEvent)
                .query(r#"{"receipt":true}"#),
        ])
        .await?;
    state
        .checkpoints
        .write(&state.db, state.clock.now())
        .await
        .map_err(|e| ServiceError::unexpected("audit checkpoints", e))
}
