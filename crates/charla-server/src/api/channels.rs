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
        .routes(routes!(test_connection))
}

pub const DEFAULT_RESPONSE_TIME_LIMIT_SECS: i64 = 900;

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateChannel {
    /// `api` | `whatsapp` | `telegram` | `instagram`
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
    /// WhatsApp: the Cloud API phone number id (required).
    pub phone_number_id: Option<String>,
    /// WhatsApp: the business account (WABA) id, for template sync; learnt from the first
    /// webhook when absent.
    pub business_account_id: Option<String>,
    /// Instagram: the id of the Facebook page linked to the account (required).
    pub page_id: Option<String>,
    /// WhatsApp (system user token) and Instagram (page token): required; never shown again.
    pub access_token: Option<String>,
    /// WhatsApp and Instagram: the Meta app secret that signs webhooks; required; never shown
    /// again.
    pub app_secret: Option<String>,
    /// WhatsApp and Instagram: the token Meta's verification request must carry; generated
    /// when absent and shown in the creation answer only.
    pub verify_token: Option<String>,
    /// Telegram: the bot token from @BotFather (required); never shown again.
    pub bot_token: Option<String>,
    /// Telegram: the webhook secret (1-256 of `A-Za-z0-9_-`); generated when absent.
    pub secret_token: Option<String>,
    /// Messengers: the provider's API address, when not the public one (tests, proxies).
    pub api_base_url: Option<String>,
    /// Website: the widget's options (`button_text`, `button_color`, `header_color`,
    /// `placeholder`, `allowed_origins`, `rules`, `ratings_page_public`); the welcome message
    /// is `greeting`.
    #[schema(value_type = Option<crate::visitor::settings::WebsitePatch>)]
    pub website: Option<serde_json::Value>,
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
    /// Messengers: replace a credential (for example after the token was revoked). Only the
    /// keys of the channel's kind are accepted.
    pub access_token: Option<String>,
    pub app_secret: Option<String>,
    pub verify_token: Option<String>,
    pub bot_token: Option<String>,
    pub secret_token: Option<String>,
    pub business_account_id: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub api_base_url: Option<Option<String>>,
    /// Website: options to change (absent ones stay).
    #[schema(value_type = Option<crate::visitor::settings::WebsitePatch>)]
    pub website: Option<serde_json::Value>,
}

/// `POST /channels/{id}/test-connection`, optional body.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct TestConnection {
    /// This server's public address (`https://chat.example.com`): Telegram channels register
    /// their webhook there.
    pub webhook_base_url: Option<String>,
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
    headers: axum::http::HeaderMap,
    Json(req): Json<CreateChannel>,
) -> ApiResult<(StatusCode, axum::Json<wire::Channel>)> {
    require_settings(&me)?;
    let kind = match ChannelKind::parse(req.kind.trim()) {
        Some(
            k @ (ChannelKind::Api
            | ChannelKind::Whatsapp
            | ChannelKind::Telegram
            | ChannelKind::Instagram
            | ChannelKind::Website),
        ) => k,
        _ => {
            return Err(ApiError::unprocessable(
                "unsupported_channel_kind",
                format!(
                    "channels of kind {:?} cannot be created through the API (use api, website, whatsapp, telegram or instagram)",
                    req.kind
                ),
            ));
        }
    };
    let settings = match kind {
        ChannelKind::Website => crate::visitor::settings::create(&state, &headers, req.website.as_ref())?,
        _ => provider_settings(kind, &req)?,
    };
    let name = required_text(&req.name, "name", 200)?;
    let webhook_url = blank_to_none(req.webhook_url).map(|u| check_webhook_url(&u)).transpose()?;
    // Website chats go to an available operator unless told otherwise.
    let default_routing = if kind == ChannelKind::Website { RoutingMode::Auto } else { RoutingMode::Manual };
    let routing_mode = req.routing_mode.as_deref().map(parse_routing).transpose()?.unwrap_or(default_routing);
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
            settings,
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
    headers: axum::http::HeaderMap,
    Json(req): Json<UpdateChannel>,
) -> ApiResult<axum::Json<wire::Channel>> {
    let current = visible_channel(&state, &me, id).await?;
    require_settings(&me)?;
    let settings = match (&req.website, current.kind) {
        (Some(w), ChannelKind::Website) => Some(crate::visitor::settings::update(&state, &headers, &current, w)?),
        (Some(_), kind) => {
            return Err(ApiError::unprocessable("invalid_website", format!("{kind} channels have no website options")));
        }
        (None, _) => updated_settings(&current, &req)?,
    };
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
        settings,
        active: req.active,
    };

    let written = state.store.update_channel(me.user.workspace_id, id, patch).await?;
    state.forget_channel(id);
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
    state.forget_channel(id);
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
    state.forget_channel(id);
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

