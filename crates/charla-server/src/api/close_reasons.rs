//! The workspace's list of close reasons.

use crate::api::{require_settings, required_text};
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::state::AppState;
use crate::wire;
use axum::extract::State;
use axum::http::StatusCode;
use charla_core::Id;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_close_reasons, create_close_reason)).routes(routes!(delete_close_reason))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateCloseReason {
    pub name: String,
}

#[utoipa::path(
    get, path = "/api/v1/close-reasons", tag = "close-reasons",
    responses((status = 200, body = Vec<wire::CloseReason>), (status = 401, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list_close_reasons(
    State(state): State<AppState>,
    me: CurrentUser,
) -> ApiResult<axum::Json<Vec<wire::CloseReason>>> {
    let reasons = state.store.list_close_reasons(me.user.workspace_id).await?;
    Ok(axum::Json(reasons.iter().map(wire::CloseReason::from).collect()))
}

/// Adds a close reason (`manage_settings`).
#[utoipa::path(
    post, path = "/api/v1/close-reasons", tag = "close-reasons",
    request_body = CreateCloseReason,
    responses(
        (status = 201, body = wire::CloseReason),
        (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create_close_reason(
    State(state): State<AppState>,
    me: CurrentUser,
    Json(req): Json<CreateCloseReason>,
) -> ApiResult<(StatusCode, axum::Json<wire::CloseReason>)> {
    require_settings(&me)?;
    let name = required_text(&req.name, "name", 200)?;
    let reason = state.store.create_close_reason(me.user.workspace_id, &name).await?;
    Ok((StatusCode::CREATED, axum::Json(wire::CloseReason::from(&reason))))
}

/// Removes a close reason (`manage_settings`); closed attentions keep theirs.
#[utoipa::path(
    delete, path = "/api/v1/close-reasons/{id}", tag = "close-reasons",
    params(("id" = i64, Path, description = "close reason id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn delete_close_reason(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
) -> ApiResult<StatusCode> {
    let ws = me.user.workspace_id;
    if !state.store.list_close_reasons(ws).await?.iter().any(|r| r.id == id) {
        return Err(ApiError::not_found());
    }
    require_settings(&me)?;
    state.store.delete_close_reason(ws, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
