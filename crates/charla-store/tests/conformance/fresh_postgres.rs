//! PostgreSQL only: what a brand-new database's planner sees.

use crate::harness;
use charla_store::Store;
use charla_store::sql::{Options, SqlStore};
use sqlx::{Connection, Row};
use std::sync::Arc;

/// A brand-new database with the store open on it, and a connection of its own for the
/// catalog's view.
struct Fresh {
    db: String,
    store: Arc<dyn Store>,
    c: sqlx::PgConnection,
}

impl Fresh {
    async fn open() -> Fresh {
        let (db, url) = harness::new_pg_database().await;
        let store = SqlStore::open(&url, Options::default()).await.expect("open postgres store");
        let c = sqlx::PgConnection::connect(&url).await.expect("connect");
        Fresh { db, store: Arc::new(store), c }
    }

    /// The names the catalog query `sql` answers in its first column.
    async fn names(&mut self, sql: &str) -> Vec<String> {
        sqlx::query(sql)
            .fetch_all(&mut self.c)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .iter()
            .map(|r| r.get(0))
            .collect()
    }

    /// Runs one statement on the connection of its own.
    async fn exec(&mut self, sql: &str) {
        sqlx::query(sql).execute(&mut self.c).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    async fn finish(self) {
        let _ = self.c.close().await;
        self.store.shutdown().await;
        harness::drop_pg_database(&self.db).await;
    }
}

/// The write path's statements are prepared and PostgreSQL caches a generic plan for each after
/// five runs, planned from the statistics of that moment. A fresh database's tables must stay
/// unanalyzed (PostgreSQL then assumes at least 10 pages): statistics that say "empty" made
/// every lookup by id a full scan of the table, kept until autovacuum's first ANALYZE about a
/// minute later (10 ms a message at 10,000 conversations).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_database_plans_lookups_with_its_indexes() {
    let mut f = Fresh::open().await;
    let analyzed_empty = f
        .names(
            "SELECT relname::text FROM pg_class WHERE relnamespace = 'public'::regnamespace \
             AND relkind = 'r' AND reltuples = 0 AND relname <> 'schema_migrations' ORDER BY 1",
        )
        .await;
    assert_eq!(analyzed_empty, Vec::<String>::new(), "tables analyzed while empty");
    for lookup in [
        "SELECT * FROM conversations WHERE identity_id = 1",
        "UPDATE conversations SET status = 'open' WHERE id = 1",
        "SELECT * FROM conversation_search WHERE id = 1",
        "SELECT * FROM contact_identities WHERE channel_id = 1 AND external_id = 'x'",
        "SELECT * FROM messages WHERE conversation_id = 1 ORDER BY id DESC LIMIT 50",
    ] {
        let plan = f.names(&format!("EXPLAIN {lookup}")).await;
        assert!(!plan.iter().any(|line| line.contains("Seq Scan")), "{lookup}: {plan:#?}");
    }
    f.finish().await;
}

/// Contact search's copy keeps finer statistics (migration 0016): the gathering of a term's
/// conversations picks the trigram index or a read of the table in order from the estimated
/// matches, and the default histogram's 1 % steps made a name in 0.45 % of the conversations
/// look like 3 %, read in order at five to ten times the cost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contact_search_copy_keeps_fine_statistics() {
    let mut f = Fresh::open().await;
    let targets = f
        .names(
            "SELECT attname::text || '=' || attstattarget::text FROM pg_attribute \
             WHERE attrelid = 'conversation_search'::regclass AND attname IN ('search_text', 'search_phone') ORDER BY 1",
        )
        .await;
    assert_eq!(targets, vec!["search_phone=1000".to_string(), "search_text=1000".to_string()]);
    f.finish().await;
}

/// Inbound messages, of new and of known senders, lock no row they all share. A foreign key's
/// check share-locks the parent row: from the one workspace and channel row of every message,
/// concurrent transactions made a new MultiXact each, with a WAL record and an exclusive lock
/// on that one page. A row keeps its last locker in `xmax` (setting the workspace up locks it:
/// users and channel members reference it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbound_messages_lock_no_shared_parent_row() {
    let mut f = Fresh::open().await;
    let w = crate::conversations::world(&f.store).await;
    let lockers = format!(
        "SELECT xmax::text FROM workspaces WHERE id = {} UNION ALL SELECT xmax::text FROM channels WHERE id = {}",
        w.ws, w.channel.id
    );
    let before = f.names(&lockers).await;
    let sends = (0..24).map(|i| {
        let store = f.store.clone();
        let msg =
            crate::conversations::inbound(w.channel.id, &format!("p-{i}"), &format!("ext-{}", i % 8), "Ana", "hola");
        tokio::spawn(async move { store.ingest_inbound(msg, 1_700_000_000_000 + i).await.map(|_| ()) })
    });
    for send in sends.collect::<Vec<_>>() {
        send.await.expect("task").expect("ingest");
    }
    assert_eq!(f.names(&lockers).await, before, "the workspace or channel row was locked by an inbound message");
    f.finish().await;
}

