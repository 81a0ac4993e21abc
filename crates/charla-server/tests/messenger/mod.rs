//! A fake messenger provider for the messenger tests: one small HTTP server on 127.0.0.1:0 that
//! speaks the documented wire formats of the WhatsApp Cloud API (Graph API paths
//! `/{version}/{phone-number-id}/messages`, `/media`, `/{media-id}`, `/{waba}/message_templates`),
//! the Telegram Bot API (`/bot<token>/<method>`, `/file/bot<token>/<path>`) and Instagram
//! messaging (`/{version}/{page-id}/messages`, `/{igsid}?fields=`), records every request, and
//! answers scripted replies (errors, delays, 429s) before falling back to success.
//!
//! Plus helpers: channels created through the REST API, signed webhooks, bounded waits.

#![allow(dead_code)]

use crate::common::{TestServer, code, id_of};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const WAIT: Duration = Duration::from_secs(20);
pub const TOKEN: &str = "EAAG-test-token";
pub const APP_SECRET: &str = "app-secret-123";
pub const BOT_TOKEN: &str = "123456:ABC-test_token";
pub const PNID: &str = "1065403522";
pub const WABA: &str = "1022901293";
pub const PAGE: &str = "5551234";

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
    /// Which endpoint it was: `wa.send`, `wa.upload`, `wa.media`, `wa.download`, `wa.phone`,
    /// `wa.templates`, `tg.<method>`, `tg.file`, `ig.send`, `ig.profile`, `ig.page`,
    /// `cdn`, or `unknown`.
    pub key: String,
    pub at: std::time::Instant,
}

impl Req {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).to_string()
    }
    pub fn bearer(&self) -> Option<String> {
        self.headers.get("authorization").and_then(|h| h.strip_prefix("Bearer ")).map(str::to_string)
    }
}

/// A scripted answer.
#[derive(Debug, Clone)]
pub enum Reply {
    Json(u16, Value),
    /// Answer after this long (longer than the server's timeout: a timeout).
    Slow(Duration, u16, Value),
}

#[derive(Default)]
struct State {
    requests: Mutex<Vec<Req>>,
    scripts: Mutex<HashMap<String, VecDeque<Reply>>>,
    /// Downloadable files by id (WhatsApp media ids, Telegram file ids, CDN names).
    files: Mutex<HashMap<String, Vec<u8>>>,
    base: Mutex<String>,
    counter: Mutex<u64>,
    notify: tokio::sync::Notify,
}

pub struct Fake {
    pub url: String,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Fake {
    pub async fn start() -> Fake {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("bind: {e}"));
        let url = format!("http://{}", listener.local_addr().unwrap_or_else(|e| panic!("{e}")));
        let state = Arc::new(State::default());
        *state.base.lock().unwrap_or_else(|e| e.into_inner()) = url.clone();
        let app = axum::Router::new().fallback(handle).with_state(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Fake { url, state, task }
    }

    /// Replies for the next requests to `key`, in order; then the default success.
    pub fn script(&self, key: &str, replies: Vec<Reply>) {
        self.state
            .scripts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key.to_string())
            .or_default()
            .extend(replies);
    }

    pub fn file(&self, id: &str, bytes: &[u8]) {
        self.state.files.lock().unwrap_or_else(|e| e.into_inner()).insert(id.to_string(), bytes.to_vec());
    }

    pub fn requests(&self, key: &str) -> Vec<Req> {
        self.state.requests.lock().unwrap_or_else(|e| e.into_inner()).iter().filter(|r| r.key == key).cloned().collect()
    }

    /// Waits until `key` has received at least `n` requests; returns them.
    pub async fn wait(&self, key: &str, n: usize) -> Vec<Req> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let notified = self.state.notify.notified();
            let got = self.requests(key);
            if got.len() >= n {
                return got;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!("the fake provider got {} {key} request(s), expected {n}", self.requests(key).len());
            }
        }
    }

    pub fn stop(self) {
        self.task.abort();
    }
}

fn next_n(state: &State) -> u64 {
    let mut n = state.counter.lock().unwrap_or_else(|e| e.into_inner());
    *n += 1;
    *n
}

fn classify(method: &str, path: &str, query: &str, files: &HashMap<String, Vec<u8>>) -> String {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    if let Some(rest) = parts.first().and_then(|p| p.strip_prefix("bot")) {
        let _ = rest;
        return format!("tg.{}", parts.get(1).unwrap_or(&""));
    }
    if parts.first() == Some(&"file") {
        return "tg.file".into();
    }
    if parts.first() == Some(&"download") {
        return "wa.download".into();
    }
    if parts.first() == Some(&"cdn") {
        return "cdn".into();
    }
    match (method, parts.as_slice()) {
        ("POST", [_, id, "messages"]) if *id == PAGE => "ig.send".into(),
        ("POST", [_, _, "messages"]) => "wa.send".into(),
        ("POST", [_, _, "media"]) => "wa.upload".into(),
        ("GET", [_, _, "message_templates"]) => "wa.templates".into(),
        ("GET", [_, id]) if files.contains_key(*id) => "wa.media".into(),
        ("GET", [_, id]) if *id == PAGE => "ig.page".into(),
        ("GET", [_, _]) if query.contains("username") => "ig.profile".into(),
        ("GET", [_, _]) if query.contains("display_phone_number") => "wa.phone".into(),
        _ => "unknown".into(),
    }
}

