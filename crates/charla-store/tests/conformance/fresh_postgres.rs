//! PostgreSQL only: what a brand-new database's planner sees.

use crate::harness;
use charla_store::Store;
use charla_store::sql::{Options, SqlStore};
use sqlx::{Connection, Row};

/// The write path's statements are prepared and PostgreSQL caches a generic plan for each after
/// five runs, planned from the statistics of that moment. A fresh database's tables must stay
/// unanalyzed (PostgreSQL then assumes at least 10 pages): statistics that say "empty" made
/// every lookup by id a full scan of the table, kept until autovacuum's first ANALYZE about a
/// minute later (10 ms a message at 10,000 conversations).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_database_plans_lookups_with_its_indexes() {
    let (db, url) = harness::new_pg_database().await;
    let store = SqlStore::open(&url, Options::default()).await.expect("open postgres store");
    let mut c = sqlx::PgConnection::connect(&url).await.expect("connect");
    let analyzed_empty: Vec<String> = sqlx::query(
        "SELECT relname::text AS name FROM pg_class WHERE relnamespace = 'public'::regnamespace \
         AND relkind = 'r' AND reltuples = 0 AND relname <> 'schema_migrations' ORDER BY 1",
    )
    .fetch_all(&mut c)
    .await
    .expect("pg_class")
    .iter()
    .map(|r| r.get("name"))
    .collect();
    assert_eq!(analyzed_empty, Vec::<String>::new(), "tables analyzed while empty");
    for lookup in [
        "SELECT * FROM conversations WHERE identity_id = 1",
        "UPDATE conversations SET status = 'open' WHERE id = 1",
        "SELECT * FROM conversation_search WHERE id = 1",
        "SELECT * FROM contact_identities WHERE channel_id = 1 AND external_id = 'x'",
        "SELECT * FROM messages WHERE conversation_id = 1 ORDER BY id DESC LIMIT 50",
    ] {
        let plan: Vec<String> = sqlx::query(&format!("EXPLAIN {lookup}"))
            .fetch_all(&mut c)
            .await
            .expect("explain")
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert!(!plan.iter().any(|line| line.contains("Seq Scan")), "{lookup}: {plan:#?}");
    }
    let _ = c.close().await;
    store.shutdown().await;
    harness::drop_pg_database(&db).await;
}

/// Inbound messages, of new and of known senders, lock no row they all share. A foreign key's
/// check share-locks the parent row: from the one workspace and channel row of every message,
/// concurrent transactions made a new MultiXact each, with a WAL record and an exclusive lock
/// on that one page. A row keeps its last locker in `xmax` (setting the workspace up locks it:
/// users and channel members reference it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbound_messages_lock_no_shared_parent_row() {
    let (db, url) = harness::new_pg_database().await;
    let store: std::sync::Arc<dyn Store> =
        std::sync::Arc::new(SqlStore::open(&url, Options::default()).await.expect("open postgres store"));
    let w = crate::conversations::world(&store).await;
    let mut c = sqlx::PgConnection::connect(&url).await.expect("connect");
    let lockers = "SELECT (SELECT xmax::text FROM workspaces WHERE id = $1) AS w, \
                   (SELECT xmax::text FROM channels WHERE id = $2) AS ch";
    let before = sqlx::query(lockers).bind(w.ws).bind(w.channel.id).fetch_one(&mut c).await.expect("xmax");
    let before = (before.get::<String, _>("w"), before.get::<String, _>("ch"));
    let sends = (0..24).map(|i| {
        let store = store.clone();
        let msg =
            crate::conversations::inbound(w.channel.id, &format!("p-{i}"), &format!("ext-{}", i % 8), "Ana", "hola");
        tokio::spawn(async move { store.ingest_inbound(msg, 1_700_000_000_000 + i).await.map(|_| ()) })
    });
    for send in sends.collect::<Vec<_>>() {
        send.await.expect("task").expect("ingest");
    }
    let after = sqlx::query(lockers).bind(w.ws).bind(w.channel.id).fetch_one(&mut c).await.expect("xmax");
    assert_eq!(
        (after.get::<String, _>("w"), after.get::<String, _>("ch")),
        before,
        "the workspace or channel row was locked by an inbound message"
    );
    let _ = c.close().await;
    store.shutdown().await;
    harness::drop_pg_database(&db).await;
}

/// No GIN index keeps a pending list: with one, whichever insert found it past its limit (4 MB)
/// moved it all into the index inside its own transaction, tens of milliseconds for one
/// message, and every message committed meanwhile waited for it, since events reach sockets
/// in seq order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gin_indexes_take_rows_directly() {
    let (db, url) = harness::new_pg_database().await;
    let store = SqlStore::open(&url, Options::default()).await.expect("open postgres store");
    let mut c = sqlx::PgConnection::connect(&url).await.expect("connect");
    let pending: Vec<String> = sqlx::query(
        "SELECT i.relname::text AS name FROM pg_class i JOIN pg_am a ON a.oid = i.relam \
         WHERE i.relnamespace = 'public'::regnamespace AND a.amname = 'gin' \
         AND NOT COALESCE(i.reloptions @> ARRAY['fastupdate=off'], false) ORDER BY 1",
    )
    .fetch_all(&mut c)
    .await
    .expect("pg_class")
    .iter()
    .map(|r| r.get("name"))
    .collect();
    assert_eq!(pending, Vec::<String>::new(), "GIN indexes with a pending list");
    let gin: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_class i JOIN pg_am a ON a.oid = i.relam \
         WHERE i.relnamespace = 'public'::regnamespace AND a.amname = 'gin'",
    )
    .fetch_one(&mut c)
    .await
    .expect("count");
    assert!(gin >= 5, "the message and contact search indexes are GIN: {gin}");
    let _ = c.close().await;
    store.shutdown().await;
    harness::drop_pg_database(&db).await;
}
