//! The conversation list: visibility, sections and counters, filters, sorts, cursor, search;
//! and history pages.

use crate::conversations::{MIN, T0, World, assert_invalid, channel, inbound, ingest, send, user, world};
use charla_core::access::Viewer;
use charla_core::search;
use charla_core::*;
use charla_store::*;
use std::sync::Arc;

/// A mixed inbox. Channel A (900 s to answer): ana, bob, cleo. Channel B (60 s): bob.
/// cleo is an agent with `see_all_conversations` and `see_group_chats`; team Sales is ana.
///
/// | conv | channel | owner      | state                       | last activity |
/// |------|---------|------------|-----------------------------|---------------|
/// | c[0] | A       | -          | open, unanswered            | +1 min        |
/// | c[1] | A       | ana        | open, unanswered            | +2 min        |
/// | c[2] | A       | bob        | open, answered by bob       | +3 min 10 s   |
/// | c[3] | B       | -          | open, unanswered            | +4 min        |
/// | c[4] | A       | - (group)  | open, unanswered            | +5 min        |
/// | c[5] | A       | ana        | closed                      | +6 min        |
/// | c[6] | B       | team Sales | open, unanswered            | +7 min        |
/// | c[7] | B       | bob        | open, unanswered            | +8 min        |
struct Data {
    w: World,
    cleo: User,
    team: Team,
    b: Channel,
    c: Vec<Conversation>,
}

async fn data(store: &Arc<dyn Store>) -> Data {
    let w = world(store).await;
    let flags = [Flag::SeeAllConversations, Flag::SeeGroupChats];
    let cleo = store.create_user(user(w.ws, &format!("cleo@w{}.test", w.ws), Role::Agent, &flags)).await.expect("cleo");
    store.set_channel_members(w.ws, w.channel.id, &[w.ana.id, w.bob.id, cleo.id]).await.expect("members");
    let b = store
        .create_channel(NewChannel { response_time_limit_secs: 60, ..channel(w.ws, "b") })
        .await
        .expect("channel b");
    store.set_channel_members(w.ws, b.id, &[w.bob.id]).await.expect("members");
    let team = store.create_team(w.ws, "Sales", &[w.ana.id]).await.expect("team").value;
    let a = w.channel.id;

    let mut specs = vec![
        (a, "ext-1", "Maria Lopez", "hello there", false),
        (a, "ext-2", "John Smith", "need an invoice", false),
        (a, "ext-3", "Tom Baker", "my refund is late", false),
        (b.id, "ext-4", "Zelda Fitz", "question about shipping", false),
        (a, "grp-5", "Family group", "group chat hi", true),
        (a, "ext-6", "Closed Carl", "thanks bye", false),
        (b.id, "ext-7", "Team Tina", "pricing please", false),
        (b.id, "ext-8", "Bea Bold", "order status", false),
    ];
    let mut ids = Vec::new();
    for (i, (ch, ext, name, text, group)) in specs.drain(..).enumerate() {
        let mut msg = inbound(ch, &format!("p-{ext}"), ext, name, text);
        msg.is_group = group;
        if i == 0 {
            msg.contact.phone = Some("+1 (555) 010-9999".into());
        }
        if i == 1 {
            msg.contact.email = Some("john@acme.io".into());
        }
        ids.push(ingest(store, msg, T0 + (i as i64 + 1) * MIN).await.id);
    }
    let ws = w.ws;
    store.assign(ws, ids[1], w.admin.id, Some(w.ana.id), None, T0 + 2 * MIN).await.expect("assign");
    store.assign(ws, ids[2], w.admin.id, Some(w.bob.id), None, T0 + 3 * MIN).await.expect("assign");
    send(store, ws, ids[2], &w.bob, MessageKind::Outbound, "on it", T0 + 3 * MIN + 10_000).await;
    store.assign(ws, ids[5], w.admin.id, Some(w.ana.id), None, T0 + 6 * MIN).await.expect("assign");
    store.close(ws, ids[5], w.ana.id, None, T0 + 6 * MIN + 10_000).await.expect("close");
    store.assign(ws, ids[6], w.admin.id, None, Some(team.id), T0 + 7 * MIN).await.expect("assign team");
    store.assign(ws, ids[7], w.admin.id, Some(w.bob.id), None, T0 + 8 * MIN).await.expect("assign");
    let mut c = Vec::new();
    for id in ids {
        c.push(store.get_conversation(ws, id).await.expect("conv"));
    }
    Data { w, cleo, team, b, c }
}

