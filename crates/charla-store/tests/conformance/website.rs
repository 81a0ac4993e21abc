//! The website channel: visitors and page views, what a visitor reads of their conversation,
//! receipts, ending a chat, joining a channel, availability, public ratings.

use crate::conversations::{
    MIN, T0, World, assert_invalid, assert_not_found, channel, inbound, ingest, kinds, send, world,
};
use charla_core::*;
use charla_store::*;
use std::sync::Arc;

conformance!(
    visits_keep_the_last_page_views,
    a_visitor_reads_only_messages_not_notes,
    receipts_move_forward_only,
    the_visitor_ends_the_chat,
    operators_join_and_leave,
    availability_counts_online_members_with_capacity,
    public_ratings_leave_hidden_ones_out,
    visitor_email_is_checked_and_kept,
);

async fn website(store: &Arc<dyn Store>, w: &World) -> Channel {
    let mut ch = channel(w.ws, "site");
    ch.kind = ChannelKind::Website;
    ch.webhook_url = None;
    let ch = store.create_channel(ch).await.expect("website channel");
    store.set_channel_members(w.ws, ch.id, &[w.ana.id, w.bob.id]).await.expect("members").value
}

fn page(url: &str, at: Millis) -> Option<PageView> {
    Some(PageView { url: url.into(), title: format!("Title of {url}"), viewed_at: at })
}

async fn visits_keep_the_last_page_views(store: Arc<dyn Store>) {
    let w = world(&store).await;
    let site = website(&store, &w).await;
    for i in 0..20 {
        let v = store
            .record_visit(site.id, "v_1", Some("ES".into()), page(&format!("https://shop.test/p{i}"), T0 + i), T0 + i)
            .await
            .expect("visit");
        assert_eq!(v.external_id, "v_1");
        assert_eq!(v.workspace_id, w.ws);
    }
    // A visit without a country keeps the known one.
    store.record_visit(site.id, "v_1", None, None, T0 + 100).await.expect("visit");
    let d = store.website_visitor(site.id, "v_1").await.expect("read").expect("known visitor");
    assert_eq!(d.visitor.country.as_deref(), Some("ES"));
    assert_eq!(d.visitor.last_seen_at, T0 + 100);
    assert_eq!(d.page_views.len() as i64, PAGE_VIEWS_KEPT);
    assert_eq!(d.page_views[0].url, "https://shop.test/p19", "newest first");
    assert_eq!(d.page_views[14].url, "https://shop.test/p5");
    assert!(d.conversation.is_none());
    assert!(store.website_visitor(site.id, "v_2").await.expect("read").is_none());

    // Only website channels have visitors.
    assert_not_found(store.record_visit(w.channel.id, "v_1", None, None, T0).await);
    assert_invalid(store.record_visit(site.id, " ", None, None, T0).await, "invalid_visitor");

    // Once the visitor writes, the conversation is theirs.
    let conv = ingest(&store, inbound(site.id, "v_1:m1", "v_1", "Visitor #1", "hola"), T0 + 200).await;
    let d = store.website_visitor(site.id, "v_1").await.expect("read").expect("visitor");
    assert_eq!(d.conversation.map(|c| c.id), Some(conv.id));
    let d = store.conversation_visitor(w.ws, conv.id).await.expect("read").expect("visitor of the conversation");
    assert_eq!(d.visitor.external_id, "v_1");
    assert!(store.conversation_visitor(w.ws + 1000, conv.id).await.expect("read").is_none());
}

async fn a_visitor_reads_only_messages_not_notes(store: Arc<dyn Store>) {
    let w = world(&store).await;
    let site = website(&store, &w).await;
    let conv = ingest(&store, inbound(site.id, "v:1", "v", "V", "one"), T0).await;
    send(&store, w.ws, conv.id, &w.ana, MessageKind::Note, "secret note", T0 + 1).await;
    let out = send(&store, w.ws, conv.id, &w.ana, MessageKind::Outbound, "two", T0 + 2).await;
    ingest(&store, inbound(site.id, "v:3", "v", "V", "three"), T0 + 3).await;
    store.close(w.ws, conv.id, w.ana.id, None, T0 + 4).await.expect("close");
    let all = store.contact_messages(conv.id, None, None, 50).await.expect("messages");
    let texts: Vec<&str> = all.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, vec!["one", "two", "three"]);
    let after = store.contact_messages(conv.id, Some(out.id), None, 50).await.expect("after");
    assert_eq!(after.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(), vec!["three"]);
    let last = store.contact_messages(conv.id, None, None, 1).await.expect("newest");
    assert_eq!(last[0].text, "three");
    let before = store.contact_messages(conv.id, None, Some(last[0].id), 5).await.expect("before");
    assert_eq!(before.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(), vec!["one", "two"]);
}