async fn handle(
    axum::extract::State(state): axum::extract::State<Arc<State>>,
    req: axum::extract::Request,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let headers: HashMap<String, String> = req
        .headers()
        .iter()
        .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_string(), v.to_string())))
        .collect();
    let body = axum::body::to_bytes(req.into_body(), 64 * 1024 * 1024).await.map(|b| b.to_vec()).unwrap_or_default();
    let key = {
        let files = state.files.lock().unwrap_or_else(|e| e.into_inner());
        classify(&method, &path, &query, &files)
    };
    let recorded = Req {
        method,
        path: path.clone(),
        query,
        headers: headers.clone(),
        body: body.clone(),
        key: key.clone(),
        at: std::time::Instant::now(),
    };
    state.requests.lock().unwrap_or_else(|e| e.into_inner()).push(recorded.clone());
    state.notify.notify_waiters();

    let scripted = state.scripts.lock().unwrap_or_else(|e| e.into_inner()).get_mut(&key).and_then(VecDeque::pop_front);
    if let Some(reply) = scripted {
        let (status, value) = match reply {
            Reply::Json(s, v) => (s, v),
            Reply::Slow(d, s, v) => {
                tokio::time::sleep(d).await;
                (s, v)
            }
        };
        let code = axum::http::StatusCode::from_u16(status).unwrap_or(axum::http::StatusCode::OK);
        return (code, axum::Json(value)).into_response();
    }
    let base = state.base.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let n = next_n(&state);
    let file = |id: &str| state.files.lock().unwrap_or_else(|e| e.into_inner()).get(id).cloned();
    let json = |v: Value| axum::Json(v).into_response();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match key.as_str() {
        "wa.send" => json(json!({"messaging_product": "whatsapp", "contacts": [{"input": "x", "wa_id": "x"}],
            "messages": [{"id": format!("wamid.out-{n}")}]})),
        "wa.upload" => json(json!({"id": format!("media-up-{n}")})),
        "wa.media" => {
            let id = parts.get(1).copied().unwrap_or("");
            let size = file(id).map(|f| f.len()).unwrap_or(0);
            json(json!({"url": format!("{base}/download/{id}"), "mime_type": "image/png", "sha256": "x",
                "file_size": size, "id": id, "messaging_product": "whatsapp"}))
        }
        "wa.download" | "cdn" => {
            if key == "wa.download" && recorded.bearer().as_deref() != Some(TOKEN) {
                return (axum::http::StatusCode::UNAUTHORIZED, "no token").into_response();
            }
            match file(parts.get(1).copied().unwrap_or("")) {
                Some(bytes) => bytes.into_response(),
                None => axum::http::StatusCode::NOT_FOUND.into_response(),
            }
        }
        "wa.phone" => json(json!({"display_phone_number": "+1 555-000-1111", "verified_name": "Acme", "id": PNID})),
        "wa.templates" => json(json!({"data": [], "paging": {"cursors": {"before": "", "after": ""}}})),
        "ig.send" => {
            let to = serde_json::from_slice::<Value>(&body).map(|v| v["recipient"]["id"].clone()).unwrap_or_default();
            json(json!({"recipient_id": to, "message_id": format!("mid.out-{n}")}))
        }
        "ig.profile" => json(json!({"name": "Pia Ruiz", "username": "pia.ruiz", "id": parts.get(1)})),
        "ig.page" => {
            json(json!({"name": "Acme Store", "id": PAGE, "instagram_business_account": {"username": "acme"}}))
        }
        "tg.getFile" => {
            let v: Value = serde_json::from_slice(&body).unwrap_or_default();
            let id = v["file_id"].as_str().unwrap_or("");
            let size = file(id).map(|f| f.len()).unwrap_or(0);
            json(
                json!({"ok": true, "result": {"file_id": id, "file_unique_id": id, "file_size": size, "file_path": format!("files/{id}")}}),
            )
        }
        "tg.file" => match file(parts.last().copied().unwrap_or("")) {
            Some(bytes) => bytes.into_response(),
            None => axum::http::StatusCode::NOT_FOUND.into_response(),
        },
        "tg.getMe" => json(
            json!({"ok": true, "result": {"id": 777, "is_bot": true, "first_name": "Charla", "username": "charla_test_bot"}}),
        ),
        "tg.setWebhook" => json(json!({"ok": true, "result": true, "description": "Webhook was set"})),
        "tg.getWebhookInfo" => json(json!({"ok": true, "result": {"url": "", "pending_update_count": 0}})),
        k if k.starts_with("tg.send") => {
            let chat = chat_id_of(&headers, &body);
            json(
                json!({"ok": true, "result": {"message_id": 1000 + n, "date": 1, "chat": {"id": chat, "type": "private"}}}),
            )
        }
        _ => {
            (axum::http::StatusCode::NOT_FOUND, axum::Json(json!({"error": {"message": "unknown path", "code": 100}})))
                .into_response()
        }
    }
}

