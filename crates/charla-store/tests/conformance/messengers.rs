//! Messenger channels: templates and the reply window, receipts by provider id (also before
//! the send is recorded), identity profiles and group authors, provider event lines, merging
//! contacts.

use crate::conversations::{MIN, T0, assert_invalid, assert_not_found, channel, inbound, kinds, outgoing, send, world};
use charla_core::*;
use charla_store::*;
use std::sync::Arc;

const DAY: Millis = 24 * 60 * MIN;

async fn messenger(store: &Arc<dyn Store>, ws: Id, kind: ChannelKind, name: &str) -> Channel {
    let ch = NewChannel { kind, max_message_length: kind.default_max_message_length(), ..channel(ws, name) };
    store.create_channel(ch).await.expect("channel")
}

fn template(
    name: &str,
    language: &str,
    body: &str,
    status: TemplateStatus,
    provider_id: Option<&str>,
) -> TemplateInput {
    TemplateInput {
        name: name.into(),
        language: language.into(),
        category: "UTILITY".into(),
        body: body.into(),
        status,
        rejection_reason: None,
        provider_id: provider_id.map(str::to_string),
    }
}

fn template_ref(name: &str, params: &[&str]) -> TemplateRef {
    TemplateRef { name: name.into(), language: "es".into(), params: params.iter().map(|p| p.to_string()).collect() }
}

async fn templates_are_saved_synced_and_scoped(store: Arc<dyn Store>) {
    let w = world(&store).await;
    let wa = messenger(&store, w.ws, ChannelKind::Whatsapp, "wa").await;

    let local = store
        .save_template(w.ws, wa.id, template("draft_note", "es", "Hola {{1}}", TemplateStatus::Pending, None), T0)
        .await
        .expect("save");
    assert_eq!((local.name.as_str(), local.category.as_str(), local.provider_id), ("draft_note", "utility", None));

    let list = vec![
        template("order_ready", "es", "Tu pedido {{1}} está listo", TemplateStatus::Approved, Some("t-1")),
        template("order_ready", "en_US", "Your order {{1}} is ready", TemplateStatus::Approved, Some("t-2")),
        template("promo", "es", "Oferta", TemplateStatus::Rejected, Some("t-3")),
    ];
    let synced = store.sync_templates(w.ws, wa.id, list, T0 + MIN).await.expect("sync");
    let names: Vec<(String, String)> = synced.iter().map(|t| (t.name.clone(), t.language.clone())).collect();
    assert_eq!(
        names,
        [("draft_note", "es"), ("order_ready", "en_US"), ("order_ready", "es"), ("promo", "es")]
            .map(|(n, l)| (n.to_string(), l.to_string()))
    );
    let ready_es = synced.iter().find(|t| t.name == "order_ready" && t.language == "es").expect("es").clone();

    // A second sync updates in place and forgets provider templates no longer listed; the one
    // made in Charla stays.
    let list = vec![template("order_ready", "es", "Pedido {{1}} listo", TemplateStatus::Approved, Some("t-1"))];
    let synced = store.sync_templates(w.ws, wa.id, list, T0 + 2 * MIN).await.expect("sync again");
    assert_eq!(synced.len(), 2);
    let again = store.get_template(w.ws, ready_es.id).await.expect("same id");
    assert_eq!((again.body.as_str(), again.updated_at), ("Pedido {{1}} listo", T0 + 2 * MIN));
    assert!(synced.iter().any(|t| t.id == local.id));

    // Scoped to the workspace and channel.
    let other_ws = store.create_workspace("Other").await.expect("ws").id;
    assert_not_found(store.get_template(other_ws, ready_es.id).await);
    assert_not_found(store.list_templates(other_ws, wa.id).await);
    assert!(store.list_templates(w.ws, w.channel.id).await.expect("api channel").is_empty());
    assert_not_found(store.delete_template(other_ws, local.id).await);

    assert_invalid(
        store.save_template(w.ws, wa.id, template("", "es", "x", TemplateStatus::Approved, None), T0).await,
        "invalid_template",
    );
    assert_invalid(
        store.save_template(w.ws, wa.id, template("x", "", "x", TemplateStatus::Approved, None), T0).await,
        "invalid_template",
    );
    assert_invalid(
        store.sync_templates(w.ws, wa.id, vec![template("x", "es", " ", TemplateStatus::Approved, None)], T0).await,
        "invalid_template",
    );

    store.delete_template(w.ws, local.id).await.expect("delete");
    assert_not_found(store.get_template(w.ws, local.id).await);
}

