//! Anomaly views for auditors: patterns in the trail worth a look. Each row
//! names who (an actor, an account or an address), how often, first and
//! last, and the events behind it (the first 100, with the total). Only
//! metadata: ids, roles, counts, times.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
    sea_query::{Condition, Expr, ExprTrait, Func, Order, Query, WindowStatement},
};
use uuid::Uuid;

use super::audit_review::BREAK_GLASS_RULE;
use crate::{
    access::{self, Actor},
    audit::{self, Action, AuditContext, Outcome, RequestMeta, rollup::flag},
    domain::RecordKind,
    error::{ServiceError, ServiceResult},
    state::AppState,
};
use entities::{audit_event, audit_flag, audit_reader_day};

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
    let window = (audit::format_time(from), audit::format_time(to));
    let events = audit_event::Entity::find()
        .filter(audit_event::Column::RecordedAt.gte(window.0.clone()))
        .filter(audit_event::Column::RecordedAt.lt(window.1.clone()));
    let db = &state.db;
    let out: Vec<Anomaly> = match kind {
        AnomalyKind::DeniedByActor => {
            flagged(db, flag::DENIED_BY_ACTOR, window, |a, k| {
                a.actor_id = uuid(k)
            })
            .await?
        }
        AnomalyKind::FailedSignInsByAccount => {
            flagged(db, flag::FAILED_SIGN_INS_BY_ACCOUNT, window, |a, k| {
                a.account_id = uuid(k);
            })
            .await?
        }
        AnomalyKind::FailedSignInsByAddress => {
            flagged(db, flag::FAILED_SIGN_INS_BY_ADDRESS, window, |a, k| {
                a.client_addr = k;
            })
            .await?
        }
        AnomalyKind::OutsideBranches => {
            flagged(db, flag::OUTSIDE_BRANCHES, window, |a, k| {
                a.actor_id = uuid(k)
            })
            .await?
        }
        AnomalyKind::ManyPatronsInADay => {
            many_patrons(db, from, to, threshold.unwrap_or(DEFAULT_PATRONS_PER_DAY)).await?
        }
        AnomalyKind::BreakGlassUnreviewed => break_glass_unreviewed(db, events).await?,
    };
    let ev = ctx
        .event(Action::Search, Outcome::Allowed, decision.rule())
        .record_type(RecordKind::AuditEvent)
        .query(format!(r#"{{"anomalies":"{kind:?}"}}"#));
    state.recorder.record(vec![ev]).await?;
    Ok(out)
}

fn uuid(key: Option<String>) -> Option<Uuid> {
    key.and_then(|k| k.parse().ok())
}

/// The events the writer flagged as `kind` in the window `[from, to)`, one
/// row per what the flag groups by, aggregated by the database from the
/// flags' covering index (two queries whatever the number of events).
async fn flagged(
    db: &DatabaseConnection,
    kind: &str,
    (from, to): (String, String),
    set_key: impl Fn(&mut Anomaly, Option<String>),
) -> ServiceResult<Vec<Anomaly>> {
    use audit_flag::Column as C;
    let base = audit_flag::Entity::find()
        .select_only()
        .filter(C::Kind.eq(kind))
        .filter(C::RecordedAt.gte(from))
        .filter(C::RecordedAt.lt(to))
        .into_query();
    let col = |c: C| Expr::col((audit_flag::Entity, c));
    let mut totals = base.clone();
    totals
        .expr_as(col(C::Key), "k")
        .expr_as(col(C::ActorRole).min(), "r")
        .expr_as(col(C::Seq).count(), "n")
        .expr_as(col(C::RecordedAt).min(), "f")
        .expr_as(col(C::RecordedAt).max(), "l")
        .add_group_by([col(C::Key)]);
    // The first events of each row, numbered within it.
    let mut numbered = base;
    numbered
        .expr_as(col(C::Key), "k")
        .expr_as(col(C::EventId), "i")
        .expr_as(col(C::Seq), "s")
        .expr_window_as(
            Func::cust("ROW_NUMBER"),
            WindowStatement::partition_by((audit_flag::Entity, C::Key))
                .order_by((audit_flag::Entity, C::Seq), Order::Asc)
                .to_owned(),
            "rn",
        );
    let first = Query::select()
        .columns(["k", "i"])
        .from_subquery(numbered, "numbered")
        .and_where(Expr::col("rn").lte(EVENTS_PER_ROW as i64))
        .order_by("k", Order::Asc)
        .order_by("s", Order::Asc)
        .to_owned();
    let mut ids: BTreeMap<Option<String>, Vec<Uuid>> = BTreeMap::new();
    for row in db.query_all(&first).await? {
        ids.entry(row.try_get("", "k")?)
            .or_default()
            .push(row.try_get("", "i")?);
    }
    let mut rows = Vec::new();
    for row in db.query_all(&totals).await? {
        let key: Option<String> = row.try_get("", "k")?;
        let mut a = Anomaly {
            actor_id: None,
            actor_role: row.try_get("", "r")?,
            account_id: None,
            client_addr: None,
            grant_id: None,
            day: None,
            count: row.try_get::<i64>("", "n")? as u64,
            first_at: row.try_get("", "f")?,
            last_at: row.try_get("", "l")?,
            event_ids: ids.remove(&key).unwrap_or_default(),
            total_events: 0,
        };
        a.total_events = a.count;
        set_key(&mut a, key);
        rows.push(a);
    }
    rows.sort_by(|a, b| {
        (a.actor_id, a.account_id, &a.client_addr).cmp(&(b.actor_id, b.account_id, &b.client_addr))
    });
    Ok(rows)
}

/// Staff members and days (UTC) with more distinct patrons than `limit`,
/// from the writer's daily rollup; the events are the first of the day's
/// accesses to patrons.
async fn many_patrons(
    db: &DatabaseConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: u64,
) -> ServiceResult<Vec<Anomaly>> {
    let last_day = to - Duration::nanoseconds(1);
    let days = audit_reader_day::Entity::find()
        .filter(audit_reader_day::Column::Day.gte(from.format("%Y-%m-%d").to_string()))
        .filter(audit_reader_day::Column::Day.lte(last_day.format("%Y-%m-%d").to_string()))
        .filter(audit_reader_day::Column::Patrons.gt(i64::try_from(limit).unwrap_or(i64::MAX)))
        .order_by_asc(audit_reader_day::Column::ActorId)
        .order_by_asc(audit_reader_day::Column::Day)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(days.len());
    for d in days {
        let event_ids = audit_event::Entity::find()
            .select_only()
            .column(audit_event::Column::Id)
            .filter(audit_event::Column::ActorId.eq(d.actor_id))
            .filter(audit_event::Column::Seq.between(d.first_seq, d.last_seq))
            // Through the actor's index: compared as an expression, the
            // outcome (allowed, as most are) does not tempt SQLite's planner
            // into its own index.
            .filter(
                Expr::col(audit_event::Column::Outcome)
                    .cast_as("text")
                    .eq(Outcome::Allowed.as_str()),
            )
            .filter(
                Condition::any()
                    .add(audit_event::Column::PatronId.is_not_null())
                    .add(audit_event::Column::PatronIds.ne("[]")),
            )
            .order_by_asc(audit_event::Column::Seq)
            .limit(EVENTS_PER_ROW as u64)
            .into_tuple::<Uuid>()
            .all(db)
            .await?;
        out.push(Anomaly {
            actor_id: Some(d.actor_id),
            actor_role: d.actor_role,
            account_id: None,
            client_addr: None,
            grant_id: None,
            day: Some(d.day),
            count: d.patrons as u64,
            first_at: d.first_at,
            last_at: d.last_at,
            event_ids,
            total_events: d.events as u64,
        });
    }
    Ok(out)
}

/// Each grant awaiting review, with the accesses it allowed in the period
/// (the grant itself and the reads of its case under it). A grant with no
/// event in the period shows its own start as first and last time.
async fn break_glass_unreviewed(
    db: &DatabaseConnection,
    events: sea_orm::Select<audit_event::Entity>,
) -> ServiceResult<Vec<Anomaly>> {
    let mut out = Vec::new();
    for g in crate::casework::break_glass::unreviewed(db).await? {
        let behind = events
            .clone()
            .select_only()
            .columns([
                audit_event::Column::Id,
                audit_event::Column::RecordedAt,
                audit_event::Column::ActorRole,
            ])
            .filter(audit_event::Column::RecordId.is_in([g.id, g.case_id]))
            .filter(audit_event::Column::ActorId.eq(g.supervisor_id))
            .filter(
                Condition::any()
                    .add(audit_event::Column::Rule.eq(BREAK_GLASS_RULE))
                    .add(audit_event::Column::Action.eq(Action::BreakGlass.as_str())),
            )
            .order_by_asc(audit_event::Column::Seq)
            .into_tuple::<(Uuid, String, Option<String>)>()
            .all(db)
            .await?;
        let opened = audit::format_time(g.starts_at);
        out.push(Anomaly {
            actor_id: Some(g.supervisor_id),
            actor_role: behind.first().and_then(|(_, _, r)| r.clone()),
            account_id: None,
            client_addr: None,
            grant_id: Some(g.id),
            day: None,
            count: behind.len() as u64,
            first_at: behind
                .first()
                .map_or(opened.clone(), |(_, at, _)| at.clone()),
            last_at: behind.last().map_or(opened, |(_, at, _)| at.clone()),
            event_ids: behind
                .iter()
                .take(EVENTS_PER_ROW)
                .map(|(id, _, _)| *id)
                .collect(),
            total_events: behind.len() as u64,
        });
    }
    out.sort_by_key(|a| (a.actor_id, a.grant_id));
    Ok(out)
}
