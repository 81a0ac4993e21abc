//! Telegram Bot API.
//!
//! Settings: `bot_token`, `secret_token` (1–256 of `A-Za-z0-9_-`, given to `setWebhook`),
//! optional `api_base_url` (default `https://api.telegram.org`); `bot_username` and `bot_id`
//! are learnt by the connection test, which also registers the webhook when Charla's public
//! address is known.
//!
//! Webhook at `/hooks/telegram/{channel_id}` with `X-Telegram-Bot-Api-Secret-Token`. A private
//! chat is a conversation with the user (identity = chat id = user id); a group, supergroup or
//! channel is one group conversation (`is_group`), each message authored by its sender. Message
//! ids are unique per chat only, so provider ids are `<chat id>:<message id>`; updates that are
//! not messages (edits, reactions, the bot blocked) are event lines keyed by `u<update_id>`.
//! Files: `getFile` → `GET /file/bot<token>/<file_path>` (bots may download up to 20 MB).
//!
//! Sending: `sendMessage` (with `reply_parameters` to quote), `sendPhoto` / `sendDocument` /
//! `sendVoice` / `sendAudio` / `sendVideo` as multipart uploads. Limits: about 30 messages a
//! second per bot, one a second per chat, 20 a minute per group; a 429 blocks the bot for its
//! `retry_after`.

use super::{
    Limit, Media, MediaSource, Parsed, ParsedEvent, ParsedMessage, SendError, config_of, exchange, file_name,
    hook_channel, ingest, location_text,
};
use crate::error::{ApiError, ApiResult};
use crate::extract::Path;
use crate::state::{AppState, now_ms};
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use charla_core::phone::normalize_e164;
use charla_core::provider_errors::{Retry, telegram as telegram_error};
use charla_core::{Channel, ChannelKind, Id};
use charla_store::{ContactInput, Delivery, IdentityProfile, InboundExtra};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub const DEFAULT_BASE_URL: &str = "https://api.telegram.org";
/// Largest file the Bot API lets bots download.
const DOWNLOAD_MAX: i64 = 20 * 1024 * 1024;
/// Longest caption Telegram accepts.
const CAPTION_MAX: usize = 1024;
/// The updates Charla asks Telegram for.
pub const ALLOWED_UPDATES: &[&str] =
    &["message", "edited_message", "channel_post", "edited_channel_post", "my_chat_member", "message_reaction"];

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TelegramConfig {
    pub bot_token: String,
    pub secret_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_base_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot_username: Option<String>,
}

impl TelegramConfig {
    fn base(&self) -> &str {
        self.api_base_url.as_deref().filter(|b| !b.trim().is_empty()).unwrap_or(DEFAULT_BASE_URL).trim_end_matches('/')
    }
    pub fn method_url(&self, method: &str) -> String {
        format!("{}/bot{}/{method}", self.base(), self.bot_token)
    }
    pub fn file_url(&self, path: &str) -> String {
        format!("{}/file/bot{}/{}", self.base(), self.bot_token, path.trim_start_matches('/'))
    }
}

/// Whether a secret token is one `setWebhook` accepts.
pub fn valid_secret_token(s: &str) -> bool {
    (1..=256).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn config(channel: &Channel) -> Result<TelegramConfig, String> {
    config_of(channel)
}

// ---------------------------------------------------------------- webhook

/// `POST /hooks/telegram/{channel_id}`: one update.
pub async fn receive(
    State(state): State<AppState>,
    Path(channel_id): Path<Id>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Value>> {
    let channel = hook_channel(&state, channel_id, ChannelKind::Telegram).await?;
    let raw = crate::hooks::read_body(&headers, body, state.config.max_body_bytes.saturating_mul(4)).await?;
    let cfg = config(&channel).unwrap_or_default();
    let given = headers.get("x-telegram-bot-api-secret-token").and_then(|v| v.to_str().ok()).unwrap_or("");
    if !super::same_secret(given, &cfg.secret_token) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_signature",
            "missing or wrong X-Telegram-Bot-Api-Secret-Token",
        ));
    }
    let update: Value = crate::hooks::parse_json(&raw)?;
    let mut first_error = None;
    for item in parse_update(&update, &channel.name) {
        if let Err(e) = ingest(&state, &channel, item).await {
            first_error.get_or_insert(e);
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(Json(json!({"ok": true}))),
    }
}

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v[key].as_str().map(str::trim).filter(|x| !x.is_empty())
}

