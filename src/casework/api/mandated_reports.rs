//! Mandated reports: the calls to protective agencies the law requires.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Header, Path, Query},
    payload::Json,
};
use uuid::Uuid;

use crate::http::types::Timestamp;
use crate::http::{
    ApiTags, etag, input::Input, problem::ProblemResponse, security::BearerAuth, write_limit,
};
use crate::text::{ClientId, ETag, IdempotencyKeyText};
use crate::{
    audit::RequestMeta,
    casework::mandated_reports::{
        self, Agency, AgencyWorker, Change, IntakeNumber, LongText, NewReport, OptionalText,
        ReportFields,
    },
    domain::{
        CaseId, MandatedReportId, MandatedReportKind, MandatedReportStatus, PatronId, ReportedHow,
    },
    state::AppState,
};
use entities::mandated_report;

pub struct MandatedReportsApi;

#[derive(Object, serde::Serialize)]
pub struct MandatedReportOut {
    pub id: Uuid,
    pub patron_id: Uuid,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_id: Option<Uuid>,
    pub kind: MandatedReportKind,
    pub agency: String,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<String>,
    /// When the worker learned of what is reported.
    pub learned_at: Timestamp,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reported_at: Option<Timestamp>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reported_how: Option<ReportedHow>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intake_number: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agency_worker: Option<String>,
    /// The children or adults concerned, as descriptions.
    pub persons_concerned: String,
    pub what_was_reported: String,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub screening_outcome: Option<String>,
    pub status: MandatedReportStatus,
    pub created_by: Uuid,
    pub version: i32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

pub fn report_out(r: mandated_report::Model) -> MandatedReportOut {
    MandatedReportOut {
        id: r.id,
        patron_id: r.patron_id,
        case_id: r.case_id,
        kind: MandatedReportKind::parse(&r.kind).unwrap_or(MandatedReportKind::Other),
        agency: r.agency,
        legal_basis: r.legal_basis,
        learned_at: r.learned_at.into(),
        reported_at: r.reported_at.map(Into::into),
        reported_how: r.reported_how.as_deref().and_then(ReportedHow::parse),
        intake_number: r.intake_number,
        agency_worker: r.agency_worker,
        persons_concerned: r.persons_concerned,
        what_was_reported: r.what_was_reported,
        screening_outcome: r.screening_outcome,
        status: MandatedReportStatus::parse(&r.status).unwrap_or(MandatedReportStatus::Closed),
        created_by: r.created_by,
        version: r.version,
        created_at: r.created_at.into(),
        updated_at: r.updated_at.into(),
    }
}

/// Rendered as a read renders it, for a 412's `current`.
impl crate::error::Current for mandated_report::Model {
    fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(report_out(self.clone())).unwrap_or_default()
    }
}

#[derive(Object)]
pub struct NewMandatedReportIn {
    /// Optional client-chosen UUIDv7.
    pub id: Option<ClientId>,
    pub patron_id: Uuid,
    pub case_id: Option<Uuid>,
    pub kind: MandatedReportKind,
    pub agency: Agency,
    /// May span lines; blank means none.
    pub legal_basis: Option<OptionalText>,
    /// Not before 2000, not more than a day ahead of the server's clock.
    pub learned_at: DateTime<Utc>,
    pub reported_at: Option<DateTime<Utc>>,
    pub reported_how: Option<ReportedHow>,
    /// Blank means none.
    pub intake_number: Option<IntakeNumber>,
    /// Blank means none.
    pub agency_worker: Option<AgencyWorker>,
    /// The children or adults concerned, as descriptions; may span lines.
    pub persons_concerned: LongText,
    /// May span lines.
    pub what_was_reported: LongText,
    /// May span lines; blank means none.
    pub screening_outcome: Option<OptionalText>,
}

/// Fields to change; absent ones stay, blank optional texts clear.
#[derive(Object)]
pub struct MandatedReportPatchIn {
    pub kind: Option<MandatedReportKind>,
    pub agency: Option<Agency>,
    pub legal_basis: Option<OptionalText>,
    pub learned_at: Option<DateTime<Utc>>,
    pub reported_at: Option<DateTime<Utc>>,
    pub reported_how: Option<ReportedHow>,
    pub intake_number: Option<IntakeNumber>,
    pub agency_worker: Option<AgencyWorker>,
    pub persons_concerned: Option<LongText>,
    pub what_was_reported: Option<LongText>,
    pub screening_outcome: Option<OptionalText>,
}

impl From<MandatedReportPatchIn> for ReportFields {
    fn from(b: MandatedReportPatchIn) -> Self {
        ReportFields {
            kind: b.kind,
            agency: b.agency,
            legal_basis: b.legal_basis,
            learned_at: b.learned_at,
            reported_at: b.reported_at,
            reported_how: b.reported_how,
            intake_number: b.intake_number,
            agency_worker: b.agency_worker,
            persons_concerned: b.persons_concerned,
            what_was_reported: b.what_was_reported,
            screening_outcome: b.screening_outcome,
        }
    }
}

