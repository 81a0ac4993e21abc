//! Conversation writes: ingestion, sending, lifecycle, receipts, assignment, timers, read
//! state, detach, delete, drafts, the outbox.

use charla_core::lifecycle::{CLOSE_REASON_INACTIVITY, CLOSE_REASON_TRANSFERRED};
use charla_core::*;
use charla_store::*;
use std::sync::Arc;

// --- fixtures shared with inbox.rs ----------------------------------------------------------------------

pub const T0: Millis = 1_700_000_000_000;
pub const MIN: Millis = 60_000;

pub struct World {
    pub ws: Id,
    pub admin: User,
    pub ana: User,
    pub bob: User,
    /// An API channel (manual routing, 900 s response time) with ana and bob as members.
    pub channel: Channel,
}

pub fn user(workspace_id: Id, email: &str, role: Role, flags: &[Flag]) -> NewUser {
    NewUser {
        workspace_id,
        email: email.to_string(),
        name: email.split('@').next().unwrap_or(email).to_string(),
        display_name: String::new(),
        password_hash: "hash".into(),
        role,
        flags: Flags::from_list(flags),
        language: Language::En,
    }
}

pub fn channel(workspace_id: Id, name: &str) -> NewChannel {
    NewChannel {
        workspace_id,
        kind: ChannelKind::Api,
        name: name.to_string(),
        secret: format!("secret-{name}"),
        webhook_url: Some("http://127.0.0.1:9/hook".into()),
        routing_mode: RoutingMode::Manual,
        max_message_length: ChannelKind::Api.default_max_message_length(),
        auto_close_after_secs: None,
        response_time_limit_secs: 900,
        greeting: None,
        settings: "{}".into(),
    }
}

pub async fn world(store: &Arc<dyn Store>) -> World {
    let ws = store.create_workspace("Acme").await.expect("workspace").id;
    // E-mails are unique across the server: one domain per workspace.
    let admin = store.create_user(user(ws, &format!("admin@w{ws}.test"), Role::Admin, &[])).await.expect("admin");
    let ana = store.create_user(user(ws, &format!("ana@w{ws}.test"), Role::Agent, &[])).await.expect("ana");
    let bob = store.create_user(user(ws, &format!("bob@w{ws}.test"), Role::Agent, &[])).await.expect("bob");
    let ch = store.create_channel(channel(ws, "support")).await.expect("channel");
    let channel = store.set_channel_members(ws, ch.id, &[ana.id, bob.id]).await.expect("members").value;
    World { ws, admin, ana, bob, channel }
}

pub fn inbound(channel_id: Id, provider_id: &str, external_id: &str, name: &str, text: &str) -> InboundMessage {
    InboundMessage {
        channel_id,
        provider_message_id: provider_id.to_string(),
        contact: ContactInput {
            external_id: external_id.to_string(),
            name: Some(name.to_string()),
            ..ContactInput::default()
        },
        text: text.to_string(),
        attachment_ids: Vec::new(),
        is_group: false,
    }
}

/// Ingests and returns the conversation.
pub async fn ingest(store: &Arc<dyn Store>, msg: InboundMessage, now: Millis) -> Conversation {
    store.ingest_inbound(msg, now).await.expect("ingest").value.conversation
}

pub fn outgoing(conversation_id: Id, author: &User, kind: MessageKind, text: &str) -> NewOutgoing {
    NewOutgoing {
        conversation_id,
        author: Author { kind: AuthorType::User, id: Some(author.id), name: author.name.clone() },
        kind,
        text: text.to_string(),
        reply_to: None,
        client_msg_id: None,
        attachment_ids: Vec::new(),
        template: None,
    }
}

pub async fn send(
    store: &Arc<dyn Store>,
    ws: Id,
    conv: Id,
    author: &User,
    kind: MessageKind,
    text: &str,
    now: Millis,
) -> Message {
    store.send_message(ws, outgoing(conv, author, kind, text), now).await.expect("send").value
}

pub fn kinds(events: &[Event]) -> Vec<&str> {
    events.iter().map(|e| e.kind.as_str()).collect()
}

pub fn assert_invalid<T: std::fmt::Debug>(r: StoreResult<T>, code: &str) {
    assert!(matches!(&r, Err(StoreError::Invalid(c, _)) if *c == code), "expected Invalid({code}), got {r:?}");
}

pub fn assert_not_found<T: std::fmt::Debug>(r: StoreResult<T>) {
    assert!(matches!(r, Err(StoreError::NotFound)), "expected NotFound, got {r:?}");
}

async fn attentions(store: &Arc<dyn Store>, ws: Id, conv: Id) -> Vec<Attention> {
    store.list_attentions(ws, conv).await.expect("attentions")
}

async fn conversation(store: &Arc<dyn Store>, ws: Id, conv: Id) -> Conversation {
    store.get_conversation(ws, conv).await.expect("conversation")
}

async fn notifications(store: &Arc<dyn Store>, ws: Id, user: Id, kind: &str) -> Vec<Notification> {
    let all = store.list_notifications(ws, user, false, 100).await.expect("notifications");
    all.into_iter().filter(|n| n.kind == kind).collect()
}

// --- ingestion -------------------------------------------------------------------------------------------

async fn ingest_creates_contact_conversation_attention_and_events(store: Arc<dyn Store>) {
    let w = world(&store).await;
    let mut msg = inbound(w.channel.id, "p-1", "ext-1", "Maria Lopez", "Hello there");
    msg.contact.phone = Some("+1 (555) 010-9999".into());
    msg.contact.email = Some("maria@example.com".into());
    msg.contact.username = Some("maria_l".into());
    let r = store.ingest_inbound(msg, T0).await.expect("ingest");
    assert!(!r.value.duplicate);
    assert_eq!(kinds(&r.events), ["conversation.created", "message.created"]);
    let conv = r.value.conversation.clone();
    let m = r.value.message.clone();
    assert_eq!((conv.status, conv.assignee_id, conv.team_id), (Status::Open, None, None));
    assert!(conv.unanswered && !conv.no_reply_needed);
    assert_eq!(conv.waiting_since, Some(T0));
    assert_eq!(conv.due_at, Some(T0 + 900_000));
    assert_eq!(conv.last_message_id, Some(m.id));
    assert_eq!(conv.last_message_preview.as_deref(), Some("Hello there"));
    assert_eq!(conv.last_message_author, Some(AuthorType::Contact));
    assert_eq!((conv.last_inbound_at, conv.last_activity_at), (Some(T0), T0));
    assert_eq!(
        (m.kind, m.status, m.author.kind),
        (MessageKind::Inbound, MessageStatus::Delivered, AuthorType::Contact)
    );
    assert_eq!(m.author.name, "Maria Lopez");
    assert_eq!(m.provider_id.as_deref(), Some("p-1"));
    assert_eq!(m.attention_id, conv.attention_id);
    for e in &r.events {
        assert_eq!(e.access, Some(conv.access()));
        assert_eq!(e.user_id, None);
    }
    assert_eq!(r.events[0].payload, serde_json::to_value(&conv).expect("json"));
    assert_eq!(r.events[1].payload, serde_json::to_value(&m).expect("json"));

    let contact = store.get_contact(w.ws, conv.contact_id.expect("contact")).await.expect("contact");
    assert_eq!(contact.name, "Maria Lopez");
    assert_eq!(contact.phone.as_deref(), Some("+1 (555) 010-9999"));
    assert_eq!(contact.email.as_deref(), Some("maria@example.com"));
    assert_eq!(contact.telegram_username.as_deref(), Some("maria_l"));
    let row = store.conversation_row(w.ana.id, conv.clone()).await.expect("row");
    assert_eq!(row.identity.external_id, "ext-1");
    assert_eq!(row.identity.contact_id, Some(contact.id));
    assert_eq!(row.read.unread_count, 1);
    let atts = attentions(&store, w.ws, conv.id).await;
    assert_eq!(atts.len(), 1);
    assert_eq!((atts[0].status, atts[0].opened_at, Some(atts[0].id)), (Status::Open, T0, conv.attention_id));

    // The same sender again: same conversation and attention; the identity's name follows.
    let r2 =
        store.ingest_inbound(inbound(w.channel.id, "p-2", "ext-1", "Maria L.", "Anyone?"), T0 + MIN).await.expect("2");
    assert_eq!(kinds(&r2.events), ["message.created", "conversation.updated"]);
    let conv2 = r2.value.conversation;
    assert_eq!((conv2.id, conv2.attention_id), (conv.id, conv.attention_id));
    assert_eq!(conv2.waiting_since, Some(T0), "the oldest unanswered message sets the clock");
    assert_eq!(r2.value.message.author.name, "Maria L.");
    let row = store.conversation_row(w.ana.id, conv2.clone()).await.expect("row");
    assert_eq!(row.identity.name, "Maria L.");
    assert_eq!(row.contact.map(|c| c.name).as_deref(), Some("Maria Lopez"), "the contact card keeps its name");
    assert_eq!(row.read.unread_count, 2);
    assert_eq!(attentions(&store, w.ws, conv.id).await.len(), 1);
    let logged = store.events_since(w.ws, 0, 100).await.expect("log");
    let conv_events: Vec<&str> = logged.iter().filter(|e| e.access.is_some()).map(|e| e.kind.as_str()).collect();
    assert_eq!(conv_events, ["conversation.created", "message.created", "message.created", "conversation.updated"]);

    // Ids the dedup and the identity rely on are required.
    assert_invalid(
        store.ingest_inbound(inbound(w.channel.id, " ", "ext-1", "M", "hi"), T0).await,
        "invalid_message_id",
    );
    assert_invalid(store.ingest_inbound(inbound(w.channel.id, "p-9", "", "M", "hi"), T0).await, "invalid_contact");

    // Unknown or inactive channel.
    assert_not_found(store.ingest_inbound(inbound(999_999, "p", "x", "X", "hi"), T0).await);
    store.delete_channel(w.ws, w.channel.id).await.expect("delete channel");
    assert_not_found(store.ingest_inbound(inbound(w.channel.id, "p-3", "ext-1", "M", "hi"), T0).await);
}

