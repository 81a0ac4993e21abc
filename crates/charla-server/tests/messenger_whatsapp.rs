//! WhatsApp Cloud API channels against a fake provider: verification and signatures, inbound
//! messages of every kind with media downloaded, duplicates, statuses out of order, outbound
//! text / replies / media / templates, the 24-hour window, provider errors and timeouts,
//! template sync and the connection test.

mod common;
mod messenger;

use charla_core::*;
use common::{Backend, TestServer, id_of};
use messenger::*;
use serde_json::{Value, json};

const PNG: &[u8] = include_bytes!("fixtures/pixel.png");

struct Wa {
    token: String,
    ws: Id,
    channel: Value,
    id: Id,
    hook: String,
}

async fn setup(s: &TestServer, fake: &Fake) -> Wa {
    let ws = s.workspace("Acme").await;
    let admin = s.user(ws.id, "Admin", Role::Admin, &[]).await;
    let token = s.token(&admin);
    let (st, channel) = s
        .post(
            Some(&token),
            "/api/v1/channels",
            json!({"kind": "whatsapp", "name": "WhatsApp ventas", "phone_number_id": PNID, "access_token": TOKEN,
                   "app_secret": APP_SECRET, "verify_token": "verify-me", "business_account_id": WABA,
                   "api_base_url": fake.url}),
        )
        .await;
    assert_eq!(st, 201, "{channel}");
    let id = id_of(&channel);
    Wa { token, ws: ws.id, hook: format!("/hooks/whatsapp/{id}"), channel, id }
}

fn change(value: Value) -> Value {
    json!({"object": "whatsapp_business_account", "entry": [{"id": WABA, "changes": [{"field": "messages", "value": value}]}]})
}

fn inbound(id: &str, from: &str, name: &str, message: Value) -> Value {
    let mut m = json!({"from": from, "id": id, "timestamp": "1700000000"});
    for (k, v) in message.as_object().into_iter().flatten() {
        m[k] = v.clone();
    }
    change(json!({
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": PNID},
        "contacts": [{"profile": {"name": name}, "wa_id": from}],
        "messages": [m],
    }))
}

fn statuses(list: Value) -> Value {
    change(json!({"messaging_product": "whatsapp", "metadata": {"phone_number_id": PNID}, "statuses": list}))
}

