//! The SQL implementation of [`Store`], for SQLite and PostgreSQL.
//!
//! Both backends run the same statements through sqlx's `Any` driver (`$1` placeholders work on
//! both); what differs lives in [`Dialect`] and in the per-backend migrations:
//! - SQLite: one writer connection owned by a task that commits in groups (many requests, one
//!   transaction, one fsync; each request in its own SAVEPOINT so one failure does not undo the
//!   others), WAL, `synchronous=FULL`, readers in a pool. A write returns after its COMMIT.
//! - PostgreSQL: a pool; each write is its own transaction; row locks (`FOR UPDATE`) and
//!   `FOR UPDATE SKIP LOCKED` for jobs where several nodes share the database.

use crate::*;
use futures_util::future::BoxFuture;
use sqlx::any::{AnyArguments, AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::{AnyConnection, AnyPool, Connection, Executor, Row};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

pub mod bulk;
mod conversations;
mod directory;
mod inbox;
mod jobs;
mod messengers;
mod reports;
mod rows;

pub use inbox::{set_bit_map_from, set_count_walk_from, set_search_scan_threshold, set_search_set_max};
mod website;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// Row lock for read-modify-write inside a transaction (SQLite has one writer: none needed).
    pub fn for_update(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }
}

/// Options for opening a store.
#[derive(Debug, Clone)]
pub struct Options {
    /// Maximum requests the SQLite writer commits in one transaction.
    pub max_group: usize,
    /// Reader connections.
    pub readers: u32,
    /// `PRAGMA synchronous` for SQLite: FULL by default (durable on power loss).
    pub sqlite_synchronous: String,
}

impl Default for Options {
    fn default() -> Self {
        Options { max_group: 256, readers: 4, sqlite_synchronous: "FULL".into() }
    }
}

type Completion = Box<dyn FnOnce(Result<(), String>) + Send>;
type WriteOp = Box<dyn for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, (bool, Completion)> + Send>;
/// A request the SQLite writer runs synchronously on a connection of its own (see
/// [`SqlStore::write_fast`]).
type FastOp = Box<dyn FastRequest>;

trait FastRequest: Send {
    /// Runs the request: Some(whether it succeeded), or None for a case it does not handle,
    /// having written nothing. Runs again if the group is rolled back and run once more.
    fn run(&mut self, conn: &rusqlite::Connection, pending: &mut PendingEvents) -> Option<bool>;
    /// How to answer the caller once the commit is known (after a `run` that answered Some).
    fn finish(self: Box<Self>) -> Completion;
    /// The request for the general path (after a `run` that answered None).
    fn into_slow(self: Box<Self>) -> WriteOp;
}

struct Fast<S, T, F, G> {
    state: S,
    fast: F,
    slow: G,
    result: Option<StoreResult<T>>,
    otx: oneshot::Sender<StoreResult<T>>,
}

impl<S, T, F, G> FastRequest for Fast<S, T, F, G>
where
    S: Send + 'static,
    T: Send + 'static,
    F: Fn(&S, &rusqlite::Connection, &mut PendingEvents) -> Option<StoreResult<T>> + Send + 'static,
    G: for<'c> FnOnce(S, &'c mut AnyConnection) -> BoxFuture<'c, StoreResult<T>> + Send + 'static,
{
    fn run(&mut self, conn: &rusqlite::Connection, pending: &mut PendingEvents) -> Option<bool> {
        let result = (self.fast)(&self.state, conn, pending)?;
        let ok = result.is_ok();
        self.result = Some(result);
        Some(ok)
    }
    fn finish(self: Box<Self>) -> Completion {
        let result = self.result.unwrap_or_else(|| Err(StoreError::Database("write did not run".into())));
        completion(result, self.otx)
    }
    fn into_slow(self: Box<Self>) -> WriteOp {
        let Fast { state, slow, otx, .. } = *self;
        any_op(move |c| slow(state, c), otx)
    }
}

/// What the SQLite writer is asked to run.
enum Op {
    Any(WriteOp),
    Fast(FastOp),
}

/// The answer of a request once its group's commit is known.
fn completion<T: Send + 'static>(result: StoreResult<T>, otx: oneshot::Sender<StoreResult<T>>) -> Completion {
    Box::new(move |commit: Result<(), String>| {
        let _ = otx.send(match (result, commit) {
            (Err(e), _) => Err(e),
            (Ok(_), Err(e)) => Err(StoreError::Database(e)),
            (Ok(v), Ok(())) => Ok(v),
        });
    })
}

/// `f` as a request of the writer's sqlx connection, answering `otx`.
fn any_op<T, F>(f: F, otx: oneshot::Sender<StoreResult<T>>) -> WriteOp
where
    T: Send + 'static,
    F: for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, StoreResult<T>> + Send + 'static,
{
    Box::new(move |conn| {
        Box::pin(async move {
            let result = f(conn).await;
            let ok = result.is_ok();
            (ok, completion(result, otx))
        })
    })
}

enum Writer {
    /// SQLite: requests go to the single writer task; None once shut down.
    Group(std::sync::Mutex<Option<mpsc::Sender<Op>>>),
    /// PostgreSQL: each write takes a pooled connection and its own transaction.
    Pool,
}

/// The SQL store. Open it with [`SqlStore::open`]; cheap to share behind an `Arc`.
pub struct SqlStore {
    pub(crate) dialect: Dialect,
    pub(crate) pool: AnyPool,
    writer: Writer,
    /// SQLite: resolves once the writer thread has committed what it held and stopped.
    writer_task: std::sync::Mutex<Option<oneshot::Receiver<()>>>,
}

/// The two backends are one implementation with two dialects; these names say which is which.
pub type SqliteStore = SqlStore;
pub type PgStore = SqlStore;

fn db_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(e.to_string())
}

/// PostgreSQL, each new session, in one round trip (see [`SqlStore::open`]): no JIT, and
/// `effective_io_concurrency` at 64 where the server keeps its default (nothing where the
/// platform refuses it: no `posix_fadvise`).
const SESSION_SQL: &str = "SET jit = off; DO $$ BEGIN \
     IF current_setting('effective_io_concurrency') = '1' THEN \
     PERFORM set_config('effective_io_concurrency', '64', false); END IF; \
     EXCEPTION WHEN OTHERS THEN NULL; END $$";

impl SqlStore {
    /// Runs two independent reads of one request, `first` on the caller's connection `c` and
    /// `second` on a spare one of the pool at the same time, or both on `c` one after the other
    /// when the pool has none to spare. It never waits on a full pool while the caller holds a
    /// connection, so requests that each want two cannot deadlock it; below the pool's size it
    /// opens one (and gives up after a moment if another request takes the slot first).
    pub(crate) async fn side_by_side<A, B>(
        &self,
        c: &mut AnyConnection,
        first: impl for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, StoreResult<A>>,
        second: impl for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, StoreResult<B>>,
    ) -> StoreResult<(A, B)> {
        let spare = match self.pool.try_acquire() {
            Some(spare) => Some(spare),
            None if self.pool.size() < self.pool.options().get_max_connections() => {
                tokio::time::timeout(Duration::from_millis(100), self.pool.acquire()).await.ok().and_then(Result::ok)
            }
            None => None,
        };
        match spare {
            Some(mut spare) => tokio::try_join!(first(c), second(&mut spare)),
            None => {
                let a = first(&mut *c).await?;
                Ok((a, second(c).await?))
            }
        }
    }

