//! Telegram bot channels against a fake Bot API: the secret token, private and group chats
//! (group visibility), files through getFile, edits as event lines, duplicates by update and
//! message ids, replies, uploads, per-chat pacing and 429 retry_after, refusals, and the
//! connection test that registers the webhook.

mod common;
mod messenger;

use charla_core::*;
use common::{Backend, TestServer, id_of};
use messenger::*;
use serde_json::{Value, json};
use std::time::Duration;

const PNG: &[u8] = include_bytes!("fixtures/pixel.png");
const SECRET: &str = "tg-secret_123";

struct Tg {
    token: String,
    ws: Id,
    id: Id,
    hook: String,
}

async fn setup(s: &TestServer, fake: &Fake) -> Tg {
    let ws = s.workspace("Acme").await;
    let admin = s.user(ws.id, "Admin", Role::Admin, &[]).await;
    let token = s.token(&admin);
    let (st, ch) = s
        .post(
            Some(&token),
            "/api/v1/channels",
            json!({"kind": "telegram", "name": "Bot", "bot_token": BOT_TOKEN, "secret_token": SECRET, "api_base_url": fake.url}),
        )
        .await;
    assert_eq!(st, 201, "{ch}");
    assert_eq!(ch["webhook_url_to_configure"], json!(format!("/hooks/telegram/{}", id_of(&ch))));
    assert!(!ch.to_string().contains(BOT_TOKEN));
    let id = id_of(&ch);
    Tg { token, ws: ws.id, id, hook: format!("/hooks/telegram/{id}") }
}

async fn update(s: &TestServer, tg: &Tg, body: &Value) -> u16 {
    let raw = serde_json::to_vec(body).unwrap_or_default();
    post_hook(s, &tg.hook, &raw, &[("x-telegram-bot-api-secret-token", SECRET.into())]).await.0
}

