//! The service directory over HTTP: every role reads and searches it,
//! admins change it.
// poem-openapi handlers take one argument per HTTP input (header, path,
// query, body), so long parameter lists are the shape of the API here.
#![allow(clippy::too_many_arguments)]

use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Header, Path, Query},
    payload::Json,
};
use uuid::Uuid;

use crate::http::{
    ApiTags, etag, input::Input, problem::ProblemResponse, security::BearerAuth, types::Timestamp,
    write_limit,
};
use crate::text::{ClientId, ETag, IdempotencyKeyText, Line};
use crate::{
    audit::RequestMeta,
    directory::hsds,
    directory::services::{
        self, Address, Eligibility, Email, Language, Name, NewService, Phone, ServicePatch,
        ServiceQuery,
    },
    domain::{Need, ServiceStatus},
    state::AppState,
};
use entities::service;

pub struct ServicesApi;

#[derive(Object, serde::Serialize)]
pub struct ServiceOut {
    pub id: Uuid,
    /// The Open Referral HSDS id of an imported entry.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hsds_id: Option<String>,
    pub organization_name: String,
    pub name: String,
    pub categories: Vec<Need>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eligibility: Option<String>,
    pub languages: Vec<String>,
    pub status: ServiceStatus,
    pub version: i32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

pub fn service_out(s: service::Model) -> ServiceOut {
    let categories: Vec<String> = serde_json::from_str(&s.categories).unwrap_or_default();
    ServiceOut {
        id: s.id,
        hsds_id: s.hsds_id,
        organization_name: s.organization_name,
        name: s.name,
        categories: categories.iter().filter_map(|c| Need::parse(c)).collect(),
        phone: s.phone,
        email: s.email,
        address: s.address,
        eligibility: s.eligibility,
        languages: serde_json::from_str(&s.languages).unwrap_or_default(),
        status: ServiceStatus::parse(&s.status).unwrap_or(ServiceStatus::Inactive),
        version: s.version,
        created_at: s.created_at.into(),
        updated_at: s.updated_at.into(),
    }
}

/// Rendered as a read renders it, for a 412's `current`.
impl crate::error::Current for service::Model {
    fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(service_out(self.clone())).unwrap_or_default()
    }
}

/// A new directory entry; `status` is `active` when left out.
#[derive(Object)]
pub struct NewServiceIn {
    /// Optional client-chosen UUIDv7.
    pub id: Option<ClientId>,
    pub organization_name: Name,
    pub name: Name,
    /// Needs from the taxonomy that the service meets.
    #[oai(validator(min_items = 1, max_items = 12))]
    pub categories: Vec<Need>,
    /// Blank means none.
    pub phone: Option<Phone>,
    /// Blank means none.
    pub email: Option<Email>,
    /// May span lines; blank means none.
    pub address: Option<Address>,
    /// Who may use it; may span lines; blank means none.
    pub eligibility: Option<Eligibility>,
    /// Languages served (codes such as `es` or names).
    #[oai(default, validator(max_items = 20))]
    pub languages: Vec<Language>,
    // `active` when left out (a description here would wrap the enum in
    // `allOf`, which generated clients mishandle).
    pub status: Option<ServiceStatus>,
}

#[derive(Object)]
pub struct ServicePatchIn {
    pub organization_name: Option<Name>,
    pub name: Option<Name>,
    #[oai(validator(min_items = 1, max_items = 12))]
    pub categories: Option<Vec<Need>>,
    /// Blank clears it.
    pub phone: Option<Phone>,
    /// Blank clears it.
    pub email: Option<Email>,
    /// Blank clears it.
    pub address: Option<Address>,
    /// Blank clears it.
    pub eligibility: Option<Eligibility>,
    #[oai(validator(max_items = 20))]
    pub languages: Option<Vec<Language>>,
    pub status: Option<ServiceStatus>,
}

