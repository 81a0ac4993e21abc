//! Hands the bus's messages to the visitor sockets they concern.
//!
//! A node may hold tens of thousands of widget sockets, and each cares about one conversation:
//! its visitor's. Were each to read the whole bus, every event of the workspace (any channel,
//! any conversation) would wake every one of them. One task reads the bus instead and passes
//! each event of a conversation to the sockets of that conversation's visitor, found by
//! (channel, visitor id): a lookup of the conversation's visitor the first time the router sees
//! it (cached), and nothing at all for channels without a visitor online. A socket learns of
//! its visitor's new conversation the same way, so it needs no conversation to register.
//!
//! Each socket has a small queue; a socket too slow to keep up loses what overflows and is
//! told to resynchronise ([`Subscription::take_lagged`]), as it is when the router itself
//! falls behind the bus or the bus may have lost messages.

use crate::bus::{Bus, BusMessage};
use charla_core::Id;
use charla_store::Store;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::{broadcast, mpsc};

/// Messages waiting for one socket before it counts as lagged.
const QUEUE: usize = 128;
/// Conversations whose visitor the router remembers; past this, it forgets them all.
const OWNERS_KEPT: usize = 65_536;

/// A visitor: (channel id, the visitor's id on it).
type VisitorKey = (Id, String);

struct Sub {
    tx: mpsc::Sender<Arc<BusMessage>>,
    lagged: Arc<AtomicBool>,
}

impl Sub {
    fn deliver(&self, msg: &Arc<BusMessage>) {
        if let Err(mpsc::error::TrySendError::Full(_)) = self.tx.try_send(msg.clone()) {
            self.lagged.store(true, Ordering::Relaxed);
        }
    }
}

#[derive(Default)]
struct Routes {
    next_id: u64,
    /// Sockets by visitor, each under its id.
    by_visitor: HashMap<VisitorKey, Vec<(u64, Sub)>>,
    /// Sockets online per channel (no lookup for a channel without any).
    per_channel: HashMap<Id, usize>,
    /// Each conversation's visitor, None when it has none (another channel's kind).
    owners: HashMap<Id, Option<String>>,
}

/// The node's visitor sockets, by visitor.
#[derive(Default)]
pub struct VisitorRouter {
    routes: Arc<Mutex<Routes>>,
    task: OnceLock<tokio::task::JoinHandle<()>>,
}

impl Drop for VisitorRouter {
    fn drop(&mut self) {
        if let Some(task) = self.task.get() {
            task.abort();
        }
    }
}

/// A socket's share of the router: what concerns its visitor.
pub struct Subscription {
    id: u64,
    key: VisitorKey,
    rx: mpsc::Receiver<Arc<BusMessage>>,
    lagged: Arc<AtomicBool>,
    routes: Arc<Mutex<Routes>>,
}

impl Subscription {
    /// The next message for this visitor; None once the router has stopped.
    pub async fn recv(&mut self) -> Option<Arc<BusMessage>> {
        self.rx.recv().await
    }

    /// Whether messages for this socket were dropped since the last call (it should resync).
    pub fn take_lagged(&self) -> bool {
        self.lagged.swap(false, Ordering::Relaxed)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(subs) = routes.by_visitor.get_mut(&self.key) {
            subs.retain(|(id, _)| *id != self.id);
            if subs.is_empty() {
                routes.by_visitor.remove(&self.key);
            }
        }
        if let Some(n) = routes.per_channel.get_mut(&self.key.0) {
            *n -= 1;
            if *n == 0 {
                routes.per_channel.remove(&self.key.0);
            }
        }
    }
}

