//! The API channel end to end: signed inbound webhooks, outbound delivery to the integrator's
//! webhook (signature, retries, failure) and delivery receipts.

mod harness;

use charla_core::{Author, AuthorType, Id, MessageKind, MessageStatus};
use charla_server::Running;
use charla_store::NewOutgoing;
use harness::*;
use serde_json::json;

async fn server(configure: impl FnOnce(&mut charla_server::Config)) -> (Running, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let db = Db::new(Backend::Sqlite).await;
    let mut cfg = config(dir.path(), &db);
    configure(&mut cfg);
    (start(cfg).await, dir)
}

/// An operator's outbound message, as the REST handler sends it.
async fn send_outbound(running: &Running, fx: &Fixture, conversation_id: Id, text: &str) -> Id {
    let written = running
        .state
        .store
        .send_message(
            fx.workspace_id,
            NewOutgoing {
                conversation_id,
                author: Author { kind: AuthorType::User, id: Some(fx.admin.id), name: fx.admin.name.clone() },
                kind: MessageKind::Outbound,
                text: text.to_string(),
                reply_to: None,
                client_msg_id: None,
                attachment_ids: vec![],
                template: None,
            },
            charla_server::state::now_ms(),
        )
        .await
        .unwrap_or_else(|e| panic!("send: {e}"));
    running.state.publish(written.events).await;
    charla_server::jobs::wake(&running.state);
    written.value.id
}

