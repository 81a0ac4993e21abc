//! Tags on contacts.

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
    OpenApiRouter::new().routes(routes!(list_tags, create_tag)).routes(routes!(update_tag, delete_tag))
}

pub const DEFAULT_COLOR: &str = "#808080";

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateTag {
    pub name: String,
    /// `#rrggbb`; default grey.
    pub color: Option<String>,
    #[serde(default)]
    pub pinned: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateTag {
    pub name: Option<String>,
    pub color: Option<String>,
    pub pinned: Option<bool>,
}

fn check_color(c: &str) -> ApiResult<String> {
    let c = c.trim();
    let ok = c.len() == 7 && c.starts_with('#') && c[1..].bytes().all(|b| b.is_ascii_hexdigit());
    if ok {
        Ok(c.to_ascii_lowercase())
    } else {
        Err(ApiError::unprocessable("invalid_color", "color must look like #rrggbb"))
    }
}

async fn existing(state: &AppState, me: &CurrentUser, id: Id) -> ApiResult<()> {
    let tags = state.store.list_tags(me.user.workspace_id).await?;
    if tags.iter().any(|t| t.id == id) { Ok(()) } else { Err(ApiError::not_found()) }
}

#[utoipa::path(
    get, path = "/api/v1/tags", tag = "tags",
    responses((status = 200, body = Vec<wire::Tag>), (status = 401, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list_tags(State(state): State<AppState>, me: CurrentUser) -> ApiResult<axum::Json<Vec<wire::Tag>>> {
    let tags = state.store.list_tags(me.user.workspace_id).await?;
    Ok(axum::Json(tags.iter().map(wire::Tag::from).collect()))
}

/// Creates a tag (`manage_settings`).
#[utoipa::path(
    post, path = "/api/v1/tags", tag = "tags",
    request_body = CreateTag,
    responses(
        (status = 201, body = wire::Tag),
        (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create_tag(
    State(state): State<AppState>,
    me: CurrentUser,
    Json(req): Json<CreateTag>,
) -> ApiResult<(StatusCode, axum::Json<wire::Tag>)> {
    require_settings(&me)?;
    let name = required_text(&req.name, "name", 100)?;
    let color = req.color.as_deref().map(check_color).transpose()?.unwrap_or_else(|| DEFAULT_COLOR.into());
    let tag = state.store.create_tag(me.user.workspace_id, &name, &color, req.pinned).await?;
    Ok((StatusCode::CREATED, axum::Json(wire::Tag::from(&tag))))
}

/// Changes a tag (`manage_settings`).
#[utoipa::path(
    patch, path = "/api/v1/tags/{id}", tag = "tags",
    params(("id" = i64, Path, description = "tag id")),
    request_body = UpdateTag,
    responses(
        (status = 200, body = wire::Tag),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn update_tag(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
    Json(req): Json<UpdateTag>,
) -> ApiResult<axum::Json<wire::Tag>> {
    existing(&state, &me, id).await?;
    require_settings(&me)?;
    let name = req.name.as_deref().map(|n| required_text(n, "name", 100)).transpose()?;
    let color = req.color.as_deref().map(check_color).transpose()?;
    let tag = state.store.update_tag(me.user.workspace_id, id, name.as_deref(), color.as_deref(), req.pinned).await?;
    Ok(axum::Json(wire::Tag::from(&tag)))
}

/// Deletes a tag (`manage_settings`); contacts lose it.
#[utoipa::path(
    delete, path = "/api/v1/tags/{id}", tag = "tags",
    params(("id" = i64, Path, description = "tag id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn delete_tag(State(state): State<AppState>, me: CurrentUser, Path(id): Path<Id>) -> ApiResult<StatusCode> {
    existing(&state, &me, id).await?;
    require_settings(&me)?;
    state.store.delete_tag(me.user.workspace_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