async fn list(store: &Arc<dyn Store>, v: &Viewer, filter: ConversationFilter) -> ConversationPage {
    store.list_conversations(v, filter).await.expect("list")
}

fn ids(page: &ConversationPage) -> Vec<Id> {
    page.items.iter().map(|r| r.conversation.id).collect()
}

/// Ids of `d.c` at these indexes.
fn pick(d: &Data, idx: &[usize]) -> Vec<Id> {
    idx.iter().map(|i| d.c[*i].id).collect()
}

fn by_activity(filter: ConversationFilter) -> ConversationFilter {
    ConversationFilter { sort: Sort::LastActivity, limit: 100, ..filter }
}

fn in_section(section: Section, me: Id, c: &Conversation) -> bool {
    match section {
        Section::All => true,
        Section::Mine => c.assignee_id == Some(me),
        Section::Unassigned => c.assignee_id.is_none(),
        Section::Teammates => c.assignee_id.is_some_and(|a| a != me),
    }
}

async fn sections_counts_and_visibility_mirror_can_see(store: Arc<dyn Store>) {
    let d = data(&store).await;
    let ws = d.w.ws;
    let admin = store.viewer(ws, d.w.admin.id).await.expect("viewer");
    let ana = store.viewer(ws, d.w.ana.id).await.expect("viewer");
    let bob = store.viewer(ws, d.w.bob.id).await.expect("viewer");
    let cleo = store.viewer(ws, d.cleo.id).await.expect("viewer");
    let mut embedded = ana.clone();
    embedded.allowed_contact_ids = Some(vec![d.c[0].contact_id.expect("c"), d.c[2].contact_id.expect("c")]);
    let mut embedded_admin = admin.clone();
    embedded_admin.allowed_contact_ids = Some(vec![d.c[2].contact_id.expect("c")]);
    let mut nothing_allowed = admin.clone();
    nothing_allowed.allowed_contact_ids = Some(vec![]);

    // Hand-checked expectations.
    let all = |_: &Viewer| by_activity(ConversationFilter { section: Section::All, ..ConversationFilter::default() });
    assert_eq!(ids(&list(&store, &ana, all(&ana)).await), pick(&d, &[6, 5, 1, 0]));
    assert_eq!(ids(&list(&store, &bob, all(&bob)).await), pick(&d, &[7, 6, 3, 2, 0]));
    assert_eq!(ids(&list(&store, &cleo, all(&cleo)).await), pick(&d, &[5, 4, 2, 1, 0]));
    assert_eq!(ids(&list(&store, &embedded, all(&embedded)).await), pick(&d, &[0]));
    assert_eq!(ids(&list(&store, &embedded_admin, all(&embedded_admin)).await), pick(&d, &[2]));
    assert!(ids(&list(&store, &nothing_allowed, all(&nothing_allowed)).await).is_empty());
    let counts = list(&store, &ana, all(&ana)).await.counts;
    assert_eq!(counts, SectionCounts { mine: 1, unassigned: 2, all: 3, teammates: 0 });
    let counts = list(&store, &bob, all(&bob)).await.counts;
    assert_eq!(counts, SectionCounts { mine: 1, unassigned: 3, all: 4, teammates: 0 });
    let counts = list(&store, &admin, all(&admin)).await.counts;
    assert_eq!(counts, SectionCounts { mine: 0, unassigned: 4, all: 6, teammates: 2 });

    // And the general rule: every viewer × section is exactly what can_see allows.
    let sections = [Section::All, Section::Mine, Section::Unassigned, Section::Teammates];
    for v in [&admin, &ana, &bob, &cleo, &embedded, &embedded_admin, &nothing_allowed] {
        let visible: Vec<&Conversation> = d.c.iter().filter(|c| v.can_see(&c.access())).collect();
        let pending = |s: Section| {
            visible.iter().filter(|c| in_section(s, v.user_id, c) && c.status == Status::Open && c.unanswered).count()
                as i64
        };
        let want_counts = SectionCounts {
            mine: pending(Section::Mine),
            unassigned: pending(Section::Unassigned),
            all: pending(Section::All),
            teammates: pending(Section::Teammates),
        };
        for section in sections {
            let mut want: Vec<&Conversation> =
                visible.iter().copied().filter(|c| in_section(section, v.user_id, c)).collect();
            want.sort_by_key(|c| std::cmp::Reverse((c.last_activity_at, c.id)));
            let want: Vec<Id> = want.iter().map(|c| c.id).collect();
            let page =
                list(&store, v, by_activity(ConversationFilter { section, ..ConversationFilter::default() })).await;
            assert_eq!(ids(&page), want, "user {} {section:?}", v.user_id);
            assert_eq!(page.counts, want_counts, "counts do not depend on the section ({section:?})");
            assert_eq!(page.next_cursor, None);
        }
        // What an operator's socket reads alone.
        assert_eq!(store.pending_counts(v).await.expect("counts"), want_counts, "user {}", v.user_id);
    }
    // The other workspace sees none of it.
    let other = store.create_workspace("Other").await.expect("ws").id;
    let stranger = store.create_user(user(other, "s@other.test", Role::Admin, &[])).await.expect("user");
    let sv = store.viewer(other, stranger.id).await.expect("viewer");
    let page = list(&store, &sv, ConversationFilter::default()).await;
    assert!(page.items.is_empty());
    assert_eq!(page.counts, SectionCounts::default());
    assert_eq!(store.pending_counts(&sv).await.expect("counts"), SectionCounts::default());
}

