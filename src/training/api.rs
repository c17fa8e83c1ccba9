//! Training, certifications and rules of behavior.
// poem-openapi handlers take one argument per HTTP input.
#![allow(clippy::too_many_arguments)]

use chrono::NaiveDate;
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
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
    domain::Role,
    state::AppState,
    training::{
        certifications::{
            self, CertificationView, Evidence, Holding, NewCertification, Provider, TrainingFields,
            TrainingName,
        },
        rules::{self, NewRule, RuleCode, RuleText},
    },
};
use entities::{rule, training};

pub struct TrainingApi;

const _: () = assert!(
    certifications::MAX_RECERTIFY_MONTHS == 120,
    "the spec's maximum says 120"
);

#[derive(Object, serde::Serialize)]
pub struct TrainingOut {
    pub id: Uuid,
    pub name: String,
    pub provider: String,
    /// Months until a completion must be renewed; absent: never.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recertify_months: Option<i32>,
    /// Counts as de-escalation training for incident responders.
    pub de_escalation: bool,
    pub version: i32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

fn training_out(t: training::Model) -> TrainingOut {
    TrainingOut {
        id: t.id,
        name: t.name,
        provider: t.provider,
        recertify_months: t.recertify_months,
        de_escalation: t.de_escalation,
        version: t.version,
        created_at: t.created_at.into(),
        updated_at: t.updated_at.into(),
    }
}

impl crate::error::Current for training::Model {
    fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(training_out(self.clone())).unwrap_or_default()
    }
}

#[derive(Object)]
pub struct TrainingList {
    pub items: Vec<TrainingOut>,
}

#[derive(Object)]
pub struct NewTrainingIn {
    /// Optional client-chosen UUIDv7.
    pub id: Option<ClientId>,
    /// Unique in the catalogue.
    pub name: TrainingName,
    pub provider: Provider,
    /// Months until renewal (NVCI and MHFA: 36); absent: never.
    #[oai(validator(minimum(value = "1"), maximum(value = "120")))]
    pub recertify_months: Option<i32>,
    /// Counts as de-escalation training for incident responders.
    #[oai(default)]
    pub de_escalation: bool,
}

/// Fields to change; absent ones stay. Completions already recorded keep
/// their expiry.
#[derive(Object)]
pub struct TrainingPatchIn {
    pub name: Option<TrainingName>,
    pub provider: Option<Provider>,
    #[oai(validator(minimum(value = "1"), maximum(value = "120")))]
    pub recertify_months: Option<i32>,
    pub de_escalation: Option<bool>,
}

/// One completion of a training. `current`: the person's latest completion
/// of it, and not expired.
#[derive(Object)]
pub struct CertificationOut {
    pub id: Uuid,
    pub staff_id: Uuid,
    pub training_id: Uuid,
    pub training_name: String,
    pub completed_on: Date,
    /// Computed from the training's period; absent: no expiry.
    #[oai(skip_serializing_if_is_none)]
    pub expires_on: Option<Date>,
    /// A certified instructor of the training.
    pub trainer: bool,
    #[oai(skip_serializing_if_is_none)]
    pub evidence: Option<String>,
    pub current: bool,
    pub created_at: Timestamp,
}

fn certification_out(v: CertificationView) -> CertificationOut {
    let c = v.certification;
    CertificationOut {
        id: c.id,
        staff_id: c.staff_id,
        training_id: c.training_id,
        training_name: v.training_name,
        completed_on: Date(c.completed_on),
        expires_on: c.expires_on.map(Date),
        trainer: c.trainer,
        evidence: c.evidence,
        current: v.current,
        created_at: c.created_at.into(),
    }
}

#[derive(Object)]
pub struct CertificationList {
    pub items: Vec<CertificationOut>,
}

