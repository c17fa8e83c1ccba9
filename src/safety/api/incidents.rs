//! Incidents: what happened at a branch and what was done about it.

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
use crate::text::{ClientId, ETag, IdempotencyKeyText, Line};
use crate::{
    audit::RequestMeta,
    domain::{
        ActionTaken, IncidentCategory, IncidentId, ResolutionPath, ResponderPart, ResponderRole,
    },
    safety::incidents::{
        self, AmendmentText, Description, IncidentFields, IncidentQuery, IncidentRecord,
        MAX_RESPONDERS, NewAmendment, NewIncident, OutsideResponder, PersonsInvolved,
        ResponderInput,
    },
    state::AppState,
};
use entities::safety::incident_amendment;

pub struct IncidentsApi;

/// Someone who responded: a staff member (`staff_id`) or someone from
/// outside (`outside`, described), the part they played, their role at the
/// time and whether they held a current de-escalation certification on the
/// day (both recorded with the responders and kept as they were).
#[derive(Object, serde::Serialize)]
pub struct ResponderOut {
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub staff_id: Option<Uuid>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outside: Option<String>,
    pub part: ResponderPart,
    pub role: ResponderRole,
    pub certified: bool,
}

/// Someone who responded: exactly one of `staff_id` and `outside` (police,
/// paramedics, described). A peer may only be recorded with part `support`.
#[derive(Object)]
pub struct ResponderIn {
    pub staff_id: Option<Uuid>,
    pub outside: Option<OutsideResponder>,
    pub part: ResponderPart,
}

/// A later addition to a report, with its own author and time.
#[derive(Object, serde::Serialize)]
pub struct AmendmentOut {
    pub id: Uuid,
    pub incident_id: Uuid,
    pub text: String,
    pub created_by: Uuid,
    pub created_at: Timestamp,
}

fn amendment_out(a: incident_amendment::Model) -> AmendmentOut {
    AmendmentOut {
        id: a.id,
        incident_id: a.incident_id,
        text: a.text,
        created_by: a.created_by,
        created_at: a.created_at.into(),
    }
}

/// An incident report. `amendments` (oldest first) come with a single read,
/// not in lists. After `editable_until` the report is closed to edits.
#[derive(Object, serde::Serialize)]
pub struct IncidentOut {
    pub id: Uuid,
    pub branch_id: Uuid,
    pub occurred_at: Timestamp,
    pub category: IncidentCategory,
    pub description: String,
    pub action_taken: ActionTaken,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub persons_involved: Option<String>,
    pub responders: Vec<ResponderOut>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolution: Option<ResolutionPath>,
    pub police_called: bool,
    /// Minutes from the first de-escalation attempt to the police call.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minutes_before_police: Option<i32>,
    /// The rule of behavior involved.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<Uuid>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amendments: Option<Vec<AmendmentOut>>,
    /// Edits after this time are refused (409); add an amendment instead.
    pub editable_until: Timestamp,
    pub created_by: Uuid,
    pub version: i32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

fn incident_out(r: IncidentRecord) -> IncidentOut {
    let responders = r
        .responders()
        .into_iter()
        .map(|x| ResponderOut {
            staff_id: x.staff_id,
            outside: x.outside,
            part: x.part,
            role: x.role,
            certified: x.certified,
        })
        .collect();
    let editable_until = r.editable_until().into();
    let i = r.incident;
    IncidentOut {
        id: i.id,
        branch_id: i.branch_id,
        occurred_at: i.occurred_at.into(),
        category: IncidentCategory::parse(&i.category).unwrap_or(IncidentCategory::Other),
        description: i.description,
        action_taken: ActionTaken::parse(&i.action_taken).unwrap_or(ActionTaken::None),
        persons_involved: i.persons_involved,
        responders,
        resolution: i.resolution.as_deref().and_then(ResolutionPath::parse),
        police_called: i.police_called,
        minutes_before_police: i.minutes_before_police,
        rule_id: i.rule_id,
        amendments: r
            .amendments
            .map(|a| a.into_iter().map(amendment_out).collect()),
        editable_until,
        created_by: i.created_by,
        version: i.version,
        created_at: i.created_at.into(),
        updated_at: i.updated_at.into(),
    }
}

/// Rendered as a read renders it, for a 412's `current`.
impl crate::error::Current for IncidentRecord {
    fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(incident_out(self.clone())).unwrap_or_default()
    }
}

