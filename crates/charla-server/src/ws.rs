//! The operator WebSocket `/api/v1/ws`.
//!
//! Server → client: JSON text frames `{"seq": n, "type": "message.created", "data": {...}}`.
//! Durable events (from the store's event log) carry their `seq`; derived or ephemeral frames
//! (`counts.updated`, `typing`, `ready`, `pong`, `error`) carry `"seq": null`.
//!
//! One connection is one task: it subscribes to the bus FIRST, then (with `?since=`) sends what
//! the log holds after `since`, then a `ready` frame with the position it has reached, then
//! streams live events. Each event is sent at most once (a window of recent seqs drops
//! duplicates, which arise when the catch-up read and the live stream overlap or events are
//! published out of seq order) and only to viewers allowed to see it. A connection that falls
//! behind the bus (`Lagged`), or hears that the bus may have lost messages (`Resync`), re-reads
//! the log from its position: nothing is silently dropped. If the log cannot be read, the
//! connection closes (1011) and the client resumes with `?since=` its last seq.
//!
//! Client → server: `{"type":"typing","conversation_id":n}`, `{"type":"presence","status":
//! "online"|"away"|"offline"}`, `{"type":"ping"}` (answered `{"type":"pong"}`). Data frames
//! count as activity for presence; pongs only prove the connection is alive.
//!
//! Buffers are small and fixed (a few KiB read buffer, frames written as they come) so idle
//! connections cost little; the only per-connection queue is the bounded bus ring. Whatever
//! waits in the ring is written together (up to [`BUS_BATCH`] messages, then one flush), and an
//! event's frame is made once for all the sockets that receive it ([`crate::bus::BusEvent`]).

use crate::auth::CurrentUser;
use crate::bus::{BusMessage, Ephemeral};
use crate::error::{ApiError, ErrorBody};
use crate::extract::Query;
use crate::state::{AppState, now_ms};
use axum::extract::State;
use axum::extract::ws::Utf8Bytes;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use charla_core::access::Viewer;
use charla_core::{Id, Presence};
use charla_store::{Event, SectionCounts, StoreError, StoreResult};
use futures_util::SinkExt;
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, oneshot, watch};
use tokio::time::Instant;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Read buffer of a connection. Client frames are small.
pub const READ_BUFFER: usize = 4 * 1024;
/// Frames are written to the socket as soon as this much is buffered (the buffer grows only on
/// a socket that receives that much at once: a busy inbox's, not an idle one's).
pub const WRITE_BUFFER: usize = 32 * 1024;
/// Upper bound (not an allocation) on what may wait in the write buffer: it must hold the
/// largest frame the server sends (a long e-mail message).
pub const MAX_WRITE_BUFFER: usize = 1024 * 1024;
/// Largest client message (and frame).
pub const MAX_CLIENT_MESSAGE: usize = 64 * 1024;
/// Bus messages a connection handles before it flushes what it wrote.
const BUS_BATCH: usize = 64;
/// Events read from the log per query when catching up.
const CATCH_UP_PAGE: i64 = 500;
/// `counts.updated` at most this often per connection.
const COUNTS_INTERVAL: Duration = Duration::from_secs(1);
/// After each counters query, the node's next one waits this many times as long (see
/// [`CountsGate`]).
const COUNTS_PAUSE_FACTOR: u32 = 3;
/// Activity is written to the store at most this often per connection.
const ACTIVITY_INTERVAL: Duration = Duration::from_secs(60);
/// Typing indicators of one conversation are relayed at most this often per connection.
const TYPING_INTERVAL: Duration = Duration::from_millis(1000);
/// How many recent seqs a connection remembers to drop duplicates.
const SEEN_WINDOW: usize = 512;
/// A client silent for this many heartbeats (no frame, not even a pong) is closed.
const MAX_UNANSWERED_PINGS: u32 = 3;
/// Close codes.
const CLOSE_POLICY: u16 = 1008;
const CLOSE_INTERNAL: u16 = 1011;
const CLOSE_HEARTBEAT: u16 = 4000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(connect))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WsParams {
    /// Resume: first send the events after this seq (the last one the client received).
    pub since: Option<i64>,
    /// Session token, for clients that cannot send a header or cookie.
    pub token: Option<String>,
}

