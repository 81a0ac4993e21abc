//! Conversations: the inbox list, one conversation, its attentions, and the actions on it.
//!
//! Every action first checks that the caller may see the conversation (else 404). Reassigning
//! someone else's conversation (not admin) and deleting without `delete_conversations` answer
//! 403: the caller knows the conversation exists.

use crate::api::contacts::query_too_short;
use crate::api::{page_limit, visible_conversation};
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::state::{AppState, now_ms};
use crate::wire;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use charla_core::{AuthorType, Conversation, Id, Status};
use charla_store::{ConversationFilter, Section, Sort, StoreError, TagFilter};
use hmac::{Hmac, Mac};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_conversations))
        .routes(routes!(get_conversation, delete_conversation))
        .routes(routes!(list_attentions))
        .routes(routes!(assign))
        .routes(routes!(close))
        .routes(routes!(reopen))
        .routes(routes!(snooze))
        .routes(routes!(mark_read))
        .routes(routes!(mark_unread))
        .routes(routes!(no_reply_needed))
        .routes(routes!(detach_contact))
        .routes(routes!(bulk_delete))
        .routes(routes!(get_draft, put_draft))
        .routes(routes!(unread_count))
}

// ---------------------------------------------------------------- the list

/// Query parameters of the conversation list (documentation; parsed by hand so that `tag`
/// may repeat).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ConversationListParams {
    /// `mine` | `unassigned` | `all` (default) | `teammates`
    section: Option<String>,
    /// `open` | `snoozed` | `closed`
    status: Option<String>,
    assignee_id: Option<i64>,
    team_id: Option<i64>,
    channel_id: Option<i64>,
    /// Tag ids the contact must all have (repeat the parameter or separate with commas), or
    /// `none` (no tags), or `pinned` (at least one pinned tag).
    tag: Option<String>,
    /// `contact` | `operator` (or `user`) | `bot`
    last_author: Option<String>,
    /// Owned by a bot.
    bot: Option<bool>,
    unanswered: Option<bool>,
    contact_id: Option<i64>,
    /// Last activity at or after this time (RFC 3339).
    from: Option<String>,
    /// Last activity before this time (RFC 3339).
    to: Option<String>,
    /// Search, at least 4 characters: contact name, phone (digits, any formatting), e-mail,
    /// Telegram username, message text.
    q: Option<String>,
    /// Where `q` looks: `all` (default: contact fields and message text) | `contacts` |
    /// `messages`.
    search_in: Option<String>,
    /// `processing` (default: closest to or furthest past the response-time limit first) |
    /// `last_activity`
    sort: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// 1..100, default 50.
    limit: Option<i64>,
}

fn bad_param(name: &str, value: &str) -> ApiError {
    ApiError::bad_request("invalid_query", format!("invalid value {value:?} for parameter {name}"))
}

fn parse_id(name: &str, v: &str) -> ApiResult<Id> {
    v.trim().parse::<Id>().map_err(|_| bad_param(name, v))
}

fn parse_bool(name: &str, v: &str) -> ApiResult<bool> {
    match v.trim() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(bad_param(name, v)),
    }
}