/// No GIN index keeps a pending list: with one, whichever insert found it past its limit (4 MB)
/// moved it all into the index inside its own transaction, tens of milliseconds for one
/// message, and every message committed meanwhile waited for it, since events reach sockets
/// in seq order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gin_indexes_take_rows_directly() {
    let mut f = Fresh::open().await;
    let gin = f
        .names(
            "SELECT i.relname::text || CASE WHEN i.reloptions @> ARRAY['fastupdate=off'] THEN '' ELSE ' (pending list)' END \
             FROM pg_class i JOIN pg_am a ON a.oid = i.relam \
             WHERE i.relnamespace = 'public'::regnamespace AND a.amname = 'gin' ORDER BY 1",
        )
        .await;
    // Contact search's trigram indexes; full-text search reads a btree (migration 0015).
    assert!(gin.len() >= 4, "the contact search indexes are GIN: {gin:?}");
    let pending: Vec<&String> = gin.iter().filter(|name| name.ends_with("(pending list)")).collect();
    assert!(pending.is_empty(), "GIN indexes with a pending list: {pending:?}");
    f.finish().await;
}

/// Full-text search's words (migration 0015) follow every write of a message: a new message, an
/// edit, a message hidden and shown again, one moved to another conversation, a deletion; a
/// search finds by the words a message has now, and never by a hidden message's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_words_follow_every_write_of_a_message() {
    use charla_store::{ConversationFilter, Sort};
    let mut f = Fresh::open().await;
    let w = crate::conversations::world(&f.store).await;
    let mut messages = Vec::new();
    for (i, text) in ["Hola, el kayak rojo", "¿Tenéis el KAYAK azul?", "gracias por el remo"].iter().enumerate() {
        let msg = crate::conversations::inbound(w.channel.id, &format!("p-{i}"), &format!("ext-{i}"), "Ana", text);
        let written = f.store.ingest_inbound(msg, 1_700_000_000_000 + i as i64).await.expect("ingest");
        messages.push((written.value.message.id, written.value.conversation.id));
    }
    let admin = f.store.viewer(w.ws, w.admin.id).await.expect("viewer");
    let store = f.store.clone();
    let found = |term: &'static str| {
        let (store, admin) = (store.clone(), admin.clone());
        async move {
            let filter = ConversationFilter {
                search: charla_core::search::parse(term)
                    .ok()
                    .map(|t| t.within(charla_core::search::SearchScope::Messages)),
                sort: Sort::LastActivity,
                ..Default::default()
            };
            let mut ids: Vec<i64> = store
                .list_conversations(&admin, filter)
                .await
                .expect("list")
                .items
                .iter()
                .map(|r| r.conversation.id)
                .collect();
            ids.sort_unstable();
            ids
        }
    };
    // What the table holds against what the messages say now, both ways.
    let drift = "SELECT COUNT(*)::text FROM ((SELECT message_id, conversation_id, word FROM message_words \
         EXCEPT ALL SELECT m.id, m.conversation_id, x FROM messages m, unnest(message_lexemes(m.text)) x \
         WHERE m.hidden = 0) UNION ALL (SELECT m.id, m.conversation_id, x FROM messages m, \
         unnest(message_lexemes(m.text)) x WHERE m.hidden = 0 EXCEPT ALL \
         SELECT message_id, conversation_id, word FROM message_words)) d";
    assert_eq!(f.names(drift).await, ["0"]);
    assert_eq!(f.names("SELECT COUNT(*)::text FROM message_words").await, ["12"]);
    let ((m0, c0), (m1, c1), (m2, c2)) = (messages[0], messages[1], messages[2]);
    assert_eq!(found("kayak").await, [c0, c1]);
    assert_eq!(found("el kayak").await, [c0, c1], "every word, in one message");
    assert_eq!(found("kayak remo").await, Vec::<i64>::new(), "two messages' words are not one message's");

    f.exec(&format!("UPDATE messages SET text = 'una canoa verde' WHERE id = {m0}")).await;
    f.exec(&format!("UPDATE messages SET hidden = 1 WHERE id = {m1}")).await;
    f.exec(&format!("UPDATE messages SET conversation_id = {c0} WHERE id = {m2}")).await;
    assert_eq!(f.names(drift).await, ["0"]);
    assert_eq!(found("kayak").await, Vec::<i64>::new(), "edited away, and hidden");
    assert_eq!(found("canoa").await, [c0]);
    assert_eq!(found("remo").await, [c0], "moved with its message");
    assert_eq!(found("gracias").await, [c0]);
    f.exec(&format!("UPDATE messages SET hidden = 0 WHERE id = {m1}")).await;
    assert_eq!(found("kayak").await, [c1]);
    f.exec(&format!("DELETE FROM messages WHERE id = {m1}")).await;
    assert_eq!(f.names(drift).await, ["0"]);
    assert_eq!(found("kayak").await, Vec::<i64>::new());
    assert_eq!(found("azul").await, Vec::<i64>::new());
    assert_ne!(c2, c0);
    f.finish().await;
}