/// Realtime events for the operator app.
///
/// Upgrades to a WebSocket. Frames are JSON: `{"seq": n, "type": "...", "data": {...}}` with
/// types `conversation.created`, `conversation.updated`, `conversation.removed` (the viewer may
/// no longer see it), `conversation.deleted`, `message.created`, `message.updated`,
/// `counts.updated`, `notification.created`, `presence.updated`, `typing`, and `ready` (sent
/// once the missed events are out; `data.seq` is the position reached). Reconnect with
/// `?since=<last seq>` to receive what was missed.
#[utoipa::path(
    get,
    path = "/api/v1/ws",
    tag = "realtime",
    params(WsParams),
    responses(
        (status = 101, description = "Switching protocols: a stream of JSON event frames"),
        (status = 400, description = "Not a WebSocket request", body = ErrorBody),
        (status = 401, description = "No valid session", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn connect(
    user: CurrentUser,
    State(state): State<AppState>,
    Query(params): Query<WsParams>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let upgrade = upgrade.map_err(|e| ApiError::bad_request("websocket_required", e.to_string()))?;
    // Register for changes before reading any state, so nothing falls in between.
    let rx = state.bus.subscribe();
    let conn = Connection::new(state, user);
    Ok(upgrade
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_write_buffer_size(MAX_WRITE_BUFFER)
        .max_message_size(MAX_CLIENT_MESSAGE)
        .max_frame_size(MAX_CLIENT_MESSAGE)
        .on_upgrade(move |socket| conn.run(socket, rx, params.since)))
}

/// The connection ended (closed by either side, failed, or too slow).
struct Closed;

type Flow = Result<(), Closed>;

/// Seqs already handled: everything up to `floor`, and a window of recent ones above it.
#[derive(Debug)]
struct SeenSeqs {
    floor: i64,
    recent: BTreeSet<i64>,
}

impl SeenSeqs {
    fn new(floor: i64) -> SeenSeqs {
        SeenSeqs { floor, recent: BTreeSet::new() }
    }
    /// True the first time a seq is offered.
    fn first_time(&mut self, seq: i64) -> bool {
        if seq <= self.floor || !self.recent.insert(seq) {
            return false;
        }
        while self.recent.len() > SEEN_WINDOW {
            if let Some(s) = self.recent.pop_first() {
                self.floor = s;
            }
        }
        true
    }
    /// The highest seq handled.
    fn high(&self) -> i64 {
        self.recent.last().copied().unwrap_or(self.floor)
    }
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientFrame {
    Typing { conversation_id: Id },
    Presence { status: String },
    Ping,
}

struct Connection {
    state: AppState,
    user_id: Id,
    /// Shown to others in typing indicators.
    name: String,
    viewer: Viewer,
    /// Presence as loaded at connect, to mark the user online.
    presence_at_connect: (Presence, Option<i64>),
    seen: SeenSeqs,
    /// When the next `counts.updated` is due (None: nothing changed).
    counts_due: Option<Instant>,
    counts_sent_at: Option<Instant>,
    last_counts: Option<SectionCounts>,
    /// Pings sent since the client's last frame; at [`MAX_UNANSWERED_PINGS`] it is gone.
    unanswered_pings: u32,
    last_activity_at: Instant,
    last_typing: Option<(Id, Instant)>,
    write_timeout: Duration,
}

impl Connection {
    fn new(state: AppState, user: CurrentUser) -> Connection {
        let heartbeat = state.config.ws_heartbeat;
        let now = Instant::now();
        Connection {
            user_id: user.user.id,
            name: user.user.shown_name().to_string(),
            presence_at_connect: (user.user.presence, user.user.last_activity_at),
            viewer: user.viewer,
            seen: SeenSeqs::new(0),
            counts_due: None,
            counts_sent_at: None,
            last_counts: None,
            unanswered_pings: 0,
            last_activity_at: now,
            last_typing: None,
            write_timeout: (heartbeat * 3).max(Duration::from_secs(10)),
            state,
        }
    }

    async fn run(mut self, mut socket: WebSocket, mut rx: broadcast::Receiver<Arc<BusMessage>>, since: Option<i64>) {
        metrics::gauge!("charla_ws_connections").increment(1.0);
        let _ = self.serve(&mut socket, &mut rx, since).await;
        metrics::gauge!("charla_ws_connections").decrement(1.0);
    }

    async fn serve(
        &mut self,
        socket: &mut WebSocket,
        rx: &mut broadcast::Receiver<Arc<BusMessage>>,
        since: Option<i64>,
    ) -> Flow {
        self.mark_online().await;
        match since {
            Some(since) => {
                self.seen = SeenSeqs::new(since.max(0));
                self.catch_up(socket).await?;
            }
            None => match self.state.store.last_event_seq().await {
                // The client reads current state after connecting; live events start here.
                Ok(seq) => self.seen = SeenSeqs::new(seq),
                Err(e) => return self.fail(socket, &e).await,
            },
        }
        self.send_json(
            socket,
            json!({"seq": null, "type": "ready", "data": {"seq": self.seen.high(), "user_id": self.user_id}}),
        )
        .await?;

        let heartbeat = self.state.config.ws_heartbeat.max(Duration::from_millis(10));
        let mut ticks = tokio::time::interval_at(Instant::now() + heartbeat, heartbeat);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let counts_timer = tokio::time::sleep(Duration::from_secs(3600));
        tokio::pin!(counts_timer);
        // The counters' query runs in a task of its own: events keep flowing while it runs.
        let mut counts_query: Option<oneshot::Receiver<StoreResult<SectionCounts>>> = None;
        loop {
            if let Some(due) = self.counts_due
                && counts_timer.deadline() != due
            {
                counts_timer.as_mut().reset(due);
            }
            tokio::select! {
                frame = socket.recv() => match frame {
                    Some(Ok(frame)) => self.on_client_frame(socket, frame).await?,
                    None | Some(Err(_)) => return Err(Closed),
                },
                msg = rx.recv() => {
                    // Then what else waits in the ring, written together with one flush.
                    let mut next = Some(msg);
                    let mut handled = 0;
                    while let Some(msg) = next.take() {
                        match msg {
                            Ok(msg) => self.on_bus(socket, &msg).await?,
                            Err(broadcast::error::RecvError::Lagged(n)) => {
                                tracing::info!(user_id = self.user_id, missed = n, "websocket fell behind the bus; re-reading the event log");
                                metrics::counter!("charla_ws_lagged_total").increment(1);
                                self.catch_up(socket).await?;
                            }
                            Err(broadcast::error::RecvError::Closed) => return self.close(socket, CLOSE_INTERNAL, "server stopping").await,
                        }
                        handled += 1;
                        if handled < BUS_BATCH {
                            next = match rx.try_recv() {
                                Ok(msg) => Some(Ok(msg)),
                                Err(broadcast::error::TryRecvError::Lagged(n)) => Some(Err(broadcast::error::RecvError::Lagged(n))),
                                Err(broadcast::error::TryRecvError::Closed) => Some(Err(broadcast::error::RecvError::Closed)),
                                Err(broadcast::error::TryRecvError::Empty) => None,
                            };
                        }
                    }
                    self.flush(socket).await?;
                },
                _ = ticks.tick() => {
                    if self.unanswered_pings >= MAX_UNANSWERED_PINGS {
                        return self.close(socket, CLOSE_HEARTBEAT, "heartbeat timeout").await;
                    }
                    self.send(socket, Message::Ping(Default::default())).await?;
                    self.unanswered_pings += 1;
                }
                _ = &mut counts_timer, if self.counts_due.is_some() && counts_query.is_none() => {
                    counts_query = Some(self.query_counts());
                }
                counts = async { counts_query.as_mut().expect("guarded").await }, if counts_query.is_some() => {
                    counts_query = None;
                    self.send_counts(socket, counts).await?;
                }
            }
        }
    }

    // ------------------------------------------------------------------ server → client

    async fn on_bus(&mut self, socket: &mut WebSocket, msg: &BusMessage) -> Flow {
        match msg {
            BusMessage::Event(e) => self.on_event(socket, e, Some(&e.frame)).await,
            BusMessage::Ephemeral(x) => self.on_ephemeral(socket, x).await,
            BusMessage::Resync => self.catch_up(socket).await,
        }
    }

    /// Sends what the log holds after this connection's position.
    async fn catch_up(&mut self, socket: &mut WebSocket) -> Flow {
        let workspace_id = self.viewer.workspace_id;
        let mut position = self.seen.floor;
        loop {
            let page = match self.state.store.events_since(workspace_id, position, CATCH_UP_PAGE).await {
                Ok(p) => p,
                Err(e) => return self.fail(socket, &e).await,
            };
            let full = page.len() as i64 >= CATCH_UP_PAGE;
            for e in &page {
                position = position.max(e.seq);
                self.on_event(socket, e, None).await?;
            }
            if !full {
                return Ok(());
            }
        }
    }

    /// Writes an event to the socket (not flushed) if this viewer may receive it; `shared`: the
    /// frame made once for every socket (live events), None to make it here (the log's).
    async fn on_event(&mut self, socket: &mut WebSocket, e: &Event, shared: Option<&SharedFrame>) -> Flow {
        if e.workspace_id != self.viewer.workspace_id || !self.seen.first_time(e.seq) {
            return Ok(());
        }
        if self.concerns_viewer(e) {
            self.refresh_viewer(socket, e).await?;
        }
        if !self.may_receive(e) {
            return Ok(());
        }
        let frame = match shared {
            Some(cell) => cell.get_or_init(|| event_frame(&self.state, e)).await.clone(),
            None => event_frame(&self.state, e).await,
        };
        self.feed(socket, Message::Text(frame)).await?;
        if e.kind.starts_with("conversation.") || e.kind == "message.created" {
            self.counts_changed();
        }
        Ok(())
    }

    /// The permission filter: same workspace (checked by the caller), the addressed user only,
    /// conversations the viewer may see.
    fn may_receive(&self, e: &Event) -> bool {
        if e.user_id.is_some_and(|u| u != self.user_id) {
            return false;
        }
        let Some(access) = &e.access else {
            return true;
        };
        if !self.viewer.can_see(access) {
            return false;
        }
        if e.kind == "conversation.removed" {
            // For those who could see it before and may not now; access is the OLD access.
            let after = e
                .payload
                .get("access_after")
                .and_then(|a| serde_json::from_value::<charla_core::access::ConversationAccess>(a.clone()).ok());
            return after.is_none_or(|after| !self.viewer.can_see(&after));
        }
        true
    }

    /// Events that may change what this viewer sees: their channels, teams or own record.
    fn concerns_viewer(&self, e: &Event) -> bool {
        let kind = e.kind.as_str();
        if kind.starts_with("channel.") || kind.starts_with("team.") {
            return true;
        }
        kind.starts_with("user.") && e.payload.get("id").and_then(|v| v.as_i64()) == Some(self.user_id)
    }

    async fn refresh_viewer(&mut self, socket: &mut WebSocket, e: &Event) -> Flow {
        if e.kind.starts_with("user.") {
            if e.kind == "user.deleted" || e.payload.get("active").and_then(|v| v.as_bool()) == Some(false) {
                return self.close(socket, CLOSE_POLICY, "user deactivated").await;
            }
            if let Ok(user) = serde_json::from_value::<charla_core::User>(e.payload.clone()) {
                self.name = user.shown_name().to_string();
            }
        }
        match self.state.store.viewer(self.viewer.workspace_id, self.user_id).await {
            Ok(mut v) => {
                // Embedded-mode limits come with the session, not the user record.
                if v.allowed_contact_ids.is_none() {
                    v.allowed_contact_ids = self.viewer.allowed_contact_ids.take();
                }
                self.viewer = v;
                // Different visibility: different counters.
                self.counts_changed();
                Ok(())
            }
            Err(StoreError::NotFound) => self.close(socket, CLOSE_POLICY, "user removed").await,
            Err(e) => self.fail(socket, &e).await,
        }
    }

    async fn on_ephemeral(&mut self, socket: &mut WebSocket, x: &Ephemeral) -> Flow {
        if x.workspace_id != self.viewer.workspace_id || x.from_user_id == Some(self.user_id) {
            return Ok(());
        }
        if x.access.as_ref().is_some_and(|a| !self.viewer.can_see(a)) {
            return Ok(());
        }
        self.send_json(socket, json!({"seq": null, "type": x.kind, "data": x.payload})).await
    }

    fn counts_changed(&mut self) {
        if self.counts_due.is_none() {
            let now = Instant::now();
            let earliest = self.counts_sent_at.map_or(now, |t| t + COUNTS_INTERVAL);
            self.counts_due = Some(earliest.max(now));
        }
    }

    /// Starts reading the counters (on PostgreSQL at millions of conversations, a query of tens
    /// of milliseconds: awaited here, it held back every event arriving meanwhile).
    fn query_counts(&mut self) -> oneshot::Receiver<StoreResult<SectionCounts>> {
        self.counts_due = None;
        self.counts_sent_at = Some(Instant::now());
        let (tx, rx) = oneshot::channel();
        let (store, viewer, gate) = (self.state.store.clone(), self.viewer.clone(), self.state.counts_gate.clone());
        tokio::spawn(async move {
            let _ = tx.send(gate.run(store.pending_counts(&viewer)).await);
        });
        rx
    }

    async fn send_counts(
        &mut self,
        socket: &mut WebSocket,
        counts: Result<StoreResult<SectionCounts>, oneshot::error::RecvError>,
    ) -> Flow {
        let counts = match counts {
            Ok(Ok(counts)) => counts,
            Ok(Err(e)) => {
                tracing::warn!(user_id = self.user_id, "counts for websocket: {e}");
                return Ok(());
            }
            Err(_) => return Ok(()),
        };
        if self.last_counts == Some(counts) {
            return Ok(());
        }
        self.last_counts = Some(counts);
        let data = crate::wire::Counts::from(&counts);
        self.send_json(socket, json!({"seq": null, "type": "counts.updated", "data": data})).await
    }

    // ------------------------------------------------------------------ client → server

    async fn on_client_frame(&mut self, socket: &mut WebSocket, frame: Message) -> Flow {
        self.unanswered_pings = 0;
        let text = match frame {
            Message::Text(t) => t,
            Message::Close(_) => return Err(Closed),
            // Pings are answered by the library; pongs only prove liveness.
            Message::Ping(_) | Message::Pong(_) => return Ok(()),
            Message::Binary(_) => {
                return self.send_error(socket, "invalid_frame", "frames are JSON text").await;
            }
        };
        self.activity().await;
        match serde_json::from_str::<ClientFrame>(text.as_str()) {
            Ok(ClientFrame::Ping) => self.send_json(socket, json!({"seq": null, "type": "pong", "data": null})).await,
            Ok(ClientFrame::Typing { conversation_id }) => self.typing(socket, conversation_id).await,
            Ok(ClientFrame::Presence { status }) => match Presence::parse(&status) {
                Some(p) => {
                    self.touch(Some(p)).await;
                    Ok(())
                }
                None => self.send_error(socket, "invalid_presence", "status must be online, away or offline").await,
            },
            Err(e) => self.send_error(socket, "invalid_frame", &e.to_string()).await,
        }
    }

    async fn typing(&mut self, socket: &mut WebSocket, conversation_id: Id) -> Flow {
        let now = Instant::now();
        if self.last_typing.is_some_and(|(id, at)| id == conversation_id && now.duration_since(at) < TYPING_INTERVAL) {
            return Ok(());
        }
        let conversation = match self.state.store.get_conversation(self.viewer.workspace_id, conversation_id).await {
            Ok(c) => c,
            Err(StoreError::NotFound) => return self.send_error(socket, "not_found", "no such conversation").await,
            Err(e) => {
                tracing::warn!("typing: {e}");
                return Ok(());
            }
        };
        let access = conversation.access();
        if !self.viewer.can_see(&access) {
            return self.send_error(socket, "not_found", "no such conversation").await;
        }
        self.last_typing = Some((conversation_id, now));
        let payload = json!({"conversation_id": conversation_id, "user_id": self.user_id, "name": self.name});
        self.state
            .bus
            .publish_ephemeral(Ephemeral {
                workspace_id: self.viewer.workspace_id,
                kind: "typing".into(),
                access: Some(access),
                from_user_id: Some(self.user_id),
                payload,
            })
            .await;
        Ok(())
    }

    /// A data frame from the client: the operator is active (written once a minute at most).
    async fn activity(&mut self) {
        if self.last_activity_at.elapsed() >= ACTIVITY_INTERVAL {
            self.touch(None).await;
        }
    }

    async fn touch(&mut self, presence: Option<Presence>) {
        self.last_activity_at = Instant::now();
        match self.state.store.touch_presence(self.user_id, presence, now_ms()).await {
            Ok(w) => self.state.publish(w.events).await,
            Err(e) => tracing::warn!(user_id = self.user_id, "presence: {e}"),
        }
    }

    /// Connecting makes an offline operator online (an away one stays away).
    async fn mark_online(&mut self) {
        let (set, last) = self.presence_at_connect;
        if charla_core::presence::effective(set, last, now_ms()) == Presence::Offline {
            self.touch(Some(Presence::Online)).await;
        }
    }

    // ------------------------------------------------------------------ sending

    async fn send_json(&self, socket: &mut WebSocket, frame: serde_json::Value) -> Flow {
        self.send(socket, Message::text(frame.to_string())).await
    }

    async fn send_error(&self, socket: &mut WebSocket, code: &str, message: &str) -> Flow {
        self.send_json(socket, json!({"seq": null, "type": "error", "data": {"code": code, "message": message}})).await
    }

    /// A client that does not read for this long is gone.
    async fn send(&self, socket: &mut WebSocket, msg: Message) -> Flow {
        match tokio::time::timeout(self.write_timeout, socket.send(msg)).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(Closed),
        }
    }

    /// Buffers a frame, written once the buffer fills or at the next flush.
    async fn feed(&self, socket: &mut WebSocket, msg: Message) -> Flow {
        match tokio::time::timeout(self.write_timeout, socket.feed(msg)).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(Closed),
        }
    }

    async fn flush(&self, socket: &mut WebSocket) -> Flow {
        match tokio::time::timeout(self.write_timeout, socket.flush()).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(Closed),
        }
    }

    async fn close(&self, socket: &mut WebSocket, code: u16, reason: &str) -> Flow {
        let frame = CloseFrame { code, reason: reason.into() };
        let _ = self.send(socket, Message::Close(Some(frame))).await;
        Err(Closed)
    }

    /// The log cannot be read: close so that the client resumes from its last seq.
    async fn fail(&self, socket: &mut WebSocket, e: &StoreError) -> Flow {
        tracing::error!(user_id = self.user_id, "websocket: {e}");
        self.close(socket, CLOSE_INTERNAL, "temporarily unavailable, reconnect with since").await
    }
}

