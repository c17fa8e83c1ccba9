//! Referrals: a patron connected with an outside service, followed until the
//! loop closes.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Enum, Object, OpenApi,
    param::{Header, Path, Query},
    payload::Json,
};
use uuid::Uuid;

use crate::http::types::{Date, Timestamp};
use crate::http::{
    ApiTags, etag, input::Input, problem::ProblemResponse, security::BearerAuth, write_limit,
};
use crate::text::{ClientId, ETag, IdempotencyKeyText};
use crate::{
    audit::RequestMeta,
    casework::referrals::{
        self, MineFilter, Move, NewReferral, Notes, Reason, Recipient, ReferralPatch,
    },
    domain::{CaseId, Need, PatronId, ReferralId, ReferralOutcome, ReferralStatus},
    state::AppState,
};
use entities::{referral, referral_event};

pub struct ReferralsApi;

/// One move in a referral's history; `from` is absent for the first row
/// (the referral was made).
#[derive(Object, serde::Serialize)]
pub struct ReferralMoveOut {
    // No field descriptions on enums: they would wrap them in `allOf`, which
    // generated clients mishandle.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<ReferralStatus>,
    pub to: ReferralStatus,
    pub actor_id: Uuid,
    /// When it happened, as the device said.
    pub occurred_at: Timestamp,
    pub recorded_at: Timestamp,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<ReferralOutcome>,
    /// Recorded for the outside agency (which answered by phone, say).
    pub on_behalf_of_agency: bool,
}

#[derive(Object, serde::Serialize)]
pub struct ReferralOut {
    pub id: Uuid,
    pub patron_id: Uuid,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_id: Option<Uuid>,
    /// The directory entry, when the recipient is one.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_id: Option<Uuid>,
    /// The service's name (or the free-text recipient) when the referral was made.
    pub recipient_name: String,
    /// The service's phone when the referral was made.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient_phone: Option<String>,
    pub needs: Vec<Need>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    pub shares_identifying_data: bool,
    pub status: ReferralStatus,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<ReferralOutcome>,
    /// When to check on it next; absent once the referral is closed.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follow_up_on: Option<Date>,
    pub created_by: Uuid,
    pub version: i32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Every move, oldest first (left out of lists).
    #[oai(skip_serializing_if_is_empty, default)]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<ReferralMoveOut>,
}

fn move_out(e: referral_event::Model) -> ReferralMoveOut {
    ReferralMoveOut {
        from: e.from_status.as_deref().and_then(ReferralStatus::parse),
        to: ReferralStatus::parse(&e.to_status).unwrap_or(ReferralStatus::EnteredInError),
        actor_id: e.actor_id,
        occurred_at: e.occurred_at.into(),
        recorded_at: e.recorded_at.into(),
        reason: e.reason,
        outcome: e.outcome.as_deref().and_then(ReferralOutcome::parse),
        on_behalf_of_agency: e.on_behalf_of_agency,
    }
}

pub fn referral_out(r: referral::Model, history: Vec<referral_event::Model>) -> ReferralOut {
    let needs: Vec<String> = serde_json::from_str(&r.needs).unwrap_or_default();
    ReferralOut {
        id: r.id,
        patron_id: r.patron_id,
        case_id: r.case_id,
        service_id: r.service_id,
        recipient_name: r.recipient_name,
        recipient_phone: r.recipient_phone,
        needs: needs.iter().filter_map(|n| Need::parse(n)).collect(),
        notes: r.notes,
        shares_identifying_data: r.shares_identifying_data,
        status: ReferralStatus::parse(&r.status).unwrap_or(ReferralStatus::EnteredInError),
        outcome: r.outcome.as_deref().and_then(ReferralOutcome::parse),
        follow_up_on: r.follow_up_on.map(Date),
        created_by: r.created_by,
        version: r.version,
        created_at: r.created_at.into(),
        updated_at: r.updated_at.into(),
        history: history.into_iter().map(move_out).collect(),
    }
}

/// Rendered as a list renders it (without history), for a 412's `current`.
impl crate::error::Current for referral::Model {
    fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(referral_out(self.clone(), Vec::new())).unwrap_or_default()
    }
}

