//! Messenger channels: WhatsApp Cloud API ([`whatsapp`]), Telegram Bot API ([`telegram`]) and
//! Instagram messaging through the Messenger Platform ([`instagram`]).
//!
//! Each adapter turns the provider's webhooks into [`Parsed`] items (messages, event lines,
//! receipts) that this module stores the same way for all of them, and turns an outbound
//! [`Delivery`] into the provider's send requests. Credentials live in the channel's settings
//! JSON and never leave the server (see `wire::Channel`). Every provider address comes from
//! the channel's `api_base_url` when set, so tests point channels at fake providers.
//!
//! Inbound: media are downloaded from the provider into Charla's storage before the message is
//! stored; a file that cannot be fetched leaves a line in the text saying so, never a silently
//! dropped message. Redelivered webhooks are recognised by the provider's ids before anything
//! is downloaded, and the store deduplicates again in the same transaction that writes.

pub mod instagram;
pub mod telegram;
pub mod whatsapp;

use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, now_ms};
use charla_core::provider_errors::ProviderError;
use charla_core::ratelimit::TokenBucket;
use charla_core::{Channel, ChannelKind, Id, MessageStatus, Millis};
use charla_store::{ContactInput, Delivery, InboundEvent, InboundExtra, InboundMessage, StoreError};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;
use utoipa::ToSchema;

/// Attachments fetched for one inbound message at most.
const MAX_MEDIA_PER_MESSAGE: usize = 10;
/// Provider answers (JSON) larger than this are not read.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;
/// Keys of a channel's settings that hold secrets.
pub const SECRET_KEYS: &[&str] = &["access_token", "app_secret", "verify_token", "bot_token", "secret_token"];

/// A channel's settings as the adapter's config type.
pub fn config_of<T: DeserializeOwned>(channel: &Channel) -> Result<T, String> {
    serde_json::from_str(&channel.settings).map_err(|e| format!("the channel's provider settings are incomplete: {e}"))
}

/// Constant-time equality of two secrets (lengths may leak, contents do not).
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() || a.is_empty() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The channel of a messenger webhook: it must exist, be active and be of this kind.
pub(crate) async fn hook_channel(state: &AppState, channel_id: Id, kind: ChannelKind) -> ApiResult<Channel> {
    match state.store.get_channel_by_id(channel_id).await {
        Ok(c) if c.active && c.kind == kind => Ok(c),
        Ok(_) | Err(StoreError::NotFound) => Err(ApiError::not_found()),
        Err(e) => Err(e.into()),
    }
}

/// Meta's Graph API (WhatsApp Cloud API, Instagram Messaging): default base URL and version.
pub const GRAPH_BASE_URL: &str = "https://graph.facebook.com";
pub const GRAPH_VERSION: &str = "v21.0";

/// `{base}/{version}/{path}` of Meta's Graph API, with a channel's own base URL and version
/// (blank: the defaults).
pub(crate) fn graph_url(base: Option<&str>, version: Option<&str>, path: &str) -> String {
    let base = base.filter(|b| !b.trim().is_empty()).unwrap_or(GRAPH_BASE_URL);
    let version = version.filter(|v| !v.trim().is_empty()).unwrap_or(GRAPH_VERSION);
    format!("{}/{}/{}", base.trim_end_matches('/'), version, path.trim_start_matches('/'))
}

/// `GET /hooks/{whatsapp,instagram}/{channel_id}`: Meta's verification handshake against the
/// channel's verify token (`verify_token` reads it from the channel's settings).
pub(crate) async fn meta_verify(
    state: &AppState,
    channel_id: Id,
    kind: ChannelKind,
    params: &HashMap<String, String>,
    verify_token: impl FnOnce(&Channel) -> Option<String>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match hook_channel(state, channel_id, kind).await {
        Ok(channel) => meta_verification(params, &verify_token(&channel).unwrap_or_default()),
        Err(e) => e.into_response(),
    }
}

