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
//!
//! Order: concurrent writes may reach `publish` in another order than their seqs (two
//! requests of one SQLite commit group wake in any order; on PostgreSQL a transaction may
//! commit after a later seq's). Each node puts events back in seq order before its ring
//! ([`Sequencer`]): an event after a gap waits until the missing seq arrives, at most
//! [`REORDER_WAIT`]; a seq that never comes (a rolled-back insert, a write whose events were
//! not published) costs that delay once. So clients see seqs increasing and can resume from
//! the last one they received.

use crate::config::Config;
use async_trait::async_trait;
use charla_core::Id;
use charla_core::access::ConversationAccess;
use charla_store::{Event, Store};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, broadcast};
use tokio::time::Instant;

/// What travels on the bus.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum BusMessage {
    /// A durable event from the log (has a seq).
    Event(BusEvent),
    /// Not stored, not resumed: typing indicators and the like.
    Ephemeral(Ephemeral),
    /// Local only, never sent between nodes: messages may have been lost on the way (the NATS
    /// connection dropped or the server cut a slow consumer). Receivers re-read the event log
    /// from their last position.
    Resync,
}

/// An event on its way to the node's connections, with the operator sockets' frame for it. The
/// frame is the same for every socket allowed to receive the event: the first to need it makes
/// it and the others send the same bytes, instead of each converting and serialising the event
/// again (with tens of operators online, that work for each socket held back the event stream
/// until the sockets fell behind the ring and re-read the log). Travels between nodes as the
/// event alone.
#[derive(Debug, Clone)]
pub struct BusEvent {
    pub event: Event,
    pub frame: tokio::sync::OnceCell<axum::extract::ws::Utf8Bytes>,
}

impl From<Event> for BusEvent {
    fn from(event: Event) -> BusEvent {
        BusEvent { event, frame: Default::default() }
    }
}

impl std::ops::Deref for BusEvent {
    type Target = Event;
    fn deref(&self) -> &Event {
        &self.event
    }
}

impl Serialize for BusEvent {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.event.serialize(s)
    }
}

impl<'de> Deserialize<'de> for BusEvent {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<BusEvent, D::Error> {
        Event::deserialize(d).map(BusEvent::from)
    }
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

/// Longest an event waits for a lower seq that has not arrived yet.
pub const REORDER_WAIT: Duration = Duration::from_millis(150);

/// Puts events back in seq order: releases each event once every lower seq has been released,
/// or once the gap before it has lasted [`REORDER_WAIT`].
#[derive(Debug, Default)]
pub struct Sequencer {
    /// The seq expected next (None until the first event).
    next: Option<i64>,
    held: BTreeMap<i64, Event>,
    /// When the current gap was noticed.
    gap_since: Option<Instant>,
}

impl Sequencer {
    /// `last_seq`: the last seq already in the log when the node starts.
    pub fn new(last_seq: Option<i64>) -> Sequencer {
        Sequencer { next: last_seq.map(|s| s + 1), held: BTreeMap::new(), gap_since: None }
    }

    /// Takes an event; appends to `out` what may go now, in order.
    pub fn offer(&mut self, e: Event, out: &mut Vec<Event>) {
        match self.next {
            // Already past it (it came after its gap was given up on, or twice): let it
            // through; receivers drop duplicates by seq.
            Some(n) if e.seq < n => out.push(e),
            Some(n) if e.seq > n => {
                self.held.insert(e.seq, e);
                if self.gap_since.is_none() {
                    self.gap_since = Some(Instant::now());
                }
            }
            _ => {
                self.next = Some(e.seq + 1);
                out.push(e);
                self.release_contiguous(out);
            }
        }
    }

    fn release_contiguous(&mut self, out: &mut Vec<Event>) {
        while let Some(n) = self.next {
            match self.held.remove(&n) {
                Some(e) => {
                    out.push(e);
                    self.next = Some(n + 1);
                }
                None => break,
            }
        }
        // What is still held waits behind a new gap.
        self.gap_since = if self.held.is_empty() { None } else { Some(Instant::now()) };
    }

    /// When the current gap will be given up on.
    pub fn deadline(&self) -> Option<Instant> {
        self.gap_since.map(|t| t + REORDER_WAIT)
    }

    /// Gives up on the missing seqs: releases everything held, in order.
    pub fn give_up(&mut self, out: &mut Vec<Event>) {
        for (seq, e) in std::mem::take(&mut self.held) {
            self.next = Some(seq + 1);
            out.push(e);
        }
        self.gap_since = None;
    }
}

/// A node's ring, fed in seq order.
struct Ring {
    tx: broadcast::Sender<Arc<BusMessage>>,
    order: Mutex<Sequencer>,
    gap: Notify,
    /// Started at the first gap; stopped when the bus is dropped.
    flusher: std::sync::OnceLock<tokio::task::JoinHandle<()>>,
}

impl Ring {
    fn new(capacity: usize, last_seq: Option<i64>) -> Arc<Ring> {
        let (tx, _) = broadcast::channel(capacity.max(1));
        Arc::new(Ring {
            tx,
            order: Mutex::new(Sequencer::new(last_seq)),
            gap: Notify::new(),
            flusher: Default::default(),
        })
    }