fn responders_in(rs: Vec<ResponderIn>) -> Vec<ResponderInput> {
    rs.into_iter()
        .map(|r| ResponderInput {
            staff_id: r.staff_id,
            outside: r.outside,
            part: r.part,
        })
        .collect()
}

#[derive(Object)]
pub struct NewIncidentIn {
    /// Optional client-chosen UUIDv7.
    pub id: Option<ClientId>,
    pub branch_id: Uuid,
    /// Not before 2000, not more than a day ahead of the server's clock.
    pub occurred_at: DateTime<Utc>,
    pub category: IncidentCategory,
    /// What happened; may span lines.
    pub description: Description,
    pub action_taken: ActionTaken,
    /// The persons involved, as descriptions (a name only if known); may
    /// span lines; blank means none.
    pub persons_involved: Option<PersonsInvolved>,
    /// Who responded; each staff member once.
    #[oai(default, validator(max_items = 20))]
    pub responders: Vec<ResponderIn>,
    pub resolution: Option<ResolutionPath>,
    /// Default: whether the action or the resolution is the police.
    pub police_called: Option<bool>,
    /// Minutes from the first de-escalation attempt to the police call
    /// (only with a police call).
    #[oai(validator(minimum(value = "0"), maximum(value = "1440")))]
    pub minutes_before_police: Option<i32>,
    /// An active rule of behavior in force at the branch.
    pub rule_id: Option<Uuid>,
}

/// Fields to change (within 24 hours of the report); absent ones stay,
/// a blank `persons_involved` clears it, `responders` replaces the list.
#[derive(Object)]
pub struct IncidentPatchIn {
    pub occurred_at: Option<DateTime<Utc>>,
    pub category: Option<IncidentCategory>,
    pub description: Option<Description>,
    pub action_taken: Option<ActionTaken>,
    pub persons_involved: Option<PersonsInvolved>,
    #[oai(validator(max_items = 20))]
    pub responders: Option<Vec<ResponderIn>>,
    pub resolution: Option<ResolutionPath>,
    pub police_called: Option<bool>,
    #[oai(validator(minimum(value = "0"), maximum(value = "1440")))]
    pub minutes_before_police: Option<i32>,
    pub rule_id: Option<Uuid>,
}

#[derive(Object)]
pub struct AmendmentIn {
    /// Optional client-chosen UUIDv7.
    pub id: Option<ClientId>,
    /// What is added or corrected; may span lines.
    pub text: AmendmentText,
}

