//! The visitor's WebSocket `/widget/{channel_id}/ws?token=…&after=<last message id>`.
//!
//! Server → widget, JSON text frames `{"type", "data"}`: `message` (a new or changed message of
//! the visitor's conversation, in the visitor's shape), `conversation` (status, the operator's
//! name, the rating), `typing` (`{name}` of the operator typing), `resync` (the bus may have
//! lost something: read the messages again), `pong`. The connection registers with the node's
//! [`super::router`] first (which hands it what concerns its visitor's conversations), then
//! sends the messages after `after`, then what happens live; the widget drops duplicates by id.
//!
//! Widget → server: `{"type":"typing"}` (relayed to the operators who can see the
//! conversation), `{"type":"ping"}`.
//!
//! Buffers are small and fixed; an idle visitor costs a task and a few KiB.

use super::VisitorAuth;
use super::api::{conversation_state, visitor_message};
use crate::bus::{BusMessage, Ephemeral};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use charla_core::{Conversation, Id, Message};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::time::Instant;

/// Allocated for each socket up front; the widget's frames (typing, ping) are tens of bytes, and
/// a longer one (up to [`MAX_CLIENT_MESSAGE`]) grows it as it is read.
const READ_BUFFER: usize = 1024;
const WRITE_BUFFER: usize = 2 * 1024;
const MAX_CLIENT_MESSAGE: usize = 4 * 1024;
/// The visitor's typing is relayed at most this often.
const TYPING_INTERVAL: Duration = Duration::from_millis(1500);
const MAX_UNANSWERED_PINGS: u32 = 3;

#[derive(serde::Deserialize)]
pub struct WsParams {
    pub after: Option<Id>,
}

pub async fn connect(
    State(state): State<AppState>,
    v: VisitorAuth,
    crate::extract::Query(params): crate::extract::Query<WsParams>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let upgrade = upgrade.map_err(|e| ApiError::bad_request("websocket_required", e.to_string()))?;
    // Register for changes before reading anything, so nothing falls in between.
    let rx = state.visitor.router.register(&state.bus, &state.store, v.channel.id, &v.visitor_id);
    Ok(upgrade
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_write_buffer_size(256 * 1024)
        .max_message_size(MAX_CLIENT_MESSAGE)
        .max_frame_size(MAX_CLIENT_MESSAGE)
        .on_upgrade(move |socket| async move {
            metrics::gauge!("charla_visitor_ws_connections").increment(1.0);
            let mut conn = Conn { state, v, conversation: None, last_typing: None, unanswered_pings: 0 };
            let _ = conn.serve(socket, rx, params.after).await;
            metrics::gauge!("charla_visitor_ws_connections").decrement(1.0);
        }))
}

struct Closed;

struct Conn {
    state: AppState,
    v: VisitorAuth,
    conversation: Option<Conversation>,
    last_typing: Option<Instant>,
    unanswered_pings: u32,
}

impl Conn {
    async fn find_conversation(&mut self) {
        if let Ok(Some(d)) = self.state.store.website_visitor(self.v.channel.id, &self.v.visitor_id).await {
            self.conversation = d.conversation;
        }
    }