async fn rows_carry_contact_identity_read_state_and_draft(store: Arc<dyn Store>) {
    let d = data(&store).await;
    let ws = d.w.ws;
    store.put_draft(ws, d.w.ana.id, d.c[1].id, "Dear John", T0 + 9 * MIN).await.expect("draft");
    store.mark_read(ws, d.w.ana.id, d.c[0].id, T0 + 9 * MIN).await.expect("read");
    store.detach_contact(ws, d.c[6].id, d.w.admin.id, T0 + 9 * MIN).await.expect("detach");
    let ana = store.viewer(ws, d.w.ana.id).await.expect("viewer");
    let page = list(&store, &ana, by_activity(ConversationFilter::default())).await;
    let row = |i: usize| page.items.iter().find(|r| r.conversation.id == d.c[i].id).expect("row");
    assert_eq!(row(1).draft.as_deref(), Some("Dear John"));
    assert_eq!(row(0).draft, None);
    assert_eq!(row(0).read.unread_count, 0);
    assert_eq!(row(1).read.unread_count, 1);
    assert_eq!(row(0).contact.as_ref().map(|c| c.name.as_str()), Some("Maria Lopez"));
    assert_eq!(row(0).identity.external_id, "ext-1");
    assert!(row(6).contact.is_none(), "detached");
    assert_eq!(row(6).identity.name, "Team Tina");
    let tag = store.create_tag(ws, "vip", "#f00", true).await.expect("tag");
    store.set_contact_tags(ws, d.c[1].contact_id.expect("c"), &[tag.id]).await.expect("tags");
    let page = list(&store, &ana, by_activity(ConversationFilter::default())).await;
    let john = page.items.iter().find(|r| r.conversation.id == d.c[1].id).expect("row");
    assert_eq!(john.contact.as_ref().map(|c| c.tag_ids.clone()), Some(vec![tag.id]));
}

