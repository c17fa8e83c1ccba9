//! Program statistics over HTTP, as JSON or (with `Accept: text/csv`) CSV.

use poem::{Request, web::Data};
use poem_openapi::{Enum, Object, OpenApi, param::Query};

use crate::http::{
    ApiTags,
    problem::ProblemResponse,
    security::BearerAuth,
    table::{Csv, TableReply},
};
use crate::{
    audit::RequestMeta,
    casework::stats::{self, ContactGrouping, ReferralGrouping, Table},
    state::AppState,
    text::StatsPeriod,
};

pub struct StatsApi;

/// One group's count.
#[derive(Object)]
pub struct StatsRowOut {
    /// The group: a need, a branch id, a month (`YYYY-MM`), a kind, a status
    /// or an outcome.
    pub group: String,
    /// The count as published: `0`, `<5` for 1 to 4, otherwise rounded to
    /// the nearest multiple of 5.
    pub count: String,
    /// Median whole days from `requested` to `completed` (referrals; only
    /// when at least 5 completed referrals are behind it).
    #[oai(skip_serializing_if_is_none)]
    pub median_days_to_complete: Option<f64>,
}

#[derive(Object)]
pub struct StatsOut {
    pub rows: Vec<StatsRowOut>,
    /// Records counted (a contact with two needs counts once here), as
    /// published: `0`, `<5`, or rounded to the nearest multiple of 5.
    pub total: String,
}

/// The rows, then the total.
impl Csv for StatsOut {
    fn records(&self) -> Vec<Vec<String>> {
        let mut out = vec![vec![
            "group".to_owned(),
            "count".to_owned(),
            "median_days_to_complete".to_owned(),
        ]];
        for r in &self.rows {
            out.push(vec![
                r.group.clone(),
                r.count.clone(),
                r.median_days_to_complete
                    .map(|m| m.to_string())
                    .unwrap_or_default(),
            ]);
        }
        out.push(vec!["total".to_owned(), self.total.clone(), String::new()]);
        out
    }
}

fn out(t: Table) -> StatsOut {
    StatsOut {
        rows: t
            .rows
            .into_iter()
            .map(|r| StatsRowOut {
                group: r.group,
                count: r.count,
                median_days_to_complete: r.median_days_to_complete,
            })
            .collect(),
        total: t.total,
    }
}

pub type StatsReply = TableReply<StatsOut>;

/// How to group contacts.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum ContactGroupBy {
    Need,
    Branch,
    Month,
    Kind,
}

/// How to group referrals (`category`: the needs a referral is for).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum ReferralGroupBy {
    Category,
    Status,
    Outcome,
    Branch,
    Month,
}

#[OpenApi(prefix_path = "/v1/stats", tag = "ApiTags::Statistics")]
impl StatsApi {
    /// Contacts of a whole calendar period counted by need, branch, month or
    /// kind, anonymous ones included; supervisors see their branches, admins
    /// all. Counts from 1 to 4 are `<5`, every other count and the total are
    /// rounded to the nearest multiple of 5.
    #[oai(operation_id = "contactStatistics", path = "/contacts", method = "get")]
    async fn contacts(
        &self,
        req: &Request,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        /// When the contacts happened: a year (`2026`), a quarter
        /// (`2026-Q4`), a month (`2026-11`) or a span of whole months
        /// (`2026-01..2026-06`, its ends in either order), years 2000 to 2099,
        /// in UTC; the current year when
        /// absent.
        period: Query<Option<StatsPeriod>>,
        group_by: Query<ContactGroupBy>,
    ) -> Result<StatsReply, ProblemResponse> {
        let by = match group_by.0 {
            ContactGroupBy::Need => ContactGrouping::Need,
            ContactGroupBy::Branch => ContactGrouping::Branch,
            ContactGroupBy::Month => ContactGrouping::Month,
            ContactGroupBy::Kind => ContactGrouping::Kind,
        };
        let period = period.0.as_ref().map(StatsPeriod::as_str);
        let t = stats::contacts(&state, &auth.0, &meta, period, by).await?;
        Ok(StatsReply::new(req, out(t)))
    }

    /// Referrals made in a whole calendar period counted by category,
    /// status, outcome, branch or month, with the median days from
    /// `requested` to `completed`; supervisors see their branches, admins
    /// all. Counts from 1 to 4 are `<5`, every other count and the total are
    /// rounded to the nearest multiple of 5.
    #[oai(
        operation_id = "referralStatistics",
        path = "/referrals",
        method = "get"
    )]
    async fn referrals(
        &self,
        req: &Request,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        /// When the referrals were made: a year (`2026`), a quarter
        /// (`2026-Q4`), a month (`2026-11`) or a span of whole months
        /// (`2026-01..2026-06`, its ends in either order), years 2000 to 2099,
        /// in UTC; the current year when
        /// absent.
        period: Query<Option<StatsPeriod>>,
        group_by: Query<ReferralGroupBy>,
    ) -> Result<StatsReply, ProblemResponse> {
        let by = match group_by.0 {
            ReferralGroupBy::Category => ReferralGrouping::Category,
            ReferralGroupBy::Status => ReferralGrouping::Status,
            ReferralGroupBy::Outcome => ReferralGrouping::Outcome,
            ReferralGroupBy::Branch => ReferralGrouping::Branch,
            ReferralGroupBy::Month => ReferralGrouping::Month,
        };
        let period = period.0.as_ref().map(StatsPeriod::as_str);
        let t = stats::referrals(&state, &auth.0, &meta, period, by).await?;
        Ok(StatsReply::new(req, out(t)))
    }
}
