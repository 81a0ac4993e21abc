//! Instagram messaging through the Messenger Platform (a Facebook page linked to an Instagram
//! professional account).
//!
//! Settings: `page_id`, `access_token` (the page's), `app_secret`, `verify_token`, optional
//! `api_base_url` (default `https://graph.facebook.com`) and `api_version`.
//!
//! Webhook at `/hooks/instagram/{channel_id}`: the same verification handshake and
//! `X-Hub-Signature-256` as WhatsApp; body `{"object": "instagram", "entry": [{"messaging":
//! [...]}]}`. Messages (text, attachments fetched from their URLs) become Charla messages;
//! reactions, unsent (deleted) messages, edits and unsupported content become event lines;
//! `read` marks our outbound message read; echoes of what the account sent are skipped (ours)
//! or noted (sent from the Instagram app). The sender's username is asked once
//! (`GET /{igsid}?fields=name,username`).
//!
//! Sending: `POST /{version}/{page_id}/messages` `{recipient: {id}, messaging_type: "RESPONSE",
//! message: {text}}` within 24 hours of the contact's last message. Instagram accepts files only
//! by public URL, which Charla's private storage does not give: messages with attachments fail
//! with that reason.

use super::{Parsed, ParsedEvent, ParsedMessage, SendError, config_of, exchange, graph_error, hook_channel, ingest};
use crate::error::{ApiError, ApiResult};
use crate::extract::Path;
use crate::state::AppState;
use axum::Json;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use charla_core::{Channel, ChannelKind, Id, MessageStatus};
use charla_store::{ContactInput, Delivery, IdentityProfile, InboundExtra};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct InstagramConfig {
    pub page_id: String,
    pub access_token: String,
    pub app_secret: String,
    pub verify_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_base_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
}

impl InstagramConfig {
    pub fn url(&self, path: &str) -> String {
        super::graph_url(self.api_base_url.as_deref(), self.api_version.as_deref(), path)
    }
}

fn config(channel: &Channel) -> Result<InstagramConfig, String> {
    config_of(channel)
}

/// `GET /hooks/instagram/{channel_id}`: the verification handshake.
pub async fn verify(
    State(state): State<AppState>,
    Path(channel_id): Path<Id>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    super::meta_verify(&state, channel_id, ChannelKind::Instagram, &params, |c| config(c).ok().map(|c| c.verify_token))
        .await
}

