//! The conversation list's query shapes for large inboxes: each section is read as a union of
//! index-ordered branches, and a search picks between two plans by its number of matches.
//! Whatever the shape, the rows are those `Viewer::can_see` allows in the section, in sort
//! order, page after page.

use crate::conversations::{MIN, T0, inbound, ingest, send, user};
use charla_core::access::Viewer;
use charla_core::search::SearchScope;
use charla_core::*;
use charla_store::*;
use std::sync::Arc;

conformance!(sections_are_what_each_viewer_may_see, search_plans_agree, search_follows_contact_changes);

struct Data {
    ws: Id,
    viewers: Vec<Viewer>,
    all: Vec<Conversation>,
}

/// Two channels, three agents (one who sees all of her channels and group chats), a team, and
/// conversations in every state: unassigned, assigned to each, to the team, closed, a group.
async fn data(store: &Arc<dyn Store>) -> Data {
    let ws = store.create_workspace("Scale").await.expect("workspace").id;
    let admin = store.create_user(user(ws, &format!("admin@s{ws}.test"), Role::Admin, &[])).await.expect("admin");
    let ana = store.create_user(user(ws, &format!("ana@s{ws}.test"), Role::Agent, &[])).await.expect("ana");
    let bob = store.create_user(user(ws, &format!("bob@s{ws}.test"), Role::Agent, &[])).await.expect("bob");
    let flags = [Flag::SeeAllConversations, Flag::SeeGroupChats];
    let cleo = store.create_user(user(ws, &format!("cleo@s{ws}.test"), Role::Agent, &flags)).await.expect("cleo");
    let a = store.create_channel(crate::conversations::channel(ws, "a")).await.expect("a");
    let b = store.create_channel(crate::conversations::channel(ws, "b")).await.expect("b");
    store.set_channel_members(ws, a.id, &[ana.id, cleo.id]).await.expect("members");
    store.set_channel_members(ws, b.id, &[bob.id]).await.expect("members");
    // Cleo sees channel a whole and, through the team, its unassigned conversations elsewhere.
    let team = store.create_team(ws, "Night", &[bob.id, cleo.id]).await.expect("team").value;

    let names = [
        "María López",
        "Mario Lopes",
        "John Smith",
        "Marta García",
        "Refugio Ortiz",
        "Lopez & Sons",
        "Ana María",
        "Zoe Miller",
        "Group chat",
        "Carlos López",
    ];
    let texts =
        ["hola", "my refund is late", "order 123", "refund please", "hola", "x", "refund", "order", "hi", "bye"];
    let mut ids = Vec::new();
    for (i, (name, text)) in names.iter().zip(texts).enumerate() {
        let ch = if i % 3 == 2 { b.id } else { a.id };
        let mut msg = inbound(ch, &format!("s-{i}"), &format!("x-{i}"), name, text);
        msg.is_group = *name == "Group chat";
        if i % 2 == 0 {
            msg.contact.phone = Some(format!("+34 600 555 {i:03}"));
        }
        if i == 3 {
            msg.contact.email = Some("marta@acme.io".into());
        }
        ids.push(ingest(store, msg, T0 + i as i64 * MIN).await.id);
    }
    let assign = |c: usize, u: Option<Id>, t: Option<Id>| {
        let store = store.clone();
        let id = ids[c];
        async move { store.assign(ws, id, admin.id, u, t, T0 + 20 * MIN + c as i64).await.expect("assign") }
    };
    assign(1, Some(ana.id), None).await;
    assign(2, Some(bob.id), None).await;
    assign(3, Some(cleo.id), None).await;
    assign(4, Some(admin.id), None).await;
    assign(5, None, Some(team.id)).await;
    assign(6, Some(bob.id), None).await;
    assign(9, Some(ana.id), None).await;
    // Seen by cleo twice over (channel a, the team's queue) and once outside her channel
    // (assigned to her in channel b): the branches of what she sees overlap, a page lists each
    // conversation once.
    assign(0, None, Some(team.id)).await;
    assign(8, Some(cleo.id), None).await;
    send(store, ws, ids[1], &ana, MessageKind::Outbound, "on it, refund soon", T0 + 30 * MIN).await;
    store.close(ws, ids[6], bob.id, None, T0 + 31 * MIN).await.expect("close");
    // The contact is renamed: the identity keeps the name the channel gave; both find it.
    let zoe = store.get_conversation(ws, ids[7]).await.expect("zoe").contact_id.expect("contact");
    let patch = ContactPatch { name: Some("Zoraida Quintana".into()), ..Default::default() };
    store.update_contact(ws, zoe, patch).await.expect("rename");

    let mut viewers = Vec::new();
    for u in [&admin, &ana, &bob, &cleo] {
        viewers.push(store.viewer(ws, u.id).await.expect("viewer"));
    }
    let mut all = Vec::new();
    for id in ids {
        all.push(store.get_conversation(ws, id).await.expect("conversation"));
    }
    Data { ws, viewers, all }
}