/// `GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…` of Meta's webhooks
/// (WhatsApp, Instagram): the challenge as plain text when the token matches, else 403.
pub(crate) fn meta_verification(params: &HashMap<String, String>, verify_token: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mode = params.get("hub.mode").map(String::as_str);
    let token = params.get("hub.verify_token").map(String::as_str).unwrap_or("");
    match (mode, params.get("hub.challenge")) {
        (Some("subscribe"), Some(challenge)) if same_secret(token, verify_token) => {
            (axum::http::StatusCode::OK, [(axum::http::header::CONTENT_TYPE, "text/plain")], challenge.clone())
                .into_response()
        }
        _ => ApiError::new(axum::http::StatusCode::FORBIDDEN, "forbidden", "the verify token does not match")
            .into_response(),
    }
}

/// `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>` (Meta's webhooks).
pub(crate) fn check_hub_signature(app_secret: &str, headers: &axum::http::HeaderMap, raw: &[u8]) -> ApiResult<()> {
    let ok = !app_secret.is_empty()
        && headers
            .get("x-hub-signature-256")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|sig| crate::signature::verify(app_secret, raw, sig));
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(
            axum::http::StatusCode::UNAUTHORIZED,
            "invalid_signature",
            "missing or invalid X-Hub-Signature-256 (HMAC-SHA256 of the raw body with the app secret)",
        ))
    }
}

// ---------------------------------------------------------------- inbound

