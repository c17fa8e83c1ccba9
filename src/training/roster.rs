//! `casework certifications import FILE`: a CSV roster of completions, one
//! per row, with the header `username,training,completed_on,trainer,evidence`
//! (`training` is the catalogue name; `trainer` is `true` or `false`, blank
//! meaning false; `evidence` may be blank). Each row is recorded as a
//! completion is through the API (its expiry computed from the training);
//! rows that cannot be are reported by line, naming the field, and the rest
//! still load.

use std::path::Path;

use anyhow::Context;
use chrono::NaiveDate;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::certifications::{self, Evidence, NewCertification};
use crate::{audit::RequestMeta, error::ServiceError, state::AppState, text::Line};
use entities::{staff, training};

#[derive(Debug, Default)]
pub struct Report {
    pub loaded: usize,
    /// `line N: field: rule`, never a value.
    pub errors: Vec<String>,
}

#[derive(Debug, serde::Deserialize)]
struct Row {
    username: String,
    training: String,
    completed_on: String,
    #[serde(default)]
    trainer: String,
    #[serde(default)]
    evidence: String,
}

pub async fn import(state: &AppState, path: &Path) -> anyhow::Result<Report> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let mut report = Report::default();
    let meta = RequestMeta::default();
    for (i, row) in reader.deserialize::<Row>().enumerate() {
        // The header is line 1.
        let line = i + 2;
        let fail = |field: &str, message: &str| format!("line {line}: {field}: {message}");
        let row = match row {
            Ok(r) => r,
            Err(_) => {
                report
                    .errors
                    .push(fail("row", "cannot be read as the roster's columns"));
                continue;
            }
        };
        let Some(person) = staff::Entity::find()
            .filter(staff::Column::Username.eq(row.username.to_lowercase()))
            .one(&state.db)
            .await?
        else {
            report.errors.push(fail("username", "no such account"));
            continue;
        };
        let Some(t) = training::Entity::find()
            .filter(training::Column::Name.eq(row.training.as_str()))
            .one(&state.db)
            .await?
        else {
            report
                .errors
                .push(fail("training", "no such training in the catalogue"));
            continue;
        };
        let Ok(completed_on) = NaiveDate::parse_from_str(&row.completed_on, "%Y-%m-%d") else {
            report
                .errors
                .push(fail("completed_on", "must be a date, YYYY-MM-DD"));
            continue;
        };
        let trainer = match row.trainer.to_lowercase().as_str() {
            "" | "false" | "no" => false,
            "true" | "yes" => true,
            _ => {
                report.errors.push(fail("trainer", "must be true or false"));
                continue;
            }
        };
        let evidence: Evidence = match Line::parse(&row.evidence) {
            Ok(e) => e,
            Err(m) => {
                report.errors.push(fail("evidence", &m));
                continue;
            }
        };
        let input = NewCertification {
            id: None,
            training_id: t.id,
            completed_on,
            trainer,
            evidence: Some(evidence),
        };
        match certifications::record(state, None, &meta, person.id, input).await {
            Ok(_) => report.loaded += 1,
            Err(ServiceError::Invalid(issues)) => {
                for is in issues {
                    report.errors.push(fail(&is.field, &is.message));
                }
            }
            Err(e) => return Err(anyhow::anyhow!("import stopped: {e:?}")),
        }
    }
    Ok(report)
}