#[derive(Object)]
pub struct NewCertificationIn {
    /// Optional client-chosen UUIDv7.
    pub id: Option<ClientId>,
    pub training_id: Uuid,
    /// Not in the future.
    pub completed_on: NaiveDate,
    /// A certified instructor of the training.
    #[oai(default)]
    pub trainer: bool,
    /// Where the proof is (a certificate number, a file reference); blank
    /// means none.
    pub evidence: Option<Evidence>,
}

/// A staff member's latest completion of a training, in a branch view.
#[derive(Object)]
pub struct HoldingOut {
    pub staff_id: Uuid,
    pub display_name: String,
    pub role: Role,
    pub training_id: Uuid,
    pub training_name: String,
    pub completed_on: Date,
    #[oai(skip_serializing_if_is_none)]
    pub expires_on: Option<Date>,
    pub trainer: bool,
}

fn holding_out(h: Holding) -> HoldingOut {
    HoldingOut {
        staff_id: h.person.staff_id,
        display_name: h.person.display_name,
        role: h.person.role,
        training_id: h.training.id,
        training_name: h.training.name,
        completed_on: Date(h.certification.completed_on),
        expires_on: h.certification.expires_on.map(Date),
        trainer: h.certification.trainer,
    }
}

#[derive(Object)]
pub struct HoldingList {
    pub items: Vec<HoldingOut>,
}

/// One training's coverage at a branch: of its front-line staff (staff,
/// security, peers, social workers), how many hold it now.
#[derive(Object)]
pub struct CoverageOut {
    pub training_id: Uuid,
    pub training_name: String,
    pub front_line_staff: u64,
    pub certified: u64,
    /// `certified / front_line_staff`, 0 to 1 (0 when the branch has none).
    pub share: f64,
}

#[derive(Object)]
pub struct CoverageList {
    pub items: Vec<CoverageOut>,
}

#[derive(Object, serde::Serialize)]
pub struct RuleOut {
    pub id: Uuid,
    /// Absent: library-wide.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch_id: Option<Uuid>,
    pub code: String,
    pub text: String,
    pub active: bool,
    pub version: i32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

fn rule_out(r: rule::Model) -> RuleOut {
    RuleOut {
        id: r.id,
        branch_id: r.branch_id,
        code: r.code,
        text: r.text,
        active: r.active,
        version: r.version,
        created_at: r.created_at.into(),
        updated_at: r.updated_at.into(),
    }
}

impl crate::error::Current for rule::Model {
    fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(rule_out(self.clone())).unwrap_or_default()
    }
}

#[derive(Object)]
pub struct RuleList {
    pub items: Vec<RuleOut>,
}

#[derive(Object)]
pub struct NewRuleIn {
    /// Optional client-chosen UUIDv7.
    pub id: Option<ClientId>,
    /// Absent: library-wide.
    pub branch_id: Option<Uuid>,
    /// Short and unique, e.g. `no_sleeping`.
    pub code: RuleCode,
    /// The rule as posted; may span lines.
    pub text: RuleText,
}

/// Fields to change; `active: false` retires the rule (incidents keep it).
#[derive(Object)]
pub struct RulePatchIn {
    pub text: Option<RuleText>,
    pub active: Option<bool>,
}