async fn receipts_move_forward_only(store: Arc<dyn Store>) {
    let w = world(&store).await;
    let site = website(&store, &w).await;
    let conv = ingest(&store, inbound(site.id, "v:1", "v", "V", "hola"), T0).await;
    let a = send(&store, w.ws, conv.id, &w.ana, MessageKind::Outbound, "a", T0 + 1).await;
    let b = send(&store, w.ws, conv.id, &w.ana, MessageKind::Outbound, "b", T0 + 2).await;
    let c = send(&store, w.ws, conv.id, &w.ana, MessageKind::Outbound, "c", T0 + 3).await;
    let wr = store.contact_receipt(conv.id, b.id, MessageStatus::Read, T0 + 10).await.expect("read");
    assert_eq!(wr.value.iter().map(|m| m.id).collect::<Vec<_>>(), vec![a.id, b.id]);
    assert_eq!(kinds(&wr.events), vec!["message.updated", "message.updated"]);
    // A late "delivered" changes nothing already read; it moves `c` only.
    let wr = store.contact_receipt(conv.id, c.id, MessageStatus::Delivered, T0 + 11).await.expect("delivered");
    assert_eq!(wr.value.iter().map(|m| (m.id, m.status)).collect::<Vec<_>>(), vec![(c.id, MessageStatus::Delivered)]);
    let wr = store.contact_receipt(conv.id, c.id, MessageStatus::Delivered, T0 + 12).await.expect("again");
    assert!(wr.value.is_empty() && wr.events.is_empty());
    assert_eq!(store.get_message(w.ws, a.id).await.expect("a").status, MessageStatus::Read);
    assert_invalid(store.contact_receipt(conv.id, c.id, MessageStatus::Sent, T0).await, "invalid_status");
}

async fn the_visitor_ends_the_chat(store: Arc<dyn Store>) {
    let w = world(&store).await;
    let site = website(&store, &w).await;
    let conv = ingest(&store, inbound(site.id, "v:1", "v", "V", "hola"), T0).await;
    let wr = store.contact_ended(w.ws, conv.id, "The visitor left the chat", T0 + MIN).await.expect("end");
    assert_eq!(wr.value.status, Status::Closed);
    assert_eq!(kinds(&wr.events), vec!["message.created", "message.created", "conversation.updated"]);
    let atts = store.list_attentions(w.ws, conv.id).await.expect("attentions");
    assert_eq!(atts.last().map(|a| a.status), Some(Status::Closed));
    assert_invalid(store.contact_ended(w.ws, conv.id, "again", T0 + 2 * MIN).await, "already_closed");
    assert_not_found(store.contact_ended(w.ws + 1000, conv.id, "x", T0).await);
    let line = store.add_event_line(w.ws, conv.id, "Rating: satisfied", T0 + 3 * MIN).await.expect("line");
    assert_eq!(line.value.kind, MessageKind::Event);
    assert_eq!(kinds(&line.events), vec!["message.created"]);
    assert_invalid(store.add_event_line(w.ws, conv.id, "  ", T0).await, "invalid_text");
}

async fn operators_join_and_leave(store: Arc<dyn Store>) {
    let w = world(&store).await;
    let mut ch = channel(w.ws, "site");
    ch.kind = ChannelKind::Website;
    let site = store.create_channel(ch).await.expect("channel");
    let wr = store.join_channel(w.ws, site.id, w.ana.id, true, T0).await.expect("join");
    assert_eq!(wr.value.member_ids, vec![w.ana.id]);
    assert_eq!(kinds(&wr.events), vec!["channel.updated"]);
    let again = store.join_channel(w.ws, site.id, w.ana.id, true, T0).await.expect("join again");
    assert!(again.events.is_empty());
    store.join_channel(w.ws, site.id, w.bob.id, true, T0).await.expect("bob joins");
    let wr = store.join_channel(w.ws, site.id, w.ana.id, false, T0).await.expect("leave");
    assert_eq!(wr.value.member_ids, vec![w.bob.id]);
    assert!(wr.events.iter().all(|e| e.payload.get("secret").and_then(|s| s.as_str()) == Some("")));
    let other = world(&store).await;
    assert!(store.join_channel(w.ws, site.id, other.ana.id, true, T0).await.is_err(), "another workspace's user");
    assert_not_found(store.join_channel(other.ws, site.id, other.ana.id, true, T0).await);
}

