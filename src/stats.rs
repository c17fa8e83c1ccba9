//! What every statistic without personal data shares: who may ask (the
//! policy's `program_statistics`), which periods may be asked for, how every
//! figure is published so that no two answers combine into an exact small
//! count, and how the request is audited. Casework's and safety's
//! statistics each count their own records with these; none joins the two.
//!
//! The rule (docs/api.md, "Program statistics"):
//! - a period is a whole calendar unit in UTC: a year (`2026`), a quarter
//!   (`2026-Q4`), a month (`2026-11`), or a span of whole months
//!   (`2026-01..2026-06`), in the years 2000 to 2099; never an instant, so two answers differ by whole
//!   months of records, never by one record's minute;
//! - a count of 0 is `0`, a count from 1 to 4 is `<5`, and every other count
//!   and every total is rounded to the nearest multiple of [`BASE`]; so the
//!   difference of any two published figures is `<5`-vague or a multiple of
//!   5, never an exact count from 1 to 4;
//! - a rate is computed from the published (rounded) figures, and left out
//!   when its whole is under 5 or its part is `<5`.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use uuid::Uuid;

use crate::{
    access::{self, Actor},
    audit::{self, Action, AuditContext, Outcome},
    domain::RecordKind,
    error::{ServiceError, ServiceResult},
    state::AppState,
    unit,
};

/// Counts from 1 to this minus one are published as `<5`.
pub const MIN_CELL: u64 = 5;
/// Every other count and every total is rounded to a multiple of this.
pub const BASE: u64 = 5;

/// Whether a count would single out fewer than [`MIN_CELL`] records.
pub fn is_small(n: u64) -> bool {
    (1..MIN_CELL).contains(&n)
}

/// A count as published: `0`, `<5`, or rounded to the nearest multiple of
/// [`BASE`] (never to 0: 5, 6 and 7 are `5`).
pub fn figure(n: u64) -> String {
    match rounded(n) {
        Some(r) => r.to_string(),
        None => format!("<{MIN_CELL}"),
    }
}

/// The published number of a count; `None` for `<5`.
pub fn rounded(n: u64) -> Option<u64> {
    if n == 0 {
        Some(0)
    } else if is_small(n) {
        None
    } else {
        Some((n + BASE / 2) / BASE * BASE)
    }
}

/// `part` per `scale` of `whole`, from the published figures, rounded to one
/// decimal: only when the whole is at least [`MIN_CELL`] and the part is not
/// `<5` (a rate would give it away).
pub fn rate(part: u64, whole: u64, scale: f64) -> Option<f64> {
    let whole = rounded(whole).filter(|w| *w >= MIN_CELL)?;
    let part = rounded(part)?;
    Some((part as f64 * scale / whole as f64 * 10.0).round() / 10.0)
}

/// A period of whole calendar months (UTC) that statistics may be asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    /// The first month: (year, month 1-12).
    first: (i32, u32),
    /// How many months, at least 1.
    months: u32,
    /// As asked, in canonical form: `2026`, `2026-Q4`, `2026-11`,
    /// `2026-01..2026-06`.
    label: String,
}

impl Period {
    /// The pattern the spec states for `period`.
    pub const PATTERN: &'static str = crate::text::StatsPeriod::PATTERN;

    /// Reads a period; the error says what is allowed.
    pub fn parse(raw: &str) -> Result<Period, &'static str> {
        static SHAPED: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
            regex::Regex::new(Period::PATTERN).expect("the period pattern compiles")
        });
        if !SHAPED.is_match(raw) {
            return Err(
                "must be a year (2026), a quarter (2026-Q4), a month (2026-11) or a span of whole months (2026-01..2026-06)",
            );
        }
        // The pattern holds: years 2000-2099, months 01-12, quarters 1-4;
        // whatever it lets through is a period.
        let num = |s: &str| s.parse::<u32>().unwrap_or_default();
        let year = |s: &str| num(s) as i32;
        let month = |s: &str| (year(&s[..4]), num(&s[5..7]));
        let index = |(y, m): (i32, u32)| y * 12 + m as i32 - 1;
        let (first, months, label) = if let Some((a, b)) = raw.split_once("..") {
            // A span names its first and last month, in either order.
            let (a, b) = if index(month(a)) <= index(month(b)) {
                (a, b)
            } else {
                (b, a)
            };
            let span = index(month(b)) - index(month(a)) + 1;
            (month(a), span as u32, format!("{a}..{b}"))
        } else if let Some((y, q)) = raw.split_once("-Q") {
            ((year(y), (num(q) - 1) * 3 + 1), 3, raw.to_owned())
        } else if raw.len() == 4 {
            ((year(raw), 1), 12, raw.to_owned())
        } else {
            (month(raw), 1, raw.to_owned())
        };
        Ok(Period {
            first,
            months,
            label,
        })
    }

    /// The calendar year that contains `now` (the default).
    pub fn year_of(now: DateTime<Utc>) -> Period {
        Period {
            first: (now.year(), 1),
            months: 12,
            label: now.year().to_string(),
        }
    }

    /// The months' start and the next month's start.
    pub fn bounds(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        let start = month_start(self.first.0, self.first.1);
        let index = self.first.0 * 12 + self.first.1 as i32 - 1 + self.months as i32;
        let end = month_start(index.div_euclid(12), index.rem_euclid(12) as u32 + 1);
        (start, end)
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    /// Whether an instant falls in the period.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        let (start, end) = self.bounds();
        start <= t && t < end
    }
}