#[derive(ApiResponse)]
pub enum TrainingCreated {
    #[oai(status = 201)]
    Created(Json<TrainingOut>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum TrainingRead {
    #[oai(status = 200)]
    Ok(Json<TrainingOut>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum CertificationCreated {
    #[oai(status = 201)]
    Created(Json<CertificationOut>),
}

#[derive(ApiResponse)]
pub enum RuleCreated {
    #[oai(status = 201)]
    Created(Json<RuleOut>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum RuleRead {
    #[oai(status = 200)]
    Ok(Json<RuleOut>, #[oai(header = "ETag")] String),
}

#[OpenApi(prefix_path = "/v1", tag = "ApiTags::Training")]
impl TrainingApi {
    /// The training catalogue, by name (every role but auditors).
    #[oai(operation_id = "listTrainings", path = "/trainings", method = "get")]
    async fn list_trainings(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
    ) -> Result<Json<TrainingList>, ProblemResponse> {
        let rows = certifications::list_trainings(&state, &auth.0, &meta).await?;
        Ok(Json(TrainingList {
            items: rows.into_iter().map(training_out).collect(),
        }))
    }

    /// Add a training to the catalogue (admins).
    #[oai(
        operation_id = "createTraining",
        path = "/trainings",
        method = "post",
        transform = "write_limit"
    )]
    async fn create_training(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        /// Send the same key again to retry safely: the first answer is replayed.
        #[oai(name = "Idempotency-Key")]
        _idempotency_key: Header<Option<IdempotencyKeyText>>,
        body: Input<NewTrainingIn>,
    ) -> Result<TrainingCreated, ProblemResponse> {
        let b = body.0;
        let t = certifications::create_training(
            &state,
            &auth.0,
            &meta,
            b.id,
            TrainingFields {
                name: Some(b.name),
                provider: Some(b.provider),
                recertify_months: Some(b.recertify_months),
                de_escalation: Some(b.de_escalation),
            },
        )
        .await?;
        let tag = etag(t.version);
        Ok(TrainingCreated::Created(Json(training_out(t)), tag))
    }

    /// Change a training (admins). Requires `If-Match`.
    #[oai(
        operation_id = "updateTraining",
        path = "/trainings/:id",
        method = "patch",
        transform = "write_limit"
    )]
    async fn update_training(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<ETag>,
        body: Input<TrainingPatchIn>,
    ) -> Result<TrainingRead, ProblemResponse> {
        let b = body.0;
        let t = certifications::update_training(
            &state,
            &auth.0,
            &meta,
            id.0,
            Some(if_match.0.as_str()),
            TrainingFields {
                name: b.name,
                provider: b.provider,
                recertify_months: b.recertify_months.map(Some),
                de_escalation: b.de_escalation,
            },
        )
        .await?;
        let tag = etag(t.version);
        Ok(TrainingRead::Ok(Json(training_out(t)), tag))
    }

    /// A staff member's completions, newest first: their own; supervisors
    /// their branches' staff; admins anyone's.
    #[oai(
        operation_id = "listStaffCertifications",
        path = "/staff/:id/certifications",
        method = "get"
    )]
    async fn list_certifications(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> Result<Json<CertificationList>, ProblemResponse> {
        let rows = certifications::of_staff(&state, &auth.0, &meta, id.0).await?;
        Ok(Json(CertificationList {
            items: rows.into_iter().map(certification_out).collect(),
        }))
    }

    /// Record a completion (supervisors for their branches' staff, admins):
    /// its expiry is computed from the training's period, and it renews
    /// any earlier completion of the same training.
    #[oai(
        operation_id = "recordCertification",
        path = "/staff/:id/certifications",
        method = "post",
        transform = "write_limit"
    )]
    async fn record_certification(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
        /// Send the same key again to retry safely: the first answer is replayed.
        #[oai(name = "Idempotency-Key")]
        _idempotency_key: Header<Option<IdempotencyKeyText>>,
        body: Input<NewCertificationIn>,
    ) -> Result<CertificationCreated, ProblemResponse> {
        let b = body.0;
        let v = certifications::record(
            &state,
            Some(&auth.0),
            &meta,
            id.0,
            NewCertification {
                id: b.id,
                training_id: b.training_id,
                completed_on: b.completed_on,
                trainer: b.trainer,
                evidence: b.evidence,
            },
        )
        .await?;
        Ok(CertificationCreated::Created(Json(certification_out(v))))
    }