/// "First Last", else "@username", else the id.
fn person_name(u: &Value) -> String {
    let parts: Vec<&str> = [s(u, "first_name"), s(u, "last_name")].into_iter().flatten().collect();
    if !parts.is_empty() {
        return parts.join(" ");
    }
    if let Some(username) = s(u, "username") {
        return format!("@{username}");
    }
    u["id"].as_i64().map(|i| i.to_string()).unwrap_or_else(|| "someone".into())
}

fn is_group_chat(chat: &Value) -> bool {
    matches!(s(chat, "type"), Some("group" | "supergroup" | "channel"))
}

/// Who a message is from, and the conversation's identity: the user in a private chat, the
/// chat itself in a group.
struct Sender {
    chat_id: String,
    is_group: bool,
    /// The person (or, for channel posts, the chat) who wrote.
    name: String,
    contact: ContactInput,
    profile: IdentityProfile,
}

fn sender(m: &Value, source: &str) -> Option<Sender> {
    let chat = &m["chat"];
    let chat_id = chat["id"].as_i64()?.to_string();
    let is_group = is_group_chat(chat);
    let from = &m["from"];
    let name = if from.is_object() {
        person_name(from)
    } else {
        s(&m["sender_chat"], "title").or(s(chat, "title")).unwrap_or("channel").to_string()
    };
    let (contact, profile) = if is_group {
        let title = s(chat, "title").unwrap_or("Telegram group").to_string();
        (
            ContactInput {
                external_id: chat_id.clone(),
                name: Some(title),
                username: s(chat, "username").map(str::to_string),
                source: Some(source.to_string()),
                ..ContactInput::default()
            },
            IdentityProfile { username: s(chat, "username").map(str::to_string), ..IdentityProfile::default() },
        )
    } else {
        (
            ContactInput {
                external_id: chat_id.clone(),
                name: Some(name.clone()),
                username: s(from, "username").map(str::to_string),
                source: Some(source.to_string()),
                ..ContactInput::default()
            },
            IdentityProfile {
                username: s(from, "username").map(str::to_string),
                first_name: s(from, "first_name").map(str::to_string),
                last_name: s(from, "last_name").map(str::to_string),
                phone: None,
            },
        )
    };
    Some(Sender { chat_id, is_group, name, contact, profile })
}