async fn templates_pass_the_whatsapp_window(store: Arc<dyn Store>) {
    let w = world(&store).await;
    let wa = messenger(&store, w.ws, ChannelKind::Whatsapp, "wa").await;
    let conv = crate::conversations::ingest(&store, inbound(wa.id, "wamid.1", "34600000001", "Lola", "hola"), T0).await;
    let late = T0 + DAY + MIN;

    let free = store.send_message(w.ws, outgoing(conv.id, &w.ana, MessageKind::Outbound, "hola"), late).await;
    assert_invalid(free, "whatsapp_window_closed");

    let with_template = NewOutgoing {
        template: Some(template_ref("order_ready", &["#12"])),
        ..outgoing(conv.id, &w.ana, MessageKind::Outbound, "Tu pedido #12 está listo")
    };
    let m = store.send_message(w.ws, with_template, late).await.expect("template outside the window");
    assert_eq!(m.value.status, MessageStatus::Queued);
    let job = store.claim_jobs(late, 30_000, 10).await.expect("claim").remove(0);
    let d = store.delivery(&job).await.expect("delivery");
    assert_eq!(d.template, Some(template_ref("order_ready", &["#12"])));
    assert_eq!(d.message.text, "Tu pedido #12 está listo");
    assert_eq!(d.reply_to_provider_id, None);

    // The template limit, not the channel's, and no attachments.
    let long = NewOutgoing {
        template: Some(template_ref("long", &[])),
        ..outgoing(conv.id, &w.ana, MessageKind::Outbound, &"x".repeat(1025))
    };
    assert_invalid(store.send_message(w.ws, long, late).await, "message_too_long");
    let fits = NewOutgoing {
        template: Some(template_ref("long", &[])),
        ..outgoing(conv.id, &w.ana, MessageKind::Outbound, &"x".repeat(1024))
    };
    store.send_message(w.ws, fits, late).await.expect("1024 fits");
    let note =
        NewOutgoing { template: Some(template_ref("x", &[])), ..outgoing(conv.id, &w.ana, MessageKind::Note, "n") };
    assert_invalid(store.send_message(w.ws, note, late).await, "invalid_kind");

    // A new message from the contact reopens the window; a reply quoting it carries its id.
    let conv =
        crate::conversations::ingest(&store, inbound(wa.id, "wamid.2", "34600000001", "Lola", "¿y?"), late).await;
    let quoted = conv.last_message_id.expect("last");
    let reply = NewOutgoing { reply_to: Some(quoted), ..outgoing(conv.id, &w.ana, MessageKind::Outbound, "sí") };
    let r = store.send_message(w.ws, reply, late + MIN).await.expect("inside the window");
    let job = store
        .claim_jobs(late + MIN, 30_000, 10)
        .await
        .expect("claim")
        .into_iter()
        .find(|j| j.target_id == r.value.id)
        .expect("job");
    assert_eq!(store.delivery(&job).await.expect("delivery").reply_to_provider_id.as_deref(), Some("wamid.2"));

    // Instagram: nothing passes a closed window.
    let ig = messenger(&store, w.ws, ChannelKind::Instagram, "ig").await;
    let conv = crate::conversations::ingest(&store, inbound(ig.id, "mid.1", "igsid-1", "Pia", "hi"), T0).await;
    send(&store, w.ws, conv.id, &w.ana, MessageKind::Outbound, "hello", T0 + DAY).await;
    let free = store.send_message(w.ws, outgoing(conv.id, &w.ana, MessageKind::Outbound, "x"), late).await;
    assert_invalid(free, "instagram_window_closed");
    let t =
        NewOutgoing { template: Some(template_ref("x", &[])), ..outgoing(conv.id, &w.ana, MessageKind::Outbound, "x") };
    assert_invalid(store.send_message(w.ws, t, late).await, "instagram_window_closed");
    // Telegram has no window.
    let tg = messenger(&store, w.ws, ChannelKind::Telegram, "tg").await;
    let conv = crate::conversations::ingest(&store, inbound(tg.id, "1:1", "1", "Tom", "hi"), T0).await;
    send(&store, w.ws, conv.id, &w.ana, MessageKind::Outbound, "much later", T0 + 30 * DAY).await;
}