/// Where a media file of an inbound message is fetched from.
#[derive(Debug, Clone, PartialEq)]
pub enum MediaSource {
    /// WhatsApp media id: `GET /{media-id}` gives a URL, fetched with the bearer token.
    Whatsapp { media_id: String },
    /// Telegram file id: `getFile` gives a path under `/file/bot<token>/`.
    Telegram { file_id: String, size: Option<i64> },
    /// A URL fetched as is (Instagram's CDN links).
    Url { url: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Media {
    pub source: MediaSource,
    /// File name to keep (the provider's when it gives one).
    pub name: String,
    /// What it is, for the line left in the text when it cannot be fetched ("image",
    /// "voice message"…).
    pub label: &'static str,
}

#[derive(Debug, Clone)]
pub struct ParsedMessage {
    pub provider_id: String,
    pub contact: ContactInput,
    pub text: String,
    pub media: Vec<Media>,
    pub is_group: bool,
    pub extra: InboundExtra,
}

#[derive(Debug, Clone)]
pub struct ParsedEvent {
    pub provider_id: String,
    pub contact: ContactInput,
    pub text: String,
    pub about: Option<String>,
    pub is_group: bool,
}

/// What one item of a webhook means.
#[derive(Debug, Clone)]
pub enum Parsed {
    Message(ParsedMessage),
    /// A line in the conversation (reaction, edit, deletion, unsupported type...).
    Event(ParsedEvent),
    /// A receipt for one of our outbound messages.
    Status {
        provider_id: String,
        status: MessageStatus,
        error: Option<String>,
    },
    /// Nothing for the inbox (logged with the reason).
    Ignored(String),
}

/// Stores what a webhook item means and publishes the events. Store errors are returned so
/// the webhook answers 500 and the provider delivers it again.
pub(crate) async fn ingest(state: &AppState, channel: &Channel, item: Parsed) -> ApiResult<()> {
    match item {
        Parsed::Message(m) => ingest_message(state, channel, m).await,
        Parsed::Event(e) => ingest_event(state, channel, e).await,
        Parsed::Status { provider_id, status, error } => {
            let w = state.store.update_status_by_provider_id(channel.id, &provider_id, status, error, now_ms()).await?;
            state.publish(w.events).await;
            Ok(())
        }
        Parsed::Ignored(why) => {
            tracing::info!(channel_id = channel.id, "webhook item ignored: {why}");
            metrics::counter!("charla_webhook_items_ignored_total", "channel" => channel.kind.as_str()).increment(1);
            Ok(())
        }
    }
}

async fn ingest_message(state: &AppState, channel: &Channel, m: ParsedMessage) -> ApiResult<()> {
    // A redelivery: nothing to download again.
    if state.store.find_by_provider_id(channel.id, &m.provider_id).await?.is_some() {
        metrics::counter!("charla_inbound_messages_total", "channel" => channel.kind.as_str(), "duplicate" => "true")
            .increment(1);
        return Ok(());
    }
    let mut attachment_ids = Vec::new();
    let mut notes = Vec::new();
    for media in m.media.iter().take(MAX_MEDIA_PER_MESSAGE) {
        match fetch_media(state, channel, media).await {
            Ok(id) => attachment_ids.push(id),
            Err(why) => {
                tracing::warn!(channel_id = channel.id, "media of {} not downloaded: {why}", m.provider_id);
                notes.push(format!("[{} could not be downloaded: {why}]", media.label));
            }
        }
    }
    let mut text = m.text.trim().to_string();
    for note in notes {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&note);
    }
    let msg = InboundMessage {
        channel_id: channel.id,
        provider_message_id: m.provider_id,
        contact: m.contact,
        text,
        attachment_ids,
        is_group: m.is_group,
    };
    let written = state.store.ingest_inbound_with(msg, m.extra, now_ms()).await?;
    state.publish(written.events).await;
    let duplicate = written.value.duplicate.to_string();
    metrics::counter!("charla_inbound_messages_total", "channel" => channel.kind.as_str(), "duplicate" => duplicate)
        .increment(1);
    Ok(())
}

async fn ingest_event(state: &AppState, channel: &Channel, e: ParsedEvent) -> ApiResult<()> {
    // Stored as a message when it came first (see below): a redelivery adds no line.
    if state.store.find_by_provider_id(channel.id, &e.provider_id).await?.is_some() {
        return Ok(());
    }
    let event = InboundEvent {
        channel_id: channel.id,
        provider_event_id: e.provider_id.clone(),
        external_id: e.contact.external_id.clone(),
        text: e.text.clone(),
        about_provider_id: e.about.clone(),
    };
    let written = state.store.ingest_event(event, now_ms()).await?;
    if written.value.is_some() {
        state.publish(written.events).await;
        return Ok(());
    }
    // No conversation yet: the line starts one, as a message, so nothing is lost.
    let m = ParsedMessage {
        provider_id: e.provider_id,
        contact: e.contact,
        text: e.text,
        media: Vec::new(),
        is_group: e.is_group,
        extra: InboundExtra::default(),
    };
    ingest_message(state, channel, m).await
}

/// Downloads one media file into storage; the attachment's id.
async fn fetch_media(state: &AppState, channel: &Channel, media: &Media) -> Result<Id, String> {
    let request = match &media.source {
        MediaSource::Whatsapp { media_id } => whatsapp::media_request(state, channel, media_id).await?,
        MediaSource::Telegram { file_id, size } => telegram::file_request(state, channel, file_id, *size).await?,
        MediaSource::Url { url } => state.http.get(url),
    };
    download(state, channel.workspace_id, request, &media.name).await
}

/// Streams a provider's file into storage (at most `max_upload_bytes`), sniffs its type and
/// records the attachment.
pub(crate) async fn download(
    state: &AppState,
    workspace_id: Id,
    request: reqwest::RequestBuilder,
    name: &str,
) -> Result<Id, String> {
    let max = state.config.max_upload_bytes;
    let timeout = state.config.media_timeout;
    let mut response = request.timeout(timeout).send().await.map_err(|e| crate::outbox::describe(&e, timeout))?;
    if !response.status().is_success() {
        return Err(format!("the provider answered HTTP {}", response.status().as_u16()));
    }
    if response.content_length().is_some_and(|n| n > max as u64) {
        return Err(format!("larger than the {} MiB limit", max / (1024 * 1024)));
    }
    let mut upload = crate::files::Upload::create(&state.config.data_dir).await.map_err(|e| e.to_string())?;
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if upload.size() as usize + chunk.len() > max {
                    return Err(format!("larger than the {} MiB limit", max / (1024 * 1024)));
                }
                upload.write(&chunk).await.map_err(|e| e.to_string())?;
            }
            Ok(None) => break,
            Err(e) => return Err(crate::outbox::describe(&e, timeout)),
        }
    }
    if upload.size() == 0 {
        return Err("the file is empty".into());
    }
    let content_type = crate::files::sniff_content_type(upload.head(), true);
    let size = upload.size() as i64;
    let key = upload.finish().await.map_err(|e| e.to_string())?;
    let name = crate::hooks::clean_file_name(Some(name));
    match state.store.create_attachment(workspace_id, &name, &content_type, size, &key, now_ms()).await {
        Ok(a) => Ok(a.id),
        Err(e) => {
            let _ = crate::files::delete(&state.config.data_dir, &key).await;
            Err(e.to_string())
        }
    }
}

