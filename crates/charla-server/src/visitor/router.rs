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
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::{Notify, broadcast};

/// Messages waiting for one socket before it counts as lagged.
const QUEUE: usize = 128;
/// Conversations whose visitor the router remembers; past this, it forgets them all.
const OWNERS_KEPT: usize = 65_536;

/// A socket's queue. A plain deque under a lock with a wake-up, not a channel: an idle
/// visitor's costs about a hundred bytes (a tokio channel allocates its first block of slots
/// and cache-padded state up front: about 1 KiB a socket, measured).
#[derive(Default)]
struct Queue {
    messages: Mutex<VecDeque<Arc<BusMessage>>>,
    ready: Notify,
    lagged: AtomicBool,
    closed: AtomicBool,
}

impl Queue {
    fn deliver(&self, msg: &Arc<BusMessage>) {
        {
            let mut messages = self.messages.lock().unwrap_or_else(|e| e.into_inner());
            if messages.len() >= QUEUE {
                self.lagged.store(true, Ordering::Relaxed);
                return;
            }
            messages.push_back(msg.clone());
        }
        self.ready.notify_one();
    }

    fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        self.ready.notify_one();
    }
}

type Sub = Arc<Queue>;

/// A channel's sockets by visitor id, each under its own id.
type ChannelSockets = HashMap<String, Vec<(u64, Sub)>>;

#[derive(Default)]
struct Routes {
    next_id: u64,
    /// Only channels with a socket online (the router looks nothing up for the others).
    by_channel: HashMap<Id, ChannelSockets>,
    /// Each conversation's visitor, None when it has none (another channel's kind).
    owners: HashMap<Id, Option<String>>,
}

impl Routes {
    /// Every socket of the channel (all of them without one).
    fn sockets(&self, channel_id: Option<Id>) -> impl Iterator<Item = &Sub> {
        self.by_channel
            .iter()
            .filter(move |(id, _)| channel_id.is_none_or(|c| c == **id))
            .flat_map(|(_, visitors)| visitors.values().flatten().map(|(_, sub)| sub))
    }
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
        let routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        routes.sockets(None).for_each(|sub| sub.close());
    }
}

/// A socket's share of the router: what concerns its visitor.
pub struct Subscription {
    id: u64,
    channel_id: Id,
    visitor_id: String,
    queue: Sub,
    routes: Arc<Mutex<Routes>>,
}

impl Subscription {
    /// The next message for this visitor; None once the router has stopped.
    pub async fn recv(&mut self) -> Option<Arc<BusMessage>> {
        loop {
            if let Some(msg) = self.queue.messages.lock().unwrap_or_else(|e| e.into_inner()).pop_front() {
                return Some(msg);
            }
            if self.queue.closed.load(Ordering::Relaxed) {
                return None;
            }
            // A delivery between the check above and this wait leaves a permit: not missed.
            self.queue.ready.notified().await;
        }
    }