#[derive(Object)]
pub struct IncidentList {
    pub items: Vec<IncidentOut>,
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

#[derive(ApiResponse)]
pub enum IncidentCreated {
    #[oai(status = 201)]
    Created(Json<IncidentOut>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum IncidentRead {
    #[oai(status = 200)]
    Ok(Json<IncidentOut>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum AmendmentCreated {
    #[oai(status = 201)]
    Created(Json<AmendmentOut>),
}

fn read(r: IncidentRecord) -> IncidentRead {
    let tag = etag(r.incident.version);
    IncidentRead::Ok(Json(incident_out(r)), tag)
}

const _: () = assert!(MAX_RESPONDERS == 20, "the spec's max_items says 20");

#[OpenApi(prefix_path = "/v1/incidents", tag = "ApiTags::Incidents")]
impl IncidentsApi {
    /// Report an incident (security for any branch, staff for their own).
    #[oai(
        operation_id = "createIncident",
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
        body: Input<NewIncidentIn>,
    ) -> Result<IncidentCreated, ProblemResponse> {
        let b = body.0;
        let input = NewIncident {
            id: b.id,
            branch_id: b.branch_id,
            fields: IncidentFields {
                occurred_at: Some(b.occurred_at),
                category: Some(b.category),
                description: Some(b.description),
                action_taken: Some(b.action_taken),
                persons_involved: b.persons_involved,
                responders: Some(responders_in(b.responders)),
                resolution: b.resolution,
                police_called: b.police_called,
                minutes_before_police: b.minutes_before_police,
                rule_id: b.rule_id,
            },
        };
        let r = incidents::create(&state, &auth.0, &meta, input).await?;
        let tag = etag(r.incident.version);
        Ok(IncidentCreated::Created(Json(incident_out(r)), tag))
    }

    /// Search incidents, newest first: security all, staff their branches'.
    /// `q` matches words of the description (each at a word start);
    /// `from`/`to` bound when it occurred (`to` excluded).
    #[oai(operation_id = "searchIncidents", path = "/", method = "get")]
    async fn search(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        branch_id: Query<Option<Uuid>>,
        category: Query<Option<IncidentCategory>>,
        action_taken: Query<Option<ActionTaken>>,
        from: Query<Option<DateTime<Utc>>>,
        to: Query<Option<DateTime<Utc>>>,
        q: Query<Option<Line<100>>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))] limit: Query<Option<u64>>,
        #[oai(validator(max_length = 400))] cursor: Query<Option<String>>,
    ) -> Result<Json<IncidentList>, ProblemResponse> {
        let page = incidents::search(
            &state,
            &auth.0,
            &meta,
            IncidentQuery {
                branch_id: branch_id.0,
                category: category.0,
                action_taken: action_taken.0,
                from: from.0,
                to: to.0,
                q: q.0.as_ref().map(|q| q.as_str()),
                cursor: cursor.0.as_deref(),
                limit: limit.0,
            },
        )
        .await?;
        Ok(Json(IncidentList {
            items: page.items.into_iter().map(incident_out).collect(),
            next_cursor: page.next_cursor,
        }))
    }

    /// One incident, with its amendments: security, and staff of its
    /// branch; anyone else gets the answer a missing id gets.
    #[oai(operation_id = "getIncident", path = "/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> Result<IncidentRead, ProblemResponse> {
        Ok(read(
            incidents::get(&state, &auth.0, &meta, IncidentId::new(id.0)).await?,
        ))
    }

    /// Change a report within 24 hours of when it was made (security, or
    /// the staff member who reported it). Later, 409: add an amendment.
    /// Requires `If-Match`.
    #[oai(
        operation_id = "updateIncident",
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
        body: Input<IncidentPatchIn>,
    ) -> Result<IncidentRead, ProblemResponse> {
        let b = body.0;
        let fields = IncidentFields {
            occurred_at: b.occurred_at,
            category: b.category,
            description: b.description,
            action_taken: b.action_taken,
            persons_involved: b.persons_involved,
            responders: b.responders.map(responders_in),
            resolution: b.resolution,
            police_called: b.police_called,
            minutes_before_police: b.minutes_before_police,
            rule_id: b.rule_id,
        };
        Ok(read(
            incidents::update(
                &state,
                &auth.0,
                &meta,
                IncidentId::new(id.0),
                Some(if_match.0.as_str()),
                fields,
            )
            .await?,
        ))
    }

    /// Add an amendment (security, or the reporter): the report's text
    /// stays as it was; the amendment has its own author and time.
    #[oai(
        operation_id = "amendIncident",
        path = "/:id/amendments",
        method = "post",
        transform = "write_limit"
    )]
    async fn amend(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
        /// Send the same key again to retry safely: the first answer is replayed.
        #[oai(name = "Idempotency-Key")]
        _idempotency_key: Header<Option<IdempotencyKeyText>>,
        body: Input<AmendmentIn>,
    ) -> Result<AmendmentCreated, ProblemResponse> {
        let b = body.0;
        let a = incidents::amend(
            &state,
            &auth.0,
            &meta,
            IncidentId::new(id.0),
            NewAmendment {
                id: b.id,
                text: b.text,
            },
        )
        .await?;
        Ok(AmendmentCreated::Created(Json(amendment_out(a))))
    }
}