    fn events(self: &Arc<Self>, events: Vec<Event>) {
        let waiting = {
            let mut order = self.order.lock().unwrap_or_else(|e| e.into_inner());
            let mut out = Vec::new();
            for e in events {
                order.offer(e, &mut out);
            }
            // Sent under the lock, so concurrent publishers cannot interleave out of order.
            for e in out {
                let _ = self.tx.send(Arc::new(BusMessage::Event(e.into())));
            }
            order.deadline().is_some()
        };
        if waiting {
            self.flusher.get_or_init(|| tokio::spawn(flush_gaps(self.clone())));
            self.gap.notify_one();
        }
    }

    fn other(&self, msg: BusMessage) {
        let _ = self.tx.send(Arc::new(msg));
    }
}

/// Releases held events whose gap lasted too long.
async fn flush_gaps(ring: Arc<Ring>) {
    loop {
        let deadline = ring.order.lock().unwrap_or_else(|e| e.into_inner()).deadline();
        match deadline {
            Some(at) => tokio::time::sleep_until(at).await,
            None => {
                ring.gap.notified().await;
                continue;
            }
        }
        let mut order = ring.order.lock().unwrap_or_else(|e| e.into_inner());
        if order.deadline().is_some_and(|d| d <= Instant::now()) {
            let mut out = Vec::new();
            order.give_up(&mut out);
            for e in out {
                let _ = ring.tx.send(Arc::new(BusMessage::Event(e.into())));
            }
        }
    }
}

impl Ring {
    fn stop(&self) {
        if let Some(task) = self.flusher.get() {
            task.abort();
        }
    }
}

/// Single-node bus.
pub struct LocalBus {
    ring: Arc<Ring>,
}

impl LocalBus {
    pub fn new() -> LocalBus {
        LocalBus::with_capacity(BROADCAST_CAPACITY, None)
    }
    /// `last_seq`: the log's last seq at start, where ordering begins.
    pub fn with_capacity(capacity: usize, last_seq: Option<i64>) -> LocalBus {
        LocalBus { ring: Ring::new(capacity, last_seq) }
    }
    pub fn sender(&self) -> broadcast::Sender<Arc<BusMessage>> {
        self.ring.tx.clone()
    }
}

impl Drop for LocalBus {
    fn drop(&mut self) {
        self.ring.stop();
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
        // No receiver is fine: nobody is connected.
        self.ring.events(events);
    }
    async fn publish_ephemeral(&self, msg: Ephemeral) {
        self.ring.other(BusMessage::Ephemeral(msg));
    }
    fn subscribe(&self) -> broadcast::Receiver<Arc<BusMessage>> {
        self.ring.tx.subscribe()
    }
}

/// The multi-node bus: events go through NATS subject `subject`; each node's subscription
/// feeds its local broadcast ring.
pub struct NatsBus {
    client: async_nats::Client,
    subject: String,
    ring: Arc<Ring>,
    relay: tokio::task::JoinHandle<()>,
}

impl NatsBus {
    /// Connects, subscribes and waits until the server has the subscription, so that anything
    /// published after this returns reaches this node.
    pub async fn connect(url: &str, subject: &str, capacity: usize, last_seq: Option<i64>) -> anyhow::Result<NatsBus> {
        let ring = Ring::new(capacity, last_seq);
        let on_event = Arc::downgrade(&ring);
        let client = async_nats::ConnectOptions::new()
            .name(concat!("charla/", env!("CARGO_PKG_VERSION")))
            .event_callback(move |event| {
                let ring = on_event.clone();
                async move {
                    match event {
                        // A reconnect may have lost messages published meanwhile; a slow
                        // consumer lost some for sure. Connections re-read the log.
                        async_nats::Event::Connected | async_nats::Event::SlowConsumer(_) => {
                            tracing::info!("nats: {event}; connections resynchronise from the event log");
                            if let Some(ring) = ring.upgrade() {
                                ring.other(BusMessage::Resync);
                            }
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
        let relay_ring = ring.clone();
        let relay = tokio::spawn(async move {
            use futures_util::StreamExt;
            while let Some(msg) = subscriber.next().await {
                match serde_json::from_slice::<BusMessage>(&msg.payload) {
                    Ok(BusMessage::Event(e)) => relay_ring.events(vec![e.event]),
                    Ok(BusMessage::Ephemeral(x)) => relay_ring.other(BusMessage::Ephemeral(x)),
                    // Resync is a local signal; one arriving from outside is ignored.
                    Ok(BusMessage::Resync) => {}
                    Err(e) => tracing::warn!("nats: undecodable bus message: {e}"),
                }
            }
            tracing::debug!("nats subscription ended");
        });
        Ok(NatsBus { client, subject: subject.to_string(), ring, relay })
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
            match msg {
                BusMessage::Event(e) => self.ring.events(vec![e.event]),
                other => self.ring.other(other),
            }
        }
    }
}

impl Drop for NatsBus {
    fn drop(&mut self) {
        self.relay.abort();
        self.ring.stop();
    }
}

#[async_trait]
impl Bus for NatsBus {
    async fn publish(&self, events: Vec<Event>) {
        for e in events {
            self.send(BusMessage::Event(e.into())).await;
        }
    }
    async fn publish_ephemeral(&self, msg: Ephemeral) {
        self.send(BusMessage::Ephemeral(msg)).await;
    }
    fn subscribe(&self) -> broadcast::Receiver<Arc<BusMessage>> {
        self.ring.tx.subscribe()
    }
}

/// The bus for this node: NATS when `config.nats_url` is set, else in-process.
pub async fn connect(config: &Config, store: Arc<dyn Store>) -> anyhow::Result<Arc<dyn Bus>> {
    // Ordering starts after what the log already holds.
    let last_seq = store.last_event_seq().await.map_err(|e| anyhow::anyhow!("event log: {e}"))?;
    match config.nats_url.as_deref() {
        None => Ok(Arc::new(LocalBus::with_capacity(config.bus_capacity, Some(last_seq)))),
        Some(url) => {
            Ok(Arc::new(NatsBus::connect(url, &config.nats_subject, config.bus_capacity, Some(last_seq)).await?))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_travels_between_nodes_as_the_event_alone() {
        let e = Event {
            seq: 7,
            workspace_id: 1,
            kind: "message.created".into(),
            access: None,
            user_id: Some(3),
            payload: serde_json::json!({"id": 9, "text": "hola"}),
            created_at: 5,
        };
        let msg = BusMessage::Event(e.clone().into());
        let wire = serde_json::to_value(&msg).unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(wire, serde_json::json!({"Event": serde_json::to_value(&e).unwrap_or_default()}));
        match serde_json::from_value::<BusMessage>(wire) {
            Ok(BusMessage::Event(back)) => {
                assert_eq!(back.seq, 7);
                assert_eq!(back.payload, e.payload);
                assert!(back.frame.get().is_none());
            }
            other => panic!("{other:?}"),
        }
    }

    fn ev(seq: i64) -> Event {
        Event {
            seq,
            workspace_id: 1,
            kind: "message.created".into(),
            access: None,
            user_id: None,
            payload: serde_json::Value::Null,
            created_at: 0,
        }
    }

    fn seqs(out: &[Event]) -> Vec<i64> {
        out.iter().map(|e| e.seq).collect()
    }

    #[test]
    fn sequencer_restores_order() {
        let mut s = Sequencer::new(Some(10));
        let mut out = Vec::new();
        s.offer(ev(12), &mut out);
        s.offer(ev(13), &mut out);
        assert!(out.is_empty());
        assert!(s.deadline().is_some());
        s.offer(ev(11), &mut out);
        assert_eq!(seqs(&out), [11, 12, 13]);
        assert!(s.deadline().is_none());
        // Late or repeated: passes through for receivers to drop.
        out.clear();
        s.offer(ev(12), &mut out);
        assert_eq!(seqs(&out), [12]);
    }

    #[test]
    fn sequencer_gives_up_on_a_gap() {
        let mut s = Sequencer::new(None);
        let mut out = Vec::new();
        s.offer(ev(5), &mut out);
        s.offer(ev(8), &mut out);
        s.offer(ev(7), &mut out);
        assert_eq!(seqs(&out), [5]);
        s.give_up(&mut out);
        assert_eq!(seqs(&out), [5, 7, 8]);
        s.offer(ev(9), &mut out);
        assert_eq!(seqs(&out), [5, 7, 8, 9]);
        s.offer(ev(6), &mut out);
        assert_eq!(seqs(&out), [5, 7, 8, 9, 6]);
    }

    #[tokio::test]
    async fn local_bus_releases_a_held_event_after_the_wait() {
        let bus = LocalBus::with_capacity(16, Some(0));
        let mut rx = bus.subscribe();
        bus.publish(vec![ev(2)]).await;
        // Seq 1 never comes: seq 2 still arrives, after REORDER_WAIT.
        let got = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
        match got.ok().and_then(|r| r.ok()).as_deref() {
            Some(BusMessage::Event(e)) => assert_eq!(e.seq, 2),
            other => panic!("unexpected {other:?}"),
        }
        bus.publish(vec![ev(4), ev(3)]).await;
        for want in [3, 4] {
            match rx.recv().await.ok().as_deref() {
                Some(BusMessage::Event(e)) => assert_eq!(e.seq, want),
                other => panic!("unexpected {other:?}"),
            }
        }
    }
}