async fn filters_combine_with_and(store: Arc<dyn Store>) {
    let d = data(&store).await;
    let ws = d.w.ws;
    let admin = store.viewer(ws, d.w.admin.id).await.expect("viewer");
    let f = ConversationFilter::default;
    let maria = d.c[0].contact_id;
    let cases: Vec<(&str, ConversationFilter, Vec<usize>)> = vec![
        ("no filter", f(), vec![7, 6, 5, 4, 3, 2, 1, 0]),
        ("closed", ConversationFilter { status: Some(Status::Closed), ..f() }, vec![5]),
        ("open", ConversationFilter { status: Some(Status::Open), ..f() }, vec![7, 6, 4, 3, 2, 1, 0]),
        ("snoozed", ConversationFilter { status: Some(Status::Snoozed), ..f() }, vec![]),
        ("assignee", ConversationFilter { assignee_id: Some(d.w.ana.id), ..f() }, vec![5, 1]),
        ("team", ConversationFilter { team_id: Some(d.team.id), ..f() }, vec![6]),
        ("channel", ConversationFilter { channel_id: Some(d.b.id), ..f() }, vec![7, 6, 3]),
        ("by operator", ConversationFilter { last_author: Some(AuthorType::User), ..f() }, vec![2]),
        ("by contact", ConversationFilter { last_author: Some(AuthorType::Contact), ..f() }, vec![7, 6, 5, 4, 3, 1, 0]),
        ("by bot", ConversationFilter { last_author: Some(AuthorType::Bot), ..f() }, vec![]),
        ("bot owned", ConversationFilter { owned_by_bot: Some(true), ..f() }, vec![]),
        ("not bot owned", ConversationFilter { owned_by_bot: Some(false), ..f() }, vec![7, 6, 5, 4, 3, 2, 1, 0]),
        ("unanswered", ConversationFilter { unanswered: Some(true), ..f() }, vec![7, 6, 4, 3, 1, 0]),
        ("answered", ConversationFilter { unanswered: Some(false), ..f() }, vec![5, 2]),
        ("contact", ConversationFilter { contact_id: maria, ..f() }, vec![0]),
        ("from", ConversationFilter { from: Some(T0 + 6 * MIN), ..f() }, vec![7, 6, 5]),
        ("to (exclusive)", ConversationFilter { to: Some(T0 + 2 * MIN), ..f() }, vec![0]),
        ("range", ConversationFilter { from: Some(T0 + 2 * MIN), to: Some(T0 + 4 * MIN), ..f() }, vec![2, 1]),
        (
            "channel and unanswered",
            ConversationFilter { channel_id: Some(d.w.channel.id), unanswered: Some(true), ..f() },
            vec![4, 1, 0],
        ),
        (
            "open and bob",
            ConversationFilter { status: Some(Status::Open), assignee_id: Some(d.w.bob.id), ..f() },
            vec![7, 2],
        ),
        (
            "section and filter",
            ConversationFilter { section: Section::Unassigned, channel_id: Some(d.b.id), ..f() },
            vec![6, 3],
        ),
    ];
    for (name, filter, want) in cases {
        let page = list(&store, &admin, by_activity(filter)).await;
        assert_eq!(ids(&page), pick(&d, &want), "{name}");
    }
    // Counters follow the filters (not the section).
    let page = list(&store, &admin, by_activity(ConversationFilter { channel_id: Some(d.b.id), ..f() })).await;
    assert_eq!(page.counts, SectionCounts { mine: 0, unassigned: 2, all: 3, teammates: 1 });
}

