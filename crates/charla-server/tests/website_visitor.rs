//! The visitor API of website channels, as a widget (and an attacker) would call it: tokens,
//! one visitor never reaching another's conversation, origins, rate limits, file checks,
//! idempotent sends, escaping on the public ratings page.

mod common;

use charla_core::*;
use common::*;
use serde_json::{Value, json};

struct Site {
    channel: Id,
    admin_token: String,
}

async fn site(s: &TestServer, website: Value) -> Site {
    let ws = s.workspace("Shop").await;
    let admin = s.user(ws.id, "Admin", Role::Admin, &[]).await;
    let admin_token = s.token(&admin);
    let (st, ch) = s
        .post(
            Some(&admin_token),
            "/api/v1/channels",
            json!({"kind": "website", "name": "Shop <site>", "website": website}),
        )
        .await;
    assert_eq!(st, 201, "{ch}");
    assert!(ch["embed_snippet"].as_str().is_some_and(|v| v.contains(&format!("/widget.js?channel={}", ch["id"]))));
    assert!(ch["chat_link"].as_str().is_some_and(|v| v.ends_with(&format!("/chat/{}", ch["id"]))));
    assert_eq!(ch["routing_mode"], "auto");
    Site { channel: id_of(&ch), admin_token }
}

async fn call(
    s: &TestServer,
    method: &str,
    path: &str,
    token: Option<&str>,
    origin: Option<&str>,
    body: Option<Value>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut req =
        s.client.request(reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::GET), s.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(o) = origin {
        req = req.header("Origin", o);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap_or_else(|e| panic!("{e}"));
    let headers = resp.headers().clone();
    let (st, v) = read(resp).await;
    (st, v, headers)
}

async fn visit(s: &TestServer, ch: Id, token: Option<&str>) -> Value {
    let (st, v, _) = call(
        s,
        "POST",
        &format!("/widget/{ch}/visit"),
        None,
        None,
        Some(json!({"token": token, "url": "https://shop.test/p", "title": "<script>alert(1)</script>"})),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    v
}

async fn say(s: &TestServer, ch: Id, token: &str, cmid: &str, text: &str) -> (u16, Value) {
    let (st, v, _) = call(
        s,
        "POST",
        &format!("/widget/{ch}/messages"),
        Some(token),
        None,
        Some(json!({"text": text, "client_msg_id": cmid})),
    )
    .await;
    (st, v)
}

/// [`say`], which must be accepted.
async fn said(s: &TestServer, ch: Id, token: &str, cmid: &str, text: &str) {
    let (st, v) = say(s, ch, token, cmid, text).await;
    assert_eq!(st, 201, "{v}");
}

async fn visitors_are_kept_apart(s: &TestServer) {
    let site = site(s, json!({})).await;
    let ch = site.channel;
    let a = visit(s, ch, None).await;
    let ta = a["token"].as_str().unwrap_or_default().to_string();
    // The same token is the same visitor.
    assert_eq!(visit(s, ch, Some(&ta)).await["visitor_id"], a["visitor_id"]);
    let b = visit(s, ch, None).await;
    let tb = b["token"].as_str().unwrap_or_default().to_string();
    assert_ne!(a["visitor_id"], b["visitor_id"]);

    let (st, m) = say(s, ch, &ta, "m1", "secret of A").await;
    assert_eq!(st, 201, "{m}");
    // The same client_msg_id again: the first message, not a second one.
    let (st, again) = say(s, ch, &ta, "m1", "secret of A").await;
    assert_eq!(st, 200);
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["message"]["id"], m["message"]["id"]);

    let (_, list_a, _) = call(s, "GET", &format!("/widget/{ch}/messages"), Some(&ta), None, None).await;
    assert_eq!(list_a["items"].as_array().map(Vec::len), Some(1));
    let (_, list_b, _) = call(s, "GET", &format!("/widget/{ch}/messages"), Some(&tb), None, None).await;
    assert_eq!(list_b["items"], json!([]), "B sees nothing of A");

    // A forged or another channel's token is refused.
    let forged = format!("{}.{}", a["visitor_id"].as_str().unwrap_or_default(), "0".repeat(32));
    let (st, _, _) = call(s, "GET", &format!("/widget/{ch}/messages"), Some(&forged), None, None).await;
    assert_eq!(st, 401);
    let other = site_in_same_server(s).await;
    let (st, _, _) = call(s, "GET", &format!("/widget/{other}/messages"), Some(&ta), None, None).await;
    assert_eq!(st, 401);
    let (st, _, _) = call(s, "GET", &format!("/widget/{ch}/messages"), None, None, None).await;
    assert_eq!(st, 401);

    // Notes never reach the visitor.
    let (_, convs) = s.get(Some(&site.admin_token), "/api/v1/conversations?section=all").await;
    let cid = convs["items"][0]["id"].as_i64().unwrap_or_default();
    let (st, _) = s
        .post(
            Some(&site.admin_token),
            &format!("/api/v1/conversations/{cid}/messages"),
            json!({"text": "internal", "kind": "note"}),
        )
        .await;
    assert_eq!(st, 201);
    let (st, _) = s
        .post(Some(&site.admin_token), &format!("/api/v1/conversations/{cid}/messages"), json!({"text": "Hola!"}))
        .await;
    assert_eq!(st, 201);
    let (_, list_a, _) = call(s, "GET", &format!("/widget/{ch}/messages"), Some(&ta), None, None).await;
    let texts: Vec<&str> =
        list_a["items"].as_array().into_iter().flatten().filter_map(|m| m["text"].as_str()).collect();
    assert_eq!(texts, vec!["secret of A", "Hola!"]);

    // The operator's panel: the visitor and their pages; /history as a note.
    let (st, v) = s.get(Some(&site.admin_token), &format!("/api/v1/conversations/{cid}/visitor")).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["page_views"][0]["title"], "<script>alert(1)</script>");
    let (st, note) =
        s.post(Some(&site.admin_token), &format!("/api/v1/conversations/{cid}/visitor/history"), json!({})).await;
    assert_eq!(st, 201, "{note}");
    assert_eq!(note["kind"], "note");
    assert!(note["text"].as_str().is_some_and(|t| t.contains("https://shop.test/p")));
}

