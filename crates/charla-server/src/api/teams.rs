//! Teams: groups of operators a conversation can be assigned to.

use crate::api::{require_settings, required_text};
use crate::auth::CurrentUser;
use crate::error::{ApiResult, ErrorBody};
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
    OpenApiRouter::new().routes(routes!(list_teams, create_team)).routes(routes!(get_team, update_team, delete_team))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateTeam {
    pub name: String,
    #[serde(default)]
    pub member_ids: Vec<Id>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateTeam {
    pub name: Option<String>,
    /// Replaces the member list.
    pub member_ids: Option<Vec<Id>>,
}

#[utoipa::path(
    get, path = "/api/v1/teams", tag = "teams",
    responses((status = 200, body = Vec<wire::Team>), (status = 401, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list_teams(State(state): State<AppState>, me: CurrentUser) -> ApiResult<axum::Json<Vec<wire::Team>>> {
    let teams = state.store.list_teams(me.user.workspace_id).await?;
    Ok(axum::Json(teams.iter().map(wire::Team::from).collect()))
}

/// Creates a team (`manage_settings`).
#[utoipa::path(
    post, path = "/api/v1/teams", tag = "teams",
    request_body = CreateTeam,
    responses((status = 201, body = wire::Team), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn create_team(
    State(state): State<AppState>,
    me: CurrentUser,
    Json(req): Json<CreateTeam>,
) -> ApiResult<(StatusCode, axum::Json<wire::Team>)> {
    require_settings(&me)?;
    let name = required_text(&req.name, "name", 200)?;
    let written = state.store.create_team(me.user.workspace_id, &name, &req.member_ids).await?;
    state.publish(written.events).await;
    let team = written.value;
    Ok((StatusCode::CREATED, axum::Json(wire::Team::from(&team))))
}

#[utoipa::path(
    get, path = "/api/v1/teams/{id}", tag = "teams",
    params(("id" = i64, Path, description = "team id")),
    responses((status = 200, body = wire::Team), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get_team(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
) -> ApiResult<axum::Json<wire::Team>> {
    let team = state.store.get_team(me.user.workspace_id, id).await?;
    Ok(axum::Json(wire::Team::from(&team)))
}

/// Renames a team or replaces its members (`manage_settings`).
#[utoipa::path(
    patch, path = "/api/v1/teams/{id}", tag = "teams",
    params(("id" = i64, Path, description = "team id")),
    request_body = UpdateTeam,
    responses((status = 200, body = wire::Team), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn update_team(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
    Json(req): Json<UpdateTeam>,
) -> ApiResult<axum::Json<wire::Team>> {
    let ws = me.user.workspace_id;
    state.store.get_team(ws, id).await?;
    require_settings(&me)?;
    let name = req.name.as_deref().map(|n| required_text(n, "name", 200)).transpose()?;
    let written = state.store.update_team(ws, id, name.as_deref(), req.member_ids.as_deref()).await?;
    state.publish(written.events).await;
    let team = written.value;
    Ok(axum::Json(wire::Team::from(&team)))
}

/// Deletes a team (`manage_settings`); its conversations keep their assignee.
#[utoipa::path(
    delete, path = "/api/v1/teams/{id}", tag = "teams",
    params(("id" = i64, Path, description = "team id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn delete_team(State(state): State<AppState>, me: CurrentUser, Path(id): Path<Id>) -> ApiResult<StatusCode> {
    let ws = me.user.workspace_id;
    state.store.get_team(ws, id).await?;
    require_settings(&me)?;
    let written = state.store.delete_team(ws, id).await?;
    state.publish(written.events).await;
    Ok(StatusCode::NO_CONTENT)
}
