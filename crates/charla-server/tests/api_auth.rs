//! Sessions, users, error shapes and the OpenAPI document.

mod common;

use charla_core::{Flag, Role};
use common::*;
use serde_json::json;

both!(login_logout_me_and_cookie, users_create_and_update, bad_input_is_never_a_500);

async fn login_logout_me_and_cookie(s: &TestServer) {
    let ws = s.workspace("Acme").await;
    let admin = s.user(ws.id, "Admin", Role::Admin, &[]).await;

    // Wrong password and unknown e-mail answer the same.
    let (st, body) = s.post(None, "/api/v1/auth/login", json!({"email": admin.email, "password": "nope-nope"})).await;
    assert_eq!((st, code(&body)), (401, "invalid_credentials"));
    let (st, body) =
        s.post(None, "/api/v1/auth/login", json!({"email": "nobody@example.com", "password": PASSWORD})).await;
    assert_eq!((st, code(&body)), (401, "invalid_credentials"));

    // E-mail is case-insensitive; answer has token + user; cookie is HttpOnly, SameSite=Lax.
    let resp = s
        .client
        .post(s.url("/api/v1/auth/login"))
        .json(&json!({"email": admin.email.to_uppercase(), "password": PASSWORD}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status().as_u16(), 200);
    let cookie = resp
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no cookie"))
        .to_string();
    assert!(cookie.starts_with("charla_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "not secure by default: {cookie}");
    let (_, body) = read(resp).await;
    let token = body["token"].as_str().unwrap_or_default().to_string();
    assert_eq!(body["user"]["id"], admin.id);
    assert_eq!(body["user"]["role"], "admin");
    assert!(body["user"].get("password_hash").is_none());

    // Bearer and cookie both authenticate.
    let (st, me) = s.get(Some(&token), "/api/v1/auth/me").await;
    assert_eq!(st, 200);
    assert_eq!(me["email"], admin.email.as_str());
    let session = cookie.split(';').next().unwrap_or_default().to_string();
    let resp = s
        .client
        .get(s.url("/api/v1/auth/me"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status().as_u16(), 200);

    // No or bad session: 401 with the error shape.
    let (st, body) = s.get(None, "/api/v1/auth/me").await;
    assert_eq!((st, code(&body)), (401, "unauthorized"));
    let (st, _) = s.get(Some("garbage"), "/api/v1/auth/me").await;
    assert_eq!(st, 401);

    // Logout clears the cookie.
    let resp = s
        .client
        .post(s.url("/api/v1/auth/logout"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status().as_u16(), 204);
    let cleared = resp.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(cleared.starts_with("charla_session=;") && cleared.contains("Max-Age=0"), "{cleared}");

    // A deactivated user can neither log in nor use an old token.
    let (st, _) = s.patch(Some(&token), &format!("/api/v1/users/{}", admin.id), json!({"active": false})).await;
    assert_eq!(st, 403, "nobody deactivates themselves");
    let other = s.user(ws.id, "Other", Role::Agent, &[]).await;
    let other_token = s.login(&other.email, PASSWORD).await;
    let (st, _) = s.patch(Some(&token), &format!("/api/v1/users/{}", other.id), json!({"active": false})).await;
    assert_eq!(st, 200);
    let (st, _) = s.get(Some(&other_token), "/api/v1/auth/me").await;
    assert_eq!(st, 401);
    let (st, _) = s.post(None, "/api/v1/auth/login", json!({"email": other.email, "password": PASSWORD})).await;
    assert_eq!(st, 401);
}

async fn users_create_and_update(s: &TestServer) {
    let ws = s.workspace("Acme").await;
    let admin = s.user(ws.id, "Admin", Role::Admin, &[]).await;
    let manager = s.user(ws.id, "Manager", Role::Agent, &[Flag::ManageSettings]).await;
    let agent = s.user(ws.id, "Agent", Role::Agent, &[]).await;
    let (ta, tm, tg) = (s.token(&admin), s.token(&manager), s.token(&agent));

    let email = format!("{}@example.com", unique("new"));
    let new = json!({"email": email, "name": "Nuevo", "password": "12345678", "role": "agent",
                     "flags": ["see_all_conversations"], "display_name": "Soporte", "language": "es"});
    let (st, user) = s.post(Some(&ta), "/api/v1/users", new.clone()).await;
    assert_eq!(st, 201, "{user}");
    assert_eq!(user["email"], email.as_str());
    assert_eq!(user["role"], "agent");
    assert_eq!(user["flags"], json!(["see_all_conversations"]));
    assert_eq!(user["display_name"], "Soporte");
    assert_eq!(user["language"], "es");
    assert!(user["id"].is_i64());

    // Duplicate e-mail (any case): 409.
    let mut dup = new.clone();
    dup["email"] = json!(email.to_uppercase());
    let (st, body) = s.post(Some(&ta), "/api/v1/users", dup).await;
    assert_eq!((st, code(&body)), (409, "email_taken"));

    // The new user can log in.
    let t_new = s.login(&email, "12345678").await;
    let (_, me) = s.get(Some(&t_new), "/api/v1/auth/me").await;
    assert_eq!(me["name"], "Nuevo");

    // Validation.
    let bad = |field: &str, value: serde_json::Value| {
        let mut b = json!({"email": format!("{}@example.com", unique("x")), "name": "X", "password": "12345678", "role": "agent"});
        b[field] = value;
        b
    };
    for (body, want) in [
        (bad("password", json!("short")), "password_too_short"),
        (bad("role", json!("owner")), "invalid_role"),
        (bad("flags", json!(["superpowers"])), "invalid_flag"),
        (bad("email", json!("not-an-email")), "invalid_email"),
        (bad("name", json!("  ")), "invalid_name"),
    ] {
        let (st, resp) = s.post(Some(&ta), "/api/v1/users", body).await;
        assert_eq!((st, code(&resp)), (422, want), "{resp}");
    }
    let (st, _) = s.post(Some(&ta), "/api/v1/users", json!({"email": "a@b.c"})).await;
    assert_eq!(st, 422, "missing fields");

    // Rights: plain agents cannot create; managers cannot create admins.
    let (st, body) = s.post(Some(&tg), "/api/v1/users", bad("role", json!("agent"))).await;
    assert_eq!((st, code(&body)), (403, "forbidden"));
    let (st, _) = s.post(Some(&tm), "/api/v1/users", bad("role", json!("admin"))).await;
    assert_eq!(st, 403);
    let (st, _) = s.post(Some(&tm), "/api/v1/users", bad("role", json!("agent"))).await;
    assert_eq!(st, 201);

    // Everyone lists colleagues.
    let (st, list) = s.get(Some(&tg), "/api/v1/users").await;
    assert_eq!(st, 200);
    assert!(list.as_array().is_some_and(|l| l.len() >= 5));

    // Self-service edits; password change needs the current one.
    let path = format!("/api/v1/users/{}", agent.id);
    let (st, u) = s.patch(Some(&tg), &path, json!({"display_name": "Ana", "language": "ru"})).await;
    assert_eq!((st, u["display_name"].as_str(), u["language"].as_str()), (200, Some("Ana"), Some("ru")));
    let (st, _) = s.patch(Some(&tg), &path, json!({"flags": ["manage_settings"]})).await;
    assert_eq!(st, 403);
    let (st, body) = s.patch(Some(&tg), &path, json!({"password": "brand-new-pass"})).await;
    assert_eq!((st, code(&body)), (422, "invalid_current_password"));
    let (st, _) = s.patch(Some(&tg), &path, json!({"password": "brand-new-pass", "current_password": PASSWORD})).await;
    assert_eq!(st, 200);
    s.login(&agent.email, "brand-new-pass").await;
    let (st, _) = s.patch(Some(&tg), &format!("/api/v1/users/{}", manager.id), json!({"name": "X"})).await;
    assert_eq!(st, 403);
    let (st, _) = s.patch(Some(&tm), &format!("/api/v1/users/{}", admin.id), json!({"name": "X"})).await;
    assert_eq!(st, 403, "a manager cannot change an admin");
    let (st, u) = s.patch(Some(&tm), &path, json!({"flags": ["see_group_chats"]})).await;
    assert_eq!((st, u["flags"].clone()), (200, json!(["see_group_chats"])));

    // Presence.
    let (st, u) = s.put(Some(&tg), "/api/v1/users/me/presence", json!({"status": "away"})).await;
    assert_eq!((st, u["presence"].as_str()), (200, Some("away")));
    let (st, body) = s.put(Some(&tg), "/api/v1/users/me/presence", json!({"status": "asleep"})).await;
    assert_eq!((st, code(&body)), (422, "invalid_presence"));

    // Other workspace's users are not found.
    let ws2 = s.workspace("Other").await;
    let stranger = s.user(ws2.id, "Stranger", Role::Admin, &[]).await;
    let (st, _) = s.get(Some(&ta), &format!("/api/v1/users/{}", stranger.id)).await;
    assert_eq!(st, 404);
    let (st, _) = s.patch(Some(&ta), &format!("/api/v1/users/{}", stranger.id), json!({"name": "X"})).await;
    assert_eq!(st, 404);
}

async fn bad_input_is_never_a_500(s: &TestServer) {
    let ws = s.workspace("Acme").await;
    let admin = s.user(ws.id, "Admin", Role::Admin, &[]).await;
    let t = s.token(&admin);

    // Malformed JSON: 400 invalid_json.
    let resp = s
        .client
        .post(s.url("/api/v1/teams"))
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (st, body) = read(resp).await;
    assert_eq!((st, code(&body)), (400, "invalid_json"), "{body}");

    // A 1 MiB body: 413.
    let big = json!({"name": "x".repeat(1024 * 1024)});
    let (st, body) = s.post(Some(&t), "/api/v1/teams", big).await;
    assert_eq!((st, code(&body)), (413, "payload_too_large"), "{body}");

    // Ids that cannot exist: 404.
    for path in ["/api/v1/conversations/abc", "/api/v1/users/abc", "/api/v1/conversations/99999999999999999999"] {
        let (st, body) = s.get(Some(&t), path).await;
        assert_eq!((st, code(&body)), (404, "not_found"), "{path}");
    }
    let (st, _) = s.get(Some(&t), "/api/v1/no-such-thing").await;
    assert_eq!(st, 404);

    // Wrong types: 422; bad query values: 400.
    let (st, _) = s.post(Some(&t), "/api/v1/teams", json!({"name": 5})).await;
    assert_eq!(st, 422);
    let (st, body) = s.get(Some(&t), "/api/v1/conversations?section=everything").await;
    assert_eq!((st, code(&body)), (400, "invalid_query"));
    let (st, body) = s.get(Some(&t), "/api/v1/conversations?limit=many").await;
    assert_eq!((st, code(&body)), (400, "invalid_query"));
    let (st, body) = s.get(Some(&t), "/api/v1/notifications?unread_only=maybe").await;
    assert_eq!((st, code(&body)), (400, "invalid_query"));
}

#[tokio::test]
async fn login_rate_limit() {
    let s = TestServer::start().await;
    let ws = s.workspace("Acme").await;
    let admin = s.user(ws.id, "Admin", Role::Admin, &[]).await;
    for i in 0..10 {
        let (st, _) = s.post(None, "/api/v1/auth/login", json!({"email": admin.email, "password": "wrong-pass"})).await;
        assert_eq!(st, 401, "attempt {i}");
    }
    // The right password no longer helps within the window.
    let (st, body) = s.post(None, "/api/v1/auth/login", json!({"email": admin.email, "password": PASSWORD})).await;
    assert_eq!((st, code(&body)), (429, "too_many_attempts"));
    // Other addresses are not affected.
    let other = s.user(ws.id, "Other", Role::Agent, &[]).await;
    s.login(&other.email, PASSWORD).await;
    s.stop().await;
}

#[tokio::test]
async fn openapi_lists_every_route() {
    let s = TestServer::start().await;
    let (st, doc) = s.get(None, "/api/v1/openapi.json").await;
    assert_eq!(st, 200);
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    let paths = doc["paths"].as_object().unwrap_or_else(|| panic!("no paths"));
    let want = [
        ("post", "/api/v1/auth/login"),
        ("post", "/api/v1/auth/logout"),
        ("get", "/api/v1/auth/me"),
        ("get", "/api/v1/users"),
        ("post", "/api/v1/users"),
        ("patch", "/api/v1/users/{id}"),
        ("put", "/api/v1/users/me/presence"),
        ("get", "/api/v1/teams"),
        ("delete", "/api/v1/teams/{id}"),
        ("post", "/api/v1/channels"),
        ("post", "/api/v1/channels/{id}/rotate-secret"),
        ("put", "/api/v1/channels/{id}/members"),
        ("get", "/api/v1/contacts"),
        ("post", "/api/v1/contacts/{id}/block"),
        ("post", "/api/v1/contacts/{id}/unblock"),
        ("put", "/api/v1/contacts/{id}/tags"),
        ("get", "/api/v1/tags"),
        ("get", "/api/v1/close-reasons"),
        ("get", "/api/v1/canned-responses"),
        ("get", "/api/v1/conversations"),
        ("get", "/api/v1/conversations/{id}"),
        ("delete", "/api/v1/conversations/{id}"),
        ("get", "/api/v1/conversations/{id}/messages"),
        ("post", "/api/v1/conversations/{id}/messages"),
        ("post", "/api/v1/conversations/{id}/assign"),
        ("post", "/api/v1/conversations/{id}/close"),
        ("post", "/api/v1/conversations/{id}/reopen"),
        ("post", "/api/v1/conversations/{id}/snooze"),
        ("post", "/api/v1/conversations/{id}/read"),
        ("post", "/api/v1/conversations/{id}/unread"),
        ("post", "/api/v1/conversations/{id}/no-reply-needed"),
        ("post", "/api/v1/conversations/{id}/detach-contact"),
        ("post", "/api/v1/conversations/bulk-delete"),
        ("put", "/api/v1/conversations/{id}/draft"),
        ("get", "/api/v1/unread-count"),
        ("post", "/api/v1/attachments"),
        ("get", "/api/v1/attachments/{id}/download"),
        ("get", "/api/v1/notifications"),
        ("post", "/api/v1/notifications/{id}/read"),
        ("post", "/api/v1/channels/{id}/test-connection"),
        ("get", "/api/v1/channels/{id}/templates"),
        ("post", "/api/v1/channels/{id}/templates"),
        ("post", "/api/v1/channels/{id}/templates/sync"),
        ("delete", "/api/v1/templates/{id}"),
        ("get", "/api/v1/contacts/{id}/identities"),
        ("post", "/api/v1/contacts/{id}/merge"),
        ("get", "/api/v1/reports/operators"),
    ];
    for (method, path) in want {
        assert!(paths.get(path).and_then(|p| p.get(method)).is_some(), "{method} {path} missing from the document");
    }
    // Every documented operation answers something other than 404/405 for its method
    // (i.e. the document and the router agree).
    for (path, item) in paths {
        for method in item.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()).unwrap_or_default() {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) || path.ends_with("/ws") {
                continue;
            }
            let concrete = path.replace("{id}", "1").replace("{channel_id}", "1");
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap_or(reqwest::Method::GET);
            let resp = s.client.request(m, s.url(&concrete)).send().await.unwrap_or_else(|e| panic!("{e}"));
            let st = resp.status().as_u16();
            assert!(st != 405, "{method} {path}: 405");
            // Login and embedded login are how a session starts; they answer 400 without a body.
            if !["/api/v1/auth/login", "/api/v1/auth/embedded", "/api/v1/openapi.json"].contains(&path.as_str()) {
                assert_eq!(st, 401, "{method} {path} must need a session");
            }
        }
    }
    s.stop().await;
}
