//! What operators do with website channels (documented under `/api/v1`):
//! - `GET /livechat/channels`: every website channel of the workspace, whether the caller is
//!   in it, and how many of its operators are online (any operator: joining is open to all);
//! - `POST /livechat/channels/{id}/join` and `/leave`: take (or stop taking) its chats;
//! - `GET /conversations/{id}/visitor`: the visitor behind a website conversation, with the
//!   last pages they viewed;
//! - `POST /conversations/{id}/visitor/history`: those pages as an internal note (the
//!   composer's `/history` command);
//! - `POST /conversations/{id}/rating-visibility`: keep a rating off the public ratings page
//!   (`manage_settings`).

use crate::api::visible_conversation;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::state::{AppState, now_ms};
use crate::wire;
use axum::extract::State;
use axum::http::StatusCode;
use charla_core::{Author, AuthorType, Channel, ChannelKind, Id, MessageKind};
use charla_store::{NewOutgoing, VisitorDetails};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_livechat_channels))
        .routes(routes!(join))
        .routes(routes!(leave))
        .routes(routes!(conversation_visitor))
        .routes(routes!(history_note))
        .routes(routes!(rating_visibility))
}

/// A website channel as the live chat page lists it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LivechatChannel {
    pub id: Id,
    pub name: String,
    /// Whether the caller takes this channel's chats.
    pub joined: bool,
    pub operators: usize,
    /// Operators online with room for one more chat.
    pub available: i64,
    pub online: i64,
}

async fn livechat_channel(state: &AppState, me: &CurrentUser, c: &Channel) -> LivechatChannel {
    let a = state.store.channel_availability(c.id, now_ms()).await.unwrap_or_default();
    LivechatChannel {
        id: c.id,
        name: c.name.clone(),
        joined: c.member_ids.contains(&me.user.id),
        operators: c.member_ids.len(),
        available: a.with_capacity,
        online: a.online,
    }
}