#[derive(Object)]
pub struct NewReferralIn {
    /// Optional client-chosen UUIDv7.
    pub id: Option<ClientId>,
    pub patron_id: Uuid,
    /// The case it belongs to (required for peers: one whose team they are on).
    pub case_id: Option<Uuid>,
    /// An active directory entry; exactly one of `service_id` and `recipient`.
    pub service_id: Option<Uuid>,
    /// A recipient not in the directory; exactly one of `service_id` and `recipient`.
    pub recipient: Option<Recipient>,
    #[oai(default, validator(max_items = 12))]
    pub needs: Vec<Need>,
    /// May span lines; blank means none.
    pub notes: Option<Notes>,
    /// Whether the patron's identity goes to the recipient: then leaving
    /// `draft` needs a consent valid at that moment that names the recipient.
    #[oai(default)]
    pub shares_identifying_data: bool,
    /// From today to a year ahead (default: in 7 days).
    pub follow_up_on: Option<Date>,
}

#[derive(Object)]
pub struct ReferralPatchIn {
    #[oai(validator(max_items = 12))]
    pub needs: Option<Vec<Need>>,
    /// May span lines; blank clears them.
    pub notes: Option<Notes>,
    /// From today to a year ahead.
    pub follow_up_on: Option<Date>,
}

/// A move: `reason` is required to reject or cancel (`expired` is a fine
/// reason), `outcome` to complete or fail.
#[derive(Object)]
pub struct ReferralMoveIn {
    pub to: ReferralStatus,
    pub reason: Option<Reason>,
    pub outcome: Option<ReferralOutcome>,
    /// Recorded for the outside agency (it answered by phone, say).
    #[oai(default)]
    pub on_behalf_of_agency: bool,
    /// When it happened, from the device clock (default: now); not before
    /// 2000 and not more than a day ahead of the server's clock.
    pub occurred_at: Option<DateTime<Utc>>,
}

#[derive(Object)]
pub struct ReferralList {
    pub items: Vec<ReferralOut>,
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

/// Which of my referrals to list.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum MyReferralsFilter {
    /// Every open referral.
    Open,
    /// Open referrals whose follow-up date has come.
    NeedsAttention,
}

#[derive(ApiResponse)]
pub enum ReferralCreated {
    #[oai(status = 201)]
    Created(Json<ReferralOut>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum ReferralRead {
    #[oai(status = 200)]
    Ok(Json<ReferralOut>, #[oai(header = "ETag")] String),
}

fn read(v: referrals::ReferralView) -> ReferralRead {
    let tag = etag(v.referral.version);
    ReferralRead::Ok(Json(referral_out(v.referral, v.history)), tag)
}

fn list(page: crate::paging::Page<referral::Model>) -> Json<ReferralList> {
    Json(ReferralList {
        items: page
            .items
            .into_iter()
            .map(|r| referral_out(r, Vec::new()))
            .collect(),
        next_cursor: page.next_cursor,
    })
}

#[OpenApi(prefix_path = "/v1", tag = "ApiTags::Referrals")]
impl ReferralsApi {
    /// Refer a patron to a directory service or another recipient. Starts
    /// as `draft`.
    #[oai(
        operation_id = "createReferral",
        path = "/referrals",
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
        body: Input<NewReferralIn>,
    ) -> Result<ReferralCreated, ProblemResponse> {
        let b = body.0;
        let input = NewReferral {
            id: b.id,
            patron_id: PatronId::new(b.patron_id),
            case_id: b.case_id.map(CaseId::new),
            service_id: b.service_id,
            recipient: b.recipient,
            needs: b.needs,
            notes: b.notes,
            shares_identifying_data: b.shares_identifying_data,
            follow_up_on: b.follow_up_on.map(|d| d.0),
        };
        let v = referrals::create(&state, &auth.0, &meta, input).await?;
        let tag = etag(v.referral.version);
        Ok(ReferralCreated::Created(
            Json(referral_out(v.referral, v.history)),
            tag,
        ))
    }

    /// One referral with its history.
    #[oai(operation_id = "getReferral", path = "/referrals/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> Result<ReferralRead, ProblemResponse> {
        Ok(read(
            referrals::get(&state, &auth.0, &meta, ReferralId::new(id.0)).await?,
        ))
    }

    /// Change an open referral's needs, notes or follow-up date. Requires
    /// `If-Match`; a closed referral is 409.
    #[oai(
        operation_id = "updateReferral",
        path = "/referrals/:id",
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
        body: Input<ReferralPatchIn>,
    ) -> Result<ReferralRead, ProblemResponse> {
        let b = body.0;
        let patch = ReferralPatch {
            needs: b.needs,
            notes: b.notes,
            follow_up_on: b.follow_up_on.map(|d| d.0),
        };
        Ok(read(
            referrals::update(
                &state,
                &auth.0,
                &meta,
                ReferralId::new(id.0),
                Some(if_match.0.as_str()),
                patch,
            )
            .await?,
        ))
    }

