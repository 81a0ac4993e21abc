//! Inbound webhooks of the channels (`/hooks/...`).
//!
//! API channel (DESIGN §4): an integrator POSTs its contacts' messages to
//! `/hooks/api/{channel_id}` and delivery receipts for Charla's outbound messages to
//! `/hooks/api/{channel_id}/status`, both signed with the channel secret:
//! `X-Charla-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>`.
//!
//! Inbound body: `{"message_id": "...", "contact": {"external_id": "...", "name"?, "phone"?,
//! "email"?, "username"?}, "text": "...", "attachments"?: [{"name", "data_base64"}]}`.
//! `message_id` and `external_id` may be strings or numbers. Attachments come inline as base64
//! (each at most `max_upload_bytes` once decoded; the content type is sniffed from the bytes,
//! a `content_type` given is ignored); attachments by URL are not fetched. The answer is
//! `{"message_id": <charla id>, "conversation_id": n, "duplicate": bool}`: a second delivery
//! of the same `message_id` creates nothing and answers the first message.
//!
//! Order of checks: unknown, inactive or non-API channel → 404; body over the limit → 413;
//! missing or wrong signature → 401 `invalid_signature`; malformed JSON → 400 `invalid_json`;
//! missing or mistyped fields → 422; text over the channel's limit → 422 `message_too_long`.

use crate::error::{ApiError, ApiResult};
use crate::extract::Path;
use crate::signature;
use crate::state::{AppState, now_ms};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use charla_core::{Channel, ChannelKind, Id, MessageStatus};
use charla_store::{ContactInput, InboundMessage, StoreError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

/// Attachments accepted in one inbound message.
pub const MAX_ATTACHMENTS: usize = 10;
/// Longest attachment name kept.
const MAX_NAME_CHARS: usize = 255;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/hooks/api/{channel_id}", post(api_inbound))
        .route("/hooks/api/{channel_id}/status", post(api_status))
        .route(
            "/hooks/whatsapp/{channel_id}",
            get(crate::channels::whatsapp::verify).post(crate::channels::whatsapp::receive),
        )
        .route("/hooks/telegram/{channel_id}", post(crate::channels::telegram::receive))
        .route(
            "/hooks/instagram/{channel_id}",
            get(crate::channels::instagram::verify).post(crate::channels::instagram::receive),
        )
}

/// A string, or a number taken as its decimal text (integrators' ids come both ways).
fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!("expected a string or a number, got {other}"))),
    }
}

#[derive(Debug, Deserialize)]
struct InboundRequest {
    #[serde(deserialize_with = "string_or_number")]
    message_id: String,
    contact: InboundContact,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    attachments: Vec<InboundAttachment>,
}

#[derive(Debug, Deserialize)]
struct InboundContact {
    #[serde(deserialize_with = "string_or_number")]
    external_id: String,
    name: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    username: Option<String>,
}

#[derive(Debug, Deserialize)]
struct InboundAttachment {
    name: Option<String>,
    data_base64: String,
}

#[derive(Debug, Deserialize)]
struct StatusRequest {
    #[serde(deserialize_with = "string_or_number")]
    message_id: String,
    status: String,
    error: Option<String>,
}