async fn tag_filters(store: Arc<dyn Store>) {
    let d = data(&store).await;
    let ws = d.w.ws;
    let admin = store.viewer(ws, d.w.admin.id).await.expect("viewer");
    let vip = store.create_tag(ws, "vip", "#f00", true).await.expect("tag");
    let new = store.create_tag(ws, "new", "#0f0", false).await.expect("tag");
    let contact = |i: usize| d.c[i].contact_id.expect("contact");
    store.set_contact_tags(ws, contact(0), &[vip.id, new.id]).await.expect("tags");
    store.set_contact_tags(ws, contact(1), &[new.id]).await.expect("tags");
    let cases: Vec<(TagFilter, Vec<usize>)> = vec![
        (TagFilter::Any, vec![7, 6, 5, 4, 3, 2, 1, 0]),
        (TagFilter::All(vec![new.id]), vec![1, 0]),
        (TagFilter::All(vec![vip.id, new.id]), vec![0]),
        (TagFilter::All(vec![vip.id]), vec![0]),
        (TagFilter::All(vec![]), vec![7, 6, 5, 4, 3, 2, 1, 0]),
        (TagFilter::None, vec![7, 6, 5, 4, 3, 2]),
        (TagFilter::PinnedOnly, vec![0]),
    ];
    for (tag, want) in cases {
        let page =
            list(&store, &admin, by_activity(ConversationFilter { tag: tag.clone(), ..Default::default() })).await;
        assert_eq!(ids(&page), pick(&d, &want), "{tag:?}");
    }
    // Unpinning the tag empties "pinned only".
    store.update_tag(ws, vip.id, None, None, Some(false)).await.expect("unpin");
    let page =
        list(&store, &admin, by_activity(ConversationFilter { tag: TagFilter::PinnedOnly, ..Default::default() }))
            .await;
    assert!(page.items.is_empty());

    // The filter follows what happens to the contacts afterwards (both stores keep a copy of
    // the tags on each conversation): tags replaced, a tag deleted, contacts merged and
    // detached, a new conversation of a tagged contact; the counters with it.
    let tagged = |tag: TagFilter| {
        let store = store.clone();
        let admin = admin.clone();
        async move { list(&store, &admin, by_activity(ConversationFilter { tag, ..Default::default() })).await }
    };
    store.set_contact_tags(ws, contact(1), &[vip.id]).await.expect("tags");
    assert_eq!(ids(&tagged(TagFilter::All(vec![new.id])).await), pick(&d, &[0]));
    assert_eq!(ids(&tagged(TagFilter::All(vec![vip.id])).await), pick(&d, &[1, 0]));
    store.delete_tag(ws, new.id).await.expect("delete tag");
    assert!(tagged(TagFilter::All(vec![new.id])).await.items.is_empty());
    assert_eq!(ids(&tagged(TagFilter::All(vec![vip.id])).await), pick(&d, &[1, 0]));
    store.merge_contacts(ws, contact(0), contact(7), T0 + 20 * MIN).await.expect("merge");
    assert_eq!(ids(&tagged(TagFilter::All(vec![vip.id])).await), pick(&d, &[7, 1, 0]));
    store.detach_contact(ws, d.c[1].id, d.w.admin.id, T0 + 21 * MIN).await.expect("detach");
    let page = tagged(TagFilter::All(vec![vip.id])).await;
    assert_eq!(ids(&page), pick(&d, &[7, 0]));
    // Both open and waiting for an answer: 0 unassigned, 7 Bob's.
    assert_eq!(page.counts, SectionCounts { mine: 0, unassigned: 1, all: 2, teammates: 1 });
    assert_eq!(ids(&tagged(TagFilter::None).await), pick(&d, &[6, 5, 4, 3, 2, 1]));
    let later = ingest(&store, inbound(d.w.channel.id, "p-late", "ext-late", "Late Comer", "hi"), T0 + 22 * MIN).await;
    store.set_contact_tags(ws, later.contact_id.expect("contact"), &[vip.id]).await.expect("tags");
    let mut want = vec![later.id];
    want.extend(pick(&d, &[7, 0]));
    assert_eq!(ids(&tagged(TagFilter::All(vec![vip.id])).await), want);
}