/// `POST /hooks/instagram/{channel_id}`.
pub async fn receive(
    State(state): State<AppState>,
    Path(channel_id): Path<Id>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Value>> {
    let channel = hook_channel(&state, channel_id, ChannelKind::Instagram).await?;
    let raw = crate::hooks::read_body(&headers, body, state.config.max_body_bytes.saturating_mul(4)).await?;
    let cfg = config(&channel).unwrap_or_default();
    super::check_hub_signature(&cfg.app_secret, &headers, &raw)?;
    let body: Value = crate::hooks::parse_json(&raw)?;
    if body["object"].as_str() != Some("instagram") {
        tracing::info!(channel_id, "Instagram webhook for object {:?} ignored", body["object"]);
        return Ok(Json(json!({"ok": true})));
    }
    let mut first_error: Option<ApiError> = None;
    for item in parse_body(&body, &channel.name) {
        let item = match item {
            Parsed::Message(mut m) => {
                m.extra.profile = profile(&state, &channel, &cfg, &m.contact.external_id).await;
                if let Some(username) = m.extra.profile.as_ref().and_then(|p| p.username.clone()) {
                    m.contact.name = m.contact.name.or(Some(username));
                }
                Parsed::Message(m)
            }
            Parsed::Event(e) if e.text.starts_with(ECHO_PREFIX) => {
                // Our own sends come back as echoes: only those sent elsewhere are noted.
                match state.store.find_by_provider_id(channel.id, &e.provider_id).await? {
                    Some(_) => continue,
                    None => Parsed::Event(e),
                }
            }
            other => other,
        };
        if let Err(e) = ingest(&state, &channel, item).await {
            first_error.get_or_insert(e);
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(Json(json!({"ok": true}))),
    }
}

/// Senders whose profile was asked already (per process; bounded).
static PROFILES_ASKED: std::sync::Mutex<Option<HashSet<(Id, String)>>> = std::sync::Mutex::new(None);

/// The sender's name and username, asked once per process; None when already asked or when
/// the provider does not answer (the message is stored anyway).
async fn profile(state: &AppState, channel: &Channel, cfg: &InstagramConfig, igsid: &str) -> Option<IdentityProfile> {
    {
        let mut guard = PROFILES_ASKED.lock().ok()?;
        let set = guard.get_or_insert_with(HashSet::new);
        if set.len() > 50_000 {
            set.clear();
        }
        if !set.insert((channel.id, igsid.to_string())) {
            return None;
        }
    }
    let request = state.http.get(cfg.url(igsid)).query(&[("fields", "name,username")]).bearer_auth(&cfg.access_token);
    match exchange(state, request).await {
        Ok((status, body)) if (200..300).contains(&status) => Some(IdentityProfile {
            username: body["username"].as_str().map(str::to_string),
            first_name: body["name"].as_str().map(str::to_string),
            ..IdentityProfile::default()
        }),
        _ => None,
    }
}

const ECHO_PREFIX: &str = "Sent from the Instagram app";

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v[key].as_str().map(str::trim).filter(|x| !x.is_empty())
}

/// What a webhook body means.
pub fn parse_body(body: &Value, source: &str) -> Vec<Parsed> {
    let mut out = Vec::new();
    for entry in body["entry"].as_array().into_iter().flatten() {
        for m in entry["messaging"].as_array().into_iter().flatten() {
            out.push(parse_messaging(m, source));
        }
    }
    out
}

fn parse_messaging(m: &Value, source: &str) -> Parsed {
    let sender = s(&m["sender"], "id");
    let recipient = s(&m["recipient"], "id");
    let msg = &m["message"];
    let echo = msg["is_echo"].as_bool() == Some(true);
    // For an echo the contact is the recipient.
    let Some(contact_id) = (if echo { recipient } else { sender }) else {
        return Parsed::Ignored("an Instagram event without sender".into());
    };
    let contact = ContactInput {
        external_id: contact_id.to_string(),
        source: Some(source.to_string()),
        ..ContactInput::default()
    };
    let event = |id: String, text: String, about: Option<&str>| {
        Parsed::Event(ParsedEvent {
            provider_id: id,
            contact: contact.clone(),
            text,
            about: about.map(str::to_string),
            is_group: false,
        })
    };
    if let Some(read_mid) = s(&m["read"], "mid") {
        return Parsed::Status { provider_id: read_mid.to_string(), status: MessageStatus::Read, error: None };
    }
    if m["reaction"].is_object() {
        let r = &m["reaction"];
        let Some(mid) = s(r, "mid") else { return Parsed::Ignored("a reaction without message".into()) };
        let text = match (s(r, "action"), s(r, "emoji").or(s(r, "reaction"))) {
            (Some("unreact"), _) => "The contact removed a reaction".to_string(),
            (_, Some(emoji)) => format!("The contact reacted {emoji}"),
            _ => "The contact reacted".to_string(),
        };
        let id = format!("reaction:{mid}:{}:{}", s(r, "action").unwrap_or("react"), m["timestamp"]);
        return event(id, text, Some(mid));
    }
    if m["message_edit"].is_object() {
        let e = &m["message_edit"];
        let Some(mid) = s(e, "mid") else { return Parsed::Ignored("an edit without message".into()) };
        let text = format!("✏️ The contact edited a message: «{}»", s(e, "text").unwrap_or(""));
        return event(format!("edit:{mid}:{}", e["num_edit"]), text, Some(mid));
    }
    if !msg.is_object() {
        let keys: Vec<&str> = m.as_object().into_iter().flatten().map(|(k, _)| k.as_str()).collect();
        return Parsed::Ignored(format!("Instagram event of a kind Charla does not use: {keys:?}"));
    }
    let Some(mid) = s(msg, "mid") else { return Parsed::Ignored("an Instagram message without mid".into()) };
    if echo {
        let text = s(msg, "text").unwrap_or("(attachment)");
        return event(mid.to_string(), format!("{ECHO_PREFIX}: «{text}»"), None);
    }
    if msg["is_deleted"].as_bool() == Some(true) {
        return event(format!("deleted:{mid}"), "The contact unsent a message".into(), Some(mid));
    }
    if msg["is_unsupported"].as_bool() == Some(true) {
        return event(mid.to_string(), "The contact sent a message Instagram does not let apps read".into(), None);
    }
    let mut text = s(msg, "text").unwrap_or("").to_string();
    let mut media = Vec::new();
    for a in msg["attachments"].as_array().into_iter().flatten() {
        let kind = s(a, "type").unwrap_or("file");
        let url = s(&a["payload"], "url");
        match (kind, url) {
            ("image" | "video" | "audio" | "file" | "animated_image" | "sticker", Some(url)) => {
                let (base, label) = match kind {
                    "image" | "animated_image" | "sticker" => ("image", "image"),
                    "video" => ("video", "video"),
                    "audio" => ("audio", "audio"),
                    _ => ("file", "file"),
                };
                media.push(super::Media {
                    source: super::MediaSource::Url { url: url.to_string() },
                    name: base.to_string(),
                    label,
                });
            }
            (other, url) => {
                // Shares, story mentions, reels: a link is what can be shown.
                let line = match url {
                    Some(u) => format!("[{other}] {u}"),
                    None => format!("[{other}]"),
                };
                text = if text.is_empty() { line } else { format!("{text}\n{line}") };
            }
        }
    }
    if let Some(story) = s(&msg["reply_to"]["story"], "url") {
        text = format!("{text}\n(replying to a story: {story})").trim().to_string();
    }
    if text.is_empty() && media.is_empty() {
        return event(mid.to_string(), "The contact sent an empty message".into(), None);
    }
    Parsed::Message(ParsedMessage {
        provider_id: mid.to_string(),
        contact,
        text,
        media,
        is_group: false,
        extra: InboundExtra {
            author_name: None,
            reply_to_provider_id: s(&msg["reply_to"], "mid").map(str::to_string),
            profile: None,
        },
    })
}

// ---------------------------------------------------------------- sending

fn provider_error(status: u16, body: &Value) -> SendError {
    let g = graph_error(body);
    SendError::Provider(charla_core::provider_errors::instagram(Some(status), g.code, g.subcode, g.message.as_deref()))
}

/// The send request's body.
pub fn message_body(d: &Delivery) -> Value {
    let mut body = json!({
        "recipient": {"id": d.identity.external_id},
        "messaging_type": "RESPONSE",
        "message": {"text": d.message.text.trim()},
    });
    if let Some(mid) = &d.reply_to_provider_id {
        body["reply_to"] = json!({"mid": mid});
    }
    body
}

pub(crate) async fn send(state: &AppState, d: &Delivery) -> Result<Vec<String>, SendError> {
    let cfg = config(&d.channel).map_err(SendError::Refused)?;
    if !d.message.attachments.is_empty() {
        return Err(SendError::Refused(
            "Instagram accepts files only from a public URL; send the text without attachments".into(),
        ));
    }
    let request = state
        .http
        .post(cfg.url(&format!("{}/messages", cfg.page_id)))
        .bearer_auth(&cfg.access_token)
        .json(&message_body(d));
    let (status, answer) = exchange(state, request).await?;
    if !(200..300).contains(&status) {
        return Err(provider_error(status, &answer));
    }
    match answer["message_id"].as_str() {
        Some(id) => Ok(vec![id.to_string()]),
        None => Err(SendError::Transport("Instagram's answer has no message id".into())),
    }
}

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
        .get(cfg.url(&cfg.page_id))
        .query(&[("fields", "name,instagram_business_account{username}")])
        .bearer_auth(&cfg.access_token);
    match exchange(state, request).await {
        Ok((status, body)) if (200..300).contains(&status) => {
            let page = body["name"].as_str().unwrap_or(&cfg.page_id).to_string();
            let account = match body["instagram_business_account"]["username"].as_str() {
                Some(u) => format!("@{u} ({page})"),
                None => page,
            };
            let report = super::ConnectionReport {
                ok: true,
                detail: format!("Instagram accepts the page token for {account}"),
                account: Some(account),
                webhook_url: None,
            };
            (report, Vec::new())
        }
        Ok((status, body)) => match provider_error(status, &body) {
            SendError::Provider(p) => (super::ConnectionReport::failed(p.reason), Vec::new()),
            other => (super::ConnectionReport::failed(format!("{other:?}")), Vec::new()),
        },
        Err(e) => (super::ConnectionReport::failed(format!("Instagram did not answer: {e:?}")), Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(messaging: Value) -> Value {
        json!({"object": "instagram", "entry": [{"id": "17841400000000000", "time": 1, "messaging": messaging}]})
    }

    #[test]
    fn messages_and_events() {
        let parsed = parse_body(
            &body(json!([
                {"sender": {"id": "igsid-1"}, "recipient": {"id": "ig-me"}, "timestamp": 1,
                 "message": {"mid": "mid.1", "text": "hola", "reply_to": {"mid": "mid.0"}}},
                {"sender": {"id": "igsid-1"}, "recipient": {"id": "ig-me"}, "timestamp": 2,
                 "message": {"mid": "mid.2", "attachments": [{"type": "image", "payload": {"url": "https://cdn.example/a.jpg"}}]}},
                {"sender": {"id": "igsid-1"}, "recipient": {"id": "ig-me"}, "timestamp": 3,
                 "reaction": {"mid": "mid.out", "action": "react", "reaction": "love", "emoji": "❤️"}},
                {"sender": {"id": "igsid-1"}, "recipient": {"id": "ig-me"}, "timestamp": 4, "read": {"mid": "mid.out"}},
                {"sender": {"id": "ig-me"}, "recipient": {"id": "igsid-1"}, "timestamp": 5,
                 "message": {"mid": "mid.echo", "text": "desde la app", "is_echo": true}},
                {"sender": {"id": "igsid-1"}, "recipient": {"id": "ig-me"}, "timestamp": 6,
                 "message": {"mid": "mid.1", "is_deleted": true}},
                {"sender": {"id": "igsid-1"}, "recipient": {"id": "ig-me"}, "timestamp": 7,
                 "message": {"mid": "mid.3", "attachments": [{"type": "share", "payload": {"url": "https://instagram.com/p/x"}}]}},
            ])),
            "IG",
        );
        let Parsed::Message(m) = &parsed[0] else { panic!("message") };
        assert_eq!(
            (m.provider_id.as_str(), m.text.as_str(), m.contact.external_id.as_str()),
            ("mid.1", "hola", "igsid-1")
        );
        assert_eq!(m.extra.reply_to_provider_id.as_deref(), Some("mid.0"));
        let Parsed::Message(m) = &parsed[1] else { panic!("message") };
        assert_eq!(m.media[0].source, super::super::MediaSource::Url { url: "https://cdn.example/a.jpg".into() });
        let Parsed::Event(e) = &parsed[2] else { panic!("event") };
        assert_eq!((e.text.as_str(), e.about.as_deref()), ("The contact reacted ❤️", Some("mid.out")));
        assert!(
            matches!(&parsed[3], Parsed::Status { provider_id, status: MessageStatus::Read, .. } if provider_id == "mid.out")
        );
        let Parsed::Event(e) = &parsed[4] else { panic!("echo") };
        assert_eq!((e.contact.external_id.as_str(), e.provider_id.as_str()), ("igsid-1", "mid.echo"));
        let Parsed::Event(e) = &parsed[5] else { panic!("deleted") };
        assert_eq!((e.provider_id.as_str(), e.about.as_deref()), ("deleted:mid.1", Some("mid.1")));
        let Parsed::Message(m) = &parsed[6] else { panic!("share") };
        assert_eq!(m.text, "[share] https://instagram.com/p/x");
    }
}
