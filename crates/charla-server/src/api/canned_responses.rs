//! Canned responses: workspace-wide ones (managed with `manage_settings`) and each user's
//! personal ones. Another user's personal response answers 404.

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::state::AppState;
use crate::wire;
use axum::extract::State;
use axum::http::StatusCode;
use charla_core::{CannedResponse, Id};
use charla_store::StoreError;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_canned_responses, create_canned_response)).routes(routes!(
        get_canned_response,
        update_canned_response,
        delete_canned_response
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateCannedResponse {
    /// Typed after `/` in the composer; no spaces.
    pub shortcut: String,
    /// At most 60000 characters.
    pub text: String,
    /// Personal (only for the caller) instead of workspace-wide.
    #[serde(default)]
    pub personal: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateCannedResponse {
    pub shortcut: Option<String>,
    pub text: Option<String>,
}

fn check_shortcut(s: &str) -> ApiResult<String> {
    let s = s.trim().trim_start_matches('/');
    if s.is_empty() || s.chars().count() > 64 || s.chars().any(char::is_whitespace) {
        return Err(ApiError::unprocessable("invalid_shortcut", "shortcut must be 1 to 64 characters without spaces"));
    }
    Ok(s.to_string())
}

fn check_text(t: &str) -> ApiResult<()> {
    if t.trim().is_empty() {
        return Err(ApiError::unprocessable("invalid_text", "text must not be empty"));
    }
    charla_core::limits::check_canned_response(t).map_err(|e| {
        ApiError::unprocessable(
            "text_too_long",
            format!("the text has {} characters; the limit is {}", e.length, e.limit),
        )
    })
}

fn conflict(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict(_) => ApiError::conflict("shortcut_taken", "this shortcut is already used"),
        e => e.into(),
    }
}

fn visible(me: &CurrentUser, c: &CannedResponse) -> bool {
    c.owner_id.is_none_or(|o| o == me.user.id)
}

fn may_edit(me: &CurrentUser, c: &CannedResponse) -> bool {
    match c.owner_id {
        Some(owner) => owner == me.user.id,
        None => me.viewer.can_manage_settings(),
    }
}

async fn visible_response(state: &AppState, me: &CurrentUser, id: Id) -> ApiResult<CannedResponse> {
    let c = state.store.get_canned_response(me.user.workspace_id, id).await?;
    if visible(me, &c) { Ok(c) } else { Err(ApiError::not_found()) }
}

/// Workspace-wide responses and the caller's personal ones.
#[utoipa::path(
    get, path = "/api/v1/canned-responses", tag = "canned-responses",
    responses((status = 200, body = Vec<wire::CannedResponse>), (status = 401, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list_canned_responses(
    State(state): State<AppState>,
    me: CurrentUser,
) -> ApiResult<axum::Json<Vec<wire::CannedResponse>>> {
    let list = state.store.list_canned_responses(me.user.workspace_id, me.user.id).await?;
    Ok(axum::Json(list.iter().filter(|c| visible(&me, c)).map(wire::CannedResponse::from).collect()))
}

/// Creates a response: personal for anyone, workspace-wide with `manage_settings`.
#[utoipa::path(
    post, path = "/api/v1/canned-responses", tag = "canned-responses",
    request_body = CreateCannedResponse,
    responses(
        (status = 201, body = wire::CannedResponse),
        (status = 403, body = ErrorBody),
        (status = 409, description = "shortcut_taken", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create_canned_response(
    State(state): State<AppState>,
    me: CurrentUser,
    Json(req): Json<CreateCannedResponse>,
) -> ApiResult<(StatusCode, axum::Json<wire::CannedResponse>)> {
    if !req.personal {
        crate::api::require_settings(&me)?;
    }
    let shortcut = check_shortcut(&req.shortcut)?;
    check_text(&req.text)?;
    let owner = req.personal.then_some(me.user.id);
    let c = state
        .store
        .create_canned_response(me.user.workspace_id, owner, &shortcut, &req.text)
        .await
        .map_err(conflict)?;
    Ok((StatusCode::CREATED, axum::Json(wire::CannedResponse::from(&c))))
}

#[utoipa::path(
    get, path = "/api/v1/canned-responses/{id}", tag = "canned-responses",
    params(("id" = i64, Path, description = "canned response id")),
    responses((status = 200, body = wire::CannedResponse), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get_canned_response(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
) -> ApiResult<axum::Json<wire::CannedResponse>> {
    let c = visible_response(&state, &me, id).await?;
    Ok(axum::Json(wire::CannedResponse::from(&c)))
}

/// Changes a response: one's own personal ones, or workspace-wide ones with
/// `manage_settings`.
#[utoipa::path(
    patch, path = "/api/v1/canned-responses/{id}", tag = "canned-responses",
    params(("id" = i64, Path, description = "canned response id")),
    request_body = UpdateCannedResponse,
    responses(
        (status = 200, body = wire::CannedResponse),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn update_canned_response(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
    Json(req): Json<UpdateCannedResponse>,
) -> ApiResult<axum::Json<wire::CannedResponse>> {
    let c = visible_response(&state, &me, id).await?;
    if !may_edit(&me, &c) {
        return Err(ApiError::forbidden("this needs the manage_settings right"));
    }
    let shortcut = req.shortcut.as_deref().map(check_shortcut).transpose()?;
    if let Some(t) = &req.text {
        check_text(t)?;
    }
    let c = state
        .store
        .update_canned_response(me.user.workspace_id, id, shortcut.as_deref(), req.text.as_deref())
        .await
        .map_err(conflict)?;
    Ok(axum::Json(wire::CannedResponse::from(&c)))
}

#[utoipa::path(
    delete, path = "/api/v1/canned-responses/{id}", tag = "canned-responses",
    params(("id" = i64, Path, description = "canned response id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn delete_canned_response(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
) -> ApiResult<StatusCode> {
    let c = visible_response(&state, &me, id).await?;
    if !may_edit(&me, &c) {
        return Err(ApiError::forbidden("this needs the manage_settings right"));
    }
    state.store.delete_canned_response(me.user.workspace_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