    /// Opens `sqlite://path` (created if missing) or `postgres://...`, and migrates it.
    pub async fn open(url: &str, options: Options) -> StoreResult<SqlStore> {
        sqlx::any::install_default_drivers();
        let store = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = AnyConnectOptions::from_str(url).map_err(db_err)?;
            // No JIT compilation: it pays off for long analytical queries, and here it only
            // delayed the searches whose estimated cost passed its threshold (20 ms compiling
            // a statement that gathers a common word's conversations).
            // Reads ahead for bitmap scans (`effective_io_concurrency`, which PostgreSQL leaves
            // at 1, suited to one spinning disk): a contact search's gathering reads its
            // candidates' rows of `conversation_search` that way, and a term's rows are mostly
            // not in memory the first time. Cold, 500 candidates: 26-46 ms → 12-16. Left as the
            // server's administrator set it, and where the platform cannot read ahead.
            let pool = AnyPoolOptions::new()
                .max_connections(options.readers.max(4) * 2)
                .acquire_timeout(Duration::from_secs(10))
                .after_connect(|c, _| {
                    Box::pin(async move {
                        c.execute(SESSION_SQL).await?;
                        Ok(())
                    })
                })
                .connect_with(opts)
                .await
                .map_err(db_err)?;
            SqlStore { dialect: Dialect::Postgres, pool, writer: Writer::Pool, writer_task: Default::default() }
        } else if url.starts_with("sqlite:") {
            let sync = options.sqlite_synchronous.clone();
            if !matches!(sync.as_str(), "FULL" | "NORMAL" | "EXTRA" | "OFF") {
                return Err(StoreError::Invalid("bad_option", format!("unknown synchronous mode {sync}")));
            }
            let url = if url.contains('?') { url.to_string() } else { format!("{url}?mode=rwc") };
            let opts = AnyConnectOptions::from_str(&url).map_err(db_err)?;
            // The writer connects first so the database file and WAL mode exist for readers.
            // - temp_store=MEMORY: each request of a group runs in a SAVEPOINT, whose statement
            //   journal (the pages it touched, to undo it) otherwise spills to a temporary file:
            //   about 120 KB written per inbound message, more than the WAL itself.
            // - wal_autocheckpoint: the writer checkpoints when the WAL passes this many pages.
            //   Every message moves a conversation in the inbox's indexes, so the same pages
            //   are rewritten again and again; a longer WAL copies each to the database once
            //   for many commits (1,000 pages, the default, checkpointed ~50 times a second at
            //   full load). journal_size_limit keeps the file from staying large afterwards.
            //   Under a light load the writer checkpoints sooner, between requests ([`Upkeep`]).
            //   (A checkpointing thread of its own was tried: the writer no longer ran them, but
            //   their large writes delayed its fsyncs, p99 at 1,000 messages/s 10 → 422 ms.)
            // Measured on the ingest workload (SQLite alone, 64 messages a group): 332 → about
            // 145 µs a message.
            let pragmas = format!(
                "PRAGMA journal_mode=WAL; PRAGMA synchronous={sync}; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000; \
                 PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=4000; PRAGMA journal_size_limit=67108864;"
            );
            let (tx, rx) = mpsc::channel::<Op>(options.max_group * 4);
            let writer_done = spawn_writer_thread(opts.clone(), pragmas, rx, options.max_group).await?;
            // Readers keep up to 32 MiB of pages each (allocated as used): the inbox's indexes
            // stay in memory instead of being read from the OS page cache one call per page.
            let reader_pragmas: &'static str = "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000; PRAGMA query_only=ON; PRAGMA cache_size=-32768; \
                 PRAGMA temp_store=MEMORY;";
            let pool = AnyPoolOptions::new()
                .max_connections(options.readers.max(1))
                .after_connect(move |c, _| {
                    Box::pin(async move {
                        c.execute(reader_pragmas).await?;
                        Ok(())
                    })
                })
                .connect_with(opts)
                .await
                .map_err(db_err)?;
            SqlStore {
                dialect: Dialect::Sqlite,
                pool,
                writer: Writer::Group(std::sync::Mutex::new(Some(tx))),
                writer_task: std::sync::Mutex::new(Some(writer_done)),
            }
        } else {
            return Err(StoreError::Invalid(
                "bad_database_url",
                "database URL must start with sqlite: or postgres://".into(),
            ));
        };
        store.run_migrations().await?;
        Ok(store)
    }

    /// Runs `f` in a write transaction and returns once it is durable. On SQLite it joins the
    /// writer's current group; on PostgreSQL it is a transaction of its own.
    pub(crate) async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, StoreResult<T>> + Send + 'static,
    {
        match &self.writer {
            Writer::Group(sender) => {
                let (otx, orx) = oneshot::channel::<StoreResult<T>>();
                self.submit(sender, Op::Any(any_op(f, otx))).await?;
                orx.await.map_err(|_| StoreError::Database("write was not committed".into()))?
            }
            Writer::Pool => {
                let mut conn = self.pool.acquire().await?;
                let mut tx = conn.begin().await?;
                match f(&mut tx).await {
                    Ok(v) => {
                        tx.commit().await?;
                        Ok(v)
                    }
                    Err(e) => {
                        let _ = tx.rollback().await;
                        Err(e)
                    }
                }
            }
        }
    }

    /// A write with a synchronous fast path for SQLite. The SQLite writer runs `fast` on a
    /// connection of its own, in the thread that commits, without the round trip to sqlx's
    /// connection thread that every statement of [`write`](Self::write) costs (two context
    /// switches a statement: most of the writer's time on the ingest path). `fast` answers
    /// None, having written nothing, for a case it does not handle; then `slow` runs as
    /// [`write`](Self::write) would, in the same group or the next. PostgreSQL always runs
    /// `slow`. Both see the same `state`. Fast requests join a transaction of their own,
    /// committed before the general requests of the same group.
    pub(crate) async fn write_fast<S, T, F, G>(&self, state: S, fast: F, slow: G) -> StoreResult<T>
    where
        S: Send + 'static,
        T: Send + 'static,
        F: Fn(&S, &rusqlite::Connection, &mut PendingEvents) -> Option<StoreResult<T>> + Send + 'static,
        G: for<'c> FnOnce(S, &'c mut AnyConnection) -> BoxFuture<'c, StoreResult<T>> + Send + 'static,
    {
        let Writer::Group(sender) = &self.writer else {
            return self.write(move |c| slow(state, c)).await;
        };
        let (otx, orx) = oneshot::channel::<StoreResult<T>>();
        let op: FastOp = Box::new(Fast { state, fast, slow, result: None, otx });
        self.submit(sender, Op::Fast(op)).await?;
        orx.await.map_err(|_| StoreError::Database("write was not committed".into()))?
    }

    async fn submit(&self, sender: &std::sync::Mutex<Option<mpsc::Sender<Op>>>, op: Op) -> StoreResult<()> {
        let tx = sender.lock().ok().and_then(|g| g.clone());
        let tx = tx.ok_or_else(|| StoreError::Database("store is shut down".into()))?;
        tx.send(op).await.map_err(|_| StoreError::Database("store is shut down".into()))
    }

    async fn run_migrations(&self) -> StoreResult<()> {
        let migrations: &[(i64, &str)] = match self.dialect {
            Dialect::Sqlite => &[
                (1, include_str!("../../migrations/sqlite/0001_init.sql")),
                (2, include_str!("../../migrations/sqlite/0002_reports.sql")),
                (3, include_str!("../../migrations/sqlite/0003_messengers.sql")),
                (4, include_str!("../../migrations/sqlite/0004_website.sql")),
                (5, include_str!("../../migrations/sqlite/0005_event_data.sql")),
                (6, include_str!("../../migrations/sqlite/0006_inbox_scale.sql")),
                (7, include_str!("../../migrations/sqlite/0007_conversation_search.sql")),
                (8, include_str!("../../migrations/sqlite/0008_hidden_messages.sql")),
                (9, include_str!("../../migrations/sqlite/0009_inbox_reads.sql")),
                (10, include_str!("../../migrations/sqlite/0010_message_search_queue.sql")),
                (11, include_str!("../../migrations/sqlite/0011_search_merges.sql")),
                (12, include_str!("../../migrations/sqlite/0012_inbox_copies.sql")),
                (13, include_str!("../../migrations/sqlite/0013_job_wakeup.sql")),
            ],
            Dialect::Postgres => &[
                (1, include_str!("../../migrations/postgres/0001_init.sql")),
                (2, include_str!("../../migrations/postgres/0002_reports.sql")),
                (3, include_str!("../../migrations/postgres/0003_messengers.sql")),
                (4, include_str!("../../migrations/postgres/0004_website.sql")),
                (5, include_str!("../../migrations/postgres/0005_event_data.sql")),
                (6, include_str!("../../migrations/postgres/0006_inbox_scale.sql")),
                (7, include_str!("../../migrations/postgres/0007_conversation_search.sql")),
                (8, include_str!("../../migrations/postgres/0008_hidden_messages.sql")),
                (9, include_str!("../../migrations/postgres/0009_inbox_reads.sql")),
                (10, include_str!("../../migrations/postgres/0010_people_search.sql")),
                (11, include_str!("../../migrations/postgres/0011_conversation_tags.sql")),
                (12, include_str!("../../migrations/postgres/0012_search_fill.sql")),
                (13, include_str!("../../migrations/postgres/0013_steady_writes.sql")),
                (14, include_str!("../../migrations/postgres/0014_job_wakeup.sql")),
                (15, include_str!("../../migrations/postgres/0015_message_words.sql")),
                (16, include_str!("../../migrations/postgres/0016_search_statistics.sql")),
            ],
        };
        let dialect = self.dialect;
        self.write(move |c| {
            Box::pin(async move {
                if dialect == Dialect::Postgres {
                    // One node migrates at a time.
                    c.execute("SELECT pg_advisory_xact_lock(7244001)").await?;
                }
                c.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)")
                    .await?;
                for (version, sql) in migrations {
                    let done: Option<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                        .bind(*version)
                        .fetch_optional(&mut *c)
                        .await?;
                    if done.is_some() {
                        continue;
                    }
                    c.execute(*sql).await?;
                    sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
                        .bind(*version)
                        .bind(now_ms())
                        .execute(&mut *c)
                        .await?;
                }
                Ok(())
            })
        })
        .await
    }
}

/// The events of the SQLite group being written, inserted together just before its COMMIT:
/// one statement for the group instead of one per event. Being the only writer, the group
/// hands out the seqs itself, past every seq ever used (the AUTOINCREMENT counter).
#[derive(Default)]
pub(crate) struct PendingEvents {
    next_seq: i64,
    rows: Vec<PendingEvent>,
}

struct PendingEvent {
    seq: i64,
    workspace_id: Id,
    kind: String,
    access: Option<String>,
    user_id: Option<Id>,
    payload: String,
    created_at: Millis,
}

impl PendingEvents {
    /// Appends an event to the group's and returns it with its seq.
    pub(crate) fn event(
        &mut self,
        workspace_id: Id,
        kind: &str,
        access: Option<ConversationAccess>,
        user_id: Option<Id>,
        payload: serde_json::Value,
        now: Millis,
    ) -> StoreResult<Event> {
        let access_json = access_json(&access)?;
        // Straight into a byte buffer: `Value`'s Display goes through a formatter token by token
        // (about twice the work: 5 % of the SQLite writer's instructions on the ingest path).
        let text = serde_json::to_string(&payload).map_err(db_err)?;
        let seq = self.push(workspace_id, kind, access_json, user_id, text, now);
        Ok(Event { seq, workspace_id, kind: kind.to_string(), access, user_id, payload, created_at: now })
    }

    fn push(
        &mut self,
        workspace_id: Id,
        kind: &str,
        access: Option<String>,
        user_id: Option<Id>,
        payload: String,
        created_at: Millis,
    ) -> i64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.rows.push(PendingEvent {
            seq,
            workspace_id,
            kind: kind.to_string(),
            access,
            user_id,
            payload,
            created_at,
        });
        seq
    }
}

tokio::task_local! {
    /// Set while a SQLite group runs its requests; [`insert_event`] buffers into it.
    static PENDING_EVENTS: Arc<std::sync::Mutex<PendingEvents>>;
}

/// Events per INSERT statement (7 values each, under SQLite's 32766 bound variables).
const EVENTS_PER_INSERT: usize = 1000;