fn in_section(v: &Viewer, c: &Conversation, section: Section) -> bool {
    v.can_see(&c.access())
        && match section {
            Section::All => true,
            Section::Mine => c.assignee_id == Some(v.user_id),
            Section::Unassigned => c.assignee_id.is_none(),
            Section::Teammates => c.assignee_id.is_some_and(|a| a != v.user_id),
        }
}

/// Every page of a list, two at a time, following the cursors.
async fn all_pages(store: &Arc<dyn Store>, v: &Viewer, filter: &ConversationFilter) -> Vec<Conversation> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let f = ConversationFilter { cursor: cursor.clone(), limit: 2, ..filter.clone() };
        let page = store.list_conversations(v, f).await.expect("list");
        out.extend(page.items.into_iter().map(|r| r.conversation));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return out,
        }
    }
}

fn sorted(mut v: Vec<Conversation>, sort: Sort) -> Vec<Id> {
    let key = |c: &Conversation| match sort {
        Sort::ProcessingOrder => (
            std::cmp::Reverse(c.unanswered as i64),
            c.due_at.unwrap_or(i64::MAX),
            std::cmp::Reverse(c.last_activity_at),
            std::cmp::Reverse(c.id),
        ),
        Sort::LastActivity => (std::cmp::Reverse(0), 0, std::cmp::Reverse(c.last_activity_at), std::cmp::Reverse(c.id)),
    };
    v.sort_by_key(key);
    v.into_iter().map(|c| c.id).collect()
}

const SECTIONS: [Section; 4] = [Section::All, Section::Mine, Section::Unassigned, Section::Teammates];
const SORTS: [Sort; 2] = [Sort::ProcessingOrder, Sort::LastActivity];

async fn sections_are_what_each_viewer_may_see(store: Arc<dyn Store>) {
    let d = data(&store).await;
    for v in &d.viewers {
        for section in SECTIONS {
            for sort in SORTS {
                let filter = ConversationFilter { section, sort, ..Default::default() };
                let got: Vec<Id> = all_pages(&store, v, &filter).await.iter().map(|c| c.id).collect();
                let want = sorted(d.all.iter().filter(|c| in_section(v, c, section)).cloned().collect(), sort);
                assert_eq!(got, want, "user {} {section:?} {sort:?}", v.user_id);
            }
        }
        // A channel filter on top of the branches.
        let ch = d.all[0].channel_id;
        let filter = ConversationFilter { channel_id: Some(ch), ..Default::default() };
        let got: Vec<Id> = all_pages(&store, v, &filter).await.iter().map(|c| c.id).collect();
        let want = sorted(
            d.all.iter().filter(|c| c.channel_id == ch && in_section(v, c, Section::All)).cloned().collect(),
            Sort::ProcessingOrder,
        );
        assert_eq!(got, want, "user {} channel filter", v.user_id);
    }
    let _ = d.ws;
}