async fn duplicate_provider_id_is_stored_once(store: Arc<dyn Store>) {
    let w = world(&store).await;
    let msg = inbound(w.channel.id, "dup-1", "ext-1", "Maria", "Hello");
    let first = store.ingest_inbound(msg.clone(), T0).await.expect("first");
    let seq = store.last_event_seq().await.expect("seq");
    let again = store.ingest_inbound(msg.clone(), T0 + 1000).await.expect("again");
    assert!(again.value.duplicate);
    assert!(again.events.is_empty());
    assert_eq!(again.value.message.id, first.value.message.id);
    assert_eq!(again.value.conversation.id, first.value.conversation.id);
    assert_eq!(store.last_event_seq().await.expect("seq"), seq);
    let conv = first.value.conversation.id;
    assert_eq!(store.list_messages(w.ws, conv, None, 50).await.expect("messages").len(), 1);

    // The same provider id on another channel is another message.
    let other = store.create_channel(channel(w.ws, "other")).await.expect("channel");
    let r = store.ingest_inbound(inbound(other.id, "dup-1", "ext-1", "Maria", "Hello"), T0).await.expect("other");
    assert!(!r.value.duplicate);

    // Concurrent deliveries of one new message (a webhook retried at once): one message,
    // one contact, one conversation.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        let msg = inbound(w.channel.id, "race-1", "ext-race", "Racer", "first!");
        tasks.push(tokio::spawn(async move { store.ingest_inbound(msg, T0).await }));
    }
    let mut fresh = 0;
    let mut ids = Vec::new();
    for t in tasks {
        let r = t.await.expect("join").expect("ingest");
        if !r.value.duplicate {
            fresh += 1;
        }
        ids.push((r.value.message.id, r.value.conversation.id));
    }
    assert_eq!(fresh, 1);
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let page =
        store.list_contacts(w.ws, ContactQuery { search: None, after_id: None, limit: 100 }).await.expect("list");
    assert_eq!(page.iter().filter(|c| c.name == "Racer").count(), 1);
}

/// Messages into open conversations (on SQLite, the writer's fast path): the assignee is
/// notified, the auto-close deadline moves, and many at once — some into new conversations,
/// some repeated — are each stored once, with their events in the log in order.
async fn inbound_into_open_conversations(store: Arc<dyn Store>) {
    let w = world(&store).await;
    let patch = ChannelPatch { auto_close_after_secs: Some(Some(600)), ..ChannelPatch::default() };
    store.update_channel(w.ws, w.channel.id, patch).await.expect("auto-close");
    let conv = ingest(&store, inbound(w.channel.id, "p-1", "ext-1", "Maria", "Hello"), T0).await;
    store.assign(w.ws, conv.id, w.admin.id, Some(w.ana.id), None, T0 + 1).await.expect("assign");
    let before = notifications(&store, w.ws, w.ana.id, "new_message").await.len();

    let r = store.ingest_inbound(inbound(w.channel.id, "p-2", "ext-1", "Maria", "Are you there?"), T0 + MIN).await;
    let r = r.expect("second");
    assert_eq!(kinds(&r.events), ["message.created", "conversation.updated", "notification.created"]);
    let c = r.value.conversation.clone();
    assert_eq!((c.id, c.assignee_id, c.attention_id), (conv.id, Some(w.ana.id), conv.attention_id));
    assert_eq!((c.last_message_id, c.last_activity_at), (Some(r.value.message.id), T0 + MIN));
    assert_eq!(c.last_message_preview.as_deref(), Some("Are you there?"));
    assert_eq!(c, conversation(&store, w.ws, conv.id).await, "what was answered is what was stored");
    let n = &r.events[2];
    assert_eq!((n.user_id, n.access.as_ref()), (Some(w.ana.id), None));
    let listed = notifications(&store, w.ws, w.ana.id, "new_message").await;
    assert_eq!(listed.len(), before + 1);
    assert_eq!(n.payload, serde_json::to_value(&listed[0]).expect("json"));
    assert_eq!(listed[0].text, "Are you there?");
    let log = store.events_since(w.ws, r.events[0].seq - 1, 10).await.expect("log");
    assert_eq!(log.iter().map(|e| e.seq).collect::<Vec<_>>(), r.events.iter().map(|e| e.seq).collect::<Vec<_>>());
    assert_eq!(log[0].payload, serde_json::to_value(&r.value.message).expect("json"));
    // The auto-close deadline counts from the new message.
    assert!(store.claim_jobs(T0 + MIN + 600_000 - 1, 30_000, 10).await.expect("claim").is_empty());
    let jobs = store.claim_jobs(T0 + MIN + 600_000, 30_000, 10).await.expect("claim");
    assert!(jobs.iter().any(|j| j.kind == JobKind::AutoClose && Some(j.target_id) == c.attention_id), "{jobs:?}");

    // 40 concurrent messages over 8 senders (4 of them new), each message sent twice.
    let seq = store.last_event_seq().await.expect("seq");
    let mut tasks = Vec::new();
    for i in 0..80 {
        let store = store.clone();
        let k = i % 40;
        let msg =
            inbound(w.channel.id, &format!("burst-{k}"), &format!("ext-{}", 1 + k % 8), "Sender", &format!("m{k}"));
        tasks.push(tokio::spawn(async move { store.ingest_inbound(msg, T0 + 2 * MIN + k as Millis).await }));
    }
    let mut fresh = std::collections::HashMap::new();
    for t in tasks {
        let r = t.await.expect("join").expect("ingest");
        let id = r.value.message.id;
        if !r.value.duplicate {
            assert!(fresh.insert(r.value.message.provider_id.clone(), id).is_none(), "stored twice");
        }
    }
    assert_eq!(fresh.len(), 40);
    let log = store.events_since(w.ws, seq, 1000).await.expect("log");
    assert!(log.windows(2).all(|p| p[0].seq < p[1].seq));
    let created: Vec<Id> =
        log.iter().filter(|e| e.kind == "message.created").map(|e| e.payload["id"].as_i64().expect("id")).collect();
    let mut expected: Vec<Id> = fresh.values().copied().collect();
    expected.sort_unstable();
    let mut got = created.clone();
    got.sort_unstable();
    assert_eq!(got, expected, "one message.created per stored message");
    let maria = store.list_messages(w.ws, conv.id, None, 100).await.expect("messages");
    assert_eq!(maria.iter().filter(|m| m.provider_id.as_deref().is_some_and(|p| p.starts_with("burst-"))).count(), 5);
}

/// A client that follows the event log from its last seq never skips an event, however many
/// writers commit at once: seqs become visible in order.
async fn log_followers_never_skip_events(store: Arc<dyn Store>) {
    use std::sync::atomic::{AtomicBool, Ordering};
    let w = world(&store).await;
    let start = store.last_event_seq().await.expect("seq");
    let done = Arc::new(AtomicBool::new(false));
    let follower = {
        let (store, done, ws) = (store.clone(), done.clone(), w.ws);
        tokio::spawn(async move {
            // `highs`: each last seq the store reported, with how many events had been read
            // after it was reported (a new operator connection starts at the last seq).
            let (mut cursor, mut seen, mut highs) = (start, Vec::new(), Vec::new());
            loop {
                let finished = done.load(Ordering::SeqCst);
                let high = store.last_event_seq().await.expect("last seq");
                let page = store.events_since(ws, cursor, 1000).await.expect("follow");
                for e in &page {
                    seen.push(e.seq);
                    cursor = e.seq;
                }
                highs.push((high, seen.len()));
                if finished && page.is_empty() {
                    return (seen, highs);
                }
                tokio::task::yield_now().await;
            }
        })
    };
    let mut writers = Vec::new();
    for t in 0..8 {
        let (store, channel) = (store.clone(), w.channel.id);
        writers.push(tokio::spawn(async move {
            for i in 0..25 {
                let msg = inbound(channel, &format!("f-{t}-{i}"), &format!("ext-{t}-{}", i % 3), "F", "hi");
                store.ingest_inbound(msg, T0 + i).await.expect("ingest");
            }
        }));
    }
    for t in writers {
        t.await.expect("writer");
    }
    done.store(true, Ordering::SeqCst);
    let (seen, highs) = follower.await.expect("follower");
    let all: Vec<i64> = store.events_since(w.ws, start, 10_000).await.expect("log").iter().map(|e| e.seq).collect();
    assert_eq!(all.len(), 8 * 25 * 2, "message.created and conversation.created/updated for each");
    assert_eq!(seen, all, "the follower skipped events");
    for (high, read) in highs {
        let below = all.iter().filter(|s| **s <= high).count();
        assert!(below <= read, "an event at or below the last seq {high} became visible after it was reported");
    }
}