/// Sends an outbound message and records the provider's id for it.
async fn sent_with_provider_id(
    store: &Arc<dyn Store>,
    ws: Id,
    conv: Id,
    user: &User,
    pid: &str,
    now: Millis,
) -> Message {
    let m = send(store, ws, conv, user, MessageKind::Outbound, "hola", now).await;
    let job = store
        .claim_jobs(now, 30_000, 50)
        .await
        .expect("claim")
        .into_iter()
        .find(|j| j.target_id == m.id)
        .expect("job of the message");
    let done = store
        .finish_delivery(&job, DeliveryOutcome::Sent { provider_id: Some(pid.into()) }, now)
        .await
        .expect("finish");
    done.value
}

async fn receipts_by_provider_id(store: Arc<dyn Store>) {
    let w = world(&store).await;
    let wa = messenger(&store, w.ws, ChannelKind::Whatsapp, "wa").await;
    let conv = crate::conversations::ingest(&store, inbound(wa.id, "wamid.in", "34600000002", "Eva", "hola"), T0).await;

    let m = sent_with_provider_id(&store, w.ws, conv.id, &w.ana, "wamid.out-1", T0 + MIN).await;
    assert_eq!(m.status, MessageStatus::Sent);
    let by_id = |pid: &'static str, status: MessageStatus, error: Option<&'static str>, at: Millis| {
        let store = store.clone();
        async move {
            store
                .update_status_by_provider_id(wa.id, pid, status, error.map(str::to_string), at)
                .await
                .expect("receipt")
        }
    };
    let r = by_id("wamid.out-1", MessageStatus::Read, None, T0 + 2 * MIN).await;
    assert_eq!(r.value.as_ref().map(|m| m.status), Some(MessageStatus::Read));
    assert_eq!(kinds(&r.events), ["message.updated"]);
    // Late and repeated receipts change nothing.
    let r = by_id("wamid.out-1", MessageStatus::Delivered, None, T0 + 3 * MIN).await;
    assert_eq!(r.value.as_ref().map(|m| m.status), Some(MessageStatus::Read));
    assert!(r.events.is_empty());
    let r = by_id("wamid.out-1", MessageStatus::Sent, None, T0 + 3 * MIN).await;
    assert!(r.events.is_empty());
    // Another channel's receipt for the same id finds nothing.
    let other = messenger(&store, w.ws, ChannelKind::Whatsapp, "wa2").await;
    let r = store.update_status_by_provider_id(other.id, "wamid.out-1", MessageStatus::Failed, None, T0).await;
    assert!(r.expect("kept").value.is_none());

    // The inbound message and the outbound one are found by their provider ids.
    let found = store.find_by_provider_id(wa.id, "wamid.in").await.expect("find").expect("inbound");
    assert_eq!(found.kind, MessageKind::Inbound);
    let found = store.find_by_provider_id(wa.id, "wamid.out-1").await.expect("find").expect("outbound");
    assert_eq!(found.id, m.id);
    assert!(store.find_by_provider_id(wa.id, "nope").await.expect("find").is_none());
    assert!(store.find_by_provider_id(other.id, "wamid.in").await.expect("find").is_none());

    // Receipts that overtake the send's answer are applied when it is recorded, in order.
    let m2 = send(&store, w.ws, conv.id, &w.ana, MessageKind::Outbound, "¿sigues?", T0 + 4 * MIN).await;
    let r = by_id("wamid.out-2", MessageStatus::Read, None, T0 + 4 * MIN).await;
    assert!(r.value.is_none() && r.events.is_empty());
    by_id("wamid.out-2", MessageStatus::Delivered, None, T0 + 4 * MIN).await;
    let job = store.claim_jobs(T0 + 4 * MIN, 30_000, 10).await.expect("claim").remove(0);
    assert_eq!(job.target_id, m2.id);
    let done = store
        .finish_delivery(&job, DeliveryOutcome::Sent { provider_id: Some("wamid.out-2".into()) }, T0 + 5 * MIN)
        .await
        .expect("finish");
    assert_eq!(done.value.status, MessageStatus::Read);
    assert_eq!(kinds(&done.events), ["message.updated"]);

    // A failure receipt before the answer: failed with its reason.
    let m3 = send(&store, w.ws, conv.id, &w.ana, MessageKind::Outbound, "x", T0 + 6 * MIN).await;
    by_id("wamid.out-3", MessageStatus::Failed, Some("outside the window"), T0 + 6 * MIN).await;
    let job = store.claim_jobs(T0 + 6 * MIN, 30_000, 10).await.expect("claim").remove(0);
    assert_eq!(job.target_id, m3.id);
    let done = store
        .finish_delivery(&job, DeliveryOutcome::Sent { provider_id: Some("wamid.out-3".into()) }, T0 + 7 * MIN)
        .await
        .expect("finish");
    assert_eq!((done.value.status, done.value.error.as_deref()), (MessageStatus::Failed, Some("outside the window")));

    // Extra ids of a message sent in several parts find it too.
    store.add_provider_ids(wa.id, m.id, &["wamid.part-2".into(), " ".into()]).await.expect("add");
    assert_eq!(store.find_by_provider_id(wa.id, "wamid.part-2").await.expect("find").map(|x| x.id), Some(m.id));
    assert_not_found(store.add_provider_ids(other.id, m.id, &["x".into()]).await);

    // A deferred delivery is not an attempt.
    let m4 = send(&store, w.ws, conv.id, &w.ana, MessageKind::Outbound, "later", T0 + 8 * MIN).await;
    let job = store.claim_jobs(T0 + 8 * MIN, 30_000, 10).await.expect("claim").remove(0);
    let r =
        store.finish_delivery(&job, DeliveryOutcome::Defer { at: T0 + 9 * MIN }, T0 + 8 * MIN).await.expect("defer");
    assert_eq!((r.value.id, r.value.status), (m4.id, MessageStatus::Queued));
    assert!(r.events.is_empty());
    assert!(store.claim_jobs(T0 + 8 * MIN + 1, 30_000, 10).await.expect("claim").is_empty());
    let job = store.claim_jobs(T0 + 9 * MIN, 30_000, 10).await.expect("claim").remove(0);
    assert_eq!((job.target_id, job.attempts), (m4.id, 0));
}

