//! The operator WebSocket: event shapes, the permission filter (including after a
//! reassignment) and resuming with `?since=`.

mod harness;

use charla_core::{Flag, Role};
use charla_server::Running;
use harness::*;
use serde_json::{Value, json};

async fn server() -> (Running, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let db = Db::new(Backend::Sqlite).await;
    (start(config(dir.path(), &db)).await, dir)
}

/// `n` inbound messages (ids `{prefix}-i`, texts `{text} i`, from `contacts` senders in turn)
/// stored but not yet published: their events, for the test to publish at once.
async fn stored_burst(
    running: &Running,
    fx: &Fixture,
    prefix: &str,
    n: usize,
    contacts: usize,
    text: &str,
) -> Vec<charla_store::Event> {
    let mut events = Vec::new();
    for i in 0..n {
        let msg = charla_store::InboundMessage {
            channel_id: fx.channel.id,
            provider_message_id: format!("{prefix}-{i}"),
            contact: charla_store::ContactInput { external_id: format!("ext-{}", i % contacts), ..Default::default() },
            text: format!("{text} {i}"),
            attachment_ids: vec![],
            is_group: false,
        };
        let w = running
            .state
            .store
            .ingest_inbound(msg, charla_server::state::now_ms())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        events.extend(w.events);
    }
    events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthenticated_connections_are_refused() {
    let (running, _dir) = server().await;
    let url = format!("ws://{}/api/v1/ws", running.addr);
    let err = tokio_tungstenite::connect_async(url.as_str()).await.err();
    match err {
        Some(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(resp.status().as_u16(), 401),
        other => panic!("expected a 401, got {other:?}"),
    }
    let bad = format!("ws://{}/api/v1/ws?token=forged", running.addr);
    match tokio_tungstenite::connect_async(bad.as_str()).await.err() {
        Some(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(resp.status().as_u16(), 401),
        other => panic!("expected a 401, got {other:?}"),
    }
    // The route is in the OpenAPI document.
    let doc: Value = reqwest::get(format!("http://{}/api/v1/openapi.json", running.addr))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(doc["paths"]["/api/v1/ws"]["get"].is_object(), "ws route missing from the OpenAPI document");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_receives_inbound_message_with_its_shape() {
    let (running, _dir) = server().await;
    let fx = fixture(&running, None).await;
    let mut admin = WsClient::connect(running.addr, &fx.admin_token, None).await;

    let (message_id, conversation_id) = send_inbound(&running, &fx.channel, "p-1", "ext-1", "Hello there").await;
    let (frame, mut seen) = admin.until_type("message.created").await;
    assert!(frame["seq"].as_i64().is_some_and(|s| s > 0), "{frame}");
    let data = &frame["data"];
    assert_eq!(data["id"], json!(message_id));
    assert_eq!(data["conversation_id"], json!(conversation_id));
    assert_eq!(data["kind"], "inbound");
    assert_eq!(data["text"], "Hello there");
    assert_eq!(data["author"]["type"], "contact");
    assert!(data["attachments"].is_array());
    assert!(data["created_at"].as_str().is_some_and(|t| t.ends_with('Z')));

    // The conversation's frames and the counters follow.
    let (counts, after) = admin.until_type("counts.updated").await;
    seen.extend(after);
    let conv = seen
        .iter()
        .find(|f| f["type"] == "conversation.created")
        .unwrap_or_else(|| panic!("no conversation.created: {seen:#?}"));
    assert_eq!(conv["data"]["id"], json!(conversation_id));
    assert_eq!(conv["data"]["status"], "open");
    assert_eq!(counts["seq"], Value::Null);
    assert_eq!(counts["data"]["unassigned"], json!(1), "{counts}");
    assert_eq!(counts["data"]["all"], json!(1), "{counts}");

    // Client ping → pong.
    admin.send(json!({"type": "ping"})).await;
    admin.until_type("pong").await;
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_only_hear_about_what_they_may_see() {
    let (running, _dir) = server().await;
    let fx = fixture(&running, None).await;
    let store = &running.state.store;
    let alice = create_user(&running, fx.workspace_id, "alice", Role::Agent, &[]).await;
    let bob = create_user(&running, fx.workspace_id, "bob", Role::Agent, &[]).await;
    let carol = create_user(&running, fx.workspace_id, "carol", Role::Agent, &[Flag::SeeAllConversations]).await;
    let outsider = create_user(&running, fx.workspace_id, "dave", Role::Agent, &[]).await;
    set_members(&running, &fx.channel, &[alice.id, bob.id, carol.id]).await;
    let other = create_api_channel(&running, fx.workspace_id, "Other", None).await;
    set_members(&running, &other, &[outsider.id]).await;

    let mut ws_alice = WsClient::connect(running.addr, &token(&running, &alice), None).await;
    let mut ws_bob = WsClient::connect(running.addr, &token(&running, &bob), None).await;
    let mut ws_dave = WsClient::connect(running.addr, &token(&running, &outsider), None).await;

    // An unassigned conversation in their channel: Alice and Bob see it; Dave does not.
    let (_, conv) = send_inbound(&running, &fx.channel, "p-1", "ext-1", "first").await;
    for ws in [&mut ws_alice, &mut ws_bob] {
        let (f, _) = ws.until_type("message.created").await;
        assert_eq!(f["data"]["conversation_id"], json!(conv));
    }
    // Dave's sentinel: a message in his own channel. Everything before it is what he got.
    let (_, dave_conv) = send_inbound(&running, &other, "d-1", "ext-d", "for dave").await;
    let (f, before) = ws_dave.until_type("message.created").await;
    assert_eq!(f["data"]["conversation_id"], json!(dave_conv));
    assert!(about_conversation(&before, conv).is_empty(), "Dave heard about a conversation he cannot see: {before:#?}");

    // Assigned to Alice: Bob loses it (conversation.removed) and hears nothing more about it.
    let now = charla_server::state::now_ms();
    let w = store
        .assign(fx.workspace_id, conv, fx.admin.id, Some(alice.id), None, now)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    running.state.publish(w.events).await;
    let (removed, _) = ws_bob.until_type("conversation.removed").await;
    assert_eq!(removed["data"]["id"], json!(conv));
    // Alice still sees it: she gets the update, not a removal.
    let (upd, skipped) = ws_alice
        .until(|f: &Value| f["type"] == "conversation.updated" && f["data"]["assignee_id"] == json!(alice.id))
        .await;
    assert_eq!(upd["data"]["id"], json!(conv));
    assert!(skipped.iter().all(|f| f["type"] != "conversation.removed"), "{skipped:#?}");

    // Reassigned to Carol (by the admin): Alice now gets conversation.removed...
    let w = store
        .assign(fx.workspace_id, conv, fx.admin.id, Some(carol.id), None, now + 1)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    running.state.publish(w.events).await;
    let (removed, _) = ws_alice.until_type("conversation.removed").await;
    assert_eq!(removed["data"]["id"], json!(conv));

    // ...and then nothing about it: a new message there reaches neither Alice nor Bob nor Dave.
    send_inbound(&running, &fx.channel, "p-2", "ext-1", "secret follow-up").await;
    // Sentinel: a new unassigned conversation in their channel.
    let (_, sentinel) = send_inbound(&running, &fx.channel, "p-3", "ext-2", "sentinel").await;
    for ws in [&mut ws_alice, &mut ws_bob] {
        let (_, before) = ws
            .until(|f: &Value| f["type"] == "message.created" && f["data"]["conversation_id"] == json!(sentinel))
            .await;
        let leaked = about_conversation(&before, conv);
        assert!(leaked.is_empty(), "an agent heard about a conversation taken away: {leaked:#?}");
        assert!(!before.iter().any(|f| f["data"]["text"] == "secret follow-up"));
    }
    send_inbound(&running, &other, "d-2", "ext-d", "for dave again").await;
    let (_, before) =
        ws_dave.until(|f: &Value| f["type"] == "message.created" && f["data"]["text"] == "for dave again").await;
    assert!(
        about_conversation(&before, conv).is_empty() && about_conversation(&before, sentinel).is_empty(),
        "{before:#?}"
    );

    // The admin sees everything, including what the agents lost.
    let mut ws_admin = WsClient::connect(running.addr, &fx.admin_token, None).await;
    send_inbound(&running, &fx.channel, "p-4", "ext-1", "for carol").await;
    let (_, sentinel2) = send_inbound(&running, &fx.channel, "p-5", "ext-3", "sentinel 2").await;
    let (_, before) = ws_admin
        .until(|f: &Value| f["type"] == "message.created" && f["data"]["conversation_id"] == json!(sentinel2))
        .await;
    assert!(before.iter().any(|f| f["data"]["text"] == "for carol"), "the admin sees everything: {before:#?}");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_with_since_sends_exactly_what_was_missed() {
    let (running, _dir) = server().await;
    let fx = fixture(&running, None).await;
    let mut ws = WsClient::connect(running.addr, &fx.admin_token, None).await;
    assert!(ws.backlog.is_empty());
    send_inbound(&running, &fx.channel, "r-1", "ext-1", "before the break").await;
    ws.until(|f: &Value| f["type"] == "message.created" && f["data"]["text"] == "before the break").await;
    let last = ws.last_seq;
    ws.close().await;

    // Missed while away.
    for (i, text) in ["missed 1", "missed 2", "missed 3"].iter().enumerate() {
        send_inbound(&running, &fx.channel, &format!("r-m{i}"), &format!("ext-{}", i % 2), text).await;
    }
    let expected: Vec<i64> = running
        .state
        .store
        .events_since(fx.workspace_id, last, 1000)
        .await
        .unwrap_or_default()
        .iter()
        .filter(|e| e.user_id.is_none_or(|u| u == fx.admin.id))
        .map(|e| e.seq)
        .collect();
    assert!(!expected.is_empty());

    let mut ws = WsClient::connect(running.addr, &fx.admin_token, Some(last)).await;
    let got: Vec<i64> = ws.backlog.iter().filter_map(|f| f["seq"].as_i64()).collect();
    assert_eq!(got, expected, "the catch-up must be exactly the missed events, in order");
    let texts: Vec<&str> = ws
        .backlog
        .iter()
        .filter(|f| f["type"] == "message.created")
        .filter_map(|f| f["data"]["text"].as_str())
        .collect();
    assert_eq!(texts, ["missed 1", "missed 2", "missed 3"]);
    assert_eq!(ws.ready_seq, *expected.last().unwrap_or(&0));

    // Live events continue after the catch-up without repeating any.
    send_inbound(&running, &fx.channel, "r-live", "ext-1", "live again").await;
    let (_, between) = ws.until(|f: &Value| f["type"] == "message.created" && f["data"]["text"] == "live again").await;
    for f in &between {
        if let Some(seq) = f["seq"].as_i64() {
            assert!(seq > ws.ready_seq, "a duplicate after resume: {f}");
        }
    }
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_larger_than_the_ring_arrives_complete_in_order() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let db = Db::new(Backend::Sqlite).await;
    let mut cfg = config(dir.path(), &db);
    cfg.bus_capacity = 2;
    let running = start(cfg).await;
    let fx = fixture(&running, None).await;
    let mut ws = WsClient::connect(running.addr, &fx.admin_token, None).await;

    // Written first, published at once: the connection cannot keep up with a ring of 2.
    let events = stored_burst(&running, &fx, "b", 40, 3, "burst").await;
    let expected: Vec<i64> =
        events.iter().filter(|e| e.user_id.is_none_or(|u| u == fx.admin.id)).map(|e| e.seq).collect();
    running.state.publish(events).await;

    let (last, mut frames) =
        ws.until(|f: &Value| f["type"] == "message.created" && f["data"]["text"] == "burst 39").await;
    frames.push(last);
    let got: Vec<i64> = frames.iter().filter_map(|f| f["seq"].as_i64()).collect();
    let upto = got.last().copied().unwrap_or(0);
    let expected: Vec<i64> = expected.into_iter().filter(|s| *s <= upto).collect();
    assert_eq!(got, expected, "every event once, in order");
    let texts: Vec<String> = frames
        .iter()
        .filter(|f| f["type"] == "message.created")
        .filter_map(|f| f["data"]["text"].as_str().map(String::from))
        .collect();
    assert_eq!(texts, (0..40).map(|i| format!("burst {i}")).collect::<Vec<_>>());
    // The connection did fall behind and recovered from the log.
    assert!(running.state.metrics.render().contains("charla_ws_lagged_total"), "the burst did not overflow the ring");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operator_online_receives_every_event_of_a_burst_in_order() {
    let (running, _dir) = server().await;
    let fx = fixture(&running, None).await;
    let mut sockets = Vec::new();
    for _ in 0..3 {
        sockets.push(WsClient::connect(running.addr, &fx.admin_token, None).await);
    }
    // Written first, published together: each socket writes what waits in its ring at once.
    let events = stored_burst(&running, &fx, "o", 30, 4, "team").await;
    let expected: Vec<i64> = events.iter().map(|e| e.seq).collect();
    let last_seq = json!(expected.last().copied().unwrap_or_default());
    running.state.publish(events).await;

    let mut received = Vec::new();
    for ws in &mut sockets {
        let (last, mut frames) = ws.until(|f: &Value| f["seq"] == last_seq).await;
        frames.push(last);
        let durable: Vec<Value> = frames.into_iter().filter(|f| f["seq"].is_i64()).collect();
        let seqs: Vec<i64> = durable.iter().filter_map(|f| f["seq"].as_i64()).collect();
        assert_eq!(seqs, expected, "every event once, in order");
        received.push(durable);
    }
    // The same frames for each (made once, shared), with their full shapes.
    assert_eq!(received[0], received[1]);
    assert_eq!(received[0], received[2]);
    let conv = received[0]
        .iter()
        .find(|f| f["type"] == "conversation.updated")
        .unwrap_or_else(|| panic!("no conversation.updated: {:#?}", received[0]));
    assert!(conv["data"].get("reply_window_expires_at").is_some(), "{conv}");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn membership_changes_apply_to_open_connections() {
    let (running, _dir) = server().await;
    let fx = fixture(&running, None).await;
    let agent = create_user(&running, fx.workspace_id, "agent", Role::Agent, &[]).await;
    let mut ws = WsClient::connect(running.addr, &token(&running, &agent), None).await;

    // Not a member yet: a message in the channel does not reach the agent; the sentinel is the
    // membership change itself.
    send_inbound(&running, &fx.channel, "m-1", "ext-1", "before joining").await;
    set_members(&running, &fx.channel, &[agent.id]).await;
    let (_, before) = ws.until_type("channel.updated").await;
    assert!(before.iter().all(|f| f["data"]["text"] != "before joining"), "{before:#?}");

    // A member now: the same connection receives the channel's conversations.
    send_inbound(&running, &fx.channel, "m-2", "ext-1", "after joining").await;
    let (frame, _) = ws.until_type("message.created").await;
    assert_eq!(frame["data"]["text"], "after joining");

    // Removed again: nothing more.
    set_members(&running, &fx.channel, &[]).await;
    ws.until_type("channel.updated").await;
    send_inbound(&running, &fx.channel, "m-3", "ext-2", "after leaving").await;
    // Sentinel: deactivating the user closes the connection, after everything before it.
    let w = running
        .state
        .store
        .update_user(fx.workspace_id, agent.id, charla_store::UserPatch { active: Some(false), ..Default::default() })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    running.state.publish(w.events).await;
    let mut leaked = Vec::new();
    let code = loop {
        match tokio::time::timeout(WAIT, ws.next_or_close()).await {
            Ok(Ok(frame)) => leaked.push(frame),
            Ok(Err(code)) => break code,
            Err(_) => panic!("the connection of a deactivated user stayed open"),
        }
    };
    assert_eq!(code, Some(1008));
    assert!(leaked.iter().all(|f| f["data"]["text"] != "after leaving"), "{leaked:#?}");
    running.stop().await;
}
