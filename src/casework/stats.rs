//! Program statistics without personal data: counts of contacts and
//! referrals over a whole calendar period by a grouping, and the median
//! days from `requested` to `completed`. Every figure is published as
//! `crate::stats` says (`0`, `<5`, or rounded to a multiple of 5); a median
//! of fewer than 5 referrals is left out, and a median is in whole days.

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

use crate::stats::{Asked, MIN_CELL, allow, figure, record};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactGrouping {
    Need,
    Branch,
    Month,
    Kind,
}

impl ContactGrouping {
    pub const ALL: [ContactGrouping; 4] = [Self::Need, Self::Branch, Self::Month, Self::Kind];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Need => "need",
            Self::Branch => "branch",
            Self::Month => "month",
            Self::Kind => "kind",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferralGrouping {
    Category,
    Status,
    Outcome,
    Branch,
    Month,
}

impl ReferralGrouping {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Category => "category",
            Self::Status => "status",
            Self::Outcome => "outcome",
            Self::Branch => "branch",
            Self::Month => "month",
        }
    }
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
    /// The number of records counted (a contact with two needs is one), as
    /// published.
    pub total: String,
}

/// Publishes counts (and, per group, the completion times behind the
/// median).
fn publish(groups: BTreeMap<String, (u64, Vec<f64>)>, total: u64) -> Table {
    let rows = groups
        .into_iter()
        .map(|(group, (n, mut days))| {
            days.sort_by(f64::total_cmp);
            let median = (days.len() as u64 >= MIN_CELL).then(|| {
                let mid = days.len() / 2;
                let m = if days.len() % 2 == 0 {
                    (days[mid - 1] + days[mid]) / 2.0
                } else {
                    days[mid]
                };
                m.round()
            });
            Row {
                group,
                count: figure(n),
                median_days_to_complete: median,
            }
        })
        .collect();
    Table {
        rows,
        total: figure(total),
    }
}

/// The groups a contact counts in.
fn contact_keys(c: &contact::Model, by: ContactGrouping) -> Vec<String> {
    match by {
        ContactGrouping::Need => serde_json::from_str(&c.needs).unwrap_or_default(),
        ContactGrouping::Branch => vec![c.branch_id.to_string()],
        ContactGrouping::Month => vec![month(&c.occurred_at)],
        ContactGrouping::Kind => vec![c.kind.clone()],
    }
}

/// The published table of contacts already chosen by period and branch.
pub fn tabulate_contacts(rows: &[contact::Model], by: ContactGrouping) -> Table {
    let mut groups: BTreeMap<String, (u64, Vec<f64>)> = BTreeMap::new();
    for c in rows {
        for k in contact_keys(c, by) {
            groups.entry(k).or_default().0 += 1;
        }
    }
    publish(groups, rows.len() as u64)
}

fn month(t: &str) -> String {
    t.get(..7).unwrap_or_default().to_owned()
}

pub async fn contacts(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    period: Option<&str>,
    by: ContactGrouping,
) -> ServiceResult<Table> {
    let ctx = AuditContext::for_actor(actor, meta);
    let (rule, branches) = allow(state, &ctx, actor, RecordKind::Contact).await?;
    let period = crate::stats::period(period, state.clock.now())?;
    let (from, to) = period.bounds();
    let mut q = contact::Entity::find()
        .filter(contact::Column::OccurredAt.gte(audit::format_time(from)))
        .filter(contact::Column::OccurredAt.lt(audit::format_time(to)));
    if let Some(b) = &branches {
        q = q.filter(contact::Column::BranchId.is_in(b.clone()));
    }
    let rows = q.all(&state.db).await?;
    let table = tabulate_contacts(&rows, by);
    let asked = Asked {
        period: &period,
        group_by: by.as_str(),
        branches: branches.as_deref(),
    };
    record(state, &ctx, rule, RecordKind::Contact, &asked).await?;
    Ok(table)
}