/// The website channels of the workspace, for joining and leaving.
#[utoipa::path(
    get, path = "/api/v1/livechat/channels", tag = "livechat",
    responses((status = 200, body = Vec<LivechatChannel>), (status = 401, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list_livechat_channels(
    State(state): State<AppState>,
    me: CurrentUser,
) -> ApiResult<axum::Json<Vec<LivechatChannel>>> {
    let mut out = Vec::new();
    for c in state.store.list_channels(me.user.workspace_id).await? {
        if c.kind == ChannelKind::Website {
            out.push(livechat_channel(&state, &me, &c).await);
        }
    }
    Ok(axum::Json(out))
}

async fn website_channel(state: &AppState, me: &CurrentUser, id: Id) -> ApiResult<Channel> {
    let c = state.store.get_channel(me.user.workspace_id, id).await?;
    if c.kind == ChannelKind::Website && c.active { Ok(c) } else { Err(ApiError::not_found()) }
}

async fn set_joined(state: &AppState, me: &CurrentUser, id: Id, join: bool) -> ApiResult<axum::Json<LivechatChannel>> {
    website_channel(state, me, id).await?;
    let w = state.store.join_channel(me.user.workspace_id, id, me.user.id, join, now_ms()).await?;
    state.publish(w.events).await;
    Ok(axum::Json(livechat_channel(state, me, &w.value).await))
}

/// The caller starts taking this website channel's chats.
#[utoipa::path(
    post, path = "/api/v1/livechat/channels/{id}/join", tag = "livechat",
    params(("id" = i64, Path, description = "website channel id")),
    responses((status = 200, body = LivechatChannel), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn join(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
) -> ApiResult<axum::Json<LivechatChannel>> {
    set_joined(&state, &me, id, true).await
}

/// The caller stops taking this website channel's chats.
#[utoipa::path(
    post, path = "/api/v1/livechat/channels/{id}/leave", tag = "livechat",
    params(("id" = i64, Path, description = "website channel id")),
    responses((status = 200, body = LivechatChannel), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn leave(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
) -> ApiResult<axum::Json<LivechatChannel>> {
    set_joined(&state, &me, id, false).await
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PageView {
    pub url: String,
    pub title: String,
    pub viewed_at: String,
}

/// The visitor of a website conversation.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Visitor {
    /// The visitor's id on the channel (the identity's external id).
    pub visitor_id: String,
    /// ISO 3166-1 alpha-2, from GeoIP.
    pub country: Option<String>,
    pub email: Option<String>,
    pub first_seen_at: String,
    pub last_seen_at: String,
    /// The last pages viewed, newest first (15 at most).
    pub page_views: Vec<PageView>,
}

fn visitor_wire(d: &VisitorDetails) -> Visitor {
    Visitor {
        visitor_id: d.visitor.external_id.clone(),
        country: d.visitor.country.clone(),
        email: d.visitor.email.clone(),
        first_seen_at: wire::time(d.visitor.created_at),
        last_seen_at: wire::time(d.visitor.last_seen_at),
        page_views: d
            .page_views
            .iter()
            .map(|p| PageView { url: p.url.clone(), title: p.title.clone(), viewed_at: wire::time(p.viewed_at) })
            .collect(),
    }
}

async fn visitor_of(state: &AppState, me: &CurrentUser, id: Id) -> ApiResult<VisitorDetails> {
    visible_conversation(state, me, id).await?;
    state.store.conversation_visitor(me.user.workspace_id, id).await?.ok_or_else(ApiError::not_found)
}

/// The website visitor of a conversation (404 for other channels' conversations).
#[utoipa::path(
    get, path = "/api/v1/conversations/{id}/visitor", tag = "livechat",
    params(("id" = i64, Path, description = "conversation id")),
    responses((status = 200, body = Visitor), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn conversation_visitor(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
) -> ApiResult<axum::Json<Visitor>> {
    Ok(axum::Json(visitor_wire(&visitor_of(&state, &me, id).await?)))
}

/// The text of the `/history` note.
pub fn history_text(d: &VisitorDetails) -> String {
    if d.page_views.is_empty() {
        return "Visitor's history: no page viewed yet.".into();
    }
    let mut s = String::from("Visitor's history (newest first):");
    for p in &d.page_views {
        let at = wire::time(p.viewed_at);
        let when = at.get(11..16).unwrap_or(&at);
        if p.title.is_empty() {
            s.push_str(&format!("\n{when} {}", p.url));
        } else {
            s.push_str(&format!("\n{when} {} — {}", p.title, p.url));
        }
    }
    s
}

/// Posts the visitor's last pages as an internal note (the `/history` command).
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/visitor/history", tag = "livechat",
    params(("id" = i64, Path, description = "conversation id")),
    responses((status = 201, body = wire::Message), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn history_note(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
) -> ApiResult<(StatusCode, axum::Json<wire::Message>)> {
    let d = visitor_of(&state, &me, id).await?;
    let note = NewOutgoing {
        conversation_id: id,
        author: Author { kind: AuthorType::User, id: Some(me.user.id), name: me.user.shown_name().to_string() },
        kind: MessageKind::Note,
        text: history_text(&d),
        reply_to: None,
        client_msg_id: None,
        attachment_ids: Vec::new(),
        template: None,
    };
    let w = state.store.send_message(me.user.workspace_id, note, now_ms()).await?;
    state.publish(w.events).await;
    Ok((StatusCode::CREATED, axum::Json(wire::Message::from(&w.value))))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RatingVisibility {
    pub attention_id: Id,
    /// True: kept off the public ratings page.
    pub hidden: bool,
}

/// Hides a rating of this conversation from the channel's public ratings page, or shows it
/// again (`manage_settings`).
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/rating-visibility", tag = "livechat",
    params(("id" = i64, Path, description = "conversation id")),
    request_body = RatingVisibility,
    responses(
        (status = 200, body = wire::Attention),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn rating_visibility(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
    Json(req): Json<RatingVisibility>,
) -> ApiResult<axum::Json<wire::Attention>> {
    let conv = visible_conversation(&state, &me, id).await?;
    crate::api::require_settings(&me)?;
    let att = state
        .store
        .list_attentions(conv.workspace_id, conv.id)
        .await?
        .into_iter()
        .find(|a| a.id == req.attention_id)
        .ok_or_else(ApiError::not_found)?;
    let att = state.store.set_rating_hidden(conv.workspace_id, att.id, req.hidden).await?;
    Ok(axum::Json(wire::Attention::from(&att)))
}
