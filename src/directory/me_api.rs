//! The caller's own account and device sessions.
// poem-openapi handlers take one argument per HTTP input (header, path,
// query, body), so long parameter lists are the shape of the API here.
#![allow(clippy::too_many_arguments)]

use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};
use uuid::Uuid;

use crate::directory::api::{StaffOut, staff_out};
use crate::http::{
    ApiTags, input::Input, problem::ProblemResponse, security::BearerAuth, write_limit,
};
use crate::text::NewPassword;
use crate::{audit::RequestMeta, state::AppState};
use entities::device_session;

pub struct MeApi;

#[derive(Object)]
pub struct SessionOut {
    pub id: Uuid,
    pub device_name: String,
    pub created_at: crate::http::types::Timestamp,
    pub last_used_at: crate::http::types::Timestamp,
    pub expires_at: crate::http::types::Timestamp,
    /// True for the session making this request.
    pub current: bool,
}

#[derive(Object)]
pub struct SessionList {
    pub items: Vec<SessionOut>,
}

pub fn session_list(rows: Vec<device_session::Model>, current: Uuid) -> SessionList {
    SessionList {
        items: rows
            .into_iter()
            .map(|s| SessionOut {
                current: s.id == current,
                id: s.id,
                device_name: s.device_name,
                created_at: s.created_at.into(),
                last_used_at: s.last_used_at.into(),
                expires_at: s.expires_at.into(),
            })
            .collect(),
    }
}

#[derive(Object)]
pub struct PasswordChangeIn {
    #[oai(validator(min_length = 1, max_length = 1024))]
    pub current_password: String,
    /// 12 to 1024 characters; a long passphrase is best.
    pub new_password: NewPassword,
}

#[derive(ApiResponse)]
pub enum PasswordChanged {
    /// Changed; every other session of the account has ended.
    #[oai(status = 204)]
    Done,
}

#[derive(ApiResponse)]
pub enum Revoked {
    /// The session has ended; its tokens stop working within seconds.
    #[oai(status = 204)]
    Done,
}

#[OpenApi(prefix_path = "/v1/me", tag = "ApiTags::Sessions")]
impl MeApi {
    /// The signed-in account.
    #[oai(operation_id = "getMe", path = "/", method = "get")]
    async fn me(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
    ) -> Result<Json<StaffOut>, ProblemResponse> {
        let view =
            crate::directory::service::get_staff(&state, &auth.0, &meta, auth.0.staff_id).await?;
        Ok(Json(staff_out(view)))
    }

    /// Change the caller's own password, giving the current one. Every other
    /// session of the account ends; this one goes on.
    #[oai(
        operation_id = "changeMyPassword",
        path = "/password",
        method = "post",
        transform = "write_limit"
    )]
    async fn change_password(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        body: Input<PasswordChangeIn>,
    ) -> Result<PasswordChanged, ProblemResponse> {
        let b = body.0;
        crate::auth::service::change_own_password(
            &state,
            &auth.0,
            &meta,
            b.current_password,
            b.new_password,
        )
        .await?;
        Ok(PasswordChanged::Done)
    }

    /// The caller's live device sessions, newest first.
    #[oai(operation_id = "listMySessions", path = "/sessions", method = "get")]
    async fn sessions(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
    ) -> Result<Json<SessionList>, ProblemResponse> {
        let rows = crate::auth::sessions::list(&state, &auth.0, &meta, auth.0.staff_id).await?;
        Ok(Json(session_list(rows, auth.0.session_id)))
    }

    /// End one of the caller's sessions (a lost tablet).
    #[oai(
        operation_id = "revokeMySession",
        path = "/sessions/:id",
        method = "delete"
    )]
    async fn revoke(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> Result<Revoked, ProblemResponse> {
        crate::auth::sessions::revoke(&state, &auth.0, &meta, auth.0.staff_id, id.0).await?;
        Ok(Revoked::Done)
    }
}