async fn search_plans_agree(store: Arc<dyn Store>) {
    let d = data(&store).await;
    let terms = [
        "lopez", "lópez", "maría", "mari", "refund", "order", "600 555", "555 002", "acme.io", "mille", "zorai", "zzzz",
    ];
    let scopes = [SearchScope::Everywhere, SearchScope::Contacts, SearchScope::Messages];
    for (term, scope) in terms.into_iter().flat_map(|t| scopes.map(|s| (t, s))) {
        let search = charla_core::search::parse(term).ok().map(|t| t.within(scope));
        for v in &d.viewers {
            for section in SECTIONS {
                for sort in SORTS {
                    let filter = ConversationFilter { section, sort, search: search.clone(), ..Default::default() };
                    charla_store::sql::set_search_scan_threshold(3_000);
                    let driven: Vec<Id> = all_pages(&store, v, &filter).await.iter().map(|c| c.id).collect();
                    let counts_driven = store.list_conversations(v, filter.clone()).await.expect("list").counts;
                    // The counters of a driven page walked (SQLite, past a thousand matches).
                    charla_store::sql::set_count_walk_from(0);
                    let walked = store.list_conversations(v, filter.clone()).await.expect("list");
                    charla_store::sql::set_count_walk_from(1_000);
                    let first_page: Vec<Id> = walked.items.iter().map(|r| r.conversation.id).collect();
                    assert_eq!(first_page, driven[..first_page.len()], "{term:?} {scope:?} user {} walked", v.user_id);
                    assert_eq!(walked.counts, counts_driven, "{term:?} {scope:?} user {} walked counts", v.user_id);
                    // 1: the set of every match walked in sort order (SQLite; PostgreSQL: of
                    // the matching messages' conversations); 3,000 without that set: each kind
                    // of match counted, then driven; 0 and -1: scans. PostgreSQL tests a walked
                    // row against a big set's bit map (here: any set's, the third value 1).
                    for (scan_plan, hit_set, bit_map) in
                        [(1, 20_000, 2_000), (1, 20_000, 1), (3_000, 0, 2_000), (0, 20_000, 2_000), (-1, 20_000, 1)]
                    {
                        charla_store::sql::set_search_scan_threshold(scan_plan);
                        charla_store::sql::set_search_set_max(hit_set);
                        charla_store::sql::set_bit_map_from(bit_map);
                        let scan: Vec<Id> = all_pages(&store, v, &filter).await.iter().map(|c| c.id).collect();
                        let counts_scan = store.list_conversations(v, filter.clone()).await.expect("list").counts;
                        charla_store::sql::set_search_scan_threshold(3_000);
                        charla_store::sql::set_search_set_max(20_000);
                        charla_store::sql::set_bit_map_from(2_000);
                        assert_eq!(
                            driven, scan,
                            "{term:?} {scope:?} user {} {section:?} {sort:?} plan {scan_plan} set {hit_set} bits {bit_map}",
                            v.user_id
                        );
                        assert_eq!(counts_driven, counts_scan, "{term:?} {scope:?} user {} counts", v.user_id);
                    }
                }
            }
        }
    }
    // Something is found at all: contact names, phone digits, e-mail, message text.
    let admin = &d.viewers[0];
    // Everywhere finds what either scope finds, and nothing else.
    for term in terms {
        let found = |scope| {
            let filter = ConversationFilter {
                search: charla_core::search::parse(term).ok().map(|t| t.within(scope)),
                sort: Sort::LastActivity,
                ..Default::default()
            };
            let store = store.clone();
            async move {
                let mut ids: Vec<Id> = all_pages(&store, admin, &filter).await.iter().map(|c| c.id).collect();
                ids.sort_unstable();
                ids
            }
        };
        let (all, contacts, messages) = (
            found(SearchScope::Everywhere).await,
            found(SearchScope::Contacts).await,
            found(SearchScope::Messages).await,
        );
        let mut union: Vec<Id> = contacts.iter().chain(&messages).copied().collect();
        union.sort_unstable();
        union.dedup();
        assert_eq!(all, union, "{term:?}: everywhere = contacts ∪ messages");
    }
    // Each scope looks only where it says.
    let in_scope = |term: &str, scope| ConversationFilter {
        search: charla_core::search::parse(term).ok().map(|t| t.within(scope)),
        ..Default::default()
    };
    assert!(
        all_pages(&store, admin, &in_scope("600 555", SearchScope::Messages)).await.is_empty(),
        "phones are not message text"
    );
    assert!(!all_pages(&store, admin, &in_scope("600 555", SearchScope::Contacts)).await.is_empty());
    assert!(!all_pages(&store, admin, &in_scope("refund", SearchScope::Messages)).await.is_empty());
    assert!(
        all_pages(&store, admin, &in_scope("refund", SearchScope::Contacts)).await.is_empty(),
        "no contact is named refund"
    );
    for (term, at_least) in [
        ("lopez", 1),
        ("lópez", 2),
        ("600 555", 5),
        ("acme.io", 1),
        ("refund", 3),
        ("mille", 1),
        ("zorai", 1),
        ("zzzz", 0),
    ] {
        let filter = ConversationFilter { search: charla_core::search::parse(term).ok(), ..Default::default() };
        let found = all_pages(&store, admin, &filter).await.len();
        assert!(found >= at_least, "{term:?}: {found} found");
        if at_least == 0 {
            assert_eq!(found, 0);
        }
    }
}