/// What a message does to each status: (status before, kind, status after, new attention).
async fn messages_open_wake_or_keep(store: Arc<dyn Store>) {
    let w = world(&store).await;
    use MessageKind::*;
    let cases: &[(Status, MessageKind, Status, bool)] = &[
        (Status::Closed, Inbound, Status::Open, true),
        (Status::Closed, Outbound, Status::Open, true),
        (Status::Closed, Note, Status::Closed, false),
        (Status::Snoozed, Inbound, Status::Open, false),
        (Status::Snoozed, Outbound, Status::Open, false),
        (Status::Snoozed, Note, Status::Snoozed, false),
        (Status::Open, Inbound, Status::Open, false),
        (Status::Open, Outbound, Status::Open, false),
    ];
    for (i, (before, kind, after, new_attention)) in cases.iter().enumerate() {
        let ext = format!("ext-{i}");
        let conv = ingest(&store, inbound(w.channel.id, &format!("p-{i}"), &ext, "C", "hi"), T0).await;
        match before {
            Status::Closed => {
                store.close(w.ws, conv.id, w.admin.id, None, T0 + 1).await.expect("close");
            }
            Status::Snoozed => {
                store.snooze(w.ws, conv.id, w.admin.id, T0 + 60 * MIN, T0 + 1).await.expect("snooze");
            }
            Status::Open => {}
        }
        let now = T0 + 2 * MIN;
        match kind {
            Inbound => {
                ingest(&store, inbound(w.channel.id, &format!("q-{i}"), &ext, "C", "again"), now).await;
            }
            _ => {
                send(&store, w.ws, conv.id, &w.ana, *kind, "from us", now).await;
            }
        }
        let got = conversation(&store, w.ws, conv.id).await;
        let atts = attentions(&store, w.ws, conv.id).await;
        assert_eq!(got.status, *after, "case {i}");
        assert_eq!(atts.len(), if *new_attention { 2 } else { 1 }, "case {i}");
        assert_eq!(got.attention_id, atts.last().map(|a| a.id), "case {i}");
        assert_eq!(atts.last().map(|a| a.status), Some(*after), "case {i}");
        if *after == Status::Open {
            assert_eq!(got.snoozed_until, None, "case {i}");
        }
        if *before == Status::Closed && *kind == Outbound {
            assert_eq!(got.assignee_id, Some(w.ana.id), "case {i}: the operator who writes takes it");
        }
    }
}

async fn blocked_contact_is_kept_hidden_and_refused(store: Arc<dyn Store>) {
    let w = world(&store).await;
    let conv = ingest(&store, inbound(w.channel.id, "p-1", "ext-1", "Spammer", "hi"), T0).await;
    store.close(w.ws, conv.id, w.admin.id, None, T0 + 1).await.expect("close");
    let before = conversation(&store, w.ws, conv.id).await;
    let contact = conv.contact_id.expect("contact");
    store.set_contact_blocked(w.ws, contact, true).await.expect("block");
    let seq = store.last_event_seq().await.expect("seq");

    let r = store
        .ingest_inbound(inbound(w.channel.id, "p-2", "ext-1", "Spammer", "buy now"), T0 + MIN)
        .await
        .expect("ingest");
    assert!(r.events.is_empty());
    assert!(!r.value.duplicate);
    assert_eq!(store.last_event_seq().await.expect("seq"), seq);
    assert_eq!(conversation(&store, w.ws, conv.id).await, before, "the inbox does not move");
    assert_eq!(attentions(&store, w.ws, conv.id).await.len(), 1);
    let shown = store.list_messages(w.ws, conv.id, None, 50).await.expect("messages");
    assert!(shown.iter().all(|m| m.id != r.value.message.id), "hidden from the history");
    let kept = store.get_message(w.ws, r.value.message.id).await.expect("kept for admins");
    assert_eq!(kept.text, "buy now");
    let row = store.conversation_row(w.ana.id, before.clone()).await.expect("row");
    assert_eq!(row.read.unread_count, 1, "hidden messages are not unread");

    let refused =
        store.send_message(w.ws, outgoing(conv.id, &w.ana, MessageKind::Outbound, "hello?"), T0 + 2 * MIN).await;
    assert_invalid(refused, "contact_blocked");
    if let Err(StoreError::Invalid(_, text)) =
        store.send_message(w.ws, outgoing(conv.id, &w.ana, MessageKind::Outbound, "x"), T0).await
    {
        assert!(text.contains("blocked"), "{text}");
    }
    send(&store, w.ws, conv.id, &w.ana, MessageKind::Note, "this one is a spammer", T0 + 2 * MIN).await;

    store.set_contact_blocked(w.ws, contact, false).await.expect("unblock");
    let r = store
        .ingest_inbound(inbound(w.channel.id, "p-3", "ext-1", "Spammer", "sorry"), T0 + 3 * MIN)
        .await
        .expect("ingest");
    assert_eq!(r.value.conversation.status, Status::Open);
    assert!(!r.events.is_empty());
}

/// Auto routing: (ana's presence, ana's open attentions, ana's capacity, bob's presence, bob's
/// open attentions) → who gets the new conversation.
async fn auto_routing_picks_online_member_with_fewest_open(store: Arc<dyn Store>) {
    use Presence::*;
    #[derive(Debug, Clone, Copy)]
    enum Want {
        Ana,
        Bob,
        Nobody,
    }
    let cases: &[(Presence, usize, i64, Presence, usize, Want)] = &[
        (Online, 0, 10, Online, 0, Want::Ana),
        (Online, 1, 10, Online, 0, Want::Bob),
        (Online, 0, 10, Online, 1, Want::Ana),
        (Offline, 0, 10, Offline, 0, Want::Nobody),
        (Away, 0, 10, Online, 2, Want::Bob),
        (Online, 1, 1, Offline, 0, Want::Nobody),
        (Online, 1, 2, Offline, 0, Want::Ana),
    ];
    for (i, (ana_p, ana_open, ana_max, bob_p, bob_open, want)) in cases.iter().enumerate() {
        let w = world(&store).await;
        let now = T0 + 10 * MIN;
        let auto = store
            .create_channel(NewChannel { routing_mode: RoutingMode::Auto, ..channel(w.ws, "auto") })
            .await
            .expect("ch");
        store.set_channel_members(w.ws, auto.id, &[w.ana.id, w.bob.id]).await.expect("members");
        let patch = UserPatch { max_concurrent: Some(*ana_max), ..UserPatch::default() };
        store.update_user(w.ws, w.ana.id, patch).await.expect("capacity");
        // Open work on the manual channel counts too.
        for (u, n) in [(&w.ana, *ana_open), (&w.bob, *bob_open)] {
            for k in 0..n {
                let ext = format!("load-{}-{k}", u.id);
                let c = ingest(&store, inbound(w.channel.id, &ext, &ext, "L", "x"), T0).await;
                store.assign(w.ws, c.id, w.admin.id, Some(u.id), None, T0).await.expect("assign");
            }
        }
        for (u, p) in [(&w.ana, *ana_p), (&w.bob, *bob_p)] {
            if p != Offline {
                store.touch_presence(u.id, Some(p), now - MIN).await.expect("presence");
            }
        }
        let r =
            store.ingest_inbound(inbound(auto.id, "new", "new-contact", "New", "hello"), now).await.expect("ingest");
        let expected = match want {
            Want::Ana => Some(w.ana.id),
            Want::Bob => Some(w.bob.id),
            Want::Nobody => None,
        };
        let conv = r.value.conversation;
        assert_eq!(conv.assignee_id, expected, "case {i}");
        assert_eq!(attentions(&store, w.ws, conv.id).await[0].assignee_id, expected, "case {i}");
        match expected {
            Some(u) => {
                assert_eq!(
                    kinds(&r.events),
                    ["conversation.created", "message.created", "notification.created", "notification.created"],
                    "case {i}"
                );
                assert!(r.events[2..].iter().all(|e| e.user_id == Some(u) && e.access.is_none()), "case {i}");
                assert_eq!(r.events[2].payload["kind"], "assigned", "case {i}");
                assert_eq!(r.events[3].payload["kind"], "new_message", "case {i}");
                assert_eq!(r.events[3].payload["conversation_id"], conv.id, "case {i}");
                let got = notifications(&store, w.ws, u, "assigned").await;
                assert!(got.iter().any(|n| n.conversation_id == Some(conv.id)), "case {i}");
            }
            None => assert_eq!(kinds(&r.events), ["conversation.created", "message.created"], "case {i}"),
        }
    }
}

