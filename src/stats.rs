//! What every statistic without personal data shares: who may ask (the
//! policy's `program_statistics`), how small cells are suppressed, how a
//! total is published so that no suppressed cell can be recovered from it,
//! and how the request is audited. Casework's and safety's statistics each
//! count their own records with these; none joins the two.

use uuid::Uuid;

use crate::{
    access::{self, Actor},
    audit::{Action, AuditContext, Outcome},
    domain::RecordKind,
    error::ServiceResult,
    state::AppState,
    unit,
};

/// Cells below this are suppressed.
pub const MIN_CELL: u64 = 5;

/// Whether a count would single out fewer than [`MIN_CELL`] records.
pub fn is_small(n: u64) -> bool {
    (1..MIN_CELL).contains(&n)
}

/// A count as published: the number, or `<5`.
pub fn cell(n: u64) -> String {
    if is_small(n) {
        format!("<{MIN_CELL}")
    } else {
        n.to_string()
    }
}

/// The total as published: exact, or rounded to the nearest 10 when any
/// cell is suppressed (or the total itself is small).
pub fn total(n: u64, suppressed: bool) -> (String, bool) {
    if suppressed || is_small(n) {
        (((n + 5) / 10 * 10).to_string(), true)
    } else {
        (n.to_string(), false)
    }
}

/// `part` per `scale` of `whole`, rounded to one decimal: only when the
/// whole is at least [`MIN_CELL`] and the part is not a suppressed cell
/// (a rate would give it away).
pub fn rate(part: u64, whole: u64, scale: f64) -> Option<f64> {
    (whole >= MIN_CELL && !is_small(part))
        .then(|| (part as f64 * scale / whole as f64 * 10.0).round() / 10.0)
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

/// Records the statistics request (it discloses no record).
pub async fn record(
    state: &AppState,
    ctx: &AuditContext,
    rule: &'static str,
    kind: RecordKind,
) -> ServiceResult<()> {
    let ev = ctx
        .event(Action::Search, Outcome::Allowed, rule)
        .record_type(kind)
        .query(r#"{"statistics":true}"#);
    state.recorder.record(vec![ev]).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_totals_and_rates_hide_small_counts() {
        assert_eq!(cell(0), "0");
        assert_eq!(cell(4), "<5");
        assert_eq!(cell(5), "5");
        assert_eq!(total(22, true), ("20".to_owned(), true));
        assert_eq!(total(12, false), ("12".to_owned(), false));
        assert_eq!(total(3, false), ("0".to_owned(), true));
        assert_eq!(rate(5, 10, 1.0), Some(0.5));
        assert_eq!(rate(0, 10, 1000.0), Some(0.0));
        assert_eq!(rate(3, 10, 1.0), None, "the part would be recovered");
        assert_eq!(rate(4, 4, 1.0), None);
        assert_eq!(rate(7, 30, 1000.0), Some(233.3));
    }
}