async fn site_in_same_server(s: &TestServer) -> Id {
    site(s, json!({})).await.channel
}

async fn origins_are_checked(s: &TestServer) {
    let site = site(s, json!({"allowed_origins": ["https://shop.test"]})).await;
    let ch = site.channel;
    let body = json!({"url": "https://shop.test/"});
    let (st, v, h) =
        call(s, "POST", &format!("/widget/{ch}/visit"), None, Some("https://shop.test"), Some(body.clone())).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(h.get("access-control-allow-origin").and_then(|v| v.to_str().ok()), Some("https://shop.test"));
    let (st, v, h) = call(s, "POST", &format!("/widget/{ch}/visit"), None, Some("https://evil.test"), Some(body)).await;
    assert_eq!(st, 403, "{v}");
    assert!(h.get("access-control-allow-origin").is_none());
    // Preflight from an allowed page.
    let (st, _, h) = call(s, "OPTIONS", &format!("/widget/{ch}/messages"), None, Some("https://shop.test"), None).await;
    assert_eq!(st, 204);
    assert!(h.get("access-control-allow-headers").is_some());
    // Unknown and non-website channels do not exist here.
    let (st, _, _) = call(s, "POST", "/widget/999999/visit", None, None, Some(json!({}))).await;
    assert_eq!(st, 404);
    // A bad option is refused.
    let (st, v) = s
        .patch(
            Some(&site.admin_token),
            &format!("/api/v1/channels/{ch}"),
            json!({"website": {"rules": [{"url_regex": "("}]}}),
        )
        .await;
    assert_eq!(st, 422, "{v}");
}