    /// Whether messages for this socket were dropped since the last call (it should resync).
    pub fn take_lagged(&self) -> bool {
        self.queue.lagged.swap(false, Ordering::Relaxed)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let Some(visitors) = routes.by_channel.get_mut(&self.channel_id) else { return };
        if let Some(subs) = visitors.get_mut(&self.visitor_id) {
            subs.retain(|(id, _)| *id != self.id);
            if subs.is_empty() {
                visitors.remove(&self.visitor_id);
            }
        }
        if visitors.is_empty() {
            routes.by_channel.remove(&self.channel_id);
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
        subscribe(&self.routes, channel_id, visitor_id)
    }
}

/// Adds a socket of the visitor to the routes.
fn subscribe(routes: &Arc<Mutex<Routes>>, channel_id: Id, visitor_id: &str) -> Subscription {
    let queue = Sub::default();
    let mut r = routes.lock().unwrap_or_else(|e| e.into_inner());
    r.next_id += 1;
    let id = r.next_id;
    r.by_channel.entry(channel_id).or_default().entry(visitor_id.to_string()).or_default().push((id, queue.clone()));
    Subscription { id, channel_id, visitor_id: visitor_id.to_string(), queue, routes: routes.clone() }
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
            deliver(&routes, None, &msg);
            continue;
        }
        let Some((workspace_id, channel_id, conversation_id, deleted)) = conversation_of(&msg) else { continue };
        let owner = {
            let routes = routes.lock().unwrap_or_else(|e| e.into_inner());
            if !routes.by_channel.contains_key(&channel_id) {
                continue;
            }
            routes.owners.get(&conversation_id).cloned()
        };
        let owner = match owner {
            Some(owner) => owner,
            // A deleted conversation can no longer be looked up: its channel's sockets check it.
            None if deleted => {
                deliver(&routes, Some(channel_id), &msg);
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
                    deliver(&routes, Some(channel_id), &Arc::new(BusMessage::Resync));
                    continue;
                }
            },
        };
        if let Some(visitor_id) = owner {
            let routes = routes.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(subs) = routes.by_channel.get(&channel_id).and_then(|v| v.get(&visitor_id)) {
                subs.iter().for_each(|(_, sub)| sub.deliver(&msg));
            }
        }
    }
}

/// Gives `msg` to every socket of the channel (of every channel with None).
fn deliver(routes: &Mutex<Routes>, channel_id: Option<Id>, msg: &Arc<BusMessage>) {
    let routes = routes.lock().unwrap_or_else(|e| e.into_inner());
    routes.sockets(channel_id).for_each(|sub| sub.deliver(msg));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typing(conversation_id: Id) -> Arc<BusMessage> {
        Arc::new(BusMessage::Ephemeral(crate::bus::Ephemeral {
            workspace_id: 1,
            kind: "typing".into(),
            access: None,
            from_user_id: Some(1),
            payload: serde_json::json!({"conversation_id": conversation_id}),
        }))
    }

    fn conversation_id(msg: &BusMessage) -> Option<i64> {
        match msg {
            BusMessage::Ephemeral(x) => x.payload["conversation_id"].as_i64(),
            _ => None,
        }
    }

    #[tokio::test]
    async fn a_queue_keeps_order_says_when_it_overflowed_and_ends_when_closed() {
        let routes = Arc::new(Mutex::new(Routes::default()));
        let mut sub = subscribe(&routes, 1, "v1");
        let queue = sub.queue.clone();
        for i in 0..(QUEUE as i64 + 5) {
            queue.deliver(&typing(i));
        }
        let mut got = Vec::new();
        for _ in 0..QUEUE {
            got.extend(sub.recv().await.and_then(|m| conversation_id(&m)));
        }
        assert_eq!(got, (0..QUEUE as i64).collect::<Vec<_>>(), "the first ones, in order");
        assert!(sub.take_lagged(), "the overflow is reported");
        assert!(!sub.take_lagged(), "once");
        // A delivery while the socket waits wakes it.
        let waiting = tokio::spawn(async move {
            let first = sub.recv().await.and_then(|m| conversation_id(&m));
            (first, sub.recv().await.is_none())
        });
        tokio::task::yield_now().await;
        queue.deliver(&typing(42));
        queue.close();
        let (first, ended) = waiting.await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(first, Some(42));
        assert!(ended, "closed once the router stops");
    }

    #[test]
    fn a_socket_leaves_the_routes_when_dropped() {
        let routes = Arc::new(Mutex::new(Routes::default()));
        let a = subscribe(&routes, 1, "v1");
        let b = subscribe(&routes, 1, "v1");
        let c = subscribe(&routes, 2, "v2");
        drop(a);
        {
            let r = routes.lock().unwrap_or_else(|e| e.into_inner());
            assert_eq!(r.by_channel.get(&1).and_then(|v| v.get("v1")).map(Vec::len), Some(1));
            assert_eq!(r.sockets(Some(1)).count(), 1);
        }
        drop((b, c));
        let r = routes.lock().unwrap_or_else(|e| e.into_inner());
        assert!(r.by_channel.is_empty());
    }
}