async fn wait_status(running: &Running, fx: &Fixture, message_id: Id, want: MessageStatus) -> charla_core::Message {
    wait_for(&format!("message {message_id} to be {want}"), || async {
        let m = running.state.store.get_message(fx.workspace_id, message_id).await.ok()?;
        (m.status == want).then_some(m)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_inbound_is_stored_once_and_bad_signatures_are_refused() {
    let (running, _dir) = server(|_| {}).await;
    let fx = fixture(&running, None).await;
    let url = format!("http://{}/hooks/api/{}", running.addr, fx.channel.id);

    // Wrong secret, missing header, malformed header: 401 and nothing stored.
    let body = serde_json::to_vec(&inbound("m-1", "ext-1", "hola")).unwrap_or_default();
    let before = running.state.store.last_event_seq().await.unwrap_or(-1);
    for sig in [Some(sign("not-the-secret", &body)), None, Some("sha256=abc".to_string()), Some("garbage".into())] {
        let (status, answer) = post_raw(&url, body.clone(), sig).await;
        assert_eq!(status, 401, "{answer}");
        assert_eq!(answer["error"]["code"], "invalid_signature");
    }
    assert_eq!(running.state.store.last_event_seq().await.unwrap_or(-1), before, "a refused webhook wrote something");

    // Signed: 200 and the message is in the conversation.
    let (status, first) = post_hook(&running, &fx.channel, "", &inbound("m-1", "ext-1", "hola")).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["duplicate"], false);
    let conversation_id = id_of(&first["conversation_id"]);
    let message_id = id_of(&first["message_id"]);
    let messages =
        running.state.store.list_messages(fx.workspace_id, conversation_id, None, 50).await.unwrap_or_default();
    let inbound_msgs: Vec<_> = messages.iter().filter(|m| m.kind == MessageKind::Inbound).collect();
    assert_eq!(inbound_msgs.len(), 1);
    assert_eq!(inbound_msgs[0].id, message_id);
    assert_eq!(inbound_msgs[0].text, "hola");

    // The same provider message id again: one message, answered as a duplicate.
    let (status, again) = post_hook(&running, &fx.channel, "", &inbound("m-1", "ext-1", "hola")).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["duplicate"], true);
    assert_eq!(id_of(&again["message_id"]), message_id);
    let messages =
        running.state.store.list_messages(fx.workspace_id, conversation_id, None, 50).await.unwrap_or_default();
    assert_eq!(messages.iter().filter(|m| m.kind == MessageKind::Inbound).count(), 1);

    // A second message of the same contact joins the same conversation.
    let (_, second) = post_hook(&running, &fx.channel, "", &inbound(&"7".repeat(3), "ext-1", "¿sigue ahí?")).await;
    assert_eq!(id_of(&second["conversation_id"]), conversation_id);

    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbound_validation() {
    let (running, _dir) = server(|_| {}).await;
    let fx = fixture(&running, None).await;

    // Over the limit: 2001 characters not counting spaces.
    let long = format!("{} {}", "a".repeat(1000), "b".repeat(1001));
    let (status, answer) = post_hook(&running, &fx.channel, "", &inbound("long", "ext", &long)).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["error"]["code"], "message_too_long");
    assert!(answer["error"]["message"].as_str().unwrap_or("").contains("2000"), "{answer}");
    // At the limit (spaces do not count): accepted.
    let fits = format!("{} {}", "a".repeat(1000), "b".repeat(1000));
    let (status, answer) = post_hook(&running, &fx.channel, "", &inbound("fits", "ext", &fits)).await;
    assert_eq!(status, 200, "{answer}");

    // Malformed JSON: 400; missing fields: 422.
    let url = format!("http://{}/hooks/api/{}", running.addr, fx.channel.id);
    let bad = b"{\"message_id\": ".to_vec();
    let (status, answer) = post_raw(&url, bad.clone(), Some(sign(&fx.channel.secret, &bad))).await;
    assert_eq!((status, answer["error"]["code"].clone()), (400, json!("invalid_json")));
    let (status, _) = post_hook(&running, &fx.channel, "", &json!({"message_id": "x", "text": "no contact"})).await;
    assert_eq!(status, 422);
    let (status, _) =
        post_hook(&running, &fx.channel, "", &json!({"contact": {"external_id": "e"}, "text": "no id"})).await;
    assert_eq!(status, 422);

    // Unknown channel: 404.
    let (status, _) = post_raw(&format!("http://{}/hooks/api/999999", running.addr), b"{}".to_vec(), None).await;
    assert_eq!(status, 404);

    // An inline attachment: stored with its sniffed type.
    let png = [0x89u8, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R'];
    let body = json!({
        "message_id": "with-file",
        "contact": {"external_id": "ext"},
        "text": "see attached",
        "attachments": [{"name": "../pic.png", "content_type": "text/html", "data_base64": base64_encode(&png)}],
    });
    let (status, answer) = post_hook(&running, &fx.channel, "", &body).await;
    assert_eq!(status, 200, "{answer}");
    let m = running
        .state
        .store
        .get_message(fx.workspace_id, id_of(&answer["message_id"]))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(m.attachments.len(), 1);
    assert_eq!(m.attachments[0].name, "pic.png");
    assert_eq!(m.attachments[0].content_type, "image/png");
    assert_eq!(m.attachments[0].size, png.len() as i64);

    running.stop().await;
}

fn base64_encode(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_is_signed_and_sent() {
    let mut receiver = Receiver::start(&[]).await;
    let (running, _dir) = server(|_| {}).await;
    let fx = fixture(&running, Some(receiver.url())).await;
    let (_, conversation_id) = send_inbound(&running, &fx.channel, "in-1", "ext-42", "hello").await;

    let message_id = send_outbound(&running, &fx, conversation_id, "Hi! How can I help?").await;
    let req = receiver.next().await;
    // Signature over the raw body with the channel secret.
    assert_eq!(req.signature.as_deref(), Some(sign(&fx.channel.secret, &req.body).as_str()));
    assert_eq!(req.delivery, Some(message_id.to_string()));
    assert!(req.content_type.as_deref().unwrap_or("").starts_with("application/json"));
    let body = req.json();
    assert_eq!(body["message_id"], json!(message_id));
    assert_eq!(body["conversation_id"], json!(conversation_id));
    assert_eq!(body["external_id"], "ext-42");
    assert_eq!(body["text"], "Hi! How can I help?");
    assert_eq!(body["attachments"], json!([]));
    assert_eq!(body["author"]["name"], json!(fx.admin.name));
    assert!(body["created_at"].as_str().is_some_and(|t| t.ends_with('Z')), "{body}");

    let m = wait_status(&running, &fx, message_id, MessageStatus::Sent).await;
    assert_eq!(m.provider_id.as_deref(), Some("prov-1"));
    assert_eq!(m.error, None);
    assert_eq!(receiver.count(), 1);

    // Receipts: delivered then read → read; a late delivered after read does not go back.
    let (status, answer) =
        post_hook(&running, &fx.channel, "/status", &json!({"message_id": message_id, "status": "delivered"})).await;
    assert_eq!((status, answer["status"].clone()), (200, json!("delivered")), "{answer}");
    let (status, answer) =
        post_hook(&running, &fx.channel, "/status", &json!({"message_id": message_id, "status": "read"})).await;
    assert_eq!((status, answer["status"].clone()), (200, json!("read")), "{answer}");
    let (status, answer) =
        post_hook(&running, &fx.channel, "/status", &json!({"message_id": message_id, "status": "delivered"})).await;
    assert_eq!((status, answer["status"].clone()), (200, json!("read")), "{answer}");
    let m = running.state.store.get_message(fx.workspace_id, message_id).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(m.status, MessageStatus::Read);

    // Receipts are signed too; unknown messages and statuses are refused.
    let unsigned = serde_json::to_vec(&json!({"message_id": message_id, "status": "failed"})).unwrap_or_default();
    let url = format!("http://{}/hooks/api/{}/status", running.addr, fx.channel.id);
    assert_eq!(post_raw(&url, unsigned, None).await.0, 401);
    let (status, _) =
        post_hook(&running, &fx.channel, "/status", &json!({"message_id": 987654, "status": "read"})).await;
    assert_eq!(status, 404);
    let (status, _) =
        post_hook(&running, &fx.channel, "/status", &json!({"message_id": message_id, "status": "lost"})).await;
    assert_eq!(status, 422);

    running.stop().await;
    receiver.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_before_delivered_stays_read() {
    let mut receiver = Receiver::start(&[]).await;
    let (running, _dir) = server(|_| {}).await;
    let fx = fixture(&running, Some(receiver.url())).await;
    let (_, conversation_id) = send_inbound(&running, &fx.channel, "in-1", "ext", "hello").await;
    let message_id = send_outbound(&running, &fx, conversation_id, "answer").await;
    receiver.next().await;
    wait_status(&running, &fx, message_id, MessageStatus::Sent).await;
    for (status, want) in [("read", "read"), ("delivered", "read")] {
        let (code, answer) = post_hook(
            &running,
            &fx.channel,
            "/status",
            &json!({"message_id": message_id.to_string(), "status": status}),
        )
        .await;
        assert_eq!((code, answer["status"].clone()), (200, json!(want)), "{answer}");
    }
    running.stop().await;
    receiver.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_is_retried_until_accepted() {
    let mut receiver = Receiver::start(&[500, 500]).await;
    let (running, _dir) = server(|c| c.delivery_max_attempts = 5).await;
    let fx = fixture(&running, Some(receiver.url())).await;
    let (_, conversation_id) = send_inbound(&running, &fx.channel, "in-1", "ext", "hello").await;
    let message_id = send_outbound(&running, &fx, conversation_id, "third time lucky").await;

    let attempts = [receiver.next().await, receiver.next().await, receiver.next().await];
    for a in &attempts {
        assert_eq!(a.delivery, Some(message_id.to_string()));
        assert_eq!(a.signature.as_deref(), Some(sign(&fx.channel.secret, &a.body).as_str()));
    }
    let m = wait_status(&running, &fx, message_id, MessageStatus::Sent).await;
    assert_eq!(m.provider_id.as_deref(), Some("prov-3"));
    assert_eq!(m.error, None);
    assert_eq!(receiver.count(), 3);
    running.stop().await;
    receiver.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_fails_after_the_last_attempt() {
    let mut receiver = Receiver::start(&[500; 10]).await;
    let (running, _dir) = server(|c| c.delivery_max_attempts = 3).await;
    let fx = fixture(&running, Some(receiver.url())).await;
    let (_, conversation_id) = send_inbound(&running, &fx.channel, "in-1", "ext", "hello").await;
    let message_id = send_outbound(&running, &fx, conversation_id, "nobody listens").await;

    for _ in 0..3 {
        receiver.next().await;
    }
    let m = wait_status(&running, &fx, message_id, MessageStatus::Failed).await;
    assert_eq!(m.error.as_deref(), Some("HTTP 500"));
    // No job is left: nothing more will be attempted.
    wait_for("the delivery job to be gone", || async {
        running.state.store.next_job_at().await.ok().filter(|n| n.is_none()).map(|_| ())
    })
    .await;
    assert_eq!(receiver.count(), 3);
    running.stop().await;
    receiver.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_errors_fail_at_once_and_unreachable_receivers_say_why() {
    // A 400 cannot get better by retrying.
    let mut receiver = Receiver::start(&[400]).await;
    let (running, _dir) = server(|c| c.delivery_max_attempts = 5).await;
    let fx = fixture(&running, Some(receiver.url())).await;
    let (_, conversation_id) = send_inbound(&running, &fx.channel, "in-1", "ext", "hello").await;
    let message_id = send_outbound(&running, &fx, conversation_id, "bad request").await;
    receiver.next().await;
    let m = wait_status(&running, &fx, message_id, MessageStatus::Failed).await;
    assert_eq!(m.error.as_deref(), Some("HTTP 400"));
    assert_eq!(receiver.count(), 1);

    // Nobody listening: the reason says so, and the message stays queued meanwhile.
    let refusing = refusing_port();
    let dead_url = port_url(&refusing, "/hook");
    let dead = create_api_channel(&running, fx.workspace_id, "Dead", Some(dead_url)).await;
    let (_, conv2) = send_inbound(&running, &dead, "in-2", "ext", "hello").await;
    let message_id = send_outbound(&running, &fx, conv2, "anyone?").await;
    let m = wait_for("a failed attempt to be recorded", || async {
        let m = running.state.store.get_message(fx.workspace_id, message_id).await.ok()?;
        m.error.is_some().then_some(m)
    })
    .await;
    assert_eq!(m.error.as_deref(), Some("connection refused"));
    running.stop().await;
    receiver.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_never_answers_times_out() {
    let (running, _dir) = server(|c| {
        c.delivery_timeout = std::time::Duration::from_millis(300);
        c.delivery_max_attempts = 1;
    })
    .await;
    let fx = fixture(&running, None).await;
    // Accepts connections, reads nothing, answers nothing.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("{e}"));
    let url = format!("http://{}/hook", silent.local_addr().unwrap_or_else(|e| panic!("{e}")));
    let hold = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            open.push(socket);
        }
    });
    let channel = create_api_channel(&running, fx.workspace_id, "Silent", Some(url)).await;
    let (_, conv) = send_inbound(&running, &channel, "in-1", "ext", "hello").await;
    let message_id = send_outbound(&running, &fx, conv, "hello?").await;
    let m = wait_status(&running, &fx, message_id, MessageStatus::Failed).await;
    assert_eq!(m.error.as_deref(), Some("timeout after 300ms"));
    hold.abort();
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_and_files_are_refused() {
    let (running, _dir) = server(|c| {
        c.max_body_bytes = 4 * 1024;
        c.max_upload_bytes = 1024;
    })
    .await;
    let fx = fixture(&running, None).await;
    let file = |n: usize| {
        json!({
            "message_id": format!("f-{n}"),
            "contact": {"external_id": "ext"},
            "attachments": [{"name": "a.bin", "data_base64": base64_encode(&vec![7u8; n])}],
        })
    };
    let (status, answer) = post_hook(&running, &fx.channel, "", &file(1024)).await;
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = post_hook(&running, &fx.channel, "", &file(1025)).await;
    assert_eq!((status, answer["error"]["code"].clone()), (413, json!("file_too_large")), "{answer}");
    // A body larger than any allowed message: refused before its signature is even checked.
    let (status, answer) = post_hook(&running, &fx.channel, "", &file(8 * 1024)).await;
    assert_eq!((status, answer["error"]["code"].clone()), (413, json!("payload_too_large")), "{answer}");
    running.stop().await;
}

/// The webhook keeps a channel it has read for a moment; a change made through the API is seen
/// at once, one made elsewhere (another node) within `HOOK_CHANNEL_TTL`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_changes_reach_the_webhook() {
    let (running, _dir) = server(|_| {}).await;
    let fx = fixture(&running, None).await;
    let url = format!("http://{}/hooks/api/{}", running.addr, fx.channel.id);
    let api = format!("http://{}/api/v1/channels/{}", running.addr, fx.channel.id);
    let client = reqwest::Client::new();
    let post = |secret: String, n: u32| {
        let body = serde_json::to_vec(&inbound(&format!("c-{n}"), "ext-1", "hola")).unwrap_or_default();
        let sig = sign(&secret, &body);
        let url = url.clone();
        async move { post_raw(&url, body, Some(sig)).await }
    };
    assert_eq!(post(fx.channel.secret.clone(), 1).await.0, 200);

    // Rotated through the API: the old secret is refused at once, the new one accepted.
    let rotated: serde_json::Value = client
        .post(format!("{api}/rotate-secret"))
        .bearer_auth(&fx.admin_token)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let secret = rotated["secret"].as_str().unwrap_or_else(|| panic!("{rotated}")).to_string();
    assert_eq!(post(fx.channel.secret.clone(), 2).await.0, 401);
    assert_eq!(post(secret.clone(), 3).await.0, 200);

    // Changed in the store behind this node's back: seen once the copy has expired.
    running
        .state
        .store
        .set_channel_secret(fx.workspace_id, fx.channel.id, "from-another-node")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    tokio::time::sleep(charla_server::state::HOOK_CHANNEL_TTL + std::time::Duration::from_millis(100)).await;
    assert_eq!(post(secret.clone(), 4).await.0, 401);
    assert_eq!(post("from-another-node".into(), 5).await.0, 200);

    // Deactivated through the API: unknown at once.
    let status = client
        .patch(&api)
        .bearer_auth(&fx.admin_token)
        .json(&json!({"active": false}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .status();
    assert_eq!(status, 200);
    assert_eq!(post("from-another-node".into(), 6).await.0, 404);
}