/// A move: `submitted` needs `reported_at` and `reported_how`,
/// `acknowledged` the intake number too (given here or already recorded).
#[derive(Object)]
pub struct MandatedReportMoveIn {
    pub to: MandatedReportStatus,
    pub reported_at: Option<DateTime<Utc>>,
    pub reported_how: Option<ReportedHow>,
    /// Blank means none.
    pub intake_number: Option<IntakeNumber>,
    /// Blank means none.
    pub agency_worker: Option<AgencyWorker>,
    /// May span lines; blank means none.
    pub screening_outcome: Option<OptionalText>,
}

#[derive(Object)]
pub struct MandatedReportList {
    pub items: Vec<MandatedReportOut>,
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

#[derive(ApiResponse)]
pub enum MandatedReportCreated {
    #[oai(status = 201)]
    Created(Json<MandatedReportOut>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum MandatedReportRead {
    #[oai(status = 200)]
    Ok(Json<MandatedReportOut>, #[oai(header = "ETag")] String),
}

fn read(r: mandated_report::Model) -> MandatedReportRead {
    let tag = etag(r.version);
    MandatedReportRead::Ok(Json(report_out(r)), tag)
}

#[OpenApi(prefix_path = "/v1/mandated-reports", tag = "ApiTags::MandatedReports")]
impl MandatedReportsApi {
    /// Record a report to a protective agency (social workers). Starts as
    /// `draft`; no consent is asked (the law requires the report).
    #[oai(
        operation_id = "createMandatedReport",
        path = "/",
        method = "post",
        transform = "write_limit"
    )]
    async fn create(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        /// Send the same key again to retry safely: the first answer is replayed.
        #[oai(name = "Idempotency-Key")]
        _idempotency_key: Header<Option<IdempotencyKeyText>>,
        body: Input<NewMandatedReportIn>,
    ) -> Result<MandatedReportCreated, ProblemResponse> {
        let b = body.0;
        let input = NewReport {
            id: b.id,
            patron_id: PatronId::new(b.patron_id),
            case_id: b.case_id.map(CaseId::new),
            fields: ReportFields {
                kind: Some(b.kind),
                agency: Some(b.agency),
                legal_basis: b.legal_basis,
                learned_at: Some(b.learned_at),
                reported_at: b.reported_at,
                reported_how: b.reported_how,
                intake_number: b.intake_number,
                agency_worker: b.agency_worker,
                persons_concerned: Some(b.persons_concerned),
                what_was_reported: Some(b.what_was_reported),
                screening_outcome: b.screening_outcome,
            },
        };
        let r = mandated_reports::create(&state, &auth.0, &meta, input).await?;
        let tag = etag(r.version);
        Ok(MandatedReportCreated::Created(Json(report_out(r)), tag))
    }

    /// The reports the caller may read (their own; supervisors their
    /// branches'), newest first; with `patron_id`, that patron's.
    #[oai(operation_id = "listMandatedReports", path = "/", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        patron_id: Query<Option<Uuid>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))] limit: Query<Option<u64>>,
        #[oai(validator(max_length = 400))] cursor: Query<Option<String>>,
    ) -> Result<Json<MandatedReportList>, ProblemResponse> {
        let page = mandated_reports::list(
            &state,
            &auth.0,
            &meta,
            patron_id.0.map(PatronId::new),
            cursor.0.as_deref(),
            limit.0,
        )
        .await?;
        Ok(Json(MandatedReportList {
            items: page.items.into_iter().map(report_out).collect(),
            next_cursor: page.next_cursor,
        }))
    }

    /// One report: its author and the branch's supervisors only; anyone else
    /// gets the answer a missing id gets.
    #[oai(operation_id = "getMandatedReport", path = "/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> Result<MandatedReportRead, ProblemResponse> {
        Ok(read(
            mandated_reports::get(&state, &auth.0, &meta, MandatedReportId::new(id.0)).await?,
        ))
    }

    /// Change a report (its author). Requires `If-Match`; a closed report
    /// is 409.
    #[oai(
        operation_id = "updateMandatedReport",
        path = "/:id",
        method = "patch",
        transform = "write_limit"
    )]
    async fn update(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<ETag>,
        body: Input<MandatedReportPatchIn>,
    ) -> Result<MandatedReportRead, ProblemResponse> {
        Ok(read(
            mandated_reports::change(
                &state,
                &auth.0,
                &meta,
                MandatedReportId::new(id.0),
                Some(if_match.0.as_str()),
                Change::Fields(body.0.into()),
            )
            .await?,
        ))
    }

    /// Move a report on: `draft -> submitted -> acknowledged -> closed`
    /// (`draft -> acknowledged` when the intake number came with the call).
    /// An illegal move is 409 naming the allowed ones. Requires `If-Match`.
    #[oai(
        operation_id = "moveMandatedReport",
        path = "/:id/transitions",
        method = "post",
        transform = "write_limit"
    )]
    async fn transition(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<ETag>,
        body: Input<MandatedReportMoveIn>,
    ) -> Result<MandatedReportRead, ProblemResponse> {
        let b = body.0;
        let fields = ReportFields {
            reported_at: b.reported_at,
            reported_how: b.reported_how,
            intake_number: b.intake_number,
            agency_worker: b.agency_worker,
            screening_outcome: b.screening_outcome,
            ..ReportFields::default()
        };
        Ok(read(
            mandated_reports::change(
                &state,
                &auth.0,
                &meta,
                MandatedReportId::new(id.0),
                Some(if_match.0.as_str()),
                Change::Move { to: b.to, fields },
            )
            .await?,
        ))
    }
}
