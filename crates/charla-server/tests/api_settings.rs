//! Channels, teams, tags, close reasons, canned responses and contacts.

mod common;

use charla_core::{Flag, Role};
use common::*;
use serde_json::json;

both!(channels_secret_members_and_visibility, teams_tags_reasons_canned, contacts_through_conversations);

async fn channels_secret_members_and_visibility(s: &TestServer) {
    let ws = s.workspace("Acme").await;
    let admin = s.user(ws.id, "Admin", Role::Admin, &[]).await;
    let agent = s.user(ws.id, "Agent", Role::Agent, &[]).await;
    let (ta, tg) = (s.token(&admin), s.token(&agent));

    let (st, ch) = s
        .post(
            Some(&ta),
            "/api/v1/channels",
            json!({"kind": "api", "name": "Shop", "webhook_url": "https://shop.example/hook"}),
        )
        .await;
    assert_eq!(st, 201, "{ch}");
    let secret = ch["secret"].as_str().unwrap_or_default().to_string();
    assert_eq!(secret.len(), 64, "32 random bytes in hex");
    assert!(secret.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(ch["kind"], "api");
    assert_eq!(ch["max_message_length"], 2000);
    assert_eq!(ch["response_time_limit_secs"], 900);
    assert_eq!(ch["routing_mode"], "manual");
    let id = id_of(&ch);
    let path = format!("/api/v1/channels/{id}");

    // Never shown again.
    let (st, got) = s.get(Some(&ta), &path).await;
    assert_eq!(st, 200);
    assert!(got.get("secret").is_none(), "{got}");
    let (_, list) = s.get(Some(&ta), "/api/v1/channels").await;
    assert!(list.as_array().is_some_and(|l| l.iter().all(|c| c.get("secret").is_none())));

    // Rotation shows the new one, once.
    let (st, rotated) = s.post(Some(&ta), &format!("{path}/rotate-secret"), json!({})).await;
    assert_eq!(st, 200);
    let new_secret = rotated["secret"].as_str().unwrap_or_default();
    assert_eq!(new_secret.len(), 64);
    assert_ne!(new_secret, secret);
    let stored = s.state().store.get_channel(ws.id, id).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stored.secret, new_secret);

    // Validation.
    for (body, want) in [
        (json!({"kind": "email", "name": "T"}), "unsupported_channel_kind"),
        (json!({"kind": "telegram", "name": "T"}), "invalid_bot_token"),
        (json!({"kind": "fax", "name": "T"}), "unsupported_channel_kind"),
        (json!({"kind": "api", "name": "T", "webhook_url": "ftp://x.example"}), "invalid_webhook_url"),
        (json!({"kind": "api", "name": "T", "webhook_url": "not a url"}), "invalid_webhook_url"),
        (json!({"kind": "api", "name": "T", "routing_mode": "random"}), "invalid_routing_mode"),
        (json!({"kind": "api", "name": " "}), "invalid_name"),
    ] {
        let (st, resp) = s.post(Some(&ta), "/api/v1/channels", body).await;
        assert_eq!((st, code(&resp)), (422, want), "{resp}");
    }

    // Members; agents see only their channels.
    let (st, _) = s.get(Some(&tg), &path).await;
    assert_eq!(st, 404, "not a member yet");
    let (_, list) = s.get(Some(&tg), "/api/v1/channels").await;
    assert_eq!(list, json!([]));
    let (st, m) = s.put(Some(&ta), &format!("{path}/members"), json!({"user_ids": [agent.id, agent.id]})).await;
    assert_eq!((st, m["user_ids"].clone()), (200, json!([agent.id])));
    let (st, m) = s.get(Some(&tg), &format!("{path}/members")).await;
    assert_eq!((st, m["user_ids"].clone()), (200, json!([agent.id])));
    let (_, list) = s.get(Some(&tg), "/api/v1/channels").await;
    assert_eq!(list.as_array().map(|l| l.len()), Some(1));
    let (st, body) = s.patch(Some(&tg), &path, json!({"name": "Mine"})).await;
    assert_eq!((st, code(&body)), (403, "forbidden"));

    // A stranger cannot be a member.
    let ws2 = s.workspace("Other").await;
    let stranger = s.user(ws2.id, "Stranger", Role::Admin, &[]).await;
    let (st, _) = s.put(Some(&ta), &format!("{path}/members"), json!({"user_ids": [stranger.id]})).await;
    assert_eq!(st, 422);
    let (st, _) = s.get(Some(&s.token(&stranger)), &path).await;
    assert_eq!(st, 404);

    // Patch with null clears; absent keeps.
    let (st, ch) = s
        .patch(
            Some(&ta),
            &path,
            json!({"webhook_url": null, "greeting": "Hola", "auto_close_after_secs": 3600, "max_message_length": 500}),
        )
        .await;
    assert_eq!(st, 200, "{ch}");
    assert_eq!(ch["webhook_url"], json!(null));
    assert_eq!(ch["greeting"], "Hola");
    assert_eq!(ch["auto_close_after_secs"], 3600);
    assert_eq!(ch["max_message_length"], 500);
    assert_eq!(ch["name"], "Shop");
    let (st, _) = s.delete(Some(&ta), &path).await;
    assert_eq!(st, 204);
    // Deleting deactivates: the list forgets it; conversations keep pointing at it.
    let (st, gone) = s.get(Some(&ta), &path).await;
    assert_eq!((st, gone["active"].as_bool()), (200, Some(false)));
    let (_, list) = s.get(Some(&ta), "/api/v1/channels").await;
    assert!(list.as_array().is_some_and(|l| l.iter().all(|c| c["id"] != id)));
}