/// Contact search reads a copy of the contact's and identity's text kept on each conversation:
/// every write that changes them changes what a search finds, whatever the plan.
async fn search_follows_contact_changes(store: Arc<dyn Store>) {
    let ws = store.create_workspace("Copies").await.expect("workspace").id;
    let admin = store.create_user(user(ws, &format!("admin@c{ws}.test"), Role::Admin, &[])).await.expect("admin");
    let a = store.create_channel(crate::conversations::channel(ws, "a")).await.expect("a");
    let viewer = store.viewer(ws, admin.id).await.expect("viewer");
    let one = ingest(&store, inbound(a.id, "c-1", "x-1", "Wilhelmina Stark", "hello"), T0).await;
    let two = ingest(&store, inbound(a.id, "c-2", "x-2", "Xaverine Oak", "hello"), T0 + MIN).await;
    let found = |term: &'static str| {
        let store = store.clone();
        let viewer = viewer.clone();
        async move {
            let mut per_plan = Vec::new();
            for (plan, hit_set) in [(3_000, 20_000), (1, 20_000), (3_000, 0), (0, 20_000), (-1, 20_000)] {
                charla_store::sql::set_search_scan_threshold(plan);
                charla_store::sql::set_search_set_max(hit_set);
                let filter = ConversationFilter { search: charla_core::search::parse(term).ok(), ..Default::default() };
                let mut ids: Vec<Id> = all_pages(&store, &viewer, &filter).await.iter().map(|c| c.id).collect();
                ids.sort_unstable();
                per_plan.push(ids);
            }
            charla_store::sql::set_search_scan_threshold(3_000);
            charla_store::sql::set_search_set_max(20_000);
            assert!(per_plan.iter().all(|p| *p == per_plan[0]), "{term:?}: plans disagree {per_plan:?}");
            per_plan.swap_remove(0)
        }
    };
    assert_eq!(found("wilhel").await, vec![one.id]);
    assert_eq!(found("xaveri").await, vec![two.id]);

    // The contact edited: name, e-mail, phone.
    let k1 = one.contact_id.expect("contact");
    let patch = ContactPatch {
        name: Some("Brunhilde Stark".into()),
        email: Some(Some("bru@example.org".into())),
        phone: Some(Some("+49 170 5550123".into())),
        ..Default::default()
    };
    store.update_contact(ws, k1, patch).await.expect("edit");
    assert_eq!(found("brunhi").await, vec![one.id]);
    assert_eq!(found("bru@example").await, vec![one.id]);
    assert_eq!(found("555 0123").await, vec![one.id]);
    // The identity keeps the name the channel gave.
    assert_eq!(found("wilhel").await, vec![one.id]);

    // The channel gives the identity another name.
    ingest(&store, inbound(a.id, "c-3", "x-1", "Mina Stark", "again"), T0 + 2 * MIN).await;
    assert_eq!(found("wilhel").await, Vec::<Id>::new());
    assert_eq!(found("mina st").await, vec![one.id]);

    // Merged: the other conversation now has this contact's text.
    let k2 = two.contact_id.expect("contact");
    store.merge_contacts(ws, k1, k2, T0 + 3 * MIN).await.expect("merge");
    assert_eq!(found("bru@example").await, vec![one.id, two.id]);
    assert_eq!(found("xaveri").await, vec![two.id], "the identity keeps its name");

    // Detached: the contact's text no longer finds the conversation, its identity's does.
    store.detach_contact(ws, one.id, admin.id, T0 + 4 * MIN).await.expect("detach");
    assert_eq!(found("bru@example").await, vec![two.id]);
    assert_eq!(found("mina st").await, vec![one.id]);

    // An identity's name is lower-cased as the term is, beyond A-Z, whether a search reads the
    // index or each conversation's own copy.
    let three = ingest(&store, inbound(a.id, "c-4", "x-3", "ÅSA ÖBERG", "hej"), T0 + 5 * MIN).await;
    let k3 = three.contact_id.expect("contact");
    let rename = ContactPatch { name: Some("Customer Three".into()), ..Default::default() };
    store.update_contact(ws, k3, rename).await.expect("edit");
    assert_eq!(found("åsa öb").await, vec![three.id]);
    ingest(&store, inbound(a.id, "c-5", "x-3", "ÉLODIE ØRSTED", "igen"), T0 + 6 * MIN).await;
    assert_eq!(found("élodie ør").await, vec![three.id]);
    assert_eq!(found("åsa öb").await, Vec::<Id>::new());
}