async fn files_are_checked(s: &TestServer) {
    let site = site(s, json!({})).await;
    let ch = site.channel;
    let a = visit(s, ch, None).await;
    let ta = a["token"].as_str().unwrap_or_default().to_string();
    let b = visit(s, ch, None).await;
    let tb = b["token"].as_str().unwrap_or_default().to_string();
    let up = |token: String, name: &'static str, bytes: Vec<u8>| async move {
        let boundary = "charla-visitor-boundary-1";
        let mut body =
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\r\n")
                .into_bytes();
        body.extend_from_slice(&bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let resp = s
            .client
            .post(s.url(&format!("/widget/{ch}/attachments")))
            .bearer_auth(token)
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        read(resp).await
    };
    let (st, v) = up(ta.clone(), "run.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff".to_vec()).await;
    assert_eq!(st, 422, "{v}");
    assert_eq!(code(&v), "unsupported_file_type");
    let (st, png) = up(ta.clone(), "pixel.png", include_bytes!("fixtures/pixel.png").to_vec()).await;
    assert_eq!(st, 201, "{png}");
    // B cannot send A's upload.
    let (st, v, _) = call(
        s,
        "POST",
        &format!("/widget/{ch}/messages"),
        Some(&tb),
        None,
        Some(json!({"client_msg_id": "x1", "attachments": [{"id": png["id"], "key": png["key"]}]})),
    )
    .await;
    assert_eq!(st, 422, "{v}");
    let (st, m, _) = call(
        s,
        "POST",
        &format!("/widget/{ch}/messages"),
        Some(&ta),
        None,
        Some(json!({"client_msg_id": "x1", "attachments": [{"id": png["id"], "key": png["key"]}]})),
    )
    .await;
    assert_eq!(st, 201, "{m}");
    let url = m["message"]["attachments"][0]["url"].as_str().unwrap_or_default().to_string();
    let resp = s.client.get(s.url(&url)).send().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status().as_u16(), 200);
    // A link with a changed signature finds nothing.
    let other = if url.ends_with('0') { '1' } else { '0' };
    let bad = format!("{}{other}", &url[..url.len() - 1]);
    let resp = s.client.get(s.url(&bad)).send().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status().as_u16(), 404);
}

async fn visitors_are_rate_limited(s: &TestServer) {
    let site = site(s, json!({})).await;
    let ch = site.channel;
    let v = visit(s, ch, None).await;
    let t = v["token"].as_str().unwrap_or_default().to_string();
    let mut limited = None;
    for i in 0..10 {
        let (st, _) = say(s, ch, &t, &format!("r{i}"), "hola").await;
        if st == 429 {
            limited = Some(i);
            break;
        }
    }
    assert!(limited.is_some(), "a burst of requests is cut");
}

async fn ratings_page_escapes_and_hides(s: &TestServer) {
    let site = site(s, json!({"ratings_page_public": true})).await;
    let ch = site.channel;
    let v = visit(s, ch, None).await;
    let t = v["token"].as_str().unwrap_or_default().to_string();
    say(s, ch, &t, "a1", "hola").await;
    let (st, _, _) =
        call(s, "POST", &format!("/widget/{ch}/rating"), Some(&t), None, Some(json!({"rating": "great"}))).await;
    assert_eq!(st, 422);
    let (st, _, _) = call(
        s,
        "POST",
        &format!("/widget/{ch}/rating"),
        Some(&t),
        None,
        Some(json!({"rating": "neutral", "comment": "<img src=x onerror=alert(1)>"})),
    )
    .await;
    assert_eq!(st, 204);
    let html = s.client.get(s.url(&format!("/ratings/{ch}"))).send().await.unwrap_or_else(|e| panic!("{e}"));
    let html = html.text().await.unwrap_or_default();
    assert!(html.contains("Shop &lt;site&gt;"), "the channel name is escaped");
    assert!(!html.contains("onerror"), "comments never show");
    assert!(html.contains("1 ratings"));
    // Without a mail server, no transcript.
    let (st, v, _) =
        call(s, "POST", &format!("/widget/{ch}/transcript"), Some(&t), None, Some(json!({"email": "a@b.test"}))).await;
    assert_eq!((st, code(&v)), (422, "mail_not_configured"));
}

/// A widget socket, past its `ready` frame.
struct Widget {
    ws: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
}

impl Widget {
    async fn connect(s: &TestServer, ch: Id, token: &str) -> Widget {
        let url = s.url(&format!("/widget/{ch}/ws?token={token}")).replacen("http://", "ws://", 1);
        let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap_or_else(|e| panic!("{e}"));
        let mut w = Widget { ws };
        w.until(|f| f["type"] == "ready").await;
        w
    }

    /// Frames up to and including the message with this text.
    async fn until_message(&mut self, text: &str) -> Vec<Value> {
        self.until(|f| f["type"] == "message" && f["data"]["text"] == text).await
    }

