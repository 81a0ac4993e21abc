//! WhatsApp Cloud API.
//!
//! Settings: `phone_number_id`, `access_token`, `app_secret`, `verify_token`, optional
//! `api_base_url` (default `https://graph.facebook.com`), `api_version` (default
//! [`super::GRAPH_VERSION`]) and `business_account_id` (the WABA, for template sync; learnt from
//! the first webhook when not given).
//!
//! Webhooks at `/hooks/whatsapp/{channel_id}`: `GET` is Meta's verification handshake; `POST`
//! carries `X-Hub-Signature-256` over the raw body. A Meta app has one callback URL for all its
//! numbers, so a change for another number of the same workspace (same app secret) goes to
//! that number's channel. Messages become Charla messages (media downloaded with the token:
//! `GET /{media-id}` → `url`, then `GET url`), reactions and unsupported types event lines,
//! statuses receipts (never backwards), template status updates update the template.
//!
//! Sending: `POST /{version}/{phone_number_id}/messages` — text (with `context` to quote),
//! media uploaded first to `/{phone_number_id}/media` then sent by id (the text as the first
//! one's caption when it fits), templates with their body parameters.

use super::{
    Media, MediaSource, Parsed, ParsedEvent, ParsedMessage, SendError, config_of, exchange, file_name, graph_error,
    hook_channel, ingest, location_text,
};
use crate::error::{ApiError, ApiResult};
use crate::extract::Path;
use crate::state::AppState;
use axum::Json;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use charla_core::phone::normalize_e164;
use charla_core::{Channel, ChannelKind, Id, MessageStatus};
use charla_store::{ContactInput, Delivery, IdentityProfile, InboundExtra, TemplateInput};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;

/// Longest caption WhatsApp accepts on a media message.
const CAPTION_MAX: usize = 1024;
/// Template pages read at most in one sync.
const MAX_TEMPLATE_PAGES: usize = 50;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WhatsappConfig {
    pub phone_number_id: String,
    pub access_token: String,
    pub app_secret: String,
    pub verify_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_base_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_account_id: Option<String>,
}

impl WhatsappConfig {
    /// `{base}/{version}/{path}`.
    pub fn url(&self, path: &str) -> String {
        super::graph_url(self.api_base_url.as_deref(), self.api_version.as_deref(), path)
    }
}

fn config(channel: &Channel) -> Result<WhatsappConfig, String> {
    config_of(channel)
}

// ---------------------------------------------------------------- webhooks

/// `GET /hooks/whatsapp/{channel_id}`: the verification handshake.
pub async fn verify(
    State(state): State<AppState>,
    Path(channel_id): Path<Id>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    super::meta_verify(&state, channel_id, ChannelKind::Whatsapp, &params, |c| config(c).ok().map(|c| c.verify_token))
        .await
}

