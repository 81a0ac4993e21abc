//! The visitor API (`/widget/{channel_id}/...`), used by the widget.
//!
//! - `POST visit` `{token?, url?, title?, referrer?}`: the page the visitor is on. Answers the
//!   (new or same) `token`, the widget's options and texts, what the channel rules decide for
//!   this page and country, whether an operator is available, and the conversation's state.
//! - `GET messages?after=|before=`: the visitor's messages (never notes or system lines).
//! - `POST messages` `{text, client_msg_id, attachment_ids?}`: a message; sending it again
//!   with the same `client_msg_id` answers the first one (the widget's offline queue resends).
//! - `POST attachments` (multipart `file`): a file to send, checked for type and size.
//! - `GET files/{id}?v=&sig=`: a file of the visitor's conversation (signed link).
//! - `POST receipts` `{up_to, status: delivered|read}`: what the visitor received and saw.
//! - `POST email` `{email}`: the visitor leaves an e-mail.
//! - `POST end`: the visitor ends the chat. `POST rating` `{rating, comment?}`.
//! - `POST transcript` `{email}`: the conversation by e-mail.

use super::{VisitorAuth, WidgetChannel, settings};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Query};
use crate::files::{self, Upload};
use crate::state::{AppState, now_ms};
use axum::body::{Body, Bytes};
use axum::extract::{Extension, Multipart, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use charla_core::{AuthorType, Channel, Conversation, Id, Message, MessageKind, MessageStatus, Rating, Status};
use charla_store::{ContactInput, InboundMessage, PageView, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Attachments per message.
const MAX_ATTACHMENTS: usize = 5;
/// Content types a visitor may upload (sniffed from the bytes).
const ALLOWED_TYPES: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
    "application/zip",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/msword",
    "application/vnd.ms-excel",
    "audio/mpeg",
    "video/mp4",
];

/// A message as the visitor sees it.
#[derive(Debug, Clone, Serialize)]
pub struct VisitorMessage {
    pub id: Id,
    /// `inbound` (the visitor's) or `outbound` (an operator's).
    pub kind: &'static str,
    pub text: String,
    /// The visitor's own messages: `sent`; an operator's: `sent`, `delivered`, `read`.
    pub status: &'static str,
    /// The operator's name (shown to customers); empty for the visitor's own messages.
    pub author: String,
    pub attachments: Vec<VisitorAttachment>,
    /// The widget's id of the visitor's own message.
    pub client_msg_id: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct VisitorAttachment {
    pub id: Id,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub url: String,
}

pub fn visitor_message(state: &AppState, channel_id: Id, visitor_id: &str, m: &Message) -> Option<VisitorMessage> {
    let kind = match m.kind {
        MessageKind::Inbound => "inbound",
        MessageKind::Outbound => "outbound",
        _ => return None,
    };
    let status = match (m.kind, m.status) {
        (MessageKind::Inbound, _) => "sent",
        (_, MessageStatus::Delivered) => "delivered",
        (_, MessageStatus::Read) => "read",
        _ => "sent",
    };
    let prefix = format!("{visitor_id}:");
    Some(VisitorMessage {
        id: m.id,
        kind,
        text: m.text.clone(),
        status,
        author: if m.kind == MessageKind::Outbound { m.author.name.clone() } else { String::new() },
        attachments: m
            .attachments
            .iter()
            .map(|a| VisitorAttachment {
                id: a.id,
                name: a.name.clone(),
                content_type: a.content_type.clone(),
                size: a.size,
                url: format!(
                    "/widget/{channel_id}/files/{}?v={visitor_id}&sig={}",
                    a.id,
                    super::file_signature(state, channel_id, visitor_id, a.id)
                ),
            })
            .collect(),
        client_msg_id: if m.kind == MessageKind::Inbound {
            m.provider_id.as_deref().and_then(|p| p.strip_prefix(&prefix)).map(str::to_string)
        } else {
            None
        },
        created_at: crate::wire::time(m.created_at),
    })
}

/// The conversation's state as the widget shows it.
pub async fn conversation_state(state: &AppState, conv: Option<&Conversation>) -> Value {
    let Some(conv) = conv else { return Value::Null };
    let operator = match conv.assignee_id {
        Some(id) if conv.status != Status::Closed => {
            state.store.get_user(conv.workspace_id, id).await.ok().map(|u| u.shown_name().to_string())
        }
        _ => None,
    };
    let rated = match conv.attention_id {
        Some(att) if conv.status == Status::Closed => state
            .store
            .list_attentions(conv.workspace_id, conv.id)
            .await
            .ok()
            .and_then(|list| list.into_iter().find(|a| a.id == att))
            .and_then(|a| a.rating.map(|r| r.as_str())),
        _ => None,
    };
    json!({"status": conv.status.as_str(), "operator": operator, "rating": rated})
}

async fn conversation_of(state: &AppState, channel: &Channel, visitor_id: &str) -> ApiResult<Option<Conversation>> {
    Ok(state.store.website_visitor(channel.id, visitor_id).await?.and_then(|d| d.conversation))
}

async fn available(state: &AppState, channel: &Channel) -> bool {
    state.store.channel_availability(channel.id, now_ms()).await.map(|a| a.with_capacity > 0).unwrap_or(false)
}

#[derive(Debug, Default, Deserialize)]
pub struct VisitRequest {
    pub token: Option<String>,
    pub url: Option<String>,
    pub title: Option<String>,
}

/// `POST /widget/{channel_id}/visit`
pub async fn visit(
    State(state): State<AppState>,
    Extension(WidgetChannel(channel)): Extension<WidgetChannel>,
    Extension(super::ClientIp(ip)): Extension<super::ClientIp>,
    Json(req): Json<VisitRequest>,
) -> ApiResult<axum::Json<Value>> {
    let now = now_ms();
    let visitor_id = req
        .token
        .as_deref()
        .and_then(|t| super::verify_token(&state, channel.id, t))
        .unwrap_or_else(super::new_visitor_id);
    if let Err(wait) = state.visitor.per_visitor.take(&visitor_id, now) {
        return Err(ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", format!("retry in {wait} ms")));
    }
    let country = state.visitor.geoip.as_ref().and_then(|g| g.country(ip));
    let url = req.url.unwrap_or_default();
    let page = Some(PageView { url: url.clone(), title: req.title.unwrap_or_default(), viewed_at: now })
        .filter(|p| p.url.starts_with("http://") || p.url.starts_with("https://"));
    let visitor = state.store.record_visit(channel.id, &visitor_id, country.clone(), page, now).await?;
    let opts = settings::options(&channel);
    let decision = super::rules::decide(&opts.rules, &url, visitor.country.as_deref());
    let conv = conversation_of(&state, &channel, &visitor_id).await?;
    Ok(axum::Json(json!({
        "token": super::visitor_token(&state, channel.id, &visitor_id),
        "visitor_id": visitor_id,
        "channel": {
            "id": channel.id,
            "name": channel.name,
            "button_text": opts.button_text,
            "button_color": opts.button_color,
            "header_color": opts.header_color,
            "placeholder": opts.placeholder,
            "welcome_message": channel.greeting.clone().unwrap_or_else(|| settings::DEFAULT_GREETING.to_string()),
            "max_message_length": channel.max_message_length,
        },
        "rule": decision,
        "country": visitor.country,
        "email": visitor.email,
        "available": available(&state, &channel).await,
        "conversation": conversation_state(&state, conv.as_ref()).await,
    })))
}

#[derive(Debug, Deserialize)]
pub struct MessagesQuery {
    pub after: Option<Id>,
    pub before: Option<Id>,
    pub limit: Option<i64>,
}

/// `GET /widget/{channel_id}/messages`
pub async fn messages(
    State(state): State<AppState>,
    v: VisitorAuth,
    Query(q): Query<MessagesQuery>,
) -> ApiResult<axum::Json<Value>> {
    let conv = conversation_of(&state, &v.channel, &v.visitor_id).await?;
    let Some(conv) = conv else {
        return Ok(axum::Json(json!({"items": [], "conversation": null})));
    };
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let list = state.store.contact_messages(conv.id, q.after, q.before, limit).await?;
    let items: Vec<VisitorMessage> =
        list.iter().filter_map(|m| visitor_message(&state, v.channel.id, &v.visitor_id, m)).collect();
    Ok(axum::Json(json!({"items": items, "conversation": conversation_state(&state, Some(&conv)).await})))
}

#[derive(Debug, Deserialize)]
pub struct SendRequest {
    #[serde(default)]
    pub text: String,
    pub client_msg_id: String,
    /// Files uploaded by this visitor, each with the `key` its upload answered (so nobody can
    /// attach a file they did not upload).
    #[serde(default)]
    pub attachments: Vec<SentFile>,
}

#[derive(Debug, Deserialize)]
pub struct SentFile {
    pub id: Id,
    pub key: String,
}

fn upload_key(state: &AppState, channel_id: Id, visitor_id: &str, id: Id) -> String {
    super::file_signature(state, channel_id, &format!("upload:{visitor_id}"), id)
}

/// `POST /widget/{channel_id}/messages`
pub async fn send(
    State(state): State<AppState>,
    v: VisitorAuth,
    Json(req): Json<SendRequest>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let cmid = req.client_msg_id.trim();
    if cmid.is_empty() || cmid.len() > 64 || !cmid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(ApiError::unprocessable("invalid_client_msg_id", "client_msg_id must be 1-64 of A-Z a-z 0-9 - _"));
    }
    if req.text.trim().is_empty() && req.attachments.is_empty() {
        return Err(ApiError::unprocessable("empty_message", "a message needs text or a file"));
    }
    let channel = &v.channel;
    if let Err(too_long) =
        charla_core::limits::check_message_length(channel.kind, channel.max_message_length, &req.text)
    {
        return Err(ApiError::unprocessable(
            "message_too_long",
            format!("the message is too long ({} characters, at most {})", too_long.length, too_long.limit),
        ));
    }
    if req.attachments.len() > MAX_ATTACHMENTS {
        return Err(ApiError::unprocessable("too_many_attachments", format!("at most {MAX_ATTACHMENTS} files")));
    }
    let mut attachment_ids = Vec::with_capacity(req.attachments.len());
    for f in &req.attachments {
        if upload_key(&state, channel.id, &v.visitor_id, f.id) != f.key {
            return Err(ApiError::unprocessable("invalid_attachment", "a file was not uploaded by this visitor"));
        }
        attachment_ids.push(f.id);
    }
    let now = now_ms();
    // The visitor row exists once the widget has said where it is; make sure of it.
    let details = match state.store.website_visitor(channel.id, &v.visitor_id).await? {
        Some(d) => d,
        None => {
            state.store.record_visit(channel.id, &v.visitor_id, None, None, now).await?;
            state.store.website_visitor(channel.id, &v.visitor_id).await?.ok_or_else(ApiError::not_found)?
        }
    };
    let name = format!("Visitor #{}", details.visitor.id);
    let country_note = details.visitor.country.as_deref().map(|c| format!(" ({c})")).unwrap_or_default();
    let msg = InboundMessage {
        channel_id: channel.id,
        provider_message_id: format!("{}:{cmid}", v.visitor_id),
        contact: ContactInput {
            external_id: v.visitor_id.clone(),
            name: Some(name),
            email: details.visitor.email.clone(),
            source: Some(format!("{}{country_note}", channel.name)),
            ..ContactInput::default()
        },
        text: req.text,
        attachment_ids,
        is_group: false,
    };
    let written = state.store.ingest_inbound(msg, now).await?;
    state.publish(written.events).await;
    metrics::counter!("charla_inbound_messages_total", "channel" => "website", "duplicate" => written.value.duplicate.to_string())
        .increment(1);
    let m =
        visitor_message(&state, channel.id, &v.visitor_id, &written.value.message).ok_or_else(ApiError::not_found)?;
    let status = if written.value.duplicate { StatusCode::OK } else { StatusCode::CREATED };
    Ok((
        status,
        axum::Json(json!({
            "message": m,
            "duplicate": written.value.duplicate,
            "available": available(&state, channel).await,
            "conversation": conversation_state(&state, Some(&written.value.conversation)).await,
        })),
    ))
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", format!("the file is larger than {limit} bytes"))
}

/// `POST /widget/{channel_id}/attachments`: one file (multipart field `file`).
pub async fn upload(State(state): State<AppState>, v: VisitorAuth, mut multipart: Multipart) -> ApiResult<Response> {
    let limit = state.config.visitor_max_upload_bytes;
    let bad = |e: axum::extract::multipart::MultipartError| ApiError::bad_request("invalid_multipart", e.to_string());
    while let Some(mut field) = multipart.next_field().await.map_err(bad)? {
        if field.name() != Some("file") {
            continue;
        }
        let name = crate::api::attachments::clean_file_name(field.file_name().unwrap_or("file"));
        let mut up = Upload::create(&state.config.data_dir).await.map_err(ApiError::internal)?;
        while let Some(chunk) = field.chunk().await.map_err(bad)? {
            if up.size() + chunk.len() as u64 > limit as u64 {
                return Err(too_large(limit));
            }
            up.write(&chunk).await.map_err(ApiError::internal)?;
        }
        let content_type = files::sniff_content_type(up.head(), up.size() as usize <= files::SNIFF_BYTES);
        if !ALLOWED_TYPES.contains(&content_type.as_str()) || up.size() == 0 {
            return Err(ApiError::unprocessable(
                "unsupported_file_type",
                "this kind of file cannot be sent here (images, PDF, text and office documents can)",
            ));
        }
        let size = up.size() as i64;
        let key = up.finish().await.map_err(ApiError::internal)?;
        let a = match state
            .store
            .create_attachment(v.channel.workspace_id, &name, &content_type, size, &key, now_ms())
            .await
        {
            Ok(a) => a,
            Err(e) => {
                let _ = files::delete(&state.config.data_dir, &key).await;
                return Err(e.into());
            }
        };
        let key = upload_key(&state, v.channel.id, &v.visitor_id, a.id);
        let body = json!({"id": a.id, "key": key, "name": a.name, "content_type": a.content_type, "size": a.size});
        return Ok((StatusCode::CREATED, axum::Json(body)).into_response());
    }
    Err(ApiError::unprocessable("missing_file", "the multipart field `file` is missing"))
}

#[derive(Debug, Deserialize)]
pub struct FileQuery {
    pub v: String,
    pub sig: String,
}

/// `GET /widget/{channel_id}/files/{attachment_id}?v=&sig=`: only with the link the visitor
/// was given, and only for a file of their own conversation.
pub async fn download(
    State(state): State<AppState>,
    Extension(WidgetChannel(channel)): Extension<WidgetChannel>,
    crate::extract::Path((_, id)): crate::extract::Path<(Id, Id)>,
    Query(q): Query<FileQuery>,
) -> ApiResult<Response> {
    let want = super::file_signature(&state, channel.id, &q.v, id);
    if want.is_empty() || want != q.sig {
        return Err(ApiError::not_found());
    }
    let a = state.store.get_attachment(channel.workspace_id, id).await?;
    let mid = a.message_id.ok_or_else(ApiError::not_found)?;
    let m = state.store.get_message(channel.workspace_id, mid).await?;
    let conv = conversation_of(&state, &channel, &q.v).await?.ok_or_else(ApiError::not_found)?;
    if m.conversation_id != conv.id || !matches!(m.kind, MessageKind::Inbound | MessageKind::Outbound) {
        return Err(ApiError::not_found());
    }
    let bytes = match files::open(&state.config.data_dir, &a.storage_key).await {
        Ok(mut f) => {
            let mut buf = Vec::with_capacity(a.size.max(0) as usize);
            tokio::io::AsyncReadExt::read_to_end(&mut f, &mut buf).await.map_err(ApiError::internal)?;
            buf
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ApiError::not_found()),
        Err(e) => return Err(ApiError::internal(e)),
    };
    let mut resp = Body::from(Bytes::from(bytes)).into_response();
    let h = resp.headers_mut();
    let ct = HeaderValue::from_str(&a.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CONTENT_TYPE, ct);
    let disposition = if a.content_type.starts_with("image/") {
        "inline".to_string()
    } else {
        crate::api::attachments::content_disposition(&a.name)
    };
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=3600"));
    h.insert("cross-origin-resource-policy", HeaderValue::from_static("cross-origin"));
    Ok(resp)
}

#[derive(Debug, Deserialize)]
pub struct ReceiptRequest {
    pub up_to: Id,
    pub status: String,
}

/// `POST /widget/{channel_id}/receipts`
pub async fn receipt(
    State(state): State<AppState>,
    v: VisitorAuth,
    Json(req): Json<ReceiptRequest>,
) -> ApiResult<StatusCode> {
    let status = match req.status.as_str() {
        "delivered" => MessageStatus::Delivered,
        "read" => MessageStatus::Read,
        _ => return Err(ApiError::unprocessable("invalid_status", "status must be delivered or read")),
    };
    let conv = conversation_of(&state, &v.channel, &v.visitor_id).await?.ok_or_else(ApiError::not_found)?;
    let written = state.store.contact_receipt(conv.id, req.up_to, status, now_ms()).await?;
    state.publish(written.events).await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
pub struct EmailRequest {
    pub email: String,
}

/// `POST /widget/{channel_id}/email`: kept on the visitor, on their contact, and said in
/// their conversation.
pub async fn email(
    State(state): State<AppState>,
    v: VisitorAuth,
    Json(req): Json<EmailRequest>,
) -> ApiResult<StatusCode> {
    let now = now_ms();
    if state.store.website_visitor(v.channel.id, &v.visitor_id).await?.is_none() {
        state.store.record_visit(v.channel.id, &v.visitor_id, None, None, now).await?;
    }
    let visitor = state.store.set_visitor_email(v.channel.id, &v.visitor_id, Some(req.email), now).await?;
    let email = visitor.email.clone().unwrap_or_default();
    if let Some(conv) = conversation_of(&state, &v.channel, &v.visitor_id).await? {
        if let Some(contact_id) = conv.contact_id {
            let patch = charla_store::ContactPatch { email: Some(Some(email.clone())), ..Default::default() };
            match state.store.update_contact(conv.workspace_id, contact_id, patch).await {
                Ok(w) => state.publish(w.events).await,
                Err(e) => tracing::warn!("visitor e-mail on contact: {e}"),
            }
        }
        let w = state
            .store
            .add_event_line(conv.workspace_id, conv.id, &format!("The visitor left their e-mail: {email}"), now)
            .await?;
        state.publish(w.events).await;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /widget/{channel_id}/end`: the visitor closes the chat.
pub async fn end(State(state): State<AppState>, v: VisitorAuth) -> ApiResult<axum::Json<Value>> {
    let conv = conversation_of(&state, &v.channel, &v.visitor_id).await?.ok_or_else(ApiError::not_found)?;
    let conv = match state.store.contact_ended(conv.workspace_id, conv.id, "The visitor left the chat", now_ms()).await
    {
        Ok(w) => {
            state.publish(w.events).await;
            w.value
        }
        Err(StoreError::Invalid("already_closed", _)) => conv,
        Err(e) => return Err(e.into()),
    };
    Ok(axum::Json(json!({"conversation": conversation_state(&state, Some(&conv)).await})))
}

#[derive(Debug, Deserialize)]
pub struct RatingRequest {
    pub rating: String,
    pub comment: Option<String>,
}

/// The face a rating is shown with.
pub fn rating_face(r: Rating) -> &'static str {
    match r {
        Rating::Satisfied => "😊",
        Rating::Neutral => "😐",
        Rating::Dissatisfied => "😞",
    }
}

/// `POST /widget/{channel_id}/rating`: rates the conversation's latest attention; the
/// operators see it as a line in the conversation (with the comment).
pub async fn rate(
    State(state): State<AppState>,
    v: VisitorAuth,
    Json(req): Json<RatingRequest>,
) -> ApiResult<StatusCode> {
    let rating = Rating::parse(req.rating.trim()).ok_or_else(|| {
        ApiError::unprocessable("invalid_rating", "rating must be satisfied, neutral or dissatisfied")
    })?;
    let conv = conversation_of(&state, &v.channel, &v.visitor_id).await?.ok_or_else(ApiError::not_found)?;
    let att_id = conv.attention_id.ok_or_else(ApiError::not_found)?;
    let hidden = state
        .store
        .list_attentions(conv.workspace_id, conv.id)
        .await?
        .into_iter()
        .find(|a| a.id == att_id)
        .is_some_and(|a| a.rating_hidden);
    let now = now_ms();
    let att = state.store.rate_attention(conv.workspace_id, att_id, rating, req.comment, hidden, now).await?;
    let mut line = format!("Rating: {} {}", rating_face(rating), rating.as_str());
    if let Some(c) = &att.rating_comment {
        line.push_str(&format!("\nRating reason: {c}"));
    }
    let w = state.store.add_event_line(conv.workspace_id, conv.id, &line, now).await?;
    state.publish(w.events).await;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /widget/{channel_id}/transcript`: the conversation sent to the given address.
pub async fn transcript(
    State(state): State<AppState>,
    v: VisitorAuth,
    Json(req): Json<EmailRequest>,
) -> ApiResult<StatusCode> {
    let Some(mailer) = state.visitor.mailer.as_ref() else {
        return Err(ApiError::unprocessable("mail_not_configured", "this server does not send e-mail"));
    };
    let email = req.email.trim().to_string();
    let to: lettre::message::Mailbox =
        email.parse().map_err(|_| ApiError::unprocessable("invalid_email", "the e-mail address is not valid"))?;
    let conv = conversation_of(&state, &v.channel, &v.visitor_id).await?.ok_or_else(ApiError::not_found)?;
    if let Err(wait) = state.visitor.per_visitor_mail.take(&v.visitor_id, now_ms()) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many transcripts, retry in {} minutes", wait / 60_000 + 1),
        ));
    }
    let messages = state.store.contact_messages(conv.id, Some(0), None, 500).await?;
    let lines: Vec<(String, String, String)> = messages
        .iter()
        .map(|m| {
            let who = match m.author.kind {
                AuthorType::Contact => "You".to_string(),
                _ => m.author.name.clone(),
            };
            let mut text = m.text.clone();
            for a in &m.attachments {
                text.push_str(&format!("\n[file: {}]", a.name));
            }
            (crate::wire::time(m.created_at), who, text)
        })
        .collect();
    mailer.send_transcript(to, &v.channel.name, &lines).await.map_err(|e| {
        tracing::warn!("transcript mail: {e}");
        ApiError::new(StatusCode::BAD_GATEWAY, "mail_failed", "the e-mail could not be sent, try again later")
    })?;
    Ok(StatusCode::NO_CONTENT)
}