impl VisitorRouter {
    /// Registers a socket of visitor `visitor_id` of channel `channel_id`: from now on it hears
    /// about its visitor's conversations. Starts the router on first use.
    pub fn register(
        &self,
        bus: &Arc<dyn Bus>,
        store: &Arc<dyn Store>,
        channel_id: Id,
        visitor_id: &str,
    ) -> Subscription {
        self.task.get_or_init(|| tokio::spawn(route(bus.subscribe(), store.clone(), self.routes.clone())));
        let (tx, rx) = mpsc::channel(QUEUE);
        let lagged = Arc::new(AtomicBool::new(false));
        let key = (channel_id, visitor_id.to_string());
        let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        routes.next_id += 1;
        let id = routes.next_id;
        routes.by_visitor.entry(key.clone()).or_default().push((id, Sub { tx, lagged: lagged.clone() }));
        *routes.per_channel.entry(channel_id).or_default() += 1;
        Subscription { id, key, rx, lagged, routes: self.routes.clone() }
    }
}

/// The conversation (and its channel) a message of the bus is about, if any.
fn conversation_of(msg: &BusMessage) -> Option<(Id, Id, Id, bool)> {
    let (workspace_id, access, kind, payload) = match msg {
        BusMessage::Event(e) => (e.workspace_id, e.access.as_ref(), e.kind.as_str(), &e.payload),
        BusMessage::Ephemeral(x) => (x.workspace_id, x.access.as_ref(), x.kind.as_str(), &x.payload),
        BusMessage::Resync => return None,
    };
    let channel_id = access?.channel_id;
    let field = if kind.starts_with("conversation.") { "id" } else { "conversation_id" };
    let conversation_id = payload.get(field).and_then(Value::as_i64)?;
    Some((workspace_id, channel_id, conversation_id, kind == "conversation.deleted"))
}

async fn route(mut rx: broadcast::Receiver<Arc<BusMessage>>, store: Arc<dyn Store>, routes: Arc<Mutex<Routes>>) {
    loop {
        let msg = match rx.recv().await {
            Ok(msg) => msg,
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::info!(missed = n, "visitor router fell behind the bus; visitors resynchronise");
                Arc::new(BusMessage::Resync)
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        if matches!(*msg, BusMessage::Resync) {
            let routes = routes.lock().unwrap_or_else(|e| e.into_inner());
            routes.by_visitor.values().flatten().for_each(|(_, sub)| sub.deliver(&msg));
            continue;
        }
        let Some((workspace_id, channel_id, conversation_id, deleted)) = conversation_of(&msg) else { continue };
        let owner = {
            let routes = routes.lock().unwrap_or_else(|e| e.into_inner());
            if !routes.per_channel.contains_key(&channel_id) {
                continue;
            }
            routes.owners.get(&conversation_id).cloned()
        };
        let owner = match owner {
            Some(owner) => owner,
            // A deleted conversation can no longer be looked up: its channel's sockets check it.
            None if deleted => {
                let routes = routes.lock().unwrap_or_else(|e| e.into_inner());
                routes
                    .by_visitor
                    .iter()
                    .filter(|((channel, _), _)| *channel == channel_id)
                    .flat_map(|(_, subs)| subs)
                    .for_each(|(_, sub)| sub.deliver(&msg));
                continue;
            }
            None => match store.conversation_visitor(workspace_id, conversation_id).await {
                Ok(found) => {
                    let owner = found.map(|d| d.visitor.external_id);
                    let mut routes = routes.lock().unwrap_or_else(|e| e.into_inner());
                    if routes.owners.len() >= OWNERS_KEPT {
                        routes.owners.clear();
                    }
                    routes.owners.insert(conversation_id, owner.clone());
                    owner
                }
                Err(e) => {
                    // Not known who it is for: the channel's sockets resynchronise.
                    tracing::warn!(conversation_id, "visitor router: {e}");
                    let resync = Arc::new(BusMessage::Resync);
                    let routes = routes.lock().unwrap_or_else(|e| e.into_inner());
                    routes
                        .by_visitor
                        .iter()
                        .filter(|((channel, _), _)| *channel == channel_id)
                        .flat_map(|(_, subs)| subs)
                        .for_each(|(_, sub)| sub.deliver(&resync));
                    continue;
                }
            },
        };
        if let Some(visitor_id) = owner {
            let routes = routes.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(subs) = routes.by_visitor.get(&(channel_id, visitor_id)) {
                subs.iter().for_each(|(_, sub)| sub.deliver(&msg));
            }
        }
    }
}
