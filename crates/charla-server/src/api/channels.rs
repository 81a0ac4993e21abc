//! Channels (inboxes) and their members.
//!
//! Admins and `manage_settings` agents see every channel; other agents see the channels they
//! are members of (others answer 404). The webhook secret is shown only by creation and
//! `rotate-secret`.

use crate::api::{blank_to_none, double_option, require_settings, required_text};
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::state::AppState;
use crate::wire;
use axum::extract::State;
use axum::http::StatusCode;
use charla_core::{Channel, ChannelKind, Id, RoutingMode};
use charla_store::{ChannelPatch, NewChannel};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_channels, create_channel))
        .routes(routes!(get_channel, update_channel, delete_channel))
        .routes(routes!(rotate_secret))
        .routes(routes!(get_members, set_members))
}

pub const DEFAULT_RESPONSE_TIME_LIMIT_SECS: i64 = 900;

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateChannel {
    /// Only `api` for now.
    pub kind: String,
    pub name: String,
    /// Where outbound messages are POSTed (http or https).
    pub webhook_url: Option<String>,
    /// `manual` (default) | `auto`
    pub routing_mode: Option<String>,
    /// Default: the kind's limit (2000 for api).
    pub max_message_length: Option<i64>,
    pub auto_close_after_secs: Option<i64>,
    /// Default 900.
    pub response_time_limit_secs: Option<i64>,
    pub greeting: Option<String>,
}

/// Absent fields stay; `null` clears nullable ones.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct UpdateChannel {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub webhook_url: Option<Option<String>>,
    pub routing_mode: Option<String>,
    pub max_message_length: Option<i64>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub auto_close_after_secs: Option<Option<i64>>,
    pub response_time_limit_secs: Option<i64>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub greeting: Option<Option<String>>,
    pub active: Option<bool>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Members {
    pub user_ids: Vec<Id>,
}

fn can_see_channel(me: &CurrentUser, channel: &Channel) -> bool {
    me.viewer.can_manage_settings() || me.viewer.is_member_of(channel.id)
}

/// The channel when the caller may see it, else 404.
async fn visible_channel(state: &AppState, me: &CurrentUser, id: Id) -> ApiResult<Channel> {
    let ch = state.store.get_channel(me.user.workspace_id, id).await?;
    if can_see_channel(me, &ch) { Ok(ch) } else { Err(ApiError::not_found()) }
}

fn check_webhook_url(url: &str) -> ApiResult<String> {
    let url = url.trim();
    let ok = reqwest::Url::parse(url)
        .ok()
        .is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty()));
    if ok && url.len() <= 2048 {
        Ok(url.to_string())
    } else {
        Err(ApiError::unprocessable("invalid_webhook_url", "webhook_url must be an http(s) URL"))
    }
}

fn parse_routing(s: &str) -> ApiResult<RoutingMode> {
    RoutingMode::parse(s)
        .ok_or_else(|| ApiError::unprocessable("invalid_routing_mode", "routing_mode must be manual or auto"))
}

fn positive(v: i64, code: &str, what: &str, max: i64) -> ApiResult<i64> {
    if (1..=max).contains(&v) {
        Ok(v)
    } else {
        Err(ApiError::unprocessable(code, format!("{what} must be between 1 and {max}")))
    }
}

const MAX_SECS: i64 = 365 * 24 * 3600;

fn random_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    hex::encode(bytes)
}

