//! The audit trail, for auditors.
// poem-openapi handlers take one argument per HTTP input (header, path,
// query, body), so long parameter lists are the shape of the API here.
#![allow(clippy::too_many_arguments)]

use poem::{Request, web::Data};
use poem_openapi::{Object, OpenApi, param::Query, payload::Json};
use uuid::Uuid;

use crate::http::{
    ApiTags,
    problem::ProblemResponse,
    security::BearerAuth,
    table::{Csv, TableReply, write_row},
};
use crate::text::Line;
use crate::{
    audit::{Action, Outcome, RequestMeta, Verification},
    domain::{RecordKind, Role},
    oversight::audit_review::{self, Disclosure, EventFilter},
    state::AppState,
};
use entities::audit_event;

pub struct AuditApi;

/// One audited access: who, what, when, with what result. Never content.
#[derive(Object)]
pub struct AuditEventOut {
    pub seq: i64,
    pub id: Uuid,
    pub recorded_at: crate::http::types::Timestamp,
    #[oai(skip_serializing_if_is_none)]
    pub occurred_at: Option<crate::http::types::Timestamp>,
    #[oai(skip_serializing_if_is_none)]
    pub actor_id: Option<Uuid>,
    #[oai(skip_serializing_if_is_none)]
    pub actor_role: Option<String>,
    pub actor_branches: Vec<Uuid>,
    #[oai(skip_serializing_if_is_none)]
    pub session_id: Option<Uuid>,
    #[oai(skip_serializing_if_is_none)]
    pub request_id: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub client_addr: Option<String>,
    pub action: String,
    #[oai(skip_serializing_if_is_none)]
    pub record_type: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub record_id: Option<Uuid>,
    #[oai(skip_serializing_if_is_none)]
    pub patron_id: Option<Uuid>,
    pub outcome: String,
    /// The policy rule that allowed or denied the access.
    pub rule: String,
    #[oai(skip_serializing_if_is_none)]
    pub purpose: Option<String>,
    /// Names of the fields returned or changed.
    pub fields: Vec<String>,
    #[oai(skip_serializing_if_is_none)]
    pub query: Option<String>,
    /// Ids returned by a search.
    pub result_ids: Vec<Uuid>,
    pub prev_hash: String,
    pub hash: String,
}

fn event_out(e: audit_event::Model) -> AuditEventOut {
    AuditEventOut {
        seq: e.seq,
        id: e.id,
        recorded_at: e.recorded_at.into(),
        occurred_at: e.occurred_at.map(Into::into),
        actor_id: e.actor_id,
        actor_role: e.actor_role,
        actor_branches: serde_json::from_str(&e.actor_branches).unwrap_or_default(),
        session_id: e.session_id,
        request_id: e.request_id,
        client_addr: e.client_addr,
        action: e.action,
        record_type: e.record_type,
        record_id: e.record_id,
        patron_id: e.patron_id,
        outcome: e.outcome,
        rule: e.rule,
        purpose: e.purpose,
        fields: serde_json::from_str(&e.fields).unwrap_or_default(),
        query: e.query,
        result_ids: serde_json::from_str(&e.result_ids).unwrap_or_default(),
        prev_hash: e.prev_hash,
        hash: e.hash,
    }
}