async fn profiles_groups_and_quotes(store: Arc<dyn Store>) {
    let w = world(&store).await;
    let tg = messenger(&store, w.ws, ChannelKind::Telegram, "tg").await;
    let profile = IdentityProfile {
        username: Some("ana_tg".into()),
        first_name: Some("Ana".into()),
        last_name: Some("Pérez".into()),
        phone: None,
    };
    let msg = InboundMessage {
        contact: ContactInput {
            external_id: "5001".into(),
            name: Some("Ana Pérez".into()),
            username: Some("ana_tg".into()),
            ..ContactInput::default()
        },
        ..inbound(tg.id, "5001:10", "5001", "Ana Pérez", "hola")
    };
    let extra = InboundExtra { profile: Some(profile.clone()), ..InboundExtra::default() };
    let got = store.ingest_inbound_with(msg, extra, T0).await.expect("ingest").value;
    let contact_id = got.conversation.contact_id.expect("contact");
    let contact = store.get_contact(w.ws, contact_id).await.expect("contact");
    assert_eq!((contact.telegram_id.as_deref(), contact.telegram_username.as_deref()), (Some("5001"), Some("ana_tg")));
    let ids = store.contact_identities(w.ws, contact_id).await.expect("identities");
    assert_eq!(ids.len(), 1);
    assert_eq!((ids[0].channel_kind, ids[0].identity.external_id.as_str()), (ChannelKind::Telegram, "5001"));
    assert_eq!(ids[0].profile, profile);
    assert_eq!(ids[0].conversation_id, Some(got.conversation.id));

    // A reply quoting the first message, in the same chat.
    let extra = InboundExtra { reply_to_provider_id: Some("5001:10".into()), ..InboundExtra::default() };
    let reply = store
        .ingest_inbound_with(inbound(tg.id, "5001:11", "5001", "Ana Pérez", "¿me oyes?"), extra, T0 + MIN)
        .await
        .expect("reply")
        .value;
    assert_eq!(reply.message.reply_to, Some(got.message.id));
    // A quote of an unknown message or of another conversation is left out.
    let extra = InboundExtra { reply_to_provider_id: Some("5001:10".into()), ..InboundExtra::default() };
    let elsewhere = store
        .ingest_inbound_with(inbound(tg.id, "6001:1", "6001", "Leo", "hey"), extra, T0 + MIN)
        .await
        .expect("other")
        .value;
    assert_eq!(elsewhere.message.reply_to, None);

    // A group: one conversation for the chat, each message by its author.
    let group = |pid: &str, author: &str, text: &str| {
        let msg = InboundMessage { is_group: true, ..inbound(tg.id, pid, "-100777", "Equipo", text) };
        (msg, InboundExtra { author_name: Some(author.into()), ..InboundExtra::default() })
    };
    let (m, e) = group("-100777:1", "Ana", "buenas");
    let first = store.ingest_inbound_with(m, e, T0 + 2 * MIN).await.expect("group").value;
    let (m, e) = group("-100777:2", "Luis", "hola a todos");
    let second = store.ingest_inbound_with(m, e, T0 + 3 * MIN).await.expect("group").value;
    assert!(first.conversation.is_group);
    assert_eq!(first.conversation.id, second.conversation.id);
    assert_eq!((first.message.author.name.as_str(), second.message.author.name.as_str()), ("Ana", "Luis"));
    let group_contact = store.get_contact(w.ws, first.conversation.contact_id.expect("c")).await.expect("c");
    assert_eq!(group_contact.telegram_id, None, "a group's id is not a user's");
}

