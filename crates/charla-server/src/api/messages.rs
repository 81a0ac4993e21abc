//! A conversation's history and sending messages and notes.

use crate::api::{page_limit, visible_conversation};
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::state::{AppState, now_ms};
use crate::wire;
use axum::extract::State;
use axum::http::StatusCode;
use charla_core::limits::{CANNED_RESPONSE_MAX, check_message_length};
use charla_core::{Author, AuthorType, Id, MessageKind};
use charla_store::{NewOutgoing, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_messages, send_message))
}

/// Longest internal note (notes are never sent, so the channel's limit does not apply).
pub const MAX_NOTE_CHARS: usize = CANNED_RESPONSE_MAX;
pub const MAX_ATTACHMENTS: usize = 20;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    /// Only messages older than this message id (the previous page's `next_before`).
    pub before: Option<Id>,
    /// 1..200, default 50.
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MessagePage {
    /// Newest first.
    pub items: Vec<wire::Message>,
    /// Pass as `before` to get older messages; null when there are none.
    pub next_before: Option<Id>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SendMessage {
    #[serde(default)]
    pub text: String,
    /// `note` for an internal note; absent (or `outbound`): a message to the contact.
    pub kind: Option<String>,
    /// Id of a message of this conversation to quote.
    pub reply_to: Option<Id>,
    /// Idempotency key: sending again with the same key returns the first message.
    pub client_msg_id: Option<String>,
    /// Uploaded attachments (`POST /api/v1/attachments`) to send with it.
    #[serde(default)]
    pub attachment_ids: Vec<Id>,
    /// Send a template of the conversation's channel instead of free text (the only thing
    /// WhatsApp accepts once its 24-hour window is closed). `text` is then ignored: the
    /// message's text is the template's body with the parameters filled in.
    pub template: Option<SendTemplate>,
}

/// Which template, by id or by name and language, with the values of `{{1}}`, `{{2}}`…
#[derive(Debug, Deserialize, ToSchema)]
pub struct SendTemplate {
    pub id: Option<Id>,
    pub name: Option<String>,
    pub language: Option<String>,
    #[serde(default)]
    pub params: Vec<String>,
}

/// History, newest first.
#[utoipa::path(
    get, path = "/api/v1/conversations/{id}/messages", tag = "messages",
    params(("id" = i64, Path, description = "conversation id"), HistoryParams),
    responses((status = 200, body = MessagePage), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list_messages(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
    Query(params): Query<HistoryParams>,
) -> ApiResult<axum::Json<MessagePage>> {
    visible_conversation(&state, &me, id).await?;
    let limit = page_limit(params.limit, 50, 200);
    let list = state.store.list_messages(me.user.workspace_id, id, params.before, limit).await?;
    let next_before = if list.len() as i64 >= limit { list.last().map(|m| m.id) } else { None };
    Ok(axum::Json(MessagePage { items: list.iter().map(wire::Message::from).collect(), next_before }))
}

/// Sends a message to the contact (status `queued`, delivered by the outbox) or writes an
/// internal note. The author is the caller, shown by their display name.
///
/// Over the channel's length limit: 422 `message_too_long` naming the limit; nothing is
/// stored.
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/messages", tag = "messages",
    params(("id" = i64, Path, description = "conversation id")),
    request_body = SendMessage,
    responses(
        (status = 201, body = wire::Message),
        (status = 404, body = ErrorBody),
        (status = 422, description = "message_too_long, empty_message, contact_blocked...", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn send_message(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
    Json(req): Json<SendMessage>,
) -> ApiResult<(StatusCode, axum::Json<wire::Message>)> {
    let conv = visible_conversation(&state, &me, id).await?;
    if !me.viewer.can_write(&conv.access()) {
        return Err(ApiError::not_found());
    }
    let ws = me.user.workspace_id;
    let kind = match req.kind.as_deref().map(str::trim) {
        None | Some("") | Some("outbound") | Some("message") => MessageKind::Outbound,
        Some("note") => MessageKind::Note,
        Some(other) => {
            return Err(ApiError::unprocessable(
                "invalid_kind",
                format!("kind must be \"note\" or absent, not {other:?}"),
            ));
        }
    };
    let mut attachment_ids = req.attachment_ids;
    attachment_ids.sort_unstable();
    attachment_ids.dedup();
    if attachment_ids.len() > MAX_ATTACHMENTS {
        return Err(ApiError::unprocessable(
            "too_many_attachments",
            format!("at most {MAX_ATTACHMENTS} attachments per message"),
        ));
    }
    let mut text = req.text;
    let template = match req.template {
        Some(t) => {
            if kind != MessageKind::Outbound {
                return Err(ApiError::unprocessable("invalid_kind", "a note cannot be sent from a template"));
            }
            if !attachment_ids.is_empty() {
                return Err(ApiError::unprocessable(
                    "invalid_template_message",
                    "a template message cannot carry attachments",
                ));
            }
            let (rendered, reference) = fill_template(&state, ws, conv.channel_id, t).await?;
            text = rendered;
            Some(reference)
        }
        None => None,
    };
    if text.trim().is_empty() && attachment_ids.is_empty() {
        return Err(ApiError::unprocessable("empty_message", "the message has no text and no attachment"));
    }
    let client_msg_id = req.client_msg_id.map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
    if client_msg_id.as_ref().is_some_and(|c| c.len() > 200) {
        return Err(ApiError::unprocessable("invalid_client_msg_id", "client_msg_id is at most 200 bytes"));
    }
    match kind {
        _ if template.is_some() => {}
        MessageKind::Note => {
            let length = text.chars().count();
            if length > MAX_NOTE_CHARS {
                return Err(ApiError::unprocessable(
                    "message_too_long",
                    format!("the note has {length} characters; the limit is {MAX_NOTE_CHARS}"),
                ));
            }
        }
        _ => {
            let channel = state.store.get_channel(ws, conv.channel_id).await?;
            check_message_length(channel.kind, channel.max_message_length, &text).map_err(|e| {
                ApiError::unprocessable(
                    "message_too_long",
                    format!(
                        "the message has {} characters; the limit of this channel is {} characters{}",
                        e.length,
                        e.limit,
                        if channel.kind.length_ignores_spaces() { " (spaces not counted)" } else { "" }
                    ),
                )
            })?;
            if let Some(contact_id) = conv.contact_id {
                let contact = state.store.get_contact(ws, contact_id).await?;
                if contact.blocked {
                    return Err(ApiError::unprocessable(
                        "contact_blocked",
                        "the contact is blocked; unblock it to send messages",
                    ));
                }
            }
        }
    }
    if let Some(reply_to) = req.reply_to {
        let ok = match state.store.get_message(ws, reply_to).await {
            Ok(m) => m.conversation_id == id,
            Err(StoreError::NotFound) => false,
            Err(e) => return Err(e.into()),
        };
        if !ok {
            return Err(ApiError::unprocessable("invalid_reply_to", "reply_to must be a message of this conversation"));
        }
    }
    for aid in &attachment_ids {
        let ok = match state.store.get_attachment(ws, *aid).await {
            Ok(a) => match a.message_id {
                None => true,
                // A retried send: the attachment went with the first message of this key.
                Some(mid) => match (&client_msg_id, state.store.get_message(ws, mid).await) {
                    (Some(key), Ok(m)) => m.conversation_id == id && m.client_msg_id.as_deref() == Some(key),
                    _ => false,
                },
            },
            Err(StoreError::NotFound) => false,
            Err(e) => return Err(e.into()),
        };
        if !ok {
            return Err(ApiError::unprocessable("invalid_attachment", format!("attachment {aid} cannot be sent")));
        }
    }
    let author = Author { kind: AuthorType::User, id: Some(me.user.id), name: me.user.shown_name().to_string() };
    let written = state
        .store
        .send_message(
            ws,
            NewOutgoing {
                conversation_id: id,
                author,
                kind,
                text,
                reply_to: req.reply_to,
                client_msg_id,
                attachment_ids,
                template,
            },
            now_ms(),
        )
        .await?;
    state.publish(written.events).await;
    state.jobs_wake.notify_one();
    Ok((StatusCode::CREATED, axum::Json(wire::Message::from(&written.value))))
}

/// The template's body filled with the parameters, and the reference the outbox sends.
async fn fill_template(
    state: &AppState,
    workspace_id: Id,
    channel_id: Id,
    req: SendTemplate,
) -> ApiResult<(String, charla_core::TemplateRef)> {
    let template = match (req.id, req.name.as_deref().map(str::trim), req.language.as_deref().map(str::trim)) {
        (Some(id), _, _) => match state.store.get_template(workspace_id, id).await {
            Ok(t) if t.channel_id == channel_id => Some(t),
            Ok(_) | Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        (None, Some(name), language) => {
            let list = state.store.list_templates(workspace_id, channel_id).await?;
            let mut matching = list.into_iter().filter(|t| t.name == name && language.is_none_or(|l| t.language == l));
            let first = matching.next();
            if first.is_some() && language.is_none() && matching.next().is_some() {
                return Err(ApiError::unprocessable(
                    "invalid_template",
                    format!("template {name:?} exists in several languages: say which"),
                ));
            }
            first
        }
        (None, None, _) => {
            return Err(ApiError::unprocessable("invalid_template", "template needs an id, or a name and language"));
        }
    };
    let t = template.ok_or_else(|| {
        ApiError::unprocessable("invalid_template", "no such template on this conversation's channel")
    })?;
    if t.status != charla_core::TemplateStatus::Approved {
        return Err(ApiError::unprocessable(
            "template_not_approved",
            format!("template {:?} is {}; only approved templates can be sent", t.name, t.status),
        ));
    }
    let text = charla_core::templates::render(&t.body, &req.params)
        .map_err(|e| ApiError::unprocessable(e.code(), e.to_string()))?;
    Ok((text, charla_core::TemplateRef { name: t.name, language: t.language, params: req.params }))
}