async fn whatsapp_end_to_end(s: &TestServer) {
    let fake = Fake::start().await;
    let wa = setup(s, &fake).await;
    let t = wa.token.as_str();

    // The channel shows where to point the webhook and no secret after creation.
    assert_eq!(wa.channel["webhook_url_to_configure"], json!(format!("/hooks/whatsapp/{}", wa.id)));
    assert_eq!(
        (wa.channel["phone_number_id"].as_str(), wa.channel["verify_token"].as_str()),
        (Some(PNID), Some("verify-me"))
    );
    assert_eq!(wa.channel["max_message_length"], 4096);
    let (_, shown) = s.get(Some(t), &format!("/api/v1/channels/{}", wa.id)).await;
    let (_, listed) = s.get(Some(t), "/api/v1/channels").await;
    for text in [shown.to_string(), listed.to_string()] {
        for secret in [TOKEN, APP_SECRET, "verify-me"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
    }
    assert_eq!(shown["business_account_id"], json!(WABA));

    // Verification handshake.
    let verify = |token: &str| format!("{}?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=ch-123", wa.hook);
    let resp = s.client.get(s.url(&verify("verify-me"))).send().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.text().await.unwrap_or_default(), "ch-123");
    let (st, _) = s.get(None, &verify("wrong")).await;
    assert_eq!(st, 403);
    let (st, _) =
        s.get(None, "/hooks/whatsapp/999999?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=x").await;
    assert_eq!(st, 404);

    // Signatures: over the raw bytes (accents and emoji included), compared exactly.
    let body = inbound(
        "wamid.in-1",
        "34600123456",
        "Ana",
        json!({"type": "text", "text": {"body": "Hola, ¿tenéis envío? 🚚"}}),
    );
    let raw = serde_json::to_vec(&body).unwrap_or_default();
    let (st, answer) = post_hook(s, &wa.hook, &raw, &[]).await;
    assert_eq!((st, error_code(&answer)), (401, "invalid_signature"));
    let (st, _) = post_hook(s, &wa.hook, &raw, &[("x-hub-signature-256", "sha256=00".into())]).await;
    assert_eq!(st, 401);
    let mut tampered = raw.clone();
    tampered.push(b' ');
    let (st, _) = post_hook(s, &wa.hook, &tampered, &[("x-hub-signature-256", hub_signature(&raw))]).await;
    assert_eq!(st, 401);
    assert!(conversations(s, t, wa.id).await.is_empty(), "nothing is stored on a bad signature");

    // A text message, then the same delivery again.
    let (st, _) = post_hook(s, &wa.hook, &raw, &[("x-hub-signature-256", hub_signature(&raw))]).await;
    assert_eq!(st, 200);
    let (st, _) = post_hook(s, &wa.hook, &raw, &[("x-hub-signature-256", hub_signature(&raw))]).await;
    assert_eq!(st, 200);
    let convs = conversations(s, t, wa.id).await;
    assert_eq!(convs.len(), 1);
    let conv = id_of(&convs[0]);
    assert_eq!(convs[0]["contact"]["phone"], json!("+34600123456"));
    assert_eq!(convs[0]["identity"]["name"], json!("Ana"));
    assert!(convs[0]["reply_window_expires_at"].is_string());
    let history = messages(s, t, conv).await;
    assert_eq!(history.iter().filter(|m| m["kind"] == "inbound").count(), 1);
    let first_in = history[0].clone();
    assert_eq!(first_in["text"], json!("Hola, ¿tenéis envío? 🚚"));
    let contact = convs[0]["contact"]["id"].as_i64().unwrap_or(0);
    let (_, identities) = s.get(Some(t), &format!("/api/v1/contacts/{contact}/identities")).await;
    assert_eq!(identities[0]["channel_kind"], json!("whatsapp"));
    assert_eq!(
        (identities[0]["external_id"].as_str(), identities[0]["phone"].as_str()),
        (Some("34600123456"), Some("+34600123456"))
    );

    // An image: its bytes are fetched with the token and stored.
    fake.file("media-img-1", PNG);
    let (st, _) = meta_hook(
        s,
        &wa.hook,
        &inbound(
            "wamid.in-2",
            "34600123456",
            "Ana",
            json!({"type": "image",
            "image": {"id": "media-img-1", "mime_type": "image/png", "sha256": "x", "caption": "así llegó"}}),
        ),
    )
    .await;
    assert_eq!(st, 200);
    let media = fake.wait("wa.media", 1).await;
    assert_eq!(media[0].bearer().as_deref(), Some(TOKEN));
    assert_eq!(fake.requests("wa.download").len(), 1);
    let m = messages(s, t, conv).await.into_iter().find(|m| m["text"] == json!("así llegó")).unwrap_or_default();
    assert_eq!(m["attachments"][0]["content_type"], json!("image/png"));
    assert_eq!(m["attachments"][0]["size"], json!(PNG.len()));
    let url = m["attachments"][0]["url"].as_str().unwrap_or("").to_string();
    let bytes = s.client.get(s.url(&url)).bearer_auth(t).send().await.unwrap_or_else(|e| panic!("{e}")).bytes().await;
    assert_eq!(bytes.map(|b| b.to_vec()).unwrap_or_default(), PNG);

    // A file the provider no longer has: the message is kept, saying so.
    meta_hook(
        s,
        &wa.hook,
        &inbound(
            "wamid.in-3",
            "34600123456",
            "Ana",
            json!({"type": "document",
        "document": {"id": "gone-media", "mime_type": "application/pdf", "filename": "factura.pdf"}}),
        ),
    )
    .await;
    // A cart, a reaction to the first message, and a type WhatsApp does not support.
    meta_hook(s, &wa.hook, &inbound("wamid.in-4", "34600123456", "Ana", json!({"type": "order",
        "order": {"catalog_id": "c1", "product_items": [{"product_retailer_id": "SKU-9", "quantity": 2, "item_price": 5, "currency": "EUR"}]}}))).await;
    meta_hook(
        s,
        &wa.hook,
        &inbound(
            "wamid.in-5",
            "34600123456",
            "Ana",
            json!({"type": "reaction",
        "reaction": {"message_id": "wamid.in-1", "emoji": "❤️"}}),
        ),
    )
    .await;
    meta_hook(
        s,
        &wa.hook,
        &inbound(
            "wamid.in-6",
            "34600123456",
            "Ana",
            json!({"type": "unsupported",
        "errors": [{"code": 131051, "title": "Message type unknown"}]}),
        ),
    )
    .await;
    let history = messages(s, t, conv).await;
    let texts: Vec<&str> = history.iter().filter_map(|m| m["text"].as_str()).collect();
    assert!(texts.iter().any(|x| x.contains("[document could not be downloaded")), "{texts:?}");
    assert!(texts.iter().any(|x| x.starts_with("🛒 Order\n• 2 × SKU-9 — 5.00 EUR\nTotal: 10.00 EUR")), "{texts:?}");
    let reaction = history.iter().find(|m| m["text"] == json!("Ana reacted ❤️")).unwrap_or_else(|| panic!("{texts:?}"));
    assert_eq!((reaction["kind"].as_str(), &reaction["reply_to"]), (Some("event"), &first_in["id"]));
    assert!(texts.contains(&"Ana sent a message WhatsApp does not support (Message type unknown)"));

    // A reply quoting the customer's first message.
    let reply =
        send_text(s, t, conv, json!({"text": "¡Sí! Enviamos a toda España.", "reply_to": first_in["id"]})).await;
    let sent = fake.wait("wa.send", 1).await;
    let body = sent[0].json();
    assert_eq!(sent[0].path, format!("/v21.0/{PNID}/messages"));
    assert_eq!(sent[0].bearer().as_deref(), Some(TOKEN));
    assert_eq!(
        (body["messaging_product"].as_str(), body["to"].as_str(), body["type"].as_str()),
        (Some("whatsapp"), Some("34600123456"), Some("text"))
    );
    assert_eq!(body["text"]["body"], json!("¡Sí! Enviamos a toda España."));
    assert_eq!(body["context"]["message_id"], json!("wamid.in-1"));
    let m = wait_status(s, t, conv, reply, "sent").await;
    let wamid = m["provider_id"].as_str().unwrap_or("").to_string();
    assert!(wamid.starts_with("wamid.out-"));

    // Receipts out of order never move the status back; a repeated one changes nothing.
    meta_hook(
        s,
        &wa.hook,
        &statuses(json!([{"id": wamid, "status": "read", "timestamp": "3", "recipient_id": "34600123456"}])),
    )
    .await;
    meta_hook(
        s,
        &wa.hook,
        &statuses(json!([{"id": wamid, "status": "delivered", "timestamp": "2", "recipient_id": "34600123456"}])),
    )
    .await;
    meta_hook(
        s,
        &wa.hook,
        &statuses(json!([{"id": wamid, "status": "sent", "timestamp": "1", "recipient_id": "34600123456"}])),
    )
    .await;
    assert_eq!(message(s, t, conv, reply).await.unwrap_or_default()["status"], json!("read"));

    // An image with a caption: uploaded, then sent by media id.
    let (st, up) = s.upload(Some(t), "pixel.png", "image/png", PNG).await;
    assert_eq!(st, 201, "{up}");
    let with_image = send_text(s, t, conv, json!({"text": "la foto", "attachment_ids": [id_of(&up)]})).await;
    let uploads = fake.wait("wa.upload", 1).await;
    assert_eq!(uploads[0].path, format!("/v21.0/{PNID}/media"));
    assert_eq!(multipart_field(&uploads[0].body, "messaging_product").as_deref(), Some("whatsapp"));
    assert!(uploads[0].text().contains("Content-Type: image/png"));
    let sent = fake.wait("wa.send", 2).await;
    let body = sent[1].json();
    assert_eq!(body["type"], json!("image"));
    assert!(body["image"]["id"].as_str().is_some_and(|i| i.starts_with("media-up-")));
    assert_eq!(body["image"]["caption"], json!("la foto"));
    let m = wait_status(s, t, conv, with_image, "sent").await;

    // A failure reported later by a status webhook: failed, with the reason on hover.
    let failing = m["provider_id"].as_str().unwrap_or("").to_string();
    meta_hook(
        s,
        &wa.hook,
        &statuses(json!([{"id": failing, "status": "failed", "timestamp": "4", "recipient_id": "34600123456",
        "errors": [{"code": 131026, "title": "Message undeliverable", "error_data": {"details": "x"}}]}])),
    )
    .await;
    let m = wait_status(s, t, conv, with_image, "failed").await;
    assert!(m["error"].as_str().is_some_and(|e| e.contains("undeliverable")), "{m}");
    fake.stop();
}

