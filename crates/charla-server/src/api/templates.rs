//! Message templates of a channel: listed for operators (the composer offers them, and only
//! them, when WhatsApp's 24-hour window is closed), synced from WhatsApp, or written in Charla
//! for the other channels. Sending one is `POST /conversations/{id}/messages` with `template`.
//!
//! Who: anyone who sees the channel lists its templates; sync, create and delete need
//! `manage_settings`.

use crate::api::{require_settings, required_text};
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::state::{AppState, now_ms};
use crate::wire;
use axum::extract::State;
use axum::http::StatusCode;
use charla_core::{Channel, ChannelKind, Id, TemplateStatus};
use charla_store::TemplateInput;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_templates, create_template))
        .routes(routes!(sync_templates))
        .routes(routes!(delete_template))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateTemplate {
    /// Lowercase letters, digits and underscores.
    pub name: String,
    /// Language code, e.g. `es` or `en_US`.
    pub language: String,
    /// `marketing` | `utility` | `authentication`; optional.
    pub category: Option<String>,
    /// The text, with `{{1}}`, `{{2}}`… placeholders; at most 1024 characters.
    pub body: String,
}

/// The channel when the caller may see it (admins, `manage_settings`, members), else 404.
async fn visible_channel(state: &AppState, me: &CurrentUser, id: Id) -> ApiResult<Channel> {
    let ch = state.store.get_channel(me.user.workspace_id, id).await?;
    if me.viewer.can_manage_settings() || me.viewer.is_member_of(ch.id) { Ok(ch) } else { Err(ApiError::not_found()) }
}

/// The channel's templates by name and language, every status (only `approved` ones can be
/// sent).
#[utoipa::path(
    get, path = "/api/v1/channels/{id}/templates", tag = "templates",
    params(("id" = i64, Path, description = "channel id")),
    responses((status = 200, body = Vec<wire::Template>), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list_templates(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
) -> ApiResult<axum::Json<Vec<wire::Template>>> {
    visible_channel(&state, &me, id).await?;
    let list = state.store.list_templates(me.user.workspace_id, id).await?;
    Ok(axum::Json(list.iter().map(wire::Template::from).collect()))
}

/// Writes a template in Charla (`manage_settings`), ready to send (`approved`). WhatsApp
/// templates are made and approved in WhatsApp Manager and synced instead.
#[utoipa::path(
    post, path = "/api/v1/channels/{id}/templates", tag = "templates",
    params(("id" = i64, Path, description = "channel id")),
    request_body = CreateTemplate,
    responses(
        (status = 201, body = wire::Template),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "invalid_template, message_too_long, templates_from_provider", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create_template(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
    Json(req): Json<CreateTemplate>,
) -> ApiResult<(StatusCode, axum::Json<wire::Template>)> {
    let ch = visible_channel(&state, &me, id).await?;
    require_settings(&me)?;
    if ch.kind == ChannelKind::Whatsapp {
        return Err(ApiError::unprocessable(
            "templates_from_provider",
            "WhatsApp templates are created and approved in WhatsApp Manager; sync them with POST /channels/{id}/templates/sync",
        ));
    }
    let name = required_text(&req.name, "name", 512)?;
    if !charla_core::templates::valid_name(&name) {
        return Err(ApiError::unprocessable(
            "invalid_name",
            "a template name has only lowercase letters, digits and underscores",
        ));
    }
    let language = required_text(&req.language, "language", 20)?;
    let body = required_text(&req.body, "body", charla_core::limits::TEMPLATE_MAX)?;
    charla_core::templates::param_count(&body).map_err(|e| ApiError::unprocessable(e.code(), e.to_string()))?;
    let category = req.category.unwrap_or_default().trim().to_ascii_lowercase();
    if !matches!(category.as_str(), "" | "marketing" | "utility" | "authentication") {
        return Err(ApiError::unprocessable(
            "invalid_category",
            "category must be marketing, utility or authentication",
        ));
    }
    let input = TemplateInput {
        name,
        language,
        category,
        body,
        status: TemplateStatus::Approved,
        rejection_reason: None,
        provider_id: None,
    };
    let t = state.store.save_template(me.user.workspace_id, id, input, now_ms()).await?;
    Ok((StatusCode::CREATED, axum::Json(wire::Template::from(&t))))
}

/// Replaces the channel's templates with WhatsApp's list (`manage_settings`): name,
/// language, category, body and review status of each. Needs the business account id (given at
/// creation, or learnt from the first webhook).
#[utoipa::path(
    post, path = "/api/v1/channels/{id}/templates/sync", tag = "templates",
    params(("id" = i64, Path, description = "channel id")),
    responses(
        (status = 200, body = Vec<wire::Template>),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "templates_not_synced (not WhatsApp), provider_error", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn sync_templates(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
) -> ApiResult<axum::Json<Vec<wire::Template>>> {
    let ch = visible_channel(&state, &me, id).await?;
    require_settings(&me)?;
    if ch.kind != ChannelKind::Whatsapp {
        return Err(ApiError::unprocessable(
            "templates_not_synced",
            format!("{} channels have no provider templates; write them with POST /channels/{{id}}/templates", ch.kind),
        ));
    }
    let list = crate::channels::whatsapp::fetch_templates(&state, &ch)
        .await
        .map_err(|reason| ApiError::unprocessable("provider_error", reason))?;
    let synced = state.store.sync_templates(me.user.workspace_id, id, list, now_ms()).await?;
    Ok(axum::Json(synced.iter().map(wire::Template::from).collect()))
}

/// Deletes a template (`manage_settings`). A WhatsApp template comes back with the next sync
/// unless it was deleted in WhatsApp Manager too.
#[utoipa::path(
    delete, path = "/api/v1/templates/{id}", tag = "templates",
    params(("id" = i64, Path, description = "template id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn delete_template(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
) -> ApiResult<StatusCode> {
    let t = state.store.get_template(me.user.workspace_id, id).await?;
    visible_channel(&state, &me, t.channel_id).await?;
    require_settings(&me)?;
    state.store.delete_template(me.user.workspace_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