    /// Who at a branch has a certification (their latest of a training)
    /// expiring in the next `days` days, soonest first (the branch's
    /// supervisors, admins).
    #[oai(
        operation_id = "listExpiringCertifications",
        path = "/branches/:id/certifications/expiring",
        method = "get"
    )]
    async fn expiring(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
        /// How far ahead to look; default 90.
        #[oai(validator(minimum(value = "0"), maximum(value = "730")))]
        days: Query<Option<u32>>,
    ) -> Result<Json<HoldingList>, ProblemResponse> {
        let rows =
            certifications::expiring(&state, &auth.0, &meta, id.0, days.0.unwrap_or(90)).await?;
        Ok(Json(HoldingList {
            items: rows.into_iter().map(holding_out).collect(),
        }))
    }

    /// Each training's coverage at a branch: the share of its front-line
    /// staff who hold it now (the branch's supervisors, admins).
    #[oai(
        operation_id = "branchCertificationCoverage",
        path = "/branches/:id/certifications/coverage",
        method = "get"
    )]
    async fn coverage(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> Result<Json<CoverageList>, ProblemResponse> {
        let rows = certifications::coverage(&state, &auth.0, &meta, id.0).await?;
        Ok(Json(CoverageList {
            items: rows
                .into_iter()
                .map(|c| CoverageOut {
                    share: if c.front_line == 0 {
                        0.0
                    } else {
                        c.certified as f64 / c.front_line as f64
                    },
                    training_id: c.training.id,
                    training_name: c.training.name,
                    front_line_staff: c.front_line,
                    certified: c.certified,
                })
                .collect(),
        }))
    }

    /// The certified instructors at a branch whose certification holds
    /// today (the branch's supervisors, admins).
    #[oai(
        operation_id = "listBranchTrainers",
        path = "/branches/:id/trainers",
        method = "get"
    )]
    async fn trainers(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> Result<Json<HoldingList>, ProblemResponse> {
        let rows = certifications::trainers(&state, &auth.0, &meta, id.0).await?;
        Ok(Json(HoldingList {
            items: rows.into_iter().map(holding_out).collect(),
        }))
    }
}

pub struct RulesApi;

#[OpenApi(prefix_path = "/v1/rules", tag = "ApiTags::Rules")]
impl RulesApi {
    /// The rules of behavior, by code (every role but auditors); with
    /// `branch_id`, those in force there (library-wide ones included).
    #[oai(operation_id = "listRules", path = "/", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        branch_id: Query<Option<Uuid>>,
        /// Retired rules too.
        #[oai(default)]
        include_inactive: Query<bool>,
    ) -> Result<Json<RuleList>, ProblemResponse> {
        let rows = rules::list(&state, &auth.0, &meta, branch_id.0, include_inactive.0).await?;
        Ok(Json(RuleList {
            items: rows.into_iter().map(rule_out).collect(),
        }))
    }

    /// Add a rule: library-wide (admins) or for one branch (admins, and
    /// that branch's supervisors).
    #[oai(
        operation_id = "createRule",
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
        body: Input<NewRuleIn>,
    ) -> Result<RuleCreated, ProblemResponse> {
        let b = body.0;
        let r = rules::create(
            &state,
            &auth.0,
            &meta,
            NewRule {
                id: b.id,
                branch_id: b.branch_id,
                code: b.code,
                text: b.text,
            },
        )
        .await?;
        let tag = etag(r.version);
        Ok(RuleCreated::Created(Json(rule_out(r)), tag))
    }

    /// Change a rule's text or retire it (admins; a branch's supervisors
    /// for its own rules). Requires `If-Match`.
    #[oai(
        operation_id = "updateRule",
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
        body: Input<RulePatchIn>,
    ) -> Result<RuleRead, ProblemResponse> {
        let b = body.0;
        let r = rules::update(
            &state,
            &auth.0,
            &meta,
            id.0,
            Some(if_match.0.as_str()),
            b.text,
            b.active,
        )
        .await?;
        let tag = etag(r.version);
        Ok(RuleRead::Ok(Json(rule_out(r)), tag))
    }
}
