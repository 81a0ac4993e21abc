//! The operator WebSocket as a session: presence on connect, presence frames, typing
//! indicators, heartbeats.

mod harness;

use charla_core::{Presence, Role};
use charla_server::Running;
use harness::*;
use serde_json::{Value, json};
use std::time::Duration;

async fn server(heartbeat: Duration) -> (Running, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let db = Db::new(Backend::Sqlite).await;
    let mut cfg = config(dir.path(), &db);
    cfg.ws_heartbeat = heartbeat;
    (start(cfg).await, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connecting_marks_the_operator_online_and_presence_frames_change_it() {
    let (running, _dir) = server(Duration::from_secs(30)).await;
    let fx = fixture(&running, None).await;
    let agent = create_user(&running, fx.workspace_id, "agent", Role::Agent, &[]).await;
    assert_eq!(agent.presence, Presence::Offline);
    let mut admin = WsClient::connect(running.addr, &fx.admin_token, None).await;

    let mut ws = WsClient::connect(running.addr, &token(&running, &agent), None).await;
    let (online, _) = admin
        .until(|f: &Value| {
            f["type"] == "presence.updated" && f["data"]["id"] == json!(agent.id) && f["data"]["presence"] == "online"
        })
        .await;
    assert_eq!(online["data"]["presence"], "online", "{online}");
    let user = running.state.store.get_user(fx.workspace_id, agent.id).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(user.presence, Presence::Online);

    ws.send(json!({"type": "presence", "status": "away"})).await;
    admin
        .until(|f: &Value| {
            f["type"] == "presence.updated" && f["data"]["id"] == json!(agent.id) && f["data"]["presence"] == "away"
        })
        .await;
    ws.send(json!({"type": "presence", "status": "sleeping"})).await;
    let (err, _) = ws.until_type("error").await;
    assert_eq!(err["data"]["code"], "invalid_presence");
    ws.send(json!({"type": "nonsense"})).await;
    let (err, _) = ws.until_type("error").await;
    assert_eq!(err["data"]["code"], "invalid_frame");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_reaches_operators_who_see_the_conversation() {
    let (running, _dir) = server(Duration::from_secs(30)).await;
    let fx = fixture(&running, None).await;
    let alice = create_user(&running, fx.workspace_id, "alice", Role::Agent, &[]).await;
    let bob = create_user(&running, fx.workspace_id, "bob", Role::Agent, &[]).await;
    let dave = create_user(&running, fx.workspace_id, "dave", Role::Agent, &[]).await;
    set_members(&running, &fx.channel, &[alice.id, bob.id]).await;
    let other = create_api_channel(&running, fx.workspace_id, "Other", None).await;
    set_members(&running, &other, &[dave.id]).await;
    let (_, conv) = send_inbound(&running, &fx.channel, "t-1", "ext-1", "hi").await;

    let mut ws_alice = WsClient::connect(running.addr, &token(&running, &alice), None).await;
    let mut ws_bob = WsClient::connect(running.addr, &token(&running, &bob), None).await;
    let mut ws_dave = WsClient::connect(running.addr, &token(&running, &dave), None).await;

    ws_alice.send(json!({"type": "typing", "conversation_id": conv})).await;
    let (typing, _) = ws_bob.until_type("typing").await;
    assert_eq!(typing["seq"], Value::Null);
    assert_eq!(typing["data"], json!({"conversation_id": conv, "user_id": alice.id, "name": "alice"}));

    // Dave cannot see it: his sentinel (a message in his channel) comes with no typing before.
    send_inbound(&running, &other, "t-d", "ext-d", "for dave").await;
    let (_, before) = ws_dave.until_type("message.created").await;
    assert!(before.iter().all(|f| f["type"] != "typing"), "{before:#?}");
    // Alice does not hear her own typing; Dave may not type where he cannot see.
    ws_dave.send(json!({"type": "typing", "conversation_id": conv})).await;
    let (err, _) = ws_dave.until_type("error").await;
    assert_eq!(err["data"]["code"], "not_found");
    ws_alice.send(json!({"type": "ping"})).await;
    let (_, before) = ws_alice.until_type("pong").await;
    assert!(before.iter().all(|f| f["type"] != "typing"), "{before:#?}");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_sends_heartbeat_pings() {
    let (running, _dir) = server(Duration::from_millis(200)).await;
    let fx = fixture(&running, None).await;
    let mut ws = WsClient::connect(running.addr, &fx.admin_token, None).await;
    ws.wait_ping().await;
    ws.wait_ping().await;
    // The client answers pings (tungstenite does it when reading): the connection stays.
    ws.send(json!({"type": "ping"})).await;
    ws.until_type("pong").await;
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_client_is_closed_after_three_heartbeats() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (running, _dir) = server(Duration::from_millis(100)).await;
    let fx = fixture(&running, None).await;
    // A client that completes the handshake and then never answers anything.
    let mut tcp = tokio::net::TcpStream::connect(running.addr).await.unwrap_or_else(|e| panic!("{e}"));
    let request = format!(
        "GET /api/v1/ws?token={} HTTP/1.1\r\nHost: {}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        fx.admin_token, running.addr
    );
    tcp.write_all(request.as_bytes()).await.unwrap_or_else(|e| panic!("{e}"));
    let mut received = Vec::new();
    let read_all = async {
        let mut buf = [0u8; 4096];
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(WAIT, read_all).await.unwrap_or_else(|_| panic!("the server kept a silent client"));
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 101"), "{text}");
    // Unmasked server frames: pings (0x89), then a close (0x88) with code 4000.
    assert!(received.windows(2).any(|w| w == [0x89, 0x00]), "no ping was sent");
    assert!(received.windows(4).any(|w| w[0] == 0x88 && w[2..] == [0x0F, 0xA0]), "no close 4000 frame");
}