/// What one update means.
pub fn parse_update(update: &Value, source: &str) -> Vec<Parsed> {
    let Some(update_id) = update["update_id"].as_i64() else {
        return vec![Parsed::Ignored("a Telegram update without update_id".into())];
    };
    let event_id = format!("u{update_id}");
    for key in ["message", "channel_post"] {
        if update[key].is_object() {
            return vec![parse_message(&update[key], source)];
        }
    }
    for key in ["edited_message", "edited_channel_post"] {
        let m = &update[key];
        if m.is_object() {
            let Some(from) = sender(m, source) else { return vec![Parsed::Ignored("an edit without chat".into())] };
            let text = s(m, "text").or(s(m, "caption")).unwrap_or("");
            let about = m["message_id"].as_i64().map(|id| format!("{}:{id}", from.chat_id));
            let text = if text.is_empty() {
                format!("✏️ {} edited a message", from.name)
            } else {
                format!("✏️ {} edited a message: «{text}»", from.name)
            };
            return vec![event(event_id, &from, text, about)];
        }
    }
    let r = &update["message_reaction"];
    if r.is_object() {
        let m = json!({"chat": r["chat"], "from": r["user"], "sender_chat": r["actor_chat"]});
        let Some(from) = sender(&m, source) else { return vec![Parsed::Ignored("a reaction without chat".into())] };
        let emojis: Vec<&str> =
            r["new_reaction"].as_array().into_iter().flatten().filter_map(|x| s(x, "emoji")).collect();
        let text = if emojis.is_empty() {
            format!("{} removed a reaction", from.name)
        } else {
            format!("{} reacted {}", from.name, emojis.join(""))
        };
        let about = r["message_id"].as_i64().map(|id| format!("{}:{id}", from.chat_id));
        return vec![event(event_id, &from, text, about)];
    }
    let c = &update["my_chat_member"];
    if c.is_object() {
        let m = json!({"chat": c["chat"], "from": c["from"]});
        let Some(from) = sender(&m, source) else {
            return vec![Parsed::Ignored("a member update without chat".into())];
        };
        let status = s(&c["new_chat_member"], "status").unwrap_or("");
        let text = match (from.is_group, status) {
            (false, "kicked") => format!("{} blocked the bot", from.name),
            (false, "member") => format!("{} started the bot", from.name),
            (true, "left" | "kicked") => "The bot was removed from the group".to_string(),
            (true, "member" | "administrator") => "The bot was added to the group".to_string(),
            (_, other) => format!("The bot's membership changed ({other})"),
        };
        return vec![event(event_id, &from, text, None)];
    }
    if update["callback_query"].is_object() {
        return vec![Parsed::Ignored("button presses are not used".into())];
    }
    let keys: Vec<&str> = update.as_object().into_iter().flatten().map(|(k, _)| k.as_str()).collect();
    vec![Parsed::Ignored(format!("Telegram update of a kind Charla does not use: {keys:?}"))]
}

fn event(provider_id: String, from: &Sender, text: String, about: Option<String>) -> Parsed {
    Parsed::Event(ParsedEvent { provider_id, contact: from.contact.clone(), text, about, is_group: from.is_group })
}

fn media(v: &Value, name: String, label: &'static str) -> Option<Media> {
    Some(Media {
        source: MediaSource::Telegram { file_id: s(v, "file_id")?.to_string(), size: v["file_size"].as_i64() },
        name,
        label,
    })
}