async fn inbound_attachments_are_linked_once(store: Arc<dyn Store>) {
    let w = world(&store).await;
    let a = store.create_attachment(w.ws, "photo.jpg", "image/jpeg", 1234, "k/photo", T0).await.expect("att");
    let mut msg = inbound(w.channel.id, "p-1", "ext-1", "Maria", "");
    msg.attachment_ids = vec![a.id];
    let r = store.ingest_inbound(msg.clone(), T0).await.expect("ingest");
    assert_eq!(r.value.message.attachments.len(), 1);
    assert_eq!(r.value.message.attachments[0].message_id, Some(r.value.message.id));
    assert_eq!(r.value.conversation.last_message_preview.as_deref(), Some("photo.jpg"));
    let got = store.get_message(w.ws, r.value.message.id).await.expect("message");
    assert_eq!(got.attachments.iter().map(|a| a.id).collect::<Vec<_>>(), [a.id]);
    msg.provider_message_id = "p-2".into();
    assert_invalid(store.ingest_inbound(msg.clone(), T0).await, "invalid_attachment");
    let other_ws = store.create_workspace("Other").await.expect("ws").id;
    let foreign = store.create_attachment(other_ws, "x.pdf", "application/pdf", 1, "k/x", T0).await.expect("att");
    msg.attachment_ids = vec![foreign.id];
    assert_invalid(store.ingest_inbound(msg, T0).await, "invalid_attachment");
    let mut out = outgoing(r.value.conversation.id, &w.ana, MessageKind::Outbound, "");
    out.attachment_ids = vec![a.id];
    assert_invalid(store.send_message(w.ws, out, T0).await, "invalid_attachment");
}

// --- sending ---------------------------------------------------------------------------------------------

async fn send_is_idempotent_and_goes_through_the_outbox(store: Arc<dyn Store>) {
    let w = world(&store).await;
    let conv = ingest(&store, inbound(w.channel.id, "p-1", "ext-1", "Maria", "Hello"), T0).await;
    let mut out = outgoing(conv.id, &w.ana, MessageKind::Outbound, "Hi Maria");
    out.client_msg_id = Some("c-1".into());
    let first = store.send_message(w.ws, out.clone(), T0 + MIN).await.expect("send");
    assert_eq!(kinds(&first.events), ["message.created", "conversation.updated"]);
    let m = first.value;
    assert_eq!(
        (m.kind, m.status, m.client_msg_id.as_deref()),
        (MessageKind::Outbound, MessageStatus::Queued, Some("c-1"))
    );
    let again = store.send_message(w.ws, out, T0 + 2 * MIN).await.expect("retry");
    assert_eq!(again.value.id, m.id);
    assert!(again.events.is_empty());
    assert_eq!(store.list_messages(w.ws, conv.id, None, 50).await.expect("messages").len(), 2);

    let c = conversation(&store, w.ws, conv.id).await;
    assert!(!c.unanswered);
    assert_eq!((c.due_at, c.waiting_since), (None, None));
    assert_eq!(c.last_message_author, Some(AuthorType::User));
    assert_eq!(c.last_message_preview.as_deref(), Some("Hi Maria"));
    assert_eq!(c.last_activity_at, T0 + MIN);
    assert_eq!(attentions(&store, w.ws, conv.id).await[0].first_response_at, Some(T0 + MIN));

    // The delivery job is the outbox entry.
    let jobs = store.claim_jobs(T0 + MIN, 30_000, 10).await.expect("claim");
    assert_eq!(jobs.len(), 1);
    let job = jobs[0].clone();
    assert_eq!((job.kind, job.target_id), (JobKind::Deliver, m.id));
    let d = store.delivery(&job).await.expect("delivery");
    assert_eq!((d.message.id, d.channel.id, d.conversation.id), (m.id, w.channel.id, conv.id));
    assert_eq!(d.identity.external_id, "ext-1");
    let done =
        store.finish_delivery(&job, DeliveryOutcome::Sent { provider_id: Some("prov-1".into()) }, T0 + 2 * MIN).await;
    let done = done.expect("finish");
    assert_eq!(kinds(&done.events), ["message.updated"]);
    assert_eq!((done.value.status, done.value.provider_id.as_deref()), (MessageStatus::Sent, Some("prov-1")));
    assert!(store.claim_jobs(T0 + 60 * MIN, 30_000, 10).await.expect("claim").is_empty());
    assert_not_found(store.delivery(&job).await);

    // Retry keeps it queued with the reason; failure is final.
    let m2 = send(&store, w.ws, conv.id, &w.ana, MessageKind::Outbound, "second", T0 + 3 * MIN).await;
    let job = store.claim_jobs(T0 + 3 * MIN, 30_000, 10).await.expect("claim").remove(0);
    assert_eq!(job.target_id, m2.id);
    let retry = DeliveryOutcome::Retry { at: T0 + 5 * MIN, error: "timeout".into() };
    let r = store.finish_delivery(&job, retry, T0 + 3 * MIN).await.expect("retry");
    assert_eq!((r.value.status, r.value.error.as_deref()), (MessageStatus::Queued, Some("timeout")));
    assert_eq!(kinds(&r.events), ["message.updated"]);
    assert!(store.claim_jobs(T0 + 4 * MIN, 30_000, 10).await.expect("claim").is_empty());
    let job = store.claim_jobs(T0 + 5 * MIN, 30_000, 10).await.expect("claim").remove(0);
    assert_eq!(job.attempts, 1);
    let r = store
        .finish_delivery(&job, DeliveryOutcome::Failed { error: "gone".into() }, T0 + 5 * MIN)
        .await
        .expect("fail");
    assert_eq!((r.value.status, r.value.error.as_deref()), (MessageStatus::Failed, Some("gone")));
    assert!(store.claim_jobs(T0 + 60 * MIN, 30_000, 10).await.expect("claim").is_empty());

    // Notes never go to the outbox and do not answer.
    ingest(&store, inbound(w.channel.id, "p-2", "ext-1", "Maria", "Still there?"), T0 + 6 * MIN).await;
    let n = send(&store, w.ws, conv.id, &w.ana, MessageKind::Note, "checking", T0 + 7 * MIN).await;
    assert_eq!(n.status, MessageStatus::Sent);
    let c = conversation(&store, w.ws, conv.id).await;
    assert!(c.unanswered);
    assert_eq!(c.last_message_author, Some(AuthorType::Contact), "notes are not customer-visible");
    assert!(store.claim_jobs(T0 + 60 * MIN, 30_000, 10).await.expect("claim").is_empty());
}

async fn send_validation(store: Arc<dyn Store>) {
    let w = world(&store).await;
    let conv = ingest(&store, inbound(w.channel.id, "p-1", "ext-1", "Maria", "Hello"), T0).await;
    let other = ingest(&store, inbound(w.channel.id, "p-2", "ext-2", "Juan", "Hola"), T0).await;
    let foreign_msg = store.list_messages(w.ws, other.id, None, 1).await.expect("m")[0].id;
    let ok_long = format!("{} {}", "a".repeat(1000), "b".repeat(1000));
    let base = || outgoing(conv.id, &w.ana, MessageKind::Outbound, "hi");
    let cases: Vec<(NewOutgoing, Option<&str>)> = vec![
        (NewOutgoing { text: "a".repeat(2001), ..base() }, Some("message_too_long")),
        (NewOutgoing { text: ok_long.clone(), ..base() }, None),
        (NewOutgoing { text: format!("{ok_long}c"), ..base() }, Some("message_too_long")),
        (NewOutgoing { text: String::new(), ..base() }, Some("empty_message")),
        (NewOutgoing { text: "  \n ".into(), ..base() }, Some("empty_message")),
        (NewOutgoing { kind: MessageKind::Inbound, ..base() }, Some("invalid_kind")),
        (NewOutgoing { kind: MessageKind::Event, ..base() }, Some("invalid_kind")),
        (NewOutgoing { reply_to: Some(foreign_msg), ..base() }, Some("invalid_reply_to")),
        (NewOutgoing { reply_to: Some(conv.last_message_id.expect("last")), ..base() }, None),
        (NewOutgoing { kind: MessageKind::Note, text: "n".repeat(5000), ..base() }, None),
        (NewOutgoing { kind: MessageKind::Note, text: "n".repeat(60_001), ..base() }, Some("message_too_long")),
    ];
    for (i, (msg, want)) in cases.into_iter().enumerate() {
        let r = store.send_message(w.ws, msg, T0 + MIN).await;
        match want {
            None => assert!(r.is_ok(), "case {i}: {r:?}"),
            Some(code) => assert_invalid(r, code),
        }
    }
    match store.send_message(w.ws, NewOutgoing { text: "x".repeat(2001), ..base() }, T0).await {
        Err(StoreError::Invalid(_, text)) => {
            assert_eq!(text, "message is 2001 characters; the limit on this channel is 2000")
        }
        other => panic!("expected message_too_long, got {other:?}"),
    }
    let other_ws = store.create_workspace("Other").await.expect("ws").id;
    assert_not_found(store.send_message(other_ws, base(), T0).await);

    // WhatsApp: free text only within 24 hours of the contact's last message.
    let wa = NewChannel { kind: ChannelKind::Whatsapp, max_message_length: 4096, ..channel(w.ws, "wa") };
    let wa = store.create_channel(wa).await.expect("whatsapp");
    let conv = ingest(&store, inbound(wa.id, "w-1", "+34600000000", "Lola", "hola"), T0).await;
    let day = 24 * 60 * MIN;
    let text = "x".repeat(4096);
    send(&store, w.ws, conv.id, &w.ana, MessageKind::Outbound, &text, T0 + day).await;
    let late = store.send_message(w.ws, outgoing(conv.id, &w.ana, MessageKind::Outbound, "hi"), T0 + day + 1).await;
    assert_invalid(late, "whatsapp_window_closed");
    send(&store, w.ws, conv.id, &w.ana, MessageKind::Note, "notes are fine", T0 + day + 1).await;
}