/// A default file name from what the provider says the file is.
pub(crate) fn file_name(given: Option<&str>, base: &str, mime: Option<&str>) -> String {
    if let Some(n) = given.map(str::trim).filter(|n| !n.is_empty()) {
        return n.to_string();
    }
    let ext = match mime.unwrap_or("").split(';').next().unwrap_or("").trim() {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/webp" => "webp",
        "image/gif" => "gif",
        "video/mp4" => "mp4",
        "video/3gpp" => "3gp",
        "audio/ogg" => "ogg",
        "audio/mpeg" => "mp3",
        "audio/mp4" | "audio/aac" => "m4a",
        "audio/amr" => "amr",
        "application/pdf" => "pdf",
        "application/x-tgsticker" => "tgs",
        _ => "bin",
    };
    format!("{base}.{ext}")
}

/// A location as a line operators can open.
pub(crate) fn location_text(lat: f64, lng: f64, name: Option<&str>, address: Option<&str>) -> String {
    let label: Vec<&str> = [name, address].into_iter().flatten().map(str::trim).filter(|s| !s.is_empty()).collect();
    let head = if label.is_empty() { "📍 Location".to_string() } else { format!("📍 {}", label.join(", ")) };
    format!("{head}\nhttps://www.openstreetmap.org/?mlat={lat}&mlon={lng}#map=17/{lat}/{lng}")
}

// ---------------------------------------------------------------- outbound

#[derive(Debug, Clone, PartialEq)]
pub enum SendError {
    /// The provider refused or failed: its reason and whether a retry can help.
    Provider(ProviderError),
    /// No answer (timeout, connection refused...): retried.
    Transport(String),
    /// The channel cannot send this (missing settings, unsupported content): not retried.
    Refused(String),
    /// A send limit is reached: try again in this many milliseconds (not an attempt).
    Limited(Millis),
}

/// Sends one outbound message through its channel's provider; the provider's ids of what was
/// sent (several when attachments go as separate messages), the first one being the message's.
pub async fn send(state: &AppState, d: &Delivery) -> Result<Vec<String>, SendError> {
    match d.channel.kind {
        ChannelKind::Whatsapp => whatsapp::send(state, d).await,
        ChannelKind::Telegram => telegram::send(state, d).await,
        ChannelKind::Instagram => instagram::send(state, d).await,
        other => Err(SendError::Refused(format!("{other} channels are not messengers"))),
    }
}

/// Reads a provider's JSON answer (bounded); Null when it is not JSON.
pub(crate) async fn read_json(mut response: reqwest::Response) -> Result<Value, String> {
    let mut buf = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                buf.extend_from_slice(&chunk);
                if buf.len() > MAX_ANSWER_BYTES {
                    return Err("the provider's answer is too large".into());
                }
            }
            Ok(None) => break,
            Err(e) => return Err(format!("reading the provider's answer: {e}")),
        }
    }
    Ok(serde_json::from_slice(&buf).unwrap_or(Value::Null))
}

