//! The inbox list, messages and the actions on a conversation.

mod common;

use charla_core::{Flag, Role};
use common::*;
use serde_json::{Value, json};

both!(
    inbox_sections_counts_filters_search,
    sending_messages,
    reassignment_and_visibility,
    actions_and_drafts,
    detach_contact_two_steps,
    deleting_conversations
);

fn ids(page: &Value) -> Vec<i64> {
    let mut v: Vec<i64> =
        page["items"].as_array().map(|a| a.iter().filter_map(|c| c["id"].as_i64()).collect()).unwrap_or_default();
    v.sort_unstable();
    v
}

async fn inbox_sections_counts_filters_search(s: &TestServer) {
    let ws = s.workspace("Acme").await;
    let admin = s.user(ws.id, "Admin", Role::Admin, &[]).await;
    let a = s.user(ws.id, "Ana", Role::Agent, &[]).await;
    let b = s.user(ws.id, "Bea", Role::Agent, &[]).await;
    let (ta, tg) = (s.token(&admin), s.token(&a));
    let ch1 = s.channel(ws.id, "Web", &[a.id, b.id]).await;
    let ch2 = s.channel(ws.id, "Other", &[]).await;

    let c1 = s.inbound(ch1.id, "e1", "Carla Gómez", Some("+1 (555) 234-4567"), "necesito ayuda").await.conversation;
    let c2 = s.inbound(ch1.id, "e2", "Diego", None, "hola").await.conversation;
    let c3 = s.inbound(ch1.id, "e3", "Elena", None, "buenas").await.conversation;
    let c4 = s.inbound(ch2.id, "e4", "Fede", None, "factura pendiente").await.conversation;
    s.assign(ws.id, c2.id, admin.id, Some(a.id)).await;
    s.assign(ws.id, c3.id, admin.id, Some(b.id)).await;

    // The agent's view.
    let (st, page) = s.get(Some(&tg), "/api/v1/conversations?section=mine").await;
    assert_eq!(st, 200, "{page}");
    assert_eq!(ids(&page), vec![c2.id]);
    assert_eq!(page["counts"], json!({"mine": 1, "unassigned": 1, "all": 2, "teammates": 0}));
    let (_, page) = s.get(Some(&tg), "/api/v1/conversations?section=unassigned").await;
    assert_eq!(ids(&page), vec![c1.id]);
    let (_, page) = s.get(Some(&tg), "/api/v1/conversations").await;
    assert_eq!(ids(&page), vec![c1.id, c2.id], "not another's, not outside the agent's channels");
    let (_, page) = s.get(Some(&tg), "/api/v1/conversations?section=teammates").await;
    assert_eq!(ids(&page), Vec::<i64>::new());

    // The admin's view.
    let (_, page) = s.get(Some(&ta), "/api/v1/conversations?section=all").await;
    assert_eq!(ids(&page), vec![c1.id, c2.id, c3.id, c4.id]);
    assert_eq!(page["counts"], json!({"mine": 0, "unassigned": 2, "all": 4, "teammates": 2}));
    let (_, page) = s.get(Some(&ta), "/api/v1/conversations?section=teammates").await;
    assert_eq!(ids(&page), vec![c2.id, c3.id]);

    // Item shape.
    let (_, page) = s.get(Some(&ta), &format!("/api/v1/conversations?contact_id={}", c1.contact_id.unwrap_or(0))).await;
    let item = &page["items"][0];
    assert_eq!(item["id"], c1.id);
    assert_eq!(item["status"], "open");
    assert_eq!(item["channel_id"], ch1.id);
    assert_eq!(item["assignee_id"], Value::Null);
    assert_eq!(item["contact"]["name"], "Carla Gómez");
    assert_eq!(item["unanswered"], true);
    assert_eq!(item["last_message"]["preview"], "necesito ayuda");
    assert_eq!(item["last_message"]["author_type"], "contact");
    assert!(item["last_activity_at"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert!(item["unread_count"].as_i64().is_some());

    // Filters.
    let (_, page) = s.get(Some(&ta), &format!("/api/v1/conversations?channel_id={}", ch2.id)).await;
    assert_eq!(ids(&page), vec![c4.id]);
    let (_, page) = s.get(Some(&ta), &format!("/api/v1/conversations?assignee_id={}", b.id)).await;
    assert_eq!(ids(&page), vec![c3.id]);
    let (st, _) = s.post(Some(&ta), &format!("/api/v1/conversations/{}/close", c4.id), json!({})).await;
    assert_eq!(st, 200);
    let (_, page) = s.get(Some(&ta), "/api/v1/conversations?status=closed").await;
    assert_eq!(ids(&page), vec![c4.id]);
    let (_, page) = s.get(Some(&ta), "/api/v1/conversations?status=open&last_author=contact").await;
    assert_eq!(ids(&page), vec![c1.id, c2.id, c3.id]);
    let (st, _) =
        s.post(Some(&ta), &format!("/api/v1/conversations/{}/messages", c2.id), json!({"text": "te ayudo"})).await;
    assert_eq!(st, 201);
    let (_, page) = s.get(Some(&ta), "/api/v1/conversations?last_author=operator").await;
    assert_eq!(ids(&page), vec![c2.id]);
    let (_, page) = s.get(Some(&ta), "/api/v1/conversations?unanswered=true&status=open").await;
    assert_eq!(ids(&page), vec![c1.id, c3.id]);
    let (_, page) = s.get(Some(&ta), "/api/v1/conversations?from=2000-01-01T00:00:00Z&to=2001-01-01T00:00:00Z").await;
    assert_eq!(ids(&page), Vec::<i64>::new());

    // Tags: all of the chosen, none, pinned.
    let (_, vip) = s.post(Some(&ta), "/api/v1/tags", json!({"name": "VIP", "pinned": true})).await;
    let (_, late) = s.post(Some(&ta), "/api/v1/tags", json!({"name": "Late"})).await;
    let (vip, late) = (id_of(&vip), id_of(&late));
    let tag = |cid: Option<i64>, tags: Value| {
        let path = format!("/api/v1/contacts/{}/tags", cid.unwrap_or(0));
        let t = ta.clone();
        async move { s.put(Some(&t), &path, json!({"tag_ids": tags})).await }
    };
    assert_eq!(tag(c1.contact_id, json!([vip, late])).await.0, 200);
    assert_eq!(tag(c2.contact_id, json!([late])).await.0, 200);
    let (_, page) = s.get(Some(&ta), &format!("/api/v1/conversations?tag={vip}&tag={late}")).await;
    assert_eq!(ids(&page), vec![c1.id]);
    let (_, page) = s.get(Some(&ta), &format!("/api/v1/conversations?tag={late}")).await;
    assert_eq!(ids(&page), vec![c1.id, c2.id]);
    let (_, page) = s.get(Some(&ta), "/api/v1/conversations?tag=none").await;
    assert_eq!(ids(&page), vec![c3.id, c4.id]);
    let (_, page) = s.get(Some(&ta), "/api/v1/conversations?tag=pinned").await;
    assert_eq!(ids(&page), vec![c1.id]);

    // Search: from 4 characters; phone digits whatever the formatting; message text.
    let (st, body) = s.get(Some(&ta), "/api/v1/conversations?q=abc").await;
    assert_eq!((st, code(&body)), (422, "query_too_short"));
    let (_, page) = s.get(Some(&ta), "/api/v1/conversations?q=4567").await;
    assert_eq!(ids(&page), vec![c1.id]);
    let (_, page) = s.get(Some(&ta), "/api/v1/conversations?q=carla").await;
    assert_eq!(ids(&page), vec![c1.id]);
    let (_, page) = s.get(Some(&ta), "/api/v1/conversations?q=factura").await;
    assert_eq!(ids(&page), vec![c4.id]);
    let (_, page) = s.get(Some(&tg), "/api/v1/conversations?q=factura").await;
    assert_eq!(ids(&page), Vec::<i64>::new(), "search never widens visibility");

    // Paging.
    let (_, first) = s.get(Some(&ta), "/api/v1/conversations?limit=2&sort=last_activity").await;
    assert_eq!(first["items"].as_array().map(|a| a.len()), Some(2));
    let cursor = first["next_cursor"].as_str().unwrap_or_else(|| panic!("cursor in {first}")).to_string();
    let (st, second) = s
        .client
        .get(s.url("/api/v1/conversations"))
        .query(&[("limit", "2"), ("sort", "last_activity"), ("cursor", cursor.as_str())])
        .bearer_auth(&ta)
        .send()
        .await
        .map(|r| async move { read(r).await })
        .unwrap_or_else(|e| panic!("{e}"))
        .await;
    assert_eq!(st, 200);
    let mut all = ids(&first);
    all.extend(ids(&second));
    all.sort_unstable();
    assert_eq!(all, vec![c1.id, c2.id, c3.id, c4.id]);

    // The header's counter.
    let (st, n) = s.get(Some(&tg), "/api/v1/unread-count").await;
    assert_eq!(st, 200);
    assert!(n["conversations"].as_i64().is_some_and(|n| n >= 1), "{n}");
}

async fn sending_messages(s: &TestServer) {
    let ws = s.workspace("Acme").await;
    let agent = s.user(ws.id, "Ana", Role::Agent, &[]).await;
    let t = s.token(&agent);
    // Display name shown to the customer.
    let (st, _) =
        s.patch(Some(&t), &format!("/api/v1/users/{}", agent.id), json!({"display_name": "Soporte Ana"})).await;
    assert_eq!(st, 200);
    let ch = s.channel(ws.id, "Web", &[agent.id]).await;
    let conv = s.inbound(ch.id, "e1", "Carla", None, "hola").await.conversation;
    let mp = format!("/api/v1/conversations/{}/messages", conv.id);

    let (st, m) = s.post(Some(&t), &mp, json!({"text": "¿En qué te ayudo?", "client_msg_id": "k-1"})).await;
    assert_eq!(st, 201, "{m}");
    assert_eq!(m["conversation_id"], conv.id);
    assert_eq!(m["kind"], "outbound");
    assert_eq!(m["status"], "queued");
    assert_eq!(m["author"], json!({"type": "user", "id": agent.id, "name": "Soporte Ana"}));
    assert_eq!(m["client_msg_id"], "k-1");
    assert_eq!(m["attachments"], json!([]));
    assert!(m["created_at"].as_str().is_some_and(|t| t.ends_with('Z')));

    // Same client_msg_id: the same message, one row.
    let (st, again) = s.post(Some(&t), &mp, json!({"text": "¿En qué te ayudo?", "client_msg_id": "k-1"})).await;
    assert!(st == 200 || st == 201);
    assert_eq!(again["id"], m["id"]);
    let (_, history) = s.get(Some(&t), &mp).await;
    let count = |h: &Value, kind: &str| h["items"].as_array().map(|a| a.iter().filter(|m| m["kind"] == kind).count());
    assert_eq!(count(&history, "outbound"), Some(1));
    assert_eq!(history["items"][0]["id"], m["id"], "newest first");

    // Over the limit: 422 naming the limit, nothing stored. Spaces do not count.
    let ok = format!("{} {}", "a".repeat(1000), "b".repeat(1000));
    let (st, _) = s.post(Some(&t), &mp, json!({"text": ok})).await;
    assert_eq!(st, 201);
    let (st, body) = s.post(Some(&t), &mp, json!({"text": "x".repeat(2001)})).await;
    assert_eq!((st, code(&body)), (422, "message_too_long"));
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("2000")), "{body}");
    let (_, history) = s.get(Some(&t), &mp).await;
    assert_eq!(count(&history, "outbound"), Some(2));

    // Notes, bad kinds, empty text, foreign reply_to.
    let (st, note) = s.post(Some(&t), &mp, json!({"text": "cliente VIP", "kind": "note"})).await;
    assert_eq!((st, note["kind"].as_str()), (201, Some("note")));
    let (st, body) = s.post(Some(&t), &mp, json!({"text": "x", "kind": "event"})).await;
    assert_eq!((st, code(&body)), (422, "invalid_kind"));
    let (st, body) = s.post(Some(&t), &mp, json!({"text": "   "})).await;
    assert_eq!((st, code(&body)), (422, "empty_message"));
    let other = s.inbound(ch.id, "e2", "Otro", None, "hey").await;
    let (st, body) = s.post(Some(&t), &mp, json!({"text": "x", "reply_to": other.message.id})).await;
    assert_eq!((st, code(&body)), (422, "invalid_reply_to"));
    let (st, quoted) = s.post(Some(&t), &mp, json!({"text": "x", "reply_to": m["id"]})).await;
    assert_eq!((st, quoted["reply_to"].clone()), (201, m["id"].clone()));

    // History paging.
    let (_, page) = s.get(Some(&t), &format!("{mp}?limit=2")).await;
    assert_eq!(page["items"].as_array().map(|a| a.len()), Some(2));
    let before = page["next_before"].as_i64().unwrap_or_else(|| panic!("next_before in {page}"));
    let (_, older) = s.get(Some(&t), &format!("{mp}?limit=50&before={before}")).await;
    assert!(older["items"].as_array().is_some_and(|a| a.iter().all(|m| m["id"].as_i64() < Some(before))));

    // Malformed JSON.
    let resp = s
        .client
        .post(s.url(&mp))
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body("{\"text\": \"unterminated")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (st, body) = read(resp).await;
    assert_eq!((st, code(&body)), (400, "invalid_json"));
}

