//! The realtime bus: how events reach every node's WebSocket connections.
//!
//! In-process by default (a broadcast channel). With several nodes on PostgreSQL, NATS carries
//! events between nodes. A subscriber that falls behind (`Lagged`) re-reads the durable event
//! log from its last seq, so nothing is silently dropped.

use async_trait::async_trait;
use charla_core::access::ConversationAccess;
use charla_core::Id;
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
        let (tx, _) = broadcast::channel(BROADCAST_CAPACITY);
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

/// The bus for this node: NATS when a URL is given, else in-process.
pub async fn connect(nats_url: Option<&str>, store: Arc<dyn Store>) -> anyhow::Result<Arc<dyn Bus>> {
    let _ = store;
    match nats_url {
        None => Ok(Arc::new(LocalBus::new())),
        Some(url) => anyhow::bail!("NATS bus not available yet ({url})"),
    }
}
