//! Branches and staff accounts (admins change them; every role reads them),
//! and an admin's view of anyone's device sessions.
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

use crate::directory::me_api::{Revoked, SessionList, session_list};
use crate::http::{
    ApiTags, etag, input::Input, problem::ProblemResponse, security::BearerAuth, write_limit,
};
use crate::text::{BranchCode, ClientId, ETag, Line, NewPassword, SsoEmail, Username};
use crate::{
    audit::RequestMeta,
    directory::service::{self, StaffView},
    domain::Role,
    state::AppState,
};
use entities::branch;

pub struct DirectoryApi;

#[derive(Object, serde::Serialize)]
pub struct BranchOut {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub version: i32,
    pub created_at: crate::http::types::Timestamp,
    pub updated_at: crate::http::types::Timestamp,
}

fn branch_out(b: branch::Model) -> BranchOut {
    BranchOut {
        id: b.id,
        code: b.code,
        name: b.name,
        version: b.version,
        created_at: b.created_at.into(),
        updated_at: b.updated_at.into(),
    }
}

/// The API form of a branch, as carried in a 412 problem's `current`.
/// Rendered as a read renders it, for a 412's `current`.
impl crate::error::Current for branch::Model {
    fn to_json(&self) -> serde_json::Value {
        let b = self;
        serde_json::to_value(branch_out(b.clone())).unwrap_or_default()
    }
}

#[derive(Object)]
pub struct NewBranchIn {
    /// Optional client-chosen UUIDv7.
    pub id: Option<ClientId>,
    /// Short code, e.g. `MAIN`: 2 to 16 letters, digits or `-`; stored
    /// uppercased.
    pub code: BranchCode,
    pub name: Line<200>,
}

#[derive(Object)]
pub struct BranchPatchIn {
    pub code: Option<BranchCode>,
    pub name: Option<Line<200>>,
}

#[derive(Object)]
pub struct BranchList {
    pub items: Vec<BranchOut>,
}