async fn teams_tags_reasons_canned(s: &TestServer) {
    let ws = s.workspace("Acme").await;
    let admin = s.user(ws.id, "Admin", Role::Admin, &[]).await;
    let agent = s.user(ws.id, "Agent", Role::Agent, &[]).await;
    let other = s.user(ws.id, "Other", Role::Agent, &[]).await;
    let (ta, tg, to) = (s.token(&admin), s.token(&agent), s.token(&other));

    // Teams.
    let (st, team) = s.post(Some(&ta), "/api/v1/teams", json!({"name": "Ventas", "member_ids": [agent.id]})).await;
    assert_eq!(st, 201);
    assert_eq!(team["member_ids"], json!([agent.id]));
    let tp = format!("/api/v1/teams/{}", id_of(&team));
    let (st, _) = s.post(Some(&tg), "/api/v1/teams", json!({"name": "X"})).await;
    assert_eq!(st, 403);
    let (st, t) = s.patch(Some(&ta), &tp, json!({"member_ids": [agent.id, other.id]})).await;
    assert_eq!((st, t["member_ids"].as_array().map(|a| a.len())), (200, Some(2)));
    let (st, teams) = s.get(Some(&tg), "/api/v1/teams").await;
    assert_eq!((st, teams.as_array().map(|a| a.len())), (200, Some(1)));
    let (st, _) = s.delete(Some(&tg), &tp).await;
    assert_eq!(st, 403);
    let (st, _) = s.delete(Some(&ta), &tp).await;
    assert_eq!(st, 204);

    // Tags.
    let (st, tag) = s.post(Some(&ta), "/api/v1/tags", json!({"name": "VIP", "color": "#FF0000", "pinned": true})).await;
    assert_eq!(st, 201);
    assert_eq!((tag["color"].as_str(), tag["pinned"].as_bool()), (Some("#ff0000"), Some(true)));
    let (st, body) = s.post(Some(&ta), "/api/v1/tags", json!({"name": "Bad", "color": "red"})).await;
    assert_eq!((st, code(&body)), (422, "invalid_color"));
    let tag_path = format!("/api/v1/tags/{}", id_of(&tag));
    let (st, _) = s.patch(Some(&tg), &tag_path, json!({"name": "X"})).await;
    assert_eq!(st, 403);
    let (st, t) = s.patch(Some(&ta), &tag_path, json!({"pinned": false})).await;
    assert_eq!((st, t["pinned"].as_bool(), t["name"].as_str()), (200, Some(false), Some("VIP")));
    let (st, _) = s.delete(Some(&ta), "/api/v1/tags/999999").await;
    assert_eq!(st, 404);

    // Close reasons.
    let (st, r) = s.post(Some(&ta), "/api/v1/close-reasons", json!({"name": "Resuelto"})).await;
    assert_eq!(st, 201);
    let (st, _) = s.post(Some(&tg), "/api/v1/close-reasons", json!({"name": "X"})).await;
    assert_eq!(st, 403);
    let (_, list) = s.get(Some(&tg), "/api/v1/close-reasons").await;
    assert_eq!(list[0]["name"], "Resuelto");
    let (st, _) = s.delete(Some(&ta), &format!("/api/v1/close-reasons/{}", id_of(&r))).await;
    assert_eq!(st, 204);

    // Canned responses: workspace-wide needs settings, personal ones are private.
    let (st, _) = s.post(Some(&tg), "/api/v1/canned-responses", json!({"shortcut": "hi", "text": "Hola"})).await;
    assert_eq!(st, 403);
    let (st, shared) = s.post(Some(&ta), "/api/v1/canned-responses", json!({"shortcut": "hi", "text": "Hola"})).await;
    assert_eq!((st, shared["personal"].as_bool()), (201, Some(false)));
    let (st, mine) = s
        .post(Some(&tg), "/api/v1/canned-responses", json!({"shortcut": "bye", "text": "Adiós", "personal": true}))
        .await;
    assert_eq!((st, mine["personal"].as_bool()), (201, Some(true)));
    let (_, list) = s.get(Some(&tg), "/api/v1/canned-responses").await;
    assert_eq!(list.as_array().map(|l| l.len()), Some(2));
    let (_, list) = s.get(Some(&to), "/api/v1/canned-responses").await;
    assert_eq!(list.as_array().map(|l| l.len()), Some(1), "another's personal response is private");
    let mine_path = format!("/api/v1/canned-responses/{}", id_of(&mine));
    let (st, _) = s.get(Some(&to), &mine_path).await;
    assert_eq!(st, 404);
    let (st, _) = s.patch(Some(&ta), &mine_path, json!({"text": "x"})).await;
    assert_eq!(st, 404, "personal ones are private even to admins");
    let (st, c) = s.patch(Some(&tg), &mine_path, json!({"text": "Chao"})).await;
    assert_eq!((st, c["text"].as_str()), (200, Some("Chao")));
    let shared_path = format!("/api/v1/canned-responses/{}", id_of(&shared));
    let (st, _) = s.delete(Some(&tg), &shared_path).await;
    assert_eq!(st, 403);
    let (st, body) =
        s.post(Some(&ta), "/api/v1/canned-responses", json!({"shortcut": "big", "text": "x".repeat(60_001)})).await;
    assert_eq!((st, code(&body)), (422, "text_too_long"));
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("60000")));
    let (st, body) = s.post(Some(&ta), "/api/v1/canned-responses", json!({"shortcut": "hi", "text": "Otra"})).await;
    assert_eq!((st, code(&body)), (409, "shortcut_taken"));
    let (st, _) = s.delete(Some(&tg), &mine_path).await;
    assert_eq!(st, 204);
}