async fn reassignment_and_visibility(s: &TestServer) {
    let ws = s.workspace("Acme").await;
    let admin = s.user(ws.id, "Admin", Role::Admin, &[]).await;
    let a = s.user(ws.id, "Ana", Role::Agent, &[]).await;
    let b = s.user(ws.id, "Bea", Role::Agent, &[Flag::SeeAllConversations]).await;
    let c = s.user(ws.id, "Cris", Role::Agent, &[]).await;
    let (ta, tga, tgb, tgc) = (s.token(&admin), s.token(&a), s.token(&b), s.token(&c));
    let ch = s.channel(ws.id, "Web", &[a.id, b.id, c.id]).await;
    let conv = s.inbound(ch.id, "e1", "Carla", None, "hola").await.conversation;
    let cp = format!("/api/v1/conversations/{}", conv.id);

    // Unassigned: anyone who sees it may take it.
    let (st, taken) = s.post(Some(&tga), &format!("{cp}/assign"), json!({"user_id": a.id})).await;
    assert_eq!((st, taken["assignee_id"].as_i64()), (200, Some(a.id)), "{taken}");

    // A non-assignee who sees it (see_all) may not reassign: 403. One who does not see it: 404.
    let (st, body) = s.post(Some(&tgb), &format!("{cp}/assign"), json!({"user_id": b.id})).await;
    assert_eq!((st, code(&body)), (403, "forbidden"));
    let (st, _) = s.post(Some(&tgc), &format!("{cp}/assign"), json!({"user_id": c.id})).await;
    assert_eq!(st, 404);
    let (st, _) = s.get(Some(&tgc), &cp).await;
    assert_eq!(st, 404);

    // Assignee to someone else; invalid targets refused.
    let (st, body) = s.post(Some(&tga), &format!("{cp}/assign"), json!({"user_id": 987654})).await;
    assert_eq!((st, code(&body)), (422, "invalid_user"));
    let (st, moved) = s.post(Some(&tga), &format!("{cp}/assign"), json!({"user_id": c.id})).await;
    assert_eq!((st, moved["assignee_id"].as_i64()), (200, Some(c.id)));

    // The previous assignee no longer sees it, its history, nor can write.
    let (st, _) = s.get(Some(&tga), &cp).await;
    assert_eq!(st, 404);
    let (st, _) = s.get(Some(&tga), &format!("{cp}/messages")).await;
    assert_eq!(st, 404);
    let (st, _) = s.post(Some(&tga), &format!("{cp}/messages"), json!({"text": "sigo aquí"})).await;
    assert_eq!(st, 404);
    let (st, _) = s.get(Some(&tgc), &format!("{cp}/messages")).await;
    assert_eq!(st, 200);

    // Reassignment on an open attention opens a new one.
    let (st, att) = s.get(Some(&ta), &format!("{cp}/attentions")).await;
    assert_eq!(st, 200);
    assert!(att.as_array().is_some_and(|a| a.len() >= 2), "{att}");

    // Admins reassign anything.
    let (st, back) = s.post(Some(&ta), &format!("{cp}/assign"), json!({"user_id": a.id})).await;
    assert_eq!((st, back["assignee_id"].as_i64()), (200, Some(a.id)));
    let (st, _) = s.get(Some(&tgc), &cp).await;
    assert_eq!(st, 404);
}