/// A Graph API error answer `{"error": {"code", "error_subcode", "message", "error_data":
/// {"details"}}}` (WhatsApp, Instagram).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct GraphError {
    pub code: Option<i64>,
    pub subcode: Option<i64>,
    pub message: Option<String>,
    pub details: Option<String>,
}

pub(crate) fn graph_error(v: &Value) -> GraphError {
    let e = &v["error"];
    GraphError {
        code: e["code"].as_i64(),
        subcode: e["error_subcode"].as_i64(),
        message: e["message"].as_str().map(str::to_string),
        details: e["error_data"]["details"].as_str().map(str::to_string),
    }
}

/// A request sent and its JSON answer: Ok((status, body)) whatever the status; Err when no
/// answer came.
pub(crate) async fn exchange(state: &AppState, request: reqwest::RequestBuilder) -> Result<(u16, Value), SendError> {
    let timeout = state.config.delivery_timeout;
    let response = request.send().await.map_err(|e| SendError::Transport(crate::outbox::describe(&e, timeout)))?;
    let status = response.status().as_u16();
    let body = read_json(response).await.map_err(SendError::Transport)?;
    Ok((status, body))
}

/// A multipart/form-data body built by hand (the HTTP client is built without multipart).
pub(crate) struct Multipart {
    boundary: String,
    body: Vec<u8>,
}

impl Multipart {
    pub fn new() -> Multipart {
        let bytes: [u8; 12] = rand::random();
        Multipart { boundary: format!("charla-{}", hex::encode(bytes)), body: Vec::new() }
    }
    pub fn text(mut self, name: &str, value: &str) -> Multipart {
        self.body.extend_from_slice(
            format!("--{}\r\nContent-Disposition: form-data; name=\"{}\"\r\n\r\n", self.boundary, quoted(name))
                .as_bytes(),
        );
        self.body.extend_from_slice(value.as_bytes());
        self.body.extend_from_slice(b"\r\n");
        self
    }
    pub fn file(mut self, name: &str, file_name: &str, content_type: &str, bytes: &[u8]) -> Multipart {
        self.body.extend_from_slice(
            format!(
                "--{}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
                self.boundary,
                quoted(name),
                quoted(file_name),
                content_type.replace(['\r', '\n'], "")
            )
            .as_bytes(),
        );
        self.body.extend_from_slice(bytes);
        self.body.extend_from_slice(b"\r\n");
        self
    }
    /// The Content-Type header value and the body.
    pub fn finish(mut self) -> (String, Vec<u8>) {
        self.body.extend_from_slice(format!("--{}--\r\n", self.boundary).as_bytes());
        (format!("multipart/form-data; boundary={}", self.boundary), self.body)
    }
}

/// A header parameter value without quotes or line breaks.
fn quoted(s: &str) -> String {
    s.chars().filter(|c| !matches!(c, '"' | '\r' | '\n' | '\\')).collect()
}

/// The bytes of a stored attachment, for uploading it to a provider.
pub(crate) async fn attachment_bytes(state: &AppState, a: &charla_core::Attachment) -> Result<Vec<u8>, SendError> {
    use tokio::io::AsyncReadExt;
    let mut file = crate::files::open(&state.config.data_dir, &a.storage_key)
        .await
        .map_err(|e| SendError::Refused(format!("attachment {} is missing from storage: {e}", a.name)))?;
    let mut bytes = Vec::with_capacity(usize::try_from(a.size).unwrap_or(0));
    file.read_to_end(&mut bytes).await.map_err(|e| SendError::Transport(format!("reading attachment: {e}")))?;
    Ok(bytes)
}

// ---------------------------------------------------------------- send limits