#[derive(ApiResponse)]
pub enum BranchCreated {
    #[oai(status = 201)]
    Created(Json<BranchOut>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum BranchRead {
    #[oai(status = 200)]
    Ok(Json<BranchOut>, #[oai(header = "ETag")] String),
}

#[derive(Object, serde::Serialize)]
pub struct StaffOut {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub branches: Vec<Uuid>,
    pub active: bool,
    /// The single sign-on subject the account is linked to.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sso_subject: Option<String>,
    /// The verified email that will link the account at its first single
    /// sign-on (with `oidc_link_by_email`).
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sso_email: Option<String>,
    /// Whether the account's password may sign in.
    pub password_sign_in: bool,
    pub version: i32,
    pub created_at: crate::http::types::Timestamp,
    pub updated_at: crate::http::types::Timestamp,
}

pub fn staff_out(v: StaffView) -> StaffOut {
    StaffOut {
        id: v.account.id,
        username: v.account.username,
        display_name: v.account.display_name,
        // Stored roles are written only from `Role`; an unknown one cannot occur.
        role: Role::parse(&v.account.role).unwrap_or(Role::Staff),
        branches: v.branches,
        active: v.account.active,
        sso_subject: v.account.sso_subject,
        sso_email: v.account.sso_email,
        password_sign_in: v.account.password_sign_in,
        version: v.account.version,
        created_at: v.account.created_at.into(),
        updated_at: v.account.updated_at.into(),
    }
}

/// The API form of an account, as carried in a 412 problem's `current`.
/// Rendered as a read renders it, for a 412's `current`.
impl crate::error::Current for StaffView {
    fn to_json(&self) -> serde_json::Value {
        let v = self;
        serde_json::to_value(staff_out(v.clone())).unwrap_or_default()
    }
}

#[derive(Object)]
pub struct NewStaffIn {
    /// Optional client-chosen UUIDv7.
    pub id: Option<ClientId>,
    /// 3 to 64 letters, digits, `.`, `_` or `-`; case-insensitive.
    pub username: Username,
    pub display_name: Line<200>,
    pub role: Role,
    #[oai(default, validator(max_items = 50))]
    pub branches: Vec<Uuid>,
    /// 12 to 1024 characters; the account must choose its own at first sign-in.
    pub password: NewPassword,
}

#[derive(Object)]
pub struct StaffPatchIn {
    pub display_name: Option<Line<200>>,
    pub role: Option<Role>,
    #[oai(validator(max_items = 50))]
    pub branches: Option<Vec<Uuid>>,
    /// `false` deactivates the account and ends all its sessions.
    pub active: Option<bool>,
    /// A new password (12 to 1024 characters); ends all the account's
    /// sessions, and the account must choose its own at next sign-in.
    pub password: Option<NewPassword>,
    /// Link the account to the single sign-on provider's subject (its
    /// `sub` claim, as the provider's admin console shows it); an empty
    /// string unlinks it.
    pub sso_subject: Option<Line<255, 0>>,
    /// With `oidc_link_by_email` on: the account is linked on its first
    /// single sign-on whose verified email is this one (once; then it is
    /// cleared). An empty string clears it.
    pub sso_email: Option<SsoEmail>,
    /// `false`: the account signs in through single sign-on only (it must
    /// be linked, or wait to be by `sso_email`).
    pub password_sign_in: Option<bool>,
}

#[derive(Object)]
pub struct StaffList {
    pub items: Vec<StaffOut>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

#[derive(ApiResponse)]
pub enum StaffCreated {
    #[oai(status = 201)]
    Created(Json<StaffOut>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum StaffRead {
    #[oai(status = 200)]
    Ok(Json<StaffOut>, #[oai(header = "ETag")] String),
}

#[OpenApi(prefix_path = "/v1", tag = "ApiTags::Directory")]
impl DirectoryApi {
    /// Create a branch (admin).
    #[oai(
        operation_id = "createBranch",
        path = "/branches",
        method = "post",
        transform = "write_limit"
    )]
    async fn create_branch(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        body: Input<NewBranchIn>,
    ) -> Result<BranchCreated, ProblemResponse> {
        let b = body.0;
        let input = service::NewBranch {
            id: b.id,
            code: b.code,
            name: b.name,
        };
        let m = service::create_branch(&state, &auth.0, &meta, input).await?;
        let tag = etag(m.version);
        Ok(BranchCreated::Created(Json(branch_out(m)), tag))
    }

    /// All branches, by code.
    #[oai(operation_id = "listBranches", path = "/branches", method = "get")]
    async fn list_branches(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
    ) -> Result<Json<BranchList>, ProblemResponse> {
        let rows = service::list_branches(&state, &auth.0, &meta).await?;
        Ok(Json(BranchList {
            items: rows.into_iter().map(branch_out).collect(),
        }))
    }

    /// One branch, with its version as `ETag`.
    #[oai(operation_id = "getBranch", path = "/branches/:id", method = "get")]
    async fn get_branch(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> Result<BranchRead, ProblemResponse> {
        let m = service::get_branch(&state, &auth.0, &meta, id.0).await?;
        Ok(BranchRead::Ok(Json(branch_out(m.clone())), etag(m.version)))
    }

    /// Change a branch (admin). Requires `If-Match` with the current `ETag`.
    #[oai(
        operation_id = "updateBranch",
        path = "/branches/:id",
        method = "patch",
        transform = "write_limit"
    )]
    async fn update_branch(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<ETag>,
        body: Input<BranchPatchIn>,
    ) -> Result<BranchRead, ProblemResponse> {
        let patch = service::BranchPatch {
            code: body.0.code,
            name: body.0.name,
        };
        let m = service::update_branch(
            &state,
            &auth.0,
            &meta,
            id.0,
            Some(if_match.0.as_str()),
            patch,
        )
        .await?;
        Ok(BranchRead::Ok(Json(branch_out(m.clone())), etag(m.version)))
    }

    /// Create a staff account (admin).
    #[oai(
        operation_id = "createStaff",
        path = "/staff",
        method = "post",
        transform = "write_limit"
    )]
    async fn create_staff(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        body: Input<NewStaffIn>,
    ) -> Result<StaffCreated, ProblemResponse> {
        let b = body.0;
        let input = service::NewStaff {
            id: b.id,
            username: b.username,
            display_name: b.display_name,
            role: b.role,
            branches: b.branches,
            password: b.password,
        };
        let v = service::create_staff(&state, Some(&auth.0), &meta, input).await?;
        let tag = etag(v.account.version);
        Ok(StaffCreated::Created(Json(staff_out(v)), tag))
    }

    /// Staff accounts in creation order, a page at a time.
    #[oai(operation_id = "listStaff", path = "/staff", method = "get")]
    async fn list_staff(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        /// Page size, 1 to 200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u64>>,
        /// `next_cursor` of the previous page.
        #[oai(validator(max_length = 200))]
        cursor: Query<Option<String>>,
    ) -> Result<Json<StaffList>, ProblemResponse> {
        let page =
            service::list_staff(&state, &auth.0, &meta, cursor.0.as_deref(), limit.0).await?;
        Ok(Json(StaffList {
            items: page.items.into_iter().map(staff_out).collect(),
            next_cursor: page.next_cursor,
        }))
    }

    /// One staff account, with its version as `ETag`.
    #[oai(operation_id = "getStaff", path = "/staff/:id", method = "get")]
    async fn get_staff(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> Result<StaffRead, ProblemResponse> {
        let v = service::get_staff(&state, &auth.0, &meta, id.0).await?;
        let tag = etag(v.account.version);
        Ok(StaffRead::Ok(Json(staff_out(v)), tag))
    }

    /// Change a staff account (admin): name, role, branches, active, password.
    /// Requires `If-Match`. Deactivating ends every session of the account.
    #[oai(
        operation_id = "updateStaff",
        path = "/staff/:id",
        method = "patch",
        transform = "write_limit"
    )]
    async fn update_staff(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<ETag>,
        body: Input<StaffPatchIn>,
    ) -> Result<StaffRead, ProblemResponse> {
        let b = body.0;
        let patch = service::StaffPatch {
            display_name: b.display_name,
            role: b.role,
            branches: b.branches,
            active: b.active,
            password: b.password,
            // An empty string clears either.
            sso_subject: b
                .sso_subject
                .map(|s| Some(s.into_inner()).filter(|s| !s.is_empty())),
            sso_email: b
                .sso_email
                .map(|e| Some(e.into_inner()).filter(|e| !e.is_empty())),
            password_sign_in: b.password_sign_in,
        };
        let v = service::update_staff(
            &state,
            &auth.0,
            &meta,
            id.0,
            Some(if_match.0.as_str()),
            patch,
        )
        .await?;
        let tag = etag(v.account.version);
        Ok(StaffRead::Ok(Json(staff_out(v)), tag))
    }

    /// Live sessions of an account (the account itself, or an admin).
    #[oai(
        operation_id = "listStaffSessions",
        path = "/staff/:id/sessions",
        method = "get"
    )]
    async fn staff_sessions(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> Result<Json<SessionList>, ProblemResponse> {
        let rows = crate::auth::sessions::list(&state, &auth.0, &meta, id.0).await?;
        Ok(Json(session_list(rows, auth.0.session_id)))
    }

    /// End a session of an account (the account itself, or an admin).
    #[oai(
        operation_id = "revokeStaffSession",
        path = "/staff/:id/sessions/:session_id",
        method = "delete"
    )]
    async fn revoke_staff_session(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
        session_id: Path<Uuid>,
    ) -> Result<Revoked, ProblemResponse> {
        crate::auth::sessions::revoke(&state, &auth.0, &meta, id.0, session_id.0).await?;
        Ok(Revoked::Done)
    }
}