#[derive(Object)]
pub struct AuditEventList {
    pub items: Vec<AuditEventOut>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

/// Who accessed one patron's records, in what role and for what purpose:
/// how often, first and last, which kinds of record, and the events behind.
#[derive(Object)]
pub struct DisclosureOut {
    #[oai(skip_serializing_if_is_none)]
    pub staff_id: Option<Uuid>,
    #[oai(skip_serializing_if_is_none)]
    pub display_name: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub role: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub purpose: Option<String>,
    pub accesses: u64,
    pub first_at: crate::http::types::Timestamp,
    pub last_at: crate::http::types::Timestamp,
    pub record_types: Vec<String>,
    pub event_ids: Vec<Uuid>,
}

fn disclosure_out(d: Disclosure) -> DisclosureOut {
    DisclosureOut {
        staff_id: d.actor_id,
        display_name: d.display_name,
        role: d.actor_role,
        purpose: d.purpose,
        accesses: d.accesses,
        first_at: d.first_at.into(),
        last_at: d.last_at.into(),
        record_types: d.record_types,
        event_ids: d.event_ids,
    }
}

/// An accounting of disclosures for one patron.
#[derive(Object)]
pub struct DisclosuresOut {
    pub patron_id: Uuid,
    pub rows: Vec<DisclosureOut>,
}

impl Csv for DisclosuresOut {
    fn records(&self) -> Vec<Vec<String>> {
        let mut out = vec![
            [
                "staff_id",
                "display_name",
                "role",
                "purpose",
                "accesses",
                "first_at",
                "last_at",
                "record_types",
            ]
            .map(str::to_owned)
            .to_vec(),
        ];
        for r in &self.rows {
            out.push(vec![
                r.staff_id.map(|i| i.to_string()).unwrap_or_default(),
                r.display_name.clone().unwrap_or_default(),
                r.role.clone().unwrap_or_default(),
                r.purpose.clone().unwrap_or_default(),
                r.accesses.to_string(),
                crate::audit::format_time(r.first_at.0),
                crate::audit::format_time(r.last_at.0),
                r.record_types.join(";"),
            ]);
        }
        out
    }
}

/// Which anomaly view.
#[derive(poem_openapi::Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum AnomalyKindIn {
    /// Refused attempts, per actor (failed sign-ins aside).
    DeniedByActor,
    /// Staff who read more distinct patrons in a day than `threshold`.
    ManyPatronsInADay,
    /// Accesses to patrons whose home branch was not one of the actor's.
    OutsideBranches,
    /// Failed sign-ins per account.
    FailedSignInsByAccount,
    /// Failed sign-ins per client address.
    FailedSignInsByAddress,
    /// Break-glass grants awaiting review, each with the accesses it allowed.
    BreakGlassUnreviewed,
}

/// One row of an anomaly view: who, how often, first and last, and the
/// events behind it (the first 100; `total_events` counts them all).
#[derive(Object)]
pub struct AnomalyOut {
    #[oai(skip_serializing_if_is_none)]
    pub actor_id: Option<Uuid>,
    #[oai(skip_serializing_if_is_none)]
    pub actor_role: Option<String>,
    /// The account a failed sign-in named.
    #[oai(skip_serializing_if_is_none)]
    pub account_id: Option<Uuid>,
    #[oai(skip_serializing_if_is_none)]
    pub client_addr: Option<String>,
    /// The grant, for `break_glass_unreviewed`.
    #[oai(skip_serializing_if_is_none)]
    pub grant_id: Option<Uuid>,
    /// `YYYY-MM-DD`, for `many_patrons_in_a_day`.
    #[oai(skip_serializing_if_is_none)]
    pub day: Option<String>,
    /// Events, or for `many_patrons_in_a_day` distinct patrons.
    pub count: u64,
    pub first_at: crate::http::types::Timestamp,
    pub last_at: crate::http::types::Timestamp,
    pub event_ids: Vec<Uuid>,
    pub total_events: u64,
}

#[derive(Object)]
pub struct AnomalyList {
    pub rows: Vec<AnomalyOut>,
}

/// How an export is written.
#[derive(poem_openapi::Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum ExportFormat {
    /// One JSON object per line, as `listAuditEvents` shows each event.
    Ndjson,
    Csv,
}

const EXPORT_COLUMNS: [&str; 22] = [
    "seq",
    "id",
    "recorded_at",
    "occurred_at",
    "actor_id",
    "actor_role",
    "actor_branches",
    "session_id",
    "request_id",
    "client_addr",
    "action",
    "record_type",
    "record_id",
    "patron_id",
    "outcome",
    "rule",
    "purpose",
    "fields",
    "query",
    "result_ids",
    "prev_hash",
    "hash",
];

/// One page of events, written in the export's format.
fn export_chunk(format: ExportFormat, events: Vec<audit_event::Model>, header: bool) -> Vec<u8> {
    use poem_openapi::types::ToJSON;
    match format {
        ExportFormat::Ndjson => {
            let mut out = Vec::new();
            for e in events {
                let line = event_out(e).to_json().unwrap_or_default().to_string();
                out.extend_from_slice(line.as_bytes());
                out.push(b'\n');
            }
            out
        }
        ExportFormat::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            if header {
                let _ = write_row(&mut w, EXPORT_COLUMNS);
            }
            let text = |v: Option<String>| v.unwrap_or_default();
            let id = |v: Option<Uuid>| v.map(|u| u.to_string()).unwrap_or_default();
            for e in events {
                let _ = write_row(
                    &mut w,
                    [
                        e.seq.to_string(),
                        e.id.to_string(),
                        e.recorded_at,
                        text(e.occurred_at),
                        id(e.actor_id),
                        text(e.actor_role),
                        e.actor_branches,
                        id(e.session_id),
                        text(e.request_id),
                        text(e.client_addr),
                        e.action,
                        text(e.record_type),
                        id(e.record_id),
                        id(e.patron_id),
                        e.outcome,
                        e.rule,
                        text(e.purpose),
                        e.fields,
                        text(e.query),
                        e.result_ids,
                        e.prev_hash,
                        e.hash,
                    ],
                );
            }
            w.into_inner().unwrap_or_default()
        }
    }
}