async fn actions_and_drafts(s: &TestServer) {
    let ws = s.workspace("Acme").await;
    let admin = s.user(ws.id, "Admin", Role::Admin, &[]).await;
    let agent = s.user(ws.id, "Ana", Role::Agent, &[]).await;
    let (ta, tg) = (s.token(&admin), s.token(&agent));
    let ch = s.channel(ws.id, "Web", &[agent.id]).await;
    let conv = s.inbound(ch.id, "e1", "Carla", None, "hola").await.conversation;
    let cp = format!("/api/v1/conversations/{}", conv.id);

    // Close reasons come from the workspace's list once it has one.
    let (_, _) = s.post(Some(&ta), "/api/v1/close-reasons", json!({"name": "Resuelto"})).await;
    let (st, body) = s.post(Some(&tg), &format!("{cp}/close"), json!({"reason": "porque sí"})).await;
    assert_eq!((st, code(&body)), (422, "invalid_close_reason"));
    let (st, closed) = s.post(Some(&tg), &format!("{cp}/close"), json!({"reason": "resuelto"})).await;
    assert_eq!((st, closed["status"].as_str()), (200, Some("closed")), "{closed}");
    let (_, att) = s.get(Some(&tg), &format!("{cp}/attentions")).await;
    assert!(att.as_array().is_some_and(|a| a.iter().any(|x| x["close_reason"] == "Resuelto")), "{att}");
    // Close without a body at all.
    let (st, reopened) = s.post(Some(&tg), &format!("{cp}/reopen"), json!({})).await;
    assert_eq!((st, reopened["status"].as_str()), (200, Some("open")));
    let resp =
        s.client.post(s.url(&format!("{cp}/close"))).bearer_auth(&tg).send().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status().as_u16(), 200);
    s.post(Some(&tg), &format!("{cp}/reopen"), json!({})).await;

    // Snooze.
    let (st, body) = s.post(Some(&tg), &format!("{cp}/snooze"), json!({"until": "2001-01-01T00:00:00Z"})).await;
    assert_eq!((st, code(&body)), (422, "invalid_until"));
    let (st, body) = s.post(Some(&tg), &format!("{cp}/snooze"), json!({"until": "tomorrow"})).await;
    assert_eq!((st, code(&body)), (422, "invalid_until"));
    let (st, snoozed) = s.post(Some(&tg), &format!("{cp}/snooze"), json!({"until": "2100-01-01T09:00:00+02:00"})).await;
    assert_eq!(st, 200, "{snoozed}");
    assert_eq!(snoozed["status"], "snoozed");
    assert_eq!(snoozed["snoozed_until"], "2100-01-01T07:00:00.000Z");
    s.post(Some(&tg), &format!("{cp}/reopen"), json!({})).await;

    // Read / unread (per user) and no-reply-needed.
    let (st, r) = s.post(Some(&tg), &format!("{cp}/read"), json!({})).await;
    assert_eq!((st, r["unread_count"].as_i64(), r["marked_unread"].as_bool()), (200, Some(0), Some(false)));
    let (st, r) = s.post(Some(&tg), &format!("{cp}/unread"), json!({})).await;
    assert_eq!((st, r["marked_unread"].as_bool()), (200, Some(true)));
    let (_, for_admin) = s.get(Some(&ta), &cp).await;
    assert_eq!(for_admin["marked_unread"], false, "the mark is per user");
    let (st, r) = s.post(Some(&tg), &format!("{cp}/no-reply-needed"), json!({})).await;
    assert_eq!((st, r["unanswered"].as_bool(), r["no_reply_needed"].as_bool()), (200, Some(false), Some(true)));

    // Drafts round trip, per user.
    let (st, d) = s.get(Some(&tg), &format!("{cp}/draft")).await;
    assert_eq!((st, d["text"].as_str()), (200, Some("")));
    let (st, d) = s.put(Some(&tg), &format!("{cp}/draft"), json!({"text": "Hola Carla, "})).await;
    assert_eq!((st, d["text"].as_str()), (200, Some("Hola Carla, ")));
    let (_, d) = s.get(Some(&tg), &format!("{cp}/draft")).await;
    assert_eq!(d["text"], "Hola Carla, ");
    let (_, conv_view) = s.get(Some(&tg), &cp).await;
    assert_eq!(conv_view["draft"], "Hola Carla, ");
    let (_, d) = s.get(Some(&ta), &format!("{cp}/draft")).await;
    assert_eq!(d["text"], "", "drafts are per user");

    // Notifications list answers for everyone.
    let (st, list) = s.get(Some(&tg), "/api/v1/notifications?unread_only=true").await;
    assert_eq!(st, 200);
    assert!(list.is_array());
    if let Some(n) = list.as_array().and_then(|l| l.first()) {
        let (st, _) = s.post(Some(&tg), &format!("/api/v1/notifications/{}/read", id_of(n)), json!({})).await;
        assert_eq!(st, 204);
        let (st, _) = s.post(Some(&ta), &format!("/api/v1/notifications/{}/read", id_of(n)), json!({})).await;
        assert_eq!(st, 404, "another user's notification");
    }
}