// ---------------------------------------------------------------- messenger settings

fn required(v: &Option<String>, field: &str, kind: ChannelKind) -> ApiResult<String> {
    match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) if s.len() <= 4096 && !s.chars().any(char::is_control) => Ok(s.to_string()),
        Some(_) => Err(ApiError::unprocessable(&format!("invalid_{field}"), format!("{field} is not valid"))),
        None => Err(ApiError::unprocessable(
            &format!("invalid_{field}"),
            format!("{field} is required for {kind} channels"),
        )),
    }
}

/// An id that goes into the provider's URL paths: letters, digits, `_` and `-` only.
fn path_id(v: &Option<String>, field: &str, kind: ChannelKind) -> ApiResult<String> {
    let s = required(v, field, kind)?;
    if s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        Ok(s)
    } else {
        Err(ApiError::unprocessable(&format!("invalid_{field}"), format!("{field} must be the provider's numeric id")))
    }
}

fn optional_path_id(v: &Option<String>, field: &str, kind: ChannelKind) -> ApiResult<Option<String>> {
    match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(_) => path_id(v, field, kind).map(Some),
        None => Ok(None),
    }
}

fn api_base_url(v: Option<&str>) -> ApiResult<Option<String>> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        Some(u) => check_webhook_url(u)
            .map(|u| Some(u.trim_end_matches('/').to_string()))
            .map_err(|_| ApiError::unprocessable("invalid_api_base_url", "api_base_url must be an http(s) URL")),
        None => Ok(None),
    }
}

fn telegram_secret(v: &Option<String>) -> ApiResult<String> {
    match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) if crate::channels::telegram::valid_secret_token(s) => Ok(s.to_string()),
        Some(_) => Err(ApiError::unprocessable(
            "invalid_secret_token",
            "secret_token must be 1-256 characters of A-Z, a-z, 0-9, _ and -",
        )),
        None => Ok(random_secret()),
    }
}

fn bot_token(v: &Option<String>) -> ApiResult<String> {
    let t = required(v, "bot_token", ChannelKind::Telegram)?;
    let ok = t.len() <= 200 && t.contains(':') && t.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-:".contains(&b));
    if ok {
        Ok(t)
    } else {
        Err(ApiError::unprocessable("invalid_bot_token", "bot_token must look like 123456:ABC-DEF..."))
    }
}

fn to_json<T: Serialize>(v: &T) -> ApiResult<String> {
    serde_json::to_string(v).map_err(ApiError::internal)
}

/// The settings JSON of a new channel: the provider's credentials for messengers.
fn provider_settings(kind: ChannelKind, req: &CreateChannel) -> ApiResult<String> {
    use crate::channels::{instagram::InstagramConfig, telegram::TelegramConfig, whatsapp::WhatsappConfig};
    let verify = |v: &Option<String>| {
        blank_to_none(v.clone()).map_or_else(|| Ok(random_secret()), |t| required(&Some(t), "verify_token", kind))
    };
    match kind {
        ChannelKind::Whatsapp => to_json(&WhatsappConfig {
            phone_number_id: path_id(&req.phone_number_id, "phone_number_id", kind)?,
            access_token: required(&req.access_token, "access_token", kind)?,
            app_secret: required(&req.app_secret, "app_secret", kind)?,
            verify_token: verify(&req.verify_token)?,
            api_base_url: api_base_url(req.api_base_url.as_deref())?,
            api_version: None,
            business_account_id: optional_path_id(&req.business_account_id, "business_account_id", kind)?,
        }),
        ChannelKind::Telegram => to_json(&TelegramConfig {
            bot_token: bot_token(&req.bot_token)?,
            secret_token: telegram_secret(&req.secret_token)?,
            api_base_url: api_base_url(req.api_base_url.as_deref())?,
            bot_username: None,
        }),
        ChannelKind::Instagram => to_json(&InstagramConfig {
            page_id: path_id(&req.page_id, "page_id", kind)?,
            access_token: required(&req.access_token, "access_token", kind)?,
            app_secret: required(&req.app_secret, "app_secret", kind)?,
            verify_token: verify(&req.verify_token)?,
            api_base_url: api_base_url(req.api_base_url.as_deref())?,
            api_version: None,
        }),
        _ => Ok("{}".into()),
    }
}

