//! Workspaces, users, presence, teams, channels, contacts, tags, close reasons, canned
//! responses, attachments, notifications.

use charla_core::presence::IDLE_OFFLINE_MS;
use charla_core::search;
use charla_core::*;
use charla_store::*;
use std::sync::Arc;

pub fn new_user(workspace_id: Id, email: &str, role: Role) -> NewUser {
    NewUser {
        workspace_id,
        email: email.to_string(),
        name: email.split('@').next().unwrap_or(email).to_string(),
        display_name: String::new(),
        password_hash: "hash".into(),
        role,
        flags: Flags::default(),
        language: Language::En,
    }
}

pub fn new_channel(workspace_id: Id, name: &str) -> NewChannel {
    NewChannel {
        workspace_id,
        kind: ChannelKind::Api,
        name: name.to_string(),
        secret: format!("secret-of-{name}"),
        webhook_url: Some("http://127.0.0.1:9/hook".into()),
        routing_mode: RoutingMode::Manual,
        max_message_length: ChannelKind::Api.default_max_message_length(),
        auto_close_after_secs: None,
        response_time_limit_secs: 900,
        greeting: None,
        settings: "{}".into(),
    }
}

fn now_ms() -> Millis {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

fn term(q: &str) -> ContactQuery {
    ContactQuery { search: Some(search::parse(q).expect("search term")), after_id: None, limit: 50 }
}

async fn found_names(store: &Arc<dyn Store>, ws: Id, q: &str) -> Vec<String> {
    store.list_contacts(ws, term(q)).await.expect("list contacts").into_iter().map(|c| c.name).collect()
}

fn assert_not_found<T: std::fmt::Debug>(r: StoreResult<T>) {
    assert!(matches!(r, Err(StoreError::NotFound)), "expected NotFound, got {r:?}");
}

fn assert_invalid<T: std::fmt::Debug>(r: StoreResult<T>, code: &str) {
    assert!(matches!(&r, Err(StoreError::Invalid(c, _)) if *c == code), "expected Invalid({code}), got {r:?}");
}

fn assert_conflict<T: std::fmt::Debug>(r: StoreResult<T>, code: &str) {
    assert!(matches!(&r, Err(StoreError::Conflict(c)) if c == code), "expected Conflict({code}), got {r:?}");
}

async fn workspaces_and_server_secret(store: Arc<dyn Store>) {
    assert_eq!(store.first_workspace().await.expect("first"), None);
    let a = store.create_workspace("Acme").await.expect("ws");
    let b = store.create_workspace("Globex").await.expect("ws");
    assert_ne!(a.id, b.id);
    assert_eq!(store.first_workspace().await.expect("first"), Some(a));

    let secret = store.server_secret().await.expect("secret");
    assert_eq!(secret.len(), 32);
    assert_eq!(store.server_secret().await.expect("secret"), secret, "created once");
}

async fn users_emails_are_unique_and_case_insensitive(store: Arc<dyn Store>) {
    let ws = store.create_workspace("Acme").await.expect("ws").id;
    let other = store.create_workspace("Globex").await.expect("ws").id;
    let ana = store.create_user(new_user(ws, "  Ana@Example.COM ", Role::Admin)).await.expect("user");
    assert_eq!(ana.email, "ana@example.com");
    assert_eq!(ana.presence, Presence::Offline);
    assert!(ana.active);

    assert_conflict(store.create_user(new_user(ws, "ANA@example.com", Role::Agent)).await, "email_taken");
    // Unique across the server: login names the e-mail only.
    assert_conflict(store.create_user(new_user(other, "ana@EXAMPLE.com", Role::Agent)).await, "email_taken");
    assert_invalid(store.create_user(new_user(ws, "  ", Role::Agent)).await, "invalid_email");
    assert_not_found(store.create_user(new_user(ws + other + 100, "x@example.com", Role::Agent)).await);

    let (found, hash) = store.find_user_by_email(" ANA@EXAMPLE.COM").await.expect("find").expect("some");
    assert_eq!((found.id, hash.as_str()), (ana.id, "hash"));
    assert!(store.find_user_by_email("nobody@example.com").await.expect("find").is_none());

    assert_eq!(store.get_user(ws, ana.id).await.expect("get"), ana);
    assert_not_found(store.get_user(other, ana.id).await);

    let bob = store.create_user(new_user(other, "bob@example.com", Role::Agent)).await.expect("user");
    let list = store.list_users(ws).await.expect("list");
    assert_eq!(list.iter().map(|u| u.id).collect::<Vec<_>>(), vec![ana.id]);
    assert_eq!(store.list_users(other).await.expect("list").len(), 1);
    assert_not_found(store.get_user(ws, bob.id).await);
}

async fn update_user_round_trips_and_emits(store: Arc<dyn Store>) {
    let ws = store.create_workspace("Acme").await.expect("ws").id;
    let other = store.create_workspace("Globex").await.expect("ws").id;
    let u = store.create_user(new_user(ws, "agent@example.com", Role::Agent)).await.expect("user");
    let flags = Flags::from_list(&[Flag::SeeAllConversations, Flag::SeeGroupChats]);
    let patch = UserPatch {
        name: Some("Agent Smith".into()),
        display_name: Some("Smith".into()),
        role: Some(Role::Admin),
        flags: Some(flags),
        language: Some(Language::Es),
        max_concurrent: Some(3),
        active: None,
        password_hash: Some("new-hash".into()),
    };
    assert_not_found(store.update_user(other, u.id, patch.clone()).await);
    let w = store.update_user(ws, u.id, patch).await.expect("update");
    let updated = w.value;
    assert_eq!(updated.name, "Agent Smith");
    assert_eq!(updated.shown_name(), "Smith");
    assert_eq!(updated.role, Role::Admin);
    assert_eq!(updated.flags.to_list(), vec![Flag::SeeAllConversations, Flag::SeeGroupChats]);
    assert_eq!(updated.language, Language::Es);
    assert_eq!(updated.max_concurrent, 3);
    assert_eq!(store.get_user(ws, u.id).await.expect("get"), updated);
    let (_, hash) = store.find_user_by_email("agent@example.com").await.expect("find").expect("some");
    assert_eq!(hash, "new-hash");

    assert_eq!(w.events.len(), 1);
    let e = &w.events[0];
    assert_eq!((e.kind.as_str(), e.workspace_id, e.access, e.user_id), ("user.updated", ws, None, None));
    let payload: User = serde_json::from_value(e.payload.clone()).expect("user payload");
    assert_eq!(payload, updated);
    // The returned events are the logged ones.
    assert_eq!(store.events_since(ws, 0, 100).await.expect("events"), w.events);

    // Partial patches leave the rest alone.
    let w = store.update_user(ws, u.id, UserPatch { active: Some(false), ..Default::default() }).await.expect("update");
    assert!(!w.value.active);
    assert_eq!(w.value.name, "Agent Smith");
    assert_invalid(
        store.update_user(ws, u.id, UserPatch { max_concurrent: Some(-1), ..Default::default() }).await,
        "invalid_max_concurrent",
    );
}

async fn viewer_has_memberships(store: Arc<dyn Store>) {
    let ws = store.create_workspace("Acme").await.expect("ws").id;
    let other = store.create_workspace("Globex").await.expect("ws").id;
    let mut nu = new_user(ws, "agent@example.com", Role::Agent);
    nu.flags = Flags::from_list(&[Flag::DeleteConversations]);
    let u = store.create_user(nu).await.expect("user");
    let c1 = store.create_channel(new_channel(ws, "one")).await.expect("channel");
    let c2 = store.create_channel(new_channel(ws, "two")).await.expect("channel");
    let c3 = store.create_channel(new_channel(ws, "three")).await.expect("channel");
    for c in [&c1, &c2, &c3] {
        store.set_channel_members(ws, c.id, &[u.id]).await.expect("members");
    }
    store.delete_channel(ws, c2.id).await.expect("delete");
    let t = store.create_team(ws, "Support", &[u.id]).await.expect("team").value;
    store.create_team(ws, "Sales", &[]).await.expect("team");

    let v = store.viewer(ws, u.id).await.expect("viewer");
    assert_eq!(v.user_id, u.id);
    assert_eq!(v.workspace_id, ws);
    assert_eq!(v.role, Role::Agent);
    assert!(v.flags.has(Flag::DeleteConversations));
    assert_eq!(v.channel_ids, vec![c1.id, c3.id], "deleted channels give no rights");
    assert_eq!(v.team_ids, vec![t.id]);
    assert_eq!(v.allowed_contact_ids, None);

    // What an authenticated request reads: the same viewer and the user's row, in one.
    let (user, sv) = store.session_user(ws, u.id).await.expect("session user");
    assert_eq!(sv, v);
    assert_eq!(user, store.get_user(ws, u.id).await.expect("user"));
    assert_eq!((user.id, user.email.as_str(), user.role), (u.id, "agent@example.com", Role::Agent));

    assert_not_found(store.viewer(other, u.id).await);
    assert_not_found(store.session_user(other, u.id).await.map(|_| ()));
    store.update_user(ws, u.id, UserPatch { active: Some(false), ..Default::default() }).await.expect("deactivate");
    assert_not_found(store.viewer(ws, u.id).await);
    assert_not_found(store.session_user(ws, u.id).await.map(|_| ()));
}

async fn presence_touch_and_sweep(store: Arc<dyn Store>) {
    let ws = store.create_workspace("Acme").await.expect("ws").id;
    let a = store.create_user(new_user(ws, "a@example.com", Role::Agent)).await.expect("user");
    let b = store.create_user(new_user(ws, "b@example.com", Role::Agent)).await.expect("user");
    let t0 = now_ms();

    // Activity of an offline user makes them online.
    let w = store.touch_presence(a.id, None, t0).await.expect("touch");
    assert_eq!((w.value.presence, w.value.last_activity_at), (Presence::Online, Some(t0)));
    assert_eq!(w.events.len(), 1);
    assert_eq!(w.events[0].kind, "presence.updated");
    assert_eq!(w.events[0].user_id, None);
    let payload: User = serde_json::from_value(w.events[0].payload.clone()).expect("payload");
    assert_eq!((payload.id, payload.presence), (a.id, Presence::Online));
    assert_eq!(store.get_user(ws, a.id).await.expect("get").presence, Presence::Online);

    // Nothing changed within a minute: no write, no event.
    let w = store.touch_presence(a.id, None, t0 + 10_000).await.expect("touch");
    assert!(w.events.is_empty());
    assert_eq!(w.value.last_activity_at, Some(t0));
    let w = store.touch_presence(a.id, Some(Presence::Online), t0 + 20_000).await.expect("touch");
    assert!(w.events.is_empty());

    // A chosen presence is written and announced.
    let w = store.touch_presence(b.id, Some(Presence::Away), t0).await.expect("touch");
    assert_eq!(w.value.presence, Presence::Away);
    assert_eq!(w.events.len(), 1);
    // Activity keeps "away" (only offline turns online) and announces nothing.
    let w = store.touch_presence(b.id, None, t0 + 61_000).await.expect("touch");
    assert_eq!((w.value.presence, w.value.last_activity_at), (Presence::Away, Some(t0 + 61_000)));
    assert!(w.events.is_empty());

    // After 30 idle minutes the effective presence is offline...
    let later = t0 + IDLE_OFFLINE_MS;
    let w = store.touch_presence(a.id, Some(Presence::Online), later - 1).await.expect("touch");
    assert!(w.events.is_empty(), "still online one millisecond before");
    assert_eq!(store.sweep_presence(t0 + IDLE_OFFLINE_MS - 1).await.expect("sweep"), vec![]);
    // ...and the sweep stores it and tells everyone, once.
    let events = store.sweep_presence(later + 61_000).await.expect("sweep");
    assert_eq!(events.len(), 1, "only b has been idle 30 minutes: {events:?}");
    let payload: User = serde_json::from_value(events[0].payload.clone()).expect("payload");
    assert_eq!((payload.id, payload.presence), (b.id, Presence::Offline));
    assert!(store.sweep_presence(later + 62_000).await.expect("sweep").is_empty());
    assert_eq!(store.get_user(ws, b.id).await.expect("get").presence, Presence::Offline);

    let events = store.sweep_presence(later + IDLE_OFFLINE_MS).await.expect("sweep");
    assert_eq!(events.iter().map(|e| e.payload["id"].as_i64()).collect::<Vec<_>>(), vec![Some(a.id)]);

    // Coming back after the sweep: online again, announced.
    let w = store.touch_presence(b.id, None, later + IDLE_OFFLINE_MS + 5).await.expect("touch");
    assert_eq!(w.value.presence, Presence::Online);
    assert_eq!(w.events.len(), 1);
    // An idle user not swept yet who comes back is announced too.
    let w = store.touch_presence(b.id, None, later + 3 * IDLE_OFFLINE_MS).await.expect("touch");
    assert_eq!(w.value.presence, Presence::Online);
    assert_eq!(w.events.len(), 1);
    assert_not_found(store.touch_presence(a.id + b.id + 100, None, t0).await);
}

async fn teams_crud_with_members(store: Arc<dyn Store>) {
    let ws = store.create_workspace("Acme").await.expect("ws").id;
    let other = store.create_workspace("Globex").await.expect("ws").id;
    let u1 = store.create_user(new_user(ws, "u1@example.com", Role::Agent)).await.expect("user");
    let u2 = store.create_user(new_user(ws, "u2@example.com", Role::Agent)).await.expect("user");
    let stranger = store.create_user(new_user(other, "x@example.com", Role::Agent)).await.expect("user");

    let t = store.create_team(ws, "Support", &[u2.id, u1.id, u2.id]).await.expect("team").value;
    assert_eq!(t.name, "Support");
    assert_eq!(t.member_ids, vec![u1.id, u2.id]);
    assert_invalid(store.create_team(ws, "Bad", &[u1.id, stranger.id]).await, "invalid_user");
    assert_invalid(store.create_team(ws, "Bad", &[u1.id + u2.id + stranger.id + 100]).await, "invalid_user");

    let empty = store.create_team(ws, "Billing", &[]).await.expect("team").value;
    assert_eq!(store.list_teams(ws).await.expect("list"), vec![empty.clone(), t.clone()], "by name");
    assert!(store.list_teams(other).await.expect("list").is_empty());
    assert_eq!(store.get_team(ws, t.id).await.expect("get"), t);
    assert_not_found(store.get_team(other, t.id).await);

    let renamed = store.update_team(ws, t.id, Some("Care"), None).await.expect("update").value;
    assert_eq!((renamed.name.as_str(), renamed.member_ids.clone()), ("Care", vec![u1.id, u2.id]));
    let written = store.update_team(ws, t.id, None, Some(&[u2.id])).await.expect("update");
    // Connections reload their memberships on this event.
    assert_eq!(written.events.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(), vec!["team.updated"]);
    assert_eq!(written.events[0].payload["member_ids"], serde_json::json!([u2.id]));
    let moved = written.value;
    assert_eq!((moved.name.as_str(), moved.member_ids.clone()), ("Care", vec![u2.id]));
    assert_invalid(store.update_team(ws, t.id, None, Some(&[stranger.id])).await, "invalid_user");
    assert_not_found(store.update_team(other, t.id, Some("X"), None).await);
    assert_eq!(store.viewer(ws, u2.id).await.expect("viewer").team_ids, vec![t.id]);

    assert_not_found(store.delete_team(other, t.id).await);
    let deleted = store.delete_team(ws, t.id).await.expect("delete");
    assert_eq!(deleted.events[0].kind, "team.deleted");
    assert_not_found(store.get_team(ws, t.id).await);
    assert!(store.viewer(ws, u2.id).await.expect("viewer").team_ids.is_empty());
    assert_eq!(store.list_teams(ws).await.expect("list"), vec![empty]);
}

async fn channels_crud_members_and_soft_delete(store: Arc<dyn Store>) {
    let ws = store.create_workspace("Acme").await.expect("ws").id;
    let other = store.create_workspace("Globex").await.expect("ws").id;
    let u1 = store.create_user(new_user(ws, "u1@example.com", Role::Agent)).await.expect("user");
    let u2 = store.create_user(new_user(ws, "u2@example.com", Role::Agent)).await.expect("user");
    let stranger = store.create_user(new_user(other, "x@example.com", Role::Agent)).await.expect("user");

    let mut nc = new_channel(ws, "API");
    nc.settings = String::new();
    let ch = store.create_channel(nc).await.expect("channel");
    assert_eq!(ch.secret, "secret-of-API");
    assert_eq!(ch.settings, "{}");
    assert_eq!((ch.kind, ch.routing_mode, ch.max_message_length), (ChannelKind::Api, RoutingMode::Manual, 2000));
    assert!(ch.active);
    assert!(ch.member_ids.is_empty());
    let mut bad = new_channel(ws, "bad");
    bad.settings = "[1, 2]".into();
    assert_invalid(store.create_channel(bad).await, "invalid_settings");

    assert_eq!(store.get_channel(ws, ch.id).await.expect("get"), ch);
    assert_eq!(store.get_channel_by_id(ch.id).await.expect("by id"), ch);
    assert_not_found(store.get_channel(other, ch.id).await);
    assert_eq!(store.list_channels(ws).await.expect("list"), vec![ch.clone()]);
    assert!(store.list_channels(other).await.expect("list").is_empty());

    let patch = ChannelPatch {
        name: Some("API 2".into()),
        webhook_url: Some(None),
        routing_mode: Some(RoutingMode::Auto),
        auto_close_after_secs: Some(Some(3600)),
        greeting: Some(Some("Hi!".into())),
        settings: Some(r#"{"color":"red"}"#.into()),
        ..Default::default()
    };
    assert_not_found(store.update_channel(other, ch.id, patch.clone()).await);
    let w = store.update_channel(ws, ch.id, patch).await.expect("update");
    let updated = w.value;
    assert_eq!(updated.name, "API 2");
    assert_eq!(updated.webhook_url, None);
    assert_eq!(updated.routing_mode, RoutingMode::Auto);
    assert_eq!(updated.auto_close_after_secs, Some(3600));
    assert_eq!(updated.greeting.as_deref(), Some("Hi!"));
    assert_eq!(updated.settings, r#"{"color":"red"}"#);
    assert_eq!(updated.response_time_limit_secs, 900, "untouched");
    assert_eq!(updated.secret, "secret-of-API", "the caller gets the full record");
    assert_eq!(w.events.len(), 1);
    assert_eq!(w.events[0].kind, "channel.updated");
    let payload: Channel = serde_json::from_value(w.events[0].payload.clone()).expect("channel payload");
    assert_eq!(payload, Channel { secret: String::new(), ..updated.clone() });
    assert_invalid(
        store.update_channel(ws, ch.id, ChannelPatch { settings: Some("nope".into()), ..Default::default() }).await,
        "invalid_settings",
    );

    assert_invalid(store.set_channel_members(ws, ch.id, &[u1.id, stranger.id]).await, "invalid_user");
    assert_not_found(store.set_channel_members(other, ch.id, &[stranger.id]).await);
    let w = store.set_channel_members(ws, ch.id, &[u2.id, u1.id]).await.expect("members");
    assert_eq!(w.value.member_ids, vec![u1.id, u2.id]);
    assert_eq!(w.events[0].payload["secret"], "");
    assert_eq!(w.events[0].payload["member_ids"], serde_json::json!([u1.id, u2.id]));
    assert_eq!(store.get_channel(ws, ch.id).await.expect("get").member_ids, vec![u1.id, u2.id]);
    let w = store.set_channel_members(ws, ch.id, &[u2.id]).await.expect("members");
    assert_eq!(w.value.member_ids, vec![u2.id]);

    let rotated = store.set_channel_secret(ws, ch.id, "rotated").await.expect("rotate");
    assert_eq!(rotated.secret, "rotated");
    assert_eq!(store.get_channel_by_id(ch.id).await.expect("get").secret, "rotated");
    assert_not_found(store.set_channel_secret(other, ch.id, "x").await);

    // No event ever carries a secret.
    for e in store.events_since(ws, 0, 1000).await.expect("events") {
        let text = e.payload.to_string();
        assert!(!text.contains("secret-of-API") && !text.contains("rotated"), "{} leaks the secret: {text}", e.kind);
    }

    // Soft delete: gone from lists and webhooks, still there for old conversations.
    assert_not_found(store.delete_channel(other, ch.id).await);
    store.delete_channel(ws, ch.id).await.expect("delete");
    assert!(store.list_channels(ws).await.expect("list").is_empty());
    let deleted = store.get_channel(ws, ch.id).await.expect("still readable");
    assert!(!deleted.active);
    assert_not_found(store.get_channel_by_id(ch.id).await);
    // Reactivation goes through update.
    let w = store
        .update_channel(ws, ch.id, ChannelPatch { active: Some(true), ..Default::default() })
        .await
        .expect("update");
    assert!(w.value.active);
    assert_eq!(store.get_channel_by_id(ch.id).await.expect("by id").id, ch.id);
}

async fn contacts_crud_and_search(store: Arc<dyn Store>) {
    let ws = store.create_workspace("Acme").await.expect("ws").id;
    let other = store.create_workspace("Globex").await.expect("ws").id;
    let maria = store
        .create_contact(
            ws,
            "Maria Lopez",
            ContactPatch {
                phone: Some(Some("+1 (555) 010-9999".into())),
                email: Some(Some("Maria.L@Example.com".into())),
                telegram_username: Some(Some("mlopez_tg".into())),
                source: Some(Some("website".into())),
                custom_attributes: Some(r#"{"plan":"pro"}"#.into()),
                ..Default::default()
            },
        )
        .await
        .expect("contact");
    assert_eq!(maria.name, "Maria Lopez");
    assert_eq!(maria.phone.as_deref(), Some("+1 (555) 010-9999"));
    assert_eq!(maria.custom_attributes, r#"{"plan":"pro"}"#);
    assert!(!maria.blocked);
    assert!(maria.tag_ids.is_empty());
    let john = store.create_contact(ws, "John 50%_off", ContactPatch::default()).await.expect("contact");
    assert_eq!(john.custom_attributes, "{}");
    store.create_contact(other, "Maria Other", ContactPatch::default()).await.expect("contact");
    assert_invalid(
        store.create_contact(ws, "X", ContactPatch { custom_attributes: Some("1".into()), ..Default::default() }).await,
        "invalid_attributes",
    );

    assert_eq!(store.get_contact(ws, maria.id).await.expect("get"), maria);
    assert_not_found(store.get_contact(other, maria.id).await);

    let maria_only = vec!["Maria Lopez".to_string()];
    assert_eq!(found_names(&store, ws, "mari").await, maria_only, "4 characters of the name");
    assert_eq!(found_names(&store, ws, "LOPEZ").await, maria_only, "any case");
    assert_eq!(found_names(&store, ws, "0109").await, maria_only, "digits of a formatted phone");
    assert_eq!(found_names(&store, ws, "555 010").await, maria_only, "formatted differently");
    assert_eq!(found_names(&store, ws, "(555) 010-99").await, maria_only);
    assert_eq!(found_names(&store, ws, "maria.l@ex").await, maria_only, "e-mail");
    assert_eq!(found_names(&store, ws, "lopez_tg").await, maria_only, "telegram username");
    assert!(found_names(&store, ws, "nobody").await.is_empty());
    assert!(found_names(&store, ws, "9999 1").await.is_empty());
    // LIKE wildcards in the term are literal.
    assert_eq!(found_names(&store, ws, "50%_").await, vec!["John 50%_off".to_string()]);
    assert!(found_names(&store, ws, "n 5_%").await.is_empty());

    // Keyset pagination by id.
    let mut more = Vec::new();
    for i in 0..5 {
        more.push(store.create_contact(ws, &format!("Extra {i}"), ContactPatch::default()).await.expect("contact").id);
    }
    let page = store.list_contacts(ws, ContactQuery { search: None, after_id: None, limit: 3 }).await.expect("list");
    assert_eq!(page.iter().map(|c| c.id).collect::<Vec<_>>(), vec![maria.id, john.id, more[0]]);
    let page =
        store.list_contacts(ws, ContactQuery { search: None, after_id: Some(more[0]), limit: 3 }).await.expect("list");
    assert_eq!(page.iter().map(|c| c.id).collect::<Vec<_>>(), more[1..4].to_vec());
    let all =
        store.list_contacts(ws, ContactQuery { search: None, after_id: None, limit: 10_000 }).await.expect("list");
    assert_eq!(all.len(), 7);
    let page = store
        .list_contacts(
            ws,
            ContactQuery { search: Some(search::parse("extra").expect("term")), after_id: Some(more[2]), limit: 50 },
        )
        .await
        .expect("list");
    assert_eq!(page.iter().map(|c| c.id).collect::<Vec<_>>(), more[3..].to_vec());

    // Updates keep the search columns in step.
    let w = store
        .update_contact(
            ws,
            maria.id,
            ContactPatch {
                name: Some("Maria Garcia".into()),
                phone: Some(Some("+34 600 11 22 33".into())),
                email: Some(None),
                ..Default::default()
            },
        )
        .await
        .expect("update");
    let updated = w.value;
    assert_eq!(updated.name, "Maria Garcia");
    assert_eq!(updated.email, None);
    assert_eq!(updated.telegram_username.as_deref(), Some("mlopez_tg"), "untouched");
    assert_eq!(updated.custom_attributes, r#"{"plan":"pro"}"#, "untouched");
    assert_eq!(w.events.len(), 1);
    assert_eq!((w.events[0].kind.as_str(), w.events[0].access), ("contact.updated", None));
    let payload: Contact = serde_json::from_value(w.events[0].payload.clone()).expect("contact payload");
    assert_eq!(payload, updated);
    assert_eq!(found_names(&store, ws, "garcia").await, vec!["Maria Garcia".to_string()]);
    assert!(found_names(&store, ws, "a lopez").await.is_empty());
    assert!(found_names(&store, ws, "0109").await.is_empty());
    assert_eq!(found_names(&store, ws, "112233").await, vec!["Maria Garcia".to_string()]);
    assert!(found_names(&store, ws, "maria.l@").await.is_empty());
    assert_not_found(store.update_contact(other, maria.id, ContactPatch::default()).await);

    let w = store.set_contact_blocked(ws, maria.id, true).await.expect("block");
    assert!(w.value.blocked);
    assert_eq!(w.events[0].kind, "contact.updated");
    assert!(store.get_contact(ws, maria.id).await.expect("get").blocked);
    assert!(!store.set_contact_blocked(ws, maria.id, false).await.expect("unblock").value.blocked);
    assert_not_found(store.set_contact_blocked(other, maria.id, true).await);
}

async fn tags_crud_and_contact_tags(store: Arc<dyn Store>) {
    let ws = store.create_workspace("Acme").await.expect("ws").id;
    let other = store.create_workspace("Globex").await.expect("ws").id;
    let vip = store.create_tag(ws, "VIP", "#ff0000", true).await.expect("tag");
    assert_eq!((vip.name.as_str(), vip.color.as_str(), vip.pinned), ("VIP", "#ff0000", true));
    let lead = store.create_tag(ws, "Lead", "#00ff00", false).await.expect("tag");
    assert_conflict(store.create_tag(ws, "VIP", "#000000", false).await, "tag_exists");
    let foreign = store.create_tag(other, "VIP", "#000000", false).await.expect("same name elsewhere");
    assert_eq!(store.list_tags(ws).await.expect("list"), vec![lead.clone(), vip.clone()], "by name");

    assert_conflict(store.update_tag(ws, lead.id, Some("VIP"), None, None).await, "tag_exists");
    let lead = store.update_tag(ws, lead.id, Some("Hot lead"), None, Some(true)).await.expect("update");
    assert_eq!((lead.name.as_str(), lead.color.as_str(), lead.pinned), ("Hot lead", "#00ff00", true));
    assert_not_found(store.update_tag(other, lead.id, Some("x"), None, None).await);

    let c = store.create_contact(ws, "Ana", ContactPatch::default()).await.expect("contact");
    assert_invalid(store.set_contact_tags(ws, c.id, &[vip.id, foreign.id]).await, "invalid_tag");
    assert_not_found(store.set_contact_tags(other, c.id, &[foreign.id]).await);
    let w = store.set_contact_tags(ws, c.id, &[vip.id, lead.id, vip.id]).await.expect("tags");
    let mut want = vec![vip.id, lead.id];
    want.sort();
    assert_eq!(w.value.tag_ids, want);
    assert_eq!(w.events[0].kind, "contact.updated");
    assert_eq!(store.get_contact(ws, c.id).await.expect("get").tag_ids, want);
    assert_eq!(store.list_contacts(ws, ContactQuery::default()).await.expect("list")[0].tag_ids, want);

    assert_not_found(store.delete_tag(other, vip.id).await);
    store.delete_tag(ws, vip.id).await.expect("delete");
    assert_eq!(store.get_contact(ws, c.id).await.expect("get").tag_ids, vec![lead.id]);
    assert_eq!(store.list_tags(ws).await.expect("list"), vec![lead.clone()]);
    let w = store.set_contact_tags(ws, c.id, &[]).await.expect("clear");
    assert!(w.value.tag_ids.is_empty());
}

async fn close_reasons_crud(store: Arc<dyn Store>) {
    let ws = store.create_workspace("Acme").await.expect("ws").id;
    let other = store.create_workspace("Globex").await.expect("ws").id;
    let solved = store.create_close_reason(ws, "Solved").await.expect("reason");
    let spam = store.create_close_reason(ws, "Spam").await.expect("reason");
    assert_conflict(store.create_close_reason(ws, "Solved").await, "close_reason_exists");
    store.create_close_reason(other, "Solved").await.expect("same name elsewhere");
    assert_eq!(store.list_close_reasons(ws).await.expect("list"), vec![solved.clone(), spam.clone()]);
    assert_not_found(store.delete_close_reason(other, solved.id).await);
    store.delete_close_reason(ws, solved.id).await.expect("delete");
    assert_eq!(store.list_close_reasons(ws).await.expect("list"), vec![spam]);
    assert_not_found(store.delete_close_reason(ws, solved.id).await);
}

async fn canned_responses_visibility_and_limits(store: Arc<dyn Store>) {
    let ws = store.create_workspace("Acme").await.expect("ws").id;
    let other = store.create_workspace("Globex").await.expect("ws").id;
    let u1 = store.create_user(new_user(ws, "u1@example.com", Role::Agent)).await.expect("user");
    let u2 = store.create_user(new_user(ws, "u2@example.com", Role::Agent)).await.expect("user");
    let stranger = store.create_user(new_user(other, "x@example.com", Role::Agent)).await.expect("user");

    let shared = store.create_canned_response(ws, None, "hello", "Hello! How can I help?").await.expect("canned");
    assert_eq!(shared.owner_id, None);
    let mine = store.create_canned_response(ws, Some(u1.id), "hello", "Hi, it's me").await.expect("personal");
    let bye = store.create_canned_response(ws, Some(u1.id), "bye", "Bye!").await.expect("personal");
    assert_conflict(store.create_canned_response(ws, Some(u1.id), "hello", "again").await, "shortcut_taken");
    assert_conflict(store.create_canned_response(ws, None, "hello", "again").await, "shortcut_taken");
    store.create_canned_response(ws, Some(u2.id), "hello", "u2's").await.expect("another owner");
    store.create_canned_response(other, None, "hello", "elsewhere").await.expect("another workspace");
    assert_invalid(store.create_canned_response(ws, Some(stranger.id), "x", "x").await, "invalid_user");

    let list = store.list_canned_responses(ws, u1.id).await.expect("list");
    assert_eq!(list, vec![bye.clone(), shared.clone(), mine.clone()], "by shortcut");
    let ids = |l: Vec<CannedResponse>| l.into_iter().map(|c| c.id).collect::<Vec<_>>();
    let for_u2 = store.list_canned_responses(ws, u2.id).await.expect("list");
    assert!(for_u2.iter().all(|c| c.owner_id.is_none() || c.owner_id == Some(u2.id)));
    assert_eq!(for_u2.len(), 2);
    assert!(!ids(for_u2).contains(&mine.id), "personal ones are not shared");

    // Length limit (DESIGN §2): 60000 characters.
    let max = "ж".repeat(60_000);
    store.create_canned_response(ws, None, "long", &max).await.expect("at the limit");
    let r = store.create_canned_response(ws, None, "longer", &format!("{max}x")).await;
    assert!(matches!(&r, Err(StoreError::Invalid("too_long", m)) if m.contains("60000")), "{r:?}");
    let r = store.update_canned_response(ws, bye.id, None, Some(&format!("{max}x"))).await;
    assert!(matches!(&r, Err(StoreError::Invalid("too_long", _))), "{r:?}");

    assert_eq!(store.get_canned_response(ws, mine.id).await.expect("get"), mine);
    assert_not_found(store.get_canned_response(other, mine.id).await);
    assert_conflict(store.update_canned_response(ws, bye.id, Some("hello"), None).await, "shortcut_taken");
    let same = store.update_canned_response(ws, bye.id, Some("bye"), Some("Goodbye!")).await.expect("own shortcut");
    assert_eq!((same.shortcut.as_str(), same.text.as_str()), ("bye", "Goodbye!"));
    let renamed = store.update_canned_response(ws, bye.id, Some("ciao"), None).await.expect("rename");
    assert_eq!((renamed.shortcut.as_str(), renamed.text.as_str(), renamed.owner_id), ("ciao", "Goodbye!", Some(u1.id)));
    assert_not_found(store.update_canned_response(other, bye.id, Some("x"), None).await);

    assert_not_found(store.delete_canned_response(other, bye.id).await);
    store.delete_canned_response(ws, bye.id).await.expect("delete");
    assert_not_found(store.get_canned_response(ws, bye.id).await);
}

async fn attachments_are_scoped(store: Arc<dyn Store>) {
    let ws = store.create_workspace("Acme").await.expect("ws").id;
    let other = store.create_workspace("Globex").await.expect("ws").id;
    let now = now_ms();
    let a = store.create_attachment(ws, "photo.png", "image/png", 1234, "ab/cd/photo", now).await.expect("attachment");
    assert_eq!(
        (a.name.as_str(), a.content_type.as_str(), a.size, a.storage_key.as_str(), a.message_id, a.created_at),
        ("photo.png", "image/png", 1234, "ab/cd/photo", None, now)
    );
    assert_eq!(store.get_attachment(ws, a.id).await.expect("get"), a);
    assert_not_found(store.get_attachment(other, a.id).await);
}

async fn notifications_are_scoped(store: Arc<dyn Store>) {
    // Notifications are created by conversation events (tested with them); here: scoping.
    let ws = store.create_workspace("Acme").await.expect("ws").id;
    let u = store.create_user(new_user(ws, "u@example.com", Role::Agent)).await.expect("user");
    assert!(store.list_notifications(ws, u.id, false, 50).await.expect("list").is_empty());
    assert!(store.list_notifications(ws, u.id, true, 0).await.expect("list").is_empty());
    assert_not_found(store.mark_notification_read(ws, u.id, 12345).await);
}

async fn concurrent_creates_conflict_cleanly(store: Arc<dyn Store>) {
    // Two nodes (or two requests) creating the same thing at once: one wins, the others get
    // the conflict, never a database error.
    let ws = store.create_workspace("Acme").await.expect("ws").id;
    let mut users = Vec::new();
    let mut canned = Vec::new();
    for _ in 0..12 {
        let s = store.clone();
        users.push(tokio::spawn(async move { s.create_user(new_user(ws, "same@example.com", Role::Agent)).await }));
        let s = store.clone();
        canned.push(tokio::spawn(async move { s.create_canned_response(ws, None, "hi", "Hello").await }));
    }
    let mut ok = 0;
    for h in users {
        match h.await.expect("join") {
            Ok(_) => ok += 1,
            r => assert_conflict(r, "email_taken"),
        }
    }
    assert_eq!(ok, 1);
    let mut ok = 0;
    for h in canned {
        match h.await.expect("join") {
            Ok(_) => ok += 1,
            r => assert_conflict(r, "shortcut_taken"),
        }
    }
    assert_eq!(ok, 1);
}

conformance!(
    workspaces_and_server_secret,
    users_emails_are_unique_and_case_insensitive,
    update_user_round_trips_and_emits,
    viewer_has_memberships,
    presence_touch_and_sweep,
    teams_crud_with_members,
    channels_crud_members_and_soft_delete,
    contacts_crud_and_search,
    tags_crud_and_contact_tags,
    close_reasons_crud,
    canned_responses_visibility_and_limits,
    attachments_are_scoped,
    notifications_are_scoped,
    concurrent_creates_conflict_cleanly,
);