async fn detach_contact_two_steps(s: &TestServer) {
    let ws = s.workspace("Acme").await;
    let admin = s.user(ws.id, "Admin", Role::Admin, &[]).await;
    let agent = s.user(ws.id, "Ana", Role::Agent, &[]).await;
    let (ta, tg) = (s.token(&admin), s.token(&agent));
    let ch = s.channel(ws.id, "Web", &[agent.id]).await;
    let conv = s.inbound(ch.id, "e1", "Carla", None, "hola").await.conversation;
    let dp = format!("/api/v1/conversations/{}/detach-contact", conv.id);

    // First call (no body): a confirmation, nothing changed.
    let resp = s.client.post(s.url(&dp)).bearer_auth(&tg).send().await.unwrap_or_else(|e| panic!("{e}"));
    let (st, first) = read(resp).await;
    assert_eq!(st, 200, "{first}");
    assert_eq!(first["confirmation_required"], true);
    let token = first["confirm_token"].as_str().unwrap_or_default().to_string();
    assert!(!token.is_empty());
    assert!(first["expires_at"].as_str().is_some());
    let (_, still) = s.get(Some(&tg), &format!("/api/v1/conversations/{}", conv.id)).await;
    assert_eq!(still["contact"]["id"].as_i64(), conv.contact_id);

    // A token is bound to the user and must be right.
    let (st, body) = s.post(Some(&ta), &dp, json!({"confirm_token": token})).await;
    assert_eq!((st, code(&body)), (422, "invalid_confirm_token"));
    let (st, body) = s.post(Some(&tg), &dp, json!({"confirm_token": "123.abcd"})).await;
    assert_eq!((st, code(&body)), (422, "invalid_confirm_token"));

    // Second call acts.
    let (st, detached) = s.post(Some(&tg), &dp, json!({"confirm_token": token})).await;
    assert_eq!(st, 200, "{detached}");
    assert_eq!(detached["contact"], Value::Null);
    assert_eq!(detached["identity"]["external_id"], "e1");
    let (st, history) = s.get(Some(&ta), &format!("/api/v1/conversations/{}/messages", conv.id)).await;
    assert_eq!(st, 200);
    assert!(history["items"].as_array().is_some_and(|a| !a.is_empty()), "history stays");
    let (st, body) = s.post(Some(&tg), &dp, json!({})).await;
    assert_eq!((st, code(&body)), (422, "no_contact"));
}