/// The filter of a list request. Unknown parameters are ignored.
pub fn parse_filter(pairs: &[(String, String)]) -> ApiResult<ConversationFilter> {
    let mut f = ConversationFilter { limit: 50, ..Default::default() };
    let mut tag_ids: Vec<Id> = Vec::new();
    let mut tag_special: Option<TagFilter> = None;
    let mut scope = charla_core::search::SearchScope::Everywhere;
    for (k, v) in pairs {
        let v = v.as_str();
        match k.as_str() {
            "section" => {
                f.section = match v {
                    "mine" => Section::Mine,
                    "unassigned" => Section::Unassigned,
                    "all" | "" => Section::All,
                    "teammates" => Section::Teammates,
                    _ => return Err(bad_param(k, v)),
                }
            }
            "status" if !v.is_empty() => f.status = Some(Status::parse(v).ok_or_else(|| bad_param(k, v))?),
            "assignee_id" if !v.is_empty() => f.assignee_id = Some(parse_id(k, v)?),
            "team_id" if !v.is_empty() => f.team_id = Some(parse_id(k, v)?),
            "channel_id" if !v.is_empty() => f.channel_id = Some(parse_id(k, v)?),
            "contact_id" if !v.is_empty() => f.contact_id = Some(parse_id(k, v)?),
            "tag" | "tag[]" | "tags" => {
                for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                    match part {
                        "none" => tag_special = Some(TagFilter::None),
                        "pinned" => tag_special = Some(TagFilter::PinnedOnly),
                        id => tag_ids.push(parse_id(k, id)?),
                    }
                }
            }
            "last_author" if !v.is_empty() => {
                f.last_author = Some(match v {
                    "contact" => AuthorType::Contact,
                    "operator" | "user" => AuthorType::User,
                    "bot" => AuthorType::Bot,
                    "system" => AuthorType::System,
                    _ => return Err(bad_param(k, v)),
                })
            }
            "bot" if !v.is_empty() => f.owned_by_bot = Some(parse_bool(k, v)?),
            "unanswered" if !v.is_empty() => f.unanswered = Some(parse_bool(k, v)?),
            "from" if !v.is_empty() => f.from = Some(wire::parse_time(v).ok_or_else(|| bad_param(k, v))?),
            "to" if !v.is_empty() => f.to = Some(wire::parse_time(v).ok_or_else(|| bad_param(k, v))?),
            "q" if !v.trim().is_empty() => {
                f.search = Some(charla_core::search::parse(v).map_err(|_| query_too_short())?)
            }
            "search_in" => scope = charla_core::search::SearchScope::parse(v.trim()).ok_or_else(|| bad_param(k, v))?,
            "sort" => {
                f.sort = match v {
                    "processing" | "processing_order" | "" => Sort::ProcessingOrder,
                    "last_activity" => Sort::LastActivity,
                    _ => return Err(bad_param(k, v)),
                }
            }
            "cursor" if !v.is_empty() => f.cursor = Some(v.to_string()),
            "limit" if !v.is_empty() => {
                f.limit = page_limit(Some(v.trim().parse::<i64>().map_err(|_| bad_param(k, v))?), 50, 100)
            }
            _ => {}
        }
    }
    f.tag = match (tag_special, tag_ids.is_empty()) {
        (None, true) => TagFilter::Any,
        (None, false) => {
            tag_ids.sort_unstable();
            tag_ids.dedup();
            TagFilter::All(tag_ids)
        }
        (Some(special), true) => special,
        (Some(_), false) => {
            return Err(ApiError::bad_request("invalid_query", "tag: `none` and `pinned` cannot be combined with ids"));
        }
    };
    f.search = f.search.map(|term| term.within(scope));
    Ok(f)
}

