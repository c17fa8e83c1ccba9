//! Anomaly views for auditors: patterns in the trail worth a look. Each row
//! names who (an actor, an account or an address), how often, first and
//! last, and the events behind it (the first 100, with the total). Only
//! metadata: ids, roles, counts, times.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::audit_review::BREAK_GLASS_RULE;
use crate::{
    access::{self, Actor},
    audit::{self, Action, AuditContext, Outcome, RequestMeta},
    domain::RecordKind,
    error::{ServiceError, ServiceResult},
    state::AppState,
};
use entities::{audit_event, patron};

/// Events named per row, at most.
pub const EVENTS_PER_ROW: usize = 100;

/// A day's distinct patrons above which a reader is flagged, unless the
/// request says otherwise.
pub const DEFAULT_PATRONS_PER_DAY: u64 = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnomalyKind {
    /// Refused attempts, per actor.
    DeniedByActor,
    /// Staff who read more distinct patrons in a day than the threshold.
    ManyPatronsInADay,
    /// Allowed accesses to patrons whose home branch was not one of the
    /// actor's branches at that moment.
    OutsideBranches,
    /// Failed sign-ins per account.
    FailedSignInsByAccount,
    /// Failed sign-ins per client address.
    FailedSignInsByAddress,
    /// Break-glass grants awaiting review: the grant and the accesses it
    /// allowed.
    BreakGlassUnreviewed,
}

/// One row of a view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anomaly {
    pub actor_id: Option<Uuid>,
    pub actor_role: Option<String>,
    /// The account a failed sign-in named (its staff id), if any.
    pub account_id: Option<Uuid>,
    pub client_addr: Option<String>,
    /// The break-glass grant, for `BreakGlassUnreviewed`.
    pub grant_id: Option<Uuid>,
    /// The day (`YYYY-MM-DD`) for per-day views.
    pub day: Option<String>,
    /// Events (or, for `ManyPatronsInADay`, distinct patrons).
    pub count: u64,
    pub first_at: String,
    pub last_at: String,
    pub event_ids: Vec<Uuid>,
    pub total_events: u64,
}

#[derive(Default)]
struct Acc {
    actor_role: Option<String>,
    count: u64,
    first_at: String,
    last_at: String,
    event_ids: Vec<Uuid>,
    total_events: u64,
    patrons: BTreeSet<Uuid>,
}

impl Acc {
    fn add(&mut self, e: &audit_event::Model) {
        if self.total_events == 0 {
            self.first_at = e.recorded_at.clone();
            self.actor_role = e.actor_role.clone();
        }
        self.last_at = e.recorded_at.clone();
        self.total_events += 1;
        if self.event_ids.len() < EVENTS_PER_ROW {
            self.event_ids.push(e.id);
        }
    }
}

fn patrons_of(e: &audit_event::Model) -> Vec<Uuid> {
    let mut ps: Vec<Uuid> = serde_json::from_str(&e.patron_ids).unwrap_or_default();
    ps.extend(e.patron_id);
    ps
}