/// `POST /hooks/api/{channel_id}`: a message from a contact.
async fn api_inbound(
    State(state): State<AppState>,
    Path(channel_id): Path<Id>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Value>> {
    let channel = api_channel(&state, channel_id).await?;
    let raw = read_body(&headers, body, inbound_body_limit(&state)).await?;
    check_signature(&channel, &headers, &raw)?;
    let req: InboundRequest = parse_json(&raw)?;

    let message_id = req.message_id.trim().to_string();
    if message_id.is_empty() {
        return Err(ApiError::unprocessable("invalid_field", "message_id must not be empty"));
    }
    let external_id = req.contact.external_id.trim().to_string();
    if external_id.is_empty() {
        return Err(ApiError::unprocessable("invalid_field", "contact.external_id must not be empty"));
    }
    let text = req.text.unwrap_or_default();
    if text.trim().is_empty() && req.attachments.is_empty() {
        return Err(ApiError::unprocessable("empty_message", "a message needs text or attachments"));
    }
    if let Err(too_long) = charla_core::limits::check_message_length(channel.kind, channel.max_message_length, &text) {
        let counted = if channel.kind.length_ignores_spaces() { " (spaces not counted)" } else { "" };
        return Err(ApiError::unprocessable(
            "message_too_long",
            format!(
                "the message has {} characters; the limit of this channel is {}{counted}",
                too_long.length, too_long.limit
            ),
        ));
    }
    if req.attachments.len() > MAX_ATTACHMENTS {
        return Err(ApiError::unprocessable(
            "too_many_attachments",
            format!("at most {MAX_ATTACHMENTS} attachments per message"),
        ));
    }
    let mut attachment_ids = Vec::with_capacity(req.attachments.len());
    for a in &req.attachments {
        attachment_ids.push(store_attachment(&state, &channel, a).await?);
    }

    let msg = InboundMessage {
        channel_id: channel.id,
        provider_message_id: message_id,
        contact: ContactInput {
            external_id,
            name: clean_opt(req.contact.name),
            phone: clean_opt(req.contact.phone),
            email: clean_opt(req.contact.email),
            username: clean_opt(req.contact.username),
            source: Some(channel.name.clone()),
        },
        text,
        attachment_ids,
        is_group: false,
    };
    let written = state.store.ingest_inbound(msg, now_ms()).await?;
    state.publish(written.events).await;
    let ingested = written.value;
    metrics::counter!("charla_inbound_messages_total", "channel" => "api", "duplicate" => ingested.duplicate.to_string())
        .increment(1);
    Ok(Json(json!({
        "message_id": ingested.message.id,
        "conversation_id": ingested.conversation.id,
        "duplicate": ingested.duplicate,
    })))
}

/// `POST /hooks/api/{channel_id}/status`: a delivery receipt for an outbound message.
async fn api_status(
    State(state): State<AppState>,
    Path(channel_id): Path<Id>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Value>> {
    let channel = api_channel(&state, channel_id).await?;
    let raw = read_body(&headers, body, state.config.max_body_bytes).await?;
    check_signature(&channel, &headers, &raw)?;
    let req: StatusRequest = parse_json(&raw)?;
    let status = match req.status.as_str() {
        "delivered" => MessageStatus::Delivered,
        "read" => MessageStatus::Read,
        "failed" => MessageStatus::Failed,
        "sent" => MessageStatus::Sent,
        other => {
            return Err(ApiError::unprocessable(
                "invalid_status",
                format!("unknown status {other:?}: expected delivered, read or failed"),
            ));
        }
    };
    // Charla's ids are integers; anything else names no message of ours.
    let message_id: Id = req.message_id.trim().parse().map_err(|_| ApiError::not_found())?;
    let error = clean_opt(req.error);
    let written = state.store.update_message_status(channel.id, message_id, status, error, now_ms()).await?;
    state.publish(written.events).await;
    let m = written.value;
    Ok(Json(json!({"message_id": m.id, "status": m.status.as_str(), "error": m.error})))
}

/// The channel of a hook: it must exist, be active and be an API channel; otherwise 404.
async fn api_channel(state: &AppState, channel_id: Id) -> ApiResult<Channel> {
    match state.hook_channel(channel_id).await {
        Ok(c) if c.active && c.kind == ChannelKind::Api => Ok(c),
        Ok(_) | Err(StoreError::NotFound) => Err(ApiError::not_found()),
        Err(e) => Err(e.into()),
    }
}

/// Inline base64 attachments make inbound bodies larger than other requests.
fn inbound_body_limit(state: &AppState) -> usize {
    let c = &state.config;
    c.max_body_bytes.saturating_add(c.max_upload_bytes.saturating_mul(4) / 3 + 4)
}

fn too_large() -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "request body is too large")
}

pub(crate) async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> ApiResult<Bytes> {
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    // Past the limit, or the client went away mid-body: either way nothing is stored.
    axum::body::to_bytes(body, limit).await.map_err(|_| too_large())
}