async fn search_contacts_and_message_text(store: Arc<dyn Store>) {
    let d = data(&store).await;
    let ws = d.w.ws;
    let admin = store.viewer(ws, d.w.admin.id).await.expect("viewer");
    // Zelda's card is detached: her identity's name still finds the conversation.
    store.detach_contact(ws, d.c[3].id, d.w.admin.id, T0 + 9 * MIN).await.expect("detach");
    let cases: &[(&str, &[usize])] = &[
        ("mari", &[0]),
        ("LOPEZ", &[0]),
        ("aria lo", &[0]),
        ("555-010", &[0]),
        ("(555) 010-99", &[0]),
        ("5550109999", &[0]),
        ("acme.io", &[1]),
        ("refund", &[2]),
        ("late", &[2]),
        ("\"refund", &[2]),
        ("about shipping", &[3]),
        ("zeld", &[3]),
        ("invoice", &[1]),
        ("nothing-here", &[]),
        ("%%%%", &[]),
        ("____", &[]),
    ];
    for (q, want) in cases {
        let term = search::parse(q).expect("term");
        let filter = by_activity(ConversationFilter { search: Some(term), ..Default::default() });
        assert_eq!(ids(&list(&store, &admin, filter).await), pick(&d, want), "search {q:?}");
    }
    // The search's Contacts and Messages tabs: each looks only where it says.
    let scoped: &[(&str, search::SearchScope, &[usize])] = &[
        ("mari", search::SearchScope::Contacts, &[0]),
        ("mari", search::SearchScope::Messages, &[]),
        ("zeld", search::SearchScope::Contacts, &[3]),
        ("555-010", search::SearchScope::Contacts, &[0]),
        ("555-010", search::SearchScope::Messages, &[]),
        ("refund", search::SearchScope::Contacts, &[]),
        ("refund", search::SearchScope::Messages, &[2]),
        ("about shipping", search::SearchScope::Messages, &[3]),
        ("acme.io", search::SearchScope::Messages, &[]),
    ];
    for (q, scope, want) in scoped {
        let term = search::parse(q).expect("term").within(*scope);
        let filter = by_activity(ConversationFilter { search: Some(term), ..Default::default() });
        assert_eq!(ids(&list(&store, &admin, filter).await), pick(&d, want), "search {q:?} in {scope:?}");
    }
    // Search stays within what the viewer sees.
    let ana = store.viewer(ws, d.w.ana.id).await.expect("viewer");
    let filter = by_activity(ConversationFilter { search: search::parse("refund").ok(), ..Default::default() });
    assert!(list(&store, &ana, filter).await.items.is_empty());
    // Digits alone are looked for in names too, not only in phone numbers.
    let shop = ingest(&store, inbound(d.w.channel.id, "p-shop", "ext-shop", "Shop 4711", "hi"), T0 + 30 * MIN).await;
    for scope in [search::SearchScope::Contacts, search::SearchScope::Everywhere] {
        let term = search::parse("4711").expect("term").within(scope);
        let filter = by_activity(ConversationFilter { search: Some(term), ..Default::default() });
        assert_eq!(ids(&list(&store, &admin, filter).await), vec![shop.id], "digits in a name, {scope:?}");
    }
}

async fn sorts_by_processing_order_and_activity(store: Arc<dyn Store>) {
    let d = data(&store).await;
    let ws = d.w.ws;
    let admin = store.viewer(ws, d.w.admin.id).await.expect("viewer");
    let sorted = |sort: Sort| ConversationFilter { sort, limit: 100, ..Default::default() };
    assert_eq!(ids(&list(&store, &admin, sorted(Sort::LastActivity)).await), pick(&d, &[7, 6, 5, 4, 3, 2, 1, 0]));
    // Due first (B answers in 60 s, A in 900 s), then the answered ones by activity.
    assert_eq!(ids(&list(&store, &admin, sorted(Sort::ProcessingOrder)).await), pick(&d, &[3, 6, 7, 0, 1, 4, 5, 2]));
    // "No reply needed" lowers a conversation among the answered ones.
    store.no_reply_needed(ws, d.c[3].id, d.w.bob.id, T0 + 9 * MIN).await.expect("nrn");
    assert_eq!(ids(&list(&store, &admin, sorted(Sort::ProcessingOrder)).await), pick(&d, &[6, 7, 0, 1, 4, 5, 3, 2]));
    // The default sort is processing order.
    assert_eq!(ConversationFilter::default().sort, Sort::ProcessingOrder);
}