async fn provider_events_become_lines(store: Arc<dyn Store>) {
    let w = world(&store).await;
    let wa = messenger(&store, w.ws, ChannelKind::Whatsapp, "wa").await;
    let event = |id: &str, ext: &str, about: Option<&str>| InboundEvent {
        channel_id: wa.id,
        provider_event_id: id.into(),
        external_id: ext.into(),
        text: "Eva reacted 👍".into(),
        about_provider_id: about.map(str::to_string),
    };
    // No conversation yet: nothing is written, the caller stores a message instead.
    let none = store.ingest_event(event("ev-0", "34600000003", None), T0).await.expect("event");
    assert!(none.value.is_none() && none.events.is_empty());

    let conv = crate::conversations::ingest(&store, inbound(wa.id, "wamid.a", "34600000003", "Eva", "hola"), T0).await;
    let line = store.ingest_event(event("ev-1", "34600000003", Some("wamid.a")), T0 + MIN).await.expect("event");
    let m = line.value.expect("line");
    assert_eq!((m.kind, m.text.as_str(), m.conversation_id), (MessageKind::Event, "Eva reacted 👍", conv.id));
    assert_eq!(m.reply_to, conv.last_message_id);
    assert_eq!(kinds(&line.events), ["message.created"]);
    let again = store.ingest_event(event("ev-1", "34600000003", Some("wamid.a")), T0 + 2 * MIN).await.expect("dup");
    assert_eq!(again.value.map(|x| x.id), Some(m.id));
    assert!(again.events.is_empty());
    // The line changes neither the status nor the unanswered mark nor the last message.
    let after = store.get_conversation(w.ws, conv.id).await.expect("conv");
    assert_eq!((after.last_message_id, after.unanswered, after.status), (conv.last_message_id, true, conv.status));
    // The same event id on another channel is another event; an empty id is refused.
    assert_invalid(store.ingest_event(event(" ", "34600000003", None), T0).await, "invalid_event");

    // A blocked contact's events are kept hidden, without events.
    store.set_contact_blocked(w.ws, conv.contact_id.expect("c"), true).await.expect("block");
    let hidden = store.ingest_event(event("ev-2", "34600000003", None), T0 + 3 * MIN).await.expect("hidden");
    assert!(hidden.value.is_some() && hidden.events.is_empty());
    let visible = store.list_messages(w.ws, conv.id, None, 50).await.expect("messages");
    assert!(visible.iter().all(|x| x.provider_id.as_deref() != Some("ev-2")));
}