fn month_start(year: i32, month: u32) -> DateTime<Utc> {
    let day = NaiveDate::from_ymd_opt(year, month, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default();
    Utc.from_utc_datetime(&day)
}

/// The period asked for (`None`: the current calendar year), or a 422 on
/// `period` naming the rule.
pub fn period(raw: Option<&str>, now: DateTime<Utc>) -> ServiceResult<Period> {
    match raw {
        None => Ok(Period::year_of(now)),
        Some(raw) => Period::parse(raw).map_err(|m| ServiceError::invalid("period", m)),
    }
}

/// What a statistics request asked: recorded in its audit event.
pub struct Asked<'a> {
    pub period: &'a Period,
    pub group_by: &'static str,
    /// The branches counted: the caller's, or `None` for all.
    pub branches: Option<&'a [Uuid]>,
}

impl Asked<'_> {
    fn to_json(&self) -> String {
        let (from, to) = self.period.bounds();
        serde_json::json!({
            "statistics": true,
            "period": self.period.label(),
            "from": audit::format_time(from),
            "to": audit::format_time(to),
            "group_by": self.group_by,
            "filters": {"branches": match self.branches {
                Some(b) => serde_json::json!(b),
                None => serde_json::json!("all"),
            }},
        })
        .to_string()
    }
}

/// Asks the policy; a refusal is audited. The caller's branches, or `None`
/// for all.
pub async fn allow(
    state: &AppState,
    ctx: &AuditContext,
    actor: &Actor,
    kind: RecordKind,
) -> ServiceResult<(&'static str, Option<Vec<Uuid>>)> {
    let (decision, branches) = access::program_statistics(actor);
    let rule = unit::allowed(state, ctx, decision, Action::Search, kind).await?;
    Ok((rule, branches))
}

/// Records the statistics request with its period, grouping and filters
/// (it discloses no record).
pub async fn record(
    state: &AppState,
    ctx: &AuditContext,
    rule: &'static str,
    kind: RecordKind,
    asked: &Asked<'_>,
) -> ServiceResult<()> {
    let ev = ctx
        .event(Action::Search, Outcome::Allowed, rule)
        .record_type(kind)
        .query(asked.to_json());
    state.recorder.record(vec![ev]).await
}

/// What a differencing attacker can conclude from published figures, for
/// the property tests of each domain's statistics.
#[cfg(test)]
pub mod differencing {
    /// Any period a caller may ask for within `years` years from 2025:
    /// years, quarters, months and spans of up to `span` months more.
    pub fn periods(
        years: i32,
        span: u32,
    ) -> impl proptest::strategy::Strategy<Value = super::Period> {
        use proptest::prelude::*;
        let last = 2024 + years;
        let months = years as u32 * 12;
        prop_oneof![
            (2025..=last).prop_map(|y| y.to_string()),
            (2025..=last, 1..=4u32).prop_map(|(y, q)| format!("{y}-Q{q}")),
            (2025..=last, 1..=12u32).prop_map(|(y, m)| format!("{y}-{m:02}")),
            (0..months, 0..span).prop_map(|(a, n)| {
                let b = a + n;
                format!(
                    "{}-{:02}..{}-{:02}",
                    2025 + a / 12,
                    a % 12 + 1,
                    2025 + b / 12,
                    b % 12 + 1
                )
            }),
        ]
        .prop_map(|s| super::Period::parse(&s).expect("a period the pattern admits"))
    }

    /// The true counts a published figure is consistent with.
    pub fn consistent(published: &str) -> (u64, u64) {
        match published {
            "<5" => (1, 4),
            n => {
                let n: u64 = n.parse().expect("a published figure is <5 or a number");
                match n {
                    0 => (0, 0),
                    5 => (5, 7),
                    n => (n - 2, n + 2),
                }
            }
        }
    }

    /// One answer's figures: each as published, with the true count behind
    /// it; `parts` are the cells that add up to `total` when the grouping
    /// puts each record in one group.
    pub struct Answer {
        pub figures: Vec<(String, u64)>,
        pub total: (String, u64),
        pub partition: bool,
    }