fn parse_message(m: &Value, source: &str) -> Parsed {
    let (Some(from), Some(message_id)) = (sender(m, source), m["message_id"].as_i64()) else {
        return Parsed::Ignored("a Telegram message without chat or id".into());
    };
    let provider_id = format!("{}:{message_id}", from.chat_id);
    let line = |text: String| event(provider_id.clone(), &from, text, None);
    // Service messages of groups.
    if let Some(members) = m["new_chat_members"].as_array() {
        let names: Vec<String> = members.iter().map(person_name).collect();
        return line(format!("{} joined the group", names.join(", ")));
    }
    if m["left_chat_member"].is_object() {
        return line(format!("{} left the group", person_name(&m["left_chat_member"])));
    }
    if let Some(title) = s(m, "new_chat_title") {
        return line(format!("{} renamed the group to «{title}»", from.name));
    }
    if let Some(to) = m["migrate_to_chat_id"].as_i64() {
        return line(format!("The group became a supergroup (chat {to}); its messages continue in a new conversation"));
    }
    if m["pinned_message"].is_object() {
        return line(format!("{} pinned a message", from.name));
    }
    if m["group_chat_created"].as_bool() == Some(true) || m["supergroup_chat_created"].as_bool() == Some(true) {
        return line(format!("{} created the group", from.name));
    }

    let mut text = s(m, "text").or(s(m, "caption")).unwrap_or("").to_string();
    let mut files = Vec::new();
    if let Some(sizes) = m["photo"].as_array() {
        // The largest size is last.
        if let Some(f) = sizes.last().and_then(|p| media(p, "photo.jpg".into(), "photo")) {
            files.push(f);
        }
    } else if m["animation"].is_object() {
        let a = &m["animation"];
        files.extend(media(a, file_name(s(a, "file_name"), "animation", s(a, "mime_type")), "animation"));
    } else if m["document"].is_object() {
        let d = &m["document"];
        files.extend(media(d, file_name(s(d, "file_name"), "document", s(d, "mime_type")), "document"));
    } else if m["voice"].is_object() {
        let v = &m["voice"];
        files.extend(media(v, file_name(None, "voice", s(v, "mime_type").or(Some("audio/ogg"))), "voice message"));
    } else if m["audio"].is_object() {
        let a = &m["audio"];
        files.extend(media(a, file_name(s(a, "file_name"), "audio", s(a, "mime_type")), "audio"));
    } else if m["video"].is_object() {
        let v = &m["video"];
        files.extend(media(v, file_name(s(v, "file_name"), "video", s(v, "mime_type")), "video"));
    } else if m["video_note"].is_object() {
        files.extend(media(&m["video_note"], "video_note.mp4".into(), "video message"));
    } else if m["sticker"].is_object() {
        let st = &m["sticker"];
        let name = if st["is_animated"].as_bool() == Some(true) {
            "sticker.tgs"
        } else if st["is_video"].as_bool() == Some(true) {
            "sticker.webm"
        } else {
            "sticker.webp"
        };
        files.extend(media(st, name.into(), "sticker"));
        if text.is_empty() {
            text = s(st, "emoji").unwrap_or("").to_string();
        }
    } else if m["venue"].is_object() {
        let v = &m["venue"];
        if let (Some(lat), Some(lng)) = (v["location"]["latitude"].as_f64(), v["location"]["longitude"].as_f64()) {
            text = location_text(lat, lng, s(v, "title"), s(v, "address"));
        }
    } else if m["location"].is_object() {
        let l = &m["location"];
        if let (Some(lat), Some(lng)) = (l["latitude"].as_f64(), l["longitude"].as_f64()) {
            text = location_text(lat, lng, None, None);
        }
    } else if m["contact"].is_object() {
        let c = &m["contact"];
        let phone = s(c, "phone_number").map(|p| normalize_e164(p).unwrap_or_else(|| p.to_string()));
        text = format!("👤 {}", person_name(c));
        if let Some(p) = phone {
            text.push_str(&format!("\n📞 {p}"));
        }
    } else if m["poll"].is_object() {
        let p = &m["poll"];
        let options: Vec<String> = p["options"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|o| s(o, "text"))
            .map(|o| format!("• {o}"))
            .collect();
        text = format!("📊 {}\n{}", s(p, "question").unwrap_or("Poll"), options.join("\n"));
    } else if m["dice"].is_object() {
        text = format!("{} {}", s(&m["dice"], "emoji").unwrap_or("🎲"), m["dice"]["value"]);
    }
    if text.is_empty() && files.is_empty() {
        let keys: Vec<&str> = m
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k.as_str())
            .filter(|k| !matches!(*k, "message_id" | "from" | "chat" | "date" | "sender_chat" | "message_thread_id"))
            .collect();
        return line(format!("{} sent a message Charla does not support ({})", from.name, keys.join(", ")));
    }
    if m["forward_origin"].is_object() || m["forward_date"].is_i64() {
        text = format!("↪ Forwarded\n{text}");
    }
    let reply_to = m["reply_to_message"]["message_id"].as_i64().map(|id| format!("{}:{id}", from.chat_id));
    Parsed::Message(ParsedMessage {
        provider_id,
        contact: from.contact.clone(),
        text,
        media: files,
        is_group: from.is_group,
        extra: InboundExtra {
            author_name: from.is_group.then(|| from.name.clone()),
            reply_to_provider_id: reply_to,
            profile: Some(from.profile.clone()),
        },
    })
}