async fn cursor_pages_visit_every_row_once(store: Arc<dyn Store>) {
    let d = data(&store).await;
    let ws = d.w.ws;
    // Ties: more conversations at the very same instant (same activity and due time as c[7]).
    for k in 0..5 {
        let ext = format!("tie-{k}");
        ingest(&store, inbound(d.b.id, &ext, &ext, "Tie", "same time"), T0 + 8 * MIN).await;
    }
    let admin = store.viewer(ws, d.w.admin.id).await.expect("viewer");
    for sort in [Sort::ProcessingOrder, Sort::LastActivity] {
        let whole = ids(&list(&store, &admin, ConversationFilter { sort, limit: 100, ..Default::default() }).await);
        assert_eq!(whole.len(), 13);
        for limit in [1, 2, 3, 5, 12, 13] {
            let mut seen = Vec::new();
            let mut cursor = None;
            for _ in 0..20 {
                let page = list(
                    &store,
                    &admin,
                    ConversationFilter { sort, limit, cursor: cursor.clone(), ..Default::default() },
                )
                .await;
                assert!(page.items.len() as i64 <= limit);
                seen.extend(ids(&page));
                cursor = page.next_cursor;
                if cursor.is_none() {
                    break;
                }
            }
            assert_eq!(seen, whole, "{sort:?} limit {limit}");
        }
    }
    // Malformed, or from the other sort.
    for (sort, cursor) in [
        (Sort::ProcessingOrder, "garbage"),
        (Sort::ProcessingOrder, "p.1.2.3"),
        (Sort::ProcessingOrder, "p.1.2.3.x"),
        (Sort::ProcessingOrder, "a.1.2"),
        (Sort::LastActivity, "p.1.2.3.4"),
        (Sort::LastActivity, "a.1.2.3"),
        (Sort::LastActivity, "a..2"),
    ] {
        let filter = ConversationFilter { sort, cursor: Some(cursor.to_string()), ..Default::default() };
        assert_invalid(store.list_conversations(&admin, filter).await, "invalid_cursor");
    }
    // Limits are clamped.
    let page = list(&store, &admin, ConversationFilter { limit: -5, ..Default::default() }).await;
    assert_eq!(page.items.len(), 1);
    let page = list(&store, &admin, ConversationFilter { limit: 0, ..Default::default() }).await;
    assert_eq!(page.items.len(), 13);
}

async fn history_pages_newest_first(store: Arc<dyn Store>) {
    let w = world(&store).await;
    let conv = ingest(&store, inbound(w.channel.id, "p-0", "ext-1", "Maria", "m0"), T0).await;
    for i in 1..5 {
        ingest(&store, inbound(w.channel.id, &format!("p-{i}"), "ext-1", "Maria", &format!("m{i}")), T0 + i).await;
    }
    let att = store.create_attachment(w.ws, "a.png", "image/png", 3, "k/a", T0).await.expect("att");
    let mut out = crate::conversations::outgoing(conv.id, &w.ana, MessageKind::Outbound, "see attached");
    out.attachment_ids = vec![att.id];
    store.send_message(w.ws, out, T0 + 10).await.expect("send");
    store.set_contact_blocked(w.ws, conv.contact_id.expect("contact"), true).await.expect("block");
    ingest(&store, inbound(w.channel.id, "p-hidden", "ext-1", "Maria", "hidden"), T0 + 11).await;

    let page = store.list_messages(w.ws, conv.id, None, 2).await.expect("page");
    assert_eq!(page.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(), ["see attached", "m4"]);
    assert_eq!(page[0].attachments.iter().map(|a| a.id).collect::<Vec<_>>(), [att.id]);
    assert!(page[1].attachments.is_empty());
    let next = store.list_messages(w.ws, conv.id, Some(page[1].id), 2).await.expect("page");
    assert_eq!(next.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(), ["m3", "m2"]);
    let all = store.list_messages(w.ws, conv.id, None, 0).await.expect("all");
    assert_eq!(all.len(), 6);
    assert!(all.iter().all(|m| m.text != "hidden"));
    let one = store.list_messages(w.ws, conv.id, None, -1).await.expect("clamped");
    assert_eq!(one.len(), 1);
    let m = store.get_message(w.ws, page[0].id).await.expect("message");
    assert_eq!(m, page[0]);
}

conformance!(
    sections_counts_and_visibility_mirror_can_see,
    rows_carry_contact_identity_read_state_and_draft,
    filters_combine_with_and,
    tag_filters,
    search_contacts_and_message_text,
    sorts_by_processing_order_and_activity,
    cursor_pages_visit_every_row_once,
    history_pages_newest_first,
);
