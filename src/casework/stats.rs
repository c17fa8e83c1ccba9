//! Program statistics without personal data: counts of contacts and
//! referrals by a grouping, and the median days from `requested` to
//! `completed`. Small cells are suppressed: a count from 1 to 4 is `<5`, a
//! median of fewer than 5 referrals is left out, and when any cell is
//! suppressed the total is rounded to the nearest 10, so that no suppressed
//! cell can be recovered from the total and the others.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::referral_flow as flow;
use crate::{
    access::Actor,
    audit::{self, AuditContext, RequestMeta},
    domain::{RecordKind, ReferralStatus},
    error::ServiceResult,
    state::AppState,
};
use entities::{contact, referral, referral_event};

use crate::stats::{MIN_CELL, cell};
use crate::stats::{allow, is_small, record};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactGrouping {
    Need,
    Branch,
    Month,
    Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferralGrouping {
    Category,
    Status,
    Outcome,
    Branch,
    Month,
}

/// One published row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub group: String,
    pub count: String,
    /// Median days from `requested` to `completed`, when 5 or more
    /// completed referrals are behind it (referral statistics only).
    pub median_days_to_complete: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub rows: Vec<Row>,
    /// The number of records counted (a contact with two needs is one), or
    /// rounded to the nearest 10 when a cell is suppressed.
    pub total: String,
    pub total_rounded: bool,
}

/// Publishes counts (and, per group, the completion times behind the
/// median), suppressing small cells.
fn publish(groups: BTreeMap<String, (u64, Vec<f64>)>, total: u64) -> Table {
    let mut suppressed = false;
    let rows = groups
        .into_iter()
        .map(|(group, (n, mut days))| {
            suppressed |= is_small(n);
            days.sort_by(f64::total_cmp);
            let median = (days.len() as u64 >= MIN_CELL).then(|| {
                let mid = days.len() / 2;
                if days.len() % 2 == 0 {
                    (days[mid - 1] + days[mid]) / 2.0
                } else {
                    days[mid]
                }
            });
            Row {
                group,
                count: cell(n),
                median_days_to_complete: median,
            }
        })
        .collect();
    let (total, total_rounded) = crate::stats::total(total, suppressed);
    Table {
        rows,
        total,
        total_rounded,
    }
}

fn month(t: &str) -> String {
    t.get(..7).unwrap_or_default().to_owned()
}

pub async fn contacts(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    by: ContactGrouping,
) -> ServiceResult<Table> {
    let ctx = AuditContext::for_actor(actor, meta);
    let (rule, branches) = allow(state, &ctx, actor, RecordKind::Contact).await?;
    let mut q = contact::Entity::find();
    if let Some(b) = branches {
        q = q.filter(contact::Column::BranchId.is_in(b));
    }
    if let Some(f) = from {
        q = q.filter(contact::Column::OccurredAt.gte(audit::format_time(f)));
    }
    if let Some(t) = to {
        q = q.filter(contact::Column::OccurredAt.lt(audit::format_time(t)));
    }
    let rows = q.all(&state.db).await?;
    let mut groups: BTreeMap<String, (u64, Vec<f64>)> = BTreeMap::new();
    for c in &rows {
        let keys: Vec<String> = match by {
            ContactGrouping::Need => serde_json::from_str(&c.needs).unwrap_or_default(),
            ContactGrouping::Branch => vec![c.branch_id.to_string()],
            ContactGrouping::Month => vec![month(&c.occurred_at)],
            ContactGrouping::Kind => vec![c.kind.clone()],
        };
        for k in keys {
            groups.entry(k).or_default().0 += 1;
        }
    }
    let table = publish(groups, rows.len() as u64);
    record(state, &ctx, rule, RecordKind::Contact).await?;
    Ok(table)
}