/// Paces the operator sockets' counter queries across the node: one at a time, each followed
/// by a pause of [`COUNTS_PAUSE_FACTOR`] times its duration, so that together they take at most
/// a quarter of one database connection however many operators are online (each socket still
/// asks at most once per [`COUNTS_INTERVAL`]; with many online and a busy inbox, each hears
/// less often). Unpaced, 200 operator sockets ran 200 queries a second and held the server's
/// cores while messages arrived.
#[derive(Default)]
pub struct CountsGate {
    /// When the next query may start; the lock is the queue (tokio's mutex is first come,
    /// first served).
    next: tokio::sync::Mutex<Option<Instant>>,
}

impl CountsGate {
    pub async fn run<T>(&self, query: impl std::future::Future<Output = T>) -> T {
        let mut next = self.next.lock().await;
        if let Some(at) = *next {
            tokio::time::sleep_until(at).await;
        }
        let started = Instant::now();
        let out = query.await;
        *next = Some(Instant::now() + started.elapsed() * COUNTS_PAUSE_FACTOR);
        out
    }
}

/// The frame of a live event, shared by the sockets that receive it.
type SharedFrame = tokio::sync::OnceCell<Utf8Bytes>;

/// An event's frame for operator sockets: the same for every viewer allowed to receive it.
async fn event_frame(state: &AppState, e: &Event) -> Utf8Bytes {
    let mut data = crate::wire::event_data(&e.kind, &e.payload);
    if e.kind.starts_with("conversation.") {
        state.fill_reply_window(e.workspace_id, &mut data).await;
    }
    json!({"seq": e.seq, "type": e.kind, "data": data}).to_string().into()
}