/// Writes the buffered events in the group's transaction.
async fn flush_events(conn: &mut AnyConnection, rows: &[PendingEvent]) -> Result<(), String> {
    for chunk in rows.chunks(EVENTS_PER_INSERT) {
        let mut q =
            Sql::new("INSERT INTO events (seq, workspace_id, kind, access, user_id, payload, created_at) VALUES ");
        for (i, e) in chunk.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" });
            q.bind(e.seq).push(", ").bind(e.workspace_id).push(", ").bind(e.kind.as_str()).push(", ");
            q.bind(e.access.clone()).push(", ").bind(e.user_id).push(", ").bind(e.payload.as_str()).push(", ");
            q.bind(e.created_at).push(")");
        }
        q.query().execute(&mut *conn).await.map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Writes the buffered events on the writer's own connection.
fn flush_events_fast(conn: &rusqlite::Connection, rows: &[PendingEvent]) -> rusqlite::Result<()> {
    let mut insert = conn.prepare_cached(
        "INSERT INTO events (seq, workspace_id, kind, access, user_id, payload, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )?;
    for e in rows {
        insert.execute(rusqlite::params![
            e.seq,
            e.workspace_id,
            e.kind,
            e.access,
            e.user_id,
            e.payload,
            e.created_at
        ])?;
    }
    Ok(())
}

/// One full-text index fed by a queue its triggers fill (migration 0010): moved into the index
/// in the group's transaction just before its COMMIT, so that the index takes the whole group's
/// terms as one segment instead of one per message; its segments are merged afterwards, as the
/// writer's [`Upkeep`] (migration 0011 turns FTS5's automerge off).
struct SearchIndex {
    /// The queue's text, in bytes (what the group adds to the index).
    bytes: &'static str,
    fill: &'static str,
    clear: &'static str,
    merge: &'static str,
    /// About how many bytes of queued text fill one leaf page of a new segment (FTS5's pages
    /// are 4,050 bytes: thirty messages of a dozen words, ten names of thirty-odd trigrams).
    bytes_per_leaf: i64,
}

const SEARCH_INDEXES: [SearchIndex; 2] = [
    SearchIndex {
        bytes: "SELECT COALESCE(SUM(LENGTH(text)), 0) FROM message_search_queue",
        fill: "INSERT INTO message_search(rowid, text) SELECT key, text FROM message_search_queue ORDER BY key",
        clear: "DELETE FROM message_search_queue",
        merge: "INSERT INTO message_search(message_search, rank) VALUES ('merge', ?1)",
        bytes_per_leaf: 2_000,
    },
    SearchIndex {
        bytes: "SELECT COALESCE(SUM(LENGTH(search_text) + LENGTH(search_phone)), 0) FROM conversation_search_queue",
        fill: "INSERT INTO conversations_fts(rowid, search_text, search_phone) \
               SELECT id, search_text, search_phone FROM conversation_search_queue ORDER BY id",
        clear: "DELETE FROM conversation_search_queue",
        merge: "INSERT INTO conversations_fts(conversations_fts, rank) VALUES ('merge', ?1)",
        bytes_per_leaf: 300,
    },
];

/// Pages of merging for each leaf page's worth of text added to an index. FTS5's automerge
/// merged 64 pages per level of the index for every 64 leaves written (each page is merged
/// again at every level it climbs), in one burst of 8-18 ms at the ingest bench's steady
/// 1,000/s; twice that rate in small steps keeps the levels as short (a merge only starts on a
/// level holding 4 segments). Owed in proportion to the text: when it was owed for each
/// group's segment whatever its size, a steady 1,000 messages/s (groups of one or two) owed
/// 16 pages a message, and merging the long doclists of common words took 5 ms a group.
const MERGE_PAGES_PER_LEAF: i64 = 16;
/// Groups of this many requests or more merge in their own transaction, as part of the group:
/// the writer is busy, and a transaction of its own would cost a commit more. Smaller groups
/// leave merging to the upkeep after their answers.
const MERGE_IN_GROUP: usize = 8;
/// Most pages merged in one step.
const MERGE_STEP: i64 = 64;
/// Pages owed that are merged after a group even when requests are waiting.
const MERGE_OWED_MAX: i64 = 256;

impl SearchIndex {
    /// Pages of merging owed for `bytes` of text added (at least one page for any text).
    fn merge_pages(&self, bytes: i64) -> i64 {
        (bytes.max(0) * MERGE_PAGES_PER_LEAF + self.bytes_per_leaf - 1) / self.bytes_per_leaf
    }
}

/// Whether the queue of [`SEARCH_INDEXES`] exists yet (the migrations run through the writer,
/// so the first groups may come before it).
const SEARCH_QUEUE_EXISTS_SQL: &str =
    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'message_search_queue'";

/// The writer's knowledge of the search queue (unknown until a group finds it), and the text
/// added to each of [`SEARCH_INDEXES`] that merging has not yet paid for, in bytes.
#[derive(Default)]
struct SearchQueue {
    exists: bool,
    owed: [i64; SEARCH_INDEXES.len()],
}

impl SearchQueue {
    async fn flush(&mut self, conn: &mut AnyConnection) -> Result<(), String> {
        let e = |e: sqlx::Error| e.to_string();
        if !self.exists {
            let n: i64 = sqlx::query_scalar(SEARCH_QUEUE_EXISTS_SQL).fetch_one(&mut *conn).await.map_err(e)?;
            self.exists = n > 0;
        }
        if self.exists {
            for (index, owed) in SEARCH_INDEXES.iter().zip(&mut self.owed) {
                let bytes: i64 = sqlx::query_scalar(index.bytes).fetch_one(&mut *conn).await.map_err(e)?;
                if bytes > 0 {
                    conn.execute(index.fill).await.map_err(e)?;
                    conn.execute(index.clear).await.map_err(e)?;
                    *owed += bytes;
                }
            }
        }
        Ok(())
    }

    /// Moves the queues into the indexes; with `merge`, then merges a step in the same
    /// transaction.
    fn flush_fast(&mut self, conn: &rusqlite::Connection, merge: bool) -> rusqlite::Result<()> {
        if !self.exists {
            let n: i64 = conn.query_row(SEARCH_QUEUE_EXISTS_SQL, [], |r| r.get(0))?;
            self.exists = n > 0;
        }
        if self.exists {
            for (index, owed) in SEARCH_INDEXES.iter().zip(&mut self.owed) {
                let bytes: i64 = conn.prepare_cached(index.bytes)?.query_row([], |r| r.get(0))?;
                if bytes > 0 {
                    conn.prepare_cached(index.fill)?.execute([])?;
                    conn.prepare_cached(index.clear)?.execute([])?;
                    *owed += bytes;
                }
            }
            if merge {
                self.owed = self.merge_step(conn)?;
            }
        }
        Ok(())
    }

    /// Pages of merging owed, all indexes together.
    fn owed_pages(&self) -> i64 {
        SEARCH_INDEXES.iter().zip(&self.owed).map(|(index, &owed)| index.merge_pages(owed)).sum()
    }

    /// One step of merging (at most [`MERGE_STEP`] pages an index) in the current transaction:
    /// what is owed once it commits. An index where the merge found nothing to merge owes
    /// nothing more.
    fn merge_step(&self, conn: &rusqlite::Connection) -> rusqlite::Result<[i64; SEARCH_INDEXES.len()]> {
        let mut owed = self.owed;
        for (index, owed) in SEARCH_INDEXES.iter().zip(&mut owed) {
            let pages = index.merge_pages(*owed).min(MERGE_STEP);
            if pages > 0 {
                let before = conn.total_changes();
                conn.prepare_cached(index.merge)?.execute([pages])?;
                // FTS5 counts two changes or more when a merge did some work.
                *owed = if conn.total_changes() - before < 2 {
                    0
                } else {
                    (*owed - pages * index.bytes_per_leaf / MERGE_PAGES_PER_LEAF).max(0)
                };
            }
        }
        Ok(owed)
    }

    /// [`Self::merge_step`] in a transaction of its own; what a failure leaves stays owed.
    fn merge(&mut self, conn: &rusqlite::Connection) -> rusqlite::Result<()> {
        statement_result(conn, "BEGIN IMMEDIATE")?;
        match self.merge_step(conn).and_then(|owed| statement_result(conn, "COMMIT").map(|()| owed)) {
            Ok(owed) => {
                self.owed = owed;
                Ok(())
            }
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }
}

/// The writer's upkeep when it is lightly loaded, done after a group's answers so that no
/// request waits on it: merging the full-text indexes' new segments and checkpointing the WAL.
///
/// Under load both run as before, inside the group's transaction: its merges before the COMMIT
/// (groups of [`MERGE_IN_GROUP`] requests or more), SQLite's own checkpoint in the COMMIT once
/// the WAL passes 4,000 pages (moved after the answers, it cost 8 % of the messages a second
/// over HTTP). A light load's groups (one or two messages at a steady 1,000 a second) leave
/// them here: a checkpoint of 4,000 pages (10-30 ms) or a run of merges over the index's
/// longest doclists (5 ms a group, for tens of groups) held every request behind it, and the
/// p99 there moved between 4.6 and 14.8 ms from run to run. After a small group with no
/// request waiting, or when none has come for a while, the writer merges a step (at most a
/// quarter of its time: after a step of d ms, none for 3d) and checkpoints every
/// [`CHECKPOINT_EVERY`], so that each checkpoint is small and SQLite's rarely comes due.
struct Upkeep {
    next_merge: Instant,
    last_checkpoint: Instant,
    /// Commits since the last checkpoint.
    commits: u64,
}

/// How often the writer checkpoints under a light load.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(50);

impl Upkeep {
    fn new() -> Upkeep {
        let now = Instant::now();
        Upkeep { next_merge: now, last_checkpoint: now, commits: 0 }
    }

    /// How long until upkeep is due, if any is pending (the writer waits that long for a
    /// request before it takes the time).
    fn due_in(&self, queue: &SearchQueue) -> Option<Duration> {
        let merge = (queue.owed_pages() > 0).then(|| self.next_merge.saturating_duration_since(Instant::now()));
        let checkpoint = (self.commits > 0).then(|| CHECKPOINT_EVERY.saturating_sub(self.last_checkpoint.elapsed()));
        match (merge, checkpoint) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Upkeep after a group (`light`: a small group, and no request waiting) or while the
    /// writer waits for a request (`light`).
    fn run(&mut self, conn: &rusqlite::Connection, queue: &mut SearchQueue, light: bool) {
        let owed = queue.owed_pages();
        let started = Instant::now();
        if owed >= MERGE_OWED_MAX || (owed > 0 && light && started >= self.next_merge) {
            let merged = queue.merge(conn);
            let took = started.elapsed();
            self.next_merge = Instant::now() + took * 3;
            match merged {
                Ok(()) => self.commits += 1,
                Err(e) => {
                    tracing::error!("sqlite writer full-text merge: {e}");
                    self.next_merge += Duration::from_secs(1);
                }
            }
        }
        if light && self.commits > 0 && self.last_checkpoint.elapsed() >= CHECKPOINT_EVERY {
            self.checkpoint(conn);
        }
    }

    fn checkpoint(&mut self, conn: &rusqlite::Connection) {
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::error!("sqlite writer checkpoint: {e}");
        }
        self.last_checkpoint = Instant::now();
        self.commits = 0;
    }

    /// When the writer stops: what merging is owed (a bounded number of steps), then a
    /// checkpoint.
    fn finish(&mut self, conn: &rusqlite::Connection, queue: &mut SearchQueue) {
        for _ in 0..64 {
            if queue.owed_pages() == 0 || queue.merge(conn).is_err() {
                break;
            }
        }
        self.checkpoint(conn);
    }
}

/// The first seq past every one ever used: the AUTOINCREMENT counter or the largest in the log.
const NEXT_SEQ_SQL: &str = "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0), \
     COALESCE((SELECT MAX(seq) FROM events), 0)) + 1";

/// Starts the SQLite writer on a thread of its own, pinned to one CPU, and connects it there.
///
/// sqlx runs each SQLite connection on a worker thread of its own, so every statement is a
/// round trip between the writer and that thread. The worker thread is created by the thread
/// that connects and inherits its CPU affinity: with both on the same CPU a round trip is a
/// plain context switch, not a wake-up of the other CPU (an inter-processor interrupt, dear on
/// virtual machines). Measured with `charla bench` ingest on 2 vCPUs: about 2.5 times the
/// writes per second. The writer also opens a second, synchronous connection (rusqlite, the
/// same SQLite library) for the requests of [`SqlStore::write_fast`], which run in this thread
/// without any round trip. The two connections never hold a transaction at the same time.
/// The writer's requests arrive, and are answered, over channels from any runtime. Resolves
/// once the connections are made; the receiver it answers resolves when the writer has stopped.
async fn spawn_writer_thread(
    opts: AnyConnectOptions,
    pragmas: String,
    rx: mpsc::Receiver<Op>,
    max_group: usize,
) -> StoreResult<oneshot::Receiver<()>> {
    let (ready_tx, ready_rx) = oneshot::channel::<StoreResult<()>>();
    let (done_tx, done_rx) = oneshot::channel::<()>();
    let path = sqlx::sqlite::SqliteConnectOptions::from_str(opts.database_url.as_str())
        .map_err(db_err)?
        .get_filename()
        .to_path_buf();
    std::thread::Builder::new()
        .name("charla-sqlite-writer".into())
        .spawn(move || {
            if let Some(core) = core_affinity::get_core_ids().and_then(|ids| ids.last().copied()) {
                core_affinity::set_for_current(core);
            }
            let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(r) => r,
                Err(e) => {
                    let _ = ready_tx.send(Err(db_err(e)));
                    return;
                }
            };
            runtime.block_on(async move {
                let connected = async {
                    let mut conn = AnyConnection::connect_with(&opts).await.map_err(db_err)?;
                    conn.execute(pragmas.as_str()).await.map_err(db_err)?;
                    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
                    let fast = rusqlite::Connection::open_with_flags(&path, flags).map_err(db_err)?;
                    fast.execute_batch(&pragmas).map_err(db_err)?;
                    fast.set_prepared_statement_cache_capacity(64);
                    Ok::<_, StoreError>((conn, fast))
                }
                .await;
                match connected {
                    Ok((conn, fast)) => {
                        let _ = ready_tx.send(Ok(()));
                        group_writer(conn, fast, rx, max_group).await;
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            });
            let _ = done_tx.send(());
        })
        .map_err(db_err)?;
    ready_rx.await.map_err(|_| StoreError::Database("the SQLite writer did not start".into()))??;
    Ok(done_rx)
}

/// The SQLite writer: takes every request waiting; runs the fast ones in one transaction on
/// its own connection, then the others in one transaction of the sqlx connection (each request
/// in a savepoint), writes their events, commits once for each, then answers them.
async fn group_writer(
    mut conn: AnyConnection,
    fast: rusqlite::Connection,
    mut rx: mpsc::Receiver<Op>,
    max_group: usize,
) {
    let mut batch: Vec<WriteOp> = Vec::with_capacity(max_group);
    let mut fast_batch: Vec<FastOp> = Vec::with_capacity(max_group);
    let mut done: Vec<Completion> = Vec::with_capacity(max_group);
    let pending = Arc::new(std::sync::Mutex::new(PendingEvents::default()));
    let mut queue = SearchQueue::default();
    let mut upkeep = Upkeep::new();
    loop {
        let first = match upkeep.due_in(&queue) {
            Some(wait) => match tokio::time::timeout(wait, rx.recv()).await {
                Ok(first) => first,
                Err(_) => {
                    upkeep.run(&fast, &mut queue, true);
                    continue;
                }
            },
            None => rx.recv().await,
        };
        let Some(first) = first else { break };
        let mut next = Some(first);
        while let Some(op) = next.take() {
            match op {
                Op::Any(op) => batch.push(op),
                Op::Fast(op) => fast_batch.push(op),
            }
            if batch.len() + fast_batch.len() < max_group {
                next = rx.try_recv().ok();
            }
        }
        let size = batch.len() + fast_batch.len();
        metrics::histogram!("charla_sqlite_group_size").record(size as f64);
        // Under load a group merges in its own transaction; a light load leaves it to upkeep.
        let loaded = size >= MERGE_IN_GROUP;
        if !fast_batch.is_empty() {
            run_fast_group(&fast, &mut fast_batch, &mut batch, &mut queue, loaded);
        }
        if !batch.is_empty() {
            run_group(&mut conn, &mut batch, &mut done, &pending, &mut queue).await;
        }
        upkeep.commits += 1;
        upkeep.run(&fast, &mut queue, !loaded && rx.is_empty());
    }
    upkeep.finish(&fast, &mut queue);
    let _ = conn.close().await;
    let _ = fast.close();
}

/// Runs the fast requests in one transaction of the writer's own connection; those it does not
/// handle join `slow`.
///
/// Optimistically first, without a savepoint for each request: a savepoint copies every page
/// the request touches into its statement journal. Should a request fail, or the COMMIT, the
/// group is rolled back and run again, each request in a savepoint, so that one failure does not
/// undo the others.
fn run_fast_group(
    conn: &rusqlite::Connection,
    ops: &mut Vec<FastOp>,
    slow: &mut Vec<WriteOp>,
    queue: &mut SearchQueue,
    merge: bool,
) {
    for savepoints in [false, true] {
        // Each statement prepared once: preparing BEGIN, the seq query and COMMIT for every
        // group was 4.5 % of the writer's time at full load.
        let begun = statement_result(conn, "BEGIN IMMEDIATE")
            .and_then(|_| conn.prepare_cached(NEXT_SEQ_SQL)?.query_row([], |r| r.get(0)));
        let next_seq: i64 = match begun {
            Ok(seq) => seq,
            Err(e) => {
                tracing::error!("sqlite writer cannot begin: {e}");
                let _ = conn.execute_batch("ROLLBACK");
                ops.clear(); // dropping the ops answers their callers with an error
                return;
            }
        };
        let mut pending = PendingEvents { next_seq, rows: Vec::new() };
        let mut ran = Vec::with_capacity(ops.len());
        let mut failed = false;
        // Not `drain`: the requests a failure leaves unreached would be dropped with the drain
        // (answered with an error) instead of run again.
        let mut todo = std::mem::take(ops).into_iter();
        for mut op in todo.by_ref() {
            let mark = pending.rows.len();
            if savepoints {
                statement(conn, "SAVEPOINT w");
            }
            match op.run(conn, &mut pending) {
                Some(true) => ran.push(op),
                Some(false) if savepoints => {
                    statement(conn, "ROLLBACK TO w");
                    pending.rows.truncate(mark);
                    ran.push(op);
                }
                Some(false) => {
                    failed = true;
                    ran.push(op);
                }
                None => slow.push(op.into_slow()),
            }
            if savepoints {
                statement(conn, "RELEASE w");
            }
            if failed {
                break;
            }
        }
        ops.extend(todo);
        let commit = if failed {
            // Only in the optimistic run, which is run again below: no caller sees it.
            Err("a request failed".to_string())
        } else {
            flush_events_fast(conn, &pending.rows)
                .and_then(|()| queue.flush_fast(conn, merge))
                .and_then(|()| statement_result(conn, "COMMIT"))
                .map_err(|e| e.to_string())
        };
        if commit.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
            if !savepoints {
                // Run the whole group again with savepoints (requests not reached yet
                // included): a failure there stays the failing request's own.
                ran.append(ops);
                *ops = ran;
                continue;
            }
        }
        for op in ran {
            op.finish()(commit.clone());
        }
        return;
    }
}

/// A statement of the fast group without parameters or rows, prepared once.
fn statement_result(conn: &rusqlite::Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// A savepoint statement of the fast group; a failure is logged (the commit reports it).
fn statement(conn: &rusqlite::Connection, sql: &str) {
    if let Err(e) = statement_result(conn, sql) {
        tracing::error!("sqlite writer savepoint: {e}");
    }
}

/// Runs the general requests in one transaction of the sqlx connection.
async fn run_group(
    conn: &mut AnyConnection,
    batch: &mut Vec<WriteOp>,
    done: &mut Vec<Completion>,
    pending: &Arc<std::sync::Mutex<PendingEvents>>,
    queue: &mut SearchQueue,
) {
    if let Err(e) = conn.execute("BEGIN IMMEDIATE; SAVEPOINT w").await {
        tracing::error!("sqlite writer cannot begin: {e}");
        let _ = conn.execute("ROLLBACK").await;
        batch.clear(); // dropping the ops answers their callers with an error
        tokio::time::sleep(Duration::from_millis(50)).await;
        return;
    }
    // Before the migrations have made the events table, events are written one by one.
    let next_seq: Option<i64> = sqlx::query_scalar(NEXT_SEQ_SQL).fetch_one(&mut *conn).await.ok();
    if let Ok(mut p) = pending.lock() {
        p.rows.clear();
        p.next_seq = next_seq.unwrap_or(0);
    }
    let n = batch.len();
    for (i, op) in batch.drain(..).enumerate() {
        let mark = pending.lock().map(|p| p.rows.len()).unwrap_or(0);
        let (ok, completion) = match next_seq {
            Some(_) => PENDING_EVENTS.scope(pending.clone(), op(&mut *conn)).await,
            None => op(&mut *conn).await,
        };
        if !ok && let Ok(mut p) = pending.lock() {
            p.rows.truncate(mark);
        }
        // The next request's savepoint in the same round trip.
        let end = match (ok, i + 1 == n) {
            (true, true) => "RELEASE w",
            (true, false) => "RELEASE w; SAVEPOINT w",
            (false, true) => "ROLLBACK TO w; RELEASE w",
            (false, false) => "ROLLBACK TO w; RELEASE w; SAVEPOINT w",
        };
        if let Err(e) = conn.execute(end).await {
            tracing::error!("sqlite writer savepoint: {e}");
        }
        done.push(completion);
    }
    let rows = pending.lock().map(|mut p| std::mem::take(&mut p.rows)).unwrap_or_default();
    let mut commit = flush_events(&mut *conn, &rows).await;
    if commit.is_ok() {
        commit = queue.flush(&mut *conn).await;
    }
    if commit.is_ok() {
        commit = conn.execute("COMMIT").await.map(|_| ()).map_err(|e| e.to_string());
    }
    if commit.is_err() {
        let _ = conn.execute("ROLLBACK").await;
    }
    for d in done.drain(..) {
        d(commit.clone());
    }
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// A value bound to a [`Sql`] placeholder.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg {
    Int(Option<i64>),
    Text(Option<String>),
    Blob(Vec<u8>),
}

impl From<Vec<u8>> for Arg {
    fn from(v: Vec<u8>) -> Arg {
        Arg::Blob(v)
    }
}

impl From<i64> for Arg {
    fn from(v: i64) -> Arg {
        Arg::Int(Some(v))
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Arg {
        Arg::Int(v)
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Arg {
        Arg::Int(Some(v as i64))
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Arg {
        Arg::Text(Some(v))
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Arg {
        Arg::Text(Some(v.to_string()))
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Arg {
        Arg::Text(v)
    }
}

/// A statement built piece by piece with numbered placeholders (`$1`...) that both backends
/// accept.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sql {
    pub text: String,
    args: Vec<Arg>,
    /// Planned for its values at each run (see [`Sql::plan_each_run`]).
    plan_each_run: bool,
    /// Values bound once and named again ([`Sql::bind_once`]): the caller's key, the placeholder.
    once: Vec<(usize, usize)>,
}

impl Sql {
    pub fn new(text: &str) -> Sql {
        Sql { text: text.to_string(), args: Vec::new(), plan_each_run: false, once: Vec::new() }
    }
    /// PostgreSQL: plan the statement for its values every time it runs (an unnamed statement),
    /// instead of keeping it prepared. A prepared statement switches to a generic plan after five
    /// runs, one that cannot see its values; for a query whose best plan depends on them (a set
    /// of ids of unknown size, a search pattern) that plan can be wrong by orders of magnitude:
    /// the counters of a full-text search joined 979 pending rows to a 1,875-id list by nested
    /// loop, 329 ms against 9 ms for the plan made with the values. SQLite plans without the
    /// values anyway, and keeps its statements prepared.
    pub fn plan_each_run(&mut self, dialect: Dialect) -> &mut Self {
        self.plan_each_run = dialect == Dialect::Postgres;
        self
    }
    pub fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }
    /// Appends a placeholder bound to `v`.
    pub fn bind(&mut self, v: impl Into<Arg>) -> &mut Self {
        self.args.push(v.into());
        self.placeholder(self.args.len())
    }
    fn placeholder(&mut self, n: usize) -> &mut Self {
        self.text.push('$');
        self.text.push_str(&n.to_string());
        self
    }
    /// Appends a placeholder bound to `v` the first time `key` comes, and the same placeholder
    /// again after that (both backends read `$n` as the n-th value wherever it stands): a big
    /// value the statement tests in several places (a set's bit map in each branch of a merged
    /// walk) is sent and parsed once. `key` names the value for the statement's life (its
    /// address, say); `v` is built only the first time.
    pub fn bind_once<V: Into<Arg>>(&mut self, key: usize, v: impl FnOnce() -> V) -> &mut Self {
        if let Some(&(_, n)) = self.once.iter().find(|(k, _)| *k == key) {
            return self.placeholder(n);
        }
        self.bind(v());
        self.once.push((key, self.args.len()));
        self
    }
    /// Appends `(p1, p2, ...)` bound to the ids; `(NULL)` when empty (matches nothing).
    pub fn bind_list(&mut self, ids: &[i64]) -> &mut Self {
        if ids.is_empty() {
            return self.push("(NULL)");
        }
        self.push("(");
        for (i, id) in ids.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(*id);
        }
        self.push(")")
    }
    /// Appends a statement written with its own placeholders (`$1`...), renumbered to follow
    /// those already here, bound to `args` (one value per placeholder number).
    pub fn embed(&mut self, sql: &str, args: Vec<Arg>) -> &mut Self {
        let offset = self.args.len();
        let mut rest = sql;
        while let Some(at) = rest.find('$') {
            self.text.push_str(&rest[..=at]);
            rest = &rest[at + 1..];
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            match rest[..digits].parse::<usize>() {
                Ok(n) => self.text.push_str(&(n + offset).to_string()),
                Err(_) => self.text.push_str(&rest[..digits]),
            }
            rest = &rest[digits..];
        }
        self.text.push_str(rest);
        self.args.extend(args);
        self
    }
    /// The statement with its arguments bound, ready to run.
    pub fn query(&self) -> sqlx::query::Query<'_, sqlx::Any, AnyArguments<'_>> {
        query_with(self.text.as_str(), &self.args).persistent(!self.plan_each_run)
    }
}

/// `sql` with `args` bound to its placeholders in order.
pub(crate) fn query_with<'q>(sql: &'q str, args: &'q [Arg]) -> sqlx::query::Query<'q, sqlx::Any, AnyArguments<'q>> {
    let mut q = sqlx::query(sql);
    for a in args {
        q = match a {
            Arg::Int(v) => q.bind(*v),
            Arg::Text(v) => q.bind(v.clone()),
            Arg::Blob(v) => q.bind(v.as_slice()),
        };
    }
    q
}

/// The same values bound on the SQLite writer's own connection (placeholders `$1`, `$2`...
/// first appear in order in every statement both run, so they bind by position).
impl rusqlite::ToSql for Arg {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            Arg::Int(v) => v.to_sql(),
            Arg::Text(v) => v.to_sql(),
            Arg::Blob(v) => v.to_sql(),
        }
    }
}

/// A value a column can be read as, from sqlx's rows and from the SQLite writer's own
/// connection's rows alike.
pub(crate) trait ColumnValue:
    for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any> + rusqlite::types::FromSql
{
}
impl<T> ColumnValue for T where T: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any> + rusqlite::types::FromSql
{}

/// A result row, read by column name: the row decoders serve both connections with it.
pub(crate) trait RowLike {
    fn column<T: ColumnValue>(&self, name: &str) -> StoreResult<T>;
}

impl RowLike for AnyRow {
    fn column<T: ColumnValue>(&self, name: &str) -> StoreResult<T> {
        self.try_get::<T, _>(name).map_err(|e| StoreError::Database(format!("column {name}: {e}")))
    }
}

/// Rows of the SQLite writer's own connection (rusqlite), read by column name.
///
/// rusqlite finds a named column by asking SQLite for each column's name in turn until one
/// matches: for the rows of sixty columns the ingest path reads, about 600 name look-ups a
/// message and an eighth of the writer's instructions (callgrind of `charla bench` ingest).
/// Rows are read mostly in column order, so the column after the one read last (on this thread)
/// is tried first, and the search runs only when it is not the one.
impl RowLike for rusqlite::Row<'_> {
    fn column<T: ColumnValue>(&self, name: &str) -> StoreResult<T> {
        thread_local! {
            static NEXT_COLUMN: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
        }
        let stmt: &rusqlite::Statement<'_> = self.as_ref();
        let guess = NEXT_COLUMN.get();
        let at = match stmt.column_name(guess) {
            Ok(column) if column.eq_ignore_ascii_case(name) => Ok(guess),
            _ => stmt.column_index(name),
        };
        at.inspect(|at| NEXT_COLUMN.set(at + 1))
            .and_then(|at| self.get::<_, T>(at))
            .map_err(|e| StoreError::Database(format!("column {name}: {e}")))
    }
}

/// Reads a column, turning a missing or mistyped column into a store error.
pub(crate) fn col<T: ColumnValue>(row: &impl RowLike, name: &str) -> StoreResult<T> {
    row.column(name)
}

pub(crate) fn col_bool(row: &impl RowLike, name: &str) -> StoreResult<bool> {
    Ok(col::<i64>(row, name)? != 0)
}

pub(crate) fn col_enum<T>(row: &impl RowLike, name: &str, parse: fn(&str) -> Option<T>) -> StoreResult<T> {
    let s: String = col(row, name)?;
    parse(&s).ok_or_else(|| StoreError::Database(format!("column {name}: unknown value {s:?}")))
}

/// An event's access as the log stores it.
fn access_json(access: &Option<ConversationAccess>) -> StoreResult<Option<String>> {
    access.as_ref().map(|a| serde_json::to_string(a).map_err(db_err)).transpose()
}

/// Appends one event to the log inside the current transaction and returns it with its seq.
pub(crate) async fn insert_event(
    c: &mut AnyConnection,
    workspace_id: Id,
    kind: &str,
    access: Option<ConversationAccess>,
    user_id: Option<Id>,
    payload: serde_json::Value,
    now: Millis,
) -> StoreResult<Event> {
    if c.backend_name() == "SQLite"
        && let Ok(pending) = PENDING_EVENTS.try_with(Arc::clone)
    {
        let mut pending = pending.lock().map_err(|_| StoreError::Database("event buffer poisoned".into()))?;
        return pending.event(workspace_id, kind, access, user_id, payload, now);
    }
    if c.backend_name() == "SQLite" {
        // Outside the writer's group (before the migrations have made the events table).
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO events (workspace_id, kind, access, user_id, payload, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING seq",
        )
        .bind(workspace_id)
        .bind(kind)
        .bind(access_json(&access)?)
        .bind(user_id)
        .bind(payload.to_string())
        .bind(now)
        .fetch_one(&mut *c)
        .await?;
        return Ok(Event { seq, workspace_id, kind: kind.to_string(), access, user_id, payload, created_at: now });
    }
    // PostgreSQL: sequence values are taken at insert time but become visible at commit, and
    // transactions commit in any order. Each holds the log lock shared from before it takes a
    // seq until its COMMIT (taken in the insert statement itself, before the seq); readers of
    // the log take it exclusively (`jobs::read_log`), so a client resuming after seq N never
    // misses an event with a smaller seq that committed later, while writers still commit
    // side by side (their WAL flushes shared) instead of one at a time.
    let mut events =
        [Event { seq: 0, workspace_id, kind: kind.to_string(), access, user_id, payload, created_at: now }];
    let mut q = Sql::new("WITH ");
    push_events_cte(&mut q, &events)?;
    q.push(" SELECT ").push(EVENT_SEQS_COLUMN);
    let seqs = col(&q.query().fetch_one(&mut *c).await?, "seqs")?;
    set_event_seqs(&mut events, seqs)?;
    let [event] = events;
    Ok(event)
}

/// The seqs [`push_events_cte`] wrote, for [`set_event_seqs`].
pub(crate) const EVENT_SEQS_COLUMN: &str = "(SELECT string_agg(seq::text, ',' ORDER BY seq) FROM e) AS seqs";

/// Appends `e AS (INSERT INTO events ...)`, a common table expression writing `events` (their
/// seqs not yet known) in their order, under the log lock (see [`insert_event`]): PostgreSQL
/// only. The seqs come back from [`EVENT_SEQS_COLUMN`], for [`set_event_seqs`].
pub(crate) fn push_events_cte(q: &mut Sql, events: &[Event]) -> StoreResult<()> {
    q.push(
        "e AS (INSERT INTO events (workspace_id, kind, access, user_id, payload, created_at) \
            SELECT v.w, v.k, v.a, v.u, v.p, v.t FROM (VALUES ",
    );
    for (i, e) in events.iter().enumerate() {
        q.push(if i == 0 { "(" } else { ", (" });
        q.bind(i as i64).push("::bigint, ").bind(e.workspace_id).push("::bigint, ").bind(e.kind.as_str());
        q.push("::text, ").bind(access_json(&e.access)?).push("::text, ").bind(e.user_id).push("::bigint, ");
        q.bind(e.payload.to_string()).push("::text, ").bind(e.created_at).push("::bigint)");
    }
    q.push(&format!(
        ") AS v(o, w, k, a, u, p, t), (SELECT pg_advisory_xact_lock_shared({})::text AS locked) AS l \
         WHERE l.locked IS NOT NULL ORDER BY v.o RETURNING seq)",
        jobs::LOG_LOCK
    ));
    Ok(())
}

/// Gives `events` the seqs [`push_events_cte`] wrote them with (ascending, in their order).
pub(crate) fn set_event_seqs(events: &mut [Event], seqs: Option<String>) -> StoreResult<()> {
    let seqs: Vec<i64> = seqs.unwrap_or_default().split(',').filter_map(|s| s.trim().parse().ok()).collect();
    if seqs.len() != events.len() {
        return Err(StoreError::Database(format!("{} events written, {} expected", seqs.len(), events.len())));
    }
    for (e, seq) in events.iter_mut().zip(seqs) {
        e.seq = seq;
    }
    Ok(())
}

pub(crate) fn to_json<T: Serialize>(v: &T) -> StoreResult<serde_json::Value> {
    serde_json::to_value(v).map_err(db_err)
}

/// Creates or moves the job of (kind, target): one pending job per target and kind.
pub(crate) const SCHEDULE_JOB_SQL: &str = "INSERT INTO jobs (kind, target_id, run_at, attempts) VALUES ($1, $2, $3, 0) \
     ON CONFLICT (kind, target_id) DO UPDATE SET run_at = excluded.run_at, attempts = 0, locked_until = NULL, last_error = NULL";
pub(crate) const CANCEL_JOB_SQL: &str = "DELETE FROM jobs WHERE kind = $1 AND target_id = $2";

pub(crate) async fn schedule_job(
    c: &mut AnyConnection,
    kind: JobKind,
    target_id: Id,
    run_at: Millis,
) -> StoreResult<()> {
    sqlx::query(SCHEDULE_JOB_SQL).bind(job_kind_str(kind)).bind(target_id).bind(run_at).execute(&mut *c).await?;
    Ok(())
}

pub(crate) async fn cancel_job(c: &mut AnyConnection, kind: JobKind, target_id: Id) -> StoreResult<()> {
    sqlx::query(CANCEL_JOB_SQL).bind(job_kind_str(kind)).bind(target_id).execute(&mut *c).await?;
    Ok(())
}

pub(crate) fn job_kind_str(k: JobKind) -> &'static str {
    match k {
        JobKind::AutoClose => "auto_close",
        JobKind::SnoozeWake => "snooze_wake",
        JobKind::Deliver => "deliver",
    }
}

pub(crate) fn parse_job_kind(s: &str) -> Option<JobKind> {
    match s {
        "auto_close" => Some(JobKind::AutoClose),
        "snooze_wake" => Some(JobKind::SnoozeWake),
        "deliver" => Some(JobKind::Deliver),
        _ => None,
    }
}

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> &'static str {
        match self.dialect {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
    }
    async fn migrate(&self) -> StoreResult<()> {
        self.run_migrations().await
    }
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
    async fn server_secret(&self) -> StoreResult<Vec<u8>> {
        directory::server_secret(self).await
    }
    async fn shutdown(&self) {
        if let Writer::Group(sender) = &self.writer {
            // Closing the channel lets the writer commit what it holds, then it exits.
            if let Ok(mut g) = sender.lock() {
                g.take();
            }
        }
        let task = self.writer_task.lock().ok().and_then(|mut t| t.take());
        if let Some(task) = task {
            let _ = task.await;
        }
        self.pool.close().await;
    }

    async fn get_setting(&self, key: &str) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM server_settings WHERE key = $1")
            .bind(key.to_string())
            .fetch_optional(&self.pool)
            .await?)
    }
    async fn put_setting(&self, key: &str, value: &str) -> StoreResult<()> {
        let (key, value) = (key.to_string(), value.to_string());
        self.write(move |c| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO server_settings (key, value) VALUES ($1, $2) \
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                )
                .bind(key)
                .bind(value)
                .execute(&mut *c)
                .await?;
                Ok(())
            })
        })
        .await
    }
    async fn list_hidden_messages(&self, workspace_id: Id, contact_id: Id, limit: i64) -> StoreResult<Vec<Message>> {
        inbox::list_hidden_messages(self, workspace_id, contact_id, limit).await
    }
    async fn purge_hidden_messages(&self, before: Millis) -> StoreResult<Vec<String>> {
        conversations::purge_hidden_messages(self, before).await
    }
    async fn create_workspace(&self, name: &str) -> StoreResult<Workspace> {
        directory::create_workspace(self, name).await
    }
    async fn first_workspace(&self) -> StoreResult<Option<Workspace>> {
        directory::first_workspace(self).await
    }
    async fn create_user(&self, user: NewUser) -> StoreResult<User> {
        directory::create_user(self, user).await
    }
    async fn get_user(&self, workspace_id: Id, id: Id) -> StoreResult<User> {
        directory::get_user(self, workspace_id, id).await
    }
    async fn find_user_by_email(&self, email: &str) -> StoreResult<Option<(User, String)>> {
        directory::find_user_by_email(self, email).await
    }
    async fn list_users(&self, workspace_id: Id) -> StoreResult<Vec<User>> {
        directory::list_users(self, workspace_id).await
    }
    async fn update_user(&self, workspace_id: Id, id: Id, patch: UserPatch) -> StoreResult<Written<User>> {
        directory::update_user(self, workspace_id, id, patch).await
    }
    async fn viewer(&self, workspace_id: Id, user_id: Id) -> StoreResult<Viewer> {
        directory::viewer(self, workspace_id, user_id).await
    }
    async fn session_user(&self, workspace_id: Id, user_id: Id) -> StoreResult<(User, Viewer)> {
        directory::session_user(self, workspace_id, user_id).await
    }
    async fn touch_presence(&self, user_id: Id, presence: Option<Presence>, now: Millis) -> StoreResult<Written<User>> {
        directory::touch_presence(self, user_id, presence, now).await
    }
    async fn sweep_presence(&self, now: Millis) -> StoreResult<Vec<Event>> {
        directory::sweep_presence(self, now).await
    }

    async fn create_team(&self, workspace_id: Id, name: &str, member_ids: &[Id]) -> StoreResult<Written<Team>> {
        directory::create_team(self, workspace_id, name, member_ids).await
    }
    async fn list_teams(&self, workspace_id: Id) -> StoreResult<Vec<Team>> {
        directory::list_teams(self, workspace_id).await
    }
    async fn get_team(&self, workspace_id: Id, id: Id) -> StoreResult<Team> {
        directory::get_team(self, workspace_id, id).await
    }
    async fn update_team(
        &self,
        workspace_id: Id,
        id: Id,
        name: Option<&str>,
        member_ids: Option<&[Id]>,
    ) -> StoreResult<Written<Team>> {
        directory::update_team(self, workspace_id, id, name, member_ids).await
    }
    async fn delete_team(&self, workspace_id: Id, id: Id) -> StoreResult<Written<()>> {
        directory::delete_team(self, workspace_id, id).await
    }

    async fn create_channel(&self, channel: NewChannel) -> StoreResult<Channel> {
        directory::create_channel(self, channel).await
    }
    async fn get_channel(&self, workspace_id: Id, id: Id) -> StoreResult<Channel> {
        directory::get_channel(self, Some(workspace_id), id).await
    }
    async fn get_channel_by_id(&self, id: Id) -> StoreResult<Channel> {
        directory::get_channel(self, None, id).await
    }
    async fn list_channels(&self, workspace_id: Id) -> StoreResult<Vec<Channel>> {
        directory::list_channels(self, workspace_id).await
    }
    async fn update_channel(&self, workspace_id: Id, id: Id, patch: ChannelPatch) -> StoreResult<Written<Channel>> {
        directory::update_channel(self, workspace_id, id, patch).await
    }
    async fn set_channel_secret(&self, workspace_id: Id, id: Id, secret: &str) -> StoreResult<Channel> {
        directory::set_channel_secret(self, workspace_id, id, secret).await
    }
    async fn set_channel_members(&self, workspace_id: Id, id: Id, user_ids: &[Id]) -> StoreResult<Written<Channel>> {
        directory::set_channel_members(self, workspace_id, id, user_ids).await
    }
    async fn delete_channel(&self, workspace_id: Id, id: Id) -> StoreResult<()> {
        directory::delete_channel(self, workspace_id, id).await
    }

    async fn get_contact(&self, workspace_id: Id, id: Id) -> StoreResult<Contact> {
        directory::get_contact(self, workspace_id, id).await
    }
    async fn list_contacts(&self, workspace_id: Id, query: ContactQuery) -> StoreResult<Vec<Contact>> {
        directory::list_contacts(self, workspace_id, query).await
    }
    async fn create_contact(&self, workspace_id: Id, name: &str, patch: ContactPatch) -> StoreResult<Contact> {
        directory::create_contact(self, workspace_id, name, patch).await
    }
    async fn update_contact(&self, workspace_id: Id, id: Id, patch: ContactPatch) -> StoreResult<Written<Contact>> {
        directory::update_contact(self, workspace_id, id, patch).await
    }
    async fn set_contact_blocked(&self, workspace_id: Id, id: Id, blocked: bool) -> StoreResult<Written<Contact>> {
        directory::set_contact_blocked(self, workspace_id, id, blocked).await
    }
    async fn set_contact_tags(&self, workspace_id: Id, id: Id, tag_ids: &[Id]) -> StoreResult<Written<Contact>> {
        directory::set_contact_tags(self, workspace_id, id, tag_ids).await
    }
    async fn contact_conversations(&self, workspace_id: Id, contact_id: Id) -> StoreResult<Vec<Conversation>> {
        inbox::contact_conversations(self, workspace_id, contact_id).await
    }
    async fn create_tag(&self, workspace_id: Id, name: &str, color: &str, pinned: bool) -> StoreResult<Tag> {
        directory::create_tag(self, workspace_id, name, color, pinned).await
    }
    async fn list_tags(&self, workspace_id: Id) -> StoreResult<Vec<Tag>> {
        directory::list_tags(self, workspace_id).await
    }
    async fn update_tag(
        &self,
        workspace_id: Id,
        id: Id,
        name: Option<&str>,
        color: Option<&str>,
        pinned: Option<bool>,
    ) -> StoreResult<Tag> {
        directory::update_tag(self, workspace_id, id, name, color, pinned).await
    }
    async fn delete_tag(&self, workspace_id: Id, id: Id) -> StoreResult<()> {
        directory::delete_tag(self, workspace_id, id).await
    }

    async fn create_close_reason(&self, workspace_id: Id, name: &str) -> StoreResult<CloseReason> {
        directory::create_close_reason(self, workspace_id, name).await
    }
    async fn list_close_reasons(&self, workspace_id: Id) -> StoreResult<Vec<CloseReason>> {
        directory::list_close_reasons(self, workspace_id).await
    }
    async fn delete_close_reason(&self, workspace_id: Id, id: Id) -> StoreResult<()> {
        directory::delete_close_reason(self, workspace_id, id).await
    }
    async fn create_canned_response(
        &self,
        workspace_id: Id,
        owner_id: Option<Id>,
        shortcut: &str,
        text: &str,
    ) -> StoreResult<CannedResponse> {
        directory::create_canned_response(self, workspace_id, owner_id, shortcut, text).await
    }
    async fn list_canned_responses(&self, workspace_id: Id, user_id: Id) -> StoreResult<Vec<CannedResponse>> {
        directory::list_canned_responses(self, workspace_id, user_id).await
    }
    async fn get_canned_response(&self, workspace_id: Id, id: Id) -> StoreResult<CannedResponse> {
        directory::get_canned_response(self, workspace_id, id).await
    }
    async fn update_canned_response(
        &self,
        workspace_id: Id,
        id: Id,
        shortcut: Option<&str>,
        text: Option<&str>,
    ) -> StoreResult<CannedResponse> {
        directory::update_canned_response(self, workspace_id, id, shortcut, text).await
    }
    async fn delete_canned_response(&self, workspace_id: Id, id: Id) -> StoreResult<()> {
        directory::delete_canned_response(self, workspace_id, id).await
    }

    async fn list_conversations(&self, viewer: &Viewer, filter: ConversationFilter) -> StoreResult<ConversationPage> {
        inbox::list_conversations(self, viewer, filter).await
    }
    async fn pending_counts(&self, viewer: &Viewer) -> StoreResult<SectionCounts> {
        inbox::pending_counts(self, viewer).await
    }
    async fn get_conversation(&self, workspace_id: Id, id: Id) -> StoreResult<Conversation> {
        inbox::get_conversation(self, workspace_id, id).await
    }
    async fn conversation_row(&self, user_id: Id, conversation: Conversation) -> StoreResult<ConversationRow> {
        inbox::conversation_row(self, user_id, conversation).await
    }
    async fn list_attentions(&self, workspace_id: Id, conversation_id: Id) -> StoreResult<Vec<Attention>> {
        inbox::list_attentions(self, workspace_id, conversation_id).await
    }
    async fn operator_report(&self, workspace_id: Id, from: Millis, to: Millis) -> StoreResult<Vec<OperatorStats>> {
        reports::operator_report(self, workspace_id, from, to).await
    }
    async fn rate_attention(
        &self,
        workspace_id: Id,
        attention_id: Id,
        rating: Rating,
        comment: Option<String>,
        hidden: bool,
        now: Millis,
    ) -> StoreResult<Attention> {
        reports::rate_attention(self, workspace_id, attention_id, rating, comment, hidden, now).await
    }
    async fn ingest_inbound(&self, msg: InboundMessage, now: Millis) -> StoreResult<Written<Ingested>> {
        conversations::ingest_inbound(self, msg, InboundExtra::default(), now).await
    }
    async fn send_message(&self, workspace_id: Id, msg: NewOutgoing, now: Millis) -> StoreResult<Written<Message>> {
        conversations::send_message(self, workspace_id, msg, now).await
    }
    async fn list_messages(
        &self,
        workspace_id: Id,
        conversation_id: Id,
        before_id: Option<Id>,
        limit: i64,
    ) -> StoreResult<Vec<Message>> {
        inbox::list_messages(self, workspace_id, conversation_id, before_id, limit).await
    }
    async fn get_message(&self, workspace_id: Id, id: Id) -> StoreResult<Message> {
        inbox::get_message(self, workspace_id, id).await
    }
    async fn update_message_status(
        &self,
        channel_id: Id,
        message_id: Id,
        status: MessageStatus,
        error: Option<String>,
        now: Millis,
    ) -> StoreResult<Written<Message>> {
        conversations::update_message_status(self, channel_id, message_id, status, error, now).await
    }
    async fn assign(
        &self,
        workspace_id: Id,
        conversation_id: Id,
        actor: Id,
        user_id: Option<Id>,
        team_id: Option<Id>,
        now: Millis,
    ) -> StoreResult<Written<Conversation>> {
        conversations::assign(self, workspace_id, conversation_id, actor, user_id, team_id, now).await
    }
    async fn close(
        &self,
        workspace_id: Id,
        conversation_id: Id,
        actor: Id,
        reason: Option<String>,
        now: Millis,
    ) -> StoreResult<Written<Conversation>> {
        conversations::close(self, workspace_id, conversation_id, actor, reason, now).await
    }
    async fn reopen(
        &self,
        workspace_id: Id,
        conversation_id: Id,
        actor: Id,
        now: Millis,
    ) -> StoreResult<Written<Conversation>> {
        conversations::reopen(self, workspace_id, conversation_id, actor, now).await
    }
    async fn snooze(
        &self,
        workspace_id: Id,
        conversation_id: Id,
        actor: Id,
        until: Millis,
        now: Millis,
    ) -> StoreResult<Written<Conversation>> {
        conversations::snooze(self, workspace_id, conversation_id, actor, until, now).await
    }
    async fn no_reply_needed(
        &self,
        workspace_id: Id,
        conversation_id: Id,
        actor: Id,
        now: Millis,
    ) -> StoreResult<Written<Conversation>> {
        conversations::no_reply_needed(self, workspace_id, conversation_id, actor, now).await
    }
    async fn mark_read(
        &self,
        workspace_id: Id,
        user_id: Id,
        conversation_id: Id,
        now: Millis,
    ) -> StoreResult<Written<ReadState>> {
        conversations::mark_read(self, workspace_id, user_id, conversation_id, now).await
    }
    async fn mark_unread(
        &self,
        workspace_id: Id,
        user_id: Id,
        conversation_id: Id,
        now: Millis,
    ) -> StoreResult<Written<ReadState>> {
        conversations::mark_unread(self, workspace_id, user_id, conversation_id, now).await
    }
    async fn unread_conversations(&self, viewer: &Viewer) -> StoreResult<i64> {
        inbox::unread_conversations(self, viewer).await
    }
    async fn detach_contact(
        &self,
        workspace_id: Id,
        conversation_id: Id,
        actor: Id,
        now: Millis,
    ) -> StoreResult<Written<Conversation>> {
        conversations::detach_contact(self, workspace_id, conversation_id, actor, now).await
    }
    async fn delete_conversations(
        &self,
        workspace_id: Id,
        ids: &[Id],
        now: Millis,
    ) -> StoreResult<Written<Vec<String>>> {
        conversations::delete_conversations(self, workspace_id, ids, now).await
    }
    async fn put_draft(
        &self,
        workspace_id: Id,
        user_id: Id,
        conversation_id: Id,
        text: &str,
        now: Millis,
    ) -> StoreResult<Draft> {
        conversations::put_draft(self, workspace_id, user_id, conversation_id, text, now).await
    }
    async fn get_draft(&self, workspace_id: Id, user_id: Id, conversation_id: Id) -> StoreResult<Option<Draft>> {
        inbox::get_draft(self, workspace_id, user_id, conversation_id).await
    }

    async fn create_attachment(
        &self,
        workspace_id: Id,
        name: &str,
        content_type: &str,
        size: i64,
        storage_key: &str,
        now: Millis,
    ) -> StoreResult<Attachment> {
        directory::create_attachment(self, workspace_id, name, content_type, size, storage_key, now).await
    }
    async fn get_attachment(&self, workspace_id: Id, id: Id) -> StoreResult<Attachment> {
        directory::get_attachment(self, workspace_id, id).await
    }

    async fn list_notifications(
        &self,
        workspace_id: Id,
        user_id: Id,
        unread_only: bool,
        limit: i64,
    ) -> StoreResult<Vec<Notification>> {
        directory::list_notifications(self, workspace_id, user_id, unread_only, limit).await
    }
    async fn mark_notification_read(&self, workspace_id: Id, user_id: Id, id: Id) -> StoreResult<()> {
        directory::mark_notification_read(self, workspace_id, user_id, id).await
    }

    async fn events_since(&self, workspace_id: Id, seq: i64, limit: i64) -> StoreResult<Vec<Event>> {
        jobs::events_since(self, workspace_id, seq, limit).await
    }
    async fn last_event_seq(&self) -> StoreResult<i64> {
        jobs::last_event_seq(self).await
    }
    async fn claim_jobs(&self, now: Millis, lease_ms: i64, limit: i64) -> StoreResult<Vec<Job>> {
        jobs::claim_jobs(self, now, lease_ms, limit).await
    }
    async fn next_job_at(&self) -> StoreResult<Option<Millis>> {
        jobs::next_job_at(self).await
    }
    async fn run_timer_job(&self, job: &Job, now: Millis) -> StoreResult<Written<()>> {
        conversations::run_timer_job(self, job.clone(), now).await
    }
    async fn delivery(&self, job: &Job) -> StoreResult<Delivery> {
        conversations::delivery(self, job.clone()).await
    }
    async fn finish_delivery(&self, job: &Job, outcome: DeliveryOutcome, now: Millis) -> StoreResult<Written<Message>> {
        conversations::finish_delivery(self, job.clone(), outcome, now).await
    }

    async fn ingest_inbound_with(
        &self,
        msg: InboundMessage,
        extra: InboundExtra,
        now: Millis,
    ) -> StoreResult<Written<Ingested>> {
        conversations::ingest_inbound(self, msg, extra, now).await
    }
    async fn ingest_event(&self, event: InboundEvent, now: Millis) -> StoreResult<Written<Option<Message>>> {
        messengers::ingest_event(self, event, now).await
    }
    async fn find_by_provider_id(&self, channel_id: Id, provider_id: &str) -> StoreResult<Option<Message>> {
        messengers::find_by_provider_id(self, channel_id, provider_id).await
    }
    async fn update_status_by_provider_id(
        &self,
        channel_id: Id,
        provider_id: &str,
        status: MessageStatus,
        error: Option<String>,
        now: Millis,
    ) -> StoreResult<Written<Option<Message>>> {
        messengers::update_status_by_provider_id(self, channel_id, provider_id, status, error, now).await
    }
    async fn add_provider_ids(&self, channel_id: Id, message_id: Id, provider_ids: &[String]) -> StoreResult<()> {
        messengers::add_provider_ids(self, channel_id, message_id, provider_ids).await
    }
    async fn contact_identities(&self, workspace_id: Id, contact_id: Id) -> StoreResult<Vec<IdentityDetails>> {
        messengers::contact_identities(self, workspace_id, contact_id).await
    }
    async fn merge_contacts(
        &self,
        workspace_id: Id,
        into_id: Id,
        from_id: Id,
        now: Millis,
    ) -> StoreResult<Written<Contact>> {
        messengers::merge_contacts(self, workspace_id, into_id, from_id, now).await
    }
    async fn list_templates(&self, workspace_id: Id, channel_id: Id) -> StoreResult<Vec<Template>> {
        messengers::list_templates(self, workspace_id, channel_id).await
    }
    async fn get_template(&self, workspace_id: Id, id: Id) -> StoreResult<Template> {
        messengers::get_template(self, workspace_id, id).await
    }
    async fn sync_templates(
        &self,
        workspace_id: Id,
        channel_id: Id,
        templates: Vec<TemplateInput>,
        now: Millis,
    ) -> StoreResult<Vec<Template>> {
        messengers::sync_templates(self, workspace_id, channel_id, templates, now).await
    }
    async fn save_template(
        &self,
        workspace_id: Id,
        channel_id: Id,
        template: TemplateInput,
        now: Millis,
    ) -> StoreResult<Template> {
        messengers::save_template(self, workspace_id, channel_id, template, now).await
    }
    async fn delete_template(&self, workspace_id: Id, id: Id) -> StoreResult<()> {
        messengers::delete_template(self, workspace_id, id).await
    }

    async fn record_visit(
        &self,
        channel_id: Id,
        external_id: &str,
        country: Option<String>,
        page: Option<PageView>,
        now: Millis,
    ) -> StoreResult<WebsiteVisitor> {
        website::record_visit(self, channel_id, external_id, country, page, now).await
    }
    async fn website_visitor(&self, channel_id: Id, external_id: &str) -> StoreResult<Option<VisitorDetails>> {
        website::website_visitor(self, channel_id, external_id).await
    }
    async fn conversation_visitor(&self, workspace_id: Id, conversation_id: Id) -> StoreResult<Option<VisitorDetails>> {
        website::conversation_visitor(self, workspace_id, conversation_id).await
    }
    async fn set_visitor_email(
        &self,
        channel_id: Id,
        external_id: &str,
        email: Option<String>,
        now: Millis,
    ) -> StoreResult<WebsiteVisitor> {
        website::set_visitor_email(self, channel_id, external_id, email, now).await
    }
    async fn contact_messages(
        &self,
        conversation_id: Id,
        after_id: Option<Id>,
        before_id: Option<Id>,
        limit: i64,
    ) -> StoreResult<Vec<Message>> {
        website::contact_messages(self, conversation_id, after_id, before_id, limit).await
    }
    async fn contact_receipt(
        &self,
        conversation_id: Id,
        up_to_id: Id,
        status: MessageStatus,
        now: Millis,
    ) -> StoreResult<Written<Vec<Message>>> {
        website::contact_receipt(self, conversation_id, up_to_id, status, now).await
    }
    async fn contact_ended(
        &self,
        workspace_id: Id,
        conversation_id: Id,
        text: &str,
        now: Millis,
    ) -> StoreResult<Written<Conversation>> {
        website::contact_ended(self, workspace_id, conversation_id, text, now).await
    }
    async fn add_event_line(
        &self,
        workspace_id: Id,
        conversation_id: Id,
        text: &str,
        now: Millis,
    ) -> StoreResult<Written<Message>> {
        website::add_event_line(self, workspace_id, conversation_id, text, now).await
    }
    async fn set_rating_hidden(&self, workspace_id: Id, attention_id: Id, hidden: bool) -> StoreResult<Attention> {
        website::set_rating_hidden(self, workspace_id, attention_id, hidden).await
    }
    async fn join_channel(
        &self,
        workspace_id: Id,
        channel_id: Id,
        user_id: Id,
        join: bool,
        now: Millis,
    ) -> StoreResult<Written<Channel>> {
        website::join_channel(self, workspace_id, channel_id, user_id, join, now).await
    }
    async fn channel_availability(&self, channel_id: Id, now: Millis) -> StoreResult<ChannelAvailability> {
        website::channel_availability(self, channel_id, now).await
    }
    async fn channel_ratings(&self, workspace_id: Id, channel_id: Id, last: i64) -> StoreResult<RatingsSummary> {
        website::channel_ratings(self, workspace_id, channel_id, last).await
    }
}

