//! The realtime bus: how events reach every node's WebSocket connections.
//!
//! In-process by default (a broadcast channel). With several nodes on PostgreSQL, NATS carries
//! events between nodes: every node publishes to one subject and re-broadcasts what it hears,
//! its own messages included, so a node sees every event through one path and in one order.
//!
//! Nothing is silently dropped: the durable event log is the truth and the bus only a fast
//! path. A connection whose receiver falls behind (`Lagged`) re-reads the log from its last
//! position, and so does every connection when the bus itself may have lost messages (a NATS
//! reconnect or slow-consumer drop), announced by [`BusMessage::Resync`].

use crate::config::Config;
use async_trait::async_trait;
use charla_core::Id;
use charla_core::access::ConversationAccess;
use charla_store::{Event, Store};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio::sync::broadcast;

/// What travels on the bus.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum BusMessage {
    /// A durable event from the log (has a seq).
    Event(Event),
    /// Not stored, not resumed: typing indicators and the like.
    Ephemeral(Ephemeral),
    /// Local only, never sent between nodes: messages may have been lost on the way (the NATS
    /// connection dropped or the server cut a slow consumer). Receivers re-read the event log
    /// from their last position.
    Resync,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ephemeral {
    pub workspace_id: Id,
    /// `typing`...
    pub kind: String,
    /// Receivers must be able to see this conversation.
    pub access: Option<ConversationAccess>,
    /// The user it came from (not echoed back to them).
    pub from_user_id: Option<Id>,
    pub payload: serde_json::Value,
}

#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Delivers durable events to every node, in order.
    async fn publish(&self, events: Vec<Event>);
    async fn publish_ephemeral(&self, msg: Ephemeral);
    /// This node's stream of everything published (by any node).
    fn subscribe(&self) -> broadcast::Receiver<Arc<BusMessage>>;
}

/// Capacity of the per-node broadcast ring. A connection further behind than this re-reads the
/// event log.
pub const BROADCAST_CAPACITY: usize = 4096;

/// Single-node bus.
pub struct LocalBus {
    tx: broadcast::Sender<Arc<BusMessage>>,
}

impl LocalBus {
    pub fn new() -> LocalBus {
        LocalBus::with_capacity(BROADCAST_CAPACITY)
    }
    pub fn with_capacity(capacity: usize) -> LocalBus {
        let (tx, _) = broadcast::channel(capacity.max(1));
        LocalBus { tx }
    }
    pub fn sender(&self) -> broadcast::Sender<Arc<BusMessage>> {
        self.tx.clone()
    }
}

impl Default for LocalBus {
    fn default() -> Self {
        LocalBus::new()
    }
}

#[async_trait]
impl Bus for LocalBus {
    async fn publish(&self, events: Vec<Event>) {
        for e in events {
            // No receiver is fine: nobody is connected.
            let _ = self.tx.send(Arc::new(BusMessage::Event(e)));
        }
    }
    async fn publish_ephemeral(&self, msg: Ephemeral) {
        let _ = self.tx.send(Arc::new(BusMessage::Ephemeral(msg)));
    }
    fn subscribe(&self) -> broadcast::Receiver<Arc<BusMessage>> {
        self.tx.subscribe()
    }
}

/// The multi-node bus: events go through NATS subject `subject`; each node's subscription
/// feeds its local broadcast ring.
pub struct NatsBus {
    client: async_nats::Client,
    subject: String,
    local: broadcast::Sender<Arc<BusMessage>>,
    relay: tokio::task::JoinHandle<()>,
}

impl NatsBus {
    /// Connects, subscribes and waits until the server has the subscription, so that anything
    /// published after this returns reaches this node.
    pub async fn connect(url: &str, subject: &str, capacity: usize) -> anyhow::Result<NatsBus> {
        let (local, _) = broadcast::channel(capacity.max(1));
        let on_event = local.clone();
        let client = async_nats::ConnectOptions::new()
            .name(concat!("charla/", env!("CARGO_PKG_VERSION")))
            .event_callback(move |event| {
                let local = on_event.clone();
                async move {
                    match event {
                        // A reconnect may have lost messages published meanwhile; a slow
                        // consumer lost some for sure. Connections re-read the log.
                        async_nats::Event::Connected | async_nats::Event::SlowConsumer(_) => {
                            tracing::info!("nats: {event}; connections resynchronise from the event log");
                            let _ = local.send(Arc::new(BusMessage::Resync));
                        }
                        other => tracing::warn!("nats: {other}"),
                    }
                }
            })
            .connect(url)
            .await
            .map_err(|e| anyhow::anyhow!("cannot connect to NATS at {url}: {e}"))?;
        let mut subscriber = client
            .subscribe(subject.to_string())
            .await
            .map_err(|e| anyhow::anyhow!("cannot subscribe to NATS subject {subject}: {e}"))?;
        client.flush().await.map_err(|e| anyhow::anyhow!("NATS flush: {e}"))?;
        let tx = local.clone();
        let relay = tokio::spawn(async move {
            use futures_util::StreamExt;
            while let Some(msg) = subscriber.next().await {
                match serde_json::from_slice::<BusMessage>(&msg.payload) {
                    // Resync is a local signal; one arriving from outside is ignored.
                    Ok(BusMessage::Resync) => {}
                    Ok(m) => {
                        let _ = tx.send(Arc::new(m));
                    }
                    Err(e) => tracing::warn!("nats: undecodable bus message: {e}"),
                }
            }
            tracing::debug!("nats subscription ended");
        });
        Ok(NatsBus { client, subject: subject.to_string(), local, relay })
    }

    async fn send(&self, msg: BusMessage) {
        let bytes = match serde_json::to_vec(&msg) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!("bus message does not serialise: {e}");
                return;
            }
        };
        if let Err(e) = self.client.publish(self.subject.clone(), bytes.into()).await {
            // Other nodes resynchronise from the log when their connection comes back; this
            // node's connections get it directly (they drop duplicates by seq).
            tracing::warn!("nats publish failed: {e}; delivering locally");
            let _ = self.local.send(Arc::new(msg));
        }
    }
}

impl Drop for NatsBus {
    fn drop(&mut self) {
        self.relay.abort();
    }
}

#[async_trait]
impl Bus for NatsBus {
    async fn publish(&self, events: Vec<Event>) {
        for e in events {
            self.send(BusMessage::Event(e)).await;
        }
    }
    async fn publish_ephemeral(&self, msg: Ephemeral) {
        self.send(BusMessage::Ephemeral(msg)).await;
    }
    fn subscribe(&self) -> broadcast::Receiver<Arc<BusMessage>> {
        self.local.subscribe()
    }
}

/// The bus for this node: NATS when `config.nats_url` is set, else in-process.
pub async fn connect(config: &Config, store: Arc<dyn Store>) -> anyhow::Result<Arc<dyn Bus>> {
    // The store is not needed by either bus: connections re-read the log themselves.
    let _ = store;
    match config.nats_url.as_deref() {
        None => Ok(Arc::new(LocalBus::with_capacity(config.bus_capacity))),
        Some(url) => Ok(Arc::new(NatsBus::connect(url, &config.nats_subject, config.bus_capacity).await?)),
    }
}