/// Receipts in order → final status and how many of them changed something.
async fn receipts_never_move_status_backwards(store: Arc<dyn Store>) {
    let w = world(&store).await;
    let conv = ingest(&store, inbound(w.channel.id, "p-1", "ext-1", "Maria", "Hello"), T0).await;
    use MessageStatus::*;
    let cases: &[(&[MessageStatus], MessageStatus, usize)] = &[
        (&[Sent], Sent, 1),
        (&[Delivered, Read], Read, 2),
        (&[Read, Delivered], Read, 1),
        (&[Delivered, Delivered], Delivered, 1),
        (&[Delivered, Sent], Delivered, 1),
        (&[Failed, Delivered], Delivered, 2),
        (&[Failed, Sent], Failed, 1),
        (&[Read, Failed], Read, 1),
        (&[Queued], Queued, 0),
    ];
    for (i, (receipts, want, changes)) in cases.iter().enumerate() {
        let m = send(&store, w.ws, conv.id, &w.ana, MessageKind::Outbound, &format!("m{i}"), T0 + MIN).await;
        let mut changed = 0;
        let mut last = m.clone();
        for st in receipts.iter() {
            let err = (*st == Failed).then(|| "rejected by provider".to_string());
            let r = store.update_message_status(w.channel.id, m.id, *st, err, T0 + 2 * MIN).await.expect("receipt");
            if !r.events.is_empty() {
                assert_eq!(kinds(&r.events), ["message.updated"], "case {i}");
                assert_eq!(r.events[0].access, Some(conversation(&store, w.ws, conv.id).await.access()));
                changed += 1;
            }
            last = r.value;
        }
        assert_eq!((last.status, changed), (*want, *changes), "case {i}");
        assert_eq!(store.get_message(w.ws, m.id).await.expect("m").status, *want, "case {i}");
        assert_eq!(last.error.is_some(), *want == Failed, "case {i}");
    }
    let m = send(&store, w.ws, conv.id, &w.ana, MessageKind::Outbound, "x", T0).await;
    let other = store.create_channel(channel(w.ws, "other")).await.expect("channel");
    assert_not_found(store.update_message_status(other.id, m.id, Delivered, None, T0).await);
    let inbound_id = conv.last_message_id.expect("inbound");
    assert_not_found(store.update_message_status(w.channel.id, inbound_id, Delivered, None, T0).await);
    assert_not_found(store.update_message_status(w.channel.id, 999_999, Delivered, None, T0).await);
}

// --- assignment ----------------------------------------------------------------------------------------

async fn assign_takes_transfers_and_changes_closed(store: Arc<dyn Store>) {
    let w = world(&store).await;
    let conv = ingest(&store, inbound(w.channel.id, "p-1", "ext-1", "Maria", "Hello"), T0).await;

    // Take: the current attention gets its first assignee.
    let r = store.assign(w.ws, conv.id, w.admin.id, Some(w.ana.id), None, T0 + MIN).await.expect("take");
    assert_eq!(
        kinds(&r.events),
        ["message.created", "conversation.updated", "conversation.removed", "notification.created"]
    );
    assert_eq!(r.value.assignee_id, Some(w.ana.id));
    assert_eq!(r.events[1].access.and_then(|a| a.assignee_id), Some(w.ana.id), "updated carries the new access");
    assert_eq!(r.events[2].access, Some(conv.access()), "removed carries the old access");
    assert_eq!(r.events[2].payload["id"], conv.id);
    assert_eq!(r.events[3].user_id, Some(w.ana.id));
    let atts = attentions(&store, w.ws, conv.id).await;
    assert_eq!(atts.len(), 1);
    assert_eq!(atts[0].assignee_id, Some(w.ana.id));
    assert_eq!(notifications(&store, w.ws, w.ana.id, "assigned").await.len(), 1);
    let line = store.get_message(w.ws, r.events[0].payload["id"].as_i64().expect("id")).await.expect("line");
    assert_eq!(
        (line.kind, line.author.kind, line.text.as_str()),
        (MessageKind::Event, AuthorType::System, "Assigned to ana")
    );

    // Same owner again: nothing.
    let r = store.assign(w.ws, conv.id, w.ana.id, Some(w.ana.id), None, T0 + MIN).await.expect("same");
    assert!(r.events.is_empty());

    // Transfer: closes with `transferred`, opens a new attention for bob.
    let before = conversation(&store, w.ws, conv.id).await;
    let r = store.assign(w.ws, conv.id, w.ana.id, Some(w.bob.id), None, T0 + 2 * MIN).await.expect("transfer");
    assert_eq!(
        kinds(&r.events),
        ["message.created", "conversation.updated", "conversation.removed", "notification.created"]
    );
    assert_eq!(r.events[2].access.and_then(|a| a.assignee_id), Some(w.ana.id));
    let ana_view = store.viewer(w.ws, w.ana.id).await.expect("viewer");
    assert!(ana_view.can_see(&before.access()) && !ana_view.can_see(&r.value.access()), "ana loses it");
    let atts = attentions(&store, w.ws, conv.id).await;
    assert_eq!(atts.len(), 2);
    assert_eq!(atts[0].status, Status::Closed);
    assert_eq!(atts[0].close_reason.as_deref(), Some(CLOSE_REASON_TRANSFERRED));
    assert_eq!((atts[0].assignee_id, atts[0].closed_at), (Some(w.ana.id), Some(T0 + 2 * MIN)));
    assert_eq!((atts[1].status, atts[1].assignee_id), (Status::Open, Some(w.bob.id)));
    let c = conversation(&store, w.ws, conv.id).await;
    assert_eq!((c.status, c.attention_id, c.assignee_id), (Status::Open, Some(atts[1].id), Some(w.bob.id)));
    assert!(c.unanswered, "the waiting customer is still waiting");
    assert_eq!(c.due_at, before.due_at);
    let history = store.list_messages(w.ws, conv.id, None, 50).await.expect("history");
    assert_eq!(history[0].text, "Transferred from ana to bob");

    // Closed: the assignee changes, the status stays closed, no new attention.
    store.close(w.ws, conv.id, w.bob.id, None, T0 + 3 * MIN).await.expect("close");
    let r = store.assign(w.ws, conv.id, w.admin.id, Some(w.ana.id), None, T0 + 4 * MIN).await.expect("change");
    assert_eq!(r.value.status, Status::Closed);
    assert_eq!(r.value.assignee_id, Some(w.ana.id));
    let atts = attentions(&store, w.ws, conv.id).await;
    assert_eq!(atts.len(), 2);
    assert_eq!((atts[1].status, atts[1].assignee_id), (Status::Closed, Some(w.ana.id)));

    // Teams, and unassigning.
    let team = store.create_team(w.ws, "Sales", &[w.ana.id]).await.expect("team").value;
    let r = store.assign(w.ws, conv.id, w.admin.id, None, Some(team.id), T0 + 5 * MIN).await.expect("team");
    assert_eq!((r.value.assignee_id, r.value.team_id), (None, Some(team.id)));
    assert!(r.events.iter().all(|e| e.kind != "notification.created"));

    // Validation.
    let other_ws = store.create_workspace("Other").await.expect("ws").id;
    let stranger = store.create_user(user(other_ws, "x@other.test", Role::Agent, &[])).await.expect("user");
    assert_invalid(store.assign(w.ws, conv.id, w.admin.id, Some(stranger.id), None, T0).await, "invalid_user");
    let gone = store.create_user(user(w.ws, "gone@acme.test", Role::Agent, &[])).await.expect("user");
    store
        .update_user(w.ws, gone.id, UserPatch { active: Some(false), ..UserPatch::default() })
        .await
        .expect("deactivate");
    assert_invalid(store.assign(w.ws, conv.id, w.admin.id, Some(gone.id), None, T0).await, "invalid_user");
    let foreign_team = store.create_team(other_ws, "T", &[]).await.expect("team").value;
    assert_invalid(store.assign(w.ws, conv.id, w.admin.id, None, Some(foreign_team.id), T0).await, "invalid_team");
    assert_not_found(store.assign(other_ws, conv.id, w.admin.id, None, None, T0).await);
}