/// A SQLite store in a folder of its own (kept while the first value lives) with one
/// workspace, for the in-crate tests.
#[cfg(test)]
async fn temp_store(name: &str) -> (tempfile::TempDir, Arc<SqlStore>, Id) {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join(format!("{name}.db")).display());
    let store = Arc::new(SqlStore::open(&url, Options::default()).await.expect("open sqlite"));
    let ws = store.create_workspace(name).await.expect("workspace").id;
    (dir, store, ws)
}

/// A hand-routed API channel for the in-crate tests.
#[cfg(test)]
fn api_channel(workspace_id: Id) -> NewChannel {
    NewChannel {
        workspace_id,
        kind: charla_core::ChannelKind::Api,
        name: "api".into(),
        secret: "s".into(),
        webhook_url: None,
        routing_mode: charla_core::RoutingMode::Manual,
        max_message_length: 4096,
        auto_close_after_secs: None,
        response_time_limit_secs: 300,
        greeting: None,
        settings: "{}".into(),
    }
}

#[cfg(test)]
mod search_queue_tests {
    use super::*;

    async fn scalar(store: &SqlStore, sql: impl Into<String>) -> i64 {
        let sql: String = sql.into();
        let run = sql.clone();
        store
            .write(move |c| Box::pin(async move { Ok(sqlx::query_scalar::<_, i64>(&run).fetch_one(&mut *c).await?) }))
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// The full-text index checked against the messages it indexes (SQLite's own check).
    async fn index_is_sound(store: &SqlStore) {
        store
            .write(|c| {
                Box::pin(async move {
                    c.execute("INSERT INTO message_search(message_search, rank) VALUES ('integrity-check', 1)").await?;
                    c.execute("INSERT INTO conversations_fts(conversations_fts, rank) VALUES ('integrity-check', 1)")
                        .await?;
                    Ok(())
                })
            })
            .await
            .expect("integrity-check of message_search and conversations_fts");
    }

    async fn matches(store: &SqlStore, word: &str) -> i64 {
        scalar(store, format!("SELECT COUNT(*) FROM message_search WHERE message_search MATCH '{word}'")).await
    }

    /// Messages reach the index through the queue of migration 0010, moved into it before each
    /// COMMIT: committed messages are searchable, nothing stays queued, and a message edited or
    /// deleted while still queued never damages the index.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn committed_messages_are_indexed_once_and_edits_of_queued_ones_keep_the_index_sound() {
        let (_dir, store, ws) = temp_store("Queue").await;
        let channel = store.create_channel(api_channel(ws)).await.expect("channel");
        // Concurrent senders, so that groups hold several requests (both writer paths).
        let mut tasks = Vec::new();
        for i in 0..40 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let msg = InboundMessage {
                    channel_id: channel.id,
                    provider_message_id: format!("m-{i}"),
                    contact: ContactInput {
                        external_id: format!("c-{}", i % 7),
                        name: Some(format!("Sender {}", i % 7)),
                        ..Default::default()
                    },
                    text: format!("the lantern number {i}"),
                    attachment_ids: Vec::new(),
                    is_group: false,
                };
                store.ingest_inbound(msg, 1_700_000_000_000 + i).await.expect("ingest").value
            }));
        }
        let mut ids = Vec::new();
        for t in tasks {
            ids.push(t.await.expect("task").message.id);
        }
        assert_eq!(matches(&store, "lantern").await, 40, "every committed message is searchable");
        assert_eq!(scalar(&store, "SELECT COUNT(*) FROM message_search_queue").await, 0, "nothing stays queued");
        let senders = "SELECT COUNT(*) FROM conversations_fts WHERE conversations_fts MATCH '\"sender\"'";
        assert_eq!(scalar(&store, senders).await, 7, "every new conversation is searchable");
        assert_eq!(scalar(&store, "SELECT COUNT(*) FROM conversation_search_queue").await, 0);
        index_is_sound(&store).await;

        // In one transaction: messages indexed already are edited and deleted, queued ones too.
        let (indexed, gone) = (ids[0], ids[1]);
        store
            .write(move |c| {
                Box::pin(async move {
                    sqlx::query("UPDATE messages SET text = 'a harbour' WHERE id = $1")
                        .bind(indexed)
                        .execute(&mut *c)
                        .await?;
                    let conv: i64 = sqlx::query_scalar("SELECT conversation_id FROM messages WHERE id = $1")
                        .bind(indexed)
                        .fetch_one(&mut *c)
                        .await?;
                    // Two messages queued in this transaction: one edited, one deleted.
                    for text in ["a zeppelin", "a lantern ghost"] {
                        sqlx::query(
                            "INSERT INTO messages (workspace_id, conversation_id, channel_id, kind, author_type, text, \
                             status, created_at, updated_at) SELECT workspace_id, conversation_id, channel_id, kind, \
                             author_type, $1, status, created_at, updated_at FROM messages WHERE id = $2",
                        )
                        .bind(text)
                        .bind(indexed)
                        .execute(&mut *c)
                        .await?;
                    }
                    let last: i64 = sqlx::query_scalar("SELECT MAX(id) FROM messages WHERE conversation_id = $1")
                        .bind(conv)
                        .fetch_one(&mut *c)
                        .await?;
                    sqlx::query("UPDATE messages SET text = 'zeppelin harbour' WHERE id = $1")
                        .bind(last - 1)
                        .execute(&mut *c)
                        .await?;
                    sqlx::query("DELETE FROM messages WHERE id = $1").bind(last).execute(&mut *c).await?;
                    sqlx::query("DELETE FROM messages WHERE id = $1").bind(gone).execute(&mut *c).await?;
                    Ok(())
                })
            })
            .await
            .expect("edits");
        assert_eq!(matches(&store, "lantern").await, 38);
        assert_eq!(matches(&store, "harbour").await, 2);
        assert_eq!(matches(&store, "zeppelin").await, 1);
        assert_eq!(scalar(&store, "SELECT COUNT(*) FROM message_search_queue").await, 0);
        index_is_sound(&store).await;

        // A conversation's search copy changed twice in one transaction, another's once, a
        // third deleted after a change, a fourth deleted unchanged: the index holds the last
        // copies only.
        store
            .write(|c| {
                Box::pin(async move {
                    let ids: Vec<i64> =
                        sqlx::query_scalar("SELECT id FROM conversations ORDER BY id").fetch_all(&mut *c).await?;
                    for (id, text) in [
                        (ids[0], "quokka one"),
                        (ids[0], "quokka two"),
                        (ids[1], "quokka three"),
                        (ids[2], "quokka four"),
                    ] {
                        sqlx::query("UPDATE conversations SET search_text = $1 WHERE id = $2")
                            .bind(text)
                            .bind(id)
                            .execute(&mut *c)
                            .await?;
                    }
                    for sql in [
                        "DELETE FROM jobs WHERE target_id = $1",
                        "DELETE FROM messages WHERE conversation_id = $1",
                        "DELETE FROM read_states WHERE conversation_id = $1",
                        "DELETE FROM notifications WHERE conversation_id = $1",
                        "DELETE FROM attentions WHERE conversation_id = $1",
                        "DELETE FROM conversations WHERE id = $1",
                    ] {
                        for id in [ids[2], ids[3]] {
                            sqlx::query(sql).bind(id).execute(&mut *c).await?;
                        }
                    }
                    Ok(())
                })
            })
            .await
            .expect("copies");
        let quokkas = "SELECT COUNT(*) FROM conversations_fts WHERE conversations_fts MATCH '\"quokka\"'";
        assert_eq!(scalar(&store, quokkas).await, 2);
        let two = "SELECT COUNT(*) FROM conversations_fts WHERE conversations_fts MATCH '\"ka two\"'";
        assert_eq!(scalar(&store, two).await, 1);
        let senders = "SELECT COUNT(*) FROM conversations_fts WHERE conversations_fts MATCH '\"sender\"'";
        assert_eq!(scalar(&store, senders).await, 3, "the seven senders' copies less the four changed or deleted");
        assert_eq!(scalar(&store, "SELECT COUNT(*) FROM conversation_search_queue").await, 0);
        index_is_sound(&store).await;
        store.shutdown().await;
    }
}