/// The inbox: a page of conversations with the pending counters of every section.
#[utoipa::path(
    get, path = "/api/v1/conversations", tag = "conversations",
    params(ConversationListParams),
    responses(
        (status = 200, body = wire::ConversationPage),
        (status = 400, description = "invalid_query", body = ErrorBody),
        (status = 422, description = "query_too_short", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_conversations(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(pairs): Query<Vec<(String, String)>>,
) -> ApiResult<axum::Json<wire::ConversationPage>> {
    let filter = parse_filter(&pairs)?;
    let page = state.store.list_conversations(&me.viewer, filter).await.map_err(|e| match e {
        StoreError::Invalid("invalid_cursor", m) => ApiError::bad_request("invalid_cursor", m),
        e => e.into(),
    })?;
    let mut items = Vec::with_capacity(page.items.len());
    for row in &page.items {
        items.push(state.with_reply_window(me.user.workspace_id, wire::conversation_from_row(row)).await);
    }
    Ok(axum::Json(wire::ConversationPage {
        items,
        counts: wire::Counts::from(&page.counts),
        next_cursor: page.next_cursor,
    }))
}

/// The conversation as the caller's list shows it.
pub(crate) async fn conversation_answer(
    state: &AppState,
    me: &CurrentUser,
    conv: Conversation,
) -> ApiResult<axum::Json<wire::Conversation>> {
    let row = state.store.conversation_row(me.user.id, conv).await?;
    Ok(axum::Json(state.with_reply_window(me.user.workspace_id, wire::conversation_from_row(&row)).await))
}

#[utoipa::path(
    get, path = "/api/v1/conversations/{id}", tag = "conversations",
    params(("id" = i64, Path, description = "conversation id")),
    responses((status = 200, body = wire::Conversation), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get_conversation(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
) -> ApiResult<axum::Json<wire::Conversation>> {
    let conv = visible_conversation(&state, &me, id).await?;
    conversation_answer(&state, &me, conv).await
}

/// The conversation's attentions (spans of work), oldest first.
#[utoipa::path(
    get, path = "/api/v1/conversations/{id}/attentions", tag = "conversations",
    params(("id" = i64, Path, description = "conversation id")),
    responses((status = 200, body = Vec<wire::Attention>), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list_attentions(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
) -> ApiResult<axum::Json<Vec<wire::Attention>>> {
    visible_conversation(&state, &me, id).await?;
    let list = state.store.list_attentions(me.user.workspace_id, id).await?;
    Ok(axum::Json(list.iter().map(wire::Attention::from).collect()))
}

// ---------------------------------------------------------------- actions

/// A JSON body that may be left out entirely (then the type's default).
fn optional_json<T: DeserializeOwned + Default>(body: &Bytes) -> ApiResult<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        if e.is_data() {
            ApiError::unprocessable("invalid_field", e.to_string())
        } else {
            ApiError::bad_request("invalid_json", e.to_string())
        }
    })
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct AssignRequest {
    /// The new assignee; null or absent: nobody.
    pub user_id: Option<Id>,
    /// The new team; null or absent: none.
    pub team_id: Option<Id>,
}

/// Assigns (or unassigns) the conversation. Only an admin or the current assignee may
/// reassign; an unassigned conversation may be taken by anyone who sees it.
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/assign", tag = "conversations",
    params(("id" = i64, Path, description = "conversation id")),
    request_body = AssignRequest,
    responses(
        (status = 200, body = wire::Conversation),
        (status = 403, description = "not the assignee", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn assign(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
    body: Bytes,
) -> ApiResult<axum::Json<wire::Conversation>> {
    let req: AssignRequest = optional_json(&body)?;
    let conv = visible_conversation(&state, &me, id).await?;
    if !me.viewer.can_assign(&conv.access()) {
        return Err(ApiError::forbidden("only an admin or the current assignee may reassign this conversation"));
    }
    let ws = me.user.workspace_id;
    if let Some(uid) = req.user_id {
        match state.store.get_user(ws, uid).await {
            Ok(u) if u.active => {}
            Ok(_) | Err(StoreError::NotFound) => {
                return Err(ApiError::unprocessable("invalid_user", format!("no active user {uid} in this workspace")));
            }
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(tid) = req.team_id {
        match state.store.get_team(ws, tid).await {
            Ok(_) => {}
            Err(StoreError::NotFound) => {
                return Err(ApiError::unprocessable("invalid_team", format!("no team {tid} in this workspace")));
            }
            Err(e) => return Err(e.into()),
        }
    }
    let written = state.store.assign(ws, id, me.user.id, req.user_id, req.team_id, now_ms()).await?;
    state.publish(written.events).await;
    if me.viewer.can_see(&written.value.access()) {
        conversation_answer(&state, &me, written.value).await
    } else {
        // Handed to someone else: the caller no longer sees it; answer the summary only.
        Ok(axum::Json(state.with_reply_window(me.user.workspace_id, wire::conversation_summary(&written.value)).await))
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CloseRequest {
    /// A close reason of the workspace's list (by name). When the workspace has no list, any
    /// short text.
    pub reason: Option<String>,
}

/// Closes the current attention.
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/close", tag = "conversations",
    params(("id" = i64, Path, description = "conversation id")),
    request_body(content = CloseRequest, description = "optional"),
    responses(
        (status = 200, body = wire::Conversation),
        (status = 404, body = ErrorBody),
        (status = 422, description = "invalid_close_reason", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn close(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
    body: Bytes,
) -> ApiResult<axum::Json<wire::Conversation>> {
    let req: CloseRequest = optional_json(&body)?;
    visible_conversation(&state, &me, id).await?;
    let ws = me.user.workspace_id;
    let reason = match req.reason.map(|r| r.trim().to_string()).filter(|r| !r.is_empty()) {
        None => None,
        Some(r) => {
            let list = state.store.list_close_reasons(ws).await?;
            if list.is_empty() {
                if r.chars().count() > 200 {
                    return Err(ApiError::unprocessable("invalid_close_reason", "the close reason is too long"));
                }
                Some(r)
            } else {
                let found = list.iter().find(|c| c.name.eq_ignore_ascii_case(&r) || c.id.to_string() == r);
                Some(found.map(|c| c.name.clone()).ok_or_else(|| {
                    ApiError::unprocessable(
                        "invalid_close_reason",
                        format!("{r:?} is not a close reason of this workspace"),
                    )
                })?)
            }
        }
    };
    let written = state.store.close(ws, id, me.user.id, reason, now_ms()).await?;
    state.publish(written.events).await;
    conversation_answer(&state, &me, written.value).await
}

/// Opens a new attention on a closed conversation, or wakes a snoozed one.
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/reopen", tag = "conversations",
    params(("id" = i64, Path, description = "conversation id")),
    responses((status = 200, body = wire::Conversation), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn reopen(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
) -> ApiResult<axum::Json<wire::Conversation>> {
    visible_conversation(&state, &me, id).await?;
    let written = state.store.reopen(me.user.workspace_id, id, me.user.id, now_ms()).await?;
    state.publish(written.events).await;
    conversation_answer(&state, &me, written.value).await
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct SnoozeRequest {
    /// RFC 3339, in the future.
    pub until: String,
}

/// Snoozes the attention until a time; then it returns to open and its assignee gets a
/// reminder.
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/snooze", tag = "conversations",
    params(("id" = i64, Path, description = "conversation id")),
    request_body = SnoozeRequest,
    responses(
        (status = 200, body = wire::Conversation),
        (status = 404, body = ErrorBody),
        (status = 422, description = "invalid_until", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn snooze(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
    Json(req): Json<SnoozeRequest>,
) -> ApiResult<axum::Json<wire::Conversation>> {
    visible_conversation(&state, &me, id).await?;
    let until = wire::parse_time(&req.until)
        .ok_or_else(|| ApiError::unprocessable("invalid_until", "until must be an RFC 3339 time"))?;
    let now = now_ms();
    if until <= now {
        return Err(ApiError::unprocessable("invalid_until", "until must be in the future"));
    }
    let written = state.store.snooze(me.user.workspace_id, id, me.user.id, until, now).await?;
    state.publish(written.events).await;
    conversation_answer(&state, &me, written.value).await
}

/// Marks everything read for the caller (clears their unread mark).
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/read", tag = "conversations",
    params(("id" = i64, Path, description = "conversation id")),
    responses((status = 200, body = wire::Conversation), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn mark_read(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
) -> ApiResult<axum::Json<wire::Conversation>> {
    let conv = visible_conversation(&state, &me, id).await?;
    let written = state.store.mark_read(me.user.workspace_id, me.user.id, id, now_ms()).await?;
    state.publish(written.events).await;
    conversation_answer(&state, &me, conv).await
}

/// Marks the conversation unread for the caller only.
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/unread", tag = "conversations",
    params(("id" = i64, Path, description = "conversation id")),
    responses((status = 200, body = wire::Conversation), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn mark_unread(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
) -> ApiResult<axum::Json<wire::Conversation>> {
    let conv = visible_conversation(&state, &me, id).await?;
    let written = state.store.mark_unread(me.user.workspace_id, me.user.id, id, now_ms()).await?;
    state.publish(written.events).await;
    conversation_answer(&state, &me, conv).await
}

/// Clears the unanswered mark until the next inbound message.
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/no-reply-needed", tag = "conversations",
    params(("id" = i64, Path, description = "conversation id")),
    responses((status = 200, body = wire::Conversation), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn no_reply_needed(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
) -> ApiResult<axum::Json<wire::Conversation>> {
    visible_conversation(&state, &me, id).await?;
    let written = state.store.no_reply_needed(me.user.workspace_id, id, me.user.id, now_ms()).await?;
    state.publish(written.events).await;
    conversation_answer(&state, &me, written.value).await
}

// ---------------------------------------------------------------- detach contact

/// How long a detach confirmation token stays valid.
pub const CONFIRM_TTL_MS: i64 = 5 * 60 * 1000;

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct DetachRequest {
    /// The token of the first call's answer; absent: ask for confirmation.
    pub confirm_token: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConfirmationRequired {
    pub confirmation_required: bool,
    /// Send back as `confirm_token` to act.
    pub confirm_token: String,
    pub expires_at: String,
}

fn detach_mac(secret: &[u8], conv: Id, user: Id, exp: i64) -> Option<Hmac<Sha256>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).ok()?;
    mac.update(format!("detach:{conv}:{user}:{exp}").as_bytes());
    Some(mac)
}

/// A token binding (conversation, user, expiry): `<exp ms>.<hex HMAC>`.
pub fn detach_token(secret: &[u8], conv: Id, user: Id, exp: i64) -> String {
    let sig = detach_mac(secret, conv, user, exp).map(|m| hex::encode(m.finalize().into_bytes())).unwrap_or_default();
    format!("{exp}.{sig}")
}

/// Whether the token was issued for this conversation and user and has not expired.
pub fn check_detach_token(secret: &[u8], conv: Id, user: Id, token: &str, now: i64) -> bool {
    let Some((exp, sig)) = token.trim().split_once('.') else { return false };
    let Ok(exp) = exp.parse::<i64>() else { return false };
    let Ok(sig) = hex::decode(sig) else { return false };
    exp > now && detach_mac(secret, conv, user, exp).is_some_and(|m| m.verify_slice(&sig).is_ok())
}

/// Unlinks the contact record from the conversation (the identity keeps the history).
///
/// Two steps: without `confirm_token` the answer is `{confirmation_required: true,
/// confirm_token, expires_at}` and nothing changes; calling again with that token (valid 5
/// minutes, for this conversation and user) detaches and answers the conversation.
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/detach-contact", tag = "conversations",
    params(("id" = i64, Path, description = "conversation id")),
    request_body(content = DetachRequest, description = "optional"),
    responses(
        (status = 200, description = "the conversation, or a confirmation request", body = wire::Conversation),
        (status = 404, body = ErrorBody),
        (status = 422, description = "invalid_confirm_token, no_contact", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn detach_contact(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
    body: Bytes,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let req: DetachRequest = optional_json(&body)?;
    let conv = visible_conversation(&state, &me, id).await?;
    if !me.viewer.can_manage_contact(&conv.access()) {
        return Err(ApiError::not_found());
    }
    if conv.contact_id.is_none() {
        return Err(ApiError::unprocessable("no_contact", "the conversation has no contact to detach"));
    }
    let now = now_ms();
    match req.confirm_token.filter(|t| !t.trim().is_empty()) {
        None => {
            let exp = now + CONFIRM_TTL_MS;
            Ok(axum::Json(ConfirmationRequired {
                confirmation_required: true,
                confirm_token: detach_token(&state.secret, id, me.user.id, exp),
                expires_at: wire::time(exp),
            })
            .into_response())
        }
        Some(token) => {
            if !check_detach_token(&state.secret, id, me.user.id, &token, now) {
                return Err(ApiError::unprocessable(
                    "invalid_confirm_token",
                    "the confirmation token is invalid or expired; ask for a new one",
                ));
            }
            let written = state.store.detach_contact(me.user.workspace_id, id, me.user.id, now).await?;
            state.publish(written.events).await;
            Ok(conversation_answer(&state, &me, written.value).await?.into_response())
        }
    }
}

// ---------------------------------------------------------------- delete

async fn delete_many(state: &AppState, me: &CurrentUser, ids: &[Id]) -> ApiResult<()> {
    let written = state.store.delete_conversations(me.user.workspace_id, ids, now_ms()).await?;
    state.publish(written.events).await;
    for key in &written.value {
        if let Err(e) = crate::files::delete(&state.config.data_dir, key).await {
            tracing::warn!("cannot delete file {key}: {e}");
        }
    }
    Ok(())
}

/// Deletes a conversation with its messages and files (admins, or `delete_conversations`).
#[utoipa::path(
    delete, path = "/api/v1/conversations/{id}", tag = "conversations",
    params(("id" = i64, Path, description = "conversation id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn delete_conversation(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
) -> ApiResult<StatusCode> {
    visible_conversation(&state, &me, id).await?;
    if !me.viewer.can_delete_conversations() {
        return Err(ApiError::forbidden("deleting conversations needs the delete_conversations right"));
    }
    delete_many(&state, &me, &[id]).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub const MAX_BULK: usize = 500;

#[derive(Debug, Deserialize, ToSchema)]
pub struct BulkDeleteRequest {
    /// 1 to 500 conversation ids, all visible to the caller.
    pub ids: Vec<Id>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BulkDeleteResponse {
    pub deleted: Vec<Id>,
}

/// Deletes several conversations at once. All or nothing: one id the caller cannot see
/// answers 404 and nothing is deleted.
#[utoipa::path(
    post, path = "/api/v1/conversations/bulk-delete", tag = "conversations",
    request_body = BulkDeleteRequest,
    responses(
        (status = 200, body = BulkDeleteResponse),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn bulk_delete(
    State(state): State<AppState>,
    me: CurrentUser,
    Json(req): Json<BulkDeleteRequest>,
) -> ApiResult<axum::Json<BulkDeleteResponse>> {
    let mut ids = req.ids;
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() || ids.len() > MAX_BULK {
        return Err(ApiError::unprocessable("invalid_ids", format!("ids must hold 1 to {MAX_BULK} ids")));
    }
    for id in &ids {
        visible_conversation(&state, &me, *id).await?;
    }
    if !me.viewer.can_delete_conversations() {
        return Err(ApiError::forbidden("deleting conversations needs the delete_conversations right"));
    }
    delete_many(&state, &me, &ids).await?;
    Ok(axum::Json(BulkDeleteResponse { deleted: ids }))
}

// ---------------------------------------------------------------- drafts and unread

pub const MAX_DRAFT_CHARS: usize = 100_000;

#[derive(Debug, Deserialize, ToSchema)]
pub struct DraftRequest {
    pub text: String,
}

/// The caller's unsent text in this conversation (empty when none).
#[utoipa::path(
    get, path = "/api/v1/conversations/{id}/draft", tag = "conversations",
    params(("id" = i64, Path, description = "conversation id")),
    responses((status = 200, body = wire::Draft), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get_draft(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
) -> ApiResult<axum::Json<wire::Draft>> {
    visible_conversation(&state, &me, id).await?;
    let draft = state.store.get_draft(me.user.workspace_id, me.user.id, id).await?;
    Ok(axum::Json(match draft {
        Some(d) => wire::Draft::from(&d),
        None => wire::Draft { conversation_id: id, text: String::new(), updated_at: None },
    }))
}

/// Saves the caller's unsent text (empty text clears it).
#[utoipa::path(
    put, path = "/api/v1/conversations/{id}/draft", tag = "conversations",
    params(("id" = i64, Path, description = "conversation id")),
    request_body = DraftRequest,
    responses((status = 200, body = wire::Draft), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn put_draft(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
    Json(req): Json<DraftRequest>,
) -> ApiResult<axum::Json<wire::Draft>> {
    visible_conversation(&state, &me, id).await?;
    if req.text.chars().count() > MAX_DRAFT_CHARS {
        return Err(ApiError::unprocessable(
            "draft_too_long",
            format!("a draft holds at most {MAX_DRAFT_CHARS} characters"),
        ));
    }
    let draft = state.store.put_draft(me.user.workspace_id, me.user.id, id, &req.text, now_ms()).await?;
    Ok(axum::Json(wire::Draft::from(&draft)))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UnreadCount {
    /// Conversations with unread messages for the caller.
    pub conversations: i64,
}

/// The header's unread counter.
#[utoipa::path(
    get, path = "/api/v1/unread-count", tag = "conversations",
    responses((status = 200, body = UnreadCount), (status = 401, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn unread_count(State(state): State<AppState>, me: CurrentUser) -> ApiResult<axum::Json<UnreadCount>> {
    let n = state.store.unread_conversations(&me.viewer).await?;
    Ok(axum::Json(UnreadCount { conversations: n }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn filters_parse() {
        let f = parse_filter(&pairs(&[
            ("section", "mine"),
            ("status", "open"),
            ("tag", "3,1"),
            ("tag", "2"),
            ("last_author", "operator"),
            ("bot", "false"),
            ("from", "2024-01-01T00:00:00Z"),
            ("sort", "last_activity"),
            ("limit", "1000"),
        ]))
        .unwrap_or_else(|e| panic!("{}", e.message));
        assert_eq!(f.section, Section::Mine);
        assert_eq!(f.status, Some(Status::Open));
        assert_eq!(f.tag, TagFilter::All(vec![1, 2, 3]));
        assert_eq!(f.last_author, Some(AuthorType::User));
        assert_eq!(f.owned_by_bot, Some(false));
        assert_eq!(f.from, Some(1_704_067_200_000));
        assert_eq!(f.sort, Sort::LastActivity);
        assert_eq!(f.limit, 100);
        assert_eq!(parse_filter(&pairs(&[("tag", "none")])).map(|f| f.tag).ok(), Some(TagFilter::None));
        assert_eq!(parse_filter(&pairs(&[("tag", "pinned")])).map(|f| f.tag).ok(), Some(TagFilter::PinnedOnly));
    }

    #[test]
    fn bad_filters() {
        let code = |l: &[(&str, &str)]| parse_filter(&pairs(l)).err().map(|e| (e.status.as_u16(), e.code));
        assert_eq!(code(&[("q", "abc")]), Some((422, "query_too_short".into())));
        assert_eq!(code(&[("section", "nope")]), Some((400, "invalid_query".into())));
        assert_eq!(code(&[("tag", "none,4")]), Some((400, "invalid_query".into())));
        assert_eq!(code(&[("from", "yesterday")]), Some((400, "invalid_query".into())));
        assert_eq!(code(&[("q", "abcd"), ("unknown", "x")]), None);
        assert_eq!(code(&[("q", "abcd"), ("search_in", "files")]), Some((400, "invalid_query".into())));
    }

    #[test]
    fn search_scope() {
        use charla_core::search::SearchScope;
        let scope = |l: &[(&str, &str)]| parse_filter(&pairs(l)).ok().and_then(|f| f.search).map(|t| t.scope);
        assert_eq!(scope(&[("q", "laura")]), Some(SearchScope::Everywhere));
        assert_eq!(scope(&[("search_in", "contacts"), ("q", "laura")]), Some(SearchScope::Contacts));
        assert_eq!(scope(&[("q", "laura"), ("search_in", "messages")]), Some(SearchScope::Messages));
        assert_eq!(scope(&[("search_in", "messages")]), None, "no term, no search");
    }

    #[test]
    fn detach_tokens() {
        let secret = b"secret";
        let t = detach_token(secret, 5, 7, 1000);
        assert!(check_detach_token(secret, 5, 7, &t, 999));
        assert!(!check_detach_token(secret, 5, 7, &t, 1000), "expired");
        assert!(!check_detach_token(secret, 6, 7, &t, 999), "other conversation");
        assert!(!check_detach_token(secret, 5, 8, &t, 999), "other user");
        assert!(!check_detach_token(b"other", 5, 7, &t, 999));
        assert!(!check_detach_token(secret, 5, 7, "2000.00", 999), "forged expiry");
        assert!(!check_detach_token(secret, 5, 7, "garbage", 0));
    }
}
