use crate::bus::{self, Bus};
use crate::config::Config;
use anyhow::Context;
use charla_core::{Channel, ChannelKind, Id};
use charla_store::sql::{Options, SqlStore};
use charla_store::{Event, Store, StoreError};
use std::sync::Arc;

/// What every handler and worker shares. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub bus: Arc<dyn Bus>,
    pub config: Arc<Config>,
    /// Key for session tokens and confirmation tokens (from the store, shared by all nodes).
    pub secret: Arc<Vec<u8>>,
    /// Client for outbound webhooks.
    pub http: reqwest::Client,
    /// Wakes the job runner when new work is due soon.
    pub jobs_wake: Arc<tokio::sync::Notify>,
    pub metrics: metrics_exporter_prometheus::PrometheusHandle,
    /// Messengers' send limits (token buckets per bot, chat, number).
    pub send_limits: Arc<crate::channels::SendLimits>,
    /// The website channel's visitor side: GeoIP, rate limits, mail (see [`crate::visitor`]).
    pub visitor: Arc<crate::visitor::VisitorState>,
    /// Channel kinds by id (a kind never changes), for the reply window of conversations.
    channel_kinds: Arc<std::sync::RwLock<std::collections::HashMap<Id, ChannelKind>>>,
    /// Channels as the inbound webhooks read them, each for at most [`HOOK_CHANNEL_TTL`].
    hook_channels: Arc<std::sync::RwLock<std::collections::HashMap<Id, (std::time::Instant, Channel)>>>,
    /// Paces the operator sockets' counter queries (see [`crate::ws::CountsGate`]).
    pub counts_gate: Arc<crate::ws::CountsGate>,
}

/// How long an inbound webhook trusts a channel it has read (secret, active, limits) before
/// reading it again. Changes made on this node take effect at once (see
/// [`AppState::forget_channel`]); on other nodes within this time.
pub const HOOK_CHANNEL_TTL: std::time::Duration = std::time::Duration::from_secs(1);

impl AppState {
    pub async fn open(config: Config) -> anyhow::Result<AppState> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create data folder {}", config.data_dir.display()))?;
        std::fs::create_dir_all(config.data_dir.join("files"))?;
        let url = config.database_url();
        let store =
            SqlStore::open(&url, Options::default()).await.map_err(|e| anyhow::anyhow!("cannot open database: {e}"))?;
        let store: Arc<dyn Store> = Arc::new(store);
        let secret = store.server_secret().await.map_err(|e| anyhow::anyhow!("server secret: {e}"))?;
        let bus = bus::connect(&config, store.clone()).await?;
        let http = reqwest::Client::builder()
            .timeout(config.delivery_timeout)
            .user_agent(concat!("Charla/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let visitor = Arc::new(crate::visitor::VisitorState::new(&config)?);
        Ok(AppState {
            visitor,
            store,
            bus,
            config: Arc::new(config),
            secret: Arc::new(secret),
            http,
            jobs_wake: Arc::new(tokio::sync::Notify::new()),
            metrics: crate::api::health::metrics_handle(),
            send_limits: Arc::new(crate::channels::SendLimits::default()),
            channel_kinds: Arc::default(),
            hook_channels: Arc::default(),
            counts_gate: Arc::default(),
        })
    }

    /// The kind of a channel of the workspace (cached: kinds never change); None when there is
    /// no such channel.
    pub async fn channel_kind(&self, workspace_id: Id, channel_id: Id) -> Option<ChannelKind> {
        if let Some(kind) = self.channel_kinds.read().ok().and_then(|m| m.get(&channel_id).copied()) {
            return Some(kind);
        }
        let kind = self.store.get_channel(workspace_id, channel_id).await.ok()?.kind;
        if let Ok(mut m) = self.channel_kinds.write() {
            m.insert(channel_id, kind);
        }
        Some(kind)
    }

    /// The channel an inbound webhook names, read at most once per [`HOOK_CHANNEL_TTL`]: every
    /// inbound message needs its secret and limits, and a read from the store costs a round trip
    /// to a database connection's thread.
    pub async fn hook_channel(&self, channel_id: Id) -> Result<Channel, StoreError> {
        let cached = self.hook_channels.read().ok().and_then(|m| m.get(&channel_id).cloned());
        if let Some((read_at, channel)) = cached
            && read_at.elapsed() < HOOK_CHANNEL_TTL
        {
            return Ok(channel);
        }
        let read_at = std::time::Instant::now();
        let channel = self.store.get_channel_by_id(channel_id).await?;
        if let Ok(mut m) = self.hook_channels.write() {
            m.retain(|_, (at, _)| at.elapsed() < HOOK_CHANNEL_TTL);
            m.insert(channel_id, (read_at, channel.clone()));
        }
        Ok(channel)
    }

    /// Drops the webhooks' copy of a channel after it changed (settings, secret, deletion).
    pub fn forget_channel(&self, channel_id: Id) {
        if let Ok(mut m) = self.hook_channels.write() {
            m.remove(&channel_id);
        }
    }

    /// Fills `reply_window_expires_at` of a conversation event's wire JSON.
    pub async fn fill_reply_window(&self, workspace_id: Id, data: &mut serde_json::Value) {
        let Some(channel_id) = data.get("channel_id").and_then(|v| v.as_i64()) else { return };
        if data.get("last_inbound_at").is_none() {
            return;
        }
        let last = data["last_inbound_at"].as_str().and_then(crate::wire::parse_time);
        if let Some(kind) = self.channel_kind(workspace_id, channel_id).await {
            data["reply_window_expires_at"] =
                serde_json::json!(crate::wire::opt_time(charla_core::window::expires_at(kind, last)));
        }
    }

    /// Fills the reply window of a conversation's wire shape (`reply_window_expires_at`).
    pub async fn with_reply_window(
        &self,
        workspace_id: Id,
        mut c: crate::wire::Conversation,
    ) -> crate::wire::Conversation {
        if let Some(kind) = self.channel_kind(workspace_id, c.channel_id).await {
            c.set_reply_window(kind);
        }
        c
    }

    /// Sends what a write produced to every node's connections.
    pub async fn publish(&self, events: Vec<Event>) {
        if !events.is_empty() {
            self.bus.publish(events).await;
        }
    }
}

/// Current time in Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}