#[cfg(test)]
mod list_concurrency_tests {
    use super::*;
    use charla_core::{Flags, Language, Role};

    async fn seeded(readers: u32) -> (tempfile::TempDir, Arc<SqlStore>, Viewer) {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("list.db").display());
        let store = Arc::new(SqlStore::open(&url, Options { readers, ..Options::default() }).await.expect("open"));
        let ws = store.create_workspace("List").await.expect("workspace").id;
        let admin = store
            .create_user(NewUser {
                workspace_id: ws,
                email: "admin@example.com".into(),
                name: "Admin".into(),
                display_name: String::new(),
                password_hash: "hash".into(),
                role: Role::Admin,
                flags: Flags::from_list(&[]),
                language: Language::En,
            })
            .await
            .expect("admin");
        let channel = store.create_channel(api_channel(ws)).await.expect("channel");
        for i in 0..12 {
            let text = if i % 3 == 0 { format!("where is my parcel {i}") } else { format!("hello {i}") };
            let msg = InboundMessage {
                channel_id: channel.id,
                provider_message_id: format!("m-{i}"),
                contact: ContactInput {
                    external_id: format!("c-{i}"),
                    name: Some(format!("Customer {i}")),
                    ..Default::default()
                },
                text,
                attachment_ids: Vec::new(),
                is_group: false,
            };
            store.ingest_inbound(msg, 1_700_000_000_000 + i).await.expect("ingest");
        }
        let viewer = store.viewer(ws, admin.id).await.expect("viewer");
        (dir, store, viewer)
    }

    /// The page and the counters run on two connections at once when the pool has one to spare,
    /// one after the other on one connection when it has not (a single reader): the same
    /// answer both ways, and requests that each want a second connection never deadlock a
    /// pool they have filled.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn page_and_counters_agree_with_one_reader_or_several_and_a_full_pool_never_deadlocks() {
        let search = |q: &str| ConversationFilter {
            search: Some(charla_core::search::parse(q).expect("term")),
            limit: 3,
            ..Default::default()
        };
        let mut answers = Vec::new();
        for readers in [1, 4] {
            let (_dir, store, viewer) = seeded(readers).await;
            let all = store.list_conversations(&viewer, ConversationFilter { limit: 5, ..Default::default() }).await;
            let all = all.expect("list");
            assert_eq!((all.items.len(), all.counts.all, all.counts.unassigned), (5, 12, 12));
            assert!(all.next_cursor.is_some(), "a second page");
            let found = store.list_conversations(&viewer, search("parcel")).await.expect("search");
            assert_eq!((found.items.len(), found.counts.all), (3, 4), "4 conversations mention a parcel");
            answers.push((
                all.items.iter().map(|r| r.conversation.id).collect::<Vec<_>>(),
                found.items.iter().map(|r| r.conversation.id).collect::<Vec<_>>(),
                found.next_cursor,
            ));

            // More requests at once than the pool has connections.
            let mut tasks = Vec::new();
            for i in 0..16 {
                let (store, viewer) = (store.clone(), viewer.clone());
                let filter = if i % 2 == 0 { search("parcel") } else { ConversationFilter::default() };
                tasks.push(tokio::spawn(async move { store.list_conversations(&viewer, filter).await }));
            }
            for t in tasks {
                let page = tokio::time::timeout(Duration::from_secs(60), t)
                    .await
                    .expect("a request waited forever for a connection")
                    .expect("task")
                    .expect("list");
                assert!(page.counts.all == 4 || page.counts.all == 12, "{:?}", page.counts);
            }
            store.shutdown().await;
        }
        assert_eq!(answers[0], answers[1], "one reader and several give the same pages");
    }
}