/// New settings JSON when the update replaces credentials; None when it does not touch them.
fn updated_settings(channel: &Channel, req: &UpdateChannel) -> ApiResult<Option<String>> {
    let kind = channel.kind;
    let mut changes: Vec<(&str, serde_json::Value)> = Vec::new();
    let allowed: &[&str] = match kind {
        ChannelKind::Whatsapp => &["access_token", "app_secret", "verify_token", "business_account_id", "api_base_url"],
        ChannelKind::Instagram => &["access_token", "app_secret", "verify_token", "api_base_url"],
        ChannelKind::Telegram => &["bot_token", "secret_token", "api_base_url"],
        _ => &[],
    };
    let mut put = |key: &'static str, value: serde_json::Value| -> ApiResult<()> {
        if !allowed.contains(&key) {
            return Err(ApiError::unprocessable(&format!("invalid_{key}"), format!("{kind} channels have no {key}")));
        }
        changes.push((key, value));
        Ok(())
    };
    if req.access_token.is_some() {
        put("access_token", required(&req.access_token, "access_token", kind)?.into())?;
    }
    if req.app_secret.is_some() {
        put("app_secret", required(&req.app_secret, "app_secret", kind)?.into())?;
    }
    if req.verify_token.is_some() {
        put("verify_token", required(&req.verify_token, "verify_token", kind)?.into())?;
    }
    if req.bot_token.is_some() {
        put("bot_token", bot_token(&req.bot_token)?.into())?;
    }
    if req.secret_token.is_some() {
        put("secret_token", telegram_secret(&req.secret_token)?.into())?;
    }
    if req.business_account_id.is_some() {
        put("business_account_id", path_id(&req.business_account_id, "business_account_id", kind)?.into())?;
    }
    if let Some(url) = &req.api_base_url {
        let v = api_base_url(url.as_deref())?.map_or(serde_json::Value::Null, serde_json::Value::from);
        put("api_base_url", v)?;
    }
    if changes.is_empty() {
        return Ok(None);
    }
    let mut settings: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&channel.settings).unwrap_or_default();
    for (k, v) in changes {
        if v.is_null() {
            settings.remove(k);
        } else {
            settings.insert(k.to_string(), v);
        }
    }
    Ok(Some(serde_json::Value::Object(settings).to_string()))
}

/// Asks the channel's provider whether its credentials work (`manage_settings`): WhatsApp
/// reads the phone number, Telegram the bot (and registers the webhook at `webhook_base_url`
/// when given), Instagram the page. The answer is 200 either way; `ok` says whether it worked
/// and `detail` what to fix.
#[utoipa::path(
    post, path = "/api/v1/channels/{id}/test-connection", tag = "channels",
    params(("id" = i64, Path, description = "channel id")),
    request_body(content = TestConnection, description = "optional"),
    responses(
        (status = 200, body = crate::channels::ConnectionReport),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "unsupported_channel_kind (not a messenger)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn test_connection(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
    body: axum::body::Bytes,
) -> ApiResult<axum::Json<crate::channels::ConnectionReport>> {
    let ch = visible_channel(&state, &me, id).await?;
    require_settings(&me)?;
    let req: TestConnection = if body.iter().all(u8::is_ascii_whitespace) {
        TestConnection::default()
    } else {
        crate::hooks::parse_json(&body)?
    };
    let base = match blank_to_none(req.webhook_base_url) {
        Some(u) => Some(check_webhook_url(&u).map_err(|_| {
            ApiError::unprocessable("invalid_webhook_base_url", "webhook_base_url must be an http(s) URL")
        })?),
        None => None,
    };
    let report = crate::channels::test_connection(&state, &ch, base.as_deref()).await?;
    Ok(axum::Json(report))
}
