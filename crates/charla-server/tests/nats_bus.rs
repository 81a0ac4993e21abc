//! Two nodes on one PostgreSQL database, with NATS between them: what happens on one node
//! reaches the WebSocket clients of the other.

mod harness;

use charla_core::Role;
use harness::*;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_and_typing_cross_nodes() {
    let db = Db::new(Backend::Postgres).await;
    // Each test run has its own subject: parallel runs do not hear each other.
    let subject = unique("charla.test").replace('_', ".");
    let dir_a = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir_b = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let node = |dir: &std::path::Path| {
        let mut cfg = config(dir, &db);
        cfg.nats_url = Some(nats_url());
        cfg.nats_subject = subject.clone();
        cfg
    };
    let a = start(node(dir_a.path())).await;
    let b = start(node(dir_b.path())).await;

    let fx = fixture(&a, None).await;
    let agent = create_user(&a, fx.workspace_id, "agent", Role::Agent, &[]).await;
    set_members(&a, &fx.channel, &[agent.id]).await;

    // Sessions are signed with the server secret the nodes share through the database.
    let mut admin_on_b = WsClient::connect(b.addr, &token(&b, &fx.admin), None).await;
    let mut agent_on_a = WsClient::connect(a.addr, &token(&a, &agent), None).await;

    let (message_id, conv) = send_inbound(&a, &fx.channel, "n-1", "ext-1", "across the bus").await;
    let (frame, _) = admin_on_b.until_type("message.created").await;
    assert_eq!(frame["data"]["id"], json!(message_id));
    assert_eq!(frame["data"]["text"], "across the bus");
    let (frame, _) = agent_on_a.until_type("message.created").await;
    assert_eq!(frame["data"]["id"], json!(message_id));

    // Ephemeral frames cross too, with the same permission filter.
    admin_on_b.send(json!({"type": "typing", "conversation_id": conv})).await;
    let (typing, _) = agent_on_a.until_type("typing").await;
    assert_eq!(typing["data"]["user_id"], json!(fx.admin.id));

    // A message ingested on B reaches a client of A, once.
    send_inbound(&b, &fx.channel, "n-2", "ext-1", "and back").await;
    let (frame, _) =
        agent_on_a.until(|f: &Value| f["type"] == "message.created" && f["data"]["text"] == "and back").await;
    let seq = frame["seq"].as_i64().unwrap_or(0);
    send_inbound(&b, &fx.channel, "n-3", "ext-1", "sentinel").await;
    let (_, between) =
        agent_on_a.until(|f: &Value| f["type"] == "message.created" && f["data"]["text"] == "sentinel").await;
    assert!(between.iter().all(|f| f["seq"].as_i64().is_none_or(|s| s > seq)), "duplicate frames: {between:#?}");

    a.stop().await;
    b.stop().await;
    db.drop().await;
}