#[cfg(test)]
mod fast_group_tests {
    use super::*;

    /// Asks the writer's fast path to insert tags `names` (a `None` name breaks NOT NULL) for
    /// `workspace_id`, all in one request.
    async fn insert_tags(store: &SqlStore, workspace_id: Id, names: Vec<Option<String>>) -> StoreResult<()> {
        store
            .write_fast(
                (workspace_id, names),
                |(ws, names), conn, _pending| {
                    let run = || -> StoreResult<()> {
                        for name in names {
                            conn.prepare_cached("INSERT INTO tags (workspace_id, name) VALUES (?1, ?2)")?
                                .execute(rusqlite::params![ws, name])?;
                        }
                        Ok(())
                    };
                    Some(run())
                },
                |_, _| Box::pin(async { Err(StoreError::Database("not the fast path".into())) }),
            )
            .await
    }

    async fn tag_names(store: &SqlStore) -> Vec<String> {
        store
            .write(|c| {
                Box::pin(async move {
                    Ok(sqlx::query_scalar::<_, String>("SELECT name FROM tags ORDER BY name")
                        .fetch_all(&mut *c)
                        .await?)
                })
            })
            .await
            .expect("tags")
    }

    /// A group of fast requests is written optimistically, without savepoints; when one request
    /// fails there, the group runs again with a savepoint each: only the failing request fails,
    /// the requests after it are run (not dropped, as they were), and nothing of the failing
    /// one is kept.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_failing_request_fails_alone_and_the_rest_of_its_group_commits() {
        let (_dir, store, ws) = temp_store("Fast").await;
        // Holds the writer for a moment, so that the requests below queue up and are run as
        // one group.
        let hold = {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .write_fast(
                        (),
                        |_, _, _| {
                            std::thread::sleep(std::time::Duration::from_millis(300));
                            Some(Ok(()))
                        },
                        |_, _| Box::pin(async { Ok(()) }),
                    )
                    .await
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let mut tasks = Vec::new();
        for i in 0..30 {
            let store = store.clone();
            let (workspace, names) = match i {
                // Its first row is written before its second breaks NOT NULL.
                10 => (ws, vec![Some("t10a".to_string()), None]),
                // An unknown workspace: a foreign key.
                20 => (ws + 1000, vec![Some("t20".to_string())]),
                _ => (ws, vec![Some(format!("t{i:02}"))]),
            };
            tasks.push(tokio::spawn(async move { insert_tags(&store, workspace, names).await }));
            tokio::task::yield_now().await;
        }
        hold.await.expect("join").expect("holding request");
        let mut expected = Vec::new();
        for (i, task) in tasks.into_iter().enumerate() {
            let result = task.await.expect("join");
            if i == 10 || i == 20 {
                assert!(result.is_err(), "request {i} should have failed");
            } else {
                result.unwrap_or_else(|e| panic!("request {i} failed: {e}"));
                expected.push(format!("t{i:02}"));
            }
        }
        assert_eq!(tag_names(&store).await, expected, "every request but the failing two, nothing of theirs");
    }
}

#[cfg(test)]
mod sql_builder_tests {
    use super::*;

    /// A value bound once is named again by the same placeholder, and the values bound after
    /// it keep their own numbers (SQLite; PostgreSQL's merged walks are checked by the
    /// conformance suite, which binds a set's bit map once for every branch).
    #[tokio::test]
    async fn a_value_bound_once_is_named_again_and_the_rest_keep_their_places() {
        let (_dir, store, _) = temp_store("Bind").await;
        let mut built = 0;
        let mut q = Sql::new("SELECT ");
        q.bind(1i64).push(" * 1000 + ");
        q.bind_once(42, || {
            built += 1;
            7i64
        });
        q.push(" * 100 + ");
        q.bind_once(42, || {
            built += 1;
            8i64
        });
        q.push(" * 10 + ");
        q.bind(3i64).push(" AS v");
        assert_eq!(q.text, "SELECT $1 * 1000 + $2 * 100 + $2 * 10 + $3 AS v");
        assert_eq!(built, 1, "the value is built once");
        let mut c = store.pool.acquire().await.expect("connection");
        let v: i64 = col(&q.query().fetch_one(&mut *c).await.expect("run"), "v").expect("v");
        assert_eq!(v, 1773);
    }
}