pub async fn referrals(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    period: Option<&str>,
    by: ReferralGrouping,
) -> ServiceResult<Table> {
    let ctx = AuditContext::for_actor(actor, meta);
    let (rule, branches) = allow(state, &ctx, actor, RecordKind::Referral).await?;
    let period = crate::stats::period(period, state.clock.now())?;
    let (from, to) = period.bounds();
    let mut q = referral::Entity::find()
        .filter(referral::Column::Status.ne(ReferralStatus::EnteredInError.as_str()))
        .filter(referral::Column::CreatedAt.gte(from))
        .filter(referral::Column::CreatedAt.lt(to));
    if let Some(b) = &branches {
        q = q.filter(referral::Column::BranchId.is_in(b.clone()));
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
    let asked = Asked {
        period: &period,
        group_by: by.as_str(),
        branches: branches.as_deref(),
    };
    record(state, &ctx, rule, RecordKind::Referral, &asked).await?;
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_count_and_the_total_are_published_rounded() {
        let groups = BTreeMap::from([
            ("food".to_owned(), (12, vec![])),
            ("housing".to_owned(), (3, vec![])),
            ("legal".to_owned(), (7, vec![])),
        ]);
        let t = publish(groups, 22);
        let counts: Vec<&str> = t.rows.iter().map(|r| r.count.as_str()).collect();
        assert_eq!(counts, vec!["10", "<5", "5"]);
        assert_eq!(t.total, "20", "so 22 - 12 - 7 is not published");
    }

    mod differencing {
        use chrono::{Duration, TimeZone};
        use proptest::prelude::*;

        use super::super::*;
        use crate::stats::{
            Period,
            differencing::{Answer, assert_no_exact_small_count, periods},
        };

        const NEEDS: [&str; 4] = ["food", "housing", "health", "legal"];
        const KINDS: [&str; 3] = ["outreach", "drop_in", "crisis"];

        fn branch(i: u8) -> Uuid {
            Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 + u128::from(i))
        }

        /// A contact in one of 36 months from January 2025.
        fn contact(month: u8, day: u8, b: u8, kind: u8, needs: u8) -> contact::Model {
            let (y, m) = (2025 + i32::from(month / 12), u32::from(month % 12) + 1);
            let t = Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0).unwrap()
                + Duration::days(i64::from(day % 28))
                + Duration::minutes(i64::from(b) * 7 + 23 * 60 + 59);
            let needs: Vec<&str> = NEEDS
                .iter()
                .enumerate()
                .filter(|(i, _)| needs & (1 << i) != 0)
                .map(|(_, n)| *n)
                .collect();
            contact::Model {
                id: Uuid::now_v7(),
                worker_id: Uuid::nil(),
                branch_id: branch(b),
                patron_id: None,
                occurred_at: audit::format_time(t),
                recorded_at: t,
                duration_minutes: None,
                kind: KINDS[usize::from(kind)].to_owned(),
                needs: serde_json::to_string(&needs).unwrap(),
                services_given: "[]".to_owned(),
                note: None,
                version: 1,
                updated_at: t,
            }
        }

        fn grouping() -> impl Strategy<Value = ContactGrouping> {
            prop::sample::select(ContactGrouping::ALL.to_vec())
        }

        /// What a caller may ask: the records of its branches (`None`:
        /// all) in a period, by a grouping, published by the service's
        /// own code; with the true count behind each figure, counted here
        /// independently.
        fn ask(
            all: &[contact::Model],
            branches: &Option<Vec<Uuid>>,
            period: &Period,
            by: ContactGrouping,
        ) -> Answer {
            let chosen: Vec<contact::Model> = all
                .iter()
                .filter(|c| branches.as_ref().is_none_or(|b| b.contains(&c.branch_id)))
                .filter(|c| {
                    let t = chrono::DateTime::parse_from_rfc3339(&c.occurred_at).unwrap();
                    period.contains(t.with_timezone(&Utc))
                })
                .cloned()
                .collect();
            let table = tabulate_contacts(&chosen, by);
            let figures = table
                .rows
                .iter()
                .map(|r| {
                    let truth = chosen
                        .iter()
                        .filter(|c| match by {
                            ContactGrouping::Need => {
                                let needs: Vec<String> = serde_json::from_str(&c.needs).unwrap();
                                needs.contains(&r.group)
                            }
                            ContactGrouping::Branch => c.branch_id.to_string() == r.group,
                            ContactGrouping::Month => c.occurred_at.starts_with(&r.group),
                            ContactGrouping::Kind => c.kind == r.group,
                        })
                        .count() as u64;
                    (r.count.clone(), truth)
                })
                .collect();
            Answer {
                figures,
                total: (table.total, chosen.len() as u64),
                partition: by != ContactGrouping::Need,
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            /// Random contacts, one caller, two of the queries it may make:
            /// no sum or difference of what comes back is an exact count
            /// from 1 to 4.
            #[test]
            fn no_two_answers_give_away_a_small_count(
                records in prop::collection::vec(
                    (0..36u8, 0..28u8, 0..3u8, 0..3u8, 0..16u8), 0..80),
                supervisor in prop::option::of(prop::collection::vec(0..3u8, 1..3)),
                first in (periods(3, 12), grouping()),
                second in (periods(3, 12), grouping()),
            ) {
                let all: Vec<contact::Model> = records
                    .into_iter()
                    .map(|(m, d, b, k, n)| contact(m, d, b, k, n))
                    .collect();
                let branches = supervisor.map(|bs| bs.into_iter().map(branch).collect());
                let a = ask(&all, &branches, &first.0, first.1);
                let b = ask(&all, &branches, &second.0, second.1);
                assert_no_exact_small_count(&a, &b);
            }
        }
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
        assert_eq!(
            enough.rows[0].median_days_to_complete,
            Some(4.0),
            "3.5 in whole days"
        );
    }
}