async fn deleting_conversations(s: &TestServer) {
    let ws = s.workspace("Acme").await;
    let admin = s.user(ws.id, "Admin", Role::Admin, &[]).await;
    let agent = s.user(ws.id, "Ana", Role::Agent, &[]).await;
    let deleter = s.user(ws.id, "Dora", Role::Agent, &[Flag::DeleteConversations]).await;
    let (ta, tg, td) = (s.token(&admin), s.token(&agent), s.token(&deleter));
    let ch = s.channel(ws.id, "Web", &[agent.id, deleter.id]).await;
    let hidden = s.channel(ws.id, "Hidden", &[]).await;
    let c1 = s.inbound(ch.id, "e1", "Uno", None, "1").await.conversation;
    let c2 = s.inbound(ch.id, "e2", "Dos", None, "2").await.conversation;
    let c3 = s.inbound(hidden.id, "e3", "Tres", None, "3").await.conversation;
    let c4 = s.inbound(ch.id, "e4", "Cuatro", None, "4").await.conversation;

    // An attachment sent in c1: deleting removes the file.
    let png = include_bytes!("fixtures/pixel.png");
    let (st, att) = s.upload(Some(&tg), "pixel.png", "image/png", png).await;
    assert_eq!(st, 201, "{att}");
    let (st, _) = s
        .post(
            Some(&tg),
            &format!("/api/v1/conversations/{}/messages", c1.id),
            json!({"text": "foto", "attachment_ids": [id_of(&att)]}),
        )
        .await;
    assert_eq!(st, 201);
    let files_dir = s.dir.path().join("files");
    let count_files = || std::fs::read_dir(&files_dir).map(|d| d.count()).unwrap_or(0);
    assert_eq!(count_files(), 1);

    // Without the right: 403 on what one sees.
    let (st, body) = s.delete(Some(&tg), &format!("/api/v1/conversations/{}", c1.id)).await;
    assert_eq!((st, code(&body)), (403, "forbidden"));
    let (st, _) = s.post(Some(&tg), "/api/v1/conversations/bulk-delete", json!({"ids": [c1.id, c2.id]})).await;
    assert_eq!(st, 403);

    // With the right, but one id not visible: 404 and nothing deleted.
    let (st, _) = s.post(Some(&td), "/api/v1/conversations/bulk-delete", json!({"ids": [c1.id, c3.id]})).await;
    assert_eq!(st, 404);
    let (st, _) = s.get(Some(&ta), &format!("/api/v1/conversations/{}", c1.id)).await;
    assert_eq!(st, 200);
    let (st, body) = s.post(Some(&td), "/api/v1/conversations/bulk-delete", json!({"ids": []})).await;
    assert_eq!((st, code(&body)), (422, "invalid_ids"));

    let (st, body) = s.post(Some(&td), "/api/v1/conversations/bulk-delete", json!({"ids": [c1.id, c2.id]})).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["deleted"], json!([c1.id, c2.id]));
    for c in [c1.id, c2.id] {
        let (st, _) = s.get(Some(&ta), &format!("/api/v1/conversations/{c}")).await;
        assert_eq!(st, 404);
    }
    assert_eq!(count_files(), 0, "files deleted with their conversation");
    let (st, _) = s.get(Some(&ta), &format!("/api/v1/attachments/{}/download", id_of(&att))).await;
    assert_eq!(st, 404);

    let (st, _) = s.delete(Some(&ta), &format!("/api/v1/conversations/{}", c3.id)).await;
    assert_eq!(st, 204);
    let (st, _) = s.delete(Some(&td), &format!("/api/v1/conversations/{}", c4.id)).await;
    assert_eq!(st, 204);
}
