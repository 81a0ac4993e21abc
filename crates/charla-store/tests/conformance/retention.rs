//! Settings, the 30-day retention of a blocked contact's hidden messages, structured history lines.

use crate::conversations::{inbound, ingest, world};
use charla_store::Store;
use std::sync::Arc;

const DAY: i64 = 24 * 3600 * 1000;
const T0: i64 = 1_700_000_000_000;

async fn settings_round_trip(store: Arc<dyn Store>) {
    assert_eq!(store.get_setting("embed_secret:1").await.expect("get"), None);
    store.put_setting("embed_secret:1", "abc").await.expect("put");
    store.put_setting("embed_secret:1", "def").await.expect("replace");
    assert_eq!(store.get_setting("embed_secret:1").await.expect("get").as_deref(), Some("def"));
}

async fn hidden_messages_are_listed_for_admins_then_purged(store: Arc<dyn Store>) {
    let w = world(&store).await;
    let conv = ingest(&store, inbound(w.channel.id, "p-1", "ext-1", "Spammer", "hi"), T0).await;
    let contact = conv.contact_id.expect("contact");
    store.set_contact_blocked(w.ws, contact, true).await.expect("block");
    let old = store.ingest_inbound(inbound(w.channel.id, "p-2", "ext-1", "Spammer", "old spam"), T0 + DAY).await;
    let new = store.ingest_inbound(inbound(w.channel.id, "p-3", "ext-1", "Spammer", "new spam"), T0 + 20 * DAY).await;
    let (old, new) = (old.expect("old").value.message.id, new.expect("new").value.message.id);

    let hidden = store.list_hidden_messages(w.ws, contact, 50).await.expect("hidden");
    assert_eq!(hidden.iter().map(|m| m.id).collect::<Vec<_>>(), vec![new, old]);
    // Another workspace sees nothing of it.
    assert!(store.list_hidden_messages(w.ws + 1000, contact, 50).await.expect("other ws").is_empty());

    // 30 days after the first hidden message, it is purged; the newer one stays.
    store.purge_hidden_messages(T0 + 31 * DAY - 30 * DAY + DAY).await.expect("purge");
    let hidden = store.list_hidden_messages(w.ws, contact, 50).await.expect("hidden");
    assert_eq!(hidden.iter().map(|m| m.id).collect::<Vec<_>>(), vec![new]);
    // Visible history is untouched.
    let shown = store.list_messages(w.ws, conv.id, None, 50).await.expect("messages");
    assert_eq!(shown.iter().filter(|m| m.text == "hi").count(), 1);
}

/// History lines carry what happened as data, so the operator app can say it in any language.
async fn event_lines_carry_structured_data(store: Arc<dyn Store>) {
    let w = world(&store).await;
    let conv = ingest(&store, inbound(w.channel.id, "p-1", "ext-1", "Ana", "hola"), T0).await;
    store.assign(w.ws, conv.id, w.admin.id, Some(w.ana.id), None, T0 + 1).await.expect("assign");
    store.assign(w.ws, conv.id, w.admin.id, Some(w.bob.id), None, T0 + 2).await.expect("transfer");
    store.snooze(w.ws, conv.id, w.bob.id, T0 + DAY, T0 + 3).await.expect("snooze");
    store.close(w.ws, conv.id, w.bob.id, None, T0 + 4).await.expect("close");
    store.reopen(w.ws, conv.id, w.bob.id, T0 + 5).await.expect("reopen");
    let history = store.list_messages(w.ws, conv.id, None, 50).await.expect("messages");
    let events: Vec<serde_json::Value> = history
        .iter()
        .rev()
        .filter(|m| m.kind == charla_core::MessageKind::Event)
        .map(|m| serde_json::from_str(m.event.as_deref().expect("event data")).expect("json"))
        .collect();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().expect("type")).collect();
    assert_eq!(types, vec!["assigned", "transferred", "snoozed", "closed", "reopened"]);
    assert_eq!(events[0]["to"], w.ana.name.as_str());
    assert_eq!(
        (events[1]["from"].as_str(), events[1]["to"].as_str()),
        (Some(w.ana.name.as_str()), Some(w.bob.name.as_str()))
    );
    assert_eq!(events[2]["until"], T0 + DAY);
    // Customer messages have none.
    assert!(history.iter().filter(|m| m.kind != charla_core::MessageKind::Event).all(|m| m.event.is_none()));
}

conformance!(settings_round_trip, hidden_messages_are_listed_for_admins_then_purged, event_lines_carry_structured_data);
