//! SQLite only: the writer's upkeep of the full-text indexes.

use crate::conversations::{T0, inbound, ingest, world};
use charla_store::Store;
use charla_store::sql::{Options, SqlStore};
use sqlx::Connection;
use std::sync::Arc;

/// One SQLite varint (big-endian groups of 7 bits, the ninth byte whole), consumed from `b`.
fn varint(b: &mut &[u8]) -> u64 {
    let mut v = 0u64;
    for i in 0..9 {
        let Some((&byte, rest)) = b.split_first() else { panic!("structure record cut short") };
        *b = rest;
        if i == 8 {
            return (v << 8) | u64::from(byte);
        }
        v = (v << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            break;
        }
    }
    v
}

/// Levels and segments of FTS5 index `index`, from its structure record (row 10 of its
/// `_data` table: a 4-byte cookie, then the number of levels and of segments as varints).
async fn structure(c: &mut sqlx::SqliteConnection, index: &str) -> (u64, u64) {
    let sql = format!("SELECT block FROM {index}_data WHERE id = 10");
    let block: Vec<u8> = sqlx::query_scalar(&sql).fetch_one(&mut *c).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    let mut rest = block.get(4..).expect("structure record");
    let levels = varint(&mut rest);
    let segments = varint(&mut rest);
    (levels, segments)
}

/// Each group commit adds one segment to each full-text index it fills. FTS5's own automerge
/// merged them in bursts (8-18 ms in one group's commit, with every later delivery waiting
/// behind it); the writer turns it off and merges a little at a time instead, so no level keeps
/// 4 segments (without those merges, up to 15 pile up on a level before a crisis merge: 16
/// segments on 2 levels here). Written one message per group, as at a steady low rate, the
/// writer merges and checkpoints between requests (sql/mod.rs, `Upkeep`): a moment later, while
/// the server runs, the indexes are merged and whole, and the database file itself (the WAL
/// aside) holds every message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_light_load_is_merged_and_checkpointed_between_requests() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("charla.db");
    let url = format!("sqlite://{}", path.display());
    let store: Arc<dyn Store> = Arc::new(SqlStore::open(&url, Options::default()).await.expect("open sqlite store"));
    let w = world(&store).await;
    // One at a time: the writer finds a single request waiting each time.
    const MESSAGES: i64 = 106;
    const SENDERS: i64 = 13;
    for i in 0..MESSAGES {
        // Words of its own, enough that each group's segment spans a few pages (one-page
        // segments are all the same size, and FTS5 folds them together whatever merges).
        let words: Vec<String> = (0..600).map(|j| format!("w{i}x{j}")).collect();
        let text = format!("order {i} {}", words.join(" "));
        let msg = inbound(w.channel.id, &format!("p{i}"), &format!("c{}", i % SENDERS), &format!("Sender {i}"), &text);
        ingest(&store, msg, T0 + i).await;
    }
    // The writer's upkeep waits for a pause in the requests (a checkpoint comes every 50 ms).
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let file_only = sqlx::sqlite::SqliteConnectOptions::new().filename(&path).immutable(true).read_only(true);
    let mut c = sqlx::SqliteConnection::connect_with(&file_only).await.expect("connect to the file alone");
    let in_file: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages").fetch_one(&mut c).await.expect("count");
    assert_eq!(in_file, MESSAGES, "the database file holds every message: the WAL was checkpointed");
    let _ = c.close().await;
    let mut c = sqlx::SqliteConnection::connect(&url).await.expect("connect");
    for index in ["message_search", "conversations_fts"] {
        let (levels, segments) = structure(&mut c, index).await;
        assert!(segments <= 3 * levels, "{index}: {segments} segments on {levels} levels while running");
    }
    let _ = c.close().await;
    store.shutdown().await;

    let mut c = sqlx::SqliteConnection::connect(&url).await.expect("connect");
    for index in ["message_search", "conversations_fts"] {
        let sql = format!("SELECT CAST(v AS INTEGER) FROM {index}_config WHERE k = 'automerge'");
        let automerge: i64 = sqlx::query_scalar(&sql).fetch_one(&mut c).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        assert_eq!(automerge, 0, "{index} merges by itself");
        let (levels, segments) = structure(&mut c, index).await;
        assert!(segments <= 3 * levels, "{index}: {segments} segments on {levels} levels: left unmerged");
        sqlx::query(&format!("INSERT INTO {index}({index}) VALUES ('integrity-check')"))
            .execute(&mut c)
            .await
            .unwrap_or_else(|e| panic!("{index} is damaged: {e}"));
    }
    let found: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM message_search WHERE message_search MATCH 'order'")
        .fetch_one(&mut c)
        .await
        .expect("match");
    assert_eq!(found, MESSAGES, "every message is in the index");
    let senders: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM conversations_fts WHERE conversations_fts MATCH 'sender'")
            .fetch_one(&mut c)
            .await
            .expect("match");
    assert_eq!(senders, SENDERS, "every new sender's conversation is in the index");
    let _ = c.close().await;
}
