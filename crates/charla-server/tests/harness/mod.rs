//! Shared pieces of the realtime, webhook and job tests: in-process servers on 127.0.0.1:0, a
//! fresh database per test (SQLite in a temp folder, or a PostgreSQL database created and
//! dropped), data made through the store, signed webhook calls, a WebSocket client and a fake
//! integrator that records what Charla POSTs to it.
//!
//! Tests synchronise on events (WebSocket frames, recorded requests); a bounded poll is used
//! only to wait for database state.

#![allow(dead_code)]

use charla_core::*;
use charla_server::{Config, Running};
use charla_store::{NewChannel, NewUser};
use futures_util::{SinkExt, StreamExt};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// How long any single wait may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(20);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database for one test: SQLite (the file lives in the server's data folder) or a fresh
/// PostgreSQL database, dropped by [`Db::drop`].
pub struct Db {
    pub url: Option<String>,
    pg_name: Option<String>,
}

pub fn pg_admin_url() -> String {
    std::env::var("CHARLA_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

pub fn nats_url() -> String {
    std::env::var("CHARLA_TEST_NATS_URL").unwrap_or_else(|_| "127.0.0.1:4222".into())
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A name no other test (in this or a parallel run) uses.
pub fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("{prefix}_{}_{}_{}", std::process::id(), n, nanos)
}

async fn pg_admin(sql: &str) {
    use sqlx::{Connection, Executor};
    let mut conn = sqlx::PgConnection::connect(&pg_admin_url())
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL is required for this test ({}): {e}", pg_admin_url()));
    conn.execute(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    let _ = conn.close().await;
}

impl Db {
    pub async fn new(backend: Backend) -> Db {
        match backend {
            Backend::Sqlite => Db { url: None, pg_name: None },
            Backend::Postgres => {
                let name = unique("charla_srv");
                pg_admin(&format!("CREATE DATABASE {name}")).await;
                let admin = pg_admin_url();
                let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(admin.clone());
                Db { url: Some(format!("{base}/{name}")), pg_name: Some(name) }
            }
        }
    }

    pub async fn drop(self) {
        if let Some(name) = self.pg_name {
            pg_admin(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
        }
    }
}

/// Test settings: port 0, quick retries and polls.
pub fn config(data_dir: &Path, db: &Db) -> Config {
    Config {
        listen: "127.0.0.1:0".into(),
        data_dir: data_dir.to_path_buf(),
        database_url: db.url.clone(),
        delivery_backoff: Duration::from_millis(50),
        delivery_timeout: Duration::from_secs(3),
        delivery_max_attempts: 3,
        jobs_poll: Duration::from_millis(100),
        ..Config::default()
    }
}

pub async fn start(config: Config) -> Running {
    charla_server::start(config).await.unwrap_or_else(|e| panic!("server start: {e:#}"))
}

/// A workspace with an admin and one API channel (manual routing: conversations stay
/// unassigned).
pub struct Fixture {
    pub workspace_id: Id,
    pub admin: User,
    pub admin_token: String,
    pub channel: Channel,
}

pub async fn fixture(running: &Running, webhook_url: Option<String>) -> Fixture {
    let state = &running.state;
    let ws = state.store.create_workspace("Acme").await.unwrap_or_else(|e| panic!("workspace: {e}"));
    let admin = create_user(running, ws.id, "admin", Role::Admin, &[]).await;
    let channel = create_api_channel(running, ws.id, "Integration", webhook_url).await;
    let admin_token = token(running, &admin);
    Fixture { workspace_id: ws.id, admin, admin_token, channel }
}

pub async fn create_user(running: &Running, workspace_id: Id, name: &str, role: Role, flags: &[Flag]) -> User {
    let email = format!("{}@example.com", unique(name));
    running
        .state
        .store
        .create_user(NewUser {
            workspace_id,
            email,
            name: name.to_string(),
            display_name: String::new(),
            password_hash: "not-a-real-hash".into(),
            role,
            flags: Flags::from_list(flags),
            language: Language::En,
        })
        .await
        .unwrap_or_else(|e| panic!("user: {e}"))
}

pub async fn create_api_channel(
    running: &Running,
    workspace_id: Id,
    name: &str,
    webhook_url: Option<String>,
) -> Channel {
    running
        .state
        .store
        .create_channel(NewChannel {
            workspace_id,
            kind: ChannelKind::Api,
            name: name.to_string(),
            secret: unique("secret"),
            webhook_url,
            routing_mode: RoutingMode::Manual,
            max_message_length: ChannelKind::Api.default_max_message_length(),
            auto_close_after_secs: None,
            response_time_limit_secs: 900,
            greeting: None,
            settings: "{}".into(),
        })
        .await
        .unwrap_or_else(|e| panic!("channel: {e}"))
}

pub async fn set_members(running: &Running, channel: &Channel, user_ids: &[Id]) {
    let w = running
        .state
        .store
        .set_channel_members(channel.workspace_id, channel.id, user_ids)
        .await
        .unwrap_or_else(|e| panic!("members: {e}"));
    running.state.publish(w.events).await;
}

pub fn token(running: &Running, user: &User) -> String {
    charla_server::auth::issue_session(&running.state, user).unwrap_or_else(|e| panic!("token: {e:?}"))
}

// ------------------------------------------------------------------ webhooks

/// `sha256=<hex HMAC-SHA256(secret, body)>`, computed here independently of the server.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

pub fn inbound(message_id: &str, external_id: &str, text: &str) -> Value {
    json!({
        "message_id": message_id,
        "contact": {"external_id": external_id, "name": format!("Contact {external_id}")},
        "text": text,
    })
}

/// POSTs raw bytes with an optional signature header; returns (status, JSON answer).
pub async fn post_raw(url: &str, body: Vec<u8>, signature: Option<String>) -> (u16, Value) {
    let client = reqwest::Client::new();
    let mut req = client.post(url).header("content-type", "application/json").body(body);
    if let Some(sig) = signature {
        req = req.header("X-Charla-Signature", sig);
    }
    let resp = req.send().await.unwrap_or_else(|e| panic!("POST {url}: {e}"));
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// A correctly signed POST to `/hooks/api/{channel}{suffix}`.
pub async fn post_hook(running: &Running, channel: &Channel, suffix: &str, body: &Value) -> (u16, Value) {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let sig = sign(&channel.secret, &bytes);
    post_raw(&format!("http://{}/hooks/api/{}{suffix}", running.addr, channel.id), bytes, Some(sig)).await
}

/// Ingests an inbound message through the webhook; returns (charla message id, conversation id).
pub async fn send_inbound(
    running: &Running,
    channel: &Channel,
    message_id: &str,
    external_id: &str,
    text: &str,
) -> (Id, Id) {
    let (status, answer) = post_hook(running, channel, "", &inbound(message_id, external_id, text)).await;
    assert_eq!(status, 200, "inbound answer: {answer}");
    (id_of(&answer["message_id"]), id_of(&answer["conversation_id"]))
}

pub fn id_of(v: &Value) -> Id {
    v.as_i64().unwrap_or_else(|| panic!("not an id: {v}"))
}

// ------------------------------------------------------------------ waiting

/// Polls `check` (database state) until it gives Some, for at most [`WAIT`].
pub async fn wait_for<T, F, Fut>(what: &str, mut check: F) -> T
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

// ------------------------------------------------------------------ WebSocket client

type Stream = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub struct WsClient {
    stream: Stream,
    /// Frames that arrived before `ready` (the catch-up of a resume).
    pub backlog: Vec<Value>,
    /// `data.seq` of the `ready` frame.
    pub ready_seq: i64,
    /// Highest event seq received.
    pub last_seq: i64,
    /// Pings received from the server.
    pub pings: usize,
}

impl WsClient {
    /// Connects with `?token=` and waits for `ready`.
    pub async fn connect(addr: std::net::SocketAddr, token: &str, since: Option<i64>) -> WsClient {
        let mut url = format!("ws://{addr}/api/v1/ws?token={token}");
        if let Some(s) = since {
            url.push_str(&format!("&since={s}"));
        }
        let (stream, _) =
            tokio_tungstenite::connect_async(url.as_str()).await.unwrap_or_else(|e| panic!("ws connect: {e}"));
        let mut client = WsClient { stream, backlog: Vec::new(), ready_seq: 0, last_seq: since.unwrap_or(0), pings: 0 };
        loop {
            let frame = client.next().await;
            if frame["type"] == "ready" {
                client.ready_seq = frame["data"]["seq"].as_i64().unwrap_or(0);
                break;
            }
            client.backlog.push(frame);
        }
        client
    }

    /// The next JSON frame (pings are counted and skipped).
    pub async fn next(&mut self) -> Value {
        match tokio::time::timeout(WAIT, self.next_inner()).await {
            Ok(v) => v,
            Err(_) => panic!("timed out waiting for a WebSocket frame"),
        }
    }

    async fn next_inner(&mut self) -> Value {
        loop {
            match self.stream.next().await {
                Some(Ok(WsMessage::Text(t))) => {
                    let v: Value =
                        serde_json::from_str(t.as_str()).unwrap_or_else(|e| panic!("frame is not JSON: {e}: {t}"));
                    if let Some(seq) = v["seq"].as_i64() {
                        self.last_seq = self.last_seq.max(seq);
                    }
                    return v;
                }
                Some(Ok(WsMessage::Ping(_))) => self.pings += 1,
                Some(Ok(WsMessage::Close(f))) => panic!("server closed the WebSocket: {f:?}"),
                Some(Ok(_)) => {}
                Some(Err(e)) => panic!("WebSocket error: {e}"),
                None => panic!("WebSocket ended"),
            }
        }
    }

    /// Frames until one matches; returns it and those skipped before it.
    pub async fn until(&mut self, pred: impl Fn(&Value) -> bool) -> (Value, Vec<Value>) {
        self.until_named("a matching frame", pred).await
    }

    pub async fn until_named(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> (Value, Vec<Value>) {
        let mut skipped = Vec::new();
        let result = tokio::time::timeout(WAIT, async {
            loop {
                let f = self.next_inner().await;
                if pred(&f) {
                    return f;
                }
                skipped.push(f);
            }
        })
        .await;
        match result {
            Ok(f) => (f, skipped),
            Err(_) => panic!("timed out waiting for {what}; got {skipped:#?}"),
        }
    }

    /// Waits for a frame of `kind` (other frames are skipped and returned).
    pub async fn until_type(&mut self, kind: &str) -> (Value, Vec<Value>) {
        self.until_named(kind, |f| f["type"] == kind).await
    }

    /// The next ping from the server.
    pub async fn wait_ping(&mut self) {
        let start = self.pings;
        let r = tokio::time::timeout(WAIT, async {
            while self.pings == start {
                match self.stream.next().await {
                    Some(Ok(WsMessage::Ping(_))) => self.pings += 1,
                    Some(Ok(_)) => {}
                    other => panic!("WebSocket ended while waiting for a ping: {other:?}"),
                }
            }
        })
        .await;
        assert!(r.is_ok(), "no ping from the server");
    }

    /// The next JSON frame, or Err(close code) when the server closes.
    pub async fn next_or_close(&mut self) -> Result<Value, Option<u16>> {
        loop {
            match self.stream.next().await {
                Some(Ok(WsMessage::Text(t))) => {
                    return Ok(serde_json::from_str(t.as_str()).unwrap_or_else(|e| panic!("frame is not JSON: {e}")));
                }
                Some(Ok(WsMessage::Close(f))) => return Err(f.map(|f| u16::from(f.code))),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return Err(None),
            }
        }
    }

    /// Reads until the server closes; returns the close code.
    pub async fn expect_close(&mut self) -> Option<u16> {
        let r = tokio::time::timeout(WAIT, async {
            loop {
                match self.stream.next().await {
                    Some(Ok(WsMessage::Close(f))) => return f.map(|f| u16::from(f.code)),
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => return None,
                }
            }
        })
        .await;
        r.unwrap_or_else(|_| panic!("the server did not close the WebSocket"))
    }

    pub async fn send(&mut self, v: Value) {
        self.stream.send(WsMessage::Text(v.to_string().into())).await.unwrap_or_else(|e| panic!("ws send: {e}"));
    }

    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
    }
}

/// Frames (of a list) that concern conversation `id`.
pub fn about_conversation(frames: &[Value], id: Id) -> Vec<Value> {
    frames
        .iter()
        .filter(|f| {
            let d = &f["data"];
            (f["type"].as_str().is_some_and(|t| t.starts_with("conversation.")) && d["id"] == json!(id))
                || d["conversation_id"] == json!(id)
        })
        .cloned()
        .collect()
}

// ------------------------------------------------------------------ fake integrator

/// A port that refuses connections (bound, not listening) and stays reserved for the test;
/// [`Receiver::on_reserved`] starts listening on it.
pub fn refusing_port() -> tokio::net::TcpSocket {
    let socket = tokio::net::TcpSocket::new_v4().unwrap_or_else(|e| panic!("{e}"));
    socket.set_reuseaddr(true).unwrap_or_else(|e| panic!("{e}"));
    socket.bind("127.0.0.1:0".parse().unwrap_or_else(|e| panic!("{e}"))).unwrap_or_else(|e| panic!("{e}"));
    socket
}

pub fn port_url(socket: &tokio::net::TcpSocket, path: &str) -> String {
    format!("http://{}{path}", socket.local_addr().unwrap_or_else(|e| panic!("{e}")))
}

/// One request Charla made to the integrator's webhook.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub signature: Option<String>,
    pub delivery: Option<String>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("webhook body is not JSON: {e}"))
    }
}

struct ReceiverState {
    /// Only `/hook/<path>` is this test's: a stray delivery from another test that reuses
    /// the port gets a 404 and is not recorded.
    path: String,
    script: Mutex<VecDeque<u16>>,
    all: Mutex<Vec<Recorded>>,
    tx: mpsc::UnboundedSender<Recorded>,
}

/// A tiny integrator: records each POST and answers the scripted statuses in turn, then 200
/// with `{"id": "prov-<n>"}`.
pub struct Receiver {
    pub addr: std::net::SocketAddr,
    path: String,
    state: Arc<ReceiverState>,
    rx: mpsc::UnboundedReceiver<Recorded>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    pub async fn start(script: &[u16]) -> Receiver {
        let listener =
            tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("receiver bind: {e}"));
        Receiver::on(listener, script)
    }

    /// Starts listening on a reserved port (see [`refusing_port`]), at `/hook/<path>`.
    pub fn on_reserved(socket: tokio::net::TcpSocket, path: &str, script: &[u16]) -> Receiver {
        let listener = socket.listen(1024).unwrap_or_else(|e| panic!("listen: {e}"));
        Receiver::serve(listener, path.to_string(), script)
    }

    pub fn on(listener: tokio::net::TcpListener, script: &[u16]) -> Receiver {
        Receiver::serve(listener, unique("hook"), script)
    }

    fn serve(listener: tokio::net::TcpListener, path: String, script: &[u16]) -> Receiver {
        use axum::extract::State;
        use axum::http::{HeaderMap, StatusCode};
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let (tx, rx) = mpsc::unbounded_channel();
        let state = Arc::new(ReceiverState {
            path: path.clone(),
            script: Mutex::new(script.iter().copied().collect()),
            all: Mutex::new(Vec::new()),
            tx,
        });
        async fn hook(
            State(s): State<Arc<ReceiverState>>,
            axum::extract::Path(path): axum::extract::Path<String>,
            headers: HeaderMap,
            body: axum::body::Bytes,
        ) -> (StatusCode, axum::Json<Value>) {
            if path != s.path {
                return (StatusCode::NOT_FOUND, axum::Json(json!({"error": "not this test's hook"})));
            }
            let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(String::from);
            let rec = Recorded {
                signature: h("x-charla-signature"),
                delivery: h("x-charla-delivery"),
                content_type: h("content-type"),
                body: body.to_vec(),
            };
            let n = {
                let mut all = s.all.lock().unwrap_or_else(|e| e.into_inner());
                all.push(rec.clone());
                all.len()
            };
            let _ = s.tx.send(rec);
            let status = s.script.lock().unwrap_or_else(|e| e.into_inner()).pop_front().unwrap_or(200);
            let code = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            (code, axum::Json(json!({"id": format!("prov-{n}")})))
        }
        let app = axum::Router::new().route("/hook/{path}", axum::routing::post(hook)).with_state(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { addr, path, state, rx, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook/{}", self.addr, self.path)
    }

    /// The next request received.
    pub async fn next(&mut self) -> Recorded {
        match tokio::time::timeout(WAIT, self.rx.recv()).await {
            Ok(Some(r)) => r,
            _ => panic!("the integrator's webhook received nothing"),
        }
    }

    pub fn count(&self) -> usize {
        self.state.all.lock().map(|a| a.len()).unwrap_or(0)
    }

    pub fn stop(self) {
        self.task.abort();
    }
}