async fn whatsapp_window_templates_and_errors(s: &TestServer) {
    let fake = Fake::start().await;
    let wa = setup(s, &fake).await;
    let t = wa.token.as_str();

    // The contact wrote 25 hours ago.
    let hours = 3_600_000;
    let msg = charla_store::InboundMessage {
        channel_id: wa.id,
        provider_message_id: "wamid.old".into(),
        contact: charla_store::ContactInput {
            external_id: "34611000111".into(),
            name: Some("Luis".into()),
            ..Default::default()
        },
        text: "¿Me llamáis?".into(),
        attachment_ids: vec![],
        is_group: false,
    };
    let now = charla_server::state::now_ms();
    let w = s.state().store.ingest_inbound(msg, now - 25 * hours).await.unwrap_or_else(|e| panic!("{e}"));
    let conv = w.value.conversation.id;
    let (_, c) = s.get(Some(t), &format!("/api/v1/conversations/{conv}")).await;
    let expires = c["reply_window_expires_at"].as_str().and_then(charla_server::wire::parse_time).unwrap_or(i64::MAX);
    assert!(expires < now, "the window is closed: {c}");

    // Free text is refused with a clear error; nothing reaches the provider.
    let (st, e) = s.post(Some(t), &format!("/api/v1/conversations/{conv}/messages"), json!({"text": "hola"})).await;
    assert_eq!((st, error_code(&e)), (422, "whatsapp_window_closed"), "{e}");

    // Templates come from WhatsApp, two pages.
    fake.script(
        "wa.templates",
        vec![
            Reply::Json(
                200,
                json!({"data": [
            {"name": "callback", "language": "es", "status": "APPROVED", "category": "UTILITY", "id": "t1",
             "components": [{"type": "BODY", "text": "Hola {{1}}, te llamamos el {{2}}."}]},
            {"name": "promo", "language": "es", "status": "PENDING", "category": "MARKETING", "id": "t2",
             "components": [{"type": "BODY", "text": "Oferta"}]}],
            "paging": {"cursors": {"before": "a", "after": "page2"}, "next": format!("{}/next", fake.url)}}),
            ),
            Reply::Json(
                200,
                json!({"data": [
            {"name": "callback", "language": "en_US", "status": "REJECTED", "category": "UTILITY", "id": "t3",
             "rejected_reason": "INVALID_FORMAT", "components": [{"type": "BODY", "text": "Hi {{1}}"}]}],
            "paging": {"cursors": {"before": "b", "after": "c"}}}),
            ),
        ],
    );
    let (st, list) = s.post(Some(t), &format!("/api/v1/channels/{}/templates/sync", wa.id), json!({})).await;
    assert_eq!(st, 200, "{list}");
    let pages = fake.requests("wa.templates");
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[0].path, format!("/v21.0/{WABA}/message_templates"));
    assert!(pages[1].query.contains("after=page2"));
    let list = list.as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 3);
    let callback = list.iter().find(|x| x["name"] == "callback" && x["language"] == "es").cloned().unwrap_or_default();
    assert_eq!((callback["status"].as_str(), callback["param_count"].as_i64()), (Some("approved"), Some(2)));
    let rejected = list.iter().find(|x| x["language"] == "en_US").cloned().unwrap_or_default();
    assert_eq!(rejected["rejection_reason"], json!("INVALID_FORMAT"));
    let (_, listed) = s.get(Some(t), &format!("/api/v1/channels/{}/templates", wa.id)).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(3));

    // Only approved templates, with the right parameters, go out.
    let path = format!("/api/v1/conversations/{conv}/messages");
    let send = |template: Value| s.post(Some(t), &path, json!({"template": template}));
    let (st, e) = send(json!({"name": "promo", "language": "es"})).await;
    assert_eq!((st, error_code(&e)), (422, "template_not_approved"));
    let (st, e) = send(json!({"id": callback["id"], "params": ["Luis"]})).await;
    assert_eq!((st, error_code(&e)), (422, "invalid_template_params"), "{e}");
    let (st, e) = send(json!({"id": callback["id"], "params": ["Luis", "lunes\nmartes"]})).await;
    assert_eq!((st, error_code(&e)), (422, "invalid_template_params"), "{e}");
    let (st, m) = send(json!({"id": callback["id"], "params": ["Luis", "lunes"]})).await;
    assert_eq!(st, 201, "{m}");
    assert_eq!(m["text"], json!("Hola Luis, te llamamos el lunes."));
    let sent = fake.wait("wa.send", 1).await;
    let body = sent[0].json();
    assert_eq!(body["type"], json!("template"));
    assert_eq!(body["template"]["name"], json!("callback"));
    assert_eq!(body["template"]["language"]["code"], json!("es"));
    assert_eq!(
        body["template"]["components"],
        json!([{"type": "body", "parameters": [{"type": "text", "text": "Luis"}, {"type": "text", "text": "lunes"}]}])
    );
    wait_status(s, t, conv, id_of(&m), "sent").await;

    // The contact answers: the window opens again.
    meta_hook(
        s,
        &wa.hook,
        &inbound("wamid.new", "34611000111", "Luis", json!({"type": "text", "text": {"body": "vale"}})),
    )
    .await;
    let (_, c) = s.get(Some(t), &format!("/api/v1/conversations/{conv}")).await;
    let expires = c["reply_window_expires_at"].as_str().and_then(charla_server::wire::parse_time).unwrap_or(0);
    assert!(expires > charla_server::state::now_ms() + 23 * hours, "{c}");

    // Provider errors: not retried where it cannot help...
    fake.script("wa.send", vec![Reply::Json(400, json!({"error": {"message": "(#131047) Re-engagement message",
        "type": "OAuthException", "code": 131047, "error_data": {"messaging_product": "whatsapp", "details": "24 hours"}}}))]);
    let m1 = send_text(s, t, conv, json!({"text": "uno"})).await;
    let m = wait_status(s, t, conv, m1, "failed").await;
    assert!(m["error"].as_str().is_some_and(|e| e.contains("24-hour window")), "{m}");
    fake.script(
        "wa.send",
        vec![Reply::Json(401, json!({"error": {"message": "Invalid OAuth access token.", "code": 190}}))],
    );
    let m2 = send_text(s, t, conv, json!({"text": "dos"})).await;
    let m = wait_status(s, t, conv, m2, "failed").await;
    assert!(m["error"].as_str().is_some_and(|e| e.contains("bad access token")), "{m}");
    let before = fake.requests("wa.send").len();
    assert_eq!(before, 3, "a refused send is tried once");

    // ...retried where it can: a 500, then a timeout, then success.
    fake.script(
        "wa.send",
        vec![
            Reply::Json(500, json!({"error": {"message": "Something went wrong", "code": 131000}})),
            Reply::Slow(std::time::Duration::from_secs(3), 200, json!({"messages": [{"id": "wamid.late"}]})),
        ],
    );
    let m3 = send_text(s, t, conv, json!({"text": "tres"})).await;
    let m = wait_status(s, t, conv, m3, "sent").await;
    assert!(m["provider_id"].as_str().is_some_and(|p| p.starts_with("wamid.out-")), "{m}");
    assert_eq!(fake.requests("wa.send").len(), before + 3);

    // Rate limited every time: failed after the configured attempts, with the reason.
    let limited = json!({"error": {"message": "(#130429) Rate limit hit", "code": 130429}});
    fake.script(
        "wa.send",
        vec![Reply::Json(429, limited.clone()), Reply::Json(429, limited.clone()), Reply::Json(429, limited)],
    );
    let m4 = send_text(s, t, conv, json!({"text": "cuatro"})).await;
    let m = wait_status(s, t, conv, m4, "failed").await;
    assert!(m["error"].as_str().is_some_and(|e| e.contains("rate limited")), "{m}");

    // The connection test reads the number; a revoked token says so.
    let (st, r) = s.post(Some(t), &format!("/api/v1/channels/{}/test-connection", wa.id), json!({})).await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["ok"], json!(true));
    assert!(r["account"].as_str().is_some_and(|a| a.contains("+1 555-000-1111")), "{r}");
    let (_, ch) = s.get(Some(t), &format!("/api/v1/channels/{}", wa.id)).await;
    assert_eq!(ch["display_phone_number"], json!("+1 555-000-1111"));
    fake.script(
        "wa.phone",
        vec![Reply::Json(401, json!({"error": {"message": "Error validating access token", "code": 190}}))],
    );
    let (_, r) = s.post(Some(t), &format!("/api/v1/channels/{}/test-connection", wa.id), json!({})).await;
    assert_eq!(r["ok"], json!(false));
    assert!(r["detail"].as_str().is_some_and(|d| d.contains("bad access token")), "{r}");
    let _ = wa.ws;
    fake.stop();
}