/// The request that downloads a file: `getFile`, then `/file/bot<token>/<path>`.
pub(crate) async fn file_request(
    state: &AppState,
    channel: &Channel,
    file_id: &str,
    size: Option<i64>,
) -> Result<reqwest::RequestBuilder, String> {
    if size.is_some_and(|n| n > DOWNLOAD_MAX) {
        return Err("larger than the 20 MB Telegram lets bots download".into());
    }
    let cfg = config(channel)?;
    let request = state.http.post(cfg.method_url("getFile")).json(&json!({"file_id": file_id}));
    let (status, body) = exchange(state, request).await.map_err(|e| match e {
        SendError::Transport(t) => t,
        other => format!("{other:?}"),
    })?;
    if body["ok"].as_bool() != Some(true) {
        return Err(error_of(status, &body).reason);
    }
    if body["result"]["file_size"].as_i64().is_some_and(|n| n > DOWNLOAD_MAX) {
        return Err("larger than the 20 MB Telegram lets bots download".into());
    }
    let path = s(&body["result"], "file_path").ok_or("Telegram gave no file path")?;
    Ok(state.http.get(cfg.file_url(path)))
}

// ---------------------------------------------------------------- sending

fn error_of(status: u16, body: &Value) -> charla_core::provider_errors::ProviderError {
    match body["error_code"].as_i64() {
        Some(code) => {
            telegram_error(code, s(body, "description").unwrap_or(""), body["parameters"]["retry_after"].as_i64())
        }
        None => charla_core::provider_errors::from_http_status("Telegram", status),
    }
}

/// The Bot API method and file field for an attachment of this content type.
fn upload_method(content_type: &str) -> (&'static str, &'static str) {
    match content_type {
        "image/jpeg" | "image/png" => ("sendPhoto", "photo"),
        "audio/ogg" => ("sendVoice", "voice"),
        "audio/mpeg" | "audio/mp4" | "audio/x-m4a" => ("sendAudio", "audio"),
        "video/mp4" => ("sendVideo", "video"),
        _ => ("sendDocument", "document"),
    }
}

/// One request of an outbound message.
enum Part<'a> {
    Text(String),
    File { attachment: &'a charla_core::Attachment, caption: Option<String> },
}

fn parts(d: &Delivery) -> Vec<Part<'_>> {
    let text = d.message.text.trim().to_string();
    if d.template.is_some() || d.message.attachments.is_empty() {
        return vec![Part::Text(text)];
    }
    let caption_fits = text.chars().count() <= CAPTION_MAX;
    let mut out = Vec::new();
    if !text.is_empty() && !caption_fits {
        out.push(Part::Text(text.clone()));
    }
    for (i, a) in d.message.attachments.iter().enumerate() {
        let caption = (i == 0 && caption_fits && !text.is_empty()).then(|| text.clone());
        out.push(Part::File { attachment: a, caption });
    }
    out
}

/// `reply_parameters` for a quoted message of the same chat (`<chat>:<message>` ids).
fn reply_parameters(d: &Delivery) -> Option<Value> {
    let (chat, message) = d.reply_to_provider_id.as_deref()?.rsplit_once(':')?;
    if chat != d.identity.external_id {
        return None;
    }
    let id: i64 = message.parse().ok()?;
    Some(json!({"message_id": id, "allow_sending_without_reply": true}))
}

