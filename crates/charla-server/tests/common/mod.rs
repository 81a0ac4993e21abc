//! Shared pieces of the REST API tests: an in-process server on 127.0.0.1:0 with a fresh
//! database (SQLite in a temp folder, or a PostgreSQL database created for the test and
//! dropped at the end), data made directly through the store, and small JSON HTTP helpers.

#![allow(dead_code)]

use charla_core::*;
use charla_server::{AppState, Config, Running};
use charla_store::{ContactInput, InboundMessage, Ingested, NewUser};
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};

pub const PASSWORD: &str = "correct horse battery";

pub fn pg_admin_url() -> String {
    std::env::var("CHARLA_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A running server with its own data folder and database.
pub struct TestServer {
    running: Option<Running>,
    pub base: String,
    pub client: reqwest::Client,
    pub dir: tempfile::TempDir,
    pg_db: Option<String>,
}

/// Runs a test body on SQLite and on PostgreSQL: `both!(name);` next to `async fn
/// name(s: &TestServer)` makes `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let s = $crate::common::TestServer::start().await;
                super::$name(&s).await;
                s.stop().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let s = $crate::common::TestServer::start_pg().await;
                super::$name(&s).await;
                s.stop().await;
            }
        }
    )*};
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(Backend::Sqlite, |_| {}).await
    }

    pub async fn start_pg() -> TestServer {
        TestServer::start_with(Backend::Postgres, |_| {}).await
    }

    pub async fn start_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let (database_url, pg_db) = match backend {
            Backend::Sqlite => (None, None),
            Backend::Postgres => {
                let name = unique("charla_api");
                pg_admin(&format!("CREATE DATABASE {name}")).await;
                let admin = pg_admin_url();
                let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(admin.clone());
                (Some(format!("{base}/{name}")), Some(name))
            }
        };
        let mut config = Config {
            listen: "127.0.0.1:0".into(),
            data_dir: dir.path().to_path_buf(),
            database_url,
            ..Default::default()
        };
        tweak(&mut config);
        let running = charla_server::start(config).await.unwrap_or_else(|e| panic!("server start: {e:#}"));
        let base = format!("http://{}", running.addr);
        let client = reqwest::Client::builder().build().unwrap_or_else(|e| panic!("client: {e}"));
        TestServer { running: Some(running), base, client, dir, pg_db }
    }

    pub fn state(&self) -> &AppState {
        match &self.running {
            Some(r) => &r.state,
            None => panic!("server stopped"),
        }
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
        if let Some(db) = self.pg_db.take() {
            pg_admin(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    // ------------------------------------------------------------ data through the store

    pub async fn workspace(&self, name: &str) -> Workspace {
        self.state().store.create_workspace(name).await.unwrap_or_else(|e| panic!("workspace: {e}"))
    }

    /// A user with [`PASSWORD`]; the e-mail is made unique.
    pub async fn user(&self, workspace_id: Id, name: &str, role: Role, flags: &[Flag]) -> User {
        let email = format!("{}@example.com", unique(name)).to_lowercase();
        let password_hash = charla_server::auth::hash_password(PASSWORD.to_string())
            .await
            .unwrap_or_else(|e| panic!("hash: {}", e.message));
        self.state()
            .store
            .create_user(NewUser {
                workspace_id,
                email,
                name: name.to_string(),
                display_name: String::new(),
                password_hash,
                role,
                flags: Flags::from_list(flags),
                language: Language::En,
            })
            .await
            .unwrap_or_else(|e| panic!("user: {e}"))
    }

    /// A session token without going through the login route.
    pub fn token(&self, user: &User) -> String {
        charla_server::auth::issue_session(self.state(), user).unwrap_or_else(|e| panic!("token: {}", e.message))
    }

    /// An API channel made through the store (members set too).
    pub async fn channel(&self, workspace_id: Id, name: &str, member_ids: &[Id]) -> Channel {
        let store = &self.state().store;
        let ch = store
            .create_channel(charla_store::NewChannel {
                workspace_id,
                kind: ChannelKind::Api,
                name: name.to_string(),
                secret: unique("secret"),
                webhook_url: None,
                routing_mode: RoutingMode::Manual,
                max_message_length: ChannelKind::Api.default_max_message_length(),
                auto_close_after_secs: None,
                response_time_limit_secs: 900,
                greeting: None,
                settings: "{}".into(),
            })
            .await
            .unwrap_or_else(|e| panic!("channel: {e}"));
        if member_ids.is_empty() {
            return ch;
        }
        let w =
            store.set_channel_members(workspace_id, ch.id, member_ids).await.unwrap_or_else(|e| panic!("members: {e}"));
        self.state().publish(w.events).await;
        w.value
    }

    /// An inbound message, as a channel adapter would store it; events are published.
    pub async fn inbound(
        &self,
        channel_id: Id,
        external_id: &str,
        name: &str,
        phone: Option<&str>,
        text: &str,
    ) -> Ingested {
        self.inbound_full(channel_id, external_id, name, phone, text, false).await
    }

    pub async fn inbound_full(
        &self,
        channel_id: Id,
        external_id: &str,
        name: &str,
        phone: Option<&str>,
        text: &str,
        is_group: bool,
    ) -> Ingested {
        let msg = InboundMessage {
            channel_id,
            provider_message_id: unique("pm"),
            contact: ContactInput {
                external_id: external_id.to_string(),
                name: Some(name.to_string()),
                phone: phone.map(str::to_string),
                ..Default::default()
            },
            text: text.to_string(),
            attachment_ids: vec![],
            is_group,
        };
        let w = self
            .state()
            .store
            .ingest_inbound(msg, charla_server::state::now_ms())
            .await
            .unwrap_or_else(|e| panic!("inbound: {e}"));
        self.state().publish(w.events).await;
        w.value
    }

    /// Assigns through the store (as an admin would).
    pub async fn assign(&self, workspace_id: Id, conversation_id: Id, actor: Id, user_id: Option<Id>) -> Conversation {
        let w = self
            .state()
            .store
            .assign(workspace_id, conversation_id, actor, user_id, None, charla_server::state::now_ms())
            .await
            .unwrap_or_else(|e| panic!("assign: {e}"));
        self.state().publish(w.events).await;
        w.value
    }

    // ------------------------------------------------------------ HTTP

    pub async fn login(&self, email: &str, password: &str) -> String {
        let (status, body) =
            self.post(None, "/api/v1/auth/login", serde_json::json!({"email": email, "password": password})).await;
        assert_eq!(status, 200, "login {email}: {body}");
        body["token"].as_str().unwrap_or_else(|| panic!("no token in {body}")).to_string()
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        token: Option<&str>,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.client.request(method.clone(), self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        read(resp).await
    }

    pub async fn get(&self, token: Option<&str>, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, token, path, None).await
    }
    pub async fn post(&self, token: Option<&str>, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, token, path, Some(body)).await
    }
    pub async fn put(&self, token: Option<&str>, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::PUT, token, path, Some(body)).await
    }
    pub async fn patch(&self, token: Option<&str>, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::PATCH, token, path, Some(body)).await
    }
    pub async fn delete(&self, token: Option<&str>, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::DELETE, token, path, None).await
    }

    /// Uploads bytes as multipart field `file` (body built by hand: the client has no
    /// multipart feature).
    pub async fn upload(&self, token: Option<&str>, name: &str, claimed_type: &str, bytes: &[u8]) -> (u16, Value) {
        let boundary = "charla-test-boundary-7d9f1c";
        let mut body = Vec::new();
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: {claimed_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let mut req = self
            .client
            .post(self.url("/api/v1/attachments"))
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        match req.send().await {
            Ok(resp) => read(resp).await,
            // The server may answer 413 and close before the client finished sending.
            Err(e) => (0, Value::String(e.to_string())),
        }
    }
}

/// Status and JSON body (Null when empty, the text as a string when not JSON).
pub async fn read(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    if text.is_empty() {
        return (status, Value::Null);
    }
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// The error code of an error answer.
pub fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

pub fn id_of(v: &Value) -> Id {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id in {v}"))
}