/// Marks idle operators offline (30 minutes without activity), once a minute.
pub async fn run_presence_sweeper(state: AppState, mut stop: watch::Receiver<bool>) {
    let mut ticks = tokio::time::interval(Duration::from_secs(60));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        match state.store.sweep_presence(now_ms()).await {
            Ok(events) => state.publish(events).await,
            Err(e) => tracing::warn!("presence sweep: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seen_seqs_drop_duplicates_and_old_ones() {
        let mut s = SeenSeqs::new(10);
        assert!(!s.first_time(10));
        assert!(!s.first_time(3));
        assert!(s.first_time(12));
        assert!(s.first_time(11), "out of order but new");
        assert!(!s.first_time(12));
        assert_eq!(s.high(), 12);
        for seq in 13..(13 + SEEN_WINDOW as i64) {
            assert!(s.first_time(seq));
        }
        assert!(s.recent.len() <= SEEN_WINDOW);
        assert!(s.floor > 10);
        assert!(!s.first_time(11));
    }

    #[tokio::test]
    async fn counter_queries_run_one_at_a_time_with_a_pause_after_each() {
        let gate = Arc::new(CountsGate::default());
        let t0 = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..3 {
            let gate = gate.clone();
            tasks.push(tokio::spawn(async move {
                gate.run(async {
                    let started = Instant::now();
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    started
                })
                .await
            }));
        }
        let mut starts = Vec::new();
        for t in tasks {
            starts.push(t.await.unwrap_or_else(|e| panic!("{e}")).duration_since(t0));
        }
        starts.sort();
        // 10 ms each (at least), then three times that before the next.
        let ms: Vec<u128> = starts.iter().map(|d| d.as_millis()).collect();
        assert!(ms[0] < 10 && ms[1] >= 40 && ms[2] >= ms[1] + 40, "{ms:?}");
    }

    #[test]
    fn client_frames_parse() {
        assert!(matches!(
            serde_json::from_str::<ClientFrame>(r#"{"type":"typing","conversation_id":5}"#),
            Ok(ClientFrame::Typing { conversation_id: 5 })
        ));
        assert!(matches!(serde_json::from_str::<ClientFrame>(r#"{"type":"ping"}"#), Ok(ClientFrame::Ping)));
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"nope"}"#).is_err());
    }
}