    fn exact_small(lo: i64, hi: i64) -> bool {
        lo == hi && (1..=4).contains(&lo.abs())
    }

    /// Asserts that each figure is honest (its truth is consistent with it)
    /// and in published form, and that no sum or difference of two figures
    /// of the two answers, nor a total less its other cells, pins an exact
    /// count from 1 to 4.
    pub fn assert_no_exact_small_count(a: &Answer, b: &Answer) {
        let all: Vec<&(String, u64)> = a
            .figures
            .iter()
            .chain(b.figures.iter())
            .chain([&a.total, &b.total])
            .collect();
        for (published, truth) in &all {
            let (lo, hi) = consistent(published);
            assert!(
                (lo..=hi).contains(truth),
                "{published} published for {truth}"
            );
            assert!(
                published == "<5" || published.parse::<u64>().is_ok_and(|n| n % 5 == 0),
                "{published} is not in published form"
            );
        }
        for (i, x) in all.iter().enumerate() {
            for y in &all[i + 1..] {
                let (xl, xh) = consistent(&x.0);
                let (yl, yh) = consistent(&y.0);
                let (xl, xh, yl, yh) = (xl as i64, xh as i64, yl as i64, yh as i64);
                assert!(
                    !exact_small(xl - yh, xh - yl),
                    "{} - {} pins {}",
                    x.0,
                    y.0,
                    xl - yh
                );
                assert!(!exact_small(xl + yl, xh + yh), "{} + {}", x.0, y.0);
            }
        }
        for answer in [a, b].into_iter().filter(|x| x.partition) {
            let (tl, th) = consistent(&answer.total.0);
            let (mut lo, mut hi) = (tl as i64, th as i64);
            for (cell, _) in &answer.figures {
                let (cl, ch) = consistent(cell);
                lo -= ch as i64;
                hi -= cl as i64;
            }
            assert!(!exact_small(lo, hi), "the total less its cells pins {lo}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_and_rates_hide_small_counts() {
        let published: Vec<String> = [0, 1, 4, 5, 7, 8, 12, 13, 22, 23]
            .into_iter()
            .map(figure)
            .collect();
        assert_eq!(
            published,
            ["0", "<5", "<5", "5", "5", "10", "10", "15", "20", "25"]
        );
        assert_eq!(rate(5, 10, 1.0), Some(0.5));
        assert_eq!(rate(0, 10, 1000.0), Some(0.0));
        assert_eq!(rate(3, 10, 1.0), None, "the part would be recovered");
        assert_eq!(rate(4, 4, 1.0), None);
        assert_eq!(rate(7, 30, 1000.0), Some(166.7), "5 of 30, as published");
    }

    #[test]
    fn periods_are_whole_calendar_units() {
        let b = |s: &str| {
            let (a, z) = Period::parse(s).unwrap().bounds();
            (a.to_rfc3339(), z.to_rfc3339())
        };
        assert_eq!(
            b("2026"),
            (
                "2026-01-01T00:00:00+00:00".into(),
                "2027-01-01T00:00:00+00:00".into()
            )
        );
        assert_eq!(
            b("2026-Q4"),
            (
                "2026-10-01T00:00:00+00:00".into(),
                "2027-01-01T00:00:00+00:00".into()
            )
        );
        assert_eq!(
            b("2026-02"),
            (
                "2026-02-01T00:00:00+00:00".into(),
                "2026-03-01T00:00:00+00:00".into()
            )
        );
        assert_eq!(
            b("2025-11..2026-02"),
            (
                "2025-11-01T00:00:00+00:00".into(),
                "2026-03-01T00:00:00+00:00".into()
            )
        );
        let re = regex::Regex::new(Period::PATTERN).unwrap();
        for bad in [
            "2026-13",
            "2026-Q5",
            "2026-11-05",
            "2026-11-05T10:00:00Z",
            "26",
            "2026-1",
            "1999",
            "2100",
            "2026-00",
            "0000",
        ] {
            assert!(Period::parse(bad).is_err(), "{bad}");
            assert!(!re.is_match(bad), "the spec refuses {bad} too");
        }
        for good in [
            "2026",
            "2026-Q1",
            "2026-12",
            "2026-01..2026-01",
            "2001-01..2099-12",
        ] {
            assert!(re.is_match(good), "{good}");
            assert!(Period::parse(good).is_ok(), "{good}");
        }
        // A span in either order is the same months.
        assert_eq!(b("2026-02..2025-11"), b("2025-11..2026-02"));
        assert_eq!(
            Period::parse("2026-02..2025-11").unwrap().label(),
            "2025-11..2026-02"
        );
    }
}