#[utoipa::path(
    get, path = "/api/v1/channels", tag = "channels",
    responses((status = 200, body = Vec<wire::Channel>), (status = 401, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list_channels(
    State(state): State<AppState>,
    me: CurrentUser,
) -> ApiResult<axum::Json<Vec<wire::Channel>>> {
    let channels = state.store.list_channels(me.user.workspace_id).await?;
    Ok(axum::Json(channels.iter().filter(|c| can_see_channel(&me, c)).map(wire::Channel::public).collect()))
}

/// Creates a channel (`manage_settings`); the answer carries its webhook `secret`, shown
/// this once.
#[utoipa::path(
    post, path = "/api/v1/channels", tag = "channels",
    request_body = CreateChannel,
    responses(
        (status = 201, body = wire::Channel),
        (status = 403, body = ErrorBody),
        (status = 422, description = "unsupported_channel_kind, invalid_webhook_url...", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create_channel(
    State(state): State<AppState>,
    me: CurrentUser,
    Json(req): Json<CreateChannel>,
) -> ApiResult<(StatusCode, axum::Json<wire::Channel>)> {
    require_settings(&me)?;
    let kind = match ChannelKind::parse(req.kind.trim()) {
        Some(ChannelKind::Api) => ChannelKind::Api,
        _ => {
            return Err(ApiError::unprocessable(
                "unsupported_channel_kind",
                format!("channels of kind {:?} cannot be created through the API yet (use \"api\")", req.kind),
            ));
        }
    };
    let name = required_text(&req.name, "name", 200)?;
    let webhook_url = blank_to_none(req.webhook_url).map(|u| check_webhook_url(&u)).transpose()?;
    let routing_mode = req.routing_mode.as_deref().map(parse_routing).transpose()?.unwrap_or(RoutingMode::Manual);
    let max_message_length = match req.max_message_length {
        Some(v) => positive(v, "invalid_max_message_length", "max_message_length", 1_000_000)?,
        None => kind.default_max_message_length(),
    };
    let auto_close_after_secs = req
        .auto_close_after_secs
        .map(|v| positive(v, "invalid_auto_close_after_secs", "auto_close_after_secs", MAX_SECS))
        .transpose()?;
    let response_time_limit_secs = match req.response_time_limit_secs {
        Some(v) => positive(v, "invalid_response_time_limit_secs", "response_time_limit_secs", MAX_SECS)?,
        None => DEFAULT_RESPONSE_TIME_LIMIT_SECS,
    };
    let channel = state
        .store
        .create_channel(NewChannel {
            workspace_id: me.user.workspace_id,
            kind,
            name,
            secret: random_secret(),
            webhook_url,
            routing_mode,
            max_message_length,
            auto_close_after_secs,
            response_time_limit_secs,
            greeting: blank_to_none(req.greeting),
            settings: "{}".into(),
        })
        .await?;
    Ok((StatusCode::CREATED, axum::Json(wire::Channel::with_secret(&channel))))
}

#[utoipa::path(
    get, path = "/api/v1/channels/{id}", tag = "channels",
    params(("id" = i64, Path, description = "channel id")),
    responses((status = 200, body = wire::Channel), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get_channel(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
) -> ApiResult<axum::Json<wire::Channel>> {
    let ch = visible_channel(&state, &me, id).await?;
    Ok(axum::Json(wire::Channel::public(&ch)))
}

/// Changes a channel's settings (`manage_settings`).
#[utoipa::path(
    patch, path = "/api/v1/channels/{id}", tag = "channels",
    params(("id" = i64, Path, description = "channel id")),
    request_body = UpdateChannel,
    responses(
        (status = 200, body = wire::Channel),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn update_channel(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
    Json(req): Json<UpdateChannel>,
) -> ApiResult<axum::Json<wire::Channel>> {
    visible_channel(&state, &me, id).await?;
    require_settings(&me)?;
    let patch = ChannelPatch {
        name: req.name.as_deref().map(|n| required_text(n, "name", 200)).transpose()?,
        webhook_url: match req.webhook_url {
            Some(u) => Some(blank_to_none(u).map(|u| check_webhook_url(&u)).transpose()?),
            None => None,
        },
        routing_mode: req.routing_mode.as_deref().map(parse_routing).transpose()?,
        max_message_length: req
            .max_message_length
            .map(|v| positive(v, "invalid_max_message_length", "max_message_length", 1_000_000))
            .transpose()?,
        auto_close_after_secs: match req.auto_close_after_secs {
            Some(Some(v)) => {
                Some(Some(positive(v, "invalid_auto_close_after_secs", "auto_close_after_secs", MAX_SECS)?))
            }
            Some(None) => Some(None),
            None => None,
        },
        response_time_limit_secs: req
            .response_time_limit_secs
            .map(|v| positive(v, "invalid_response_time_limit_secs", "response_time_limit_secs", MAX_SECS))
            .transpose()?,
        greeting: req.greeting.map(blank_to_none),
        settings: None,
        active: req.active,
    };
    let written = state.store.update_channel(me.user.workspace_id, id, patch).await?;
    state.publish(written.events).await;
    Ok(axum::Json(wire::Channel::public(&written.value)))
}

/// Deletes a channel (`manage_settings`).
#[utoipa::path(
    delete, path = "/api/v1/channels/{id}", tag = "channels",
    params(("id" = i64, Path, description = "channel id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn delete_channel(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
) -> ApiResult<StatusCode> {
    visible_channel(&state, &me, id).await?;
    require_settings(&me)?;
    state.store.delete_channel(me.user.workspace_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replaces the webhook secret (`manage_settings`); the answer carries the new `secret`.
#[utoipa::path(
    post, path = "/api/v1/channels/{id}/rotate-secret", tag = "channels",
    params(("id" = i64, Path, description = "channel id")),
    responses((status = 200, body = wire::Channel), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn rotate_secret(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
) -> ApiResult<axum::Json<wire::Channel>> {
    visible_channel(&state, &me, id).await?;
    require_settings(&me)?;
    let ch = state.store.set_channel_secret(me.user.workspace_id, id, &random_secret()).await?;
    Ok(axum::Json(wire::Channel::with_secret(&ch)))
}

/// The operators who take this channel's conversations.
#[utoipa::path(
    get, path = "/api/v1/channels/{id}/members", tag = "channels",
    params(("id" = i64, Path, description = "channel id")),
    responses((status = 200, body = Members), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get_members(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
) -> ApiResult<axum::Json<Members>> {
    let ch = visible_channel(&state, &me, id).await?;
    Ok(axum::Json(Members { user_ids: ch.member_ids }))
}

/// Replaces the member list (`manage_settings`).
#[utoipa::path(
    put, path = "/api/v1/channels/{id}/members", tag = "channels",
    params(("id" = i64, Path, description = "channel id")),
    request_body = Members,
    responses(
        (status = 200, body = Members),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn set_members(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
    Json(req): Json<Members>,
) -> ApiResult<axum::Json<Members>> {
    visible_channel(&state, &me, id).await?;
    require_settings(&me)?;
    let mut ids = req.user_ids;
    ids.sort_unstable();
    ids.dedup();
    let written = state.store.set_channel_members(me.user.workspace_id, id, &ids).await?;
    state.publish(written.events).await;
    Ok(axum::Json(Members { user_ids: written.value.member_ids }))
}
