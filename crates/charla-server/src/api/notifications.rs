//! The current user's notifications.

use crate::api::page_limit;
use crate::auth::CurrentUser;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Path, Query};
use crate::state::AppState;
use crate::wire;
use axum::extract::State;
use axum::http::StatusCode;
use charla_core::Id;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_notifications)).routes(routes!(read_notification))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationParams {
    /// Only unread ones.
    #[serde(default)]
    pub unread_only: bool,
    /// 1..200, default 50.
    pub limit: Option<i64>,
}

/// The caller's notifications, newest first.
#[utoipa::path(
    get, path = "/api/v1/notifications", tag = "notifications",
    params(NotificationParams),
    responses((status = 200, body = Vec<wire::Notification>), (status = 401, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list_notifications(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(params): Query<NotificationParams>,
) -> ApiResult<axum::Json<Vec<wire::Notification>>> {
    let list = state
        .store
        .list_notifications(me.user.workspace_id, me.user.id, params.unread_only, page_limit(params.limit, 50, 200))
        .await?;
    Ok(axum::Json(list.iter().map(wire::Notification::from).collect()))
}

/// Marks one of the caller's notifications read.
#[utoipa::path(
    post, path = "/api/v1/notifications/{id}/read", tag = "notifications",
    params(("id" = i64, Path, description = "notification id")),
    responses((status = 204), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn read_notification(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
) -> ApiResult<StatusCode> {
    state.store.mark_notification_read(me.user.workspace_id, me.user.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