    /// Frames up to and including the first that `pred` accepts (10 s at most).
    async fn until(&mut self, pred: impl Fn(&Value) -> bool) -> Vec<Value> {
        use futures_util::StreamExt;
        let mut seen = Vec::new();
        loop {
            let frame = tokio::time::timeout(std::time::Duration::from_secs(10), self.ws.next())
                .await
                .unwrap_or_else(|_| panic!("no such frame within 10 s; got {seen:#?}"));
            let Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t))) = frame else { continue };
            let v: Value = serde_json::from_str(t.as_str()).unwrap_or_else(|e| panic!("{e}"));
            let done = pred(&v);
            seen.push(v);
            if done {
                return seen;
            }
        }
    }
}

fn texts(frames: &[Value]) -> Vec<&str> {
    frames.iter().filter(|f| f["type"] == "message").filter_map(|f| f["data"]["text"].as_str()).collect()
}

async fn visitors_hear_their_own_conversation_live(s: &TestServer) {
    let site = site(s, json!({})).await;
    let ch = site.channel;
    let token = |v: &Value| v["token"].as_str().unwrap_or_default().to_string();
    let (ta, tb) = (token(&visit(s, ch, None).await), token(&visit(s, ch, None).await));
    // Online before writing: neither has a conversation yet.
    let (mut a, mut b) = (Widget::connect(s, ch, &ta).await, Widget::connect(s, ch, &tb).await);

    said(s, ch, &ta, "a1", "hello from A").await;
    said(s, ch, &tb, "b1", "hello from B").await;
    let frames = a.until_message("hello from A").await;
    assert!(!texts(&frames).contains(&"hello from B"), "{frames:#?}");

    // The operator answers each; every visitor hears only their own conversation.
    let (_, convs) = s.get(Some(&site.admin_token), "/api/v1/conversations?section=all").await;
    let mut ids: Vec<Id> = convs["items"].as_array().into_iter().flatten().filter_map(|c| c["id"].as_i64()).collect();
    ids.sort();
    assert_eq!(ids.len(), 2, "{convs}");
    for (cid, text) in [(ids[0], "for A"), (ids[1], "for B")] {
        let (st, m) = s
            .post(Some(&site.admin_token), &format!("/api/v1/conversations/{cid}/messages"), json!({"text": text}))
            .await;
        assert_eq!(st, 201, "{m}");
    }
    let frames = a.until_message("for A").await;
    assert!(texts(&frames).iter().all(|t| !t.contains('B')), "A hears nothing of B: {frames:#?}");
    let frames = b.until_message("for B").await;
    assert!(texts(&frames).contains(&"hello from B"), "{frames:#?}");
    assert!(texts(&frames).iter().all(|t| !t.contains('A')), "B hears nothing of A: {frames:#?}");
    assert!(frames.iter().any(|f| f["type"] == "conversation"), "B's conversation state: {frames:#?}");

    // Another channel's traffic reaches no visitor: A's next frame is its own next message.
    let other = site_in_same_server(s).await;
    let tc = token(&visit(s, other, None).await);
    said(s, other, &tc, "c1", "elsewhere").await;
    said(s, ch, &ta, "a2", "again from A").await;
    let frames = a.until_message("again from A").await;
    assert!(!texts(&frames).contains(&"elsewhere"), "{frames:#?}");
}

mod sqlite {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn widget_sockets() {
        let s = TestServer::start().await;
        visitors_hear_their_own_conversation_live(&s).await;
        s.stop().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn visitors() {
        let s = TestServer::start().await;
        visitors_are_kept_apart(&s).await;
        origins_are_checked(&s).await;
        files_are_checked(&s).await;
        ratings_page_escapes_and_hides(&s).await;
        s.stop().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn rate_limits() {
        let s = TestServer::start_with(Backend::Sqlite, |c| {
            c.visitor_burst_per_visitor = 4;
            c.visitor_rate_per_visitor = 0.1;
        })
        .await;
        visitors_are_rate_limited(&s).await;
        s.stop().await;
    }
}

mod postgres {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn widget_sockets() {
        let s = TestServer::start_pg().await;
        visitors_hear_their_own_conversation_live(&s).await;
        s.stop().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn visitors() {
        let s = TestServer::start_pg().await;
        visitors_are_kept_apart(&s).await;
        origins_are_checked(&s).await;
        files_are_checked(&s).await;
        ratings_page_escapes_and_hides(&s).await;
        s.stop().await;
    }
}