/// Token buckets per key (a bot, a chat, a phone number), in memory on each node.
#[derive(Default)]
pub struct SendLimits {
    buckets: std::sync::Mutex<HashMap<String, TokenBucket>>,
    /// One sender at a time per chat, first come first served, so a chat's messages keep
    /// their order while they wait for its limit.
    turns: std::sync::Mutex<HashMap<String, std::sync::Arc<tokio::sync::Mutex<()>>>>,
    /// Deliveries are loaded one at a time, in the order they were claimed.
    loads: tokio::sync::Mutex<()>,
}

/// One limit a send must pass: key, burst, rate per second.
#[derive(Debug, Clone)]
pub struct Limit {
    pub key: String,
    pub burst: u32,
    pub per_second: f64,
}

impl SendLimits {
    /// Takes a token from every bucket, or none and says how long to wait.
    pub fn try_acquire(&self, limits: &[Limit], now: Millis) -> Result<(), Millis> {
        let Ok(mut map) = self.buckets.lock() else { return Ok(()) };
        if map.len() > 10_000 {
            // Forget idle buckets (a full bucket is the same as a new one).
            map.retain(|_, b| b.wait_ms(now) > 0);
        }
        let mut wait = 0;
        for l in limits {
            let b = map.entry(l.key.clone()).or_insert_with(|| TokenBucket::new(l.burst, l.per_second));
            wait = wait.max(b.wait_ms(now));
        }
        if wait > 0 {
            return Err(wait);
        }
        for l in limits {
            if let Some(b) = map.get_mut(&l.key) {
                let _ = b.try_take(now);
            }
        }
        Ok(())
    }

    /// Waits to load a delivery (FIFO).
    pub async fn loading(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.loads.lock().await
    }

    /// Waits for this key's turn (FIFO); the turn lasts as long as the guard.
    pub async fn turn(&self, key: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let Ok(mut map) = self.turns.lock() else {
                return std::sync::Arc::new(tokio::sync::Mutex::new(())).lock_owned().await;
            };
            if map.len() > 10_000 {
                map.retain(|_, l| std::sync::Arc::strong_count(l) > 1);
            }
            map.entry(key.to_string()).or_default().clone()
        };
        lock.lock_owned().await
    }

    /// The provider asked to wait: nothing goes through this key before `until`.
    pub fn block(&self, limit: &Limit, until: Millis) {
        if let Ok(mut map) = self.buckets.lock() {
            map.entry(limit.key.clone())
                .or_insert_with(|| TokenBucket::new(limit.burst, limit.per_second))
                .block_until(until);
        }
    }
}

/// Waits for the limits when the wait is short; a longer one puts the message back in the
/// outbox (`SendError::Limited`).
pub(crate) async fn pass_limits(state: &AppState, limits: &[Limit]) -> Result<(), SendError> {
    let max_wait = state.config.max_inline_wait.as_millis() as Millis;
    loop {
        match state.send_limits.try_acquire(limits, now_ms()) {
            Ok(()) => return Ok(()),
            Err(wait) if wait <= max_wait => tokio::time::sleep(Duration::from_millis(wait.max(1) as u64)).await,
            Err(wait) => return Err(SendError::Limited(wait)),
        }
    }
}

// ---------------------------------------------------------------- connection test

/// What a connection test found.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConnectionReport {
    /// True when the provider accepted the credentials.
    pub ok: bool,
    /// A sentence for the operator: what worked, or what to fix.
    pub detail: String,
    /// The account as the provider names it (phone number, bot username, page name).
    pub account: Option<String>,
    /// Telegram: the webhook Telegram now calls (Charla registers it when it knows its public
    /// address).
    pub webhook_url: Option<String>,
}

impl ConnectionReport {
    pub fn failed(detail: impl Into<String>) -> ConnectionReport {
        ConnectionReport { ok: false, detail: detail.into(), account: None, webhook_url: None }
    }
}

