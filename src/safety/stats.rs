//! Incident statistics for program review, without personal data. They
//! read incidents (with the responders' certification as recorded), rules
//! and branches only: no casework table. Small cells are suppressed as in
//! every statistic (`crate::stats`).
//!
//! Per group: how many incidents; how many were resolved without security
//! or the police (a recorded resolution other than `security` or `police`,
//! and no police call); how many had a police call (and per 1,000
//! incidents); how many warnings were given under a rule, and how many of
//! those escalated: a later incident the same day, at the same branch,
//! under the same rule, ending in a suspension or a police call.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::{
    access::Actor,
    audit::{AuditContext, RequestMeta},
    domain::{ActionTaken, RecordKind, ResolutionPath},
    error::ServiceResult,
    state::AppState,
    stats::{self, cell, is_small, rate},
};
use entities::{rule, safety::incident};

use super::incidents::Responder;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncidentGrouping {
    Rule,
    Branch,
    Month,
    Resolution,
    /// Whether a responder held a current de-escalation certification.
    CertifiedResponder,
}

/// One published row.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentRow {
    pub group: String,
    pub incidents: String,
    pub without_enforcement: String,
    pub percent_without_enforcement: Option<f64>,
    pub police_calls: String,
    pub police_per_1000: Option<f64>,
    pub warnings: String,
    pub escalated: String,
    pub escalation_percent: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IncidentTable {
    pub rows: Vec<IncidentRow>,
    pub total: String,
    pub total_rounded: bool,
}

#[derive(Default, Clone, Copy)]
struct Counts {
    incidents: u64,
    without: u64,
    police: u64,
    warnings: u64,
    escalated: u64,
}

fn escalates(i: &incident::Model) -> bool {
    i.police_called || i.action_taken == ActionTaken::Suspension.as_str()
}

/// Where and when an escalation can follow a warning: the same rule, the
/// same branch, the same day.
type Occasion = (Option<Uuid>, Uuid, chrono::NaiveDate);

/// When each occasion saw a suspension or a police call.
fn escalations(all: &[incident::Model]) -> HashMap<Occasion, Vec<DateTime<Utc>>> {
    let mut at: HashMap<Occasion, Vec<DateTime<Utc>>> = HashMap::new();
    for x in all.iter().filter(|x| escalates(x)) {
        at.entry((x.rule_id, x.branch_id, x.occurred_at.date_naive()))
            .or_default()
            .push(x.occurred_at);
    }
    at
}

/// Whether a warning was followed, the same day at the same branch under
/// the same rule, by a suspension or a police call.
fn escalated(w: &incident::Model, at: &HashMap<Occasion, Vec<DateTime<Utc>>>) -> bool {
    at.get(&(w.rule_id, w.branch_id, w.occurred_at.date_naive()))
        .is_some_and(|times| times.iter().any(|t| *t > w.occurred_at))
}

fn publish(groups: BTreeMap<String, Counts>, total: u64) -> IncidentTable {
    let mut suppressed = false;
    let rows = groups
        .into_iter()
        .map(|(group, c)| {
            suppressed |= is_small(c.incidents);
            IncidentRow {
                group,
                incidents: cell(c.incidents),
                without_enforcement: cell(c.without),
                percent_without_enforcement: rate(c.without, c.incidents, 100.0),
                police_calls: cell(c.police),
                police_per_1000: rate(c.police, c.incidents, 1000.0),
                warnings: cell(c.warnings),
                escalated: cell(c.escalated),
                escalation_percent: rate(c.escalated, c.warnings, 100.0),
            }
        })
        .collect();
    let (total, total_rounded) = stats::total(total, suppressed);
    IncidentTable {
        rows,
        total,
        total_rounded,
    }
}

pub async fn incidents(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    by: IncidentGrouping,
) -> ServiceResult<IncidentTable> {
    let ctx = AuditContext::for_actor(actor, meta);
    let (rule_name, branches) = stats::allow(state, &ctx, actor, RecordKind::Incident).await?;
    let mut q = incident::Entity::find();
    if let Some(b) = branches {
        q = q.filter(incident::Column::BranchId.is_in(b));
    }
    if let Some(f) = from {
        q = q.filter(incident::Column::OccurredAt.gte(f));
    }
    if let Some(t) = to {
        q = q.filter(incident::Column::OccurredAt.lt(t));
    }
    let all = q.all(&state.db).await?;
    let codes: BTreeMap<Uuid, String> = rule::Entity::find()
        .all(&state.db)
        .await?
        .into_iter()
        .map(|r| (r.id, r.code))
        .collect();
    let escalations = escalations(&all);
    let mut groups: BTreeMap<String, Counts> = BTreeMap::new();
    for i in &all {
        let key = match by {
            IncidentGrouping::Rule => i
                .rule_id
                .and_then(|r| codes.get(&r).cloned())
                .unwrap_or_else(|| "none".to_owned()),
            IncidentGrouping::Branch => i.branch_id.to_string(),
            IncidentGrouping::Month => i.occurred_at.format("%Y-%m").to_string(),
            IncidentGrouping::Resolution => i
                .resolution
                .clone()
                .unwrap_or_else(|| "unrecorded".to_owned()),
            IncidentGrouping::CertifiedResponder => {
                let responders: Vec<Responder> =
                    serde_json::from_str(&i.responders).unwrap_or_default();
                if responders.iter().any(|r| r.certified) {
                    "certified_present".to_owned()
                } else {
                    "none_certified".to_owned()
                }
            }
        };
        let c = groups.entry(key).or_default();
        c.incidents += 1;
        let resolved_softly = i
            .resolution
            .as_deref()
            .and_then(ResolutionPath::parse)
            .is_some_and(ResolutionPath::without_enforcement);
        if resolved_softly && !i.police_called {
            c.without += 1;
        }
        if i.police_called {
            c.police += 1;
        }
        if i.action_taken == ActionTaken::Warning.as_str() && i.rule_id.is_some() {
            c.warnings += 1;
            if escalated(i, &escalations) {
                c.escalated += 1;
            }
        }
    }
    let table = publish(groups, all.len() as u64);
    stats::record(state, &ctx, rule_name, RecordKind::Incident).await?;
    Ok(table)
}
