//! Liveness and readiness.

use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};

use super::{ApiTags, problem::Problem};
use crate::state::AppState;

pub struct HealthApi;

#[derive(Debug, Object)]
pub struct HealthStatus {
    /// `ok` when the check passed.
    pub status: String,
}

#[derive(ApiResponse)]
pub enum ReadyResponse {
    /// The database answers and every migration is applied.
    #[oai(status = 200)]
    Ready(Json<HealthStatus>),
    /// Not ready: the database is unreachable or migrations are pending.
    #[oai(status = 503, content_type = "application/problem+json")]
    NotReady(Json<Problem>),
}

#[OpenApi(tag = "ApiTags::Health")]
impl HealthApi {
    /// Liveness: the process is up and serving.
    #[oai(operation_id = "getHealth", path = "/healthz", method = "get")]
    async fn healthz(&self) -> Json<HealthStatus> {
        Json(HealthStatus {
            status: "ok".into(),
        })
    }

    /// Readiness: the database is reachable, its migrations are current, and
    /// the single writer (which every change and audit event goes through) is up.
    #[oai(operation_id = "getReadiness", path = "/readyz", method = "get")]
    async fn readyz(&self, state: Data<&AppState>) -> ReadyResponse {
        let ready = if state.recorder.is_running() {
            crate::db::ready(&state.db).await
        } else {
            Err("the audit writer is restarting".to_owned())
        };
        match ready {
            Ok(()) => ReadyResponse::Ready(Json(HealthStatus {
                status: "ok".into(),
            })),
            Err(reason) => {
                tracing::warn!(reason = %reason, "not ready");
                ReadyResponse::NotReady(Json(
                    Problem::for_status(poem::http::StatusCode::SERVICE_UNAVAILABLE).detail(reason),
                ))
            }
        }
    }
}