async fn merging_contacts(store: Arc<dyn Store>) {
    let w = world(&store).await;
    let wa = messenger(&store, w.ws, ChannelKind::Whatsapp, "wa").await;
    let tg = messenger(&store, w.ws, ChannelKind::Telegram, "tg").await;
    let wa_msg = InboundMessage {
        contact: ContactInput {
            external_id: "34600000004".into(),
            name: Some("Marta".into()),
            phone: Some("+34600000004".into()),
            ..ContactInput::default()
        },
        ..inbound(wa.id, "wamid.m", "34600000004", "Marta", "hola")
    };
    let wa_conv = crate::conversations::ingest(&store, wa_msg, T0).await;
    let tg_msg = InboundMessage {
        contact: ContactInput {
            external_id: "7001".into(),
            name: Some("Marta G".into()),
            username: Some("marta_g".into()),
            ..ContactInput::default()
        },
        ..inbound(tg.id, "7001:1", "7001", "Marta G", "hi")
    };
    let tg_conv = crate::conversations::ingest(&store, tg_msg, T0 + MIN).await;
    let into = wa_conv.contact_id.expect("wa contact");
    let from = tg_conv.contact_id.expect("tg contact");
    let vip = store.create_tag(w.ws, "VIP", "#ff0000", false).await.expect("tag");
    let new = store.create_tag(w.ws, "New", "#00ff00", false).await.expect("tag");
    store.set_contact_tags(w.ws, into, &[vip.id]).await.expect("tags");
    store.set_contact_tags(w.ws, from, &[vip.id, new.id]).await.expect("tags");
    store
        .update_contact(
            w.ws,
            into,
            ContactPatch { custom_attributes: Some(r#"{"plan":"pro"}"#.into()), ..Default::default() },
        )
        .await
        .expect("attrs");
    store
        .update_contact(
            w.ws,
            from,
            ContactPatch {
                email: Some(Some("marta@example.com".into())),
                custom_attributes: Some(r#"{"plan":"free","city":"Vigo"}"#.into()),
                ..Default::default()
            },
        )
        .await
        .expect("attrs");

    assert_invalid(store.merge_contacts(w.ws, into, into, T0).await, "invalid_merge");
    let other_ws = store.create_workspace("Other").await.expect("ws").id;
    assert_not_found(store.merge_contacts(other_ws, into, from, T0).await);

    let merged = store.merge_contacts(w.ws, into, from, T0 + 2 * MIN).await.expect("merge");
    let c = merged.value;
    assert_eq!(c.id, into);
    assert_eq!(c.name, "Marta");
    assert_eq!(c.phone.as_deref(), Some("+34600000004"));
    assert_eq!(c.email.as_deref(), Some("marta@example.com"));
    assert_eq!((c.telegram_id.as_deref(), c.telegram_username.as_deref()), (Some("7001"), Some("marta_g")));
    assert_eq!(c.tag_ids, {
        let mut t = vec![vip.id, new.id];
        t.sort_unstable();
        t
    });
    let attrs: serde_json::Value = serde_json::from_str(&c.custom_attributes).expect("json");
    assert_eq!(attrs, serde_json::json!({"plan": "pro", "city": "Vigo"}));
    let k = kinds(&merged.events);
    assert!(
        k.contains(&"contact.updated") && k.contains(&"contact.deleted") && k.contains(&"conversation.updated"),
        "{k:?}"
    );

    assert_not_found(store.get_contact(w.ws, from).await);
    let convs = store.contact_conversations(w.ws, into).await.expect("conversations");
    let mut ids: Vec<Id> = convs.iter().map(|v| v.id).collect();
    ids.sort_unstable();
    assert_eq!(ids, {
        let mut v = vec![wa_conv.id, tg_conv.id];
        v.sort_unstable();
        v
    });
    let identities = store.contact_identities(w.ws, into).await.expect("identities");
    let mut kinds_of: Vec<ChannelKind> = identities.iter().map(|i| i.channel_kind).collect();
    kinds_of.sort_by_key(|k| k.as_str());
    assert_eq!(kinds_of, [ChannelKind::Telegram, ChannelKind::Whatsapp]);
    // Later messages on the merged identity stay with the merged contact.
    let later =
        crate::conversations::ingest(&store, inbound(tg.id, "7001:2", "7001", "Marta G", "again"), T0 + 3 * MIN).await;
    assert_eq!(later.contact_id, Some(into));
    let history = store.list_messages(w.ws, tg_conv.id, None, 10).await.expect("history");
    assert!(history.iter().filter(|m| m.kind == MessageKind::Inbound).all(|m| m.author.id == Some(into)));
    assert_not_found(store.contact_identities(w.ws, from).await);
}

conformance!(
    templates_are_saved_synced_and_scoped,
    templates_pass_the_whatsapp_window,
    receipts_by_provider_id,
    profiles_groups_and_quotes,
    provider_events_become_lines,
    merging_contacts,
);