fn check_signature(channel: &Channel, headers: &HeaderMap, raw: &[u8]) -> ApiResult<()> {
    let ok = headers
        .get(signature::HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|sig| signature::verify(&channel.secret, raw, sig));
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_signature",
            "missing or invalid X-Charla-Signature (expected sha256=<hex HMAC-SHA256 of the raw body with the channel secret>)",
        ))
    }
}

/// Malformed JSON is a 400; well-formed JSON with missing or mistyped fields a 422.
pub(crate) fn parse_json<T: DeserializeOwned>(raw: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(raw).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => ApiError::unprocessable("invalid_field", e.to_string()),
        _ => ApiError::bad_request("invalid_json", e.to_string()),
    })
}

pub(crate) fn clean_opt(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// A file name as given, without any path and control characters.
pub(crate) fn clean_file_name(name: Option<&str>) -> String {
    let name = name.unwrap_or("");
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(MAX_NAME_CHARS).collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." { "attachment".to_string() } else { cleaned.to_string() }
}

fn decode_base64(data: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let data: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD].iter().find_map(|e| e.decode(data.as_bytes()).ok())
}

/// Decodes, checks the size, writes the file and records the attachment; returns its id.
async fn store_attachment(state: &AppState, channel: &Channel, a: &InboundAttachment) -> ApiResult<Id> {
    let max = state.config.max_upload_bytes;
    if a.data_base64.len() / 4 * 3 > max.saturating_add(3) {
        return Err(file_too_large(max));
    }
    let bytes = decode_base64(&a.data_base64)
        .ok_or_else(|| ApiError::unprocessable("invalid_field", "attachments[].data_base64 is not valid base64"))?;
    if bytes.len() > max {
        return Err(file_too_large(max));
    }
    let mut upload = crate::files::Upload::create(&state.config.data_dir).await.map_err(ApiError::internal)?;
    upload.write(&bytes).await.map_err(ApiError::internal)?;
    let content_type = crate::files::sniff_content_type(upload.head(), true);
    let key = upload.finish().await.map_err(ApiError::internal)?;
    let name = clean_file_name(a.name.as_deref());
    let size = bytes.len() as i64;
    match state.store.create_attachment(channel.workspace_id, &name, &content_type, size, &key, now_ms()).await {
        Ok(att) => Ok(att.id),
        Err(e) => {
            let _ = crate::files::delete(&state.config.data_dir, &key).await;
            Err(e.into())
        }
    }
}

fn file_too_large(max: usize) -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "file_too_large", format!("an attachment is larger than {max} bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_paths() {
        assert_eq!(clean_file_name(Some("../../etc/passwd")), "passwd");
        assert_eq!(clean_file_name(Some("C:\\x\\photo.jpg")), "photo.jpg");
        assert_eq!(clean_file_name(Some("..")), "attachment");
        assert_eq!(clean_file_name(None), "attachment");
        assert_eq!(clean_file_name(Some("a\u{0}b.txt")), "ab.txt");
    }

    #[test]
    fn base64_variants() {
        assert_eq!(decode_base64("aGVsbG8="), Some(b"hello".to_vec()));
        assert_eq!(decode_base64("aGVsbG8"), Some(b"hello".to_vec()));
        assert_eq!(decode_base64("aGVs\nbG8="), Some(b"hello".to_vec()));
        assert_eq!(decode_base64("%%%"), None);
    }

    #[test]
    fn json_errors_are_classified() {
        let bad: ApiResult<StatusRequest> = parse_json(b"{nope");
        assert_eq!(bad.err().map(|e| e.status), Some(StatusCode::BAD_REQUEST));
        let missing: ApiResult<StatusRequest> = parse_json(br#"{"message_id": 1}"#);
        assert_eq!(missing.err().map(|e| e.status), Some(StatusCode::UNPROCESSABLE_ENTITY));
        let ok: ApiResult<StatusRequest> = parse_json(br#"{"message_id": 12, "status": "read"}"#);
        assert_eq!(ok.ok().map(|r| r.message_id), Some("12".to_string()));
    }
}