#[derive(Object)]
pub struct ServiceList {
    pub items: Vec<ServiceOut>,
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

#[derive(ApiResponse)]
pub enum ServiceCreated {
    #[oai(status = 201)]
    Created(Json<ServiceOut>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum ServiceRead {
    #[oai(status = 200)]
    Ok(Json<ServiceOut>, #[oai(header = "ETag")] String),
}

/// Open Referral HSDS files to load into the directory, as `casework
/// directory import` reads them from disk.
#[derive(Object)]
pub struct HsdsImportIn {
    /// One `.json` file of HSDS 3 services with their `organization` (one
    /// service, an array, or a page with `contents`), or the files of an HSDS
    /// CSV package by name: `organizations.csv` and `services.csv`, with
    /// `phones.csv`, `languages.csv`, `attributes.csv` and
    /// `taxonomy_terms.csv` used when present.
    #[oai(validator(min_items = 1, max_items = 6))]
    pub files: Vec<HsdsFileIn>,
}

/// One file of an upload.
#[derive(Object)]
pub struct HsdsFileIn {
    /// The file's name (`services.json`, `services.csv`, ...).
    #[oai(validator(min_length = 1, max_length = 200))]
    pub name: String,
    /// The file's text. The whole request is at most 1 MiB; a larger
    /// directory loads with `casework directory import`.
    #[oai(validator(max_length = 1048576))]
    pub text: String,
}

/// What an import did: entries created and updated (matched by their HSDS
/// id), and each row that did not load, by file and line, with the rule it
/// broke (never its values). Files that cannot be read at all (not HSDS
/// JSON, not CSV, a package without `services.csv`) load nothing and are one
/// error at line 0.
#[derive(Object)]
pub struct HsdsImportOut {
    pub created: u64,
    pub updated: u64,
    pub errors: Vec<HsdsRowErrorOut>,
}

#[derive(Object)]
pub struct HsdsRowErrorOut {
    pub file: String,
    pub line: u64,
    pub message: String,
}

#[OpenApi(prefix_path = "/v1/services", tag = "ApiTags::Services")]
impl ServicesApi {
    /// Add an outside service to the directory (admins).
    #[oai(
        operation_id = "createService",
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
        body: Input<NewServiceIn>,
    ) -> Result<ServiceCreated, ProblemResponse> {
        let b = body.0;
        let input = NewService {
            id: b.id,
            organization_name: b.organization_name,
            name: b.name,
            categories: b.categories,
            phone: b.phone,
            email: b.email,
            address: b.address,
            eligibility: b.eligibility,
            languages: b.languages,
            status: b.status.unwrap_or(ServiceStatus::Active),
        };
        let s = services::create(&state, &auth.0, &meta, input).await?;
        let tag = etag(s.version);
        Ok(ServiceCreated::Created(Json(service_out(s)), tag))
    }

    /// Load Open Referral HSDS data into the directory (admins): each service
    /// is created or, when its HSDS id is known, updated; rows that cannot be
    /// read are reported and the rest still load. Each entry is audited as
    /// the admin's create or update.
    #[oai(
        operation_id = "importServices",
        path = "/import",
        method = "post",
        transform = "write_limit"
    )]
    async fn import(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        body: Input<HsdsImportIn>,
    ) -> Result<Json<HsdsImportOut>, ProblemResponse> {
        let files = body.0.files.into_iter().map(|f| (f.name, f.text)).collect();
        let report = hsds::import_uploaded(&state, &auth.0, &meta, files).await?;
        Ok(Json(HsdsImportOut {
            created: report.created as u64,
            updated: report.updated as u64,
            errors: report
                .errors
                .into_iter()
                .map(|e| HsdsRowErrorOut {
                    file: e.file,
                    line: e.line,
                    message: e.message,
                })
                .collect(),
        }))
    }

    /// Search the directory: entries whose organization or service name has
    /// words starting with each word of `q` (case and accents ignored), in a
    /// category, with a status; active entries first.
    #[oai(operation_id = "searchServices", path = "/", method = "get")]
    async fn search(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        /// One line, 1 to 100 characters.
        q: Query<Option<Line<100>>>,
        category: Query<Option<Need>>,
        status: Query<Option<ServiceStatus>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))] limit: Query<Option<u64>>,
        #[oai(validator(max_length = 400))] cursor: Query<Option<String>>,
    ) -> Result<Json<ServiceList>, ProblemResponse> {
        let page = services::search(
            &state,
            &auth.0,
            &meta,
            ServiceQuery {
                q: q.0.as_ref().map(Line::as_str),
                category: category.0,
                status: status.0,
                cursor: cursor.0.as_deref(),
                limit: limit.0,
            },
        )
        .await?;
        Ok(Json(ServiceList {
            items: page.items.into_iter().map(service_out).collect(),
            next_cursor: page.next_cursor,
        }))
    }

    /// One directory entry.
    #[oai(operation_id = "getService", path = "/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> Result<ServiceRead, ProblemResponse> {
        let s = services::get(&state, &auth.0, &meta, id.0).await?;
        let tag = etag(s.version);
        Ok(ServiceRead::Ok(Json(service_out(s)), tag))
    }

    /// Change a directory entry (admins). Requires `If-Match`.
    #[oai(
        operation_id = "updateService",
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
        body: Input<ServicePatchIn>,
    ) -> Result<ServiceRead, ProblemResponse> {
        let b = body.0;
        let patch = ServicePatch {
            organization_name: b.organization_name,
            name: b.name,
            categories: b.categories,
            phone: b.phone,
            email: b.email,
            address: b.address,
            eligibility: b.eligibility,
            languages: b.languages,
            status: b.status,
        };
        let s = services::update(
            &state,
            &auth.0,
            &meta,
            id.0,
            Some(if_match.0.as_str()),
            patch,
        )
        .await?;
        let tag = etag(s.version);
        Ok(ServiceRead::Ok(Json(service_out(s)), tag))
    }
}