pub(crate) async fn send(state: &AppState, d: &Delivery) -> Result<Vec<String>, SendError> {
    let cfg = config(&d.channel).map_err(SendError::Refused)?;
    let chat_id = d.identity.external_id.clone();
    let interval = if d.conversation.is_group {
        state.config.telegram_group_interval
    } else {
        state.config.telegram_chat_interval
    };
    let per_bot = state.config.telegram_per_bot_per_sec;
    let bot = Limit { key: format!("tg:{}", d.channel.id), burst: per_bot.max(1.0) as u32, per_second: per_bot };
    let chat = Limit {
        key: format!("tg:{}:{chat_id}", d.channel.id),
        burst: 1,
        per_second: 1.0 / interval.as_secs_f64().max(0.001),
    };
    let mut ids = Vec::new();
    let mut reply = reply_parameters(d);
    for part in parts(d) {
        super::pass_limits(state, &[bot.clone(), chat.clone()]).await?;
        let request = match &part {
            Part::Text(text) => {
                let mut body = json!({"chat_id": chat_id, "text": text});
                if let Some(r) = reply.take() {
                    body["reply_parameters"] = r;
                }
                state.http.post(cfg.method_url("sendMessage")).json(&body)
            }
            Part::File { attachment, caption } => {
                let (method, field) = upload_method(&attachment.content_type);
                let bytes = super::attachment_bytes(state, attachment).await?;
                let mut form = super::Multipart::new().text("chat_id", &chat_id);
                if let Some(c) = caption {
                    form = form.text("caption", c);
                }
                if let Some(r) = reply.take() {
                    form = form.text("reply_parameters", &r.to_string());
                }
                let (content_type, body) =
                    form.file(field, &attachment.name, &attachment.content_type, &bytes).finish();
                state
                    .http
                    .post(cfg.method_url(method))
                    .timeout(state.config.media_timeout)
                    .header(reqwest::header::CONTENT_TYPE, content_type)
                    .body(body)
            }
        };
        let (status, answer) = exchange(state, request).await?;
        if answer["ok"].as_bool() != Some(true) {
            let error = error_of(status, &answer);
            if let Retry::AfterSecs(secs) = error.retry {
                state.send_limits.block(&bot, now_ms().saturating_add(secs.saturating_mul(1000)));
            }
            if !ids.is_empty() {
                return Err(SendError::Provider(charla_core::provider_errors::ProviderError {
                    reason: format!("only part of the message was sent: {}", error.reason),
                    retry: Retry::Never,
                }));
            }
            return Err(SendError::Provider(error));
        }
        let message_id = answer["result"]["message_id"].as_i64();
        let chat = answer["result"]["chat"]["id"].as_i64().map(|c| c.to_string()).unwrap_or_else(|| chat_id.clone());
        match message_id {
            Some(id) => ids.push(format!("{chat}:{id}")),
            None => return Err(SendError::Transport("Telegram's answer has no message id".into())),
        }
    }
    Ok(ids)
}

// ---------------------------------------------------------------- account

