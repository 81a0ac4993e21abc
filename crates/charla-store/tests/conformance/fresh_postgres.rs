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