// --- close, reopen, snooze, timers ---------------------------------------------------------------------

async fn close_and_reopen(store: Arc<dyn Store>) {
    let w = world(&store).await;
    let conv = ingest(&store, inbound(w.channel.id, "p-1", "ext-1", "Maria", "Hello"), T0).await;
    store.create_close_reason(w.ws, "Resolved").await.expect("reason");
    assert_invalid(store.close(w.ws, conv.id, w.ana.id, Some("Bogus".into()), T0).await, "invalid_close_reason");

    let r = store.close(w.ws, conv.id, w.ana.id, Some("Resolved".into()), T0 + MIN).await.expect("close");
    assert_eq!(kinds(&r.events), ["message.created", "conversation.updated"]);
    let c = r.value;
    assert_eq!(c.status, Status::Closed);
    assert!(!c.unanswered);
    assert_eq!((c.due_at, c.waiting_since, c.snoozed_until), (None, None, None));
    let atts = attentions(&store, w.ws, conv.id).await;
    assert_eq!((atts[0].status, atts[0].close_reason.as_deref()), (Status::Closed, Some("Resolved")));
    assert_eq!(atts[0].closed_at, Some(T0 + MIN));
    assert_eq!(store.list_messages(w.ws, conv.id, None, 1).await.expect("h")[0].text, "Closed: Resolved");
    assert_invalid(store.close(w.ws, conv.id, w.ana.id, None, T0 + MIN).await, "already_closed");

    // Reopen: a new attention; nobody had it, so the one who reopens takes it.
    let r = store.reopen(w.ws, conv.id, w.ana.id, T0 + 2 * MIN).await.expect("reopen");
    assert_eq!(r.value.status, Status::Open);
    assert_eq!(r.value.assignee_id, Some(w.ana.id));
    assert_eq!(attentions(&store, w.ws, conv.id).await.len(), 2);
    assert_invalid(store.reopen(w.ws, conv.id, w.ana.id, T0 + 2 * MIN).await, "already_open");

    // A reopened conversation keeps its assignee.
    store.close(w.ws, conv.id, w.ana.id, None, T0 + 3 * MIN).await.expect("close");
    let r = store.reopen(w.ws, conv.id, w.admin.id, T0 + 4 * MIN).await.expect("reopen");
    assert_eq!(r.value.assignee_id, Some(w.ana.id));
    assert_eq!(attentions(&store, w.ws, conv.id).await.len(), 3);

    // Reopening a snoozed one wakes it, same attention.
    store.snooze(w.ws, conv.id, w.ana.id, T0 + 60 * MIN, T0 + 5 * MIN).await.expect("snooze");
    let r = store.reopen(w.ws, conv.id, w.ana.id, T0 + 6 * MIN).await.expect("wake");
    assert_eq!((r.value.status, r.value.snoozed_until), (Status::Open, None));
    assert_eq!(attentions(&store, w.ws, conv.id).await.len(), 3);
    assert!(store.claim_jobs(T0 + 120 * MIN, 1000, 10).await.expect("claim").is_empty(), "the wake-up job is gone");

    // Closing a snoozed conversation is allowed.
    store.snooze(w.ws, conv.id, w.ana.id, T0 + 60 * MIN, T0 + 7 * MIN).await.expect("snooze");
    store.close(w.ws, conv.id, w.ana.id, None, T0 + 8 * MIN).await.expect("close snoozed");
    assert!(store.claim_jobs(T0 + 120 * MIN, 1000, 10).await.expect("claim").is_empty());
    let other_ws = store.create_workspace("Other").await.expect("ws").id;
    assert_not_found(store.reopen(other_ws, conv.id, w.ana.id, T0).await);
}

async fn snooze_wakes_once_with_a_reminder(store: Arc<dyn Store>) {
    let w = world(&store).await;
    let conv = ingest(&store, inbound(w.channel.id, "p-1", "ext-1", "Maria", "Hello"), T0).await;
    store.assign(w.ws, conv.id, w.ana.id, Some(w.ana.id), None, T0).await.expect("take");
    assert_invalid(store.snooze(w.ws, conv.id, w.ana.id, T0 - 1, T0).await, "invalid_snooze");
    assert_invalid(store.snooze(w.ws, conv.id, w.ana.id, T0, T0).await, "invalid_snooze");
    let until = T0 + 60 * MIN;
    let r = store.snooze(w.ws, conv.id, w.ana.id, until, T0 + MIN).await.expect("snooze");
    assert_eq!(kinds(&r.events), ["message.created", "conversation.updated"]);
    assert_eq!((r.value.status, r.value.snoozed_until), (Status::Snoozed, Some(until)));
    assert_eq!(attentions(&store, w.ws, conv.id).await[0].status, Status::Snoozed);
    assert_invalid(store.snooze(w.ws, conv.id, w.ana.id, until, T0 + MIN).await, "not_open");

    assert!(store.claim_jobs(until - 1, 30_000, 10).await.expect("claim").is_empty());
    assert_eq!(store.next_job_at().await.expect("next"), Some(until));
    let jobs = store.claim_jobs(until, 30_000, 10).await.expect("claim");
    assert_eq!(jobs.len(), 1);
    assert_eq!((jobs[0].kind, Some(jobs[0].target_id)), (JobKind::SnoozeWake, conv.attention_id));
    let r = store.run_timer_job(&jobs[0], until).await.expect("wake");
    assert_eq!(kinds(&r.events), ["message.created", "conversation.updated", "notification.created"]);
    assert_eq!(r.events[2].user_id, Some(w.ana.id));
    let c = conversation(&store, w.ws, conv.id).await;
    assert_eq!((c.status, c.snoozed_until), (Status::Open, None));
    assert_eq!(attentions(&store, w.ws, conv.id).await.len(), 1);

    // Exactly once: the same job again does nothing.
    let r = store.run_timer_job(&jobs[0], until + 1).await.expect("again");
    assert!(r.events.is_empty());
    assert_eq!(notifications(&store, w.ws, w.ana.id, "snooze_reminder").await.len(), 1);

    // Snoozed again for later after the job was claimed: the old claim must not wake it early.
    store.snooze(w.ws, conv.id, w.ana.id, until + 10 * MIN, until + MIN).await.expect("snooze");
    let job = store.claim_jobs(until + 10 * MIN, 30_000, 10).await.expect("claim").remove(0);
    store.reopen(w.ws, conv.id, w.ana.id, until + 2 * MIN).await.expect("reopen");
    store.snooze(w.ws, conv.id, w.ana.id, until + 30 * MIN, until + 3 * MIN).await.expect("snooze later");
    let r = store.run_timer_job(&job, until + 10 * MIN).await.expect("early");
    assert!(r.events.is_empty());
    assert_eq!(conversation(&store, w.ws, conv.id).await.status, Status::Snoozed);
    let job = store.claim_jobs(until + 30 * MIN, 30_000, 10).await.expect("claim").remove(0);
    assert_eq!(store.run_timer_job(&job, until + 30 * MIN).await.expect("wake").events.len(), 3);
    assert_eq!(conversation(&store, w.ws, conv.id).await.status, Status::Open);
}