pub(crate) async fn test_connection(
    state: &AppState,
    channel: &Channel,
    public_base_url: Option<&str>,
) -> (super::ConnectionReport, Vec<(&'static str, Value)>) {
    let cfg = match config(channel) {
        Ok(c) => c,
        Err(e) => return (super::ConnectionReport::failed(e), Vec::new()),
    };
    let me = match exchange(state, state.http.post(cfg.method_url("getMe"))).await {
        Ok((_, body)) if body["ok"].as_bool() == Some(true) => body["result"].clone(),
        Ok((status, body)) => return (super::ConnectionReport::failed(error_of(status, &body).reason), Vec::new()),
        Err(e) => return (super::ConnectionReport::failed(format!("Telegram did not answer: {e:?}")), Vec::new()),
    };
    let username = s(&me, "username").unwrap_or("").to_string();
    let mut learnt = vec![("bot_username", json!(username))];
    if let Some(id) = me["id"].as_i64() {
        learnt.push(("bot_id", json!(id)));
    }
    let account = Some(format!("@{username}"));
    let wanted = public_base_url
        .map(|b| format!("{}/hooks/telegram/{}", b.trim_end_matches('/'), channel.id))
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"));
    if let Some(url) = wanted {
        let body = json!({"url": url, "secret_token": cfg.secret_token, "allowed_updates": ALLOWED_UPDATES});
        return match exchange(state, state.http.post(cfg.method_url("setWebhook")).json(&body)).await {
            Ok((_, b)) if b["ok"].as_bool() == Some(true) => (
                super::ConnectionReport {
                    ok: true,
                    detail: format!("the bot @{username} works and Telegram now sends its updates to {url}"),
                    account,
                    webhook_url: Some(url),
                },
                learnt,
            ),
            Ok((status, b)) => (
                super::ConnectionReport {
                    ok: false,
                    detail: format!("the bot works, but Telegram refused the webhook: {}", error_of(status, &b).reason),
                    account,
                    webhook_url: None,
                },
                learnt,
            ),
            Err(e) => (super::ConnectionReport::failed(format!("Telegram did not answer: {e:?}")), learnt),
        };
    }
    let current = match exchange(state, state.http.post(cfg.method_url("getWebhookInfo"))).await {
        Ok((_, b)) => s(&b["result"], "url").map(str::to_string),
        Err(_) => None,
    };
    let detail = match &current {
        Some(u) => format!("the bot @{username} works; Telegram sends its updates to {u}"),
        None => format!(
            "the bot @{username} works, but no webhook is set: test again with webhook_base_url (this server's public \
             address) so Charla registers it"
        ),
    };
    (super::ConnectionReport { ok: true, detail, account, webhook_url: current }, learnt)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(update: Value) -> Parsed {
        parse_update(&update, "TG").remove(0)
    }

    #[test]
    fn private_text_with_reply() {
        let p = one(json!({"update_id": 10, "message": {"message_id": 5, "date": 1,
            "from": {"id": 42, "is_bot": false, "first_name": "Ana", "last_name": "Pérez", "username": "anap"},
            "chat": {"id": 42, "type": "private", "first_name": "Ana"}, "text": "hola",
            "reply_to_message": {"message_id": 4, "chat": {"id": 42, "type": "private"}}}}));
        let Parsed::Message(m) = p else { panic!("message") };
        assert_eq!((m.provider_id.as_str(), m.text.as_str(), m.is_group), ("42:5", "hola", false));
        assert_eq!(m.contact.external_id, "42");
        assert_eq!(m.contact.name.as_deref(), Some("Ana Pérez"));
        assert_eq!(m.contact.username.as_deref(), Some("anap"));
        assert_eq!(m.extra.reply_to_provider_id.as_deref(), Some("42:4"));
        assert_eq!(m.extra.author_name, None);
        let profile = m.extra.profile.unwrap_or_default();
        assert_eq!((profile.first_name.as_deref(), profile.last_name.as_deref()), (Some("Ana"), Some("Pérez")));
    }

    #[test]
    fn group_messages_and_service_lines() {
        let Parsed::Message(m) = one(json!({"update_id": 11, "message": {"message_id": 7,
            "from": {"id": 43, "first_name": "Luis"}, "chat": {"id": -100123, "type": "supergroup", "title": "Ventas"},
            "text": "buenas"}}))
        else {
            panic!("message")
        };
        assert_eq!((m.provider_id.as_str(), m.is_group), ("-100123:7", true));
        assert_eq!((m.contact.external_id.as_str(), m.contact.name.as_deref()), ("-100123", Some("Ventas")));
        assert_eq!(m.extra.author_name.as_deref(), Some("Luis"));
        let Parsed::Event(e) =
            one(json!({"update_id": 12, "message": {"message_id": 8, "from": {"id": 1, "first_name": "Eva"},
            "chat": {"id": -100123, "type": "supergroup", "title": "Ventas"},
            "new_chat_members": [{"id": 2, "first_name": "Leo"}]}}))
        else {
            panic!("event")
        };
        assert_eq!((e.text.as_str(), e.is_group), ("Leo joined the group", true));
    }

    #[test]
    fn files_and_other_contents() {
        let Parsed::Message(m) =
            one(json!({"update_id": 1, "message": {"message_id": 1, "from": {"id": 1, "first_name": "A"},
            "chat": {"id": 1, "type": "private"}, "caption": "mira",
            "photo": [{"file_id": "small", "file_size": 10}, {"file_id": "big", "file_size": 1000}]}}))
        else {
            panic!()
        };
        assert_eq!(m.text, "mira");
        assert_eq!(m.media[0].source, MediaSource::Telegram { file_id: "big".into(), size: Some(1000) });
        let Parsed::Message(m) = one(
            json!({"update_id": 1, "message": {"message_id": 2, "from": {"id": 1, "first_name": "A"},
            "chat": {"id": 1, "type": "private"}, "voice": {"file_id": "v1", "mime_type": "audio/ogg", "duration": 3}}}),
        ) else {
            panic!()
        };
        assert_eq!((m.media[0].name.as_str(), m.media[0].label), ("voice.ogg", "voice message"));
        let Parsed::Message(m) =
            one(json!({"update_id": 1, "message": {"message_id": 3, "from": {"id": 1, "first_name": "A"},
            "chat": {"id": 1, "type": "private"}, "contact": {"phone_number": "34600123456", "first_name": "Luis"}}}))
        else {
            panic!()
        };
        assert_eq!(m.text, "👤 Luis\n📞 +34600123456");
        let Parsed::Message(m) =
            one(json!({"update_id": 1, "message": {"message_id": 4, "from": {"id": 1, "first_name": "A"},
            "chat": {"id": 1, "type": "private"}, "location": {"latitude": 1.5, "longitude": 2.5}}}))
        else {
            panic!()
        };
        assert!(m.text.starts_with("📍 Location\n"));
        let Parsed::Event(e) =
            one(json!({"update_id": 1, "message": {"message_id": 5, "from": {"id": 1, "first_name": "A"},
            "chat": {"id": 1, "type": "private"}, "game": {"title": "x"}}}))
        else {
            panic!()
        };
        assert_eq!(e.text, "A sent a message Charla does not support (game)");
    }

    #[test]
    fn edits_reactions_membership() {
        let Parsed::Event(e) = one(json!({"update_id": 20, "edited_message": {"message_id": 5, "edit_date": 2,
            "from": {"id": 42, "first_name": "Ana"}, "chat": {"id": 42, "type": "private"}, "text": "hola!"}}))
        else {
            panic!()
        };
        assert_eq!(
            (e.provider_id.as_str(), e.text.as_str(), e.about.as_deref()),
            ("u20", "✏️ Ana edited a message: «hola!»", Some("42:5"))
        );
        let Parsed::Event(e) = one(json!({"update_id": 21, "message_reaction": {"chat": {"id": 42, "type": "private"},
            "message_id": 9, "user": {"id": 42, "first_name": "Ana"}, "date": 1, "old_reaction": [],
            "new_reaction": [{"type": "emoji", "emoji": "👍"}]}}))
        else {
            panic!()
        };
        assert_eq!((e.text.as_str(), e.about.as_deref()), ("Ana reacted 👍", Some("42:9")));
        let Parsed::Event(e) = one(json!({"update_id": 22, "my_chat_member": {"chat": {"id": 42, "type": "private"},
            "from": {"id": 42, "first_name": "Ana"}, "date": 1, "old_chat_member": {"status": "member"},
            "new_chat_member": {"status": "kicked"}}}))
        else {
            panic!()
        };
        assert_eq!(e.text, "Ana blocked the bot");
        assert!(matches!(one(json!({"update_id": 23, "callback_query": {"id": "1"}})), Parsed::Ignored(_)));
        assert!(matches!(one(json!({"nope": 1})), Parsed::Ignored(_)));
    }

    #[test]
    fn secret_tokens() {
        assert!(valid_secret_token("abc_DEF-123"));
        assert!(!valid_secret_token(""));
        assert!(!valid_secret_token("with space"));
        assert!(!valid_secret_token(&"a".repeat(257)));
    }
}