/// A streamed export: CSV or NDJSON, written a page at a time.
pub struct ExportReply(poem::Response);

impl poem::IntoResponse for ExportReply {
    fn into_response(self) -> poem::Response {
        self.0
    }
}

impl poem_openapi::ApiResponse for ExportReply {
    fn meta() -> poem_openapi::registry::MetaResponses {
        use poem_openapi::{
            payload::{Payload, PlainText},
            registry::{MetaMediaType, MetaResponse, MetaResponses},
        };
        MetaResponses {
            responses: vec![MetaResponse {
                description: "The events, oldest first, streamed",
                status: Some(200),
                status_range: None,
                content: ["application/x-ndjson", "text/csv; charset=utf-8"]
                    .into_iter()
                    .map(|content_type| MetaMediaType {
                        content_type,
                        schema: <PlainText<String> as Payload>::schema_ref(),
                    })
                    .collect(),
                headers: vec![],
            }],
        }
    }

    fn register(_: &mut poem_openapi::registry::Registry) {}
}

/// A signed head of the audit chain.
#[derive(Object)]
pub struct ReceiptOut {
    pub seq: i64,
    pub hash: String,
    /// When it was signed (RFC 3339).
    pub at: String,
    /// Hex Ed25519 signature over `casework audit checkpoint v2\n{seq}\n{hash}\n{at}\n{prev}`
    /// (`v1` and no `prev` line when `prev` is absent).
    pub signature: String,
    /// Hex Ed25519 public key of the deployment's checkpoint key.
    pub public_key: String,
    /// The signature of the checkpoint before it, which this one signs too.
    #[oai(skip_serializing_if_is_none)]
    pub prev: Option<String>,
}

#[derive(Object)]
pub struct VerifyResult {
    /// True when every link of the chain checks out.
    pub intact: bool,
    /// Events checked (when intact).
    #[oai(skip_serializing_if_is_none)]
    pub events: Option<u64>,
    /// The first broken row (when not intact).
    #[oai(skip_serializing_if_is_none)]
    pub broken_seq: Option<i64>,
    #[oai(skip_serializing_if_is_none)]
    pub broken_id: Option<Uuid>,
    #[oai(skip_serializing_if_is_none)]
    pub reason: Option<String>,
}

#[OpenApi(prefix_path = "/v1/audit", tag = "ApiTags::Audit")]
impl AuditApi {
    /// Audit events, oldest first, filtered (auditors only). Listing them is
    /// itself audited.
    #[oai(operation_id = "listAuditEvents", path = "/events", method = "get")]
    async fn events(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        actor_id: Query<Option<Uuid>>,
        record_id: Query<Option<Uuid>>,
        /// Every access to this patron's records (an accounting of disclosures).
        patron_id: Query<Option<Uuid>>,
        action: Query<Option<Action>>,
        outcome: Query<Option<Outcome>>,
        record_type: Query<Option<RecordKind>>,
        /// One of the actor's branches at the moment of the event.
        branch_id: Query<Option<Uuid>>,
        /// The actor's role at the moment of the event.
        actor_role: Query<Option<Role>>,
        /// The purpose of use, e.g. `mandated_reporting`.
        purpose: Query<Option<Line<40>>>,
        /// Only break-glass: grants opened, and the accesses they allowed.
        #[oai(default)]
        break_glass: Query<bool>,
        /// Recorded at or after (RFC 3339).
        from: Query<Option<chrono::DateTime<chrono::Utc>>>,
        /// Recorded before (RFC 3339).
        to: Query<Option<chrono::DateTime<chrono::Utc>>>,
        /// Page size, 1 to 500 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "500")))]
        limit: Query<Option<u64>>,
        /// A `next_cursor` from a previous page.
        #[oai(validator(pattern = "^[0-9]{1,18}$"))]
        cursor: Query<Option<String>>,
        /// Patron searches for these words (case and accents ignored). The
        /// trail keeps keyed fingerprints of search words, never the words.
        search_text: Query<Option<Line<100>>>,
    ) -> Result<Json<AuditEventList>, ProblemResponse> {
        let cursor = match cursor.0.as_deref() {
            None => None,
            Some(c) => Some(c.parse::<i64>().map_err(|_| {
                ProblemResponse::from(crate::error::ServiceError::invalid(
                    "cursor",
                    "must be a next_cursor from a previous page",
                ))
            })?),
        };
        let filter = EventFilter {
            actor_id: actor_id.0,
            record_id: record_id.0,
            patron_id: patron_id.0,
            action: action.0.map(|a| a.as_str().to_owned()),
            outcome: outcome.0.map(|o| o.as_str().to_owned()),
            record_type: record_type.0.map(|k| k.as_str().to_owned()),
            branch_id: branch_id.0,
            actor_role: actor_role.0.map(|r| r.as_str().to_owned()),
            purpose: purpose.0.map(Line::into_inner),
            break_glass: break_glass.0,
            from: from.0,
            to: to.0,
            search_text: search_text.0.map(Line::into_inner),
            search_words: Vec::new(),
        };
        let page = audit_review::list(
            &state,
            &auth.0,
            &meta,
            filter,
            cursor,
            limit.0.unwrap_or(crate::paging::DEFAULT_PAGE),
        )
        .await?;
        Ok(Json(AuditEventList {
            items: page.events.into_iter().map(event_out).collect(),
            next_cursor: page.next_cursor,
        }))
    }

