//! Incident statistics over HTTP, as JSON or (with `Accept: text/csv`) CSV.

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
    safety::stats::{self, IncidentGrouping, IncidentTable},
    state::AppState,
    text::StatsPeriod,
};

pub struct IncidentStatsApi;

/// One group of incidents. Counts from 1 to 4 are `<5`, every other count
/// is rounded to the nearest multiple of 5; a share or rate is computed from
/// the rounded figures, and left out when its whole is under 5 or its part
/// is `<5`.
#[derive(Object)]
pub struct IncidentStatsRowOut {
    /// A rule code (`none` without one), a branch id, a month (`YYYY-MM`),
    /// a resolution path (`unrecorded` without one), or `certified_present`
    /// / `none_certified`.
    pub group: String,
    pub incidents: String,
    /// Resolved without security or the police (a resolution other than
    /// `security` or `police`, and no police call).
    pub without_enforcement: String,
    #[oai(skip_serializing_if_is_none)]
    pub percent_without_enforcement: Option<f64>,
    pub police_calls: String,
    #[oai(skip_serializing_if_is_none)]
    pub police_per_1000: Option<f64>,
    /// Warnings given under a rule.
    pub warnings: String,
    /// Warnings followed the same day, at the same branch and under the
    /// same rule, by a suspension or a police call.
    pub escalated: String,
    #[oai(skip_serializing_if_is_none)]
    pub escalation_percent: Option<f64>,
}

#[derive(Object)]
pub struct IncidentStatsOut {
    pub rows: Vec<IncidentStatsRowOut>,
    /// Incidents counted, as published: `0`, `<5`, or rounded to the
    /// nearest multiple of 5.
    pub total: String,
}

fn opt(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

impl Csv for IncidentStatsOut {
    fn records(&self) -> Vec<Vec<String>> {
        let mut out = vec![
            [
                "group",
                "incidents",
                "without_enforcement",
                "percent_without_enforcement",
                "police_calls",
                "police_per_1000",
                "warnings",
                "escalated",
                "escalation_percent",
            ]
            .map(str::to_owned)
            .to_vec(),
        ];
        for r in &self.rows {
            out.push(vec![
                r.group.clone(),
                r.incidents.clone(),
                r.without_enforcement.clone(),
                opt(r.percent_without_enforcement),
                r.police_calls.clone(),
                opt(r.police_per_1000),
                r.warnings.clone(),
                r.escalated.clone(),
                opt(r.escalation_percent),
            ]);
        }
        let mut total = vec![String::new(); 9];
        total[0] = "total".to_owned();
        total[1] = self.total.clone();
        out.push(total);
        out
    }
}

fn out(t: IncidentTable) -> IncidentStatsOut {
    IncidentStatsOut {
        rows: t
            .rows
            .into_iter()
            .map(|r| IncidentStatsRowOut {
                group: r.group,
                incidents: r.incidents,
                without_enforcement: r.without_enforcement,
                percent_without_enforcement: r.percent_without_enforcement,
                police_calls: r.police_calls,
                police_per_1000: r.police_per_1000,
                warnings: r.warnings,
                escalated: r.escalated,
                escalation_percent: r.escalation_percent,
            })
            .collect(),
        total: t.total,
    }
}

/// How to group incidents.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum IncidentGroupBy {
    Rule,
    Branch,
    Month,
    Resolution,
    CertifiedResponder,
}

#[OpenApi(prefix_path = "/v1/stats", tag = "ApiTags::Statistics")]
impl IncidentStatsApi {
    /// Incidents for program review, by rule, branch, month, resolution
    /// path, or whether a certified responder was present: counts, the
    /// share resolved without security or police, police calls per 1,000,
    /// and how often a warning under a rule escalated. Supervisors see their
    /// branches, admins all. Reads safety and training records only.
    #[oai(
        operation_id = "incidentStatistics",
        path = "/incidents",
        method = "get"
    )]
    async fn incidents(
        &self,
        req: &Request,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        /// When the incidents occurred: a year (`2026`), a quarter
        /// (`2026-Q4`), a month (`2026-11`) or a span of whole months
        /// (`2026-01..2026-06`, its ends in either order), years 2000 to 2099,
        /// in UTC; the current year when
        /// absent.
        period: Query<Option<StatsPeriod>>,
        group_by: Query<IncidentGroupBy>,
    ) -> Result<TableReply<IncidentStatsOut>, ProblemResponse> {
        let by = match group_by.0 {
            IncidentGroupBy::Rule => IncidentGrouping::Rule,
            IncidentGroupBy::Branch => IncidentGrouping::Branch,
            IncidentGroupBy::Month => IncidentGrouping::Month,
            IncidentGroupBy::Resolution => IncidentGrouping::Resolution,
            IncidentGroupBy::CertifiedResponder => IncidentGrouping::CertifiedResponder,
        };
        let period = period.0.as_ref().map(StatsPeriod::as_str);
        let t = stats::incidents(&state, &auth.0, &meta, period, by).await?;
        Ok(TableReply::new(req, out(t)))
    }
}