/// The `chat_id` of a Telegram send, JSON or multipart.
fn chat_id_of(headers: &HashMap<String, String>, body: &[u8]) -> i64 {
    if headers.get("content-type").is_some_and(|c| c.starts_with("application/json")) {
        let v: Value = serde_json::from_slice(body).unwrap_or_default();
        return v["chat_id"].as_i64().or_else(|| v["chat_id"].as_str().and_then(|s| s.parse().ok())).unwrap_or(0);
    }
    multipart_field(body, "chat_id").and_then(|s| s.parse().ok()).unwrap_or(0)
}

/// A text field of a multipart body.
pub fn multipart_field(body: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let marker = format!("name=\"{name}\"\r\n\r\n");
    let start = text.find(&marker)? + marker.len();
    let end = text[start..].find("\r\n")?;
    Some(text[start..start + end].to_string())
}

// ------------------------------------------------------------------ helpers

pub fn hub_signature(body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(APP_SECRET.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// POSTs raw bytes to a hook with extra headers.
pub async fn post_hook(s: &TestServer, path: &str, body: &[u8], headers: &[(&str, String)]) -> (u16, Value) {
    let mut req = s.client.post(s.url(path)).header("content-type", "application/json").body(body.to_vec());
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    crate::common::read(req.send().await.unwrap_or_else(|e| panic!("POST {path}: {e}"))).await
}

/// A correctly signed Meta webhook (WhatsApp, Instagram).
pub async fn meta_hook(s: &TestServer, path: &str, body: &Value) -> (u16, Value) {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let sig = hub_signature(&bytes);
    post_hook(s, path, &bytes, &[("x-hub-signature-256", sig)]).await
}

/// Test settings: quick retries, short timeouts, quick polls.
pub async fn server(backend: crate::common::Backend) -> TestServer {
    TestServer::start_with(backend, |c| {
        c.delivery_backoff = Duration::from_millis(50);
        c.delivery_timeout = Duration::from_millis(1500);
        c.delivery_max_attempts = 3;
        c.jobs_poll = Duration::from_millis(50);
        c.media_timeout = Duration::from_secs(5);
        c.telegram_chat_interval = Duration::from_millis(300);
        c.telegram_group_interval = Duration::from_millis(300);
    })
    .await
}

/// Polls `check` until it gives Some, for at most [`WAIT`].
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A message of the conversation by id, through the API.
pub async fn message(s: &TestServer, token: &str, conversation: i64, id: i64) -> Option<Value> {
    let (_, page) = s.get(Some(token), &format!("/api/v1/conversations/{conversation}/messages?limit=200")).await;
    page["items"].as_array()?.iter().find(|m| m["id"] == json!(id)).cloned()
}

/// Waits until the message has `status`; returns it.
pub async fn wait_status(s: &TestServer, token: &str, conversation: i64, id: i64, status: &str) -> Value {
    eventually(&format!("message {id} to be {status}"), || async {
        message(s, token, conversation, id).await.filter(|m| m["status"] == json!(status))
    })
    .await
}

pub async fn messages(s: &TestServer, token: &str, conversation: i64) -> Vec<Value> {
    let (_, page) = s.get(Some(token), &format!("/api/v1/conversations/{conversation}/messages?limit=200")).await;
    page["items"].as_array().cloned().unwrap_or_default()
}

pub async fn conversations(s: &TestServer, token: &str, channel: i64) -> Vec<Value> {
    let (_, page) = s.get(Some(token), &format!("/api/v1/conversations?channel_id={channel}")).await;
    page["items"].as_array().cloned().unwrap_or_default()
}

/// Sends an operator message through the API; its id.
pub async fn send_text(s: &TestServer, token: &str, conversation: i64, body: Value) -> i64 {
    let (st, m) = s.post(Some(token), &format!("/api/v1/conversations/{conversation}/messages"), body).await;
    assert_eq!(st, 201, "send: {m}");
    id_of(&m)
}

pub fn error_code(v: &Value) -> &str {
    code(v)
}