    async fn serve(
        &mut self,
        mut socket: WebSocket,
        mut rx: super::router::Subscription,
        after: Option<Id>,
    ) -> Result<(), Closed> {
        self.find_conversation().await;
        if let Some(after) = after {
            self.send_after(&mut socket, after).await?;
        }
        let state = conversation_state(&self.state, self.conversation.as_ref()).await;
        self.send(&mut socket, json!({"type": "ready", "data": {"conversation": state}})).await?;
        let heartbeat = self.state.config.ws_heartbeat.max(Duration::from_millis(10));
        let mut ticks = tokio::time::interval_at(Instant::now() + heartbeat, heartbeat);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                frame = socket.recv() => match frame {
                    Some(Ok(frame)) => self.on_frame(&mut socket, frame).await?,
                    None | Some(Err(_)) => return Err(Closed),
                },
                msg = rx.recv() => match msg {
                    Some(msg) => {
                        self.on_bus(&mut socket, &msg).await?;
                        if rx.take_lagged() {
                            self.send(&mut socket, json!({"type": "resync", "data": null})).await?
                        }
                    }
                    None => return Err(Closed),
                },
                _ = ticks.tick() => {
                    if self.unanswered_pings >= MAX_UNANSWERED_PINGS {
                        return Err(Closed);
                    }
                    self.raw(&mut socket, WsMessage::Ping(Default::default())).await?;
                    self.unanswered_pings += 1;
                }
            }
        }
    }

    async fn send_after(&mut self, socket: &mut WebSocket, after: Id) -> Result<(), Closed> {
        let Some(conv) = &self.conversation else { return Ok(()) };
        let list = self.state.store.contact_messages(conv.id, Some(after), None, 200).await.unwrap_or_default();
        for m in &list {
            self.send_message(socket, m).await?;
        }
        Ok(())
    }

    async fn send_message(&self, socket: &mut WebSocket, m: &Message) -> Result<(), Closed> {
        match visitor_message(&self.state, self.v.channel.id, &self.v.visitor_id, m) {
            Some(vm) => self.send(socket, json!({"type": "message", "data": vm})).await,
            None => Ok(()),
        }
    }

    async fn on_bus(&mut self, socket: &mut WebSocket, msg: &BusMessage) -> Result<(), Closed> {
        match msg {
            BusMessage::Event(e) => {
                if e.workspace_id != self.v.channel.workspace_id {
                    return Ok(());
                }
                let kind = e.kind.as_str();
                if self.conversation.is_none() {
                    // The visitor's first message creates the conversation (maybe on another
                    // request): look again when one is created in this channel.
                    let in_channel = e.access.as_ref().is_some_and(|a| a.channel_id == self.v.channel.id);
                    if !(in_channel && (kind == "conversation.created" || kind == "message.created")) {
                        return Ok(());
                    }
                    self.find_conversation().await;
                }
                let Some(conv_id) = self.conversation.as_ref().map(|c| c.id) else { return Ok(()) };
                match kind {
                    "message.created" | "message.updated" => {
                        if e.payload.get("conversation_id").and_then(Value::as_i64) != Some(conv_id) {
                            return Ok(());
                        }
                        if let Ok(m) = serde_json::from_value::<Message>(e.payload.clone()) {
                            self.send_message(socket, &m).await?;
                        }
                    }
                    "conversation.created" | "conversation.updated" => {
                        if e.payload.get("id").and_then(Value::as_i64) != Some(conv_id) {
                            return Ok(());
                        }
                        if let Ok(c) = serde_json::from_value::<Conversation>(e.payload.clone()) {
                            let data = conversation_state(&self.state, Some(&c)).await;
                            self.conversation = Some(c);
                            self.send(socket, json!({"type": "conversation", "data": data})).await?;
                        }
                    }
                    "conversation.deleted" if e.payload.get("id").and_then(Value::as_i64) == Some(conv_id) => {
                        self.conversation = None;
                        self.send(socket, json!({"type": "resync", "data": null})).await?;
                    }
                    _ => {}
                }
                Ok(())
            }
            BusMessage::Ephemeral(x) => {
                let Some(conv_id) = self.conversation.as_ref().map(|c| c.id) else { return Ok(()) };
                if x.workspace_id != self.v.channel.workspace_id
                    || x.kind != "typing"
                    || x.from_user_id.is_none()
                    || x.payload.get("conversation_id").and_then(Value::as_i64) != Some(conv_id)
                {
                    return Ok(());
                }
                let name = x.payload.get("name").cloned().unwrap_or(Value::Null);
                self.send(socket, json!({"type": "typing", "data": {"name": name}})).await
            }
            BusMessage::Resync => self.send(socket, json!({"type": "resync", "data": null})).await,
        }
    }

    async fn on_frame(&mut self, socket: &mut WebSocket, frame: WsMessage) -> Result<(), Closed> {
        self.unanswered_pings = 0;
        let text = match frame {
            WsMessage::Text(t) => t,
            WsMessage::Close(_) => return Err(Closed),
            _ => return Ok(()),
        };
        let v: Value = serde_json::from_str(text.as_str()).unwrap_or(Value::Null);
        match v.get("type").and_then(Value::as_str) {
            Some("ping") => self.send(socket, json!({"type": "pong", "data": null})).await,
            Some("typing") => {
                self.typing().await;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    async fn typing(&mut self) {
        let now = Instant::now();
        if self.last_typing.is_some_and(|t| now.duration_since(t) < TYPING_INTERVAL) {
            return;
        }
        let Some(conv) = &self.conversation else { return };
        self.last_typing = Some(now);
        let name = match &conv.contact_id {
            Some(id) => self.state.store.get_contact(conv.workspace_id, *id).await.map(|c| c.name).unwrap_or_default(),
            None => String::new(),
        };
        self.state
            .bus
            .publish_ephemeral(Ephemeral {
                workspace_id: conv.workspace_id,
                kind: "typing".into(),
                access: Some(conv.access()),
                from_user_id: None,
                payload: json!({"conversation_id": conv.id, "contact": true, "name": name}),
            })
            .await;
    }

    async fn send(&self, socket: &mut WebSocket, frame: Value) -> Result<(), Closed> {
        self.raw(socket, WsMessage::text(frame.to_string())).await
    }

    async fn raw(&self, socket: &mut WebSocket, msg: WsMessage) -> Result<(), Closed> {
        match tokio::time::timeout(Duration::from_secs(30), socket.send(msg)).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(Closed),
        }
    }
}