/// One anomaly view over `[from, to)` (default: the last 30 days).
pub async fn view(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    kind: AnomalyKind,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    threshold: Option<u64>,
) -> ServiceResult<Vec<Anomaly>> {
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
    let to = to.unwrap_or_else(|| state.clock.now());
    let from = from.unwrap_or(to - Duration::days(30));
    if from > to {
        return Err(ServiceError::invalid("to", "must not be before from"));
    }
    let mut q = audit_event::Entity::find()
        .filter(audit_event::Column::RecordedAt.gte(audit::format_time(from)))
        .filter(audit_event::Column::RecordedAt.lt(audit::format_time(to)));
    q = match kind {
        AnomalyKind::DeniedByActor => q
            .filter(audit_event::Column::Outcome.eq(Outcome::Denied.as_str()))
            .filter(audit_event::Column::Action.ne(Action::LoginFailed.as_str())),
        AnomalyKind::ManyPatronsInADay | AnomalyKind::OutsideBranches => q
            .filter(audit_event::Column::Outcome.eq(Outcome::Allowed.as_str()))
            .filter(audit_event::Column::ActorId.is_not_null())
            .filter(audit_event::Column::RecordType.ne(RecordKind::AuditEvent.as_str())),
        AnomalyKind::FailedSignInsByAccount | AnomalyKind::FailedSignInsByAddress => {
            q.filter(audit_event::Column::Action.eq(Action::LoginFailed.as_str()))
        }
        AnomalyKind::BreakGlassUnreviewed => q.filter(
            sea_orm::sea_query::Condition::any()
                .add(audit_event::Column::Rule.eq(BREAK_GLASS_RULE))
                .add(audit_event::Column::Action.eq(Action::BreakGlass.as_str())),
        ),
    };
    let events = q
        .order_by_asc(audit_event::Column::Seq)
        .all(&state.db)
        .await?;
    // Keyed by who (an actor or an account), an address, a day.
    type Key = (Option<Uuid>, Option<String>, Option<String>);
    let mut rows: BTreeMap<Key, Acc> = BTreeMap::new();
    match kind {
        AnomalyKind::DeniedByActor => {
            for e in &events {
                let acc = rows.entry((e.actor_id, None, None)).or_default();
                acc.add(e);
                acc.count += 1;
            }
        }
        AnomalyKind::FailedSignInsByAccount => {
            for e in events.iter().filter(|e| e.record_id.is_some()) {
                let acc = rows.entry((e.record_id, None, None)).or_default();
                acc.add(e);
                acc.count += 1;
            }
        }
        AnomalyKind::FailedSignInsByAddress => {
            for e in &events {
                let acc = rows.entry((None, e.client_addr.clone(), None)).or_default();
                acc.add(e);
                acc.count += 1;
            }
        }
        AnomalyKind::ManyPatronsInADay => {
            for e in &events {
                let ps = patrons_of(e);
                if ps.is_empty() {
                    continue;
                }
                let day = e.recorded_at.get(..10).unwrap_or_default().to_owned();
                let acc = rows.entry((e.actor_id, None, Some(day))).or_default();
                acc.add(e);
                acc.patrons.extend(ps);
            }
            let limit = threshold.unwrap_or(DEFAULT_PATRONS_PER_DAY);
            rows.retain(|_, acc| {
                acc.count = acc.patrons.len() as u64;
                acc.count > limit
            });
        }
        AnomalyKind::BreakGlassUnreviewed => {
            for g in crate::casework::break_glass::unreviewed(&state.db).await? {
                let behind = events.iter().filter(|e| {
                    e.actor_id == Some(g.supervisor_id)
                        && (e.record_id == Some(g.id) || e.record_id == Some(g.case_id))
                });
                let acc = rows
                    .entry((Some(g.supervisor_id), None, Some(g.id.to_string())))
                    .or_default();
                for e in behind {
                    acc.add(e);
                    acc.count += 1;
                }
            }
        }
        AnomalyKind::OutsideBranches => {
            let wanted: BTreeSet<Uuid> = events.iter().flat_map(patrons_of).collect();
            let home: BTreeMap<Uuid, Uuid> = patron::Entity::find()
                .filter(patron::Column::Id.is_in(wanted))
                .all(&state.db)
                .await?
                .into_iter()
                .map(|p| (p.id, p.home_branch_id))
                .collect();
            for e in &events {
                let branches: Vec<Uuid> =
                    serde_json::from_str(&e.actor_branches).unwrap_or_default();
                let outside = patrons_of(e)
                    .iter()
                    .filter_map(|p| home.get(p))
                    .any(|b| !branches.contains(b));
                if outside {
                    let acc = rows.entry((e.actor_id, None, None)).or_default();
                    acc.add(e);
                    acc.count += 1;
                }
            }
        }
    }
    let out: Vec<Anomaly> = rows
        .into_iter()
        .map(|((who, addr, day), acc)| {
            let (actor_id, account_id) = match kind {
                AnomalyKind::FailedSignInsByAccount => (None, who),
                _ => (who, None),
            };
            // For grants the third key is the grant, not a day.
            let (day, grant_id) = match kind {
                AnomalyKind::BreakGlassUnreviewed => {
                    (None, day.and_then(|d| d.parse::<Uuid>().ok()))
                }
                _ => (day, None),
            };
            Anomaly {
                actor_id,
                actor_role: acc.actor_role,
                account_id,
                client_addr: addr,
                grant_id,
                day,
                count: acc.count,
                first_at: acc.first_at,
                last_at: acc.last_at,
                event_ids: acc.event_ids,
                total_events: acc.total_events,
            }
        })
        .collect();
    let ev = ctx
        .event(Action::Search, Outcome::Allowed, decision.rule())
        .record_type(RecordKind::AuditEvent)
        .query(format!(r#"{{"anomalies":"{kind:?}"}}"#));
    state.recorder.record(vec![ev]).await?;
    Ok(out)
}