    /// The accounting of disclosures for one patron (auditors only): every
    /// allowed access to the patron's records in the period, grouped by
    /// staff member, role and purpose, with counts, first and last time,
    /// the kinds of record and the events behind each row. CSV with
    /// `Accept: text/csv`. What a patron asking "who has looked at my file?"
    /// is given.
    #[oai(
        operation_id = "listDisclosures",
        path = "/disclosures",
        method = "get"
    )]
    async fn disclosures(
        &self,
        req: &Request,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        patron_id: Query<Uuid>,
        /// Recorded at or after (RFC 3339).
        from: Query<Option<chrono::DateTime<chrono::Utc>>>,
        /// Recorded before (RFC 3339).
        to: Query<Option<chrono::DateTime<chrono::Utc>>>,
    ) -> Result<TableReply<DisclosuresOut>, ProblemResponse> {
        let rows =
            audit_review::disclosures(&state, &auth.0, &meta, patron_id.0, from.0, to.0).await?;
        Ok(TableReply::new(
            req,
            DisclosuresOut {
                patron_id: patron_id.0,
                rows: rows.into_iter().map(disclosure_out).collect(),
            },
        ))
    }

    /// An anomaly view over `from`..`to` (default: the last 30 days),
    /// auditors only. `threshold` is the distinct patrons a day above which
    /// `many_patrons_in_a_day` flags a reader (default 50).
    #[oai(
        operation_id = "listAuditAnomalies",
        path = "/anomalies",
        method = "get"
    )]
    async fn anomalies(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        kind: Query<AnomalyKindIn>,
        from: Query<Option<chrono::DateTime<chrono::Utc>>>,
        to: Query<Option<chrono::DateTime<chrono::Utc>>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "100000")))] threshold: Query<
            Option<u64>,
        >,
    ) -> Result<Json<AnomalyList>, ProblemResponse> {
        use crate::oversight::anomalies::{self, AnomalyKind};
        let kind = match kind.0 {
            AnomalyKindIn::DeniedByActor => AnomalyKind::DeniedByActor,
            AnomalyKindIn::ManyPatronsInADay => AnomalyKind::ManyPatronsInADay,
            AnomalyKindIn::OutsideBranches => AnomalyKind::OutsideBranches,
            AnomalyKindIn::FailedSignInsByAccount => AnomalyKind::FailedSignInsByAccount,
            AnomalyKindIn::FailedSignInsByAddress => AnomalyKind::FailedSignInsByAddress,
            AnomalyKindIn::BreakGlassUnreviewed => AnomalyKind::BreakGlassUnreviewed,
        };
        let rows = anomalies::view(&state, &auth.0, &meta, kind, from.0, to.0, threshold.0).await?;
        Ok(Json(AnomalyList {
            rows: rows
                .into_iter()
                .map(|a| AnomalyOut {
                    actor_id: a.actor_id,
                    actor_role: a.actor_role,
                    account_id: a.account_id,
                    client_addr: a.client_addr,
                    grant_id: a.grant_id,
                    day: a.day,
                    count: a.count,
                    first_at: a.first_at.into(),
                    last_at: a.last_at.into(),
                    event_ids: a.event_ids,
                    total_events: a.total_events,
                })
                .collect(),
        }))
    }

    /// Export the events a filter selects, oldest first, as CSV or NDJSON
    /// (auditors only). Streamed a page at a time, so any number of events
    /// is exported in constant memory; the export itself is audited, with
    /// its filter, before the first event is sent.
    #[oai(operation_id = "exportAuditEvents", path = "/export", method = "get")]
    async fn export(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        format: Query<ExportFormat>,
        actor_id: Query<Option<Uuid>>,
        record_id: Query<Option<Uuid>>,
        patron_id: Query<Option<Uuid>>,
        action: Query<Option<Action>>,
        outcome: Query<Option<Outcome>>,
        record_type: Query<Option<RecordKind>>,
        branch_id: Query<Option<Uuid>>,
        actor_role: Query<Option<Role>>,
        purpose: Query<Option<Line<40>>>,
        #[oai(default)] break_glass: Query<bool>,
        /// Recorded at or after (RFC 3339).
        from: Query<Option<chrono::DateTime<chrono::Utc>>>,
        /// Recorded before (RFC 3339).
        to: Query<Option<chrono::DateTime<chrono::Utc>>>,
    ) -> Result<ExportReply, ProblemResponse> {
        use futures_util::StreamExt;
        let filter = EventFilter {
            actor_id: actor_id.0,
            record_id: record_id.0,
            patron_id: patron_id.0,
            action: action.0.map(|a| a.as_str().to_owned()),
            outcome: outcome.0.map(|o| o.as_str().to_owned()),
            record_type: record_type.0.map(|k| k.as_str().to_owned()),
            branch_id: branch_id.0,
            actor_role: actor_role.0.map(|r| r.as_str().to_owned()),
            purpose: purpose.0.map(Line::into_inner),
            break_glass: break_glass.0,
            from: from.0,
            to: to.0,
            search_text: None,
            search_words: Vec::new(),
        };
        let pages = audit_review::export(&state, &auth.0, &meta, filter).await?;
        let format = format.0;
        let pages = pages.map(move |page| {
            page.map(|events| export_chunk(format, events, false))
                .map_err(|_| std::io::Error::other("export interrupted"))
        });
        // The CSV header goes first, so that an export of nothing has it too.
        let head = export_chunk(format, Vec::new(), format == ExportFormat::Csv);
        let body = futures_util::stream::once(async move { Ok(head) }).chain(pages);
        let content_type = match format {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Ndjson => "application/x-ndjson",
        };
        Ok(ExportReply(
            poem::Response::builder()
                .content_type(content_type)
                .body(poem::Body::from_bytes_stream(body)),
        ))
    }

    /// The chain's head, signed now with the deployment's checkpoint key (a
    /// receipt to keep outside the service; auditors only).
    /// `casework audit verify --against RECEIPT` later proves that nothing
    /// up to it was removed or changed.
    #[oai(operation_id = "getAuditReceipt", path = "/receipt", method = "get")]
    async fn receipt(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
    ) -> Result<Json<ReceiptOut>, ProblemResponse> {
        let c = audit_review::receipt(&state, &auth.0, &meta)
            .await?
            .ok_or(crate::error::ServiceError::NotFound)?;
        Ok(Json(ReceiptOut {
            seq: c.seq,
            hash: c.hash,
            at: c.at,
            signature: c.signature,
            public_key: c.public_key,
            prev: c.prev,
        }))
    }

    /// Check the hash chain against the signed checkpoints and report the
    /// first broken link (auditors only): what came after the last
    /// checkpoint (and that the chain still reaches it), or with `full` the
    /// whole chain and every checkpoint.
    #[oai(operation_id = "verifyAuditChain", path = "/verify", method = "get")]
    async fn verify(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        #[oai(default)] full: Query<bool>,
    ) -> Result<Json<VerifyResult>, ProblemResponse> {
        let result = audit_review::verify(&state, &auth.0, &meta, full.0).await?;
        Ok(Json(match result {
            Verification::Intact { events } => VerifyResult {
                intact: true,
                events: Some(events),
                broken_seq: None,
                broken_id: None,
                reason: None,
            },
            Verification::Broken { seq, id, reason } => VerifyResult {
                intact: false,
                events: None,
                broken_seq: Some(seq),
                broken_id: Some(id),
                reason: Some(reason.to_owned()),
            },
        }))
    }
}