async fn whatsapp_channel_validation(s: &TestServer) {
    let ws = s.workspace("Acme").await;
    let admin = s.user(ws.id, "Admin", Role::Admin, &[]).await;
    let t = s.token(&admin);
    let cases = [
        (json!({"kind": "whatsapp", "name": "x", "access_token": "a", "app_secret": "b"}), "invalid_phone_number_id"),
        (
            json!({"kind": "whatsapp", "name": "x", "phone_number_id": "../x", "access_token": "a", "app_secret": "b"}),
            "invalid_phone_number_id",
        ),
        (json!({"kind": "whatsapp", "name": "x", "phone_number_id": "1", "app_secret": "b"}), "invalid_access_token"),
        (
            json!({"kind": "whatsapp", "name": "x", "phone_number_id": "1", "access_token": "a", "app_secret": "b", "api_base_url": "ftp://x"}),
            "invalid_api_base_url",
        ),
        (json!({"kind": "telegram", "name": "x", "bot_token": "no-colon"}), "invalid_bot_token"),
        (
            json!({"kind": "telegram", "name": "x", "bot_token": "1:a", "secret_token": "bad token!"}),
            "invalid_secret_token",
        ),
        (json!({"kind": "instagram", "name": "x", "access_token": "a", "app_secret": "b"}), "invalid_page_id"),
        (json!({"kind": "email", "name": "x"}), "unsupported_channel_kind"),
    ];
    for (body, want) in cases {
        let (st, e) = s.post(Some(&t), "/api/v1/channels", body.clone()).await;
        assert_eq!((st, error_code(&e)), (422, want), "{body}");
    }
    // A generated verify token is shown once; credentials can be replaced, never read.
    let (st, ch) = s
        .post(
            Some(&t),
            "/api/v1/channels",
            json!({"kind": "whatsapp", "name": "x", "phone_number_id": "42", "access_token": "a", "app_secret": "b"}),
        )
        .await;
    assert_eq!(st, 201);
    assert_eq!(ch["verify_token"].as_str().map(str::len), Some(64));
    let id = id_of(&ch);
    let (st, ch) = s.patch(Some(&t), &format!("/api/v1/channels/{id}"), json!({"access_token": "new-token"})).await;
    assert_eq!(st, 200, "{ch}");
    assert!(!ch.to_string().contains("new-token"));
    let settings = s.state().store.get_channel(ws.id, id).await.map(|c| c.settings).unwrap_or_default();
    assert!(settings.contains("new-token"));
    let (st, e) = s.patch(Some(&t), &format!("/api/v1/channels/{id}"), json!({"bot_token": "1:a"})).await;
    assert_eq!((st, error_code(&e)), (422, "invalid_bot_token"));
}

both!(whatsapp_end_to_end);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn window_templates_and_errors() {
    let s = messenger::server(Backend::Sqlite).await;
    whatsapp_window_templates_and_errors(&s).await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_validation() {
    let s = TestServer::start().await;
    whatsapp_channel_validation(&s).await;
    s.stop().await;
}