/// Asks the provider whether the channel's credentials work; what was learnt about the
/// account (display number, bot username) is kept in the settings.
pub async fn test_connection(
    state: &AppState,
    channel: &Channel,
    public_base_url: Option<&str>,
) -> ApiResult<ConnectionReport> {
    let (report, learnt) = match channel.kind {
        ChannelKind::Whatsapp => whatsapp::test_connection(state, channel).await,
        ChannelKind::Telegram => telegram::test_connection(state, channel, public_base_url).await,
        ChannelKind::Instagram => instagram::test_connection(state, channel).await,
        other => {
            return Err(ApiError::unprocessable(
                "unsupported_channel_kind",
                format!("{other} channels have no provider connection to test"),
            ));
        }
    };
    if !learnt.is_empty() {
        remember_settings(state, channel, learnt).await?;
    }
    Ok(report)
}

/// Merges keys into the channel's settings.
pub(crate) async fn remember_settings(
    state: &AppState,
    channel: &Channel,
    learnt: Vec<(&str, Value)>,
) -> ApiResult<()> {
    let mut settings: serde_json::Map<String, Value> = serde_json::from_str(&channel.settings).unwrap_or_default();
    let mut changed = false;
    for (k, v) in learnt {
        if settings.get(k) != Some(&v) {
            settings.insert(k.to_string(), v);
            changed = true;
        }
    }
    if !changed {
        return Ok(());
    }
    let patch =
        charla_store::ChannelPatch { settings: Some(Value::Object(settings).to_string()), ..Default::default() };
    let written = state.store.update_channel(channel.workspace_id, channel.id, patch).await?;
    state.forget_channel(channel.id);
    state.publish(written.events).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
        assert!(!same_secret("", ""));
    }

    #[test]
    fn names_and_locations() {
        assert_eq!(file_name(Some("factura.pdf"), "document", Some("application/pdf")), "factura.pdf");
        assert_eq!(file_name(None, "voice", Some("audio/ogg; codecs=opus")), "voice.ogg");
        assert_eq!(file_name(Some("  "), "image", Some("image/jpeg")), "image.jpg");
        assert_eq!(file_name(None, "file", None), "file.bin");
        let t = location_text(40.4168, -3.7038, Some("Sol"), None);
        assert!(t.starts_with("📍 Sol\nhttps://www.openstreetmap.org/?mlat=40.4168&mlon=-3.7038"));
    }

    #[test]
    fn multipart_body() {
        let (ct, body) = Multipart::new().text("chat_id", "42").file("photo", "a\"b.png", "image/png", b"PNG").finish();
        let boundary = ct.trim_start_matches("multipart/form-data; boundary=");
        let text = String::from_utf8_lossy(&body);
        assert!(
            text.starts_with(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"chat_id\"\r\n\r\n42\r\n"
            ))
        );
        assert!(text.contains("filename=\"ab.png\"\r\nContent-Type: image/png\r\n\r\nPNG\r\n"));
        assert!(text.ends_with(&format!("--{boundary}--\r\n")));
    }

    #[test]
    fn limits_take_from_every_bucket_or_none() {
        let limits = SendLimits::default();
        let bot = Limit { key: "bot".into(), burst: 30, per_second: 30.0 };
        let chat = Limit { key: "chat".into(), burst: 1, per_second: 1.0 };
        assert_eq!(limits.try_acquire(&[bot.clone(), chat.clone()], 0), Ok(()));
        assert_eq!(limits.try_acquire(&[bot.clone(), chat.clone()], 0), Err(1000));
        let other = Limit { key: "chat2".into(), burst: 1, per_second: 1.0 };
        assert_eq!(limits.try_acquire(&[bot.clone(), other], 0), Ok(()));
        limits.block(&bot, 5000);
        assert_eq!(limits.try_acquire(&[bot, chat], 1000), Err(4000));
    }
}
