//! Instagram channels against a fake Messenger Platform, and merging the same person's
//! contacts across channels.

mod common;
mod messenger;

use charla_core::*;
use common::{Backend, TestServer, id_of};
use messenger::*;
use serde_json::{Value, json};

const PNG: &[u8] = include_bytes!("fixtures/pixel.png");

fn messaging(list: Value) -> Value {
    json!({"object": "instagram", "entry": [{"id": "17841400000000000", "time": 1700000000, "messaging": list}]})
}

async fn admin(s: &TestServer) -> (Id, String) {
    let ws = s.workspace("Acme").await;
    let admin = s.user(ws.id, "Admin", Role::Admin, &[]).await;
    (ws.id, s.token(&admin))
}

async fn instagram_channel(s: &TestServer, t: &str, fake: &Fake) -> (Id, String) {
    let (st, ch) = s
        .post(
            Some(t),
            "/api/v1/channels",
            json!({"kind": "instagram", "name": "Instagram", "page_id": PAGE, "access_token": TOKEN,
                   "app_secret": APP_SECRET, "verify_token": "ig-verify", "api_base_url": fake.url}),
        )
        .await;
    assert_eq!(st, 201, "{ch}");
    assert_eq!((ch["page_id"].as_str(), ch["max_message_length"].as_i64()), (Some(PAGE), Some(1000)));
    let id = id_of(&ch);
    (id, format!("/hooks/instagram/{id}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instagram_inbound_outbound_and_window() {
    let s = messenger::server(Backend::Sqlite).await;
    let fake = Fake::start().await;
    let (_, t) = admin(&s).await;
    let t = t.as_str();
    let (id, hook) = instagram_channel(&s, t, &fake).await;

    let resp = s
        .client
        .get(s.url(&format!("{hook}?hub.mode=subscribe&hub.verify_token=ig-verify&hub.challenge=42")))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.text().await.unwrap_or_default(), "42");

    let body = messaging(json!([{"sender": {"id": "igsid-9"}, "recipient": {"id": "ig-me"}, "timestamp": 1,
        "message": {"mid": "mid.in-1", "text": "¿Tenéis la talla M?"}}]));
    let raw = serde_json::to_vec(&body).unwrap_or_default();
    assert_eq!(post_hook(&s, &hook, &raw, &[("x-hub-signature-256", "sha256=bad".into())]).await.0, 401);
    assert_eq!(meta_hook(&s, &hook, &body).await.0, 200);
    assert_eq!(meta_hook(&s, &hook, &body).await.0, 200);
    let convs = conversations(&s, t, id).await;
    assert_eq!(convs.len(), 1);
    let conv = id_of(&convs[0]);
    assert_eq!(messages(&s, t, conv).await.len(), 1);
    // The username is asked once and kept on the identity.
    let profile = fake.wait("ig.profile", 1).await;
    assert_eq!(profile[0].path, "/v21.0/igsid-9");
    let contact = convs[0]["contact"]["id"].as_i64().unwrap_or(0);
    let (_, ids) = s.get(Some(t), &format!("/api/v1/contacts/{contact}/identities")).await;
    assert_eq!((ids[0]["username"].as_str(), ids[0]["channel_kind"].as_str()), (Some("pia.ruiz"), Some("instagram")));

    // An image from the CDN, a reaction, an unsent message.
    fake.file("photo.jpg", PNG);
    meta_hook(&s, &hook, &messaging(json!([
        {"sender": {"id": "igsid-9"}, "recipient": {"id": "ig-me"}, "timestamp": 2,
         "message": {"mid": "mid.in-2", "attachments": [{"type": "image", "payload": {"url": format!("{}/cdn/photo.jpg", fake.url)}}]}},
        {"sender": {"id": "igsid-9"}, "recipient": {"id": "ig-me"}, "timestamp": 3,
         "reaction": {"mid": "mid.in-1", "action": "react", "reaction": "love", "emoji": "❤️"}},
        {"sender": {"id": "igsid-9"}, "recipient": {"id": "ig-me"}, "timestamp": 4, "message": {"mid": "mid.in-1", "is_deleted": true}},
    ]))).await;
    let history = messages(&s, t, conv).await;
    assert!(history.iter().any(|m| m["attachments"][0]["content_type"] == json!("image/png")));
    assert!(history.iter().any(|m| m["text"] == json!("The contact reacted ❤️") && m["kind"] == "event"));
    assert!(history.iter().any(|m| m["text"] == json!("The contact unsent a message")));

    // A reply within the window, then read.
    let quoted = history.iter().find(|m| m["text"] == json!("¿Tenéis la talla M?")).cloned().unwrap_or_default();
    let reply = send_text(&s, t, conv, json!({"text": "Sí, la tenemos.", "reply_to": quoted["id"]})).await;
    let sent = fake.wait("ig.send", 1).await;
    let body = sent[0].json();
    assert_eq!(sent[0].path, format!("/v21.0/{PAGE}/messages"));
    assert_eq!(sent[0].bearer().as_deref(), Some(TOKEN));
    assert_eq!(body["recipient"]["id"], json!("igsid-9"));
    assert_eq!(
        (body["messaging_type"].as_str(), body["message"]["text"].as_str()),
        (Some("RESPONSE"), Some("Sí, la tenemos."))
    );
    assert_eq!(body["reply_to"]["mid"], json!("mid.in-1"));
    let m = wait_status(&s, t, conv, reply, "sent").await;
    let mid = m["provider_id"].as_str().unwrap_or("").to_string();
    // The echo of our own message adds nothing; the read receipt marks it read.
    meta_hook(&s, &hook, &messaging(json!([
        {"sender": {"id": "ig-me"}, "recipient": {"id": "igsid-9"}, "timestamp": 5, "message": {"mid": mid, "text": "Sí, la tenemos.", "is_echo": true}},
        {"sender": {"id": "igsid-9"}, "recipient": {"id": "ig-me"}, "timestamp": 6, "read": {"mid": mid}},
    ]))).await;
    wait_status(&s, t, conv, reply, "read").await;
    assert!(
        !messages(&s, t, conv)
            .await
            .iter()
            .any(|m| m["text"].as_str().is_some_and(|x| x.starts_with("Sent from the Instagram app")))
    );

    // Longer than Instagram's 1000 characters: refused before anything is stored.
    let (st, e) =
        s.post(Some(t), &format!("/api/v1/conversations/{conv}/messages"), json!({"text": "x".repeat(1001)})).await;
    assert_eq!((st, error_code(&e)), (422, "message_too_long"));
    // Outside the window Instagram accepts nothing: refused with the reason.
    fake.script(
        "ig.send",
        vec![Reply::Json(
            400,
            json!({"error": {"message": "(#10) This message is sent outside of allowed window.",
        "type": "OAuthException", "code": 10, "error_subcode": 2018278}}),
        )],
    );
    let late = send_text(&s, t, conv, json!({"text": "¿algo más?"})).await;
    let m = wait_status(&s, t, conv, late, "failed").await;
    assert!(m["error"].as_str().is_some_and(|e| e.contains("24-hour window")), "{m}");

    let (_, r) = s.post(Some(t), &format!("/api/v1/channels/{id}/test-connection"), json!({})).await;
    assert_eq!((r["ok"].as_bool(), r["account"].as_str()), (Some(true), Some("@acme (Acme Store)")));
    fake.stop();
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instagram_window_is_enforced_before_sending() {
    let s = messenger::server(Backend::Sqlite).await;
    let fake = Fake::start().await;
    let (_, t) = admin(&s).await;
    let (id, _) = instagram_channel(&s, &t, &fake).await;
    let msg = charla_store::InboundMessage {
        channel_id: id,
        provider_message_id: "mid.old".into(),
        contact: charla_store::ContactInput { external_id: "igsid-1".into(), ..Default::default() },
        text: "hola".into(),
        attachment_ids: vec![],
        is_group: false,
    };
    let long_ago = charla_server::state::now_ms() - 30 * 3_600_000;
    let conv =
        s.state().store.ingest_inbound(msg, long_ago).await.unwrap_or_else(|e| panic!("{e}")).value.conversation.id;
    let (st, e) = s.post(Some(&t), &format!("/api/v1/conversations/{conv}/messages"), json!({"text": "hola"})).await;
    assert_eq!((st, error_code(&e)), (422, "instagram_window_closed"));
    assert!(fake.requests("ig.send").is_empty());
    fake.stop();
    s.stop().await;
}

async fn merge_across_channels(s: &TestServer) {
    let fake = Fake::start().await;
    let (ws, t) = admin(s).await;
    let t = t.as_str();
    let (ig, ig_hook) = instagram_channel(s, t, &fake).await;
    let (st, wa) = s
        .post(
            Some(t),
            "/api/v1/channels",
            json!({"kind": "whatsapp", "name": "WA", "phone_number_id": PNID, "access_token": TOKEN,
                   "app_secret": APP_SECRET, "api_base_url": fake.url}),
        )
        .await;
    assert_eq!(st, 201);
    let wa = id_of(&wa);
    meta_hook(s, &format!("/hooks/whatsapp/{wa}"), &json!({"object": "whatsapp_business_account", "entry": [{"id": WABA,
        "changes": [{"field": "messages", "value": {"messaging_product": "whatsapp", "metadata": {"phone_number_id": PNID},
        "contacts": [{"profile": {"name": "Pia"}, "wa_id": "34699000111"}],
        "messages": [{"from": "34699000111", "id": "wamid.pia", "timestamp": "1", "type": "text", "text": {"body": "soy Pia"}}]}}]}]})).await;
    meta_hook(
        s,
        &ig_hook,
        &messaging(json!([{"sender": {"id": "igsid-pia"}, "recipient": {"id": "ig-me"}, "timestamp": 1,
        "message": {"mid": "mid.pia", "text": "hola"}}])),
    )
    .await;
    let wa_conv = conversations(s, t, wa).await.remove(0);
    let ig_conv = conversations(s, t, ig).await.remove(0);
    let into = wa_conv["contact"]["id"].as_i64().unwrap_or(0);
    let from = ig_conv["contact"]["id"].as_i64().unwrap_or(0);
    assert_ne!(into, from);
    // Found by the phone whatever its formatting.
    let (_, found) = s.get(Some(t), "/api/v1/contacts?q=%2B34%20699%20000").await;
    assert!(found["items"].as_array().is_some_and(|i| i.iter().any(|c| c["id"] == json!(into))), "{found}");

    let (st, e) = s.post(Some(t), &format!("/api/v1/contacts/{into}/merge"), json!({"contact_id": into})).await;
    assert_eq!((st, error_code(&e)), (422, "invalid_merge"));
    let (st, merged) = s.post(Some(t), &format!("/api/v1/contacts/{into}/merge"), json!({"contact_id": from})).await;
    assert_eq!(st, 200, "{merged}");
    assert_eq!((merged["id"].as_i64(), merged["phone"].as_str()), (Some(into), Some("+34699000111")));
    let (st, _) = s.get(Some(t), &format!("/api/v1/contacts/{from}")).await;
    assert_eq!(st, 404);
    let (_, convs) = s.get(Some(t), &format!("/api/v1/contacts/{into}/conversations")).await;
    assert_eq!(convs.as_array().map(Vec::len), Some(2));
    let (_, ids) = s.get(Some(t), &format!("/api/v1/contacts/{into}/identities")).await;
    let mut kinds: Vec<&str> =
        ids.as_array().into_iter().flatten().filter_map(|i| i["channel_kind"].as_str()).collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["instagram", "whatsapp"]);
    let (_, c) = s.get(Some(t), &format!("/api/v1/conversations/{}", id_of(&ig_conv))).await;
    assert_eq!(c["contact"]["id"], json!(into));
    let _ = ws;
    fake.stop();
}

both!(merge_across_channels);