async fn availability_counts_online_members_with_capacity(store: Arc<dyn Store>) {
    let w = world(&store).await;
    let site = website(&store, &w).await;
    let now = T0;
    assert_eq!(store.channel_availability(site.id, now).await.expect("a"), ChannelAvailability::default());
    store.touch_presence(w.ana.id, Some(Presence::Online), now).await.expect("ana online");
    store.touch_presence(w.bob.id, Some(Presence::Away), now).await.expect("bob away");
    let a = store.channel_availability(site.id, now).await.expect("a");
    assert_eq!(a, ChannelAvailability { online: 1, with_capacity: 1 });
    // Ana at her limit: online but without capacity.
    store.update_user(w.ws, w.ana.id, UserPatch { max_concurrent: Some(1), ..Default::default() }).await.expect("max");
    let conv = ingest(&store, inbound(site.id, "v:1", "v", "V", "hola"), now).await;
    store.assign(w.ws, conv.id, w.admin.id, Some(w.ana.id), None, now).await.expect("assign");
    let a = store.channel_availability(site.id, now).await.expect("a");
    assert_eq!(a, ChannelAvailability { online: 1, with_capacity: 0 });
    // 30 minutes idle: offline.
    let later = now + charla_core::presence::IDLE_OFFLINE_MS + 1;
    assert_eq!(store.channel_availability(site.id, later).await.expect("a").online, 0);
}

async fn public_ratings_leave_hidden_ones_out(store: Arc<dyn Store>) {
    let w = world(&store).await;
    let site = website(&store, &w).await;
    let mut atts = Vec::new();
    for (i, who) in [&w.ana, &w.ana, &w.bob, &w.bob].iter().enumerate() {
        let conv = ingest(&store, inbound(site.id, &format!("v{i}:1"), &format!("v{i}"), "V", "hola"), T0).await;
        store.assign(w.ws, conv.id, w.admin.id, Some(who.id), None, T0).await.expect("assign");
        let a = store.list_attentions(w.ws, conv.id).await.expect("atts");
        atts.push(a.last().expect("attention").id);
    }
    let ratings = [Rating::Satisfied, Rating::Neutral, Rating::Satisfied, Rating::Dissatisfied];
    for (i, (a, r)) in atts.iter().zip(ratings).enumerate() {
        store.rate_attention(w.ws, *a, r, Some("private words".into()), false, T0 + i as i64).await.expect("rate");
    }
    let hidden = store.set_rating_hidden(w.ws, atts[3], true).await.expect("hide");
    assert!(hidden.rating_hidden);
    assert_eq!(hidden.rating, Some(Rating::Dissatisfied));
    assert_not_found(store.set_rating_hidden(w.ws + 1000, atts[3], true).await);
    let s = store.channel_ratings(w.ws, site.id, 10).await.expect("ratings");
    assert_eq!(s.counts, RatingCounts { satisfied: 2, neutral: 1, dissatisfied: 0 });
    assert_eq!(s.operators.len(), 2);
    assert_eq!(s.operators[0].user_id, w.ana.id);
    assert_eq!(s.operators[0].counts, RatingCounts { satisfied: 1, neutral: 1, dissatisfied: 0 });
    assert_eq!(s.operators[1].counts, RatingCounts { satisfied: 1, neutral: 0, dissatisfied: 0 });
    assert_eq!(
        s.last.iter().map(|(r, _)| *r).collect::<Vec<_>>(),
        vec![Rating::Satisfied, Rating::Neutral, Rating::Satisfied]
    );
    // Another channel has none.
    assert_eq!(store.channel_ratings(w.ws, w.channel.id, 10).await.expect("none"), RatingsSummary::default());
}

async fn visitor_email_is_checked_and_kept(store: Arc<dyn Store>) {
    let w = world(&store).await;
    let site = website(&store, &w).await;
    assert_not_found(store.set_visitor_email(site.id, "v", Some("a@b.test".into()), T0).await);
    store.record_visit(site.id, "v", None, None, T0).await.expect("visit");
    let v = store.set_visitor_email(site.id, "v", Some(" ana@shop.test ".into()), T0 + 1).await.expect("email");
    assert_eq!(v.email.as_deref(), Some("ana@shop.test"));
    assert_invalid(store.set_visitor_email(site.id, "v", Some("not an email".into()), T0).await, "invalid_email");
    let v = store.set_visitor_email(site.id, "v", None, T0 + 2).await.expect("clear");
    assert_eq!(v.email, None);
}