fn private(update_id: i64, message_id: i64, content: Value) -> Value {
    let mut m = json!({"message_id": message_id, "date": 1700000000,
        "from": {"id": 4242, "is_bot": false, "first_name": "Ana", "last_name": "Pérez", "username": "ana_p"},
        "chat": {"id": 4242, "type": "private", "first_name": "Ana"}});
    for (k, v) in content.as_object().into_iter().flatten() {
        m[k] = v.clone();
    }
    json!({"update_id": update_id, "message": m})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_chats_files_edits_and_replies() {
    let s = messenger::server(Backend::Sqlite).await;
    let fake = Fake::start().await;
    let tg = setup(&s, &fake).await;
    let t = tg.token.as_str();

    // The secret token is required.
    let body = private(1, 10, json!({"text": "hola"}));
    let raw = serde_json::to_vec(&body).unwrap_or_default();
    assert_eq!(post_hook(&s, &tg.hook, &raw, &[]).await.0, 401);
    assert_eq!(post_hook(&s, &tg.hook, &raw, &[("x-telegram-bot-api-secret-token", "nope".into())]).await.0, 401);
    assert!(conversations(&s, t, tg.id).await.is_empty());

    // A message, delivered twice.
    assert_eq!(update(&s, &tg, &body).await, 200);
    assert_eq!(update(&s, &tg, &body).await, 200);
    let convs = conversations(&s, t, tg.id).await;
    assert_eq!(convs.len(), 1);
    let conv = id_of(&convs[0]);
    assert_eq!(messages(&s, t, conv).await.len(), 1);
    let contact = convs[0]["contact"]["id"].as_i64().unwrap_or(0);
    let (_, c) = s.get(Some(t), &format!("/api/v1/contacts/{contact}")).await;
    assert_eq!(
        (c["telegram_id"].as_str(), c["telegram_username"].as_str(), c["name"].as_str()),
        (Some("4242"), Some("ana_p"), Some("Ana Pérez"))
    );
    let (_, ids) = s.get(Some(t), &format!("/api/v1/contacts/{contact}/identities")).await;
    assert_eq!(
        (ids[0]["first_name"].as_str(), ids[0]["last_name"].as_str(), ids[0]["username"].as_str()),
        (Some("Ana"), Some("Pérez"), Some("ana_p"))
    );
    // Searchable by username.
    let (_, found) = s.get(Some(t), "/api/v1/conversations?q=ana_p").await;
    assert_eq!(found["items"].as_array().map(Vec::len), Some(1));

    // A photo: getFile, then the file path.
    fake.file("photo-big", PNG);
    assert_eq!(
        update(
            &s,
            &tg,
            &private(
                2,
                11,
                json!({"caption": "mira",
        "photo": [{"file_id": "photo-small", "file_size": 10, "width": 1, "height": 1},
                  {"file_id": "photo-big", "file_size": PNG.len(), "width": 1, "height": 1}]})
            )
        )
        .await,
        200
    );
    let got = fake.wait("tg.getFile", 1).await;
    assert_eq!(got[0].path, format!("/bot{BOT_TOKEN}/getFile"));
    assert_eq!(got[0].json()["file_id"], json!("photo-big"));
    assert_eq!(fake.wait("tg.file", 1).await[0].path, format!("/file/bot{BOT_TOKEN}/files/photo-big"));
    let history = messages(&s, t, conv).await;
    let photo = history.iter().find(|m| m["text"] == json!("mira")).cloned().unwrap_or_default();
    assert_eq!(photo["attachments"][0]["content_type"], json!("image/png"));
    // Too large to download: kept with a line saying so, nothing fetched.
    update(
        &s,
        &tg,
        &private(3, 12, json!({"document": {"file_id": "huge", "file_name": "video.mov", "file_size": 50_000_000}})),
    )
    .await;
    assert_eq!(fake.requests("tg.getFile").len(), 1);
    let history = messages(&s, t, conv).await;
    assert!(history.iter().any(|m| m["text"].as_str().is_some_and(|x| x.contains("larger than the 20 MB"))));

    // An edit is a line about the edited message; a redelivered update adds nothing.
    let edit = json!({"update_id": 4, "edited_message": {"message_id": 10, "date": 1, "edit_date": 2,
        "from": {"id": 4242, "first_name": "Ana"}, "chat": {"id": 4242, "type": "private"}, "text": "hola!!"}});
    update(&s, &tg, &edit).await;
    update(&s, &tg, &edit).await;
    let history = messages(&s, t, conv).await;
    let edits: Vec<&Value> = history.iter().filter(|m| m["kind"] == "event").collect();
    assert_eq!(edits.len(), 1);
    assert_eq!(edits[0]["text"], json!("✏️ Ana edited a message: «hola!!»"));
    let first = history.iter().find(|m| m["text"] == json!("hola")).cloned().unwrap_or_default();
    assert_eq!(edits[0]["reply_to"], first["id"]);

    // A reply quoting the first message, then a photo upload.
    let reply = send_text(&s, t, conv, json!({"text": "¡Hola Ana!", "reply_to": first["id"]})).await;
    let sent = fake.wait("tg.sendMessage", 1).await;
    let body = sent[0].json();
    assert_eq!(sent[0].path, format!("/bot{BOT_TOKEN}/sendMessage"));
    assert_eq!((body["chat_id"].as_str(), body["text"].as_str()), (Some("4242"), Some("¡Hola Ana!")));
    assert_eq!(body["reply_parameters"]["message_id"], json!(10));
    let m = wait_status(&s, t, conv, reply, "sent").await;
    assert!(m["provider_id"].as_str().is_some_and(|p| p.starts_with("4242:")), "{m}");
    let (_, up) = s.upload(Some(t), "pixel.png", "image/png", PNG).await;
    let with_photo = send_text(&s, t, conv, json!({"text": "aquí está", "attachment_ids": [id_of(&up)]})).await;
    let photos = fake.wait("tg.sendPhoto", 1).await;
    assert_eq!(multipart_field(&photos[0].body, "chat_id").as_deref(), Some("4242"));
    assert_eq!(multipart_field(&photos[0].body, "caption").as_deref(), Some("aquí está"));
    assert!(photos[0].text().contains("name=\"photo\"; filename=\"pixel.png\""));
    wait_status(&s, t, conv, with_photo, "sent").await;

    // The contact blocked the bot: failed at once with that reason.
    fake.script(
        "tg.sendMessage",
        vec![Reply::Json(
            403,
            json!({"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}),
        )],
    );
    let blocked = send_text(&s, t, conv, json!({"text": "¿sigues ahí?"})).await;
    let m = wait_status(&s, t, conv, blocked, "failed").await;
    assert_eq!(m["error"], json!("the contact blocked the bot"));
    update(&s, &tg, &json!({"update_id": 5, "my_chat_member": {"chat": {"id": 4242, "type": "private"},
        "from": {"id": 4242, "first_name": "Ana"}, "date": 1, "old_chat_member": {"status": "member"}, "new_chat_member": {"status": "kicked"}}})).await;
    assert!(messages(&s, t, conv).await.iter().any(|m| m["text"] == json!("Ana blocked the bot")));
    fake.stop();
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_are_visible_to_admins_and_see_group_chats_only() {
    let s = messenger::server(Backend::Sqlite).await;
    let fake = Fake::start().await;
    let tg = setup(&s, &fake).await;
    let t = tg.token.as_str();
    let plain = s.user(tg.ws, "Agent", Role::Agent, &[]).await;
    let groupie = s.user(tg.ws, "Groups", Role::Agent, &[Flag::SeeGroupChats]).await;
    let (st, _) = s
        .put(Some(t), &format!("/api/v1/channels/{}/members", tg.id), json!({"user_ids": [plain.id, groupie.id]}))
        .await;
    assert_eq!(st, 200);

    let group = |update_id: i64, message_id: i64, from: (i64, &str), text: &str| {
        json!({"update_id": update_id, "message": {"message_id": message_id, "date": 1,
            "from": {"id": from.0, "is_bot": false, "first_name": from.1},
            "chat": {"id": -1001234, "type": "supergroup", "title": "Clientes VIP"}, "text": text}})
    };
    update(&s, &tg, &group(1, 1, (1, "Ana"), "hola grupo")).await;
    update(&s, &tg, &group(2, 2, (2, "Luis"), "buenas")).await;
    let convs = conversations(&s, t, tg.id).await;
    assert_eq!(convs.len(), 1);
    assert_eq!(
        (convs[0]["is_group"].as_bool(), convs[0]["identity"]["name"].as_str()),
        (Some(true), Some("Clientes VIP"))
    );
    let conv = id_of(&convs[0]);
    let authors: Vec<String> =
        messages(&s, t, conv).await.iter().filter_map(|m| m["author"]["name"].as_str().map(str::to_string)).collect();
    assert_eq!(authors, ["Luis", "Ana"]);

    assert!(conversations(&s, &s.token(&plain), tg.id).await.is_empty());
    let (st, _) = s.get(Some(&s.token(&plain)), &format!("/api/v1/conversations/{conv}")).await;
    assert_eq!(st, 404);
    assert_eq!(conversations(&s, &s.token(&groupie), tg.id).await.len(), 1);

    // Replies to a group are paced (one every interval) and in order.
    let started = std::time::Instant::now();
    for i in 0..3 {
        send_text(&s, t, conv, json!({"text": format!("respuesta {i}")})).await;
    }
    let sent = fake.wait("tg.sendMessage", 3).await;
    let texts: Vec<String> = sent.iter().map(|r| r.json()["text"].as_str().unwrap_or("").to_string()).collect();
    assert_eq!(texts, ["respuesta 0", "respuesta 1", "respuesta 2"]);
    for pair in sent.windows(2) {
        let gap = pair[1].at.duration_since(pair[0].at);
        assert!(gap >= Duration::from_millis(280), "sends to one chat are paced: {gap:?}");
    }
    assert!(started.elapsed() >= Duration::from_millis(560));
    assert_eq!(sent[0].json()["chat_id"], json!("-1001234"));
    fake.stop();
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_and_connection_test() {
    let s = messenger::server(Backend::Sqlite).await;
    let fake = Fake::start().await;
    let tg = setup(&s, &fake).await;
    let t = tg.token.as_str();
    update(&s, &tg, &private(1, 1, json!({"text": "hola"}))).await;
    let conv = id_of(&conversations(&s, t, tg.id).await[0]);

    // 429 with retry_after: tried again after that long, then sent.
    fake.script(
        "tg.sendMessage",
        vec![Reply::Json(
            429,
            json!({"ok": false, "error_code": 429,
        "description": "Too Many Requests: retry after 1", "parameters": {"retry_after": 1}}),
        )],
    );
    let m = send_text(&s, t, conv, json!({"text": "uno"})).await;
    let sent = fake.wait("tg.sendMessage", 2).await;
    let gap = sent[1].at.duration_since(sent[0].at);
    assert!(gap >= Duration::from_millis(950), "retry_after is respected: {gap:?}");
    wait_status(&s, t, conv, m, "sent").await;

    // A bad token: failed, not retried.
    fake.script(
        "tg.sendMessage",
        vec![Reply::Json(401, json!({"ok": false, "error_code": 401, "description": "Unauthorized"}))],
    );
    let m = send_text(&s, t, conv, json!({"text": "dos"})).await;
    let failed = wait_status(&s, t, conv, m, "failed").await;
    assert!(failed["error"].as_str().is_some_and(|e| e.contains("bad bot token")), "{failed}");
    assert_eq!(fake.requests("tg.sendMessage").len(), 3);

    // The connection test names the bot and registers the webhook with the secret.
    let (st, r) = s
        .post(
            Some(t),
            &format!("/api/v1/channels/{}/test-connection", tg.id),
            json!({"webhook_base_url": "https://chat.example.com"}),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    assert_eq!((r["ok"].as_bool(), r["account"].as_str()), (Some(true), Some("@charla_test_bot")));
    assert_eq!(r["webhook_url"], json!(format!("https://chat.example.com/hooks/telegram/{}", tg.id)));
    let set = fake.wait("tg.setWebhook", 1).await;
    let body = set[0].json();
    assert_eq!(body["url"], r["webhook_url"]);
    assert_eq!(body["secret_token"], json!(SECRET));
    assert!(body["allowed_updates"].as_array().is_some_and(|a| a.contains(&json!("edited_message"))));
    let (_, ch) = s.get(Some(t), &format!("/api/v1/channels/{}", tg.id)).await;
    assert_eq!(ch["bot_username"], json!("charla_test_bot"));
    fake.script(
        "tg.getMe",
        vec![Reply::Json(401, json!({"ok": false, "error_code": 401, "description": "Unauthorized"}))],
    );
    let (_, r) = s.post(Some(t), &format!("/api/v1/channels/{}/test-connection", tg.id), json!({})).await;
    assert_eq!(r["ok"], json!(false));
    fake.stop();
    s.stop().await;
}