async fn auto_close_after_inactivity(store: Arc<dyn Store>) {
    let w = world(&store).await;
    let patch = ChannelPatch { auto_close_after_secs: Some(Some(600)), ..ChannelPatch::default() };
    store.update_channel(w.ws, w.channel.id, patch).await.expect("auto-close");
    let conv = ingest(&store, inbound(w.channel.id, "p-1", "ext-1", "Maria", "Hello"), T0).await;
    assert!(store.claim_jobs(T0 + 600_000 - 1, 30_000, 10).await.expect("claim").is_empty());
    let job = store.claim_jobs(T0 + 600_000, 30_000, 10).await.expect("claim").remove(0);
    assert_eq!((job.kind, Some(job.target_id)), (JobKind::AutoClose, conv.attention_id));

    // Activity after the claim moves the deadline: the claimed run closes nothing.
    send(&store, w.ws, conv.id, &w.ana, MessageKind::Outbound, "still here", T0 + 650_000).await;
    let deliver = store.claim_jobs(T0 + 650_000, 30_000, 10).await.expect("claim");
    assert!(deliver.iter().all(|j| j.kind == JobKind::Deliver));
    let r = store.run_timer_job(&job, T0 + 650_001).await.expect("run");
    assert!(r.events.is_empty());
    assert_eq!(conversation(&store, w.ws, conv.id).await.status, Status::Open);
    let early = store.claim_jobs(T0 + 1_250_000 - 1, 30_000, 10).await.expect("claim");
    assert!(early.iter().all(|j| j.kind != JobKind::AutoClose), "rescheduled to the new deadline: {early:?}");

    let jobs = store.claim_jobs(T0 + 1_250_000, 30_000, 10).await.expect("claim");
    let job = jobs.into_iter().find(|j| j.kind == JobKind::AutoClose).expect("auto-close job");
    let r = store.run_timer_job(&job, T0 + 1_250_000).await.expect("close");
    assert_eq!(kinds(&r.events), ["message.created", "conversation.updated"]);
    let c = conversation(&store, w.ws, conv.id).await;
    assert_eq!(c.status, Status::Closed);
    let atts = attentions(&store, w.ws, conv.id).await;
    assert_eq!(atts[0].close_reason.as_deref(), Some(CLOSE_REASON_INACTIVITY));
    assert_eq!(store.list_messages(w.ws, conv.id, None, 1).await.expect("h")[0].text, "Closed: inactivity");
    assert!(store.run_timer_job(&job, T0 + 1_250_001).await.expect("again").events.is_empty());

    // A snoozed attention never auto-closes.
    let conv2 = ingest(&store, inbound(w.channel.id, "p-2", "ext-2", "Juan", "Hola"), T0 + 2_000_000).await;
    store.snooze(w.ws, conv2.id, w.ana.id, T0 + 100_000_000, T0 + 2_000_001).await.expect("snooze");
    let jobs = store.claim_jobs(T0 + 50_000_000, 30_000, 10).await.expect("claim");
    assert!(jobs.iter().all(|j| j.kind != JobKind::AutoClose), "{jobs:?}");
}

/// Steps → (unanswered, no_reply_needed, due_at) after each.
async fn unanswered_and_no_reply_needed(store: Arc<dyn Store>) {
    let w = world(&store).await;
    #[derive(Debug)]
    enum Step {
        In(Millis),
        Out(Millis),
        Note(Millis),
        NoReply,
    }
    let limit = 900_000;
    let steps: &[(Step, bool, bool, Option<Millis>)] = &[
        (Step::In(T0), true, false, Some(T0 + limit)),
        (Step::In(T0 + MIN), true, false, Some(T0 + limit)),
        (Step::Note(T0 + 2 * MIN), true, false, Some(T0 + limit)),
        (Step::Out(T0 + 3 * MIN), false, false, None),
        (Step::In(T0 + 4 * MIN), true, false, Some(T0 + 4 * MIN + limit)),
        (Step::NoReply, false, true, None),
        (Step::Note(T0 + 5 * MIN), false, true, None),
        (Step::In(T0 + 6 * MIN), true, false, Some(T0 + 6 * MIN + limit)),
    ];
    let mut conv_id = None;
    for (i, (step, unanswered, no_reply, due)) in steps.iter().enumerate() {
        let p = format!("p-{i}");
        match step {
            Step::In(at) => conv_id = Some(ingest(&store, inbound(w.channel.id, &p, "ext-1", "M", "q"), *at).await.id),
            Step::Out(at) => {
                send(&store, w.ws, conv_id.expect("conv"), &w.ana, MessageKind::Outbound, "a", *at).await;
            }
            Step::Note(at) => {
                send(&store, w.ws, conv_id.expect("conv"), &w.ana, MessageKind::Note, "n", *at).await;
            }
            Step::NoReply => {
                let r = store.no_reply_needed(w.ws, conv_id.expect("conv"), w.ana.id, T0).await.expect("nrn");
                assert_eq!(kinds(&r.events), ["conversation.updated"]);
            }
        }
        let c = conversation(&store, w.ws, conv_id.expect("conv")).await;
        assert_eq!((c.unanswered, c.no_reply_needed, c.due_at), (*unanswered, *no_reply, *due), "step {i} {step:?}");
    }
}

// --- read state, detach, delete, drafts -------------------------------------------------------------------

async fn read_and_unread(store: Arc<dyn Store>) {
    let w = world(&store).await;
    let conv = ingest(&store, inbound(w.channel.id, "p-1", "ext-1", "Maria", "one"), T0).await;
    ingest(&store, inbound(w.channel.id, "p-2", "ext-1", "Maria", "two"), T0 + 1).await;
    let other = ingest(&store, inbound(w.channel.id, "p-3", "ext-2", "Juan", "hola"), T0 + 2).await;
    let ana = store.viewer(w.ws, w.ana.id).await.expect("viewer");
    let unread_of = |user: Id, c: Id| {
        let store = store.clone();
        async move {
            let conv = store.get_conversation(w.ws, c).await.expect("conv");
            store.conversation_row(user, conv).await.expect("row").read
        }
    };
    assert_eq!(unread_of(w.ana.id, conv.id).await.unread_count, 2);
    assert_eq!(store.unread_conversations(&ana).await.expect("unread"), 2);

    let r = store.mark_read(w.ws, w.ana.id, conv.id, T0 + MIN).await.expect("read");
    assert_eq!(kinds(&r.events), ["conversation.read"]);
    assert_eq!((r.events[0].user_id, r.events[0].access), (Some(w.ana.id), None));
    assert_eq!(r.events[0].payload["conversation_id"], conv.id);
    assert_eq!(r.events[0].payload["unread_count"], 0);
    assert_eq!((r.value.unread_count, r.value.marked_unread), (0, false));
    assert_eq!(store.unread_conversations(&ana).await.expect("unread"), 1);

    // Our own messages and notes are not unread; the next inbound is.
    send(&store, w.ws, conv.id, &w.ana, MessageKind::Outbound, "answer", T0 + 2 * MIN).await;
    send(&store, w.ws, conv.id, &w.ana, MessageKind::Note, "note", T0 + 2 * MIN).await;
    assert_eq!(unread_of(w.ana.id, conv.id).await.unread_count, 0);
    ingest(&store, inbound(w.channel.id, "p-4", "ext-1", "Maria", "three"), T0 + 3 * MIN).await;
    assert_eq!(unread_of(w.ana.id, conv.id).await.unread_count, 1);
    assert_eq!(unread_of(w.bob.id, conv.id).await.unread_count, 3, "per user");

    // Mark as unread: a flag for that user only.
    store.mark_read(w.ws, w.ana.id, conv.id, T0 + 4 * MIN).await.expect("read");
    store.mark_read(w.ws, w.ana.id, other.id, T0 + 4 * MIN).await.expect("read");
    assert_eq!(store.unread_conversations(&ana).await.expect("unread"), 0);
    let r = store.mark_unread(w.ws, w.ana.id, conv.id, T0 + 5 * MIN).await.expect("unread");
    assert_eq!((r.value.unread_count, r.value.marked_unread), (0, true));
    assert_eq!(r.events[0].payload["marked_unread"], true);
    assert_eq!(store.unread_conversations(&ana).await.expect("unread"), 1);
    let bob = store.viewer(w.ws, w.bob.id).await.expect("viewer");
    assert_eq!(store.unread_conversations(&bob).await.expect("unread"), 2);
    let r = store.mark_read(w.ws, w.ana.id, conv.id, T0 + 6 * MIN).await.expect("read");
    assert!(!r.value.marked_unread);
    assert_eq!(store.unread_conversations(&ana).await.expect("unread"), 0);

    // Only what the viewer sees counts.
    let admin = store.viewer(w.ws, w.admin.id).await.expect("viewer");
    assert_eq!(store.unread_conversations(&admin).await.expect("unread"), 2);
    store.assign(w.ws, other.id, w.admin.id, Some(w.bob.id), None, T0).await.expect("assign");
    let ana = store.viewer(w.ws, w.ana.id).await.expect("viewer");
    store.mark_unread(w.ws, w.ana.id, other.id, T0 + 7 * MIN).await.expect("unread");
    assert_eq!(store.unread_conversations(&ana).await.expect("unread"), 0, "bob's conversation is not ana's to count");

    let other_ws = store.create_workspace("Other").await.expect("ws").id;
    assert_not_found(store.mark_read(other_ws, w.ana.id, conv.id, T0).await);
    assert_not_found(store.mark_unread(other_ws, w.ana.id, conv.id, T0).await);
}