async fn contacts_through_conversations(s: &TestServer) {
    let ws = s.workspace("Acme").await;
    let admin = s.user(ws.id, "Admin", Role::Admin, &[]).await;
    let agent = s.user(ws.id, "Agent", Role::Agent, &[]).await;
    let outsider = s.user(ws.id, "Outsider", Role::Agent, &[]).await;
    let manager = s.user(ws.id, "Manager", Role::Agent, &[Flag::ManageSettings]).await;
    let (ta, tg, tx, tm) = (s.token(&admin), s.token(&agent), s.token(&outsider), s.token(&manager));
    let ch = s.channel(ws.id, "Web", &[agent.id]).await;
    let conv = s.inbound(ch.id, "ext-1", "María Pérez", Some("+34 600 123 456"), "Hola").await.conversation;
    let contact_id = conv.contact_id.unwrap_or_else(|| panic!("contact"));
    let cp = format!("/api/v1/contacts/{contact_id}");

    // Visible to the channel's agent, to admins and managers; not to others.
    for t in [&ta, &tg, &tm] {
        let (st, c) = s.get(Some(t), &cp).await;
        assert_eq!((st, c["name"].as_str()), (200, Some("María Pérez")));
    }
    let (st, _) = s.get(Some(&tx), &cp).await;
    assert_eq!(st, 404);
    let (_, page) = s.get(Some(&tx), "/api/v1/contacts").await;
    assert_eq!(page["items"], json!([]));
    let (_, page) = s.get(Some(&tg), "/api/v1/contacts").await;
    assert_eq!(page["items"].as_array().map(|a| a.len()), Some(1));

    // Search.
    let (st, body) = s.get(Some(&ta), "/api/v1/contacts?q=mar").await;
    assert_eq!((st, code(&body)), (422, "query_too_short"));
    let (st, page) = s.get(Some(&ta), "/api/v1/contacts?q=6001").await;
    assert_eq!((st, page["items"].as_array().map(|a| a.len())), (200, Some(1)), "{page}");

    // Edit, tag, block.
    let (st, c) =
        s.patch(Some(&tg), &cp, json!({"email": "maria@example.com", "custom_attributes": {"plan": "pro"}})).await;
    assert_eq!(st, 200, "{c}");
    assert_eq!(c["email"], "maria@example.com");
    assert_eq!(c["custom_attributes"]["plan"], "pro");
    let (st, _) = s.patch(Some(&tx), &cp, json!({"name": "X"})).await;
    assert_eq!(st, 404);
    let (_, tag) = s.post(Some(&ta), "/api/v1/tags", json!({"name": "VIP"})).await;
    let (st, c) = s.put(Some(&tg), &format!("{cp}/tags"), json!({"tag_ids": [id_of(&tag)]})).await;
    assert_eq!((st, c["tag_ids"].clone()), (200, json!([id_of(&tag)])));
    let (st, body) = s.put(Some(&tg), &format!("{cp}/tags"), json!({"tag_ids": [987654]})).await;
    assert_eq!((st, code(&body)), (422, "invalid_tag"));
    let (st, c) = s.post(Some(&tg), &format!("{cp}/block"), json!({})).await;
    assert_eq!((st, c["blocked"].as_bool()), (200, Some(true)));
    let (st, body) =
        s.post(Some(&tg), &format!("/api/v1/conversations/{}/messages", conv.id), json!({"text": "hola"})).await;
    assert_eq!((st, code(&body)), (422, "contact_blocked"));
    // What a blocked contact sends is kept hidden, for admins.
    s.inbound(ch.id, "ext-1", "María Pérez", None, "¿hay alguien?").await;
    let (st, hidden) = s.get(Some(&ta), &format!("{cp}/hidden-messages")).await;
    assert_eq!(st, 200, "{hidden}");
    assert!(hidden.as_array().is_some_and(|l| l.iter().any(|m| m["text"] == "¿hay alguien?")), "{hidden}");
    let (_, history) = s.get(Some(&ta), &format!("/api/v1/conversations/{}/messages", conv.id)).await;
    assert!(history["items"].as_array().is_some_and(|l| l.iter().all(|m| m["text"] != "¿hay alguien?")));
    let (st, body) = s.get(Some(&tg), &format!("{cp}/hidden-messages")).await;
    assert_eq!((st, code(&body)), (403, "forbidden"));
    let (st, c) = s.post(Some(&tg), &format!("{cp}/unblock"), json!({})).await;
    assert_eq!((st, c["blocked"].as_bool()), (200, Some(false)));

    // Conversations of the contact.
    let (st, list) = s.get(Some(&tg), &format!("{cp}/conversations")).await;
    assert_eq!((st, list[0]["id"].as_i64()), (200, Some(conv.id)));

    // A contact created by hand: visible to managers, not to agents until it has a
    // conversation they see.
    let (st, c) = s.post(Some(&tg), "/api/v1/contacts", json!({"name": "Juan", "phone": "+1 555 0100"})).await;
    assert_eq!(st, 201);
    let (st, _) = s.get(Some(&tm), &format!("/api/v1/contacts/{}", id_of(&c))).await;
    assert_eq!(st, 200);
    let (st, _) = s.get(Some(&tg), &format!("/api/v1/contacts/{}", id_of(&c))).await;
    assert_eq!(st, 404);
}