/// `POST /hooks/whatsapp/{channel_id}`: messages, statuses and template updates.
pub async fn receive(
    State(state): State<AppState>,
    Path(channel_id): Path<Id>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Value>> {
    let channel = hook_channel(&state, channel_id, ChannelKind::Whatsapp).await?;
    let raw = crate::hooks::read_body(&headers, body, state.config.max_body_bytes.saturating_mul(4)).await?;
    let cfg = config(&channel).unwrap_or_default();
    super::check_hub_signature(&cfg.app_secret, &headers, &raw)?;
    let body: Value = crate::hooks::parse_json(&raw)?;
    if body["object"].as_str() != Some("whatsapp_business_account") {
        tracing::info!(channel_id, "WhatsApp webhook for object {:?} ignored", body["object"]);
        return Ok(Json(json!({"ok": true})));
    }
    let mut first_error: Option<ApiError> = None;
    for entry in body["entry"].as_array().into_iter().flatten() {
        let waba = entry["id"].as_str().filter(|w| !w.is_empty());
        for change in entry["changes"].as_array().into_iter().flatten() {
            let value = &change["value"];
            let result = match change["field"].as_str() {
                Some("messages") => on_messages(&state, &channel, &cfg, waba, value).await,
                Some("message_template_status_update") => on_template_status(&state, &channel, value).await,
                other => {
                    tracing::info!(channel_id, "WhatsApp webhook field {other:?} ignored");
                    Ok(())
                }
            };
            if let Err(e) = result {
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        // The provider delivers it again; what was stored is recognised as a duplicate.
        Some(e) => Err(e),
        None => Ok(Json(json!({"ok": true}))),
    }
}

async fn on_messages(
    state: &AppState,
    channel: &Channel,
    cfg: &WhatsappConfig,
    waba: Option<&str>,
    value: &Value,
) -> ApiResult<()> {
    let Some(target) = route(state, channel, cfg, value["metadata"]["phone_number_id"].as_str()).await? else {
        tracing::warn!(
            channel_id = channel.id,
            "WhatsApp webhook for phone number {:?}, which no channel of this workspace has",
            value["metadata"]["phone_number_id"]
        );
        return Ok(());
    };
    if let Some(waba) = waba {
        let known = config(&target).ok().and_then(|c| c.business_account_id);
        if known.is_none() {
            super::remember_settings(state, &target, vec![("business_account_id", json!(waba))]).await?;
        }
    }
    let mut first_error = None;
    for item in parse_value(value, &target.name) {
        if let Err(e) = ingest(state, &target, item).await {
            first_error.get_or_insert(e);
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// The channel a change is for: this one, or the workspace's channel of that phone number
/// with the same app (secret).
async fn route(
    state: &AppState,
    channel: &Channel,
    cfg: &WhatsappConfig,
    phone_number_id: Option<&str>,
) -> ApiResult<Option<Channel>> {
    let Some(pnid) = phone_number_id.filter(|p| *p != cfg.phone_number_id) else {
        return Ok(Some(channel.clone()));
    };
    let all = state.store.list_channels(channel.workspace_id).await?;
    Ok(all.into_iter().find(|c| {
        c.kind == ChannelKind::Whatsapp
            && config(c).is_ok_and(|o| o.phone_number_id == pnid && super::same_secret(&o.app_secret, &cfg.app_secret))
    }))
}

async fn on_template_status(state: &AppState, channel: &Channel, value: &Value) -> ApiResult<()> {
    let (Some(name), Some(language), Some(event)) =
        (value["message_template_name"].as_str(), value["message_template_language"].as_str(), value["event"].as_str())
    else {
        return Ok(());
    };
    let list = state.store.list_templates(channel.workspace_id, channel.id).await?;
    let Some(t) = list.into_iter().find(|t| t.name == name && t.language == language) else {
        return Ok(());
    };
    let reason = value["reason"].as_str().filter(|r| !r.is_empty() && *r != "NONE").map(str::to_string);
    let input = TemplateInput {
        name: t.name,
        language: t.language,
        category: t.category,
        body: t.body,
        status: charla_core::templates::status_from_provider(event),
        rejection_reason: reason,
        provider_id: t.provider_id.or_else(|| value["message_template_id"].as_i64().map(|i| i.to_string())),
    };
    state.store.save_template(channel.workspace_id, channel.id, input, crate::state::now_ms()).await?;
    Ok(())
}

/// What a `messages` change's value means: messages, event lines and receipts.
pub fn parse_value(value: &Value, source: &str) -> Vec<Parsed> {
    let mut names: HashMap<&str, &str> = HashMap::new();
    for c in value["contacts"].as_array().into_iter().flatten() {
        if let (Some(wa_id), Some(name)) = (c["wa_id"].as_str(), c["profile"]["name"].as_str()) {
            names.insert(wa_id, name);
        }
    }
    let mut out = Vec::new();
    for m in value["messages"].as_array().into_iter().flatten() {
        out.push(parse_message(m, &names, source));
    }
    for s in value["statuses"].as_array().into_iter().flatten() {
        out.push(parse_status(s));
    }
    for e in value["errors"].as_array().into_iter().flatten() {
        out.push(Parsed::Ignored(format!("WhatsApp reported error {}: {}", e["code"], e["title"])));
    }
    out
}

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v[key].as_str().map(str::trim).filter(|x| !x.is_empty())
}

fn parse_message(m: &Value, names: &HashMap<&str, &str>, source: &str) -> Parsed {
    let (Some(from), Some(id)) = (s(m, "from"), s(m, "id")) else {
        return Parsed::Ignored("a WhatsApp message without sender or id".into());
    };
    let name = names.get(from).copied();
    let phone = normalize_e164(from);
    let contact = ContactInput {
        external_id: from.to_string(),
        name: name.map(str::to_string),
        phone: phone.clone(),
        source: Some(source.to_string()),
        ..ContactInput::default()
    };
    let who = name.unwrap_or(from);
    let kind = s(m, "type").unwrap_or("unknown");
    let event = |text: String, about: Option<&str>| {
        Parsed::Event(ParsedEvent {
            provider_id: id.to_string(),
            contact: contact.clone(),
            text,
            about: about.map(str::to_string),
            is_group: false,
        })
    };
    let mut media = Vec::new();
    let mut text = match kind {
        "text" => s(&m["text"], "body").unwrap_or("").to_string(),
        "image" | "video" | "audio" | "document" | "sticker" => {
            let obj = &m[kind];
            let voice = kind == "audio" && obj["voice"].as_bool() == Some(true);
            let (base, label) = match kind {
                "image" => ("image", "image"),
                "video" => ("video", "video"),
                "audio" if voice => ("voice", "voice message"),
                "audio" => ("audio", "audio"),
                "sticker" => ("sticker", "sticker"),
                _ => ("document", "document"),
            };
            if let Some(media_id) = s(obj, "id") {
                media.push(Media {
                    source: MediaSource::Whatsapp { media_id: media_id.to_string() },
                    name: file_name(s(obj, "filename"), base, s(obj, "mime_type")),
                    label,
                });
            }
            s(obj, "caption").unwrap_or("").to_string()
        }
        "location" => {
            let l = &m["location"];
            match (l["latitude"].as_f64(), l["longitude"].as_f64()) {
                (Some(lat), Some(lng)) => location_text(lat, lng, s(l, "name"), s(l, "address")),
                _ => "📍 Location (without coordinates)".to_string(),
            }
        }
        "contacts" => shared_contacts(&m["contacts"]),
        "order" => order_text(&m["order"]),
        "interactive" => {
            let i = &m["interactive"];
            match s(i, "type") {
                Some("button_reply") => s(&i["button_reply"], "title").unwrap_or("").to_string(),
                Some("list_reply") => {
                    let r = &i["list_reply"];
                    match (s(r, "title"), s(r, "description")) {
                        (Some(t), Some(d)) => format!("{t}\n{d}"),
                        (Some(t), None) => t.to_string(),
                        _ => String::new(),
                    }
                }
                Some("nfm_reply") => {
                    let r = &i["nfm_reply"];
                    s(r, "body").or(s(r, "response_json")).unwrap_or("").to_string()
                }
                other => {
                    return event(format!("{who} answered an interactive message ({})", other.unwrap_or("?")), None);
                }
            }
        }
        "button" => s(&m["button"], "text").or(s(&m["button"], "payload")).unwrap_or("").to_string(),
        "reaction" => {
            let r = &m["reaction"];
            let text = match s(r, "emoji") {
                Some(emoji) => format!("{who} reacted {emoji}"),
                None => format!("{who} removed a reaction"),
            };
            return event(text, s(r, "message_id"));
        }
        "system" => {
            let body = s(&m["system"], "body").unwrap_or("the contact's account changed");
            return event(format!("WhatsApp: {body}"), None);
        }
        other => {
            let why =
                m["errors"][0]["error_data"]["details"].as_str().or(m["errors"][0]["title"].as_str()).unwrap_or(other);
            return event(format!("{who} sent a message WhatsApp does not support ({why})"), None);
        }
    };
    if m["context"]["forwarded"].as_bool() == Some(true) || m["context"]["frequently_forwarded"].as_bool() == Some(true)
    {
        text = format!("↪ Forwarded\n{text}");
    }
    if let Some(headline) = s(&m["referral"], "headline").or(s(&m["referral"], "source_url")) {
        text = format!("{text}\n(from the ad: {headline})");
    }
    if text.trim().is_empty() && media.is_empty() {
        text = format!("[empty {kind} message]");
    }
    Parsed::Message(ParsedMessage {
        provider_id: id.to_string(),
        contact,
        text,
        media,
        is_group: false,
        extra: InboundExtra {
            author_name: None,
            reply_to_provider_id: s(&m["context"], "id").map(str::to_string),
            profile: Some(IdentityProfile { phone, ..IdentityProfile::default() }),
        },
    })
}

fn shared_contacts(list: &Value) -> String {
    let mut lines = Vec::new();
    for c in list.as_array().into_iter().flatten() {
        let name = s(&c["name"], "formatted_name")
            .map(str::to_string)
            .or_else(|| {
                let parts: Vec<&str> =
                    [s(&c["name"], "first_name"), s(&c["name"], "last_name")].into_iter().flatten().collect();
                (!parts.is_empty()).then(|| parts.join(" "))
            })
            .unwrap_or_else(|| "Contact".to_string());
        lines.push(format!("👤 {name}"));
        for p in c["phones"].as_array().into_iter().flatten() {
            if let Some(phone) = s(p, "phone").or(s(p, "wa_id")) {
                lines.push(format!("📞 {phone}"));
            }
        }
        for e in c["emails"].as_array().into_iter().flatten() {
            if let Some(email) = s(e, "email") {
                lines.push(format!("✉ {email}"));
            }
        }
        if let Some(company) = s(&c["org"], "company") {
            lines.push(format!("🏢 {company}"));
        }
    }
    if lines.is_empty() { "👤 Shared contact".to_string() } else { lines.join("\n") }
}

/// A cart sent from a catalog: one line per product and the total.
fn order_text(order: &Value) -> String {
    let mut lines = vec!["🛒 Order".to_string()];
    let mut total = 0.0;
    let mut currencies: Vec<&str> = Vec::new();
    for item in order["product_items"].as_array().into_iter().flatten() {
        let product = s(item, "product_retailer_id").unwrap_or("?");
        let qty =
            item["quantity"].as_f64().or_else(|| item["quantity"].as_str().and_then(|q| q.parse().ok())).unwrap_or(1.0);
        let price = item["item_price"].as_f64().or_else(|| item["item_price"].as_str().and_then(|p| p.parse().ok()));
        let currency = s(item, "currency").unwrap_or("");
        if !currencies.contains(&currency) {
            currencies.push(currency);
        }
        match price {
            Some(p) => {
                total += p * qty;
                lines.push(format!("• {qty} × {product} — {p:.2} {currency}").trim_end().to_string());
            }
            None => lines.push(format!("• {qty} × {product}")),
        }
    }
    if lines.len() > 1 && currencies.len() == 1 {
        lines.push(format!("Total: {total:.2} {}", currencies[0]).trim_end().to_string());
    }
    if let Some(note) = s(order, "text") {
        lines.push(note.to_string());
    }
    if let Some(catalog) = s(order, "catalog_id") {
        lines.push(format!("(catalog {catalog})"));
    }
    lines.join("\n")
}

fn parse_status(st: &Value) -> Parsed {
    let Some(id) = s(st, "id") else { return Parsed::Ignored("a WhatsApp status without id".into()) };
    let status = match s(st, "status") {
        Some("sent") => MessageStatus::Sent,
        Some("delivered") => MessageStatus::Delivered,
        Some("read") => MessageStatus::Read,
        Some("failed") => MessageStatus::Failed,
        other => return Parsed::Ignored(format!("WhatsApp status {other:?} for {id}")),
    };
    let error = (status == MessageStatus::Failed).then(|| {
        let e = &st["errors"][0];
        let details = e["error_data"]["details"].as_str().or(e["message"].as_str()).or(e["title"].as_str());
        charla_core::provider_errors::whatsapp(None, e["code"].as_i64(), details).reason
    });
    Parsed::Status { provider_id: id.to_string(), status, error }
}

/// The request that downloads a media file: `GET /{media-id}` gives its URL, fetched with the
/// same token.
pub(crate) async fn media_request(
    state: &AppState,
    channel: &Channel,
    media_id: &str,
) -> Result<reqwest::RequestBuilder, String> {
    let cfg = config(channel)?;
    let request = state.http.get(cfg.url(media_id)).bearer_auth(&cfg.access_token);
    let (status, body) = exchange(state, request).await.map_err(|e| match e {
        SendError::Transport(t) => t,
        other => format!("{other:?}"),
    })?;
    if !(200..300).contains(&status) {
        let g = graph_error(&body);
        return Err(charla_core::provider_errors::whatsapp(
            Some(status),
            g.code,
            g.details.as_deref().or(g.message.as_deref()),
        )
        .reason);
    }
    let max = state.config.max_upload_bytes as i64;
    if body["file_size"].as_i64().is_some_and(|n| n > max) {
        return Err(format!("larger than the {} MiB limit", max / (1024 * 1024)));
    }
    let url = body["url"].as_str().filter(|u| u.starts_with("http")).ok_or("WhatsApp gave no download URL")?;
    Ok(state.http.get(url).bearer_auth(&cfg.access_token))
}

// ---------------------------------------------------------------- sending

/// What WhatsApp calls a media type of this content type.
fn media_type(content_type: &str) -> &'static str {
    match content_type {
        "image/jpeg" | "image/png" => "image",
        "video/mp4" | "video/3gpp" => "video",
        "audio/aac" | "audio/mp4" | "audio/mpeg" | "audio/amr" | "audio/ogg" | "audio/x-m4a" => "audio",
        _ => "document",
    }
}

fn provider_error(status: u16, body: &Value) -> SendError {
    let g = graph_error(body);
    SendError::Provider(charla_core::provider_errors::whatsapp(
        Some(status),
        g.code,
        g.details.as_deref().or(g.message.as_deref()),
    ))
}

async fn post_message(state: &AppState, cfg: &WhatsappConfig, body: &Value) -> Result<String, SendError> {
    let request = state
        .http
        .post(cfg.url(&format!("{}/messages", cfg.phone_number_id)))
        .bearer_auth(&cfg.access_token)
        .json(body);
    let (status, answer) = exchange(state, request).await?;
    if !(200..300).contains(&status) {
        return Err(provider_error(status, &answer));
    }
    answer["messages"][0]["id"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| SendError::Transport("WhatsApp's answer has no message id".into()))
}

async fn upload(state: &AppState, cfg: &WhatsappConfig, a: &charla_core::Attachment) -> Result<String, SendError> {
    let bytes = super::attachment_bytes(state, a).await?;
    let (content_type, body) = super::Multipart::new()
        .text("messaging_product", "whatsapp")
        .text("type", &a.content_type)
        .file("file", &a.name, &a.content_type, &bytes)
        .finish();
    let request = state
        .http
        .post(cfg.url(&format!("{}/media", cfg.phone_number_id)))
        .bearer_auth(&cfg.access_token)
        .timeout(state.config.media_timeout)
        .header(reqwest::header::CONTENT_TYPE, content_type)
        .body(body);
    let (status, answer) = exchange(state, request).await?;
    if !(200..300).contains(&status) {
        return Err(provider_error(status, &answer));
    }
    answer["id"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| SendError::Transport("WhatsApp's upload answer has no media id".into()))
}

/// The request bodies of one outbound message, in order.
pub fn message_bodies(d: &Delivery, uploaded: &[(String, &charla_core::Attachment)]) -> Vec<Value> {
    let to = d.identity.external_id.clone();
    let base = |kind: &str, content: Value| {
        let mut b = json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": kind});
        b[kind] = content;
        b
    };
    let mut bodies = Vec::new();
    if let Some(t) = &d.template {
        let mut template = json!({"name": t.name, "language": {"code": t.language}});
        if !t.params.is_empty() {
            let parameters: Vec<Value> = t.params.iter().map(|p| json!({"type": "text", "text": p})).collect();
            template["components"] = json!([{"type": "body", "parameters": parameters}]);
        }
        bodies.push(base("template", template));
    } else {
        let text = d.message.text.trim();
        let first_takes_caption = uploaded
            .first()
            .is_some_and(|(_, a)| media_type(&a.content_type) != "audio" && text.chars().count() <= CAPTION_MAX);
        if !text.is_empty() && !first_takes_caption {
            bodies.push(base("text", json!({"body": text, "preview_url": false})));
        }
        for (i, (media_id, a)) in uploaded.iter().enumerate() {
            let kind = media_type(&a.content_type);
            let mut content = json!({"id": media_id});
            if i == 0 && first_takes_caption && !text.is_empty() {
                content["caption"] = json!(text);
            }
            if kind == "document" {
                content["filename"] = json!(a.name);
            }
            bodies.push(base(kind, content));
        }
    }
    if let (Some(first), Some(quoted)) = (bodies.first_mut(), d.reply_to_provider_id.as_deref()) {
        first["context"] = json!({"message_id": quoted});
    }
    bodies
}

pub(crate) async fn send(state: &AppState, d: &Delivery) -> Result<Vec<String>, SendError> {
    let cfg = config(&d.channel).map_err(SendError::Refused)?;
    let limit = super::Limit {
        key: format!("wa:{}", cfg.phone_number_id),
        burst: state.config.whatsapp_per_number_per_sec.max(1.0) as u32,
        per_second: state.config.whatsapp_per_number_per_sec,
    };
    super::pass_limits(state, std::slice::from_ref(&limit)).await?;
    let mut uploaded = Vec::new();
    if d.template.is_none() {
        for a in &d.message.attachments {
            uploaded.push((upload(state, &cfg, a).await?, a));
        }
    }
    let mut ids = Vec::new();
    for body in message_bodies(d, &uploaded) {
        match post_message(state, &cfg, &body).await {
            Ok(id) => ids.push(id),
            Err(SendError::Provider(p)) if !ids.is_empty() => {
                // Part of it went out: say so rather than send the rest twice.
                return Err(SendError::Provider(charla_core::provider_errors::ProviderError {
                    reason: format!("only part of the message was sent: {}", p.reason),
                    retry: charla_core::provider_errors::Retry::Never,
                }));
            }
            Err(e) => return Err(e),
        }
    }
    if ids.is_empty() {
        return Err(SendError::Refused("nothing to send".into()));
    }
    Ok(ids)
}

// ---------------------------------------------------------------- account

pub(crate) async fn test_connection(
    state: &AppState,
    channel: &Channel,
) -> (super::ConnectionReport, Vec<(&'static str, Value)>) {
    let cfg = match config(channel) {
        Ok(c) => c,
        Err(e) => return (super::ConnectionReport::failed(e), Vec::new()),
    };
    let request = state
        .http
        .get(cfg.url(&cfg.phone_number_id))
        .query(&[("fields", "display_phone_number,verified_name")])
        .bearer_auth(&cfg.access_token);
    match exchange(state, request).await {
        Ok((status, body)) if (200..300).contains(&status) => {
            let number = body["display_phone_number"].as_str().unwrap_or("").to_string();
            let name = body["verified_name"].as_str().unwrap_or("");
            let account = if name.is_empty() { number.clone() } else { format!("{number} ({name})") };
            let report = super::ConnectionReport {
                ok: true,
                detail: format!("WhatsApp accepts the access token for {account}"),
                account: Some(account),
                webhook_url: None,
            };
            let learnt = if number.is_empty() { Vec::new() } else { vec![("display_phone_number", json!(number))] };
            (report, learnt)
        }
        Ok((status, body)) => match provider_error(status, &body) {
            SendError::Provider(p) => (super::ConnectionReport::failed(p.reason), Vec::new()),
            other => (super::ConnectionReport::failed(format!("{other:?}")), Vec::new()),
        },
        Err(SendError::Transport(t)) => {
            (super::ConnectionReport::failed(format!("WhatsApp did not answer: {t}")), Vec::new())
        }
        Err(other) => (super::ConnectionReport::failed(format!("{other:?}")), Vec::new()),
    }
}

/// The business account's templates, all pages.
pub async fn fetch_templates(state: &AppState, channel: &Channel) -> Result<Vec<TemplateInput>, String> {
    let cfg = config(channel)?;
    let waba = cfg.business_account_id.clone().filter(|w| !w.trim().is_empty()).ok_or(
        "the WhatsApp business account id is not known yet: set business_account_id on the channel, or wait for \
         the first webhook",
    )?;
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..MAX_TEMPLATE_PAGES {
        let mut query = vec![
            ("fields", "name,status,category,language,components,rejected_reason".to_string()),
            ("limit", "100".to_string()),
        ];
        if let Some(a) = &after {
            query.push(("after", a.clone()));
        }
        let request =
            state.http.get(cfg.url(&format!("{waba}/message_templates"))).query(&query).bearer_auth(&cfg.access_token);
        let (status, body) = exchange(state, request).await.map_err(|e| match e {
            SendError::Transport(t) => format!("WhatsApp did not answer: {t}"),
            other => format!("{other:?}"),
        })?;
        if !(200..300).contains(&status) {
            let g = graph_error(&body);
            return Err(charla_core::provider_errors::whatsapp(
                Some(status),
                g.code,
                g.details.as_deref().or(g.message.as_deref()),
            )
            .reason);
        }
        for t in body["data"].as_array().into_iter().flatten() {
            if let Some(input) = template_from_provider(t) {
                out.push(input);
            }
        }
        after = match (body["paging"]["next"].as_str(), body["paging"]["cursors"]["after"].as_str()) {
            (Some(_), Some(cursor)) if !cursor.is_empty() => Some(cursor.to_string()),
            _ => break,
        };
    }
    Ok(out)
}

/// One template of the provider's list; None when it has no body text.
pub fn template_from_provider(t: &Value) -> Option<TemplateInput> {
    let name = s(t, "name")?;
    let language = s(t, "language")?;
    let components = t["components"].as_array()?;
    let body = components.iter().find(|c| c["type"].as_str().is_some_and(|k| k.eq_ignore_ascii_case("BODY")))?;
    let body = s(body, "text")?;
    Some(TemplateInput {
        name: name.to_string(),
        language: language.to_string(),
        category: s(t, "category").unwrap_or("").to_ascii_lowercase(),
        body: body.to_string(),
        status: charla_core::templates::status_from_provider(s(t, "status").unwrap_or("")),
        rejection_reason: s(t, "rejected_reason").filter(|r| *r != "NONE").map(str::to_string),
        provider_id: Some(s(t, "id").map(str::to_string).unwrap_or_else(|| format!("{name}:{language}"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(messages: Value) -> Value {
        json!({
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550001111", "phone_number_id": "123"},
            "contacts": [{"profile": {"name": "Ana"}, "wa_id": "34600123456"}],
            "messages": messages,
        })
    }

    fn one(messages: Value) -> Parsed {
        parse_value(&value(messages), "WA").remove(0)
    }

    #[test]
    fn text_with_quote_and_profile() {
        let p = one(json!([{"from": "34600123456", "id": "wamid.1", "timestamp": "1", "type": "text",
            "text": {"body": "Hola ¿qué tal?"}, "context": {"from": "15550001111", "id": "wamid.0"}}]));
        let Parsed::Message(m) = p else { panic!("message expected") };
        assert_eq!((m.provider_id.as_str(), m.text.as_str()), ("wamid.1", "Hola ¿qué tal?"));
        assert_eq!(m.contact.external_id, "34600123456");
        assert_eq!(m.contact.name.as_deref(), Some("Ana"));
        assert_eq!(m.contact.phone.as_deref(), Some("+34600123456"));
        assert_eq!(m.extra.reply_to_provider_id.as_deref(), Some("wamid.0"));
        assert_eq!(m.extra.profile.and_then(|p| p.phone).as_deref(), Some("+34600123456"));
    }

    #[test]
    fn media_kinds() {
        let cases = [
            (
                json!({"type": "image", "image": {"id": "m1", "mime_type": "image/jpeg", "caption": "foto"}}),
                "image.jpg",
                "image",
                "foto",
            ),
            (
                json!({"type": "audio", "audio": {"id": "m1", "mime_type": "audio/ogg; codecs=opus", "voice": true}}),
                "voice.ogg",
                "voice message",
                "",
            ),
            (
                json!({"type": "document", "document": {"id": "m1", "mime_type": "application/pdf", "filename": "factura.pdf"}}),
                "factura.pdf",
                "document",
                "",
            ),
            (
                json!({"type": "sticker", "sticker": {"id": "m1", "mime_type": "image/webp"}}),
                "sticker.webp",
                "sticker",
                "",
            ),
            (json!({"type": "video", "video": {"id": "m1", "mime_type": "video/mp4"}}), "video.mp4", "video", ""),
        ];
        for (extra, name, label, text) in cases {
            let mut m = json!({"from": "34600123456", "id": "wamid.2"});
            for (k, v) in extra.as_object().into_iter().flatten() {
                m[k] = v.clone();
            }
            let Parsed::Message(p) = one(json!([m])) else { panic!("message") };
            assert_eq!(p.media.len(), 1);
            assert_eq!(p.media[0].source, MediaSource::Whatsapp { media_id: "m1".into() });
            assert_eq!((p.media[0].name.as_str(), p.media[0].label), (name, label));
            assert_eq!(p.text, text);
        }
    }

    #[test]
    fn locations_contacts_orders() {
        let Parsed::Message(m) = one(json!([{"from": "34600123456", "id": "w", "type": "location",
            "location": {"latitude": 40.4, "longitude": -3.7, "name": "Oficina", "address": "Calle Mayor 1"}}]))
        else {
            panic!()
        };
        assert!(m.text.starts_with("📍 Oficina, Calle Mayor 1\nhttps://www.openstreetmap.org/?mlat=40.4&mlon=-3.7"));
        let Parsed::Message(m) = one(json!([{"from": "34600123456", "id": "w", "type": "contacts",
            "contacts": [{"name": {"formatted_name": "Luis Gil"}, "phones": [{"phone": "+34 611 22 33 44", "wa_id": "34611223344"}],
                          "emails": [{"email": "luis@example.com"}]}]}]))
        else {
            panic!()
        };
        assert_eq!(m.text, "👤 Luis Gil\n📞 +34 611 22 33 44\n✉ luis@example.com");
        let Parsed::Message(m) = one(json!([{"from": "34600123456", "id": "w", "type": "order",
            "order": {"catalog_id": "cat1", "text": "sin cebolla", "product_items": [
                {"product_retailer_id": "SKU-1", "quantity": 2, "item_price": 10.5, "currency": "EUR"},
                {"product_retailer_id": "SKU-2", "quantity": 1, "item_price": 4, "currency": "EUR"}]}}]))
        else {
            panic!()
        };
        assert_eq!(
            m.text,
            "🛒 Order\n• 2 × SKU-1 — 10.50 EUR\n• 1 × SKU-2 — 4.00 EUR\nTotal: 25.00 EUR\nsin cebolla\n(catalog cat1)"
        );
        let Parsed::Message(m) = one(json!([{"from": "34600123456", "id": "w", "type": "interactive",
            "interactive": {"type": "button_reply", "button_reply": {"id": "b1", "title": "Sí, confirmar"}}}]))
        else {
            panic!()
        };
        assert_eq!(m.text, "Sí, confirmar");
    }

    #[test]
    fn events_and_statuses() {
        let Parsed::Event(e) = one(json!([{"from": "34600123456", "id": "wamid.r", "type": "reaction",
            "reaction": {"message_id": "wamid.out", "emoji": "👍"}}]))
        else {
            panic!("event")
        };
        assert_eq!((e.text.as_str(), e.about.as_deref()), ("Ana reacted 👍", Some("wamid.out")));
        let Parsed::Event(e) = one(json!([{"from": "34600123456", "id": "wamid.u", "type": "unsupported",
            "errors": [{"code": 131051, "title": "Message type unknown", "error_data": {"details": "Message type is currently not supported."}}]}]))
        else {
            panic!("event")
        };
        assert_eq!(e.text, "Ana sent a message WhatsApp does not support (Message type is currently not supported.)");

        let statuses = json!({"statuses": [
            {"id": "wamid.out", "status": "delivered", "timestamp": "2", "recipient_id": "34600123456"},
            {"id": "wamid.out2", "status": "failed", "errors": [{"code": 131047, "title": "Re-engagement message"}]},
            {"id": "wamid.out3", "status": "deleted"}]});
        let parsed = parse_value(&statuses, "WA");
        assert!(
            matches!(&parsed[0], Parsed::Status { provider_id, status: MessageStatus::Delivered, error: None } if provider_id == "wamid.out")
        );
        match &parsed[1] {
            Parsed::Status { status: MessageStatus::Failed, error: Some(e), .. } => {
                assert!(e.contains("24-hour window"))
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(parsed[2], Parsed::Ignored(_)));
        assert!(matches!(one(json!([{"id": "x"}])), Parsed::Ignored(_)));
    }

    #[test]
    fn provider_templates() {
        let t = json!({"name": "order_ready", "language": "es", "status": "APPROVED", "category": "UTILITY", "id": "99",
            "components": [{"type": "HEADER", "format": "TEXT", "text": "Pedido"}, {"type": "BODY", "text": "Tu pedido {{1}} está listo"}]});
        let input = template_from_provider(&t).unwrap_or_else(|| panic!("template"));
        assert_eq!((input.body.as_str(), input.category.as_str()), ("Tu pedido {{1}} está listo", "utility"));
        assert_eq!((input.status, input.provider_id.as_deref()), (charla_core::TemplateStatus::Approved, Some("99")));
        assert!(template_from_provider(&json!({"name": "x", "language": "es", "components": []})).is_none());
    }
}