async fn detach_contact_keeps_identity_history(store: Arc<dyn Store>) {
    let w = world(&store).await;
    let conv = ingest(&store, inbound(w.channel.id, "p-1", "ext-1", "Maria", "Hello"), T0).await;
    let contact = conv.contact_id.expect("contact");
    let r = store.detach_contact(w.ws, conv.id, w.admin.id, T0 + MIN).await.expect("detach");
    assert_eq!(kinds(&r.events), ["message.created", "conversation.updated", "conversation.removed"]);
    assert_eq!(r.value.contact_id, None);
    assert_eq!(r.events[1].access.and_then(|a| a.contact_id), None);
    assert_eq!(r.events[2].access.and_then(|a| a.contact_id), Some(contact));
    let mut embedded = store.viewer(w.ws, w.admin.id).await.expect("viewer");
    embedded.allowed_contact_ids = Some(vec![contact]);
    assert!(embedded.can_see(&conv.access()) && !embedded.can_see(&r.value.access()));

    let row = store.conversation_row(w.ana.id, r.value.clone()).await.expect("row");
    assert!(row.contact.is_none());
    assert_eq!(row.identity.contact_id, None);
    assert_eq!(row.identity.external_id, "ext-1");
    assert!(store.contact_conversations(w.ws, contact).await.expect("list").is_empty());
    store.get_contact(w.ws, contact).await.expect("the contact record stays");
    assert_eq!(store.list_messages(w.ws, conv.id, None, 50).await.expect("history").len(), 2, "history stays");

    assert!(store.detach_contact(w.ws, conv.id, w.admin.id, T0 + MIN).await.expect("again").events.is_empty());
    let c = ingest(&store, inbound(w.channel.id, "p-2", "ext-1", "Maria", "Hi again"), T0 + 2 * MIN).await;
    assert_eq!((c.id, c.contact_id), (conv.id, None));
    send(&store, w.ws, conv.id, &w.ana, MessageKind::Outbound, "we can still answer", T0 + 3 * MIN).await;
}

async fn delete_conversations_removes_everything(store: Arc<dyn Store>) {
    let w = world(&store).await;
    let a1 = store.create_attachment(w.ws, "in.jpg", "image/jpeg", 10, "files/in", T0).await.expect("att");
    let a2 = store.create_attachment(w.ws, "out.pdf", "application/pdf", 20, "files/out", T0).await.expect("att");
    let mut msg = inbound(w.channel.id, "p-1", "ext-1", "Maria", "see photo");
    msg.attachment_ids = vec![a1.id];
    let c1 = ingest(&store, msg, T0).await;
    let mut out = outgoing(c1.id, &w.ana, MessageKind::Outbound, "see file");
    out.attachment_ids = vec![a2.id];
    store.send_message(w.ws, out, T0 + MIN).await.expect("send");
    store.put_draft(w.ws, w.ana.id, c1.id, "draft", T0).await.expect("draft");
    store.mark_read(w.ws, w.ana.id, c1.id, T0).await.expect("read");
    store.assign(w.ws, c1.id, w.admin.id, Some(w.bob.id), None, T0).await.expect("assign");
    let c2 = ingest(&store, inbound(w.channel.id, "p-2", "ext-2", "Juan", "hola"), T0).await;
    let keep = ingest(&store, inbound(w.channel.id, "p-3", "ext-3", "Keep", "stay"), T0).await;
    let other_ws = store.create_workspace("Other").await.expect("ws").id;

    assert_not_found(store.delete_conversations(other_ws, &[c1.id], T0).await);
    assert_not_found(store.delete_conversations(w.ws, &[c1.id, 999_999], T0).await);
    conversation(&store, w.ws, c1.id).await;

    let r = store.delete_conversations(w.ws, &[c1.id, c2.id, c1.id], T0 + 2 * MIN).await.expect("delete");
    let mut keys = r.value.clone();
    keys.sort();
    assert_eq!(keys, ["files/in", "files/out"]);
    assert_eq!(kinds(&r.events), ["conversation.deleted", "conversation.deleted"]);
    assert_eq!(r.events[0].payload, serde_json::json!({ "id": c1.id }));
    assert_eq!(r.events[0].access.and_then(|a| a.assignee_id), Some(w.bob.id));
    assert_not_found(store.get_conversation(w.ws, c1.id).await);
    assert_not_found(store.list_messages(w.ws, c2.id, None, 10).await);
    assert_not_found(store.list_attentions(w.ws, c1.id).await);
    assert_not_found(store.get_attachment(w.ws, a1.id).await);
    assert_not_found(store.get_draft(w.ws, w.ana.id, c1.id).await);
    assert!(store.claim_jobs(T0 + 60 * MIN, 1000, 100).await.expect("claim").is_empty(), "the outbox entry went too");
    assert!(notifications(&store, w.ws, w.bob.id, "assigned").await.is_empty());
    let admin = store.viewer(w.ws, w.admin.id).await.expect("viewer");
    let page = store.list_conversations(&admin, ConversationFilter::default()).await.expect("list");
    assert_eq!(page.items.iter().map(|r| r.conversation.id).collect::<Vec<_>>(), [keep.id]);
    assert_eq!(store.list_messages(w.ws, keep.id, None, 10).await.expect("kept").len(), 1);

    // The identity stays: the same sender starts a new conversation.
    let again = ingest(&store, inbound(w.channel.id, "p-4", "ext-1", "Maria", "back"), T0 + 3 * MIN).await;
    assert_ne!(again.id, c1.id);
    assert_eq!(again.contact_id, c1.contact_id);
    assert!(store.delete_conversations(w.ws, &[], T0).await.expect("none").events.is_empty());
}

async fn drafts_per_user(store: Arc<dyn Store>) {
    let w = world(&store).await;
    let conv = ingest(&store, inbound(w.channel.id, "p-1", "ext-1", "Maria", "Hello"), T0).await;
    assert_eq!(store.get_draft(w.ws, w.ana.id, conv.id).await.expect("draft"), None);
    let d = store.put_draft(w.ws, w.ana.id, conv.id, "Dear Maria", T0 + 1).await.expect("put");
    assert_eq!((d.text.as_str(), d.updated_at), ("Dear Maria", T0 + 1));
    store.put_draft(w.ws, w.ana.id, conv.id, "Dear Maria,", T0 + 2).await.expect("put");
    let got = store.get_draft(w.ws, w.ana.id, conv.id).await.expect("get").expect("some");
    assert_eq!((got.text.as_str(), got.updated_at, got.user_id), ("Dear Maria,", T0 + 2, w.ana.id));
    assert_eq!(store.get_draft(w.ws, w.bob.id, conv.id).await.expect("bob"), None);
    let row = store.conversation_row(w.ana.id, conv.clone()).await.expect("row");
    assert_eq!(row.draft.as_deref(), Some("Dear Maria,"));
    assert_eq!(store.conversation_row(w.bob.id, conv.clone()).await.expect("row").draft, None);
    store.put_draft(w.ws, w.ana.id, conv.id, "", T0 + 3).await.expect("clear");
    assert_eq!(store.get_draft(w.ws, w.ana.id, conv.id).await.expect("draft"), None);
    let other_ws = store.create_workspace("Other").await.expect("ws").id;
    assert_not_found(store.put_draft(other_ws, w.ana.id, conv.id, "x", T0).await);
    assert_not_found(store.get_draft(other_ws, w.ana.id, conv.id).await);
}

async fn other_workspace_reads_as_not_found(store: Arc<dyn Store>) {
    let w = world(&store).await;
    let conv = ingest(&store, inbound(w.channel.id, "p-1", "ext-1", "Maria", "Hello"), T0).await;
    let o = store.create_workspace("Other").await.expect("ws").id;
    let m = conv.last_message_id.expect("message");
    assert_not_found(store.get_conversation(o, conv.id).await);
    assert_not_found(store.get_message(o, m).await);
    assert_not_found(store.list_attentions(o, conv.id).await);
    assert_not_found(store.list_messages(o, conv.id, None, 10).await);
    assert_not_found(store.close(o, conv.id, w.ana.id, None, T0).await);
    assert_not_found(store.snooze(o, conv.id, w.ana.id, T0 + MIN, T0).await);
    assert_not_found(store.no_reply_needed(o, conv.id, w.ana.id, T0).await);
    assert_not_found(store.detach_contact(o, conv.id, w.ana.id, T0).await);
    assert_not_found(store.contact_conversations(o, conv.contact_id.expect("contact")).await);
    let mine = store.contact_conversations(w.ws, conv.contact_id.expect("contact")).await.expect("list");
    assert_eq!(mine.iter().map(|c| c.id).collect::<Vec<_>>(), [conv.id]);
}

conformance!(
    ingest_creates_contact_conversation_attention_and_events,
    duplicate_provider_id_is_stored_once,
    inbound_into_open_conversations,
    log_followers_never_skip_events,
    messages_open_wake_or_keep,
    blocked_contact_is_kept_hidden_and_refused,
    auto_routing_picks_online_member_with_fewest_open,
    inbound_attachments_are_linked_once,
    send_is_idempotent_and_goes_through_the_outbox,
    send_validation,
    receipts_never_move_status_backwards,
    assign_takes_transfers_and_changes_closed,
    close_and_reopen,
    snooze_wakes_once_with_a_reminder,
    auto_close_after_inactivity,
    unanswered_and_no_reply_needed,
    read_and_unread,
    detach_contact_keeps_identity_history,
    delete_conversations_removes_everything,
    drafts_per_user,
    other_workspace_reads_as_not_found,
);
