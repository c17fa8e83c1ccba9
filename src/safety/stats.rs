//! Incident statistics for program review, without personal data. They
//! read incidents (with the responders' certification as recorded), rules
//! and branches only: no casework table. Periods are whole calendar units
//! and every figure is published as in every statistic (`crate::stats`):
//! `0`, `<5`, or rounded to a multiple of 5, rates from the rounded figures.
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
    stats::{self, Asked, figure, rate},
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

impl IncidentGrouping {
    pub const ALL: [IncidentGrouping; 5] = [
        Self::Rule,
        Self::Branch,
        Self::Month,
        Self::Resolution,
        Self::CertifiedResponder,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rule => "rule",
            Self::Branch => "branch",
            Self::Month => "month",
            Self::Resolution => "resolution",
            Self::CertifiedResponder => "certified_responder",
        }
    }
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
    let rows = groups
        .into_iter()
        .map(|(group, c)| IncidentRow {
            group,
            incidents: figure(c.incidents),
            without_enforcement: figure(c.without),
            percent_without_enforcement: rate(c.without, c.incidents, 100.0),
            police_calls: figure(c.police),
            police_per_1000: rate(c.police, c.incidents, 1000.0),
            warnings: figure(c.warnings),
            escalated: figure(c.escalated),
            escalation_percent: rate(c.escalated, c.warnings, 100.0),
        })
        .collect();
    IncidentTable {
        rows,
        total: figure(total),
    }
}

pub async fn incidents(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    period: Option<&str>,
    by: IncidentGrouping,
) -> ServiceResult<IncidentTable> {
    let ctx = AuditContext::for_actor(actor, meta);
    let (rule_name, branches) = stats::allow(state, &ctx, actor, RecordKind::Incident).await?;
    let period = stats::period(period, state.clock.now())?;
    let (from, to) = period.bounds();
    let mut q = incident::Entity::find()
        .filter(incident::Column::OccurredAt.gte(from))
        .filter(incident::Column::OccurredAt.lt(to));
    if let Some(b) = &branches {
        q = q.filter(incident::Column::BranchId.is_in(b.clone()));
    }
    let all = q.all(&state.db).await?;
    let codes: BTreeMap<Uuid, String> = rule::Entity::find()
        .all(&state.db)
        .await?
        .into_iter()
        .map(|r| (r.id, r.code))
        .collect();
    let table = tabulate(&all, &codes, by);
    let asked = Asked {
        period: &period,
        group_by: by.as_str(),
        branches: branches.as_deref(),
    };
    stats::record(state, &ctx, rule_name, RecordKind::Incident, &asked).await?;
    Ok(table)
}

/// The published table of incidents already chosen by period and branch
/// (`codes`: each rule's code).
pub fn tabulate(
    all: &[incident::Model],
    codes: &BTreeMap<Uuid, String>,
    by: IncidentGrouping,
) -> IncidentTable {
    let escalations = escalations(all);
    let mut groups: BTreeMap<String, Counts> = BTreeMap::new();
    for i in all {
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
    publish(groups, all.len() as u64)
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};
    use proptest::prelude::*;

    use super::*;
    use crate::stats::{
        Period,
        differencing::{Answer, assert_no_exact_small_count, periods},
    };

    const RESOLUTIONS: [&str; 4] = ["staff_de_escalation", "security", "police", "person_left"];
    const ACTIONS: [&str; 3] = ["none", "warning", "suspension"];

    fn id(i: u8) -> Uuid {
        Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 + u128::from(i))
    }

    /// An incident in one of 24 months from January 2025.
    fn incident(month: u8, day: u8, b: u8, rule: u8, action: u8, police: bool) -> incident::Model {
        let (y, m) = (2025 + i32::from(month / 12), u32::from(month % 12) + 1);
        let t =
            Utc.with_ymd_and_hms(y, m, 1, 12, 0, 0).unwrap() + Duration::days(i64::from(day % 28));
        incident::Model {
            id: Uuid::now_v7(),
            branch_id: id(b),
            occurred_at: t,
            category: "disturbance".to_owned(),
            description: String::new(),
            description_key: String::new(),
            action_taken: ACTIONS[usize::from(action)].to_owned(),
            persons_involved: None,
            responders: "[]".to_owned(),
            resolution: Some(RESOLUTIONS[usize::from(rule)].to_owned()),
            police_called: police,
            minutes_before_police: None,
            rule_id: (rule < 2).then(|| id(100 + rule)),
            version: 1,
            created_by: Uuid::nil(),
            created_at: t,
            updated_at: t,
        }
    }

    fn query() -> impl Strategy<Value = (Period, IncidentGrouping)> {
        let period = periods(2, 8);
        (period, prop::sample::select(IncidentGrouping::ALL.to_vec()))
    }

    /// The caller's answer, published by the service's own code, with the
    /// truth behind each incident count and police-call count.
    fn ask(
        all: &[incident::Model],
        branches: &Option<Vec<Uuid>>,
        q: &(Period, IncidentGrouping),
    ) -> Answer {
        let chosen: Vec<incident::Model> = all
            .iter()
            .filter(|i| branches.as_ref().is_none_or(|b| b.contains(&i.branch_id)))
            .filter(|i| q.0.contains(i.occurred_at))
            .cloned()
            .collect();
        let codes = BTreeMap::from([(id(100), "r0".to_owned()), (id(101), "r1".to_owned())]);
        let table = tabulate(&chosen, &codes, q.1);
        let mut figures = Vec::new();
        for r in &table.rows {
            let group: Vec<&incident::Model> = chosen
                .iter()
                .filter(|i| match q.1 {
                    IncidentGrouping::Rule => {
                        i.rule_id
                            .and_then(|x| codes.get(&x))
                            .map_or("none", |c| c.as_str())
                            == r.group
                    }
                    IncidentGrouping::Branch => i.branch_id.to_string() == r.group,
                    IncidentGrouping::Month => i.occurred_at.format("%Y-%m").to_string() == r.group,
                    IncidentGrouping::Resolution => {
                        i.resolution.as_deref() == Some(r.group.as_str())
                    }
                    IncidentGrouping::CertifiedResponder => r.group == "none_certified",
                })
                .collect();
            figures.push((r.incidents.clone(), group.len() as u64));
            let police = group.iter().filter(|i| i.police_called).count() as u64;
            figures.push((r.police_calls.clone(), police));
            for other in [&r.without_enforcement, &r.warnings, &r.escalated] {
                assert!(
                    other == "<5" || other.parse::<u64>().is_ok_and(|n| n % 5 == 0),
                    "{other} is not in published form"
                );
            }
        }
        Answer {
            figures,
            total: (table.total, chosen.len() as u64),
            partition: false,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Random incidents, one caller, two of the queries it may make: no
        /// sum or difference of what comes back is an exact count from 1
        /// to 4.
        #[test]
        fn no_two_answers_give_away_a_small_count(
            records in prop::collection::vec(
                (0..24u8, 0..28u8, 0..3u8, 0..4u8, 0..3u8, any::<bool>()), 0..80),
            supervisor in prop::option::of(prop::collection::vec(0..3u8, 1..3)),
            first in query(),
            second in query(),
        ) {
            let all: Vec<incident::Model> = records
                .into_iter()
                .map(|(m, d, b, r, a, p)| incident(m, d, b, r, a, p))
                .collect();
            let branches = supervisor.map(|bs| bs.into_iter().map(id).collect());
            assert_no_exact_small_count(&ask(&all, &branches, &first), &ask(&all, &branches, &second));
        }
    }
}
