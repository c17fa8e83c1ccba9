//! `GET /v1/sync`: the change feed for offline tablets.

use poem::web::Data;
use poem_openapi::{Object, OpenApi, param::Query, payload::Json};
use uuid::Uuid;

use super::feed::{self, Body, Item};
use crate::{
    audit::RequestMeta,
    casework::api::{
        cases::{CaseOut, NoteOut, case_out, note_out},
        consents::{ConsentOut, consent_out},
        contacts::{ContactOut, contact_out},
        follow_ups::{FollowUpOut, follow_up_out},
        mandated_reports::{MandatedReportOut, report_out},
        patrons::{PatronOut, patron_out},
        referrals::{ReferralOut, referral_out},
    },
    directory::services_api::{ServiceOut, service_out},
    domain::SyncKind,
    http::{ApiTags, problem::ProblemResponse, security::BearerAuth},
    state::AppState,
    support::api::{SupportRequestOut, request_out},
};

pub struct SyncApi;

/// One record of the caller's view: its kind and id, and the record itself
/// under the field named after its kind, as that kind's own read shows it.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct SyncItemOut {
    pub kind: SyncKind,
    pub id: Uuid,
    pub service: Option<ServiceOut>,
    pub patron: Option<PatronOut>,
    pub case: Option<CaseOut>,
    pub case_note: Option<NoteOut>,
    pub contact: Option<ContactOut>,
    pub consent: Option<ConsentOut>,
    pub referral: Option<ReferralOut>,
    pub follow_up: Option<FollowUpOut>,
    pub mandated_report: Option<MandatedReportOut>,
    pub support_request: Option<SupportRequestOut>,
}

/// A record that left the caller's view: the device drops it.
#[derive(Object)]
pub struct SyncRemovalOut {
    pub kind: SyncKind,
    pub id: Uuid,
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct SyncPageOut {
    /// Records created or changed since the cursor (or, without one, the
    /// whole view), oldest kind first.
    pub items: Vec<SyncItemOut>,
    /// Records the device holds that left the caller's view.
    pub removed: Vec<SyncRemovalOut>,
    /// Where the next sync starts. Absent only with `reset`.
    pub next_cursor: Option<String>,
    /// More is waiting now: ask again at once with `next_cursor`.
    pub more: bool,
    /// The caller's own account changed: drop the offline copy and sync
    /// again without a cursor.
    pub reset: bool,
}

fn item_out(it: Item) -> SyncItemOut {
    let mut out = SyncItemOut {
        kind: it.kind,
        id: it.id,
        service: None,
        patron: None,
        case: None,
        case_note: None,
        contact: None,
        consent: None,
        referral: None,
        follow_up: None,
        mandated_report: None,
        support_request: None,
    };
    match it.body {
        Body::Service(s) => out.service = Some(service_out(s)),
        Body::Patron(p) => out.patron = Some(patron_out(p)),
        Body::Case(c) => out.case = Some(case_out(c)),
        Body::Note(n) => out.case_note = Some(note_out(n)),
        Body::Contact(c) => out.contact = Some(contact_out(c)),
        Body::Consent(c) => out.consent = Some(consent_out(c)),
        Body::Referral(r, h) => out.referral = Some(referral_out(r, h)),
        Body::FollowUp(f) => out.follow_up = Some(follow_up_out(f)),
        Body::MandatedReport(r) => out.mandated_report = Some(report_out(r)),
        Body::SupportRequest(r) => out.support_request = Some(request_out(r)),
    }
    out
}

#[OpenApi(prefix_path = "/v1/sync", tag = "ApiTags::Sync")]
impl SyncApi {
    /// The change feed for a tablet's offline copy (peers, social workers,
    /// supervisors). Without a cursor: the caller's whole current view,
    /// paged. With one: every record the caller may see that was created or
    /// changed since, and in `removed` the records this device holds that
    /// left the caller's view. A page with `more` is followed at once; an
    /// up-to-date device gets an empty page. The cursor survives restarts
    /// and never skips a change that committed late.
    #[oai(operation_id = "syncFeed", path = "/", method = "get")]
    async fn feed(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        #[oai(validator(minimum(value = "1"), maximum(value = "2000")))] limit: Query<Option<u64>>,
        #[oai(validator(max_length = 400))] cursor: Query<Option<String>>,
    ) -> Result<Json<SyncPageOut>, ProblemResponse> {
        let page = feed::page(&state, &auth.0, &meta, cursor.0.as_deref(), limit.0).await?;
        Ok(Json(SyncPageOut {
            items: page.items.into_iter().map(item_out).collect(),
            removed: page
                .removed
                .into_iter()
                .map(|(kind, id)| SyncRemovalOut { kind, id })
                .collect(),
            next_cursor: page.next_cursor,
            more: page.more,
            reset: page.reset,
        }))
    }
}

const _: () = assert!(feed::MAX_LIMIT == 2_000, "the spec's limit maximum");