pub async fn referrals(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    by: ReferralGrouping,
) -> ServiceResult<Table> {
    let ctx = AuditContext::for_actor(actor, meta);
    let (rule, branches) = allow(state, &ctx, actor, RecordKind::Referral).await?;
    let mut q = referral::Entity::find()
        .filter(referral::Column::Status.ne(ReferralStatus::EnteredInError.as_str()));
    if let Some(b) = branches {
        q = q.filter(referral::Column::BranchId.is_in(b));
    }
    if let Some(f) = from {
        q = q.filter(referral::Column::CreatedAt.gte(f));
    }
    if let Some(t) = to {
        q = q.filter(referral::Column::CreatedAt.lt(t));
    }
    let rows = q.all(&state.db).await?;
    // Days from `requested` to `completed`, per completed referral.
    let completed: Vec<Uuid> = rows
        .iter()
        .filter(|r| r.status == ReferralStatus::Completed.as_str())
        .map(|r| r.id)
        .collect();
    // Per referral: when it was requested, when completed.
    type Span = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);
    let mut times: BTreeMap<Uuid, Span> = BTreeMap::new();
    for chunk in completed.chunks(500) {
        let events = referral_event::Entity::find()
            .filter(referral_event::Column::ReferralId.is_in(chunk.to_vec()))
            .filter(referral_event::Column::ToStatus.is_in([
                ReferralStatus::Requested.as_str(),
                ReferralStatus::Completed.as_str(),
            ]))
            .all(&state.db)
            .await?;
        for e in events {
            let slot = times.entry(e.referral_id).or_default();
            if e.to_status == ReferralStatus::Requested.as_str() {
                slot.0 = Some(e.occurred_at);
            } else {
                slot.1 = Some(e.occurred_at);
            }
        }
    }
    let mut groups: BTreeMap<String, (u64, Vec<f64>)> = BTreeMap::new();
    for r in &rows {
        let keys: Vec<String> = match by {
            ReferralGrouping::Category => serde_json::from_str(&r.needs).unwrap_or_default(),
            ReferralGrouping::Status => vec![r.status.clone()],
            ReferralGrouping::Outcome => vec![r.outcome.clone().unwrap_or_else(|| {
                let open = ReferralStatus::parse(&r.status).is_some_and(flow::is_open);
                if open { "open" } else { "none" }.to_owned()
            })],
            ReferralGrouping::Branch => vec![r.branch_id.to_string()],
            ReferralGrouping::Month => vec![month(&audit::format_time(r.created_at))],
        };
        let days = match times.get(&r.id) {
            Some((Some(a), Some(b))) => Some((*b - *a).num_seconds() as f64 / 86_400.0),
            _ => None,
        };
        for k in keys {
            let g = groups.entry(k).or_default();
            g.0 += 1;
            if let Some(d) = days {
                g.1.push((d * 10.0).round() / 10.0);
            }
        }
    }
    let table = publish(groups, rows.len() as u64);
    record(state, &ctx, rule, RecordKind::Referral).await?;
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_cells_are_suppressed_and_the_total_cannot_betray_them() {
        let groups = BTreeMap::from([
            ("food".to_owned(), (12, vec![])),
            ("housing".to_owned(), (3, vec![])),
            ("legal".to_owned(), (7, vec![])),
        ]);
        let t = publish(groups, 22);
        let counts: Vec<&str> = t.rows.iter().map(|r| r.count.as_str()).collect();
        assert_eq!(counts, vec!["12", "<5", "7"]);
        assert_eq!(t.total, "20", "rounded, so 22 - 12 - 7 is not published");
        assert!(t.total_rounded);

        let t = publish(BTreeMap::from([("food".to_owned(), (12, vec![]))]), 12);
        assert_eq!((t.total.as_str(), t.total_rounded), ("12", false));
        assert_eq!(cell(0), "0");
        assert_eq!(cell(4), "<5");
        assert_eq!(cell(5), "5");
    }

    #[test]
    fn a_median_needs_five_referrals_behind_it() {
        let few = publish(
            BTreeMap::from([("x".to_owned(), (9, vec![1.0, 2.0, 3.0, 4.0]))]),
            9,
        );
        assert_eq!(few.rows[0].median_days_to_complete, None);
        let enough = publish(
            BTreeMap::from([("x".to_owned(), (9, vec![5.0, 1.0, 3.0, 2.0, 4.0, 6.0]))]),
            9,
        );
        assert_eq!(enough.rows[0].median_days_to_complete, Some(3.5));
    }
}