    /// A branch's open referrals whose follow-up date has passed, most
    /// overdue first (the branch's supervisors).
    #[oai(
        operation_id = "listOverdueBranchReferrals",
        path = "/branches/:id/referrals/overdue",
        method = "get"
    )]
    async fn overdue(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))] limit: Query<Option<u64>>,
        #[oai(validator(max_length = 400))] cursor: Query<Option<String>>,
    ) -> Result<Json<ReferralList>, ProblemResponse> {
        Ok(list(
            referrals::overdue_in_branch(
                &state,
                &auth.0,
                &meta,
                id.0,
                cursor.0.as_deref(),
                limit.0,
            )
            .await?,
        ))
    }

    /// Move a referral along its lifecycle (see the table in docs/api.md). An
    /// illegal move is 409 naming the allowed ones; leaving `draft` while
    /// sharing identifying data without a valid consent is 409 naming
    /// `consent`. Requires `If-Match`.
    #[oai(
        operation_id = "moveReferral",
        path = "/referrals/:id/transitions",
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
        /// Send the same key again to retry safely: the first answer is replayed.
        #[oai(name = "Idempotency-Key")]
        _idempotency_key: Header<Option<IdempotencyKeyText>>,
        body: Input<ReferralMoveIn>,
    ) -> Result<ReferralRead, ProblemResponse> {
        let b = body.0;
        let mv = Move {
            to: b.to,
            reason: b.reason,
            outcome: b.outcome,
            on_behalf_of_agency: b.on_behalf_of_agency,
            occurred_at: b.occurred_at,
        };
        Ok(read(
            referrals::transition(
                &state,
                &auth.0,
                &meta,
                ReferralId::new(id.0),
                Some(if_match.0.as_str()),
                mv,
            )
            .await?,
        ))
    }

    /// A patron's referrals that the caller may see, newest first.
    #[oai(
        operation_id = "listPatronReferrals",
        path = "/patrons/:id/referrals",
        method = "get"
    )]
    async fn for_patron(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))] limit: Query<Option<u64>>,
        #[oai(validator(max_length = 400))] cursor: Query<Option<String>>,
    ) -> Result<Json<ReferralList>, ProblemResponse> {
        Ok(list(
            referrals::for_patron(
                &state,
                &auth.0,
                &meta,
                PatronId::new(id.0),
                cursor.0.as_deref(),
                limit.0,
            )
            .await?,
        ))
    }

    /// The referrals I made that are open (or need attention now: their
    /// follow-up date has come), soonest follow-up first, 25 a page.
    #[oai(
        operation_id = "listMyReferrals",
        path = "/me/referrals",
        method = "get"
    )]
    async fn mine(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        /// `open` when left out.
        status: Query<Option<MyReferralsFilter>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))] limit: Query<Option<u64>>,
        #[oai(validator(max_length = 400))] cursor: Query<Option<String>>,
    ) -> Result<Json<ReferralList>, ProblemResponse> {
        let filter = match status.0 {
            Some(MyReferralsFilter::NeedsAttention) => MineFilter::NeedsAttention,
            _ => MineFilter::Open,
        };
        Ok(list(
            referrals::mine(&state, &auth.0, &meta, filter, cursor.0.as_deref(), limit.0).await?,
        ))
    }
}
